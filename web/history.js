// The history page: the stored sessions over the weeks of the course.
// Reads /api/sessions (served by `hrvcalm history` and `hrvcalm session`) and draws every
// plot as inline SVG. No external requests, no chart library.

const SVG_NS = "http://www.w3.org/2000/svg";
const DAY_MS = 86_400_000;
const COURSE_WEEKS = 8;
const MINUS = "\u2212";
const DASH = "—";
const PRACTICE_NAMES = {
  paced_breathing: "Paced breathing",
  breath_focus: "Breath focus",
  body_scan: "Body scan",
};

// ---- pure helpers -----------------------------------------------------------------------

/** Local midnight (ms) of the day holding `unixS`. */
export function localMidnight(unixS) {
  const d = new Date(unixS * 1000);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

/** Whole days from the course start (a local midnight, ms) to the day holding `unixS`. */
export function dayIndex(startMs, unixS) {
  return Math.round((localMidnight(unixS) - startMs) / DAY_MS);
}

/** Least-squares line through points [{x, y}]: {slope, intercept} or null (< 3 points). */
export function linearFit(points) {
  if (points.length < 3) return null;
  const n = points.length;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const p of points) {
    sxx += (p.x - mx) ** 2;
    sxy += (p.x - mx) * (p.y - my);
  }
  if (sxx === 0) return null;
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

/** A "nice" upper bound for an axis holding values up to `max`. */
export function niceMax(max, minimum) {
  const m = Math.max(max, minimum);
  const step = 10 ** Math.floor(Math.log10(m));
  for (const f of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) {
    if (f * step >= m) return f * step;
  }
  return 10 * step;
}

/** "−1.6", "+0.5", "0.0" */
export function signed(value, digits = 1) {
  const text = Math.abs(value).toFixed(digits);
  if (Number(text) === 0) return (0).toFixed(digits);
  return value < 0 ? `${MINUS}${text}` : `+${text}`;
}

function isNumber(v) {
  return typeof v === "number" && Number.isFinite(v);
}

/** The course layout: start day, number of days shown, today's index, sessions by day. */
export function courseLayout(sessions, nowUnixS) {
  const startMs = localMidnight(sessions[0].started_unix);
  const days = sessions.map((s) => dayIndex(startMs, s.started_unix));
  const lastDay = Math.max(...days);
  const today = dayIndex(startMs, nowUnixS);
  const shownUntil = today <= lastDay + 28 ? Math.max(lastDay, today) : lastDay;
  const nWeeks = Math.max(COURSE_WEEKS, Math.ceil((shownUntil + 1) / 7));
  const minutes = new Array(nWeeks * 7).fill(0);
  sessions.forEach((s, i) => {
    minutes[days[i]] += s.minutes_practised || 0;
  });
  return { startMs, days, today, nWeeks, nDays: nWeeks * 7, minutes };
}

// ---- SVG ------------------------------------------------------------------------------

function el(tag, attrs, parent, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  if (parent) parent.appendChild(node);
  return node;
}

/** The chart's width in CSS pixels, so that its text keeps its real size on any screen. */
function widthOf(container, fallback) {
  const w = Math.round(container.clientWidth || 0);
  return w >= 260 ? w : fallback;
}

function svgRoot(container, width, height, label) {
  container.replaceChildren();
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label });
  container.appendChild(svg);
  return svg;
}

/** x positions of days on a chart of `width` with margins. */
function dayScale(layout, left, width) {
  const dx = width / layout.nDays;
  return { dx, x: (day) => left + (day + 0.5) * dx };
}

function weekLabels(svg, layout, scale, y) {
  const weekPx = 7 * scale.dx;
  const every = weekPx >= 56 ? 1 : weekPx >= 28 ? 2 : 4;
  const short = weekPx * every < 56;
  for (let w = 0; w < layout.nWeeks; w += every) {
    el("text", { x: scale.x(w * 7 + 3), y, "text-anchor": "middle" }, svg, short ? `W${w + 1}` : `Week ${w + 1}`);
  }
}

function yGrid(svg, ticks, yOf, left, right, format) {
  for (const t of ticks) {
    el("line", { class: "grid", x1: left, x2: right, y1: yOf(t), y2: yOf(t) }, svg);
    el("text", { x: left - 8, y: yOf(t) + 4, "text-anchor": "end" }, svg, format(t));
  }
}

function drawMinutes(container, layout) {
  const W = widthOf(container, 1000);
  const H = W < 600 ? 220 : 270;
  const m = { l: 40, r: 6, t: 34, b: 30 };
  const svg = svgRoot(container, W, H, "Minutes practised per day over the course");
  const scale = dayScale(layout, m.l, W - m.l - m.r);
  const top = niceMax(Math.max(...layout.minutes), 20);
  const yOf = (v) => H - m.b - (v / top) * (H - m.t - m.b);
  const currentWeek = Math.floor(layout.today / 7);
  for (let w = 0; w < layout.nWeeks; w += 1) {
    const x0 = m.l + w * 7 * scale.dx;
    const cls = w === currentWeek ? "band current" : w % 2 === 0 ? "band" : "band odd";
    if (w % 2 === 0 || w === currentWeek) {
      el("rect", { class: cls, x: x0, y: m.t - 4, width: 7 * scale.dx, height: H - m.t - m.b + 4 }, svg);
    }
    const total = layout.minutes.slice(w * 7, w * 7 + 7).reduce((a, b) => a + b, 0);
    el("text", {
      class: "total", x: x0 + 3.5 * scale.dx, y: m.t - 12, "text-anchor": "middle",
      "data-testid": "week-total", "data-week": w + 1,
    }, svg, 7 * scale.dx >= 56 ? `${Math.round(total)} min` : `${Math.round(total)}`);
  }
  yGrid(svg, [0, top / 2, top], yOf, m.l, W - m.r, (t) => `${Math.round(t)}`);
  el("text", { x: 4, y: m.t - 12 }, svg, "min");
  layout.minutes.forEach((v, day) => {
    if (v <= 0) return;
    el("rect", {
      class: "bar", x: scale.x(day) - scale.dx * 0.34, y: yOf(v), width: scale.dx * 0.68,
      height: Math.max(1, H - m.b - yOf(v)), rx: 2,
    }, svg).appendChild(el("title", {}, null, `${Math.round(v)} min`));
  });
  if (layout.today >= 0 && layout.today < layout.nDays) {
    el("line", { class: "today", x1: scale.x(layout.today), x2: scale.x(layout.today), y1: m.t - 4, y2: H - m.b }, svg);
  }
  el("line", { class: "axis", x1: m.l, x2: W - m.r, y1: H - m.b, y2: H - m.b }, svg);
  weekLabels(svg, layout, scale, H - 8);
}

function trendLine(svg, points, cls, scale, yOf, clampMax) {
  const fit = linearFit(points);
  if (!fit) return;
  const xs = points.map((p) => p.x);
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs);
  const clamp = (v) => Math.min(clampMax, Math.max(0, v));
  el("line", {
    class: cls, x1: scale.x(x0), x2: scale.x(x1),
    y1: yOf(clamp(fit.intercept + fit.slope * x0)), y2: yOf(clamp(fit.intercept + fit.slope * x1)),
  }, svg);
}

/** Jitter sessions that fall on the same day so their marks do not overlap. */
function offsets(layout) {
  const seen = new Map();
  return layout.days.map((d) => {
    const k = seen.get(d) || 0;
    seen.set(d, k + 1);
    return k * 0.35;
  });
}

function drawRatings(container, sessions, layout, key, label) {
  const W = widthOf(container, 500);
  const H = 250;
  const m = { l: 34, r: 10, t: 12, b: 30 };
  const svg = svgRoot(container, W, H, `${label} before and after each session`);
  const scale = dayScale(layout, m.l, W - m.l - m.r);
  const yOf = (v) => H - m.b - (v / 10) * (H - m.t - m.b);
  yGrid(svg, [0, 5, 10], yOf, m.l, W - m.r, (t) => `${t}`);
  const before = [];
  const after = [];
  const shift = offsets(layout);
  let n = 0;
  sessions.forEach((s, i) => {
    const b = s.ratings?.before?.[key];
    const a = s.ratings?.after?.[key];
    const x = layout.days[i] + shift[i];
    if (isNumber(b)) before.push({ x, y: b });
    if (isNumber(a)) after.push({ x, y: a });
    if (isNumber(b) && isNumber(a)) {
      el("line", { class: "link", x1: scale.x(x), x2: scale.x(x), y1: yOf(b), y2: yOf(a) }, svg);
    }
    if (isNumber(b) || isNumber(a)) n += 1;
  });
  trendLine(svg, before, "trend-before", scale, yOf, 10);
  trendLine(svg, after, "trend-after", scale, yOf, 10);
  for (const p of before) el("circle", { class: "dot-before", cx: scale.x(p.x), cy: yOf(p.y), r: 4.5 }, svg);
  for (const p of after) el("circle", { class: "dot-after", cx: scale.x(p.x), cy: yOf(p.y), r: 4.5 }, svg);
  el("line", { class: "axis", x1: m.l, x2: W - m.r, y1: H - m.b, y2: H - m.b }, svg);
  weekLabels(svg, layout, scale, H - 8);
  if (n === 0) {
    el("text", { class: "none", x: W / 2, y: H / 2, "text-anchor": "middle" }, svg, "No ratings given yet");
  }
  container.dataset.points = String(before.length + after.length);
}

function drawSeries(container, sessions, layout, key, label, digits) {
  const W = widthOf(container, 500);
  const H = 250;
  const m = { l: 40, r: 10, t: 12, b: 30 };
  const svg = svgRoot(container, W, H, label);
  const scale = dayScale(layout, m.l, W - m.l - m.r);
  const shift = offsets(layout);
  const points = [];
  sessions.forEach((s, i) => {
    if (isNumber(s[key])) points.push({ x: layout.days[i] + shift[i], y: s[key] });
  });
  const top = niceMax(points.length ? Math.max(...points.map((p) => p.y)) * 1.1 : 1, digits ? 1 : 10);
  const yOf = (v) => H - m.b - (v / top) * (H - m.t - m.b);
  yGrid(svg, [0, top / 2, top], yOf, m.l, W - m.r, (t) => t.toFixed(digits));
  trendLine(svg, points, "trend", scale, yOf, top);
  for (const p of points) el("circle", { class: "dot", cx: scale.x(p.x), cy: yOf(p.y), r: 4 }, svg);
  el("line", { class: "axis", x1: m.l, x2: W - m.r, y1: H - m.b, y2: H - m.b }, svg);
  weekLabels(svg, layout, scale, H - 8);
  if (!points.length) {
    el("text", { class: "none", x: W / 2, y: H / 2, "text-anchor": "middle" }, svg,
      "No readings yet: they appear as sessions record them");
  }
  container.dataset.points = String(points.length);
}

// ---- cards and table --------------------------------------------------------------------

function fmtDate(ms, opts) {
  return new Date(ms).toLocaleDateString(undefined, opts);
}

function fillCards(sessions, layout) {
  const week = Math.floor(layout.today / 7) + 1;
  const start = fmtDate(layout.startMs, { weekday: "short", day: "numeric", month: "short" });
  document.getElementById("course-week").textContent =
    week <= COURSE_WEEKS ? `Week ${week} of ${COURSE_WEEKS}` : "Course done";
  document.getElementById("course-dates").textContent = `started ${start}`;
  const total = sessions.reduce((a, s) => a + (s.minutes_practised || 0), 0);
  document.getElementById("n-sessions").textContent = String(sessions.length);
  document.getElementById("total-minutes").textContent = `${Math.round(total)} minutes in all`;
  const w0 = (week - 1) * 7;
  const thisWeek = layout.minutes.slice(w0, w0 + 7);
  document.getElementById("week-minutes").textContent =
    `${Math.round(thisWeek.reduce((a, b) => a + b, 0))} min`;
  document.getElementById("week-days").textContent =
    `practised on ${thisWeek.filter((v) => v > 0).length} of 7 days`;
  const changes = sessions
    .map((s) => [s.ratings?.before?.pain, s.ratings?.after?.pain])
    .filter(([b, a]) => isNumber(b) && isNumber(a))
    .map(([b, a]) => a - b);
  document.getElementById("pain-change").textContent = changes.length
    ? signed(changes.reduce((a, b) => a + b, 0) / changes.length)
    : DASH;
}

function ratingCell(row, session, key) {
  const b = session.ratings?.before?.[key];
  const a = session.ratings?.after?.[key];
  const td = document.createElement("td");
  td.className = "num";
  td.dataset.field = key;
  td.textContent = `${isNumber(b) ? b : DASH} → ${isNumber(a) ? a : DASH}`;
  if (isNumber(b) && isNumber(a) && a !== b) td.classList.add(a < b ? "better" : "worse");
  row.appendChild(td);
}

function fillTable(sessions) {
  const body = document.getElementById("sessions-body");
  body.replaceChildren();
  for (const s of [...sessions].reverse()) {
    const row = document.createElement("tr");
    row.dataset.testid = "session-row";
    row.setAttribute("data-testid", "session-row");
    row.dataset.sessionId = String(s.id);
    const cells = [
      new Date(s.started_unix * 1000).toLocaleString(undefined, {
        weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
      }),
      PRACTICE_NAMES[s.practice] ?? s.practice,
    ];
    for (const text of cells) {
      const td = document.createElement("td");
      td.textContent = text;
      row.appendChild(td);
    }
    const minutes = document.createElement("td");
    minutes.className = "num";
    minutes.textContent = (s.minutes_practised || 0).toFixed(0);
    row.appendChild(minutes);
    ratingCell(row, s, "pain");
    ratingCell(row, s, "stress");
    const rmssd = document.createElement("td");
    rmssd.className = "num";
    rmssd.textContent = isNumber(s.mean_rmssd_ms) ? `${s.mean_rmssd_ms.toFixed(0)} ms` : DASH;
    row.appendChild(rmssd);
    const note = document.createElement("td");
    note.className = "note";
    note.textContent = [s.ratings?.before?.note, s.ratings?.after?.note, s.notes]
      .filter(Boolean).join(" · ");
    row.appendChild(note);
    body.appendChild(row);
  }
}

// ---- page -------------------------------------------------------------------------------

/** A table wider than its card scrolls sideways: say so, and fade the edge with more. */
function showTableCue() {
  const wrap = document.getElementById("table-wrap");
  const cue = document.getElementById("table-cue");
  const update = () => {
    const more = wrap.scrollWidth - wrap.clientWidth - wrap.scrollLeft > 2;
    wrap.dataset.more = more ? "right" : "";
    cue.hidden = wrap.scrollWidth <= wrap.clientWidth + 2;
  };
  if (!wrap.dataset.watched) {
    wrap.dataset.watched = "1";
    wrap.addEventListener("scroll", update, { passive: true });
  }
  update();
}

function show(id, visible = true) {
  document.getElementById(id).hidden = !visible;
}

let lastRender = null;

export function render(payload, nowUnixS) {
  lastRender = [payload, nowUnixS];
  const sessions = [...(payload.sessions || [])].sort((a, b) => a.started_unix - b.started_unix);
  show("loading", false);
  document.getElementById("db-path").textContent = payload.db ? `sessions stored in ${payload.db}` : "";
  const main = document.getElementById("history");
  if (!sessions.length) {
    show("empty");
    main.dataset.state = "empty";
    return;
  }
  const layout = courseLayout(sessions, nowUnixS);
  for (const id of ["cards", "minutes-card", "ratings-pair", "hrv-pair", "table-card"]) show(id);
  fillCards(sessions, layout);
  drawMinutes(document.getElementById("minutes-chart"), layout);
  drawRatings(document.getElementById("pain-chart"), sessions, layout, "pain", "Pain");
  drawRatings(document.getElementById("stress-chart"), sessions, layout, "stress", "Stress");
  drawSeries(document.getElementById("rmssd-chart"), sessions, layout, "mean_rmssd_ms", "Average RMSSD per session, ms", 0);
  drawSeries(document.getElementById("coherence-chart"), sessions, layout, "mean_coherence", "Average coherence per session", 1);
  fillTable(sessions);
  main.dataset.state = "ready";
  showTableCue();
}

async function load() {
  try {
    // X-Hrvcalm: the server answers /api/ only to its own pages (docs/security.md)
    const response = await fetch("/api/sessions", { cache: "no-store", headers: { "X-Hrvcalm": "1" } });
    const payload = await response.json();
    if (!response.ok) throw new Error(payload.error || `HTTP ${response.status}`);
    render(payload, Date.now() / 1000);
  } catch (err) {
    show("loading", false);
    const p = document.createElement("p");
    p.textContent = `Could not load your sessions: ${err.message}`;
    document.getElementById("errors").replaceChildren(p);
    document.getElementById("history").dataset.state = "error";
  }
}

let resizeTimer = 0;
window.addEventListener("resize", () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => {
    if (lastRender) render(...lastRender);
  }, 150);
});

load();
