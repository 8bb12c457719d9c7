-- wrk script: every request creates a report (POST /api/reports), as a client suite would.
wrk.method = "POST"
wrk.body = '{"case_id": "case_bench", "type": "technical_report"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-API-Key"] = "sk-bench"
