// Entry module: wires the websocket to the DOM. State comes from the server; the page applies
// whatever message arrives, in any order, and ignores types it does not know.
//
// Flow: phase "ready" (choose practice, length, pace; rate pain and stress) -> Start -> a
// short lead-in on the page -> `configure` was sent already, now `set_pacer` (so the first
// breath begins with an in-breath) and `start` -> phase "running" (timed cues) -> "ended"
// (after-ratings). Reconnects by itself and takes the server's state as it finds it.
//
// The "resonance" practice (find your breathing rate) has a fixed length and the server sets
// the pacer step by step; `resonance` messages carry the step ("running") and, at the end,
// every step's scores and the chosen rate ("done" or "stopped").

import { Connection } from "./connection.js";
import { DEFAULT_PACER, startPacer } from "./pacer.js";
import { BreathSound } from "./audio.js";
import { Speaker } from "./speech.js";
import { HeartTrace } from "./trace.js";
import {
  LENGTHS_MIN, PRACTICES, RESONANCE_MINUTES, cueIndexAt, cuesFor,
} from "./practices.js";
import {
  DASH, RATIO_CHOICES, ZONES, breathingRateText, coherencePct, coherenceZone, describeDevice,
  formatDuration, formatNumber, formatRate, formatRemaining, formatScore, formatTimer, ratioLabel,
  relaxationWords,
} from "./format.js";

const PROTOCOL = 1;
const ERROR_SHOW_MS = 10000;
const LEAD_IN_S = 3;
/** How long the page waits for the server to confirm a start before it shows setup again. */
const START_ANSWER_MS = 3000;
/** No beat for this long (wall clock) while the strap says "connected": signal lost. */
const NO_BEATS_MS = 8000;
const PREFS_KEY = "hrvcalm.practice.prefs";

const $ = (id) => document.getElementById(id);
const byTestId = (id) => document.querySelector(`[data-testid="${id}"]`);

const el = {
  banner: $("server-banner"),
  device: byTestId("device-state"),
  deviceText: document.querySelector(".device-text"),
  shape: byTestId("pacer"),
  words: $("pacer-words"),
  cue: $("cue"),
  rate: $("rate"),
  rateValue: $("rate-value"),
  ratio: $("ratio"),
  guide: $("guide"),
  guideBox: $("guide-box"),
  sound: $("sound"),
  voice: $("voice"),
  speech: $("speech"),
  setup: $("setup"),
  lengthHint: $("length-hint"),
  timer: $("timer"),
  phaseLabel: $("phase-label"),
  remaining: $("remaining"),
  start: $("start"),
  stop: $("stop"),
  summary: $("summary"),
  sourceBox: $("source-box"),
  sourceChoice: $("source-choice"),
  scan: $("scan"),
  summaryLead: $("summary-lead"),
  summaryRows: $("summary-rows"),
  zoneBar: $("zone-bar"),
  zonesText: $("zones-text"),
  summaryZones: $("summary-zones"),
  summaryNext: $("summary-next"),
  newSession: $("new-session"),
  signal: $("signal"),
  readings: $("readings"),
  hr: $("hr"),
  rmssd: $("rmssd"),
  rmssdHint: $("rmssd-hint"),
  coherence: $("coherence"),
  coherenceZone: $("coherence-zone"),
  coherenceHint: $("coherence-hint"),
  coherenceMeter: $("coherence-meter"),
  relaxation: $("relaxation"),
  relaxationMeter: $("relaxation-meter"),
  relaxationFill: $("relaxation-fill"),
  relaxationWords: $("relaxation-words"),
  breathingRate: $("breathing-rate"),
  breathingHint: $("breathing-hint"),
  trace: $("hr-trace"),
  before: $("ratings-before"),
  after: $("ratings-after"),
  saveAfter: $("save-after"),
  errors: $("errors"),
  source: $("source"),
  protocol: $("protocol"),
  minutes: $("minutes"),
  resonance: $("resonance"),
  resonanceHint: $("resonance-hint"),
  resonanceStep: $("resonance-step"),
  resonanceSteps: $("resonance-steps"),
  resonanceResult: $("resonance-result"),
  resonanceChosen: $("resonance-chosen"),
  resonanceRows: $("resonance-rows"),
};

const prefs = loadPrefs();

const state = {
  pacer: { ...DEFAULT_PACER, t0S: Date.now() / 1000 },
  speed: 1,
  session: { phase: null, practice: prefs.practice, elapsedS: 0, durationS: null, receivedMs: performance.now(), ratings: {} },
  choice: { practice: prefs.practice, minutes: prefs.minutes },
  device: { state: null, contact: null },
  lastBeatMs: null,
  respRateBpm: null,
  online: false,
  rateDragging: false,
  leadInEndsMs: null,
  /** When `start` was sent and the server has not answered yet (performance.now() ms). */
  startSentMs: null,
  cues: [],
  cueIndex: -2,
  cueKey: "",
  pendingAfter: null,
  resonance: null,
  /** The server's `summary` of the session that just ended (null before its end). */
  summary: null,
  /** The source spec of the server's last hello ("none": the app waits for a choice). */
  sourceSpec: null,
  // The last rating this page sent per group ("before"/"after") that the server has not yet
  // echoed back. Until it has, older echoes must not overwrite what the patient just chose.
  unconfirmedRatings: {},
};

const sound = new BreathSound();
sound.setVoice(prefs.voice);
sound.onCue = (n) => { el.sound.dataset.cues = String(n); };
const speaker = new Speaker();
const trace = new HeartTrace(el.trace);
const connection = new Connection({ onMessage: handle, onStatus: setOnline });

// ---- server -> page -------------------------------------------------------------------

const handlers = {
  hello(msg) {
    el.source.textContent = `source: ${msg.source ?? "unknown"}`;
    if (state.sourceSpec !== null && msg.source !== state.sourceSpec) {
      // Another source (the patient's app): what we knew of the strap is stale.
      handlers.device({ state: "unknown" });
      el.deviceText.textContent = "waiting for the strap…";
      state.lastBeatMs = null;
      handlers.metrics({});
      el.hr.textContent = DASH;
    }
    state.sourceSpec = typeof msg.source === "string" ? msg.source : null;
    applyPhase();
    el.protocol.textContent = `${msg.protocol ?? "?"} · ${msg.app ?? "hrvcalm"} ${msg.version ?? ""}`.trim();
    state.speed = typeof msg.speed === "number" && msg.speed > 0 ? msg.speed : 1;
    trace.speed = state.speed;
    trace.reset(); // the server replays its recent beats right after
    if (msg.protocol !== PROTOCOL) {
      showError(`This page speaks protocol ${PROTOCOL}, the server ${msg.protocol}: please reload.`);
    }
  },

  beat(msg) {
    if (typeof msg.t_s === "number" && typeof msg.hr_bpm === "number") {
      trace.addBeat(msg.t_s, msg.hr_bpm, msg.artifact);
    }
    state.lastBeatMs = performance.now();
    updateSignal();
    // Artifact beats are left out of the metrics, so they do not move the display either,
    // unless nothing has been shown yet.
    if (msg.artifact && el.hr.textContent !== DASH) return;
    el.hr.textContent = formatNumber(msg.hr_bpm, 0);
  },

  metrics(msg) {
    el.rmssd.textContent = formatNumber(msg.rmssd_ms, 1);
    el.rmssdHint.hidden = typeof msg.rmssd_ms === "number";
    el.coherence.textContent = formatNumber(msg.coherence, 1);
    const zone = coherenceZone(msg);
    el.coherenceZone.textContent = zone ?? DASH;
    el.coherenceZone.dataset.zone = zone ?? "";
    el.coherenceMeter.dataset.zone = zone ?? "";
    el.coherenceMeter.setAttribute("aria-valuenow", String(Math.round(coherencePct(msg.coherence))));
    el.coherenceMeter.setAttribute("aria-valuetext", zone ?? "not yet known");
    el.coherenceHint.hidden = zone !== null;
    el.relaxation.textContent = formatNumber(msg.relaxation, 0);
    el.relaxationWords.textContent = relaxationWords(msg.relaxation);
    setMeter(el.relaxationMeter, el.relaxationFill, typeof msg.relaxation === "number" ? msg.relaxation : 0);
    state.respRateBpm = typeof msg.resp_rate_bpm === "number" ? msg.resp_rate_bpm : null;
    drawBreathingRate();
  },

  device(msg) {
    const { text, tone } = describeDevice(msg);
    el.deviceText.textContent = text;
    el.device.dataset.state = msg.state ?? "unknown";
    el.device.dataset.tone = tone;
    state.device = { state: msg.state ?? null, contact: msg.contact ?? null };
    updateSignal();
  },

  pacer(msg) {
    if (typeof msg.rate_bpm !== "number" || msg.rate_bpm <= 0) return;
    state.pacer = {
      rateBpm: msg.rate_bpm,
      inhaleRatio: typeof msg.inhale_ratio === "number" && msg.inhale_ratio > 0 ? msg.inhale_ratio : 1,
      t0S: typeof msg.t0_s === "number" ? msg.t0_s : Date.now() / 1000,
    };
    trace.setPacer(state.pacer);
    el.shape.dataset.rate = String(msg.rate_bpm);
    el.shape.dataset.inhaleRatio = String(state.pacer.inhaleRatio);
    if (!state.rateDragging) {
      el.rate.value = String(msg.rate_bpm);
      el.rateValue.textContent = formatRate(msg.rate_bpm);
      el.rate.setAttribute("aria-valuetext", formatRate(msg.rate_bpm));
    }
    if (document.activeElement !== el.ratio) el.ratio.value = ratioLabel(state.pacer.inhaleRatio);
    drawBreathingRate();
  },

  session(msg) {
    const previous = state.session.phase;
    state.session = {
      phase: msg.phase ?? null,
      practice: typeof msg.practice === "string" ? msg.practice : state.choice.practice,
      elapsedS: typeof msg.elapsed_s === "number" ? msg.elapsed_s : 0,
      durationS: typeof msg.duration_s === "number" ? msg.duration_s : null,
      endedReason: typeof msg.ended_reason === "string" ? msg.ended_reason : null,
      receivedMs: performance.now(),
      ratings: msg.ratings && typeof msg.ratings === "object" ? msg.ratings : {},
    };
    document.body.dataset.phase = state.session.phase ?? "";
    if (state.session.phase === "ready") {
      // The server's choice wins (another page, or `--minutes`); otherwise offer ours.
      if (state.session.practice !== state.choice.practice || !sameMinutes()) {
        if (state.session.durationS === null) sendConfigure();
        else adoptServerChoice();
      }
    } else {
      state.leadInEndsMs = null;
    }
    if (state.session.phase !== "ready") state.startSentMs = null;
    if (previous === "running" && state.session.phase === "ended") endOfSession();
    if (previous === "ended" && state.session.phase === "ready") freshSession();
    applyRatings(state.session.ratings);
    applyPhase();
    drawTimer();
    drawCue();
  },

  error(msg) {
    showError(String(msg.message ?? "Something went wrong."));
  },

  summary(msg) {
    state.summary = msg;
    drawSummary();
    applyPhase();
  },

  /** The sources the patient's app offers (`hrvcalm app`): the page chooses the strap. */
  sources(msg) {
    const choices = Array.isArray(msg.choices) ? msg.choices : [];
    el.sourceBox.hidden = false;
    const options = [new Option("Choose…", "")];
    for (const c of choices) options.push(new Option(String(c.label), String(c.id)));
    if (document.activeElement !== el.sourceChoice) {
      el.sourceChoice.replaceChildren(...options);
      el.sourceChoice.value = typeof msg.current === "string" ? msg.current : "";
    }
    el.scan.hidden = !msg.can_scan;
    el.scan.disabled = Boolean(msg.scanning);
    el.scan.textContent = msg.scanning ? "Looking for straps…" : "Look for straps";
  },

  resonance(msg) {
    state.resonance = msg;
    drawResonance();
    applyPhase();
    drawCue();
  },
};

function handle(msg) {
  const handler = Object.hasOwn(handlers, msg.type) ? handlers[msg.type] : null;
  if (handler) handler(msg);
}

// ---- view helpers ---------------------------------------------------------------------

const PHASE_LABELS = { ready: "Ready when you are", running: "Practising", ended: "Session complete" };

function setOnline(status) {
  state.online = status === "open";
  if (status === "no-session") {
    // Served by `hrvcalm history`: no practice runs here; say so instead of retrying forever.
    el.banner.replaceChildren(
      "No practice is running. Start hrvcalm on this computer, then ",
      Object.assign(document.createElement("a"), { href: location.href, textContent: "try again" }),
      ".",
    );
    el.banner.dataset.kind = "no-session";
    el.banner.hidden = false;
    el.deviceText.textContent = "no practice running";
    applyPhase();
    return;
  }
  // A rating the old connection may have lost is sent again, so the patient's input survives.
  if (status === "open") {
    for (const group of [el.before, el.after]) {
      if (Object.hasOwn(state.unconfirmedRatings, group.dataset.when)) sendRating(group);
    }
  }
  el.banner.hidden = status !== "reconnecting";
  if (status === "reconnecting") {
    // What we knew about the strap is stale; the server resends it on reconnect.
    handlers.device({ state: "unknown" });
    el.deviceText.textContent = "waiting for hrvcalm…";
  }
  applyPhase();
  updateSignal();
}

/** The measured breathing rate next to the pacer's (the pacer's only while it is shown). */
function drawBreathingRate() {
  const text = breathingRateText(state.respRateBpm, guideOn() ? state.pacer.rateBpm : null);
  if (el.breathingRate.textContent !== text) el.breathingRate.textContent = text;
  el.breathingHint.hidden = state.respRateBpm !== null;
}

function setMeter(meter, fill, pct) {
  const clamped = Math.max(0, Math.min(100, pct));
  fill.style.width = `${clamped}%`;
  meter.setAttribute("aria-valuenow", String(Math.round(clamped)));
}

/** The "signal lost" notice: link lost, no skin contact, or no beats for a while. */
function updateSignal() {
  const d = state.device;
  let text = "";
  if (!state.online || state.session.phase === "ended") text = ""; // banner / practice over
  else if (d.state === "lost" || d.state === "reconnecting") {
    text = "Signal lost. The strap is out of reach or switched off; hrvcalm keeps trying. Your practice can simply go on.";
  } else if (d.state === "connected" && d.contact === false) {
    text = "No skin contact. Moisten the strap's pads and check it sits snugly below the chest.";
  } else if (d.state === "connected" && state.lastBeatMs !== null && performance.now() - state.lastBeatMs > NO_BEATS_MS) {
    text = "Signal lost: no heartbeats for a few seconds. Check that the strap sits snugly.";
  }
  el.signal.textContent = text;
  el.signal.hidden = text === "";
  document.body.dataset.signal = text === "" ? "ok" : "lost";
  const live = state.online && text === "" && (d.state === null || d.state === "connected");
  el.readings.classList.toggle("stale", !live);
}

function isResonance(practice) {
  return practice === "resonance";
}

function sameMinutes() {
  if (isResonance(state.choice.practice)) return state.session.durationS !== null; // the server's protocol decides
  return state.session.durationS !== null && Math.abs(state.session.durationS - 60 * state.choice.minutes) < 1;
}

function adoptServerChoice() {
  state.choice.practice = state.session.practice;
  if (state.session.durationS !== null && !isResonance(state.session.practice)) {
    state.choice.minutes = state.session.durationS / 60;
  }
  showChoice();
}

function showChoice() {
  for (const input of el.setup.querySelectorAll('input[name="practice"]')) {
    input.checked = input.value === state.choice.practice;
  }
  const minutes = el.setup.querySelectorAll('input[name="minutes"]');
  for (const input of minutes) input.checked = Number(input.value) === state.choice.minutes;
}

function currentPractice() {
  return state.session.phase === "ready" || state.session.phase === null ? state.choice.practice : state.session.practice;
}

function guideOn() {
  if (state.session.phase === "ended") return false;
  return PRACTICES[currentPractice()]?.guide || el.guide.checked;
}

function applyPhase() {
  const phase = state.session.phase;
  const leadIn = state.leadInEndsMs !== null;
  el.phaseLabel.textContent = leadIn ? "Settling in" : (PHASE_LABELS[phase] ?? "Session");
  const starting = state.startSentMs !== null && performance.now() - state.startSentMs < START_ANSWER_MS;
  const view = leadIn || starting || phase === "running" ? "practice" : phase === "ended" ? "end" : "setup";
  el.start.disabled = !state.online || phase !== "ready" || leadIn || state.sourceSpec === "none";
  el.stop.disabled = !state.online || phase !== "running";
  // One button at a time: Start to begin, Stop during the practice, New session at the end.
  el.start.hidden = view !== "setup";
  el.stop.hidden = view !== "practice";
  el.newSession.hidden = view !== "end";
  el.newSession.disabled = !state.online;
  el.setup.hidden = view !== "setup";
  for (const input of el.setup.querySelectorAll("input")) input.disabled = leadIn;
  // Before-ratings are offered until the start; during the practice nothing asks for input.
  el.before.hidden = view !== "setup";
  el.after.hidden = phase !== "ended";
  el.summary.hidden = view !== "end" || state.summary === null;
  const isGuided = PRACTICES[currentPractice()]?.guide ?? true;
  el.guideBox.hidden = isGuided || phase === "ended";
  const guide = guideOn();
  trace.showBands = guide;
  drawBreathingRate();
  $("trace-bands").hidden = !guide;
  el.rate.closest(".rate").hidden = !guide;
  el.ratio.hidden = !guide;
  el.ratio.labels[0].hidden = !guide;
  document.querySelector(".pacer-help").hidden = !guide;
  showView(view);
  document.body.dataset.practice = currentPractice();
  // Find your breathing rate: a fixed length, and the server sets the pace step by step.
  const resonance = isResonance(currentPractice());
  el.minutes.hidden = resonance;
  el.lengthHint.hidden = resonance;
  el.resonanceHint.hidden = !resonance;
  if (resonance && phase !== "ready" && phase !== null) {
    el.rate.closest(".rate").hidden = true;
    el.ratio.hidden = true;
    el.ratio.labels[0].hidden = true;
  }
  el.resonance.hidden = !(resonance && state.resonance !== null && phase !== "ready");
}

/**
 * The page's layout for the moment: "setup" (choose, rate, Start), "practice" (lead-in and
 * practice: the circle in view) or "end". On a change the page goes back to its top, where
 * the circle is (phones) or from where it stays pinned (laptops).
 */
function showView(view) {
  if (document.body.dataset.view === view) return;
  document.body.dataset.view = view;
  if (view !== "setup") window.scrollTo({ top: 0, behavior: "instant" });
}

/** A new session opened (after "New session", here or on another page): start afresh. */
function freshSession() {
  state.summary = null;
  state.resonance = null;
  state.unconfirmedRatings = {};
  state.cueKey = "";
  state.lastBeatMs = null;
  handlers.metrics({}); // the new session's values come with its own baseline
}

/** How it went: minutes, start against end, time in each coherence zone, what to try next. */
function drawSummary() {
  const s = state.summary;
  if (!s) return;
  const name = (PRACTICES[s.practice]?.name ?? "practice").toLowerCase();
  let lead = `You practised ${formatDuration(60 * (s.minutes ?? 0))} of ${name}.`;
  if (!s.completed && typeof s.planned_minutes === "number") {
    lead += s.ended_reason === "source_ended"
      ? ` The recording ended before the planned ${formatDuration(60 * s.planned_minutes)}.`
      : ` You stopped before the planned ${formatDuration(60 * s.planned_minutes)}, which is fine.`;
  }
  el.summaryLead.textContent = lead;
  const start = s.start ?? {};
  const end = s.end ?? {};
  const before = s.ratings?.before ?? {};
  const after = s.ratings?.after ?? {};
  const rows = [
    ["Heart rate", "bpm", formatNumber(start.mean_hr_bpm, 0), formatNumber(end.mean_hr_bpm, 0)],
    ["Variability (RMSSD)", "ms", formatNumber(start.rmssd_ms, 0), formatNumber(end.rmssd_ms, 0)],
    ["Relaxation", "50 = as at the start", formatNumber(start.relaxation, 0), formatNumber(end.relaxation, 0)],
    ["Pain", "0-10, before → after", formatScore(before.pain), formatScore(after.pain)],
    ["Stress", "0-10, before → after", formatScore(before.stress), formatScore(after.stress)],
  ];
  el.summaryRows.replaceChildren(...rows.map(([label, unit, a, b]) => {
    const tr = document.createElement("tr");
    const th = document.createElement("th");
    th.scope = "row";
    th.append(label, Object.assign(document.createElement("span"), { className: "fine", textContent: ` ${unit}` }));
    tr.append(th);
    for (const value of [a, b]) tr.append(Object.assign(document.createElement("td"), { textContent: value }));
    return tr;
  }));
  const zones = s.zones_s ?? {};
  const total = ZONES.reduce((sum, z) => sum + (zones[z] ?? 0), 0);
  el.summaryZones.hidden = total <= 0;
  el.zoneBar.replaceChildren(...ZONES.map((z) => {
    const part = document.createElement("span");
    part.dataset.zone = z;
    part.style.flexGrow = String(zones[z] ?? 0);
    return part;
  }));
  el.zonesText.textContent = ZONES.map((z) => `${z} ${formatTimer(zones[z] ?? 0)}`).join(" · ");
  const next = Array.isArray(s.next) ? s.next : [];
  el.summaryNext.replaceChildren(
    Object.assign(document.createElement("span"), { className: "label", textContent: "Next time" }),
    ...next.map((t) => Object.assign(document.createElement("span"), { className: "tip", textContent: t })),
  );
}

/** The step in progress and, at the end, each step's scores and the chosen rate. */
function drawResonance() {
  const msg = state.resonance;
  if (!msg) return;
  const rates = Array.isArray(msg.rates_bpm) ? msg.rates_bpm : [];
  el.resonance.dataset.state = String(msg.state ?? "");
  const current = msg.state === "running" ? Number(msg.step) : rates.length + 1;
  el.resonanceSteps.replaceChildren(...rates.map((rate, i) => {
    const li = document.createElement("li");
    li.textContent = formatRate(rate);
    li.dataset.state = i + 1 < current ? "done" : i + 1 === current ? "current" : "next";
    return li;
  }));
  if (msg.state === "running") {
    el.resonanceStep.textContent = `Step ${msg.step} of ${msg.steps} · ${formatRate(msg.rate_bpm)}`;
    el.resonanceResult.hidden = true;
    return;
  }
  const chosen = typeof msg.chosen_rate_bpm === "number" ? msg.chosen_rate_bpm : null;
  el.resonanceStep.textContent = msg.state === "done" ? "All five paces done." : "Stopped before the last pace.";
  el.resonanceChosen.textContent = chosen !== null
    ? `Your breathing rate: ${formatRate(chosen)}. Your next sessions start at this pace.`
    : msg.state === "done"
      ? "No pace had enough clean heartbeats to judge. Check the strap and try again another day."
      : "Nothing was changed: your pace stays as it was. You can try again any time.";
  const steps = Array.isArray(msg.steps) ? msg.steps : [];
  el.resonanceRows.replaceChildren(...rates.map((rate, i) => {
    const step = steps[i];
    const tr = document.createElement("tr");
    if (rate === chosen) tr.className = "chosen";
    const cells = step
      ? [formatRate(rate), `${formatNumber(step.peak_trough_bpm, 1)} bpm`,
        `${Math.round(Math.max(0, step.synchrony) * 100)} %`, `${formatNumber(step.lf_ms2, 0)} ms²`,
        formatNumber(step.rank_sum, 1)]
      : [formatRate(rate), "not enough clean beats", DASH, DASH, DASH];
    for (const text of cells) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.append(td);
    }
    return tr;
  }));
  el.resonanceResult.hidden = false;
}

/** Show the ratings the server holds (so a reloaded or second page shows them too). */
function applyRatings(ratings) {
  for (const group of [el.before, el.after]) {
    const when = group.dataset.when;
    const rating = ratings[when] ?? {};
    const unconfirmed = state.unconfirmedRatings[when];
    if (unconfirmed !== undefined) {
      if (!sameRating(unconfirmed, rating)) continue; // an older echo: keep the patient's input
      delete state.unconfirmedRatings[when];
    }
    for (const field of group.querySelectorAll("[data-field]")) {
      if (field === document.activeElement) continue; // the patient is choosing right now
      const value = rating[field.dataset.field];
      if (field.tagName === "TEXTAREA") field.value = typeof value === "string" ? value : "";
      else field.value = typeof value === "number" ? String(value) : "";
    }
    const saved = group.querySelector(".saved");
    saved.textContent = Object.hasOwn(ratings, when) ? "Saved." : "";
  }
}

function sameRating(a, b) {
  return a.pain === (b.pain ?? null) && a.stress === (b.stress ?? null) && a.note === (b.note ?? null);
}

function elapsedNow() {
  const s = state.session;
  let elapsed = s.elapsedS;
  if (s.phase === "running") elapsed += ((performance.now() - s.receivedMs) / 1000) * state.speed;
  if (s.durationS !== null) elapsed = Math.min(elapsed, s.durationS);
  return elapsed;
}

function drawTimer() {
  const elapsed = elapsedNow();
  el.timer.textContent = formatTimer(elapsed);
  const readyMinutes = isResonance(state.choice.practice) ? RESONANCE_MINUTES : state.choice.minutes;
  const duration = state.session.phase === "ready" ? 60 * readyMinutes : state.session.durationS;
  el.remaining.textContent = state.session.phase === "ended" ? "" : formatRemaining(duration, elapsed);
}

/** The cue line: practice description before, timed guidance during, a close after. */
function drawCue() {
  const phase = state.session.phase;
  let text;
  let index = -1;
  if (state.leadInEndsMs !== null) {
    const left = Math.max(1, Math.ceil((state.leadInEndsMs - performance.now()) / 1000));
    el.words.textContent = `Settle in… ${left}`;
    text = "Get comfortable. The guide begins with an in-breath.";
  } else if (phase === "running") {
    const key = `${state.session.practice}/${state.session.durationS}`;
    if (key !== state.cueKey) {
      state.cueKey = key;
      state.cues = cuesFor(state.session.practice, state.session.durationS ?? 600);
      state.cueIndex = -2;
    }
    index = cueIndexAt(state.cues, elapsedNow());
    text = index >= 0 ? state.cues[index].text : "";
    if (index !== state.cueIndex) {
      state.cueIndex = index;
      if (index > 0) sound.bell();
      speaker.say(text);
    }
  } else if (phase === "ended") {
    text = "Well done. Take a moment before you get up, then note how you feel now.";
    if (state.session.endedReason === "source_ended") text += " The recording ended here.";
    if (isResonance(state.session.practice) && typeof state.resonance?.chosen_rate_bpm === "number") {
      text += ` Your breathing rate is ${formatRate(state.resonance.chosen_rate_bpm)}.`;
    }
  } else {
    const info = PRACTICES[state.choice.practice] ?? PRACTICES.paced_breathing;
    const length = info.fixedLength ? "" : "Choose a length, ";
    text = state.sourceSpec === "none"
      ? "Welcome. First choose your strap above (or the virtual strap to try hrvcalm out)."
      : `${info.name}: ${info.short} ${length ? `${length}rate` : "Rate"} how you feel, then press Start.`;
  }
  if (phase === "ended") el.words.textContent = "Session complete";
  else if (!guideOn() && state.leadInEndsMs === null) el.words.textContent = "Breathe naturally";
  if (el.cue.textContent !== text) el.cue.textContent = text;
  el.cue.dataset.index = String(index);
}

function showError(text) {
  const p = document.createElement("p");
  p.textContent = text;
  el.errors.append(p);
  setTimeout(() => p.remove(), ERROR_SHOW_MS);
}

function send(message) {
  if (!connection.send(message)) showError("Not connected to hrvcalm yet; please try again in a moment.");
  return connection.isOpen;
}

function sendConfigure() {
  if (state.session.phase !== "ready" || !connection.isOpen) return;
  const minutes = isResonance(state.choice.practice) ? RESONANCE_MINUTES : state.choice.minutes;
  connection.send({ type: "configure", practice: state.choice.practice, minutes });
}

function sendRating(group) {
  const field = (name) => group.querySelector(`[data-field="${name}"]`).value;
  const score = (name) => (field(name) === "" ? null : Number(field(name)));
  const note = field("note").trim();
  const rating = { pain: score("pain"), stress: score("stress"), note: note === "" ? null : note };
  if (!send({ type: "rating", when: group.dataset.when, ...rating })) return false;
  state.unconfirmedRatings[group.dataset.when] = rating;
  return true;
}

function hasRatingInput(group) {
  return [...group.querySelectorAll("[data-field]")].some((f) => f.value.trim() !== "");
}

/** Keep the screen on during the practice (Screen Wake Lock API, where the browser has it). */
let wakeLock = null; // null | "pending" | "denied" | WakeLockSentinel
function keepAwake(on) {
  if (!("wakeLock" in navigator)) return;
  if (on && wakeLock === null && !document.hidden) {
    wakeLock = "pending";
    navigator.wakeLock.request("screen").then(
      (lock) => {
        wakeLock = lock; // the browser releases it when the page is hidden; we ask again
        lock.addEventListener("release", () => { if (wakeLock === lock) wakeLock = null; });
      },
      () => { wakeLock = "denied"; }, // not allowed here (e.g. not a secure context)
    );
  } else if (!on && wakeLock !== null && typeof wakeLock === "object") {
    const lock = wakeLock;
    wakeLock = null;
    lock.release();
  }
}

function endOfSession() {
  sound.bell();
  speaker.say("The session has ended.");
}

// ---- preferences (this browser only) ---------------------------------------------------

function loadPrefs() {
  // Sound is off until the patient switches it on, on this page (never by Start).
  const fallback = { practice: "paced_breathing", minutes: 5, voice: "tone" };
  try {
    const stored = JSON.parse(localStorage.getItem(PREFS_KEY) ?? "{}");
    const out = { ...fallback, ...stored };
    // The breathing-rate assessment is a one-off: never preselect it on a later visit.
    if (!Object.hasOwn(PRACTICES, out.practice) || isResonance(out.practice)) out.practice = fallback.practice;
    if (!LENGTHS_MIN.includes(out.minutes)) out.minutes = fallback.minutes;
    return out;
  } catch {
    return fallback;
  }
}

function savePrefs() {
  try {
    localStorage.setItem(PREFS_KEY, JSON.stringify(prefs));
  } catch {
    // private mode: preferences just are not remembered
  }
}

// ---- page -> server -------------------------------------------------------------------

el.rate.addEventListener("pointerdown", () => { state.rateDragging = true; });
el.rate.addEventListener("input", () => {
  el.rateValue.textContent = formatRate(el.rate.value);
  el.rate.setAttribute("aria-valuetext", formatRate(el.rate.value));
});
el.rate.addEventListener("change", () => {
  state.rateDragging = false;
  if (!send({ type: "set_pacer", rate_bpm: Number(el.rate.value) })) {
    el.rate.value = String(state.pacer.rateBpm);
    el.rateValue.textContent = formatRate(state.pacer.rateBpm);
  }
});

for (const choice of RATIO_CHOICES) el.ratio.append(new Option(choice.label, choice.label));
el.ratio.value = "1:1";
el.ratio.addEventListener("change", () => {
  const choice = RATIO_CHOICES.find((c) => c.label === el.ratio.value) ?? RATIO_CHOICES[0];
  send({ type: "set_pacer", inhale_ratio: Math.round((1 / choice.exhale) * 10000) / 10000 });
});

el.guide.addEventListener("change", applyPhase);

el.sourceChoice.addEventListener("change", () => {
  if (el.sourceChoice.value !== "") send({ type: "choose_source", id: el.sourceChoice.value });
});
el.scan.addEventListener("click", () => send({ type: "scan" }));

el.setup.addEventListener("change", (event) => {
  const input = event.target;
  if (input === el.sourceChoice) return;
  if (input.name === "practice") state.choice.practice = input.value;
  if (input.name === "minutes") state.choice.minutes = Number(input.value);
  if (!isResonance(state.choice.practice)) prefs.practice = state.choice.practice;
  prefs.minutes = state.choice.minutes;
  savePrefs();
  sendConfigure();
  applyPhase();
  drawTimer();
});
el.setup.addEventListener("submit", (event) => event.preventDefault());

function showSound() {
  el.sound.setAttribute("aria-pressed", String(sound.enabled));
  el.sound.textContent = sound.enabled ? "Sound on" : "Sound off";
}

async function setSound(on) {
  try {
    await sound.setEnabled(on);
  } catch (exc) {
    showError(String(exc.message ?? exc));
  }
  showSound();
}

el.sound.addEventListener("click", async () => {
  await setSound(!sound.enabled);
});
el.voice.value = sound.voice;
el.voice.addEventListener("change", () => {
  sound.setVoice(el.voice.value);
  prefs.voice = sound.voice;
  savePrefs();
});
if (!speaker.supported) el.speech.hidden = true;
el.speech.addEventListener("click", () => {
  speaker.setEnabled(!speaker.enabled);
  el.speech.setAttribute("aria-pressed", String(speaker.enabled));
  el.speech.textContent = speaker.enabled ? "Spoken guidance on" : "Spoken guidance off";
  if (speaker.enabled && el.cue.textContent) speaker.say(el.cue.textContent);
});

el.start.addEventListener("click", () => {
  if (!connection.isOpen) {
    showError("Not connected to hrvcalm yet; please try again in a moment.");
    return;
  }
  if (hasRatingInput(el.before)) sendRating(el.before);
  sendConfigure();
  state.leadInEndsMs = performance.now() + LEAD_IN_S * 1000;
  applyPhase();
  setTimeout(() => {
    if (state.leadInEndsMs === null) return;
    state.leadInEndsMs = null;
    // Restart the pacer's cycle now, so the practice opens with an in-breath.
    send({ type: "set_pacer", rate_bpm: Number(el.rate.value), inhale_ratio: state.pacer.inhaleRatio });
    // The practice layout holds until the server's answer (or, without one, for a while).
    if (send({ type: "start" })) state.startSentMs = performance.now();
    applyPhase();
    setTimeout(applyPhase, START_ANSWER_MS);
  }, LEAD_IN_S * 1000);
});

el.newSession.addEventListener("click", () => {
  // What the patient typed after the session is kept with it before the next one opens.
  if (hasRatingInput(el.after)) sendRating(el.after);
  if (send({ type: "new_session" })) el.newSession.disabled = true; // until the server answers
});

el.stop.addEventListener("click", () => {
  if (send({ type: "stop" })) {
    el.stop.disabled = true; // until the server's session message says what happened
    setTimeout(applyPhase, 3000);
  }
});

for (const group of [el.before, el.after]) {
  for (const select of group.querySelectorAll("select")) {
    select.append(new Option("—", ""));
    for (let n = 0; n <= 10; n += 1) select.append(new Option(String(n), String(n)));
  }
  for (const field of group.querySelectorAll("[data-field]")) {
    field.addEventListener("change", () => sendRating(group));
    field.addEventListener("input", () => { group.querySelector(".saved").textContent = ""; });
  }
}
el.saveAfter.addEventListener("click", () => sendRating(el.after));

// ---- go -------------------------------------------------------------------------------

showChoice();
showSound();
/** The pacer the circle and the sound follow, or null while they rest. */
function activePacer() {
  return state.leadInEndsMs !== null || !guideOn() ? null : state.pacer;
}

startPacer(el.shape, el.words, activePacer);
setInterval(() => {
  drawTimer();
  drawCue();
  updateSignal();
  sound.setPacer(activePacer());
  keepAwake(state.session.phase === "running");
}, 250);
setInterval(() => trace.draw(), 200);
applyPhase();
drawCue();
connection.start();
