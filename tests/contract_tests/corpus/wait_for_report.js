// A Node 20 polling client on the global `fetch` (no npm packages), as a backend service or a
// script would write it:
//
//   SW_BASE_URL=http://127.0.0.1:8080 SW_API_KEY=sk-test node wait_for_report.js rpt_xyz789
//
// Polls every 5 s (`await sleep(5000)` on setTimeout) for up to 10 minutes (a `Date.now()`
// deadline); each request is bounded by `AbortSignal.timeout(30000)`. A 5xx, a network error
// (dropped connection) or a body that is not the JSON envelope is retried after 5 s, a 429
// after Retry-After if longer. Prints the completed report's data as JSON and exits 0; on
// failed or cancelled the error message carries progress.message and the exit status is 1;
// data: null is "not found" at once; 2 for a usage error.
'use strict';

const POLL_INTERVAL_MS = 5000;
const TIMEOUT_MS = 10 * 60 * 1000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function retryAfterMs(response) {
  const value = response.headers.get('retry-after');
  return value && /^\d+$/.test(value) ? Number(value) * 1000 : 0;
}

async function fetchReport(baseUrl, apiKey, reportId) {
  // { data } when the API answered the envelope, { retryInMs } when the poll should be retried.
  let response;
  let text;
  try {
    response = await fetch(new URL(`/api/reports/${reportId}`, baseUrl), {
      headers: { 'X-API-Key': apiKey },
      signal: AbortSignal.timeout(30000),
    });
    text = await response.text();
  } catch (error) {
    return { retryInMs: POLL_INTERVAL_MS, problem: error.message }; // dropped, reset, timed out
  }
  if (response.status === 429) {
    return { retryInMs: Math.max(retryAfterMs(response), POLL_INTERVAL_MS), problem: 'HTTP 429' };
  }
  if (response.status >= 500) {
    return { retryInMs: POLL_INTERVAL_MS, problem: `HTTP ${response.status}` };
  }
  if (!response.ok) {
    throw new Error(`HTTP ${response.status} from the Reports API: ${text.slice(0, 300)}`);
  }
  try {
    const body = JSON.parse(text);
    if (!('data' in body)) throw new Error('no data in the answer');
    return { data: body.data };
  } catch (error) {
    return { retryInMs: POLL_INTERVAL_MS, problem: `unreadable answer: ${error.message}` };
  }
}

async function waitForReport(baseUrl, apiKey, reportId) {
  const deadline = Date.now() + TIMEOUT_MS;
  while (Date.now() < deadline) {
    const answer = await fetchReport(baseUrl, apiKey, reportId);
    if ('retryInMs' in answer) {
      await sleep(answer.retryInMs);
      continue;
    }
    const { data } = answer;
    if (!data) {
      throw new Error(`Report ${reportId} not found`);
    }
    console.error(`[${data.status}] ${data.progress?.message ?? ''}`);
    if (data.status === 'completed') {
      return data;
    }
    if (data.status === 'failed' || data.status === 'cancelled') {
      throw new Error(`Report ${data.status}: ${data.progress?.message ?? 'no details'}`);
    }
    await sleep(POLL_INTERVAL_MS);
  }
  throw new Error(`Report ${reportId} unfinished after 10 minutes`);
}

const [reportId] = process.argv.slice(2);
const { SW_BASE_URL: baseUrl, SW_API_KEY: apiKey } = process.env;
if (!reportId || !baseUrl || !apiKey) {
  process.stderr.write('usage: SW_BASE_URL=... SW_API_KEY=... node wait_for_report.js REPORT_ID\n');
  process.exit(2);
}
waitForReport(baseUrl, apiKey, reportId).then(
  (data) => {
    process.stdout.write(`${JSON.stringify(data)}\n`);
  },
  (error) => {
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 1;
  },
);
