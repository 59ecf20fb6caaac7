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
