"""Reader for Garmin FIT activity files: the beat intervals of their ``hrv`` messages.

A FIT file (Garmin, "Flexible and Interoperable Data Transfer (FIT) Protocol", SDK 21.x;
message ``hrv`` = global number 78) recorded with "Log HRV" on, or by a chest strap paired
to a watch, holds ``hrv`` messages whose ``time`` field is an array of up to five beat
intervals in seconds (scale 1000: 1 ms resolution). The raw value 0xFFFF marks an invalid
slot; garmin-fit-sdk's :class:`Decoder` returns it as ``None``. The messages carry no
timestamp of their own: the intervals follow one another from the activity's start.

The start time is the first session's ``start_time``, else ``file_id.time_created``: FIT
times are UTC (seconds since 1989-12-31 00:00 UTC); the decoder gives aware datetimes.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, cast

import numpy as np

from hrvcalm.errors import RecordingError
from hrvcalm.recordings._common import MAX_BAD_FRACTION, MAX_RR_MS, one_line, read_bytes
from hrvcalm.recordings.base import BadValue, Recording

FIT_SIGNATURE = b".FIT"
"""Bytes 8-11 of every FIT file header."""


def looks_like_fit(head: bytes) -> bool:
    """True if ``head`` starts with a FIT file header (size 12 or 14, then ``.FIT``)."""
    return len(head) >= 12 and head[0] in (12, 14) and head[8:12] == FIT_SIGNATURE


def read_fit(path: Path) -> Recording:
    """Read the beat intervals of a FIT file's ``hrv`` messages.

    Args:
        path: The ``.fit`` file.

    Returns:
        The recording: ``rr_ms`` in ms in file order; invalid slots (0xFFFF) are listed in
        ``bad_values`` with ``line`` = 1-based ``hrv`` message number; ``start_time`` from
        the session (else ``file_id.time_created``), UTC.

    Raises:
        RecordingError: Not a FIT file, a damaged one (CRC, truncated), no ``hrv`` messages,
            or more than 10% invalid intervals.
    """
    from garmin_fit_sdk import Decoder, Stream

    raw = read_bytes(path)
    if not looks_like_fit(raw[:14]):
        raise RecordingError(path, "is not a FIT file (no '.FIT' signature in its header)")
    decoder = Decoder(Stream.from_byte_array(bytearray(raw)))
    if not decoder.check_integrity():
        raise RecordingError(
            path, "is a damaged FIT file: truncated or its CRC does not match (copy it again)"
        )
    decoded, errors = Decoder(Stream.from_byte_array(bytearray(raw))).read()
    messages = cast(dict[str, list[dict[str, Any]]], decoded)
    if errors:
        raise RecordingError(path, f"is a damaged FIT file: {one_line(str(errors[0]))}")
    hrv: list[dict[str, Any]] = messages.get("hrv_mesgs", [])
    if not hrv:
        kinds = ", ".join(sorted(k.removesuffix("_mesgs") for k in messages)) or "none"
        raise RecordingError(
            path,
            f"holds no hrv messages (beat intervals); messages present: {kinds}. "
            "Record with HRV logging on (a chest strap, 'Log HRV')",
        )
    rr: list[float] = []
    bad: list[BadValue] = []
    slots = 0
    for number, message in enumerate(hrv, start=1):
        times = message.get("time")
        values = times if isinstance(times, list) else [times]
        for value in values:
            slots += 1
            reason = _rejection(value)
            if reason is None and isinstance(value, int | float):
                rr.append(float(value) * 1000.0)
            else:
                bad.append(BadValue(number, str(value), reason or "not a number"))
    if not rr or len(bad) > MAX_BAD_FRACTION * slots:
        first = bad[0]
        raise RecordingError(
            path,
            f"{len(bad)} of {slots} hrv intervals are invalid; first in hrv message "
            f"{first.line}: {first.reason}",
        )
    notes = {"hrv_messages": str(len(hrv))}
    start = _start_time(messages)
    device = _device(messages)
    if device:
        notes["device"] = device
    return Recording(
        path=path,
        format="fit",
        rr_ms=np.asarray(rr, dtype=np.float64),
        bad_values=tuple(bad),
        resolution_ms=1.0,
        notes=notes,
        start_time=start,
    )


def _rejection(value: object) -> str | None:
    """Why one ``hrv.time`` slot is not a beat interval, or ``None`` if it is."""
    if value is None:
        return "invalid slot (0xFFFF)"
    if not isinstance(value, int | float):
        return "not a number"
    if value <= 0:
        return "RR must be positive"
    if value * 1000.0 > MAX_RR_MS:
        return f"RR above {MAX_RR_MS:,.0f} ms (a gap, not a beat)"
    return None


def _start_time(messages: dict[str, list[dict[str, Any]]]) -> datetime | None:
    """The activity's start: the first session's ``start_time``, else ``time_created``."""
    for kind, key in (("session_mesgs", "start_time"), ("file_id_mesgs", "time_created")):
        for message in messages.get(kind, []):
            value = message.get(key)
            if isinstance(value, datetime):
                return value
    return None


def _device(messages: dict[str, list[dict[str, Any]]]) -> str:
    """``manufacturer product`` from ``file_id``, as the decoder names them."""
    for message in messages.get("file_id_mesgs", []):
        maker = message.get("manufacturer")
        product = message.get("garmin_product") or message.get("product")
        return " ".join(str(v) for v in (maker, product) if v is not None)
    return ""
