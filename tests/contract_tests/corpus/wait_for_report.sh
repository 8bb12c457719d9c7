#!/usr/bin/env bash
# A bash + curl + jq polling client, as a CI job or an ops script would poll the Reports API.
#
#   SW_BASE_URL=http://127.0.0.1:8080 SW_API_KEY=sk-test bash wait_for_report.sh rpt_xyz789
#
# Polls every 5 s for up to 10 minutes (bash's SECONDS). A 5xx, a dropped connection or a body
# that is not the JSON envelope is retried after 5 s, a 429 after Retry-After if longer. Prints
# the completed report's data object as JSON and exits 0; on failed or cancelled prints the
# status and progress.message to stderr and exits 1; data: null exits 1 at once; 2 for usage.
set -uo pipefail

if [[ $# -ne 1 || -z ${SW_BASE_URL:-} || -z ${SW_API_KEY:-} ]]; then
  echo "usage: SW_BASE_URL=... SW_API_KEY=... bash wait_for_report.sh REPORT_ID" >&2
  exit 2
fi
report_id=$1
timeout_seconds=600
interval=5
body=$(mktemp)
trap 'rm -f "$body"' EXIT

SECONDS=0
while (( SECONDS < timeout_seconds )); do
  pause=$interval
  # "%{http_code} %header{retry-after}": curl >= 7.84 writes a response header with -w.
  if meta=$(curl -sS --max-time 30 -o "$body" -H "X-API-Key: $SW_API_KEY" \
              -w '%{http_code} %header{retry-after}' "$SW_BASE_URL/api/reports/$report_id"); then
    read -r code retry_after <<<"$meta"
    if [[ $code == 429 ]]; then
      [[ $retry_after =~ ^[0-9]+$ ]] && (( retry_after > pause )) && pause=$retry_after
    elif (( code >= 500 )); then
      :  # a server error: poll again after the pause
    elif (( code != 200 )); then
      echo "HTTP $code from the Reports API: $(head -c 300 "$body")" >&2
      exit 1
    elif line=$(jq -er 'if type != "object" or (has("data") | not) then error("not the envelope")
                        elif .data == null then "missing"
                        else [.data.status, (.data.progress.message // "")] | @tsv end' \
                  "$body" 2>/dev/null); then
      IFS=$'\t' read -r status message <<<"$line"
      case $status in
        missing) echo "report $report_id not found" >&2; exit 1 ;;
        completed) jq -c .data "$body"; exit 0 ;;
        failed|cancelled) echo "Report $status: ${message:-no details}" >&2; exit 1 ;;
      esac
    fi  # else: not the JSON envelope (cut off, an HTML page): poll again
  fi  # else: curl failed (dropped connection, timeout): poll again
  sleep "$pause"
done
echo "report $report_id unfinished after $timeout_seconds seconds" >&2
exit 1
