"""Readers for the text exports of common HRV apps, named so a user knows what was read.

- HRV Logger (Marco Altini's app): ``date,rr,since start`` - the phone's date and time of
  each beat, the RR in ms, and ms since the start. Read by the CSV reader (RR by name); the
  first ``date`` is the start time (local, naive).
- Empatica E4 ``IBI.csv``: first line ``<start, unix s UTC>, IBI``, then ``<offset s>,<IBI s>``
  per beat. The E4 drops beats it cannot detect: consecutive rows whose offsets differ by
  more than the later IBI (plus :data:`EMPATICA_GAP_TOLERANCE_S`) have a gap between them.
  Gaps are kept as gaps: no interval is invented; ``arrival_s`` holds each beat's offset
  (the real time axis) and ``notes["gaps"]`` counts them.
- Elite HRV: one RR (ms) per line, read by the RR-text reader; the start time is taken from
  a file name holding a date and time (``2019-03-15 07-30-12.txt``). A ``.zip`` export of
  several readings is read member by member (:func:`read_zip_members`).

Polar Flow RR (tab-separated elapsed s and RR ms) and Kubios RR text type 2 (time s and RR
columns) are read by the CSV reader as they are; see docs/formats.md.
"""

from __future__ import annotations

import dataclasses
import re
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from hrvcalm.errors import RecordingError
from hrvcalm.recordings._common import Cell, clean_rr, parse_number, read_lines, shorten
from hrvcalm.recordings.base import Recording

EMPATICA_GAP_TOLERANCE_S = 0.1
"""Offsets may exceed the IBI by this much before the E4 is taken to have skipped beats, s."""

_NAME_STAMP = re.compile(
    r"(\d{4})[-_.]?(\d{2})[-_.]?(\d{2})[ T_-]+(\d{2})[-_.:h]?(\d{2})[-_.:m]?(\d{2})"
)
_EMPATICA_FIRST = re.compile(r"^\s*(\d{9,11}(?:\.\d*)?)\s*,\s*IBI\s*$", re.IGNORECASE)
_MAX_ZIP_MEMBERS = 1000


def looks_like_empatica_ibi(first_line: str) -> bool:
    """True for the first line of an E4 ``IBI.csv``: ``1495437325.000000, IBI``."""
    return _EMPATICA_FIRST.match(first_line) is not None


def looks_like_hrv_logger(first_line: str) -> bool:
    """True for HRV Logger's header ``date,rr,since start``."""
    names = [n.strip().lower() for n in first_line.split(",")]
    return names[:2] == ["date", "rr"]


def start_from_name(path: Path) -> datetime | None:
    """A date and time in a file name (``2019-03-15 07-30-12.txt``), local and naive."""
    match = _NAME_STAMP.search(path.stem)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups())
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None


def read_hrv_logger(path: Path) -> Recording:
    """Read an HRV Logger export: the CSV reader, the first ``date`` as start time."""
    from hrvcalm.recordings.csv_rr import read_csv_rr

    recording = read_csv_rr(path)
    lines, _ = read_lines(path)
    start = None
    for line in lines[1:]:
        if line.strip():
            start = _parse_date(line.split(",")[0])
            break
    return dataclasses.replace(recording, format="hrv-logger", start_time=start)


def _parse_date(text: str) -> datetime | None:
    text = text.strip()
    for candidate in (text, text.replace(" ", "T", 1)):
        try:
            return datetime.fromisoformat(candidate)
        except ValueError:
            continue
    return None


def read_empatica_ibi(path: Path) -> Recording:
    """Read an Empatica E4 ``IBI.csv`` (start time UTC, gaps kept as gaps).

    Raises:
        RecordingError: The first line is not ``<unix time>, IBI``, or the rows cannot be read.
    """
    lines, notes = read_lines(path)
    match = _EMPATICA_FIRST.match(lines[0]) if lines else None
    if match is None:
        first = lines[0] if lines else ""
        raise RecordingError(
            path,
            f"is not an Empatica IBI.csv: first line {shorten(first)} is not "
            "'<start unix time>, IBI'",
            1,
        )
    start = datetime.fromtimestamp(float(match.group(1)), tz=UTC)
    offsets: list[float | None] = []
    cells: list[Cell] = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.split(",")
        if len(fields) != 2:
            cells.append(Cell(number, line, "expected two fields: offset s, IBI s"))
            offsets.append(None)
            continue
        offset = parse_number(fields[0])
        problem = None if offset is not None and offset >= 0 else "offset is not a time in s"
        cells.append(Cell(number, fields[1], problem))
        offsets.append(offset)
    cleaned = clean_rr(path, cells, unit="s")
    arrival = np.array([offsets[k] for k in cleaned.kept], dtype=np.float64)
    rr_s = cleaned.rr_ms / 1000.0
    gaps = int(np.sum(np.diff(arrival) > rr_s[1:] + EMPATICA_GAP_TOLERANCE_S))
    if arrival.size and np.any(np.diff(arrival) <= 0):
        bad = int(np.flatnonzero(np.diff(arrival) <= 0)[0]) + 1
        raise RecordingError(
            path, "offsets do not increase: rows out of order", cells[cleaned.kept[bad]].line
        )
    notes["gaps"] = f"{gaps} gaps where the E4 detected no beat (kept as gaps in arrival_s)"
    notes.update(cleaned.notes)
    return Recording(
        path=path,
        format="empatica-ibi",
        rr_ms=cleaned.rr_ms,
        arrival_s=arrival,
        bad_values=cleaned.bad_values,
        notes=notes,
        start_time=start,
    )


def read_zip_members(path: Path) -> list[tuple[str, Recording | RecordingError]]:
    """Read every file of a ``.zip`` export (Elite HRV) as a recording of its own.

    Args:
        path: The archive.

    Returns:
        ``(member name, recording or the error reading it)`` per file, in archive order;
        folders and macOS metadata (``__MACOSX/``) are skipped.

    Raises:
        RecordingError: Not a zip archive, or one without files.
    """
    from hrvcalm.recordings import read_recording

    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise RecordingError(path, f"is not a readable zip archive ({exc})") from None
    results: list[tuple[str, Recording | RecordingError]] = []
    with archive, tempfile.TemporaryDirectory(prefix="hrvcalm-zip-") as tmp:
        members = [
            m for m in archive.infolist() if not m.is_dir() and not m.filename.startswith("__")
        ][:_MAX_ZIP_MEMBERS]
        if not members:
            raise RecordingError(path, "is a zip archive without files")
        for member in members:
            target = Path(tmp) / Path(member.filename).name
            try:
                target.write_bytes(archive.read(member))
                recording = read_recording(target)
            except RecordingError as exc:
                error = RecordingError(path, f"{member.filename}: {exc.message}", exc.line)
                results.append((member.filename, error))
                continue
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                error = RecordingError(path, f"{member.filename}: cannot be extracted ({exc})")
                results.append((member.filename, error))
                continue
            results.append(
                (
                    member.filename,
                    dataclasses.replace(
                        recording,
                        path=Path(f"{path}!{member.filename}"),
                        start_time=recording.start_time or start_from_name(Path(member.filename)),
                    ),
                )
            )
    return results


def read_zip(path: Path) -> Recording:
    """A zip holding one recording: that recording; several: an error pointing at batch use.

    Raises:
        RecordingError: Not a zip, no readable member, or several recordings.
    """
    members = read_zip_members(path)
    good = [r for _, r in members if isinstance(r, Recording)]
    if len(members) == 1:
        only = members[0][1]
        if isinstance(only, RecordingError):
            raise only
        return only
    if not good:
        first = members[0][1]
        assert isinstance(first, RecordingError)
        raise first
    raise RecordingError(
        path,
        f"holds {len(members)} recordings; 'hrvcalm analyze {path.name}' reads each of them "
        "(one row per file)",
    )
