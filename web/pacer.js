// Breathing pacer: pure phase maths plus the animation loop that draws it.
//
// Phase model (all times in seconds):
//   cycle_s      = 60 / rate_bpm
//   inhale_s     = cycle_s * inhale_ratio / (1 + inhale_ratio)   (ratio = inhale / exhale)
//   position_s   = (now_s - t0_s) mod cycle_s                    (t0_s: a cycle started here)
//   inhale:  scale rises 0.5 -> 1.0 along a cosine ease-in-out
//   exhale:  scale falls 1.0 -> 0.5 along the same curve
// The server owns rate_bpm, inhale_ratio and t0_s (its `pacer` message), so every open page
// breathes in step. The same model is in src/hrvcalm/core/pacer.py.

export const MIN_SCALE = 0.5;
export const MAX_SCALE = 1.0;
/** The still size of the shape when the breathing guide is off. */
export const REST_SCALE = 0.62;

export const DEFAULT_PACER = Object.freeze({ rateBpm: 6.0, inhaleRatio: 1.0, t0S: 0 });

/** Cosine ease-in-out of a progress value in [0, 1]. */
export function easeInOut(progress) {
  return (1 - Math.cos(Math.PI * progress)) / 2;
}

/** Inhale and exhale durations in seconds. */
export function phaseDurations(pacer) {
  const cycleS = 60 / pacer.rateBpm;
  const inhaleS = (cycleS * pacer.inhaleRatio) / (1 + pacer.inhaleRatio);
  return { cycleS, inhaleS, exhaleS: cycleS - inhaleS };
}

/**
 * Where in the breath cycle we are at `nowS`.
 *
 * @param {number} nowS  Unix time in seconds (Date.now() / 1000).
 * @param {{rateBpm: number, inhaleRatio: number, t0S: number}} pacer
 * @returns {{phase: "inhale"|"exhale", progress: number, scale: number,
 *            secondsLeft: number, phaseS: number, cycleS: number}}
 *   progress: 0..1 through the current phase; secondsLeft: until the phase ends;
 *   phaseS: the whole length of the current phase.
 */
export function breathPhase(nowS, pacer) {
  const { cycleS, inhaleS, exhaleS } = phaseDurations(pacer);
  const positionS = (((nowS - pacer.t0S) % cycleS) + cycleS) % cycleS;
  const span = MAX_SCALE - MIN_SCALE;
  if (positionS < inhaleS) {
    const progress = positionS / inhaleS;
    return {
      phase: "inhale",
      progress,
      scale: MIN_SCALE + span * easeInOut(progress),
      secondsLeft: inhaleS - positionS,
      phaseS: inhaleS,
      cycleS,
    };
  }
  const progress = (positionS - inhaleS) / exhaleS;
  return {
    phase: "exhale",
    progress,
    scale: MAX_SCALE - span * easeInOut(progress),
    secondsLeft: cycleS - positionS,
    phaseS: exhaleS,
    cycleS,
  };
}

const WORDS = { inhale: "Breathe in", exhale: "Breathe out" };

/**
 * Animate `shape` every frame from the pacer settings returned by `getPacer()`.
 *
 * Sets `data-scale` and `data-phase` on the shape each frame (test hooks). With reduced
 * motion the shape does not scale: its opacity follows the breath instead. When
 * `getPacer()` returns null (guide off, or the lead-in) the shape rests and `words` are left
 * to the caller; `data-phase` is then "rest".
 *
 * @param {HTMLElement} shape  The breathing circle.
 * @param {HTMLElement} words  Where "Breathe in" / "Breathe out" is written.
 * @param {() => ({rateBpm: number, inhaleRatio: number, t0S: number} | null)} getPacer
 * @returns {() => void} A function that stops the loop.
 */
export function startPacer(shape, words, getPacer) {
  const reduced = window.matchMedia("(prefers-reduced-motion: reduce)");
  let lastPhase = null;
  let frame = 0;

  function paint(scale, phase) {
    shape.dataset.scale = scale.toFixed(4);
    shape.dataset.phase = phase;
    if (reduced.matches) {
      shape.style.transform = "";
      // 0.5..1.0 scale -> 0.35..1.0 opacity: a gentle glow instead of movement.
      shape.style.opacity = (0.35 + 1.3 * (scale - MIN_SCALE)).toFixed(3);
    } else {
      shape.style.transform = `scale(${scale.toFixed(4)})`;
      shape.style.opacity = "";
    }
  }

  function draw() {
    const pacer = getPacer();
    if (pacer === null) {
      paint(REST_SCALE, "rest");
      if (lastPhase !== "rest") {
        lastPhase = "rest";
        shape.classList.remove("inhale", "exhale");
      }
    } else {
      const state = breathPhase(Date.now() / 1000, pacer);
      paint(state.scale, state.phase);
      if (state.phase !== lastPhase) {
        lastPhase = state.phase;
        words.textContent = WORDS[state.phase];
        shape.classList.toggle("inhale", state.phase === "inhale");
        shape.classList.toggle("exhale", state.phase === "exhale");
      }
    }
    frame = requestAnimationFrame(draw);
  }

  frame = requestAnimationFrame(draw);
  return () => cancelAnimationFrame(frame);
}
