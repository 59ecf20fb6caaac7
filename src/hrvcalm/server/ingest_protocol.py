"""The ``/ingest`` wire protocol: a relay streams one strap's notifications to a central server.

Every frame is a JSON object with a ``type``. Relay to server, in this order:

- ``relay_hello``: ``{"type": "relay_hello", "protocol": 2, "name": "Polar H10 1234",
  "source": "ble:auto", "patient": "Ann B.", "resume": "SESSION-ID" | null, "first_seq": 0,
  "clock_s": 12.3, "speed": 1.0}`` - first on every connection. ``patient`` names the
  patient (optional); ``resume`` is the session of an earlier connection of this relay (the
  server continues that session when it is still live); ``first_seq`` is the lowest sequence
  number the relay will send on this connection; ``clock_s`` the relay's source clock now, s,
  and ``speed`` its playback speed (``null``: as fast as possible) - together they bound how
  far in the future an ``arrival_s`` may lie.
- ``rr``: ``{"type": "rr", "seq": 7, "arrival_s": 12.3, "rr_ms": [1001.95], "hr_bpm": 60,
  "contact": true}`` - one strap notification; ``arrival_s`` on the relay's source clock
  (seconds since the source started), ``rr_ms`` oldest first (at most 20 values).
- ``device``: ``{"type": "device", "seq": 8, "state": "lost", "battery_pct": 80,
  "contact": null, "at_s": 61.0}`` - a link state change.
- ``end``: ``{"type": "end", "seq": 9}`` - the source ended (a recording ran out); the session
  ends.

``seq`` numbers the relay's frames 0, 1, 2, ... over the whole run of the relay (across
reconnections); it is optional (protocol 1 relays send none, and their frames are taken as
they come).

Server to relay: ``{"type": "ingest_ok", "session": "ID", "watch_path": "/?session=ID",
"resumed": false, "ack": 41 | null}`` after the hello (``ack``: the highest sequence number
of this session already taken, so the relay resends only what follows), then
``{"type": "ack", "seq": N}`` whenever the frames up to ``N`` have all been taken (applied, or
skipped as invalid), and ``{"type": "error", "message": ...}`` for an invalid frame (the frame
is skipped and counted; the stream goes on).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from hrvcalm.events import Contact, DeviceState, DeviceStatus, RRNotification

INGEST_PROTOCOL_VERSION = 2
#: Protocol versions a server accepts (1: no sequence numbers, no resume).
ACCEPTED_VERSIONS = (1, 2)
#: Largest sequence number (a relay sending one frame a millisecond runs for 285 years).
MAX_SEQ = 2**53
#: Longest patient name, characters.
MAX_PATIENT_CHARS = 100
MAX_RR_PER_FRAME = 20
#: The largest RR a strap can send: uint16 in 1/1024 s.
MAX_RR_MS = 65535 * 1000 / 1024


class IngestError(ValueError):
    """An ingest frame that is not valid; ``str(err)`` goes back to the relay.

    Attributes:
        seq: The frame's sequence number when it could be read, so that the server can
            acknowledge (skip) an invalid frame instead of waiting for it forever.
    """

    def __init__(self, message: str, seq: int | None = None) -> None:
        super().__init__(message)
        self.seq = seq


@dataclass(frozen=True, slots=True)
class RelayHello:
    """First frame of a relay connection: who is streaming, and where to resume.

    Attributes:
        name: The strap's name.
        source: The relay's source spec.
        patient: The patient's name (``None``: not given).
        resume: The session of this relay's earlier connection, to continue.
        first_seq: The lowest sequence number the relay sends next (``None``: protocol 1).
        clock_s: The relay's source clock when it said hello, s.
        speed: The relay source's playback speed (``None``: as fast as possible).
    """

    name: str
    source: str
    patient: str | None = None
    resume: str | None = None
    first_seq: int | None = None
    clock_s: float | None = None
    speed: float | None = 1.0


@dataclass(frozen=True, slots=True)
class IngestOk:
    """The server's answer to a hello.

    Attributes:
        session: The session's id on the server.
        resumed: The server continued the session named in the hello's ``resume``.
        ack: The highest sequence number the server has taken in this session.
    """

    session: str
    resumed: bool = False
    ack: int | None = None


@dataclass(frozen=True, slots=True)
class End:
    """The relay's source ended."""


IngestFrame = RelayHello | RRNotification | DeviceStatus | End


def _contact(value: Any) -> Contact:
    if value is None:
        return Contact.UNSUPPORTED
    if isinstance(value, bool):
        return Contact.DETECTED if value else Contact.NOT_DETECTED
    raise IngestError(f"contact must be true, false or null, got {value!r}")


def _finite(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise IngestError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def _optional_int(value: Any, name: str, low: int, high: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise IngestError(f"{name} must be a whole number {low}-{high} or null, got {value!r}")
    return value


def _seq(value: Any, name: str = "seq") -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEQ:
        raise IngestError(f"{name} must be a whole number 0-{MAX_SEQ} or null, got {value!r}")
    return value


def _load(text: str | bytes) -> dict[str, Any]:
    try:
        payload = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise IngestError(f"frame is not valid JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise IngestError("frame must be a JSON object with a 'type'")
    return payload


def parse_frame(text: str | bytes, device_name: str = "relay") -> IngestFrame:
    """Parse and validate one relay frame (see :func:`parse_sequenced` for its ``seq``).

    Raises:
        IngestError: Not JSON, unknown type, or a field out of range.
    """
    return parse_sequenced(text, device_name)[1]


def parse_sequenced(
    text: str | bytes, device_name: str = "relay"
) -> tuple[int | None, IngestFrame]:
    """Parse and validate one relay frame; returns its sequence number and the frame.

    Raises:
        IngestError: Not JSON, unknown type, or a field out of range (with the frame's
            ``seq`` when that much was readable).
    """
    payload = _load(text)
    seq = _seq(payload.get("seq"))
    try:
        return seq, _frame(payload, device_name)
    except IngestError as exc:
        raise IngestError(str(exc), seq) from None


def _frame(payload: dict[str, Any], device_name: str) -> IngestFrame:
    kind = payload.get("type")
    if kind == "rr":
        rr = payload.get("rr_ms")
        if not isinstance(rr, list) or len(rr) > MAX_RR_PER_FRAME:
            raise IngestError(f"rr_ms must be a list of at most {MAX_RR_PER_FRAME} numbers")
        values = tuple(_finite(v, "rr_ms value") for v in rr)
        if any(not 0 <= v <= MAX_RR_MS for v in values):
            raise IngestError(f"rr_ms values must be between 0 and {MAX_RR_MS:.0f} ms")
        return RRNotification(
            arrival_s=_finite(payload.get("arrival_s"), "arrival_s"),
            rr_ms=values,
            hr_bpm=_optional_int(payload.get("hr_bpm"), "hr_bpm", 0, 65535),
            contact=_contact(payload.get("contact")),
        )
    if kind == "device":
        try:
            state = DeviceState(payload.get("state"))
        except ValueError:
            raise IngestError(f"unknown device state {payload.get('state')!r}") from None
        at = payload.get("at_s")
        return DeviceStatus(
            state=state,
            name=device_name,
            battery_pct=_optional_int(payload.get("battery_pct"), "battery_pct", 0, 100),
            contact=_contact(payload.get("contact")),
            at_s=None if at is None else _finite(at, "at_s"),
        )
    if kind == "relay_hello":
        return _hello(payload)
    if kind == "end":
        return End()
    raise IngestError(f"unknown frame type {kind!r}")


def _optional_text(value: Any, name: str, max_len: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not 0 < len(value.strip()) <= max_len:
        raise IngestError(f"{name} must be text of 1-{max_len} characters or null")
    return value.strip()


def _hello(payload: dict[str, Any]) -> RelayHello:
    if payload.get("protocol") not in ACCEPTED_VERSIONS:
        raise IngestError(
            f"this server speaks ingest protocol {INGEST_PROTOCOL_VERSION}, "
            f"the relay {payload.get('protocol')!r}"
        )
    name, source = payload.get("name"), payload.get("source")
    if not isinstance(name, str) or not isinstance(source, str) or len(name) > 200:
        raise IngestError("relay_hello needs a name and a source (text)")
    clock = payload.get("clock_s")
    speed = payload.get("speed", 1.0)
    speed_value = None if speed is None else _finite(speed, "speed")
    if speed_value is not None and speed_value <= 0:
        raise IngestError("speed must be positive or null")
    return RelayHello(
        name=name,
        source=source[:500],
        patient=_optional_text(payload.get("patient"), "patient", MAX_PATIENT_CHARS),
        resume=_optional_text(payload.get("resume"), "resume", 64),
        first_seq=_seq(payload.get("first_seq"), "first_seq"),
        clock_s=None if clock is None else _finite(clock, "clock_s"),
        speed=speed_value,
    )


def parse_ingest_ok(text: str | bytes) -> IngestOk:
    """Parse the server's answer to a hello (on the relay's side).

    Raises:
        IngestError: Not JSON, not an ``ingest_ok``, or without a session id.
    """
    payload = _load(text)
    if payload.get("type") != "ingest_ok":
        raise IngestError(f"expected ingest_ok, got {str(payload)[:200]}")
    session = payload.get("session")
    if not isinstance(session, str) or not 0 < len(session) <= 64:
        raise IngestError("ingest_ok without a session id")
    resumed = payload.get("resumed", False)
    return IngestOk(session=session, resumed=resumed is True, ack=_seq(payload.get("ack"), "ack"))


def parse_server_frame(text: str | bytes) -> tuple[str, int | None, str]:
    """A server frame after ``ingest_ok``: its type, ``ack``'s seq, ``error``'s message.

    Raises:
        IngestError: Not a JSON object with a ``type``, or an ``ack`` without a valid seq.
    """
    payload = _load(text)
    kind = payload.get("type")
    if not isinstance(kind, str):
        raise IngestError("server frame without a type")
    if kind == "ack":
        seq = _seq(payload.get("seq"))
        if seq is None:
            raise IngestError("ack without a seq")
        return kind, seq, ""
    return kind, None, str(payload.get("message", ""))[:500]


def encode_ingest_ok(session: str, *, resumed: bool, ack: int | None) -> str:
    """The server's answer to a hello."""
    return json.dumps(
        {
            "type": "ingest_ok",
            "session": session,
            "watch_path": f"/?session={session}",
            "resumed": resumed,
            "ack": ack,
        }
    )


def encode_ack(seq: int) -> str:
    """The server's acknowledgement of every frame up to ``seq``."""
    return f'{{"type":"ack","seq":{seq}}}'


def encode_end(seq: int | None = None) -> str:
    """The relay's last frame."""
    return json.dumps({"type": "end"} if seq is None else {"type": "end", "seq": seq})


def encode_event(event: RRNotification | DeviceStatus, seq: int | None = None) -> str:
    """The frame a relay sends for a source event (numbered ``seq`` when given)."""
    if isinstance(event, RRNotification):
        payload: dict[str, Any] = {
            "type": "rr",
            "arrival_s": event.arrival_s,
            "rr_ms": list(event.rr_ms),
            "hr_bpm": event.hr_bpm,
            "contact": event.contact.as_json(),
        }
    else:
        payload = {
            "type": "device",
            "state": event.state.value,
            "battery_pct": event.battery_pct,
            "contact": event.contact.as_json(),
            "at_s": event.at_s,
        }
    if seq is not None:
        payload["seq"] = seq
    return json.dumps(payload, separators=(",", ":"), allow_nan=False)


def encode_hello(
    name: str,
    source: str,
    *,
    patient: str | None = None,
    resume: str | None = None,
    first_seq: int | None = None,
    clock_s: float | None = None,
    speed: float | None = 1.0,
) -> str:
    """The relay's first frame on every connection."""
    finite_speed = speed if speed is not None and math.isfinite(speed) else None
    return json.dumps(
        {
            "type": "relay_hello",
            "protocol": INGEST_PROTOCOL_VERSION,
            "name": name,
            "source": source,
            "patient": patient,
            "resume": resume,
            "first_seq": first_seq,
            "clock_s": clock_s,
            "speed": finite_speed,
        },
        allow_nan=False,
    )


# -- the server's side of one relayed session (sans-I/O) -----------------------------------

#: Frames a server holds that arrived ahead of a missing one (a relay resends the rest).
MAX_HELD_FRAMES = 4096
#: An ``arrival_s`` may lie this far ahead of the relay's clock as its hello announced it, s.
FUTURE_SLACK_S = 30.0
#: No session clock reads more than this, s (a clinic session lasts minutes to hours).
MAX_SESSION_CLOCK_S = 86_400.0


class Sequencer:
    """Puts a relay's numbered frames in order, exactly once, across its reconnections.

    Rules:

    1. A frame without ``seq`` (protocol 1) is taken as it comes.
    2. The first hello of a session sets the next expected number to its ``first_seq``;
       a later hello (a resumed connection) whose ``first_seq`` lies beyond the next
       expected number means the relay dropped frames (its backlog overflowed): the
       numbers in between are counted as ``lost`` and skipped.
    3. A frame numbered below the next expected one was taken before: it is a duplicate,
       counted and ignored.
    4. The next expected frame is taken, then every held frame that now follows in order.
    5. A frame numbered beyond the next expected one is held (at most
       :data:`MAX_HELD_FRAMES`; beyond that it is dropped and the relay resends it).

    :attr:`ack` is the highest number up to which every frame has been taken.
    """

    def __init__(self) -> None:
        self.next_seq: int | None = None
        self.duplicates = 0
        self.lost = 0
        self.dropped_ahead = 0
        self._held: dict[int, IngestFrame] = {}

    @property
    def ack(self) -> int | None:
        """Every frame numbered up to this one has been taken (``None``: none yet)."""
        return None if self.next_seq is None or self.next_seq == 0 else self.next_seq - 1

    def on_hello(self, first_seq: int | None) -> None:
        """A relay connection said hello (rule 2)."""
        if first_seq is None:
            return
        if self.next_seq is None:
            self.next_seq = first_seq
        elif first_seq > self.next_seq:
            self.lost += first_seq - self.next_seq
            self._held = {s: f for s, f in self._held.items() if s >= first_seq}
            self.next_seq = first_seq

    def push(self, seq: int | None, frame: IngestFrame) -> list[IngestFrame]:
        """One received frame; returns the frames to take now, in order."""
        if seq is None:
            return [frame]
        if self.next_seq is None:  # numbered frames without a numbered hello: start here
            self.next_seq = seq
        if seq < self.next_seq or seq in self._held:
            self.duplicates += 1
            return []
        if seq > self.next_seq:
            if len(self._held) >= MAX_HELD_FRAMES:
                self.dropped_ahead += 1
            else:
                self._held[seq] = frame
            return []
        self.next_seq += 1
        return [frame, *self._release()]

    def skip(self, seq: int | None) -> list[IngestFrame]:
        """An invalid frame numbered ``seq`` counts as taken without being applied; returns
        the held frames that now follow in order."""
        if seq is None or self.next_seq is None or seq != self.next_seq:
            return []
        self.next_seq += 1
        return self._release()

    def _release(self) -> list[IngestFrame]:
        assert self.next_seq is not None
        out = []
        while self.next_seq in self._held:
            out.append(self._held.pop(self.next_seq))
            self.next_seq += 1
        return out


class ArrivalCheck:
    """Rejects notification times that would corrupt the session's beat times.

    Rules:

    1. An ``arrival_s`` before the latest accepted one is rejected (out of order).
    2. An ``arrival_s`` above :data:`MAX_SESSION_CLOCK_S` is rejected.
    3. Once a hello gave the relay's clock (``clock_s`` at the server's time ``now_s``) and a
       finite speed, an ``arrival_s`` beyond ``clock_s + (now - now_s) * speed +
       FUTURE_SLACK_S`` is rejected (a time from the future). A relay replaying as fast as
       possible (``speed`` null) is bound by rule 2 only.
    """

    def __init__(self) -> None:
        self.latest_s: float | None = None
        self._anchor: tuple[float, float, float] | None = None

    def on_hello(self, hello: RelayHello, now_s: float) -> None:
        """Take the relay's clock from its hello (server time ``now_s``, monotonic s)."""
        if hello.clock_s is None or hello.speed is None:
            self._anchor = None
        else:
            self._anchor = (hello.clock_s, now_s, hello.speed)

    def check(self, arrival_s: float, now_s: float) -> str | None:
        """``None`` if the time is acceptable (and remember it), else why not."""
        if self.latest_s is not None and arrival_s < self.latest_s:
            return f"arrival_s {arrival_s:g} is before the previous frame's {self.latest_s:g}"
        limit = MAX_SESSION_CLOCK_S
        if self._anchor is not None:
            clock_s, at_s, speed = self._anchor
            limit = min(limit, clock_s + max(0.0, now_s - at_s) * speed + FUTURE_SLACK_S)
        if arrival_s > limit:
            return f"arrival_s {arrival_s:g} lies in the future (at most {limit:.1f} now)"
        self.latest_s = arrival_s
        return None
