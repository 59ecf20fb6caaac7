"""Websocket messages: the JSON the server sends and the page commands it accepts.

Every message is a JSON object with a ``type`` (DESIGN.md section 4). Server to page:
``hello``, ``beat``, ``metrics``, ``device``, ``pacer``, ``session``, ``summary`` (how the
session went, at its end), ``error`` and, during a
``resonance`` practice (the resonance-frequency assessment), ``resonance`` (the step in
progress, then every step's scores and the chosen rate; fields in
:mod:`hrvcalm.server.resonance`). Page to server:
``start``, ``stop``, ``set_pacer``, ``rating``, ``configure`` (practice and length, before the
start), ``new_session`` (after the end: the next session, without restarting the server);
with ``hrvcalm app`` also ``choose_source`` and ``scan`` (answered by ``sources``).
:func:`parse_command` validates a page message and raises :class:`CommandError` with a
message fit to send back to the page.

Protocol version history: 1 - first version (``hello`` later gained
``practice_lengths_min`` and ``resonance_minutes``: added fields, so still version 1; a page
ignores fields it does not know).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import orjson

from hrvcalm import __version__
from hrvcalm.core.coherence import coherence_zone
from hrvcalm.core.pacer import PacerSettings
from hrvcalm.core.relaxation import MEANING_OF_50
from hrvcalm.core.resonance import Protocol as StepProtocol
from hrvcalm.core.session import PRACTICES, Rating, SessionState
from hrvcalm.core.summary import Summary
from hrvcalm.events import METRIC_KEYS, Beat, DeviceStatus, Metrics
from hrvcalm.server.resonance import default_protocol

PROTOCOL_VERSION = 1

#: The practice lengths the page offers, minutes (the course starts at 5 and adds up to 20).
PRACTICE_LENGTHS_MIN = (5, 10, 15, 20)

Message = dict[str, Any]


def hello(source: str, speed: float, *, resonance: StepProtocol | None = None) -> Message:
    """The first message on every connection.

    Args:
        source: The source's spec (``"none"`` while the patient's app waits for a choice).
        speed: Replay speed (``inf``: as fast as possible, sent as ``null``).
        resonance: The resonance assessment's protocol the server runs; ``None``: the
            standard one (:func:`hrvcalm.server.resonance.default_protocol`, with the steps
            of ``$HRVCALM_RESONANCE_STEP_S`` if set).

    Returns:
        ``protocol`` (:data:`PROTOCOL_VERSION`), ``app``, ``version``, ``source``, ``speed``,
        ``practice_lengths_min`` (the lengths the page offers, min),
        ``resonance_minutes`` (the assessment's fixed length, min) and
        ``relaxation_meaning`` (what 50 on the relaxation scale means, in plain words).
    """
    protocol = default_protocol() if resonance is None else resonance
    return {
        "type": "hello",
        "protocol": PROTOCOL_VERSION,
        "app": "hrvcalm",
        "version": __version__,
        "source": source,
        "speed": None if math.isinf(speed) else speed,
        "practice_lengths_min": list(PRACTICE_LENGTHS_MIN),
        "resonance_minutes": round(protocol.total_s / 60.0, 2),
        "relaxation_meaning": MEANING_OF_50,
    }


def beat(b: Beat) -> Message:
    """One beat: ``t_s`` session seconds, ``rr_ms`` (exact), ``hr_bpm``, ``artifact``,
    ``gap_before`` (beats are missing before it), ``corrected_rr_ms`` (the replacement value
    of an artifact, else ``null``)."""
    return {
        "type": "beat",
        "t_s": round(b.t_s, 3),
        "rr_ms": b.rr_ms,  # exact: strap intervals are 1/1024 s, the store keeps them as sent
        "hr_bpm": round(b.hr_bpm, 2),
        "artifact": b.artifact,
        "gap_before": b.gap_before,
        "corrected_rr_ms": None if b.corrected_rr_ms is None else round(b.corrected_rr_ms, 3),
    }


def metrics(m: Metrics) -> Message:
    """The metrics after a beat: ``t_s``, every metric key (``null`` if not computable) and
    ``coherence_zone`` (``low``, ``medium``, ``high``; ``null`` with coherence)."""
    out: Message = {"type": "metrics", "t_s": m.t_s}
    # full precision: rounding every value cost more than the rest
    out.update(zip(METRIC_KEYS, m.metric_values(), strict=True))
    out["coherence_zone"] = coherence_zone(m.coherence)
    return out


def device(status: DeviceStatus) -> Message:
    """Link state, name, battery and contact of the strap (or of the replay)."""
    return {
        "type": "device",
        "state": status.state.value,
        "name": status.name,
        "battery_pct": status.battery_pct,
        "contact": status.contact.as_json(),
    }


def pacer(settings: PacerSettings) -> Message:
    """Pacer settings; ``t0_s`` is the Unix time at which a breath cycle started."""
    return {
        "type": "pacer",
        "rate_bpm": settings.rate_bpm,
        "inhale_ratio": settings.inhale_ratio,
        "t0_s": round(settings.t0_s, 3),
    }


def session(state: SessionState, now_s: float) -> Message:
    """Phase and timer; ``elapsed_s`` is on the session's clock."""
    return {
        "type": "session",
        "phase": state.phase.value,
        "practice": state.practice,
        "elapsed_s": round(state.elapsed_s(now_s), 1),
        "duration_s": state.duration_s,
        "ended_reason": state.ended_reason,
        "ratings": {
            when: {"pain": r.pain, "stress": r.stress, "note": r.note}
            for when, r in state.ratings.items()
        },
    }


def summary(s: Summary) -> Message:
    """How the session went (:mod:`hrvcalm.core.summary`), sent at its end."""
    return {"type": "summary", **s.as_json()}


def sources(
    choices: list[tuple[str, str]], current: str | None, *, scanning: bool, can_scan: bool
) -> Message:
    """The sources the patient's app offers (``hrvcalm app``): ``choices`` of ``id`` and
    ``label``, the ``current`` one's id, whether a Bluetooth scan runs or can run."""
    return {
        "type": "sources",
        "choices": [{"id": i, "label": label} for i, label in choices],
        "current": current,
        "scanning": scanning,
        "can_scan": can_scan,
    }


def error(message: str) -> Message:
    """A problem with something the page sent."""
    return {"type": "error", "message": message}


_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False)


def _finite_or_none(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite_or_none(v) for v in value]
    return value


def encode(message: Message) -> str:
    """Serialise a message as compact JSON (a NaN or infinity, never expected, becomes null).

    orjson does the work (a metrics message costs under a microsecond instead of ten) and
    accepts NumPy scalars. What it refuses (a non-string key, an integer beyond 64 bits) goes
    to the standard library's encoder, which encodes it or raises as it always did.
    """
    try:
        return orjson.dumps(message, option=orjson.OPT_SERIALIZE_NUMPY).decode()
    except TypeError:
        return _ENCODER.encode(_finite_or_none(message))


# --- page to server -----------------------------------------------------------------------


class CommandError(ValueError):
    """A page message that is not valid; ``str(err)`` is sent back in an ``error`` message."""


@dataclass(frozen=True, slots=True)
class Start:
    """Start the practice timer."""


@dataclass(frozen=True, slots=True)
class Stop:
    """End the session."""


@dataclass(frozen=True, slots=True)
class SetPacer:
    """Change the pacer rate (breaths/min) and, optionally, the I:E ratio."""

    rate_bpm: float | None
    inhale_ratio: float | None


@dataclass(frozen=True, slots=True)
class RatingCommand:
    """A pain/stress rating given before or after the practice."""

    when: str
    rating: Rating


@dataclass(frozen=True, slots=True)
class Configure:
    """Choose the practice and its length in minutes (before the start)."""

    practice: str | None
    minutes: float | None


@dataclass(frozen=True, slots=True)
class NewSessionCommand:
    """After the end: open the next session (the server keeps running)."""


@dataclass(frozen=True, slots=True)
class ChooseSource:
    """Switch to one of the offered sources (``hrvcalm app``), by its id."""

    id: str


@dataclass(frozen=True, slots=True)
class ScanCommand:
    """Look for Bluetooth straps nearby (``hrvcalm app``)."""


Command = (
    Start
    | Stop
    | SetPacer
    | RatingCommand
    | Configure
    | NewSessionCommand
    | ChooseSource
    | ScanCommand
)


def _number(payload: Message, key: str) -> float | None:
    value = payload.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CommandError(f"{key} must be a number, got {_short(value)}")
    try:
        number = float(value)
    except OverflowError:  # an integer of hundreds of digits
        raise CommandError(f"{key} must be a number in range, got {_short(value)}") from None
    if not math.isfinite(number):
        raise CommandError(f"{key} must be a number, got {_short(value)}")
    return number


def _short(value: Any) -> str:
    """``repr`` of a value sent by a page, cut to a readable length."""
    try:
        text = repr(value)
    except ValueError:  # an integer beyond the interpreter's digit limit
        return "a number too long to show"
    return text if len(text) <= 40 else text[:37] + "..."


def _score(payload: Message, key: str) -> int | None:
    value = payload.get(key)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
        raise CommandError(f"{key} must be a whole number from 0 to 10, got {_short(value)}")
    return value


def _storable(text: str) -> bool:
    """Whether text is valid Unicode (JSON's ``\\ud800`` escapes can make lone surrogates,
    which no UTF-8 file or database can hold)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_command(text: str | bytes) -> Command:
    """Parse and validate one page message.

    Raises:
        CommandError: Not JSON, not an object, an unknown type or an invalid field.
    """
    try:
        payload = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CommandError(f"message is not valid JSON: {exc}") from None
    except RecursionError:
        raise CommandError("message is nested too deeply") from None
    if not isinstance(payload, dict):
        raise CommandError("message must be a JSON object with a 'type'")
    kind = payload.get("type")
    if kind == "start":
        return Start()
    if kind == "stop":
        return Stop()
    if kind == "new_session":
        return NewSessionCommand()
    if kind == "scan":
        return ScanCommand()
    if kind == "choose_source":
        choice = payload.get("id")
        if not isinstance(choice, str) or not 0 < len(choice) <= 200:
            raise CommandError("choose_source needs the id of an offered source")
        return ChooseSource(choice)
    if kind == "set_pacer":
        rate, ratio = _number(payload, "rate_bpm"), _number(payload, "inhale_ratio")
        if rate is None and ratio is None:
            raise CommandError("set_pacer needs rate_bpm or inhale_ratio")
        try:
            PacerSettings(
                rate_bpm=6.0 if rate is None else rate,
                inhale_ratio=1.0 if ratio is None else ratio,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        return SetPacer(rate, ratio)
    if kind == "rating":
        when = payload.get("when")
        if when not in ("before", "after"):
            raise CommandError(f"rating 'when' must be 'before' or 'after', got {_short(when)}")
        note = payload.get("note")
        if note is not None and not isinstance(note, str):
            raise CommandError("note must be text")
        if note is not None and not _storable(note):
            raise CommandError(
                "note holds a character that cannot be saved (a lone surrogate, \\ud800-\\udfff); "
                "the note was not taken: retype it"
            )
        try:
            rating = Rating(_score(payload, "pain"), _score(payload, "stress"), note or None)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        return RatingCommand(str(when), rating)
    if kind == "configure":
        practice = payload.get("practice")
        if practice is not None and practice not in PRACTICES:
            raise CommandError(
                f"practice must be one of {', '.join(PRACTICES)}, got {_short(practice)}"
            )
        minutes = _number(payload, "minutes")
        if minutes is not None and not 1.0 <= minutes <= 240.0:
            raise CommandError(f"minutes must be between 1 and 240, got {minutes:g}")
        return Configure(practice, minutes)
    raise CommandError(f"unknown message type {_short(kind)}")
