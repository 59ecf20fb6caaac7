// The page's state, and how it changes: `reduce(state, message, now)` for every server message
// and every page intent (a button pressed, a field changed, a timer's tick). Pure: no DOM, no
// timers, no globals; time comes in as `now` ({ms: the page's monotonic clock, ms; unixS: the
// wall clock, s}). What a change asks of the outside world (send a message, ring the bell,
// speak a cue, save the preferences) is listed in the new state's `effects`, which the wiring
// (app.js) carries out; the view (view.js) draws the state and never reads it back.
//
// Server messages: docs/protocol.md. Page intents have types that start with "page/".

import { DEFAULT_PACER } from "./pacer.js";
import { LENGTHS_MIN, PRACTICES, RESONANCE_MINUTES, cueIndexAt, cuesFor } from "./practices.js";
import { coherenceZone, describeDevice, formatRate } from "./format.js";

/** The protocol version this page speaks (the server announces its own in `hello`). */
export const PROTOCOL = 1;
/** How long an error notice stays, ms. */
export const ERROR_SHOW_MS = 10000;
/** The lead-in on the page before the practice starts, s. */
export const LEAD_IN_S = 3;
/** How long the page waits for the server to confirm a start before it shows setup again, ms. */
export const START_ANSWER_MS = 3000;
/** How long Stop stays disabled waiting for the server's answer, ms. */
export const STOP_ANSWER_MS = 3000;
/** No beat for this long (page clock) while the strap says "connected": signal lost, ms. */
export const NO_BEATS_MS = 8000;
const NOT_CONNECTED = "Not connected to hrvcalm yet; please try again in a moment.";
const GROUPS = ["before", "after"];
const EMPTY_RATING = Object.freeze({ pain: null, stress: null, note: null });

/**
 * The state before anything happened.
 *
 * @param {{practice: string, minutes: number, voice: string}} prefs  This browser's choices.
 * @param {{ms: number, unixS: number}} now  The clocks at page load.
 */
export function initialState(prefs, now = { ms: 0, unixS: 0 }) {
  return {
    nowMs: now.ms,
    /** "connecting" | "open" | "reconnecting" | "no-session" */
    connection: "connecting",
    online: false,
    /** What the server's last hello said (null before the first). */
    server: null,
    /** Practice lengths on offer, min (the server's, once it said hello). */
    lengthsMin: [...LENGTHS_MIN],
    /** The resonance assessment's length, min (the server's, once it said hello). */
    resonanceMinutes: RESONANCE_MINUTES,
    speed: 1,
    prefs: { ...prefs },
    choice: { practice: prefs.practice, minutes: prefs.minutes },
    session: {
      phase: null, practice: prefs.practice, elapsedS: 0, durationS: null, endedReason: null,
      receivedMs: now.ms, ratings: {},
    },
    device: { state: null, contact: null, text: "waiting for the strap…", tone: null, stateName: "unknown" },
    hrBpm: null,
    lastBeatMs: null,
    /** The last metrics message ({} when none applies). */
    metrics: {},
    pacer: { ...DEFAULT_PACER, t0S: now.unixS },
    /** The rate the patient is choosing on the slider (null: show the server's). */
    rateDraftBpm: null,
    rateDragging: false,
    guideChecked: false,
    leadInEndsMs: null,
    /** When `start` was sent and the server has not answered yet (page clock, ms). */
    startSentMs: null,
    stopSentMs: null,
    newSessionSent: false,
    /** Per group ("before"/"after"): the values shown, whether saved, fields typed unsent. */
    ratings: Object.fromEntries(GROUPS.map((g) => [g, { values: { ...EMPTY_RATING }, saved: false, typing: [] }])),
    /** The last rating sent per group that the server has not echoed yet. */
    unconfirmedRatings: {},
    summary: null,
    resonance: null,
    sources: null,
    cue: { key: "", cues: [], index: -2 },
    sound: { enabled: false, cues: null },
    speech: { supported: true, enabled: false },
    errors: [],
    nextErrorId: 1,
    /** What this change asks of the world: {send}, {bell}, {say}, {savePrefs}, {traceReset}, ... */
    effects: [],
  };
}

// ---- selectors (pure reads of the state, shared by the view and the wiring) ---------------

export function isResonance(practice) {
  return practice === "resonance";
}

/** The practice on screen: the choice before the start, the session's after it. */
export function currentPractice(s) {
  return s.session.phase === "ready" || s.session.phase === null ? s.choice.practice : s.session.practice;
}

/** Whether the breathing guide (circle, pace) is shown. */
export function guideOn(s) {
  if (s.session.phase === "ended") return false;
  return Boolean(PRACTICES[currentPractice(s)]?.guide || s.guideChecked);
}

/** The session's elapsed time now, s (extrapolated while running). */
export function elapsedS(s) {
  const ses = s.session;
  let elapsed = ses.elapsedS;
  if (ses.phase === "running") elapsed += ((s.nowMs - ses.receivedMs) / 1000) * s.speed;
  if (ses.durationS !== null) elapsed = Math.min(elapsed, ses.durationS);
  return elapsed;
}

/** The planned length of the session shown, s (null: open-ended). */
export function plannedS(s) {
  if (s.session.phase !== "ready") return s.session.durationS;
  return 60 * (isResonance(s.choice.practice) ? s.resonanceMinutes : s.choice.minutes);
}

/** The page's layout: "setup", "practice" (lead-in and practice) or "end". */
export function viewOf(s) {
  const phase = s.session.phase;
  const starting = s.startSentMs !== null && s.nowMs - s.startSentMs < START_ANSWER_MS;
  if (s.leadInEndsMs !== null || starting || phase === "running") return "practice";
  return phase === "ended" ? "end" : "setup";
}

/** The "signal lost" notice ("" when all is well). */
export function signalText(s) {
  const d = s.device;
  if (!s.online || s.session.phase === "ended") return ""; // banner / practice over
  if (d.state === "lost" || d.state === "reconnecting") {
    return "Signal lost. The strap is out of reach or switched off; hrvcalm keeps trying. Your practice can simply go on.";
  }
  if (d.state === "connected" && d.contact === false) {
    return "No skin contact. Moisten the strap's pads and check it sits snugly below the chest.";
  }
  if (d.state === "connected" && s.lastBeatMs !== null && s.nowMs - s.lastBeatMs > NO_BEATS_MS) {
    return "Signal lost: no heartbeats for a few seconds. Check that the strap sits snugly.";
  }
  return "";
}

/** The coherence zone of the latest metrics ("low" | "medium" | "high"), or null. */
export function zoneOf(s) {
  return coherenceZone(s.metrics);
}

/** Whether the readings are live (not stale). */
export function readingsLive(s) {
  const d = s.device.state;
  return s.online && signalText(s) === "" && (d === null || d === "connected");
}

/** The pacer the circle and the sound follow, or null while they rest. */
export function activePacer(s) {
  return s.leadInEndsMs !== null || !guideOn(s) ? null : s.pacer;
}

/** The slider's rate: the patient's while choosing, else the server's, breaths/min. */
export function shownRateBpm(s) {
  return s.rateDraftBpm ?? s.pacer.rateBpm;
}

/** The cue line: the practice before the start, timed guidance during it, a close after. */
export function cueText(s) {
  const phase = s.session.phase;
  if (s.leadInEndsMs !== null) return "Get comfortable. The guide begins with an in-breath.";
  if (phase === "running") return s.cue.index >= 0 ? s.cue.cues[s.cue.index].text : "";
  if (phase === "ended") {
    let text = "Well done. Take a moment before you get up, then note how you feel now.";
    if (s.session.endedReason === "source_ended") text += " The recording ended here.";
    if (isResonance(s.session.practice) && typeof s.resonance?.chosen_rate_bpm === "number") {
      text += ` Your breathing rate is ${formatRate(s.resonance.chosen_rate_bpm)}.`;
    }
    return text;
  }
  const info = PRACTICES[s.choice.practice] ?? PRACTICES.paced_breathing;
  if (s.server?.source === "none") {
    return "Welcome. First choose your strap above (or the virtual strap to try hrvcalm out).";
  }
  const length = info.fixedLength ? "" : "Choose a length, ";
  return `${info.name}: ${info.short} ${length ? `${length}rate` : "Rate"} how you feel, then press Start.`;
}

export function hasRatingInput(s, when) {
  const v = s.ratings[when].values;
  return v.pain !== null || v.stress !== null || (v.note ?? "").trim() !== "";
}

// ---- reduce ------------------------------------------------------------------------------

/**
 * The state after `message`.
 *
 * @param {object} state  The state before (never changed).
 * @param {{type: string}} message  A server message (docs/protocol.md) or a page intent.
 * @param {{ms: number, unixS: number}} [now]  The clocks when it happened.
 * @returns {object} The new state; its `effects` list what this change asks of the world.
 */
export function reduce(state, message, now = { ms: state.nowMs, unixS: 0 }) {
  const s = { ...state, nowMs: now.ms, effects: [] };
  const handler = Object.hasOwn(HANDLERS, message?.type) ? HANDLERS[message.type] : null;
  if (handler) handler(s, message, now);
  if (s.leadInEndsMs !== null || s.session.phase === "running" || s.session.phase === "ended") updateCue(s);
  return s;
}

function showError(s, text) {
  s.errors = [...s.errors, { id: s.nextErrorId, text, untilMs: s.nowMs + ERROR_SHOW_MS }];
  s.nextErrorId += 1;
}

/** Ask to send `msg`; while offline, tell the patient instead. Returns whether it goes out. */
function send(s, msg) {
  if (!s.online) {
    showError(s, NOT_CONNECTED);
    return false;
  }
  s.effects.push({ send: msg });
  return true;
}

function sameMinutes(s) {
  if (s.session.durationS === null) return false;
  if (isResonance(s.choice.practice)) return true; // the server's protocol decides
  return Math.abs(s.session.durationS - 60 * s.choice.minutes) < 1;
}

function sendConfigure(s) {
  if (s.session.phase !== "ready" || !s.online) return;
  const minutes = isResonance(s.choice.practice) ? s.resonanceMinutes : s.choice.minutes;
  s.effects.push({ send: { type: "configure", practice: s.choice.practice, minutes } });
}

function setDevice(s, msg, note = null) {
  const { text, tone } = describeDevice(msg);
  s.device = { state: msg.state ?? null, contact: msg.contact ?? null, text: note ?? text, tone, stateName: msg.state ?? "unknown" };
}

function sameRating(a, b) {
  return a.pain === (b.pain ?? null) && a.stress === (b.stress ?? null) && a.note === (b.note ?? null);
}

function sendRating(s, when) {
  const v = s.ratings[when].values;
  const note = (v.note ?? "").trim();
  const rating = { pain: v.pain, stress: v.stress, note: note === "" ? null : note };
  if (!send(s, { type: "rating", when, ...rating })) return;
  s.unconfirmedRatings = { ...s.unconfirmedRatings, [when]: rating };
  s.ratings = { ...s.ratings, [when]: { ...s.ratings[when], typing: [] } };
}

/** Take the ratings the server holds, except where an older echo would undo the patient's input. */
function applyRatings(s, ratings) {
  const next = { ...s.ratings };
  const unconfirmed = { ...s.unconfirmedRatings };
  for (const when of GROUPS) {
    const rating = ratings[when] ?? {};
    if (unconfirmed[when] !== undefined) {
      if (!sameRating(unconfirmed[when], rating)) continue; // an older echo: keep the patient's input
      delete unconfirmed[when];
    }
    const group = next[when];
    const values = { ...group.values };
    for (const field of ["pain", "stress", "note"]) {
      if (group.typing.includes(field)) continue; // typed and not yet sent
      const value = rating[field];
      values[field] = field === "note" ? (typeof value === "string" ? value : null) : typeof value === "number" ? value : null;
    }
    next[when] = { ...group, values, saved: Object.hasOwn(ratings, when) };
  }
  s.ratings = next;
  s.unconfirmedRatings = unconfirmed;
}

function clearMetrics(s) {
  s.metrics = {};
}

/** A new session opened (after "New session", here or on another page): start afresh. */
function freshSession(s) {
  s.summary = null;
  s.resonance = null;
  s.unconfirmedRatings = {};
  s.cue = { key: "", cues: [], index: -2 };
  s.lastBeatMs = null;
  clearMetrics(s);
}

/** The timed cue of the running practice; a new one rings the bell and is spoken. */
function updateCue(s) {
  if (s.session.phase !== "running" || s.leadInEndsMs !== null) return;
  let { key, cues, index: last } = s.cue;
  const newKey = `${s.session.practice}/${s.session.durationS}`;
  if (newKey !== key) {
    key = newKey;
    cues = cuesFor(s.session.practice, s.session.durationS ?? 600);
    last = -2;
  }
  const index = cueIndexAt(cues, elapsedS(s));
  if (index !== last) {
    if (index > 0) s.effects.push({ bell: true });
    s.effects.push({ say: index >= 0 ? cues[index].text : "" });
  }
  s.cue = { key, cues, index };
}

function savePrefs(s, change) {
  s.prefs = { ...s.prefs, ...change };
  s.effects.push({ savePrefs: s.prefs });
}

const HANDLERS = {
  // ---- server -> page ----
  hello(s, msg) {
    const source = typeof msg.source === "string" ? msg.source : null;
    if (s.server !== null && s.server.source !== null && msg.source !== s.server.source) {
      // Another source (the patient's app): what we knew of the strap is stale.
      setDevice(s, { state: "unknown" }, "waiting for the strap…");
      s.lastBeatMs = null;
      clearMetrics(s);
      s.hrBpm = null;
    }
    s.server = {
      protocol: msg.protocol ?? null, app: msg.app ?? "hrvcalm", version: msg.version ?? "", source,
      sourceLabel: msg.source ?? "unknown",
    };
    s.speed = typeof msg.speed === "number" && msg.speed > 0 ? msg.speed : 1;
    const lengths = Array.isArray(msg.practice_lengths_min)
      ? msg.practice_lengths_min.filter((m) => typeof m === "number" && m > 0) : [];
    if (lengths.length > 0) {
      s.lengthsMin = lengths;
      if (!lengths.includes(s.choice.minutes) && s.session.phase === null) { // still this browser's preference
        s.choice = { ...s.choice, minutes: lengths.includes(5) ? 5 : lengths[0] };
      }
    }
    if (typeof msg.resonance_minutes === "number" && msg.resonance_minutes > 0) s.resonanceMinutes = msg.resonance_minutes;
    s.effects.push({ traceReset: true }); // the server replays its recent beats right after
    if (msg.protocol !== PROTOCOL) {
      showError(s, `This page speaks protocol ${PROTOCOL}, the server ${msg.protocol}: please reload.`);
    }
  },

  beat(s, msg) {
    s.lastBeatMs = s.nowMs;
    // Artifact beats are left out of the metrics, so they do not move the display either,
    // unless nothing has been shown yet.
    if (msg.artifact && s.hrBpm !== null) return;
    s.hrBpm = typeof msg.hr_bpm === "number" ? msg.hr_bpm : null;
  },

  metrics(s, msg) {
    s.metrics = msg;
  },

  device(s, msg) {
    setDevice(s, msg);
  },

  pacer(s, msg, now) {
    if (typeof msg.rate_bpm !== "number" || msg.rate_bpm <= 0) return;
    s.pacer = {
      rateBpm: msg.rate_bpm,
      inhaleRatio: typeof msg.inhale_ratio === "number" && msg.inhale_ratio > 0 ? msg.inhale_ratio : 1,
      t0S: typeof msg.t0_s === "number" ? msg.t0_s : now.unixS,
      fromServer: true,
    };
    if (!s.rateDragging) s.rateDraftBpm = null;
  },

  session(s, msg) {
    const previous = s.session.phase;
    s.session = {
      phase: msg.phase ?? null,
      practice: typeof msg.practice === "string" ? msg.practice : s.choice.practice,
      elapsedS: typeof msg.elapsed_s === "number" ? msg.elapsed_s : 0,
      durationS: typeof msg.duration_s === "number" ? msg.duration_s : null,
      endedReason: typeof msg.ended_reason === "string" ? msg.ended_reason : null,
      receivedMs: s.nowMs,
      ratings: msg.ratings && typeof msg.ratings === "object" ? msg.ratings : {},
    };
    s.stopSentMs = null;
    s.newSessionSent = false;
    if (s.session.phase === "ready") {
      // The server's choice wins (another page, or `--minutes`); otherwise offer ours.
      if (s.session.practice !== s.choice.practice || !sameMinutes(s)) {
        if (s.session.durationS === null) sendConfigure(s);
        else {
          s.choice = {
            practice: s.session.practice,
            minutes: isResonance(s.session.practice) ? s.choice.minutes : s.session.durationS / 60,
          };
        }
      }
    } else {
      s.leadInEndsMs = null;
      s.startSentMs = null;
    }
    if (previous === "running" && s.session.phase === "ended") {
      s.effects.push({ bell: true }, { say: "The session has ended." });
    }
    if (previous === "ended" && s.session.phase === "ready") freshSession(s);
    applyRatings(s, s.session.ratings);
  },

  error(s, msg) {
    showError(s, String(msg.message ?? "Something went wrong."));
  },

  summary(s, msg) {
    s.summary = msg;
  },

  /** The sources the patient's app offers (`hrvcalm app`): the page chooses the strap. */
  sources(s, msg) {
    s.sources = {
      choices: Array.isArray(msg.choices) ? msg.choices.map((c) => ({ id: String(c.id), label: String(c.label) })) : [],
      current: typeof msg.current === "string" ? msg.current : "",
      scanning: Boolean(msg.scanning),
      canScan: Boolean(msg.can_scan),
    };
  },

  resonance(s, msg) {
    s.resonance = msg;
  },

  // ---- page intents ----
  /** The websocket's status changed ("connecting" | "open" | "reconnecting" | "no-session"). */
  "page/connection"(s, msg) {
    s.connection = msg.status;
    s.online = msg.status === "open";
    if (msg.status === "no-session") {
      s.device = { ...s.device, text: "no practice running" };
      return;
    }
    // A rating the old connection may have lost is sent again, so the patient's input survives.
    if (msg.status === "open") {
      for (const when of GROUPS) if (Object.hasOwn(s.unconfirmedRatings, when)) sendRating(s, when);
    }
    if (msg.status === "reconnecting") {
      // What we knew about the strap is stale; the server resends it on reconnect.
      setDevice(s, { state: "unknown" }, "waiting for hrvcalm…");
    }
  },

  /** A tick of the page's clock: timers, the cue, the signal notice move on. */
  "page/tick"(s) {
    s.errors = s.errors.filter((e) => e.untilMs > s.nowMs);
    if (s.stopSentMs !== null && s.nowMs - s.stopSentMs >= STOP_ANSWER_MS) s.stopSentMs = null;
    if (s.startSentMs !== null && s.nowMs - s.startSentMs >= START_ANSWER_MS) s.startSentMs = null;
  },

  /** The patient chose a practice or a length. */
  "page/choose"(s, msg) {
    const choice = { ...s.choice };
    if (typeof msg.practice === "string") choice.practice = msg.practice;
    if (typeof msg.minutes === "number") choice.minutes = msg.minutes;
    s.choice = choice;
    const prefs = { minutes: choice.minutes };
    if (!isResonance(choice.practice)) prefs.practice = choice.practice;
    savePrefs(s, prefs);
    sendConfigure(s);
  },

  "page/guide"(s, msg) {
    s.guideChecked = Boolean(msg.on);
  },

  "page/start"(s) {
    if (!s.online) {
      showError(s, NOT_CONNECTED);
      return;
    }
    if (hasRatingInput(s, "before")) sendRating(s, "before");
    sendConfigure(s);
    s.leadInEndsMs = s.nowMs + LEAD_IN_S * 1000;
    s.effects.push({ leadInMs: LEAD_IN_S * 1000 });
  },

  /** The lead-in is over: restart the pacer's cycle (the practice opens with an in-breath), start. */
  "page/lead-in-over"(s) {
    if (s.leadInEndsMs === null) return;
    s.leadInEndsMs = null;
    send(s, { type: "set_pacer", rate_bpm: shownRateBpm(s), inhale_ratio: s.pacer.inhaleRatio });
    // The practice layout holds until the server's answer (or, without one, for a while).
    if (send(s, { type: "start" })) s.startSentMs = s.nowMs;
  },

  "page/stop"(s) {
    if (send(s, { type: "stop" })) s.stopSentMs = s.nowMs; // until the server says what happened
  },

  "page/new-session"(s) {
    // What the patient typed after the session is kept with it before the next one opens.
    if (hasRatingInput(s, "after")) sendRating(s, "after");
    if (send(s, { type: "new_session" })) s.newSessionSent = true; // until the server answers
  },

  /** The patient changed a rating field (`value`: a number, text, or null for none). */
  "page/rating-input"(s, msg) {
    const group = s.ratings[msg.when];
    if (!group) return;
    const typing = group.typing.includes(msg.field) ? group.typing : [...group.typing, msg.field];
    s.ratings = {
      ...s.ratings,
      [msg.when]: { values: { ...group.values, [msg.field]: msg.value }, saved: false, typing },
    };
  },

  /** Send a group's rating (a field's change, or Save). */
  "page/rating-send"(s, msg) {
    if (s.ratings[msg.when]) sendRating(s, msg.when);
  },

  "page/rate-drag"(s) {
    s.rateDragging = true;
  },

  "page/rate-input"(s, msg) {
    s.rateDraftBpm = msg.rate_bpm;
  },

  "page/rate-change"(s, msg) {
    s.rateDragging = false;
    s.rateDraftBpm = msg.rate_bpm;
    if (!send(s, { type: "set_pacer", rate_bpm: msg.rate_bpm })) s.rateDraftBpm = null;
  },

  "page/ratio"(s, msg) {
    send(s, { type: "set_pacer", inhale_ratio: msg.inhale_ratio });
  },

  "page/choose-source"(s, msg) {
    if (msg.id !== "") send(s, { type: "choose_source", id: msg.id });
  },

  "page/scan"(s) {
    send(s, { type: "scan" });
  },

  "page/voice"(s, msg) {
    savePrefs(s, { voice: msg.voice });
  },

  /** The sound or the spoken guidance changed (the wiring reports what the browser allowed). */
  "page/sound"(s, msg) {
    s.sound = { ...s.sound, ...msg.sound };
  },

  "page/speech"(s, msg) {
    s.speech = { ...s.speech, ...msg.speech };
  },

  "page/error"(s, msg) {
    showError(s, String(msg.message));
  },
};
