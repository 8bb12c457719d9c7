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
