// The view: draws the page's state (state.js) into the DOM. One writer per element: each
// element below is written by one renderer only, and nothing here reads state back from the
// DOM (the only DOM reads are which element has the focus, so a field the patient is using is
// left alone). The pacer's animation (pacer.js) writes "Breathe in/out" into the pacer words
// while the guide runs; this view writes them only while it rests.

import { PRACTICES } from "./practices.js";
import {
  DASH, RATIO_CHOICES, ZONES, breathingRateText, coherencePct, formatDuration,
  formatNumber, formatRate, formatRemaining, formatScore, formatTimer, ratioLabel, relaxationWords,
} from "./format.js";
import {
  cueText, currentPractice, elapsedS, guideOn, isResonance, plannedS, readingsLive, shownRateBpm,
  signalText, viewOf, zoneOf,
} from "./state.js";

const PHASE_LABELS = { ready: "Ready when you are", running: "Practising", ended: "Session complete" };

const $ = (id) => document.getElementById(id);
const byTestId = (id) => document.querySelector(`[data-testid="${id}"]`);

/** The page's elements, looked up once. */
export function elements() {
  return {
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
    traceBands: $("trace-bands"),
    pacerHelp: document.querySelector(".pacer-help"),
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
}

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

/** Write a data attribute only when it changes (observers see real changes only). */
function setData(node, key, value) {
  if (node.dataset[key] !== value) node.dataset[key] = value;
}

function setAttr(node, name, value) {
  if (node.getAttribute(name) !== value) node.setAttribute(name, value);
}

/**
 * A view bound to the page's elements and to the heart trace (a canvas widget).
 *
 * `render(state)` draws everything; the parts that build rows (summary, resonance, sources,
 * errors, length choices) rebuild only when their part of the state changed.
 */
export class View {
  constructor(el, trace) {
    this.el = el;
    this.trace = trace;
    this.drawn = {
      // The lengths in the page's markup; replaced when the server offers others.
      lengths: [...el.minutes.querySelectorAll('input[name="minutes"]')].map((i) => Number(i.value)).join(","),
    };
    this.#buildStatic();
  }

  #buildStatic() {
    const el = this.el;
    for (const choice of RATIO_CHOICES) el.ratio.append(new Option(choice.label, choice.label));
    el.ratio.value = "1:1";
    for (const group of [el.before, el.after]) {
      for (const select of group.querySelectorAll("select")) {
        select.append(new Option("—", ""));
        for (let n = 0; n <= 10; n += 1) select.append(new Option(String(n), String(n)));
      }
    }
  }

  /** Whether `part` of the state changed since it was last drawn (by identity). */
  #changed(part, value) {
    if (Object.hasOwn(this.drawn, part) && this.drawn[part] === value) return false;
    this.drawn[part] = value;
    return true;
  }

  render(s) {
    this.renderConnection(s);
    this.renderAbout(s);
    this.renderDevice(s);
    this.renderReadings(s);
    this.renderPacer(s);
    this.renderChoice(s);
    this.renderLayout(s);
    this.renderTimer(s);
    this.renderCue(s);
    this.renderRatings(s);
    this.renderSummary(s);
    this.renderResonance(s);
    this.renderSources(s);
    this.renderSound(s);
    this.renderErrors(s);
  }

  renderConnection(s) {
    const { banner } = this.el;
    if (s.connection === "no-session") {
      if (banner.dataset.kind !== "no-session") {
        // Served by `hrvcalm history`: no practice runs here; say so instead of retrying forever.
        banner.replaceChildren(
          "No practice is running. Start hrvcalm on this computer, then ",
          Object.assign(document.createElement("a"), { href: location.href, textContent: "try again" }),
          ".",
        );
        banner.dataset.kind = "no-session";
      }
      banner.hidden = false;
      return;
    }
    banner.hidden = s.connection !== "reconnecting";
  }

  renderAbout(s) {
    if (s.server === null) return;
    setText(this.el.source, `source: ${s.server.sourceLabel}`);
    setText(this.el.protocol, `${s.server.protocol ?? "?"} · ${s.server.app} ${s.server.version}`.trim());
  }

  renderDevice(s) {
    const { device, deviceText } = this.el;
    setText(deviceText, s.device.text);
    setData(device, "state", s.device.stateName);
    if (s.device.tone !== null) setData(device, "tone", s.device.tone);
    const text = signalText(s);
    setText(this.el.signal, text);
    this.el.signal.hidden = text === "";
    setData(document.body, "signal", text === "" ? "ok" : "lost");
    this.el.readings.classList.toggle("stale", !readingsLive(s));
  }

  renderReadings(s) {
    const el = this.el;
    setText(el.hr, formatNumber(s.hrBpm, 0));
    const msg = s.metrics;
    setText(el.rmssd, formatNumber(msg.rmssd_ms, 1));
    el.rmssdHint.hidden = typeof msg.rmssd_ms === "number";
    setText(el.coherence, formatNumber(msg.coherence, 1));
    const zone = zoneOf(s);
    setText(el.coherenceZone, zone ?? DASH);
    setData(el.coherenceZone, "zone", zone ?? "");
    setData(el.coherenceMeter, "zone", zone ?? "");
    setAttr(el.coherenceMeter, "aria-valuenow", String(Math.round(coherencePct(msg.coherence))));
    setAttr(el.coherenceMeter, "aria-valuetext", zone ?? "not yet known");
    el.coherenceHint.hidden = zone !== null;
    setText(el.relaxation, formatNumber(msg.relaxation, 0));
    setText(el.relaxationWords, relaxationWords(msg.relaxation));
    const pct = Math.max(0, Math.min(100, typeof msg.relaxation === "number" ? msg.relaxation : 0));
    el.relaxationFill.style.width = `${pct}%`;
    setAttr(el.relaxationMeter, "aria-valuenow", String(Math.round(pct)));
    // The measured breathing rate next to the pacer's (the pacer's only while it is shown).
    const resp = typeof msg.resp_rate_bpm === "number" ? msg.resp_rate_bpm : null;
    setText(el.breathingRate, breathingRateText(resp, guideOn(s) ? s.pacer.rateBpm : null));
    el.breathingHint.hidden = resp !== null;
  }

  renderPacer(s) {
    const el = this.el;
    this.trace.speed = s.speed;
    if (this.#changed("pacer", s.pacer)) this.trace.setPacer(s.pacer);
    if (!s.pacer.fromServer && s.rateDraftBpm === null) return;
    if (s.pacer.fromServer) {
      setData(el.shape, "rate", String(s.pacer.rateBpm));
      setData(el.shape, "inhaleRatio", String(s.pacer.inhaleRatio));
    }
    const rate = shownRateBpm(s);
    if (el.rate.value !== String(rate)) el.rate.value = String(rate);
    setText(el.rateValue, formatRate(rate));
    setAttr(el.rate, "aria-valuetext", formatRate(rate));
    if (document.activeElement !== el.ratio) {
      const label = ratioLabel(s.pacer.inhaleRatio);
      if (el.ratio.value !== label) el.ratio.value = label;
    }
  }

  /** The practice and length choices (the lengths the server offers). */
  renderChoice(s) {
    const el = this.el;
    if (this.#changed("lengths", s.lengthsMin.join(","))) {
      const legend = el.minutes.querySelector("legend");
      el.minutes.replaceChildren(...(legend ? [legend] : []));
      for (const m of s.lengthsMin) {
        const input = Object.assign(document.createElement("input"), { type: "radio", name: "minutes", value: String(m) });
        const label = document.createElement("label");
        label.append(input, ` ${m} min`);
        el.minutes.append("\n", label); // apart, as in the page's markup
      }
    }
    for (const input of el.setup.querySelectorAll('input[name="practice"]')) {
      input.checked = input.value === s.choice.practice;
    }
    for (const input of el.setup.querySelectorAll('input[name="minutes"]')) {
      input.checked = Number(input.value) === s.choice.minutes;
    }
    const minutes = (m) => formatNumber(m, Number.isInteger(m) ? 0 : 1);
    const stepMinutes = Math.round((s.resonanceMinutes / 5) * 10) / 10; // five paces
    setText(el.resonanceHint, `About ${minutes(s.resonanceMinutes)} minutes: ${minutes(stepMinutes)} minutes at each of five slow paces, from 6.5 down to 4.5 breaths a minute. Afterwards your sessions start at the pace that suits you best.`);
    if (el.voice.value !== s.prefs.voice) el.voice.value = s.prefs.voice;
  }

  /** Which parts show: setup, practice or end; buttons; the guide's controls. */
  renderLayout(s) {
    const el = this.el;
    const phase = s.session.phase;
    const leadIn = s.leadInEndsMs !== null;
    setText(el.phaseLabel, leadIn ? "Settling in" : (PHASE_LABELS[phase] ?? "Session"));
    const view = viewOf(s);
    el.start.disabled = !s.online || phase !== "ready" || leadIn || s.server?.source === "none";
    el.stop.disabled = !s.online || phase !== "running" || s.stopSentMs !== null;
    // One button at a time: Start to begin, Stop during the practice, New session at the end.
    el.start.hidden = view !== "setup";
    el.stop.hidden = view !== "practice";
    el.newSession.hidden = view !== "end";
    el.newSession.disabled = !s.online || s.newSessionSent;
    el.setup.hidden = view !== "setup";
    for (const input of el.setup.querySelectorAll("input")) input.disabled = leadIn;
    // Before-ratings are offered until the start; during the practice nothing asks for input.
    el.before.hidden = view !== "setup";
    el.after.hidden = phase !== "ended";
    el.summary.hidden = view !== "end" || s.summary === null;
    const practice = currentPractice(s);
    const isGuided = PRACTICES[practice]?.guide ?? true;
    el.guideBox.hidden = isGuided || phase === "ended";
    if (el.guide.checked !== s.guideChecked) el.guide.checked = s.guideChecked;
    const guide = guideOn(s);
    this.trace.showBands = guide;
    el.traceBands.hidden = !guide;
    // Find your breathing rate: a fixed length, and the server sets the pace step by step.
    const resonance = isResonance(practice);
    const paceHidden = !guide || (resonance && phase !== "ready" && phase !== null);
    el.rate.closest(".rate").hidden = paceHidden;
    el.ratio.hidden = paceHidden;
    el.ratio.labels[0].hidden = paceHidden;
    el.pacerHelp.hidden = !guide;
    if (document.body.dataset.view !== view) {
      // On a change the page goes back to its top, where the circle is (phones) or from where
      // it stays pinned (laptops).
      document.body.dataset.view = view;
      if (view !== "setup") window.scrollTo({ top: 0, behavior: "instant" });
    }
    setData(document.body, "practice", practice);
    setData(document.body, "phase", phase ?? "");
    el.minutes.hidden = resonance;
    el.lengthHint.hidden = resonance;
    el.resonanceHint.hidden = !resonance;
    el.resonance.hidden = !(resonance && s.resonance !== null && phase !== "ready");
  }

  renderTimer(s) {
    const elapsed = elapsedS(s);
    setText(this.el.timer, formatTimer(elapsed));
    setText(this.el.remaining, s.session.phase === "ended" ? "" : formatRemaining(plannedS(s), elapsed));
  }

  /** The cue line (state.js's `cueText`) and, while the circle rests, the pacer words. */
  renderCue(s) {
    const el = this.el;
    const phase = s.session.phase;
    if (s.leadInEndsMs !== null) {
      setText(el.words, `Settle in… ${Math.max(1, Math.ceil((s.leadInEndsMs - s.nowMs) / 1000))}`);
    } else if (phase === "ended") setText(el.words, "Session complete");
    else if (!guideOn(s)) setText(el.words, "Breathe naturally");
    setText(el.cue, cueText(s));
    setData(el.cue, "index", String(s.leadInEndsMs === null && phase === "running" ? s.cue.index : -1));
  }

  /** The ratings as the state holds them; a field the patient is using is left alone. */
  renderRatings(s) {
    for (const group of [this.el.before, this.el.after]) {
      const when = group.dataset.when;
      const { values, saved } = s.ratings[when];
      for (const field of group.querySelectorAll("[data-field]")) {
        if (field === document.activeElement) continue; // the patient is choosing right now
        const value = values[field.dataset.field];
        const text = value === null || value === undefined ? "" : String(value);
        if (field.value !== text) field.value = text;
      }
      setText(group.querySelector(".saved"), saved ? "Saved." : "");
    }
  }

  /** How it went: minutes, start against end, time in each coherence zone, what to try next. */
  renderSummary(s) {
    if (!this.#changed("summary", s.summary)) return;
    const sum = s.summary;
    if (!sum) return;
    const el = this.el;
    const name = (PRACTICES[sum.practice]?.name ?? "practice").toLowerCase();
    let lead = `You practised ${formatDuration(60 * (sum.minutes ?? 0))} of ${name}.`;
    if (!sum.completed && typeof sum.planned_minutes === "number") {
      lead += sum.ended_reason === "source_ended"
        ? ` The recording ended before the planned ${formatDuration(60 * sum.planned_minutes)}.`
        : ` You stopped before the planned ${formatDuration(60 * sum.planned_minutes)}, which is fine.`;
    }
    el.summaryLead.textContent = lead;
    const start = sum.start ?? {};
    const end = sum.end ?? {};
    const before = sum.ratings?.before ?? {};
    const after = sum.ratings?.after ?? {};
    const rows = [
      ["Heart rate", "bpm", formatNumber(start.mean_hr_bpm, 0), formatNumber(end.mean_hr_bpm, 0)],
      ["Variability (RMSSD)", "ms", formatNumber(start.rmssd_ms, 0), formatNumber(end.rmssd_ms, 0)],
      ["Relaxation", "50 = as at rest", formatNumber(start.relaxation, 0), formatNumber(end.relaxation, 0)],
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
    const zones = sum.zones_s ?? {};
    const total = ZONES.reduce((acc, z) => acc + (zones[z] ?? 0), 0);
    el.summaryZones.hidden = total <= 0;
    el.zoneBar.replaceChildren(...ZONES.map((z) => {
      const part = document.createElement("span");
      part.dataset.zone = z;
      part.style.flexGrow = String(zones[z] ?? 0);
      return part;
    }));
    el.zonesText.textContent = ZONES.map((z) => `${z} ${formatTimer(zones[z] ?? 0)}`).join(" · ");
    const next = Array.isArray(sum.next) ? sum.next : [];
    el.summaryNext.replaceChildren(
      Object.assign(document.createElement("span"), { className: "label", textContent: "Next time" }),
      ...next.map((t) => Object.assign(document.createElement("span"), { className: "tip", textContent: t })),
    );
  }

  /** The step in progress and, at the end, each step's scores and the chosen rate. */
  renderResonance(s) {
    if (!this.#changed("resonance", s.resonance)) return;
    const msg = s.resonance;
    if (!msg) return;
    const el = this.el;
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

  /** The sources the patient's app offers (`hrvcalm app`). */
  renderSources(s) {
    const src = s.sources;
    if (src === null) return;
    const el = this.el;
    el.sourceBox.hidden = false;
    if (document.activeElement !== el.sourceChoice && this.#changed("sources", src)) {
      const options = [new Option("Choose…", "")];
      for (const c of src.choices) options.push(new Option(c.label, c.id));
      el.sourceChoice.replaceChildren(...options);
      el.sourceChoice.value = src.current;
    }
    el.scan.hidden = !src.canScan;
    el.scan.disabled = src.scanning;
    setText(el.scan, src.scanning ? "Looking for straps…" : "Look for straps");
  }

  renderSound(s) {
    const el = this.el;
    setAttr(el.sound, "aria-pressed", String(s.sound.enabled));
    setText(el.sound, s.sound.enabled ? "Sound on" : "Sound off");
    if (s.sound.cues !== null) setData(el.sound, "cues", String(s.sound.cues));
    el.speech.hidden = !s.speech.supported;
    setAttr(el.speech, "aria-pressed", String(s.speech.enabled));
    setText(el.speech, s.speech.enabled ? "Spoken guidance on" : "Spoken guidance off");
  }

  renderErrors(s) {
    if (!this.#changed("errors", s.errors)) return;
    this.el.errors.replaceChildren(...s.errors.map((e) => Object.assign(document.createElement("p"), { textContent: e.text })));
  }
}
