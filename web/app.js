// Entry module: wires the websocket to the DOM. State comes from the server; the page applies
// whatever message arrives, in any order, and ignores types it does not know.

import { Connection } from "./connection.js";
import { DEFAULT_PACER, startPacer } from "./pacer.js";
import { DASH, describeDevice, formatNumber, formatRate, formatTimer } from "./format.js";

const PROTOCOL = 1;
const ERROR_SHOW_MS = 10000;

const $ = (id) => document.getElementById(id);
const byTestId = (id) => document.querySelector(`[data-testid="${id}"]`);

const el = {
  banner: $("server-banner"),
  device: byTestId("device-state"),
  deviceText: document.querySelector(".device-text"),
  shape: byTestId("pacer"),
  words: $("pacer-words"),
  rate: $("rate"),
  rateValue: $("rate-value"),
  timer: $("timer"),
  phaseLabel: $("phase-label"),
  duration: $("duration"),
  start: $("start"),
  stop: $("stop"),
  readings: $("readings"),
  hr: $("hr"),
  rmssd: $("rmssd"),
  rmssdHint: $("rmssd-hint"),
  coherence: $("coherence"),
  relaxation: $("relaxation"),
  relaxationMeter: $("relaxation-meter"),
  relaxationFill: $("relaxation-fill"),
  before: $("ratings-before"),
  after: $("ratings-after"),
  errors: $("errors"),
  source: $("source"),
  protocol: $("protocol"),
};

const state = {
  pacer: { ...DEFAULT_PACER, t0S: Date.now() / 1000 },
  speed: 1,
  session: { phase: null, elapsedS: 0, durationS: null, receivedMs: performance.now() },
  deviceState: null,
  online: false,
  rateDragging: false,
};

const connection = new Connection({ onMessage: handle, onStatus: setOnline });

// ---- server -> page -------------------------------------------------------------------

const handlers = {
  hello(msg) {
    el.source.textContent = `source: ${msg.source ?? "unknown"}`;
    el.protocol.textContent = `${msg.protocol ?? "?"} · ${msg.app ?? "hrvcalm"} ${msg.version ?? ""}`.trim();
    state.speed = typeof msg.speed === "number" && msg.speed > 0 ? msg.speed : 1;
    if (msg.protocol !== PROTOCOL) {
      showError(`This page speaks protocol ${PROTOCOL}, the server ${msg.protocol}: please reload.`);
    }
  },

  beat(msg) {
    // Artifact beats are left out of the metrics, so they do not move the display either,
    // unless nothing has been shown yet.
    if (msg.artifact && el.hr.textContent !== DASH) return;
    el.hr.textContent = formatNumber(msg.hr_bpm, 0);
  },

  metrics(msg) {
    el.rmssd.textContent = formatNumber(msg.rmssd_ms, 1);
    el.rmssdHint.hidden = typeof msg.rmssd_ms === "number";
    el.coherence.textContent = formatNumber(msg.coherence, 1);
    el.relaxation.textContent = formatNumber(msg.relaxation, 0);
    const pct = typeof msg.relaxation === "number" ? Math.max(0, Math.min(100, msg.relaxation)) : 0;
    el.relaxationFill.style.width = `${pct}%`;
    el.relaxationMeter.setAttribute("aria-valuenow", String(Math.round(pct)));
  },

  device(msg) {
    const { text, tone } = describeDevice(msg);
    el.deviceText.textContent = text;
    el.device.dataset.state = msg.state ?? "unknown";
    el.device.dataset.tone = tone;
    state.deviceState = msg.state;
    updateStale();
  },

  pacer(msg) {
    if (typeof msg.rate_bpm !== "number" || msg.rate_bpm <= 0) return;
    state.pacer = {
      rateBpm: msg.rate_bpm,
      inhaleRatio: typeof msg.inhale_ratio === "number" && msg.inhale_ratio > 0 ? msg.inhale_ratio : 1,
      t0S: typeof msg.t0_s === "number" ? msg.t0_s : Date.now() / 1000,
    };
    el.shape.dataset.rate = String(msg.rate_bpm);
    if (!state.rateDragging) {
      el.rate.value = String(msg.rate_bpm);
      el.rateValue.textContent = formatRate(msg.rate_bpm);
    }
  },

  session(msg) {
    state.session = {
      phase: msg.phase ?? null,
      elapsedS: typeof msg.elapsed_s === "number" ? msg.elapsed_s : 0,
      durationS: typeof msg.duration_s === "number" ? msg.duration_s : null,
      receivedMs: performance.now(),
    };
    el.duration.textContent = state.session.durationS === null ? "" : `of ${formatTimer(state.session.durationS)}`;
    document.body.dataset.phase = state.session.phase ?? "";
    if (msg.ratings && typeof msg.ratings === "object") applyRatings(msg.ratings);
    applyPhase();
    drawTimer();
  },

  error(msg) {
    showError(String(msg.message ?? "Something went wrong."));
  },
};

function handle(msg) {
  const handler = Object.hasOwn(handlers, msg.type) ? handlers[msg.type] : null;
  if (handler) handler(msg);
}

// ---- view helpers ---------------------------------------------------------------------

const PHASE_LABELS = { ready: "Ready when you are", running: "Session", ended: "Session complete" };

function setOnline(status) {
  state.online = status === "open";
  el.banner.hidden = status !== "reconnecting";
  if (status === "reconnecting") {
    // What we knew about the strap is stale; the server resends it on reconnect.
    handlers.device({ state: "unknown" });
    el.deviceText.textContent = "waiting for the server…";
  }
  applyPhase();
  updateStale();
}

function updateStale() {
  const live = state.online && (state.deviceState === null || state.deviceState === "connected");
  el.readings.classList.toggle("stale", !live);
}

function applyPhase() {
  const phase = state.session.phase;
  el.phaseLabel.textContent = PHASE_LABELS[phase] ?? "Session";
  el.start.disabled = !state.online || phase !== "ready";
  el.stop.disabled = !state.online || phase !== "running";
  // The server starts the session at once, so "before" stays offered while running.
  el.before.hidden = phase === "ended";
  el.after.hidden = phase !== "ended";
}

/** Show the ratings the server holds (so a reloaded or second page shows them too). */
function applyRatings(ratings) {
  for (const group of [el.before, el.after]) {
    const rating = ratings[group.dataset.when] ?? {};
    for (const select of group.querySelectorAll("select")) {
      if (select === document.activeElement) continue; // the patient is choosing right now
      const value = rating[select.dataset.field];
      select.value = typeof value === "number" ? String(value) : "";
    }
  }
}

function drawTimer() {
  const s = state.session;
  let elapsed = s.elapsedS;
  if (s.phase === "running") elapsed += ((performance.now() - s.receivedMs) / 1000) * state.speed;
  if (s.durationS !== null) elapsed = Math.min(elapsed, s.durationS);
  el.timer.textContent = formatTimer(elapsed);
}

function showError(text) {
  const p = document.createElement("p");
  p.textContent = text;
  el.errors.append(p);
  setTimeout(() => p.remove(), ERROR_SHOW_MS);
}

function send(message) {
  if (!connection.send(message)) showError("Not connected to the server yet; please try again in a moment.");
  return connection.isOpen;
}

// ---- page -> server -------------------------------------------------------------------

el.rate.addEventListener("pointerdown", () => { state.rateDragging = true; });
el.rate.addEventListener("input", () => {
  el.rateValue.textContent = formatRate(el.rate.value);
});
el.rate.addEventListener("change", () => {
  state.rateDragging = false;
  if (!send({ type: "set_pacer", rate_bpm: Number(el.rate.value) })) {
    el.rate.value = String(state.pacer.rateBpm);
    el.rateValue.textContent = formatRate(state.pacer.rateBpm);
  }
});

for (const [button, type] of [[el.start, "start"], [el.stop, "stop"]]) {
  button.addEventListener("click", () => {
    if (send({ type })) {
      button.disabled = true; // until the server's session message says what happened
      setTimeout(applyPhase, 3000);
    }
  });
}

for (const group of [el.before, el.after]) {
  for (const select of group.querySelectorAll("select")) {
    select.append(new Option("—", ""));
    for (let n = 0; n <= 10; n += 1) select.append(new Option(String(n), String(n)));
    select.addEventListener("change", () => {
      const value = (field) => {
        const v = group.querySelector(`select[data-field="${field}"]`).value;
        return v === "" ? null : Number(v);
      };
      send({ type: "rating", when: group.dataset.when, pain: value("pain"), stress: value("stress") });
    });
  }
}

// ---- go -------------------------------------------------------------------------------

startPacer(el.shape, el.words, () => state.pacer);
setInterval(drawTimer, 250);
applyPhase();
connection.start();
