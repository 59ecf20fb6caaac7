// Websocket client for the page: connects to /ws on the page's own host and port (with the
// watched ?session= on a clinic's watch page), parses JSON messages, and reconnects by itself
// with a backoff of 0.5 s doubling up to 5 s, except when the server says no practice runs
// there (close code NO_SESSION_CODE, `hrvcalm history`).

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 5000;
/** Close code of a server that runs no practice session (`hrvcalm history`): do not retry. */
export const NO_SESSION_CODE = 4404;

/**
 * The websocket address: same host and port as the page, path /ws. A clinic's watch page
 * (`/?session=ID`) watches that session: its socket is `/ws?session=ID`. The access token,
 * where one is needed, travels in the cookie the server set when the page was opened.
 */
export function socketUrl(loc = window.location) {
  const base = (loc.protocol === "https:" ? "wss://" : "ws://") + loc.host + "/ws";
  const session = new URLSearchParams(loc.search || "").get("session");
  return session ? `${base}?session=${encodeURIComponent(session)}` : base;
}

/** The delay before reconnect attempt `attempt` (0-based), in ms. */
export function backoffMs(attempt) {
  return Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** attempt);
}

/**
 * A self-reconnecting connection.
 *
 * @param {object} handlers
 * @param {(msg: object) => void} handlers.onMessage  Each parsed server message.
 * @param {(status: "connecting"|"open"|"reconnecting"|"no-session") => void} handlers.onStatus
 */
export class Connection {
  constructor({ onMessage, onStatus }) {
    this.onMessage = onMessage;
    this.onStatus = onStatus;
    this.socket = null;
    this.attempt = 0;
    this.timer = null;
  }

  start() {
    this.onStatus("connecting");
    this.#open();
  }

  /** Send a JSON message; returns false (and drops it) while disconnected. */
  send(message) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  get isOpen() {
    return this.socket !== null && this.socket.readyState === WebSocket.OPEN;
  }

  #open() {
    const socket = new WebSocket(socketUrl());
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.attempt = 0;
      this.onStatus("open");
    });
    socket.addEventListener("message", (event) => {
      let msg;
      try {
        msg = JSON.parse(event.data);
      } catch {
        return; // not JSON: ignore, like any unknown message
      }
      if (msg && typeof msg === "object" && typeof msg.type === "string") this.onMessage(msg);
    });
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (event.code === NO_SESSION_CODE) {
        this.onStatus("no-session");
        return;
      }
      this.onStatus("reconnecting");
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.#open(), backoffMs(this.attempt));
      this.attempt += 1;
    });
    // An "error" event is always followed by "close", which schedules the retry.
  }
}
