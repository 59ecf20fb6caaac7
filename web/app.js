// Entry module, the wiring: the websocket, the page's events and timers, calling `reduce`
// (state.js) with each server message and page intent, carrying out the effects it lists, and
// `render` (view.js) after each change. The page applies whatever message arrives, in any
// order, and ignores types it does not know.
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
import { startPacer } from "./pacer.js";
import { BreathSound } from "./audio.js";
import { Speaker } from "./speech.js";
import { HeartTrace } from "./trace.js";
import { LENGTHS_MIN, PRACTICES } from "./practices.js";
import { RATIO_CHOICES } from "./format.js";
import { activePacer, cueText, initialState, isResonance, reduce } from "./state.js";
import { View, elements } from "./view.js";

const PREFS_KEY = "hrvcalm.practice.prefs";
const TICK_MS = 250;
const TRACE_DRAW_MS = 200;

const el = elements();
const sound = new BreathSound();
const speaker = new Speaker();
const trace = new HeartTrace(el.trace);
const view = new View(el, trace);
const connection = new Connection({
  onMessage: (msg) => {
    if (msg.type === "beat" && typeof msg.t_s === "number" && typeof msg.hr_bpm === "number") {
      trace.addBeat(msg.t_s, msg.hr_bpm, msg.artifact); // the trace keeps its own 90 s of beats
    }
    dispatch(msg);
  },
  onStatus: (status) => dispatch({ type: "page/connection", status }),
});

const prefs = loadPrefs();
sound.setVoice(prefs.voice);
prefs.voice = sound.voice;
let state = initialState(prefs, now());

function now() {
  return { ms: performance.now(), unixS: Date.now() / 1000 };
}

/** Apply a server message or a page intent: reduce, carry out its effects, draw. */
function dispatch(message) {
  state = reduce(state, message, now());
  for (const effect of state.effects) run(effect);
  view.render(state);
}

function run(effect) {
  if (effect.send) connection.send(effect.send);
  if (effect.bell) sound.bell();
  if (typeof effect.say === "string") speaker.say(effect.say);
  if (effect.savePrefs) savePrefs(effect.savePrefs);
  if (effect.traceReset) trace.reset();
  if (effect.leadInMs) setTimeout(() => dispatch({ type: "page/lead-in-over" }), effect.leadInMs);
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
    // The server's lengths come with its hello (state.js keeps the choice among them).
    if (typeof out.minutes !== "number" || !(out.minutes > 0)) out.minutes = fallback.minutes;
    if (!LENGTHS_MIN.includes(out.minutes)) out.minutes = fallback.minutes;
    return out;
  } catch {
    return fallback;
  }
}

function savePrefs(value) {
  try {
    localStorage.setItem(PREFS_KEY, JSON.stringify(value));
  } catch {
    // private mode: preferences just are not remembered
  }
}

// ---- page -> intents ------------------------------------------------------------------

el.rate.addEventListener("pointerdown", () => dispatch({ type: "page/rate-drag" }));
el.rate.addEventListener("input", () => dispatch({ type: "page/rate-input", rate_bpm: Number(el.rate.value) }));
el.rate.addEventListener("change", () => dispatch({ type: "page/rate-change", rate_bpm: Number(el.rate.value) }));

el.ratio.addEventListener("change", () => {
  const choice = RATIO_CHOICES.find((c) => c.label === el.ratio.value) ?? RATIO_CHOICES[0];
  dispatch({ type: "page/ratio", inhale_ratio: Math.round((1 / choice.exhale) * 10000) / 10000 });
});

el.guide.addEventListener("change", () => dispatch({ type: "page/guide", on: el.guide.checked }));

el.sourceChoice.addEventListener("change", () => dispatch({ type: "page/choose-source", id: el.sourceChoice.value }));
el.scan.addEventListener("click", () => dispatch({ type: "page/scan" }));

el.setup.addEventListener("change", (event) => {
  const input = event.target;
  if (input === el.sourceChoice) return;
  const change = { type: "page/choose" };
  if (input.name === "practice") change.practice = input.value;
  if (input.name === "minutes") change.minutes = Number(input.value);
  dispatch(change);
});
el.setup.addEventListener("submit", (event) => event.preventDefault());

sound.onCue = (n) => dispatch({ type: "page/sound", sound: { cues: n } });
el.sound.addEventListener("click", async () => {
  try {
    await sound.setEnabled(!sound.enabled);
  } catch (exc) {
    dispatch({ type: "page/error", message: String(exc.message ?? exc) });
  }
  dispatch({ type: "page/sound", sound: { enabled: sound.enabled } });
});
el.voice.addEventListener("change", () => {
  sound.setVoice(el.voice.value);
  dispatch({ type: "page/voice", voice: sound.voice });
});
el.speech.addEventListener("click", () => {
  speaker.setEnabled(!speaker.enabled);
  dispatch({ type: "page/speech", speech: { enabled: speaker.enabled } });
  const text = cueText(state);
  if (speaker.enabled && text) speaker.say(text);
});

el.start.addEventListener("click", () => dispatch({ type: "page/start" }));
el.newSession.addEventListener("click", () => dispatch({ type: "page/new-session" }));
el.stop.addEventListener("click", () => dispatch({ type: "page/stop" }));

for (const group of [el.before, el.after]) {
  const when = group.dataset.when;
  for (const field of group.querySelectorAll("[data-field]")) {
    const input = () => {
      const name = field.dataset.field;
      const value = name === "note" ? field.value : field.value === "" ? null : Number(field.value);
      dispatch({ type: "page/rating-input", when, field: name, value });
    };
    field.addEventListener("input", input);
    field.addEventListener("change", () => {
      input();
      dispatch({ type: "page/rating-send", when });
    });
  }
}
el.saveAfter.addEventListener("click", () => dispatch({ type: "page/rating-send", when: "after" }));

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

// ---- go -------------------------------------------------------------------------------

dispatch({ type: "page/speech", speech: { supported: speaker.supported } });
startPacer(el.shape, el.words, () => activePacer(state));
setInterval(() => {
  dispatch({ type: "page/tick" });
  sound.setPacer(activePacer(state));
  keepAwake(state.session.phase === "running");
}, TICK_MS);
setInterval(() => trace.draw(), TRACE_DRAW_MS);
connection.start();
