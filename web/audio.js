// Sound cues through the Web Audio API, so the breath can be followed with eyes closed.
//
// Two voices:
//   "tone"  - a soft sine whose pitch glides up through the in-breath and down through the
//             out-breath (196 Hz <-> 294 Hz, a fifth), fading in and out at each turn;
//   "chime" - a short bell-like ping at each turn, higher for "in", lower for "out".
// `bell()` marks a new instruction and the end of a session.
//
// Cues are scheduled ahead on the audio clock (HORIZON_S), from the same phase model as the
// circle (pacer.js), not from animation frames: so they stay on time when the screen dims or
// the tab is in the background, where animation frames stop. Unix time maps to audio time as
//   audio_s = ctx.currentTime + (unix_s - Date.now() / 1000), measured at each planning step.
// The AudioContext is created on the first user gesture (browsers block sound before one).

import { phaseDurations } from "./pacer.js";

const LOW_HZ = 196;
const HIGH_HZ = 294;
const TONE_GAIN = 0.07;
const CHIME_GAIN = 0.12;
const HORIZON_S = 8;
const PLAN_EVERY_MS = 500;

export class BreathSound {
  constructor() {
    this.ctx = null;
    this.enabled = false;
    this.voice = "tone";
    this.pacer = null;
    /** Breath cues played since the page loaded (a test hook, shown as data-cues). */
    this.count = 0;
    this.onCue = () => {};
    this.planned = []; // {startUnix, nodes: [{osc, gain}], timer}
    this.plannedUntil = null;
    setInterval(() => this.#plan(), PLAN_EVERY_MS);
  }

  /** Turn sound on or off; must be called from a user gesture the first time. */
  async setEnabled(on) {
    this.enabled = on;
    if (on) {
      if (this.ctx === null) {
        const Ctx = window.AudioContext ?? window.webkitAudioContext;
        if (!Ctx) throw new Error("This browser cannot play sound (no Web Audio).");
        this.ctx = new Ctx();
      }
      if (this.ctx.state === "suspended") await this.ctx.resume();
      this.#replan();
    } else {
      this.#cancel();
      if (this.ctx !== null && this.ctx.state === "running") await this.ctx.suspend();
    }
  }

  setVoice(voice) {
    const next = voice === "chime" ? "chime" : "tone";
    if (next === this.voice) return;
    this.voice = next;
    this.#replan();
  }

  /** The pacer to follow, or null for no breath cues (guide off, lead-in, session over). */
  setPacer(pacer) {
    const same = (a, b) => a === b || (a !== null && b !== null
      && a.rateBpm === b.rateBpm && a.inhaleRatio === b.inhaleRatio && a.t0S === b.t0S);
    if (same(pacer, this.pacer)) return;
    this.pacer = pacer === null ? null : { ...pacer };
    this.#replan();
  }

  get running() {
    return this.enabled && this.ctx !== null && this.ctx.state === "running";
  }

  /** A soft two-note bell: a new instruction, or the end of the session. */
  bell() {
    if (!this.running) return;
    const t = this.ctx.currentTime + 0.02;
    this.#ping(t, 528, 2.5, CHIME_GAIN * 0.8);
    this.#ping(t + 0.05, 792, 2.0, CHIME_GAIN * 0.4);
  }

  #replan() {
    this.#cancel();
    this.#plan();
  }

  /** Stop everything planned; a glide already sounding fades out quickly. */
  #cancel() {
    const now = this.ctx?.currentTime ?? 0;
    for (const item of this.planned) {
      clearTimeout(item.timer);
      for (const { osc, gain } of item.nodes) {
        gain.gain.cancelScheduledValues(now);
        gain.gain.setTargetAtTime(0.0001, now, 0.06);
        try {
          osc.stop(now + 0.4);
        } catch {
          // already stopped
        }
      }
    }
    this.planned = [];
    this.plannedUntil = null;
  }

  /** Schedule every turn of the breath from now (or the last planned one) to the horizon. */
  #plan() {
    if (!this.running || this.pacer === null) return;
    const nowUnix = Date.now() / 1000;
    this.planned = this.planned.filter((p) => p.endUnix > nowUnix);
    const toAudio = this.ctx.currentTime - nowUnix;
    const { cycleS, inhaleS, exhaleS } = phaseDurations(this.pacer);
    const from = this.plannedUntil ?? nowUnix;
    let k = Math.floor((from - this.pacer.t0S) / cycleS);
    for (;;) {
      const cycleStart = this.pacer.t0S + k * cycleS;
      if (cycleStart > nowUnix + HORIZON_S) break;
      for (const [phase, start, length] of [
        ["inhale", cycleStart, inhaleS],
        ["exhale", cycleStart + inhaleS, exhaleS],
      ]) {
        if (start < from - 0.3 || start < nowUnix - 0.3 || start > nowUnix + HORIZON_S) continue;
        if (this.plannedUntil !== null && start <= this.plannedUntil + 1e-6) continue;
        this.#schedule(phase, start, length, toAudio);
        this.plannedUntil = start;
      }
      k += 1;
    }
  }

  #schedule(phase, startUnix, lengthS, toAudio) {
    // Start early by the output latency, so the sound is heard at the turn itself.
    const latencyS = this.ctx.outputLatency || this.ctx.baseLatency || 0;
    const t = Math.max(this.ctx.currentTime, startUnix + toAudio - latencyS);
    const nodes = this.voice === "chime"
      ? this.#ping(t, phase === "inhale" ? 660 : 440, 1.6, CHIME_GAIN)
      : this.#glide(t, phase, lengthS);
    const timer = setTimeout(() => {
      this.count += 1;
      this.onCue(this.count, phase);
    }, Math.max(0, (startUnix - Date.now() / 1000) * 1000));
    this.planned.push({ startUnix, endUnix: startUnix + lengthS, nodes, timer });
  }

  #glide(t, phase, lengthS) {
    const ctx = this.ctx;
    const end = t + Math.max(0.5, lengthS);
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = "sine";
    const [from, to] = phase === "inhale" ? [LOW_HZ, HIGH_HZ] : [HIGH_HZ, LOW_HZ];
    osc.frequency.setValueAtTime(from, t);
    osc.frequency.linearRampToValueAtTime(to, end);
    const fade = Math.min(0.8, (end - t) / 3);
    gain.gain.setValueAtTime(0.0001, t);
    gain.gain.exponentialRampToValueAtTime(TONE_GAIN, t + fade);
    gain.gain.setValueAtTime(TONE_GAIN, end - fade);
    gain.gain.exponentialRampToValueAtTime(0.0001, end);
    osc.connect(gain).connect(ctx.destination);
    osc.start(t);
    osc.stop(end + 0.05);
    return [{ osc, gain }];
  }

  #ping(t, hz, decayS, peak) {
    const ctx = this.ctx;
    const nodes = [];
    for (const [mult, level] of [[1, 1], [2.76, 0.25]]) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = "sine";
      osc.frequency.setValueAtTime(hz * mult, t);
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(peak * level, t + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + decayS / mult);
      osc.connect(gain).connect(ctx.destination);
      osc.start(t);
      osc.stop(t + decayS + 0.05);
      nodes.push({ osc, gain });
    }
    return nodes;
  }
}
