// The heart-rate trace of the last TRACE_S seconds, drawn on a canvas over the pacer's
// in-breaths (shaded bands), so the patient can see the heart rise with each in-breath and
// fall with each out-breath (respiratory sinus arrhythmia).
//
// Beats carry `t_s` on the session clock; the pacer runs on wall-clock (Unix) time. The
// trace maps one onto the other with the latest beat as anchor:
//   unix_s(t_s) = anchor.unix_s + (t_s - anchor.t_s) / speed
// and keeps a short history of pacer settings so that bands before a rate change stay true.

import { breathPhase } from "./pacer.js";

export const TRACE_S = 90;
const MAX_BEATS = 600;
const MIN_SPAN_BPM = 10;
/** Time marks along the bottom, seconds before now. */
const TIME_TICKS_S = [60, 30];

export class HeartTrace {
  /** @param {HTMLCanvasElement} canvas */
  constructor(canvas) {
    this.canvas = canvas;
    this.beats = []; // {tS, hr, artifact}
    this.anchor = null; // {tS, unixS}
    this.speed = 1;
    this.pacers = []; // {fromUnixS, pacer} in time order
    this.showBands = true;
  }

  reset() {
    this.beats = [];
    this.anchor = null;
  }

  addBeat(tS, hrBpm, artifact) {
    const last = this.beats.at(-1);
    if (last && tS <= last.tS) {
      if (tS < last.tS - 5) this.reset(); // a new session (server restarted): start afresh
      else return; // a beat we already have (replayed on reconnect)
    }
    this.beats.push({ tS, hr: hrBpm, artifact: Boolean(artifact) });
    if (this.beats.length > MAX_BEATS) this.beats.splice(0, this.beats.length - MAX_BEATS);
    this.anchor = { tS, unixS: Date.now() / 1000 };
  }

  setPacer(pacer) {
    const nowS = Date.now() / 1000;
    this.pacers.push({ fromUnixS: nowS, pacer });
    this.pacers = this.pacers.filter((p, i, all) => i === all.length - 1 || all[i + 1].fromUnixS > nowS - 3 * TRACE_S);
  }

  #pacerAt(unixS) {
    let found = this.pacers[0]?.pacer ?? null;
    for (const p of this.pacers) if (p.fromUnixS <= unixS) found = p.pacer;
    return found;
  }

  /** Redraw; returns the number of beats drawn (also set as data-points on the canvas). */
  draw() {
    const canvas = this.canvas;
    const ratio = window.devicePixelRatio || 1;
    const cssW = canvas.clientWidth || 300;
    const cssH = canvas.clientHeight || 120;
    if (canvas.width !== Math.round(cssW * ratio) || canvas.height !== Math.round(cssH * ratio)) {
      canvas.width = Math.round(cssW * ratio);
      canvas.height = Math.round(cssH * ratio);
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, cssW, cssH);
    const style = getComputedStyle(canvas);
    const colour = (name, fallback) => style.getPropertyValue(name).trim() || fallback;

    if (this.anchor === null || this.beats.length === 0) {
      canvas.dataset.points = "0";
      return 0;
    }
    const nowT = this.anchor.tS + (Date.now() / 1000 - this.anchor.unixS) * this.speed;
    const endT = Math.max(nowT, this.anchor.tS);
    const startT = endT - TRACE_S;
    const x = (t) => ((t - startT) / TRACE_S) * cssW;
    const unixOf = (t) => this.anchor.unixS + (t - this.anchor.tS) / this.speed;

    // In-breath bands from the pacer, on the trace's time axis.
    if (this.showBands) {
      ctx.fillStyle = colour("--trace-band", "rgba(95,156,148,0.16)");
      const stepT = Math.max(0.05, TRACE_S / cssW);
      let bandStart = null;
      for (let t = startT; t <= endT + stepT; t += stepT) {
        const pacer = this.#pacerAt(unixOf(t));
        const inhale = pacer !== null && breathPhase(unixOf(t), pacer).phase === "inhale";
        if (inhale && bandStart === null) bandStart = t;
        if ((!inhale || t > endT) && bandStart !== null) {
          ctx.fillRect(x(bandStart), 0, x(t) - x(bandStart), cssH);
          bandStart = null;
        }
      }
    }

    const visible = this.beats.filter((b) => b.tS >= startT && !b.artifact);
    if (visible.length === 0) {
      canvas.dataset.points = "0";
      return 0;
    }
    let lo = Math.min(...visible.map((b) => b.hr));
    let hi = Math.max(...visible.map((b) => b.hr));
    if (hi - lo < MIN_SPAN_BPM) {
      const mid = (hi + lo) / 2;
      lo = mid - MIN_SPAN_BPM / 2;
      hi = mid + MIN_SPAN_BPM / 2;
    }
    const pad = 16; // room for the labels above and below the line
    const y = (hr) => pad + (1 - (hr - lo) / (hi - lo)) * (cssH - 2 * pad);

    ctx.strokeStyle = colour("--trace-line", "#467d76");
    ctx.lineWidth = 2;
    ctx.lineJoin = "round";
    ctx.beginPath();
    visible.forEach((b, i) => (i === 0 ? ctx.moveTo(x(b.tS), y(b.hr)) : ctx.lineTo(x(b.tS), y(b.hr))));
    ctx.stroke();

    // Axis labels with their units: heart rate (bpm) at the top and bottom of the scale,
    // time (s before now) along the bottom.
    ctx.fillStyle = colour("--trace-text", "#56666c");
    ctx.font = "12px system-ui, sans-serif";
    ctx.textBaseline = "top";
    ctx.textAlign = "left";
    ctx.fillText(`${Math.round(hi)} bpm`, 4, 2);
    ctx.textBaseline = "bottom";
    ctx.fillText(`${Math.round(lo)} bpm`, 4, cssH - 2);
    ctx.textAlign = "center";
    for (const ago of TIME_TICKS_S) ctx.fillText(`\u2212${ago} s`, x(endT - ago), cssH - 2);
    ctx.textAlign = "right";
    ctx.fillText("now", cssW - 4, cssH - 2);
    ctx.textAlign = "left";

    canvas.dataset.points = String(visible.length);
    return visible.length;
  }
}

