"""Reader for Polar Sensor Logger exports (``;``-separated ``.txt``, one stream a file).

Polar Sensor Logger (Polar Electro's Android app built on the Polar BLE SDK) writes one file
per stream, ``;``-separated, first line the column names. Columns are found by name, never by
position (the layouts differ between app versions):

- RR: ``Phone timestamp;RR-interval [ms]``.
- HR: ``Phone timestamp;HR [bpm];...``; beat intervals in columns named ``RR...`` or in
  fields trailing past the header (one per RR of the notification, ms).
- ECG: ``Phone timestamp;sensor timestamp [ns];timestamp [ms];ecg [uV]`` (~130 Hz on the
  H10): R peaks are detected with :func:`hrvcalm.core.ecg.detect_r_peaks`, then RR.
- PPI (optical sensors, Verity Sense / OH1): ``...;PP-interval [ms];error estimate [ms];
  blocker;contact;contact;hr [bpm]`` (the first ``contact`` is skin contact, the second
  whether skin contact is supported) or ``...;blocker;skin contact;skin contact supported``.
  An interval with ``blocker`` = 1, or with no skin contact where it is supported, is kept
  but labelled ``Q`` (unclassifiable), so the analysis leaves it out like a non-sinus beat.

``Phone timestamp`` (or ``Phone Data RX timestamp``) is the phone's local clock when the
notification arrived (ISO 8601, no zone): it gives ``arrival_s`` and ``start_time``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from hrvcalm.errors import RecordingError
from hrvcalm.recordings._common import (
    Cell,
    clean_rr,
    parse_number,
    read_lines,
    shorten,
)
from hrvcalm.recordings.base import BadValue, Recording

PHONE_TIME_NAMES = ("phone timestamp", "phone data rx timestamp")
"""Lower-case names of the phone-clock column."""

ECG_DEFAULT_HZ = 130.0
"""Polar H10 ECG rate, used only when the file has no sensor or ms time column."""


def looks_like_polar_sensor_logger(first_line: str) -> bool:
    """True if a file's first line is a Polar Sensor Logger header."""
    names = [n.strip().lower() for n in first_line.split(";")]
    return len(names) >= 2 and names[0] in PHONE_TIME_NAMES


@dataclass(frozen=True, slots=True)
class _Table:
    names: list[str]
    rows: list[tuple[int, list[str]]]  # (1-based line, fields)

    def column(self, *words: str) -> int | None:
        """Index of the first column whose lower-case name contains every word."""
        for index, name in enumerate(self.names):
            if all(w in name for w in words):
                return index
        return None


def read_polar_sensor_logger(path: Path) -> Recording:
    """Read beat intervals from a Polar Sensor Logger RR, HR, ECG or PPI file.

    Args:
        path: The ``.txt`` export.

    Returns:
        The recording, ``rr_ms`` in ms; ``notes["stream"]`` names the stream read.

    Raises:
        RecordingError: Not such an export, a stream without beat intervals (ACC, HR without
            RR), or values that cannot be read (naming the line).
    """
    lines, notes = read_lines(path)
    table = _table(path, lines)
    if table.column("pp-interval") is not None:
        return _read_ppi(path, table, notes)
    if table.column("ecg") is not None:
        return _read_ecg(path, table, notes)
    rr_col = table.column("rr")
    if rr_col is not None and table.column("hr") is None:
        return _read_rr(path, table, notes, stream="RR")
    if table.column("hr") is not None:
        return _read_rr(path, table, notes, stream="HR")
    raise RecordingError(
        path,
        f"is a Polar Sensor Logger file without beat intervals (columns: "
        f"{shorten(';'.join(table.names), 80)}); read its _RR, _ECG or _PPI file",
        1,
    )


def _table(path: Path, lines: list[str]) -> _Table:
    """Header names (lower case) and the non-blank data rows."""
    if not lines or not looks_like_polar_sensor_logger(lines[0].lstrip("\ufeff")):
        first = lines[0] if lines else ""
        raise RecordingError(
            path,
            f"is not a Polar Sensor Logger export: first line {shorten(first)} does not start "
            "with 'Phone timestamp;'",
            1,
        )
    names = [n.strip().lower() for n in lines[0].lstrip("\ufeff").split(";")]
    while names and not names[-1]:
        names.pop()
    rows = [(n, line.split(";")) for n, line in enumerate(lines[1:], start=2) if line.strip()]
    if not rows:
        raise RecordingError(path, "is a Polar Sensor Logger export with a header but no data")
    return _Table(names, rows)


def _phone_times(table: _Table) -> tuple[datetime | None, np.ndarray | None]:
    """Start time and seconds since the first row, from the phone clock, if every row has one."""
    stamps: list[datetime] = []
    for _, fields in table.rows:
        try:
            stamps.append(datetime.fromisoformat(fields[0].strip()))
        except ValueError:
            return None, None
    start = stamps[0]
    return start, np.array([(s - start).total_seconds() for s in stamps], dtype=np.float64)


def _read_rr(path: Path, table: _Table, notes: dict[str, str], stream: str) -> Recording:
    """RR file (one interval a row) or HR file (RR columns or fields past the header)."""
    rr_cols = [i for i, name in enumerate(table.names) if name.startswith("rr")]
    trailing = stream == "HR"
    cells: list[Cell] = []
    owners: list[int] = []  # row index of each cell
    for row_index, (line, fields) in enumerate(table.rows):
        picked = [fields[i] for i in rr_cols if i < len(fields)]
        if trailing:
            picked += fields[len(table.names) :]
        for text in picked:
            if text.strip():
                cells.append(Cell(line, text))
                owners.append(row_index)
    if not cells:
        raise RecordingError(
            path,
            "is a Polar Sensor Logger HR file without RR intervals (heart rate only); "
            "read the _RR.txt file recorded beside it",
        )
    cleaned = clean_rr(path, cells, unit="ms")
    start, arrival = _phone_times(table)
    notes["stream"] = f"Polar Sensor Logger {stream}"
    notes.update(cleaned.notes)
    return Recording(
        path=path,
        format="polar-sensor-logger",
        rr_ms=cleaned.rr_ms,
        arrival_s=None if arrival is None else arrival[[owners[k] for k in cleaned.kept]],
        bad_values=cleaned.bad_values,
        notes=notes,
        start_time=start,
    )


def _flag(fields: list[str], index: int | None) -> float | None:
    if index is None or index >= len(fields):
        return None
    return parse_number(fields[index])


def _read_ppi(path: Path, table: _Table, notes: dict[str, str]) -> Recording:
    """PPI: intervals with a blocker or lost skin contact are labelled ``Q``."""
    pp = table.column("pp-interval")
    assert pp is not None
    blocker = table.column("blocker")
    contacts = [i for i, n in enumerate(table.names) if "contact" in n]
    contact: int | None
    supported: int | None
    if len(contacts) >= 2 and any("supported" in table.names[i] for i in contacts):
        supported = next(i for i in contacts if "supported" in table.names[i])
        contact = next(i for i in contacts if i != supported)
    elif len(contacts) >= 2:
        contact, supported = contacts[0], contacts[1]
    else:
        contact, supported = (contacts[0] if contacts else None), None
    cells = [Cell(line, fields[pp] if pp < len(fields) else "") for line, fields in table.rows]
    cleaned = clean_rr(path, cells, unit="ms")
    labels: list[str] = []
    flagged = 0
    for k in cleaned.kept:
        fields = table.rows[k][1]
        blocked = _flag(fields, blocker) == 1
        no_contact = _flag(fields, contact) == 0 and _flag(fields, supported) != 0
        bad = blocked or no_contact
        flagged += bad
        labels.append("Q" if bad else "N")
    start, arrival = _phone_times(table)
    notes["stream"] = "Polar Sensor Logger PPI"
    notes["ppi_flagged"] = f"{flagged} intervals with a blocker or no skin contact labelled Q"
    notes.update(cleaned.notes)
    return Recording(
        path=path,
        format="polar-sensor-logger",
        rr_ms=cleaned.rr_ms,
        arrival_s=None if arrival is None else arrival[cleaned.kept],
        labels=tuple(labels),
        bad_values=cleaned.bad_values,
        notes=notes,
        start_time=start,
    )


def _read_ecg(path: Path, table: _Table, notes: dict[str, str]) -> Recording:
    """ECG: R peaks by the validated detector, then RR (ms) between successive peaks."""
    from hrvcalm.core.ecg import DEFAULT_METHOD, detect_r_peaks

    ecg_col = table.column("ecg")
    assert ecg_col is not None
    values: list[float] = []
    bad: list[BadValue] = []
    for line, fields in table.rows:
        text = fields[ecg_col] if ecg_col < len(fields) else ""
        value = parse_number(text)
        if value is None:
            bad.append(BadValue(line, text.strip(), "ECG sample is not a number"))
            if len(bad) > 0.1 * len(table.rows):
                raise RecordingError(
                    path, f"ECG sample {shorten(text)} is not a number ({len(bad)} so far)", line
                )
            continue
        values.append(value)
    fs_hz = _ecg_rate(table)
    peaks = detect_r_peaks(np.asarray(values, dtype=np.float64), fs_hz)
    if peaks.size < 3:
        raise RecordingError(
            path,
            f"ECG of {len(values) / fs_hz:.1f} s at {fs_hz:.1f} Hz: only {peaks.size} R peaks "
            "found, too few for beat intervals",
        )
    rr_ms = np.diff(peaks).astype(np.float64) * 1000.0 / fs_hz
    start, _ = _phone_times(table)
    notes["stream"] = "Polar Sensor Logger ECG"
    notes["rr_source"] = (
        f"RR from {peaks.size} R peaks detected in the ECG ({DEFAULT_METHOD}, "
        f"hrvcalm.core.ecg) at {fs_hz:.2f} Hz"
    )
    return Recording(
        path=path,
        format="polar-sensor-logger",
        rr_ms=rr_ms,
        bad_values=tuple(bad),
        resolution_ms=1000.0 / fs_hz,
        notes=notes,
        start_time=start,
    )


def _ecg_rate(table: _Table) -> float:
    """Sampling rate (Hz) over the whole file from the sensor clock (ns), else the ms column.

    Samples over span, not the median step: a clock stamped per frame would give the frame
    period. Falls back to 130 Hz (the H10's ECG rate) if neither column is usable.
    """
    for words, scale in ((("sensor timestamp",), 1e9), (("timestamp [ms]",), 1e3)):
        col = table.column(*words)
        if col is None:
            continue
        stamps = [parse_number(f[col]) for _, f in table.rows if col < len(f)]
        numbers = [s for s in stamps if s is not None]
        if len(numbers) > 10 and numbers[-1] > numbers[0]:
            return scale * (len(numbers) - 1) / (numbers[-1] - numbers[0])
    return ECG_DEFAULT_HZ
