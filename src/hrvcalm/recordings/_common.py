"""Helpers shared by the recording readers: file checks, text decoding, RR validation.

Every problem becomes a one-line :class:`~hrvcalm.errors.RecordingError` naming the file (and
the 1-based line where there is one). Bad values inside an otherwise good file are skipped
and reported as :class:`~hrvcalm.recordings.base.BadValue`; the file is rejected only when no
valid value is left or more than :data:`MAX_BAD_FRACTION` of its data lines are bad.
"""

from __future__ import annotations

import codecs
import math
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hrvcalm.errors import RecordingError
from hrvcalm.recordings.base import BadValue, FloatArray

MAX_RR_MS = 60_000.0
"""Longest interval accepted, in ms; anything longer is a gap in the recording, not a beat."""

MAX_BAD_FRACTION = 0.10
"""A file with more bad data lines than this fraction is rejected, not cleaned."""

SECONDS_MEDIAN_LIMIT = 3.0
"""RR values whose median is below this are taken to be in seconds (no heart beats in 3 ms)."""

_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_TEXT_CONTROLS = frozenset({9, 10, 11, 12, 13, 26})  # tab, LF, VT, FF, CR, DOS end-of-file


def shorten(text: str, limit: int = 40) -> str:
    """Quote a snippet of file content for a one-line message (no line breaks, bounded)."""
    flat = text.replace("\r", " ").replace("\n", " ")
    if len(flat) > limit:
        flat = flat[: limit - 3] + "..."
    return repr(flat)


def one_line(text: str) -> str:
    """Collapse a third-party exception message onto one line."""
    return " ".join(str(text).split())


def check_file(path: Path) -> int:
    """Check that ``path`` is a readable, non-empty regular file.

    Returns:
        The file size in bytes.

    Raises:
        RecordingError: The file is missing, a directory, not a regular file or empty.
    """
    if not path.exists():
        raise RecordingError(path, "no such file")
    if path.is_dir():
        raise RecordingError(path, "is a directory, not a recording file")
    if not path.is_file():
        raise RecordingError(path, "is not a regular file")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise RecordingError(path, f"cannot be read: {one_line(exc.strerror or str(exc))}") from exc
    if size == 0:
        raise RecordingError(path, "is empty")
    return size


def read_bytes(path: Path) -> bytes:
    """Read a whole file after :func:`check_file`; OS errors become RecordingError."""
    check_file(path)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise RecordingError(path, f"cannot be read: {one_line(exc.strerror or str(exc))}") from exc


def looks_binary(raw: bytes) -> bool:
    """True if ``raw`` is not text: NUL bytes or many control characters (UTF-16 BOM aside)."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    head = raw[:8192]
    if b"\x00" in head:
        return True
    controls = sum(1 for byte in head if byte < 32 and byte not in _TEXT_CONTROLS)
    return controls > max(1, len(head) // 100)


def decode_text(path: Path, raw: bytes) -> tuple[str, str]:
    """Decode a text recording.

    UTF-8 with or without BOM, UTF-16 with BOM, else latin-1 (which decodes any byte).

    Returns:
        The text (BOM removed) and the name of the encoding used.

    Raises:
        RecordingError: The file is binary or claims UTF-16 but is not.
    """
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise RecordingError(
                path, f"starts with a UTF-16 byte-order mark but is not valid UTF-16 ({exc.reason})"
            ) from exc
        if "\x00" in text:
            raise RecordingError(path, "is a binary file (NUL characters), not a text recording")
        return text, "utf-16"
    if looks_binary(raw):
        raise RecordingError(
            path, "is a binary file (NUL bytes or control characters), not a text recording"
        )
    if raw.startswith(codecs.BOM_UTF8):
        try:
            return raw[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            return raw[len(codecs.BOM_UTF8) :].decode("latin-1"), "latin-1"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"


def read_lines(path: Path) -> tuple[list[str], dict[str, str]]:
    """Read a text recording as lines (CRLF, CR or LF ends); line ``i`` is ``lines[i - 1]``.

    Returns:
        The lines without their ends, and notes (the encoding if it is not plain UTF-8).
    """
    text, encoding = decode_text(path, read_bytes(path))
    lines = _LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    notes = {} if encoding == "utf-8" else {"encoding": encoding}
    return lines, notes


_UNIT_WORDS = {
    "ns": "ns",
    "nanoseconds": "ns",
    "us": "us",
    "\u00b5s": "us",
    "microseconds": "us",
    "ms": "ms",
    "msec": "ms",
    "milliseconds": "ms",
    "s": "s",
    "sec": "s",
    "secs": "s",
    "seconds": "s",
}


def name_tokens(name: str) -> list[str]:
    """Lower-case words of a column name: ``"RR (ms)"`` -> ``["rr", "ms"]``."""
    return re.findall(r"[a-z0-9\u00b5]+", name.lower())


def unit_from_name(name: str) -> str | None:
    """The time unit a column name states (``ns``, ``us``, ``ms`` or ``s``), if any.

    The last unit word counts: ``time_ns`` -> ``ns``, ``RR (ms)`` -> ``ms``, ``rr_s`` -> ``s``.
    """
    for token in reversed(name_tokens(name)):
        if token in _UNIT_WORDS:
            return _UNIT_WORDS[token]
    return None


def parse_number(text: str, decimal_comma: bool = False) -> float | None:
    """Parse one numeric field (surrounding blanks and quotes ignored); ``None`` if not numeric.

    Args:
        text: The field as it stands in the file.
        decimal_comma: Also accept ``0,936`` (files separated by ``;`` or tabs).
    """
    field = text.strip().strip("\"'").strip()
    if not field or "_" in field:
        return None
    try:
        return float(field)
    except ValueError:
        pass
    if decimal_comma and _DECIMAL_COMMA.match(field):
        return float(field.replace(",", "."))
    return None


@dataclass(frozen=True, slots=True)
class Cell:
    """One data value of a file, before validation.

    Attributes:
        line: 1-based line number.
        text: The value as it stands in the file.
        problem: A reason the row is bad already known to the reader (e.g. a bad time).
    """

    line: int
    text: str
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class Cleaned:
    """Validated RR values.

    Attributes:
        rr_ms: The valid intervals in ms.
        kept: Index into the input cells of each valid interval.
        bad_values: The cells skipped, in file order.
        notes: Facts worth telling a user (unit conversion).
    """

    rr_ms: FloatArray
    kept: list[int]
    bad_values: tuple[BadValue, ...]
    notes: dict[str, str]


def clean_rr(
    path: Path,
    cells: Sequence[Cell],
    unit: str | None = None,
    decimal_comma: bool = False,
    hint: str = "",
) -> Cleaned:
    """Validate RR values: skip bad ones, convert seconds to ms, reject hopeless files.

    Args:
        path: The file (for messages).
        cells: One cell per data line, in file order.
        unit: ``"ms"`` or ``"s"`` if the file says so; ``None`` to decide by the median
            (below :data:`SECONDS_MEDIAN_LIMIT` means seconds).
        decimal_comma: Accept ``0,936`` as a number.
        hint: Appended to the message when the file is rejected.

    Raises:
        RecordingError: No numeric value at all, no valid value, or more than 10% bad lines
            (naming the first bad line).
    """
    values = [None if c.problem else parse_number(c.text, decimal_comma) for c in cells]
    numeric = [v for v in values if v is not None]
    if not numeric:
        if not cells:
            raise RecordingError(path, f"holds no numeric values{hint}")
        first = cells[0]
        raise RecordingError(
            path,
            f"holds no numeric values (first data line: {shorten(first.text)}){hint}",
            first.line,
        )
    notes: dict[str, str] = {}
    scale = 1.0
    positive = [v for v in numeric if math.isfinite(v) and v > 0]
    if unit == "s":
        scale = 1000.0
        notes["units"] = "RR given in seconds; converted to ms"
    elif unit is None and positive:
        median = statistics.median(positive)
        if median < SECONDS_MEDIAN_LIMIT:
            scale = 1000.0
            notes["units"] = f"RR values look like seconds (median {median:g}); converted to ms"
    kept: list[int] = []
    rr: list[float] = []
    bad: list[BadValue] = []
    negative = 0
    for index, (cell, value) in enumerate(zip(cells, values, strict=True)):
        reason = _rejection(cell, value, scale)
        if reason is None and value is not None:
            kept.append(index)
            rr.append(value * scale)
            continue
        if value is not None and value < 0:
            negative += 1
        bad.append(BadValue(cell.line, cell.text.strip(), reason or "not a number"))
    if bad and (not rr or len(bad) > MAX_BAD_FRACTION * len(cells)):
        first_bad = bad[0]
        head = "no valid RR value" if not rr else f"{len(bad)} of {len(cells)} data lines are bad"
        signal = ""
        if negative > MAX_BAD_FRACTION * len(cells):
            signal = f"; {negative} values are negative - this looks like a signal, not RR"
        raise RecordingError(
            path,
            f"{head}; first bad value {shorten(first_bad.text)}: {first_bad.reason}{signal}{hint}",
            first_bad.line,
        )
    return Cleaned(np.asarray(rr, dtype=np.float64), kept, tuple(bad), notes)


def _rejection(cell: Cell, value: float | None, scale: float) -> str | None:
    """Why one value is not a usable RR interval, or ``None`` if it is."""
    if cell.problem:
        return cell.problem
    if value is None:
        return "not a number"
    if not math.isfinite(value):
        return "not a finite number"
    rr_ms = value * scale
    if rr_ms <= 0:
        return "RR must be positive"
    if rr_ms > MAX_RR_MS:
        return f"RR above {MAX_RR_MS:,.0f} ms (a gap, not a beat)"
    return None
