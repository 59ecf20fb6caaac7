"""Reader for delimited RR files: a time column and an RR column, with or without a header.

Separators: comma, semicolon, tab (then runs of blanks); with ``;`` or tabs a decimal comma
(``0,936``) is accepted. The header names the columns:

- RR (required): ``rr``, ``rr_ms``, ``rri``, ``ibi``, ``nn``, ``interval``, ``RR (ms)`` ...
  (case-insensitive). In ms, or seconds if the name says so (``rr_s``) or the median is < 3.
- time (optional): ``time``, ``t``, ``timestamp``, ``time_s``, ``time_ns``, ``ms``,
  ``arrival_s`` ... Seconds unless the name ends in ``_ns``/``_us``/``_ms`` (``ms`` alone is
  ms); numbers beyond 1e11 without a unit are read as epoch ns/us/ms by magnitude; ISO dates
  and clock times (``00:01:02.5``) are accepted. The recording's ``arrival_s`` is the time
  relative to the first data row, in seconds.

Without a header: one column is RR per line; two numeric columns are (time, RR).
A file holding an ECG signal (``ecg_mV``) or heart rate only (``hr_bpm``) is rejected with a
message saying so, as is a header without a recognisable RR column.
"""

from __future__ import annotations

import csv
import itertools
import re
import statistics
from collections import Counter
from datetime import datetime
from pathlib import Path

import numpy as np

from hrvcalm.errors import RecordingError
from hrvcalm.recordings._common import (
    Cell,
    clean_rr,
    name_tokens,
    parse_number,
    read_lines,
    shorten,
    unit_from_name,
)
from hrvcalm.recordings.base import FloatArray, Recording

_RR_EXACT = {"rr", "rri", "ibi", "nn", "nni", "rrinterval", "rrintervals", "interbeatinterval"}
_RR_WORDS = {"rr", "rri", "ibi", "ibis", "nn", "nni", "interval", "intervals", "rrinterval"}
_TIME_WORDS = {"time", "t", "timestamp", "ts", "arrival", "elapsed", "datetime", "clock"}
_TIME_ALONE = {"ms", "s", "sec", "seconds", "ns"}
_HR_WORDS = {"hr", "bpm", "heartrate", "pulse"}
_ECG_WORDS = {"ecg", "ekg", "mv", "uv", "\u00b5v", "voltage", "lead"}
_SCALE_S = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
_DELIMITERS = ("\t", ";", ",")
_CLOCK = re.compile(r"^(\d{1,3}):([0-5]\d):([0-5]\d(?:[.,]\d+)?)$")


def read_csv_rr(path: Path) -> Recording:
    """Read a delimited file with an RR column and optionally a time column.

    Args:
        path: The file.

    Returns:
        The recording: ``rr_ms`` in ms; ``arrival_s`` in seconds from the first row when the
        file has a time column.

    Raises:
        RecordingError: Unreadable file, an ECG or heart-rate file, no RR column, or too many
            bad values.
    """
    lines, notes = read_lines(path)
    rows = [(n, line) for n, line in enumerate(lines, 1) if line.strip() and line[:1] != "#"]
    if not rows:
        raise RecordingError(path, "holds no numeric values (only blank or comment lines)")
    delimiter = _sniff_delimiter([line for _, line in rows[:50]])
    decimal_comma = delimiter != ","
    table = [(n, _split(line, delimiter)) for n, line in rows]
    first_fields = table[0][1]
    has_header = any(parse_number(f, decimal_comma) is None for f in first_fields if f.strip())
    if has_header:
        names = [f.strip().strip("\"'") for f in first_fields]
        data = table[1:]
        rr_col, time_col = _choose_columns(path, names, data, table[0][0])
        notes["columns"] = f"RR {names[rr_col]!r}" + (
            f", time {names[time_col]!r}" if time_col is not None else ""
        )
    else:
        names = []
        data = table
        width = Counter(len(fields) for _, fields in data[:50]).most_common(1)[0][0]
        if width == 1:
            rr_col, time_col = 0, None
        elif width == 2:
            rr_col, time_col = 1, 0
        else:
            raise RecordingError(
                path,
                f"has {width} columns and no header, so the RR column is unknown; "
                "add a header row naming it (e.g. time_s,rr_ms)",
                data[0][0],
            )
    rr_name = names[rr_col] if names else ""
    time_name = names[time_col] if names and time_col is not None else ""
    cells: list[Cell] = []
    times: list[float | int | None] = []
    origin: float | int | None = None
    for number, fields in data:
        if time_col is not None and origin is None and time_col < len(fields):
            origin = _parse_time(fields[time_col], decimal_comma)
        if rr_col >= len(fields):
            cells.append(Cell(number, fields[0] if fields else "", "the RR column is missing"))
            times.append(None)
            continue
        rr_text = fields[rr_col].strip()
        if not rr_text and names:
            continue  # a row of a merged log with no beat in it
        t = None
        if time_col is not None:
            t_text = fields[time_col] if time_col < len(fields) else ""
            t = _parse_time(t_text, decimal_comma)
            if t is None:
                cells.append(Cell(number, rr_text, f"time {shorten(t_text)} is not a number"))
                times.append(None)
                continue
        cells.append(Cell(number, rr_text))
        times.append(t)
    unit = unit_from_name(rr_name) if rr_name else None
    cleaned = clean_rr(
        path, cells, unit=unit if unit in ("ms", "s") else None, decimal_comma=decimal_comma
    )
    notes.update(cleaned.notes)
    arrival_s = None
    if time_col is not None:
        kept_times = [t for t in (times[i] for i in cleaned.kept) if t is not None]
        arrival_s = _relative_seconds(kept_times, origin, time_name, notes)
    return Recording(
        path=path,
        format="csv",
        rr_ms=cleaned.rr_ms,
        arrival_s=arrival_s,
        bad_values=cleaned.bad_values,
        notes=notes,
    )


def _sniff_delimiter(sample: list[str]) -> str | None:
    """The separator used in ``sample`` lines: tab, ``;``, ``,``, ``" "`` (blanks) or None."""
    for delimiter in _DELIMITERS:
        if sum(delimiter in line for line in sample) >= 0.8 * len(sample):
            return delimiter
    if sum(len(line.split()) > 1 for line in sample) >= 0.8 * len(sample):
        return " "
    return None


def _split(line: str, delimiter: str | None) -> list[str]:
    """Split one line into stripped fields."""
    if delimiter is None:
        return [line.strip()]
    if delimiter == " ":
        return line.split()
    fields = next(csv.reader([line], delimiter=delimiter), [])
    return [f.strip() for f in fields] or [""]


def _choose_columns(
    path: Path, names: list[str], data: list[tuple[int, list[str]]], header_line: int
) -> tuple[int, int | None]:
    """Pick the RR and time columns by name; explain files that hold something else."""
    tokens = [name_tokens(n) for n in names]
    compact = ["".join(t) for t in tokens]
    rr_col = next((i for i, c in enumerate(compact) if c in _RR_EXACT), None)
    if rr_col is None:
        rr_col = next((i for i, c in enumerate(compact) if c.removesuffix("ms") in _RR_EXACT), None)
    if rr_col is None:
        rr_col = next((i for i, t in enumerate(tokens) if _RR_WORDS & set(t)), None)
    time_col = next(
        (
            i
            for i, t in enumerate(tokens)
            if i != rr_col and t and (t[0] in _TIME_WORDS or compact[i] in _TIME_ALONE)
        ),
        None,
    )
    if rr_col is not None:
        return rr_col, time_col
    ecg_col = next((i for i, t in enumerate(tokens) if _ECG_WORDS & set(t)), None)
    if ecg_col is not None:
        rate = _sampling_rate(data, time_col, names[time_col] if time_col is not None else "")
        at = f" at ~{rate:.0f} Hz" if rate else ""
        raise RecordingError(
            path,
            f"holds an ECG signal{at} (column {names[ecg_col]!r}), not beat intervals; "
            "detect R-peaks first to get RR",
        )
    hr_col = next(
        (i for i, t in enumerate(tokens) if _HR_WORDS & set(t) or {"heart", "rate"} <= set(t)),
        None,
    )
    if hr_col is not None:
        raise RecordingError(
            path,
            f"holds heart rate (column {names[hr_col]!r}), not beat intervals; "
            "RR cannot be recovered from heart-rate samples",
        )
    candidates = [i for i in range(len(names)) if i != time_col]
    if len(candidates) == 1 and len(names) == 1:
        return candidates[0], time_col
    seen = ", ".join(repr(n) for n in names[:12]) + (", ..." if len(names) > 12 else "")
    raise RecordingError(
        path,
        f"has no recognisable RR column (columns seen: {seen}); name it rr_ms, rr, rri, ibi or nn",
        header_line,
    )


def _parse_time(text: str, decimal_comma: bool) -> float | int | None:
    """A time field as a number (ints kept exact, for epoch ns) or ISO date in epoch s."""
    field = text.strip().strip("\"'")
    try:
        return int(field)
    except ValueError:
        pass
    value = parse_number(field, decimal_comma)
    if value is not None:
        return value
    clock = _CLOCK.match(field)
    if clock:
        hours, minutes, seconds = clock.groups()
        return int(hours) * 3600 + int(minutes) * 60 + float(seconds.replace(",", "."))
    try:
        return datetime.fromisoformat(field).timestamp()
    except ValueError:
        return None


def _time_scale(name: str, values: list[float | int], notes: dict[str, str]) -> float:
    """Seconds per unit of a time column, from its name or, for epoch numbers, magnitude."""
    unit = unit_from_name(name) if name else None
    if unit in _SCALE_S:
        return _SCALE_S[unit or "s"]
    if not values:
        return 1.0
    size = abs(float(values[0]))
    for limit, guess in ((1e17, "ns"), (1e14, "us"), (1e11, "ms")):
        if size > limit:
            notes["time_unit"] = f"time column read as epoch {guess} (by magnitude)"
            return _SCALE_S[guess]
    return 1.0


def _relative_seconds(
    kept: list[float | int], origin: float | int | None, name: str, notes: dict[str, str]
) -> FloatArray:
    """Times of the kept rows in seconds from ``origin``, the first data row's time."""
    start = kept[0] if origin is None and kept else origin or 0
    scale = _time_scale(name, kept, notes)
    return np.asarray([(t - start) * scale for t in kept], dtype=np.float64)


def _sampling_rate(data: list[tuple[int, list[str]]], time_col: int | None, name: str) -> float:
    """Samples per second of a signal file from its first rows' times (0 if unknown)."""
    if time_col is None:
        return 0.0
    times = [_parse_time(f[time_col], True) for _, f in data[:5000] if time_col < len(f)]
    numbers = [t for t in times if t is not None]
    steps = [b - a for a, b in itertools.pairwise(numbers) if b > a]
    if not steps:
        return 0.0
    step_s = statistics.median(steps) * _time_scale(name, numbers, {})
    return 1.0 / step_s if step_s > 0 else 0.0
