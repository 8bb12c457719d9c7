// The inspector of the Reports mock: polls the control API every second and drives the
// Reports API with the page's own key. Plain browser JavaScript, no build step, no library.
(() => {
  "use strict";

  const POLL_MILLISECONDS = 1000;
  const page = document.body.dataset.page;
  const apiKey = document.body.dataset.apiKey;
  const ownOwner = document.body.dataset.owner;
  const root = document.body.dataset.root || ""; // where the app is mounted (SCRIPT_NAME)

  // --- talking to the server ----------------------------------------------------------------

  async function call(method, url, body, headers) {
    const options = { method, headers: { Accept: "application/json", ...(headers || {}) } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(url, options);
    let envelope = null;
    try {
      envelope = await response.json();
    } catch (error) {
      throw new Error(`${method} ${url} answered ${response.status} without JSON`);
    }
    if (!envelope || envelope.success !== true) {
      throw new Error((envelope && envelope.error) || `${method} ${url} failed (${response.status})`);
    }
    return envelope.data;
  }

  const api = (method, url, body, headers) =>
    call(method, url, body, { "X-API-Key": apiKey, ...(headers || {}) });

  // --- small formatting helpers -------------------------------------------------------------

  function duration(seconds) {
    const whole = Math.max(0, Math.round(seconds));
    if (whole < 60) return `${whole} s`;
    if (whole < 3600) {
      const minutes = Math.floor(whole / 60);
      return `${minutes} min ${String(whole % 60).padStart(2, "0")} s`;
    }
    const hours = Math.floor(whole / 3600);
    return `${hours} h ${String(Math.floor((whole % 3600) / 60)).padStart(2, "0")} min`;
  }

  function timeLeft(report) {
    if (report.terminal) return report.status === "completed" ? "done" : "—";
    if (report.seconds_left === null) return "never";
    return duration(report.seconds_left);
  }

  function nextChange(report) {
    if (report.terminal || report.next_change_in_seconds === null) return "";
    const becomes = report.seconds_left !== null && report.next_change_in_seconds >= report.seconds_left
      ? report.ends_with : "next step";
    return `${becomes} in ${duration(report.next_change_in_seconds)}`;
  }

  function progressShare(report) {
    if (report.terminal) return 1;
    if (report.total_seconds === null || report.total_seconds <= 0) return null;
    return Math.min(1, report.elapsed_seconds / report.total_seconds);
  }

  function paintBar(bar, report) {
    const share = progressShare(report);
    bar.className = `bar status-${report.status}` + (share === null ? " endless" : "");
    bar.style.width = share === null ? "" : `${(share * 100).toFixed(1)}%`;
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  let toastTimer = null;
  function toast(message, isError) {
    const box = document.getElementById("toast");
    box.textContent = message;
    box.classList.toggle("error", Boolean(isError));
    box.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { box.hidden = true; }, isError ? 6000 : 3000);
  }

  // --- the virtual clock bar (every page) ----------------------------------------------------

  function showClock(clock) {
    const now = document.getElementById("clock-now");
    now.dateTime = clock.now;
    now.textContent = clock.now.replace("T", " ").replace("Z", " UTC");
    const scale = document.getElementById("clock-scale");
    scale.textContent = clock.time_scale === 0 ? "frozen" : `×${clock.time_scale}`;
    scale.title = clock.time_scale === 0
      ? "Time scale 0: only the Advance buttons move the clock"
      : `${clock.time_scale} virtual seconds per real second`;
  }

  let refresh = async () => {};

  for (const button of document.querySelectorAll("[data-advance]")) {
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        showClock(await call("POST", `${root}/_mock/clock/advance`, { seconds: Number(button.dataset.advance) }));
        await refresh();
      } catch (error) {
        toast(error.message, true);
      } finally {
        button.disabled = false;
      }
    });
  }

  async function cancelReport(reportId) {
    try {
      const result = await api("DELETE", `${root}/api/reports/${encodeURIComponent(reportId)}`);
      toast(`${result.id}: ${result.message}`);
    } catch (error) {
      toast(error.message, true);
    }
    await refresh();
  }

  function setLive(ok) {
    const live = document.getElementById("live");
    if (!live) return;
    live.classList.toggle("offline", !ok);
    live.textContent = ok ? "live" : "server unreachable";
  }

  // Runs step() now and then every second; refresh() runs it at once (after a click), never
  // twice at the same time. step() returns false to stop (the page is reloading).
  function poll(step) {
    let timer = null;
    let running = false;
    let requested = false;
    refresh = async () => {
      if (running) {
        requested = true;
        return;
      }
      clearTimeout(timer);
      running = true;
      let keepGoing = true;
      try {
        keepGoing = (await step()) !== false;
        setLive(true);
      } catch (error) {
        setLive(false);
      }
      running = false;
      if (!keepGoing) return;
      if (requested) {
        requested = false;
        refresh();
        return;
      }
      timer = setTimeout(refresh, POLL_MILLISECONDS);
    };
    refresh();
  }

  // --- the overview page: the list of reports and the create form ----------------------------

  const rows = new Map();
  let freshId = null;

  function buildRow(report) {
    const row = element("tr");
    row.dataset.reportId = report.id;
    const cells = {};
    for (const name of ["report", "case", "scenario", "status", "step", "progress", "left", "actions"]) {
      cells[name] = row.appendChild(element("td", `cell-${name}`));
    }
    const link = element("a", "report-id", report.id);
    link.href = `${root}/_mock/reports/${encodeURIComponent(report.id)}`;
    cells.report.append(link, element("span", "owner"));
    cells.case.append(element("span", "case-id"));
    cells.scenario.append(element("span", "scenario-name"));
    cells.status.append(element("span", "badge"));
    cells.step.append(element("span", "step"), element("span", "step-message"));
    const track = cells.progress.appendChild(element("div", "progress"));
    track.appendChild(element("div", "bar"));
    cells.left.append(element("span", "time-left"), element("span", "next-change"));
    const cancel = cells.actions.appendChild(element("button", "small danger", "Cancel"));
    cancel.type = "button";
    cancel.addEventListener("click", () => {
      cancel.disabled = true;
      cancelReport(report.id);
    });
    const readOnly = cells.actions.appendChild(element("span", "read-only-note", "read-only"));
    readOnly.title = "Created with another API key: this page only watches it";
    return row;
  }

  function updateRow(row, report) {
    const own = report.owner === ownOwner;
    row.querySelector(".owner").textContent = own ? "this page's key" : `other key · ${report.owner.slice(0, 8)}`;
    row.querySelector(".case-id").textContent = report.case_id;
    const scenario = row.querySelector(".scenario-name");
    scenario.textContent = report.scenario;
    scenario.parentElement.querySelector(".tag")?.remove();
    if (report.demo) scenario.parentElement.append(element("span", "tag", "demo"));
    const badge = row.querySelector(".badge");
    badge.textContent = report.status;
    badge.className = `badge status-${report.status}`;
    row.querySelector(".step").textContent = report.current_step || "—";
    row.querySelector(".step-message").textContent = report.message || "";
    paintBar(row.querySelector(".bar"), report);
    row.querySelector(".time-left").textContent = timeLeft(report);
    row.querySelector(".next-change").textContent = nextChange(report);
    const cancel = row.querySelector("button.danger");
    cancel.hidden = !own || report.terminal;
    if (cancel.hidden) cancel.disabled = false;
    row.querySelector(".read-only-note").hidden = own;
    row.classList.toggle("read-only", !own);
  }

  function showReports(reports) {
    const body = document.getElementById("reports-body");
    const seen = new Set();
    reports.forEach((report, position) => {
      seen.add(report.id);
      let row = rows.get(report.id);
      if (!row) {
        row = buildRow(report);
        rows.set(report.id, row);
        if (report.id === freshId) row.classList.add("fresh");
      }
      updateRow(row, report);
      if (body.children[position] !== row) body.insertBefore(row, body.children[position] || null);
    });
    for (const [id, row] of rows) {
      if (!seen.has(id)) {
        row.remove();
        rows.delete(id);
      }
    }
    const empty = body.querySelector("tr.empty");
    if (reports.length === 0 && !empty) {
      const row = body.appendChild(element("tr", "empty"));
      const cell = row.appendChild(element("td", "", "No reports yet: create one above, or POST /api/reports."));
      cell.colSpan = 8;
    } else if (reports.length > 0 && empty) {
      empty.remove();
    } else if (empty) {
      empty.firstChild.textContent = "No reports yet: create one above, or POST /api/reports.";
    }
    const count = document.getElementById("report-count");
    const running = reports.filter((report) => !report.terminal).length;
    count.textContent = `${reports.length} shown · ${running} running`;
  }

  function startOverview() {
    const form = document.getElementById("create-form");
    const scenario = document.getElementById("scenario");
    const describe = () => {
      const chosen = scenario.options[scenario.selectedIndex];
      document.getElementById("scenario-description").textContent =
        `${chosen.value}: ${chosen.dataset.description}`;
    };
    scenario.addEventListener("change", describe);
    describe();

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = document.getElementById("create-button");
      button.disabled = true;
      const options = {};
      if (document.getElementById("demo-data").checked) options.use_demo_data = true;
      const biomechanics = document.getElementById("biomechanics").value;
      if (biomechanics) options.include_biomechanics = biomechanics === "true";
      const body = { case_id: document.getElementById("case-id").value.trim(), type: "technical_report" };
      if (Object.keys(options).length) body.options = options;
      try {
        const created = await api("POST", `${root}/api/reports`, body, { "X-Mock-Scenario": scenario.value });
        freshId = created.id;
        toast(`Created ${created.id} (${created.status})`);
      } catch (error) {
        toast(error.message, true);
      } finally {
        button.disabled = false;
      }
      await refresh();
    });

    poll(async () => {
      const data = await call("GET", `${root}/_mock/reports?limit=50`);
      showClock(data.clock);
      showReports(data.reports);
    });
  }

  // --- the report page: follow one report until it settles ----------------------------------

  function startReport() {
    const reportId = document.body.dataset.reportId;
    const shownStatus = document.body.dataset.reportStatus;
    for (const button of document.querySelectorAll("[data-cancel]")) {
      button.addEventListener("click", () => {
        button.disabled = true;
        cancelReport(button.dataset.cancel);
      });
    }
    poll(async () => {
      const data = await call("GET", `${root}/_mock/reports/${encodeURIComponent(reportId)}/overview`);
      const report = data.report;
      showClock(data.clock);
      if (report.status !== shownStatus) {
        window.location.reload();
        return false;
      }
      document.getElementById("report-step").textContent = report.current_step || "—";
      document.getElementById("report-message").textContent = report.message || "";
      document.getElementById("report-updated").textContent = report.updated_at;
      const left = timeLeft(report);
      const next = nextChange(report);
      document.getElementById("report-left").textContent = next ? `${left} (${next})` : left;
      paintBar(document.getElementById("report-bar"), report);
      return true;
    });
  }

  if (page === "overview") startOverview();
  else if (page === "report") startReport();
  else poll(async () => showClock(await call("GET", `${root}/_mock/clock`)));
})();
