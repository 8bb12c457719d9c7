#!/usr/bin/env bash
# The documented workflow in bash + curl + jq: create a report, wait for it, retry as the
# polling guide's "Should You Retry?" says, then save the PDF and the DOCX.
#
#   SW_BASE_URL=http://127.0.0.1:8080 SW_API_KEY=sk-test SW_CASE_ID=case_abc123 \
#   SW_OUTPUT_DIR=./out bash workflow.sh
#
# An image-quality or biomechanics failure ends it (exit 1, the message on stderr); a timeout
# is retried at once with a new report for the same case; any other failure (an internal
# error) after a minute; at most 3 reports. Polls every 5 s, up to 15 minutes per report.
# Download URLs older than 55 minutes are fetched again with a new GET before use, and so
# after a 403; a 5xx, a dropped connection or a cut-off document is retried after 2 s.
# Exit 0 with both documents saved; 1 when it could not produce them; 2 for usage.
# The time comes from bash's $EPOCHSECONDS and the report is kept in a variable, so no
# process is started between two requests but curl and jq.
set -uo pipefail

case_id=${SW_CASE_ID:-}
output_dir=${SW_OUTPUT_DIR:-}
if [[ -z ${SW_BASE_URL:-} || -z ${SW_API_KEY:-} || -z $case_id || -z $output_dir ]]; then
  echo "usage: SW_BASE_URL=... SW_API_KEY=... SW_CASE_ID=... SW_OUTPUT_DIR=... bash workflow.sh" >&2
  exit 2
fi
max_attempts=3
report_deadline=900
url_max_age=3300
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
body=$work/body
report_json=
fetched_at=0

get_report() {  # GET the report into $body; prints the HTTP status (000: no answer)
  curl -sS --max-time 30 -o "$body" -H "X-API-Key: $SW_API_KEY" -w '%{http_code}' \
    "$SW_BASE_URL/api/reports/$1" 2>/dev/null || echo 000
}

create_report() {  # prints the new report's id
  local payload
  payload=$(jq -cn --arg case_id "$case_id" '{case_id: $case_id, type: "technical_report"}')
  curl -sS --max-time 30 -X POST -H "X-API-Key: $SW_API_KEY" \
    -H 'Content-Type: application/json' -d "$payload" "$SW_BASE_URL/api/reports" |
    jq -er '.data.id'
}

# Polls until the report ends: 0 completed ($report holds it), 1 failed or cancelled
# ($message says why), 3 when it did not end in time.
wait_report() {
  local id=$1 code line status
  local deadline=$(( EPOCHSECONDS + report_deadline ))
  while (( EPOCHSECONDS < deadline )); do
    code=$(get_report "$id")
    if [[ $code == 200 ]] && line=$(jq -er '.data | [.status, (.progress.message // "")] | @tsv' "$body" 2>/dev/null); then
      IFS=$'\t' read -r status message <<<"$line"
      case $status in
        completed) keep_report; return 0 ;;
        failed|cancelled) message=${message:-$status}; return 1 ;;
      esac
    fi  # anything else (pending, processing, a 5xx, no answer): poll again
    sleep 5
  done
  return 3
}

keep_report() {  # the completed report in $body, and when its URLs were minted
  IFS= read -r -d '' report_json <"$body"
  fetched_at=$EPOCHSECONDS
}

fresh_urls() {  # GET the completed report again for fresh signed URLs
  local id=$1 try
  for try in 1 2 3 4 5; do
    if [[ $(get_report "$id") == 200 ]] && jq -e '.data.status == "completed"' "$body" >/dev/null 2>&1; then
      keep_report; return 0
    fi
    sleep 5
  done
  return 1
}

whole_document() {  # a PDF ends with %%EOF; a DOCX (a zip) with its end-of-directory record
  if [[ $1 == pdf ]]; then
    [[ $(head -c 4 "$2") == %PDF ]] && tail -c 64 "$2" | LC_ALL=C grep -qa '%%EOF'
  else
    [[ $(head -c 2 "$2") == PK ]] && tail -c 64 "$2" | LC_ALL=C grep -qa $'PK\x05\x06'
  fi
}

download() {  # saves the $1 (pdf or docx) of report $2, kept in $report_json
  local document=$1 id=$2 url code try file=$work/document
  for try in 1 2 3 4 5; do
    if (( EPOCHSECONDS - fetched_at > url_max_age )); then
      fresh_urls "$id" || return 1
    fi
    url=$(jq -r ".data.output.${document}_url" <<<"$report_json")
    code=$(curl -sS --max-time 60 -o "$file" -w '%{http_code}' "$url" 2>/dev/null) || code=000
    if [[ $code == 403 ]]; then  # expired on the way: new URLs from a new GET
      fresh_urls "$id" || return 1
      continue
    fi
    if [[ $code == 200 ]] && whole_document "$document" "$file"; then
      mv "$file" "$output_dir/$id.$document"
      return 0
    fi
    sleep 2
  done
  return 1
}

mkdir -p "$output_dir"
for (( attempt = 1; attempt <= max_attempts; attempt++ )); do
  id=$(create_report) || { echo "could not create a report for $case_id" >&2; exit 1; }
  wait_report "$id"
  outcome=$?
  if (( outcome == 0 )); then
    download pdf "$id" && download docx "$id" && exit 0
    echo "could not download the documents of $id" >&2
    exit 1
  fi
  if (( outcome == 3 )); then
    echo "report $id did not finish in $report_deadline seconds" >&2
    exit 1
  fi
  echo "report $id failed: $message" >&2
  case $message in
    "Delta-V calculation failed"*|"Biomechanics analysis failed"*|cancelled) exit 1 ;;
    "Report generation timed out") ;;  # retry at once with a new report
    *) sleep 60 ;;  # an internal error: wait a minute, then retry
  esac
done
echo "gave up on $case_id after $max_attempts reports" >&2
exit 1
