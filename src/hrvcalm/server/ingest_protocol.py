"""The ``/ingest`` wire protocol: a relay streams one strap's notifications to a central server.

Every frame is a JSON object with a ``type``. Relay to server, in this order:

- ``relay_hello``: ``{"type": "relay_hello", "protocol": 1, "name": "Polar H10 1234",
  "source": "ble:auto"}`` - once, first.
- ``rr``: ``{"type": "rr", "arrival_s": 12.3, "rr_ms": [1001.95], "hr_bpm": 60,
  "contact": true}`` - one strap notification; ``arrival_s`` on the relay's source clock
  (seconds since the source started), ``rr_ms`` oldest first (at most 20 values).
- ``device``: ``{"type": "device", "state": "lost", "battery_pct": 80, "contact": null,
  "at_s": 61.0}`` - a link state change.
- ``end``: the source ended (a recording ran out); the session ends.

Server to relay: ``{"type": "ingest_ok", "session": "ID", "watch_path": "/?session=ID"}``
after the hello, and ``{"type": "error", "message": ...}`` for an invalid frame (the frame is
skipped and counted; the stream goes on).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from hrvcalm.events import Contact, DeviceState, DeviceStatus, RRNotification

INGEST_PROTOCOL_VERSION = 1
MAX_RR_PER_FRAME = 20
#: The largest RR a strap can send: uint16 in 1/1024 s.
MAX_RR_MS = 65535 * 1000 / 1024


class IngestError(ValueError):
    """An ingest frame that is not valid; ``str(err)`` goes back to the relay."""


@dataclass(frozen=True, slots=True)
class RelayHello:
    """First frame of a relay: who is streaming."""

    name: str
    source: str


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


def parse_frame(text: str | bytes, device_name: str = "relay") -> IngestFrame:
    """Parse and validate one relay frame.

    Raises:
        IngestError: Not JSON, unknown type, or a field out of range.
    """
    try:
        payload = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise IngestError(f"frame is not valid JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise IngestError("frame must be a JSON object with a 'type'")
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
        if payload.get("protocol") != INGEST_PROTOCOL_VERSION:
            raise IngestError(
                f"this server speaks ingest protocol {INGEST_PROTOCOL_VERSION}, "
                f"the relay {payload.get('protocol')!r}"
            )
        name, source = payload.get("name"), payload.get("source")
        if not isinstance(name, str) or not isinstance(source, str) or len(name) > 200:
            raise IngestError("relay_hello needs a name and a source (text)")
        return RelayHello(name=name, source=source[:500])
    if kind == "end":
        return End()
    raise IngestError(f"unknown frame type {kind!r}")


def encode_event(event: RRNotification | DeviceStatus) -> str:
    """The frame a relay sends for a source event."""
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
    return json.dumps(payload, separators=(",", ":"), allow_nan=False)


def encode_hello(name: str, source: str) -> str:
    """The relay's first frame."""
    return json.dumps(
        {"type": "relay_hello", "protocol": INGEST_PROTOCOL_VERSION, "name": name, "source": source}
    )
