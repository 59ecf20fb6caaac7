// The clinic's dashboard: one tile per relayed session, refreshed from /sessions once a
// second, sorted by patient and filtered by the text box; sessions ended today (from the
// server's store, /sessions/today) below. Each tile opens the session's watch page.
// The state is the last list fetched (never read back from the DOM).

const REFRESH_MS = 1000;
const TODAY_REFRESH_MS = 5000;
const DASH = "—";
const PRACTICES = {
  paced_breathing: "Paced breathing",
  breath_focus: "Breath focus",
  body_scan: "Body scan",
  resonance: "Resonance assessment",
};

const state = { sessions: [], today: [], filter: "", error: null };

/** mm:ss from seconds, or a dash. */
export function clock(seconds) {
  if (typeof seconds !== "number" || !Number.isFinite(seconds)) return DASH;
  const s = Math.max(0, Math.floor(seconds));
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

function number(value, digits = 0) {
  return typeof value === "number" && Number.isFinite(value) ? value.toFixed(digits) : DASH;
}

/** The name a tile shows: the patient, else the strap. */
export function displayName(row) {
  return row.patient || row.name || "unnamed";
}

/** Rows whose patient (or strap) contains the filter text, sorted by patient then start. */
export function visibleRows(rows, filter) {
  const needle = filter.trim().toLocaleLowerCase();
  return rows
    .filter((r) => !needle || displayName(r).toLocaleLowerCase().includes(needle))
    .sort(
      (a, b) =>
        displayName(a).localeCompare(displayName(b), undefined, { sensitivity: "base" }) ||
        a.started_unix - b.started_unix,
    );
}

/** Zone text: the metric's coherence_zone when the server sends one, else the ratio. */
export function zoneText(row) {
  if (typeof row.coherence_zone === "string") return row.coherence_zone;
  return number(row.coherence, 1);
}

function strapText(row) {
  if (!row.relay_connected && row.phase !== "ended") return "relay offline";
  switch (row.device_state) {
    case "connected":
      return row.contact === false ? "strap: no skin contact" : "strap connected";
    case "lost":
      return "strap lost";
    case "reconnecting":
      return "strap reconnecting";
    case "connecting":
      return "strap connecting";
    default:
      return "strap: waiting";
  }
}

function fillTile(li, row) {
  const set = (id, text) => {
    li.querySelector(`[data-testid=${id}]`).textContent = text;
  };
  li.dataset.session = row.session;
  li.dataset.patient = displayName(row);
  li.dataset.phase = row.phase;
  li.dataset.signal = row.signal_lost ? "lost" : "ok";
  li.querySelector("a").href = row.watch_path;
  set("tile-patient", displayName(row));
  set("tile-signal", row.phase === "ended" ? "ended" : row.signal_lost ? "signal lost" : "live");
  set("tile-practice", PRACTICES[row.practice] || row.practice || "practice");
  set("tile-elapsed", clock(row.elapsed_s));
  set("tile-hr", number(row.hr_bpm));
  set("tile-zone", zoneText(row));
  set("tile-relaxation", number(row.relaxation, 0));
  set("tile-strap", strapText(row));
  set("tile-battery", typeof row.battery_pct === "number" ? `battery ${row.battery_pct}%` : "");
}

function render() {
  const live = state.sessions.filter((r) => r.phase !== "ended");
  const rows = visibleRows(live, state.filter);
  const list = document.getElementById("tiles");
  const existing = new Map([...list.children].map((li) => [li.dataset.session, li]));
  const template = document.getElementById("tile-template");
  rows.forEach((row, i) => {
    let li = existing.get(row.session);
    existing.delete(row.session);
    if (!li) li = template.content.firstElementChild.cloneNode(true);
    fillTile(li, row);
    if (list.children[i] !== li) list.insertBefore(li, list.children[i] || null);
  });
  for (const li of existing.values()) li.remove();
  document.getElementById("live-count").textContent = String(live.length);
  const empty = document.getElementById("live-empty");
  empty.hidden = rows.length > 0;
  empty.textContent = live.length
    ? "No patient matches the filter."
    : "No one is practising right now. Sessions appear here as soon as a relay connects.";
  renderToday();
  document.getElementById("status").textContent = state.error
    ? `server unreachable (${state.error}); retrying…`
    : `updated ${new Date().toLocaleTimeString()}`;
}

function renderToday() {
  const rows = visibleRows(state.today, state.filter);
  const body = document.getElementById("ended-rows");
  body.replaceChildren(
    ...rows.map((r) => {
      const tr = document.createElement("tr");
      tr.setAttribute("data-testid", "ended-row");
      const cells = [
        displayName(r),
        new Date(r.started_unix * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }),
        number(r.minutes, 1),
        String(r.beats),
        number(r.mean_hr_bpm),
        number(r.mean_rmssd_ms, 1),
        r.ended_reason || "",
      ];
      for (const text of cells) {
        const td = document.createElement("td");
        td.textContent = text;
        tr.append(td);
      }
      return tr;
    }),
  );
  document.getElementById("ended").hidden = rows.length === 0;
  document.getElementById("ended-empty").hidden = rows.length > 0;
}

async function fetchJson(path) {
  const answer = await fetch(path, { cache: "no-store" });
  if (!answer.ok) throw new Error(`HTTP ${answer.status}`);
  return answer.json();
}

async function refresh() {
  try {
    state.sessions = await fetchJson("/sessions");
    state.error = null;
  } catch (err) {
    state.error = err.message;
  }
  render();
  setTimeout(refresh, REFRESH_MS);
}

async function refreshToday() {
  try {
    state.today = await fetchJson("/sessions/today");
  } catch {
    // shown by the live refresh's status line
  }
  renderToday();
  setTimeout(refreshToday, TODAY_REFRESH_MS);
}

function init() {
  const filter = document.getElementById("filter");
  filter.addEventListener("input", () => {
    state.filter = filter.value;
    render();
  });
  refresh();
  refreshToday();
}

if (typeof document !== "undefined") init();
