// Pure text formatting for the page's live values. No DOM access here.

export const DASH = "—";

/** A number with `digits` decimals, or a dash for null / undefined / non-finite. */
export function formatNumber(value, digits) {
  return typeof value === "number" && Number.isFinite(value) ? value.toFixed(digits) : DASH;
}

/** Seconds as mm:ss (minutes keep counting past 59). */
export function formatTimer(seconds) {
  const s = Math.max(0, Math.floor(typeof seconds === "number" && Number.isFinite(seconds) ? seconds : 0));
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

/** "6.0 breaths/min" */
export function formatRate(rateBpm) {
  return `${Number(rateBpm).toFixed(1)} breaths/min`;
}

/**
 * The device line and its tone ("ok" | "warn" | "bad" | "idle") from a `device` message.
 */
export function describeDevice(msg) {
  switch (msg.state) {
    case "connected": {
      if (msg.contact === false) {
        return { text: `Strap connected · ${msg.name ?? "strap"} · no skin contact`, tone: "warn" };
      }
      const parts = ["Strap connected"];
      if (msg.name) parts.push(msg.name);
      if (typeof msg.battery_pct === "number") parts.push(`battery ${Math.round(msg.battery_pct)}%`);
      return { text: parts.join(" · "), tone: "ok" };
    }
    case "connecting":
      return { text: "connecting…", tone: "idle" };
    case "lost":
      return { text: "signal lost", tone: "bad" };
    case "reconnecting":
      return { text: "reconnecting…", tone: "warn" };
    default:
      return { text: String(msg.state ?? "unknown"), tone: "idle" };
  }
}

/** "4:05 left" from the planned length and the time elapsed, s ("" without a length). */
export function formatRemaining(durationS, elapsedS) {
  if (typeof durationS !== "number" || !Number.isFinite(durationS)) return "";
  return `${formatTimer(Math.max(0, Math.ceil(durationS - elapsedS)))} left`;
}

/** The inhale:exhale choices offered, as inhale_ratio = inhale / exhale (1:2 is 0.5). */
export const RATIO_CHOICES = Object.freeze([
  { label: "1:1", exhale: 1 },
  { label: "1:1.25", exhale: 1.25 },
  { label: "1:1.5", exhale: 1.5 },
  { label: "1:1.75", exhale: 1.75 },
  { label: "1:2", exhale: 2 },
]);

/** The label of the choice nearest an inhale_ratio ("1:2" for 0.5). */
export function ratioLabel(inhaleRatio) {
  let best = RATIO_CHOICES[0];
  for (const c of RATIO_CHOICES) {
    if (Math.abs(1 / c.exhale - inhaleRatio) < Math.abs(1 / best.exhale - inhaleRatio)) best = c;
  }
  return best.label;
}

/** Coherence (HeartMath ratio, 0 upwards, unbounded) squashed onto 0-100 % for a meter. */
export function coherencePct(ratio) {
  if (typeof ratio !== "number" || !Number.isFinite(ratio) || ratio < 0) return 0;
  return (100 * ratio) / (ratio + 1);
}

/**
 * Coherence zones the page falls back on when a `metrics` message carries no `coherence_zone`
 * (docs/protocol.md): the ratio (peak / (total - peak))^2 is 1 when the breathing peak holds
 * half of the heart rhythm's power and 4 when it holds two thirds.
 */
export const COHERENCE_ZONE_LIMITS = Object.freeze({ medium: 0.9, high: 4.0 });
export const ZONES = Object.freeze(["low", "medium", "high"]);

/** "low" | "medium" | "high" | null: the server's zone, else the ratio against the limits. */
export function coherenceZone(msg) {
  if (ZONES.includes(msg.coherence_zone)) return msg.coherence_zone;
  const ratio = msg.coherence;
  if (typeof ratio !== "number" || !Number.isFinite(ratio)) return null;
  if (ratio >= COHERENCE_ZONE_LIMITS.high) return "high";
  return ratio >= COHERENCE_ZONE_LIMITS.medium ? "medium" : "low";
}

/** The relaxation value (50 = as relaxed as at rest before the practice) in plain words. */
export function relaxationWords(value) {
  if (typeof value !== "number" || !Number.isFinite(value)) return "";
  if (value >= 60) return "more relaxed than at rest";
  if (value > 53) return "a little more relaxed than at rest";
  if (value >= 47) return "about as relaxed as at rest";
  if (value > 40) return "a little less relaxed than at rest";
  return "less relaxed than at rest";
}

/**
 * "you: 5.8 / pacer: 6.0 per minute" (the measured rate next to the pacer's), "you: 5.8 per
 * minute" when no pacer is shown, or a dash when the rate cannot be read.
 */
export function breathingRateText(respRateBpm, pacerRateBpm) {
  if (typeof respRateBpm !== "number" || !Number.isFinite(respRateBpm)) return DASH;
  const you = `you: ${respRateBpm.toFixed(1)}`;
  if (typeof pacerRateBpm !== "number" || !Number.isFinite(pacerRateBpm)) return `${you} per minute`;
  return `${you} / pacer: ${pacerRateBpm.toFixed(1)} per minute`;
}

/** Seconds as "5 min", "4 min 32 s" or "45 s". */
export function formatDuration(seconds) {
  const s = Math.max(0, Math.round(typeof seconds === "number" && Number.isFinite(seconds) ? seconds : 0));
  const min = Math.floor(s / 60);
  const rest = s % 60;
  if (min === 0) return `${rest} s`;
  return rest === 0 ? `${min} min` : `${min} min ${rest} s`;
}

/** A 0-10 rating, or a dash when not given. */
export function formatScore(value) {
  return typeof value === "number" ? String(value) : DASH;
}
