// The Get Report page's `waitForReport`, run with Node 20 (global fetch, no npm packages):
//
//   SW_BASE_URL=http://127.0.0.1:8080 SW_API_KEY=sk-test node wait_for_report.js rpt_xyz789
//
// The function below is the documentation's, character for character. The page calls
// `fetch('/api/reports/...')` relative to its own origin; outside a browser, the `fetch` in
// this file's scope is bound to SW_BASE_URL and sends SW_API_KEY as `X-API-Key`. On success
// the report's data object is printed as JSON; on any error the message goes to stderr and
// the exit status is 1 (2 for a usage error).
'use strict';

const BASE_URL = process.env.SW_BASE_URL;
const API_KEY = process.env.SW_API_KEY;

function fetch(path, init = {}) {
  const headers = { ...init.headers, 'X-API-Key': API_KEY };
  return globalThis.fetch(new URL(path, BASE_URL), { ...init, headers });
}

async function waitForReport(reportId) {
  const maxAttempts = 180; // 15 minutes at 5-second intervals
  for (let i = 0; i < maxAttempts; i++) {
    const response = await fetch(`/api/reports/${reportId}`);
    const { data } = await response.json();
    if (!data) {
      throw new Error('Report not found');
    }
    if (data.status === 'completed') {
      return data;
    }
    if (data.status === 'failed' || data.status === 'cancelled') {
      throw new Error(`Report ${data.status}: ${data.progress?.message}`);
    }
    await new Promise(resolve => setTimeout(resolve, 5000));
  }
  throw new Error('Report generation timeout');
}

const reportId = process.argv[2];
if (!reportId || !BASE_URL || !API_KEY) {
  process.stderr.write('usage: SW_BASE_URL=... SW_API_KEY=... node wait_for_report.js REPORT_ID\n');
  process.exit(2);
}
waitForReport(reportId).then(
  (data) => {
    process.stdout.write(`${JSON.stringify(data)}\n`);
  },
  (error) => {
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 1;
  },
);
