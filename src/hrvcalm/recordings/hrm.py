"""Reader for Polar HRM files (Polar Precision Performance / watch exports).

An HRM file is INI-like: ``[Params]`` holds ``key=value`` lines, ``[HRData]`` one sample per
line (tab-separated columns). Per the Polar HRM specification ("Polar HRM2 File Format
Description", v1.4, Polar Electro 2009, parameter ``Interval``): ``Interval=238`` means R-R
recording, and the first column of ``[HRData]`` is then the beat-to-beat interval in ms
(further columns are optional sensors such as speed or altitude). ``Interval=204`` means
intermediate times only; any other value is the number of seconds between heart-rate
samples, which hold no beat intervals.
"""

from __future__ import annotations

import re
from pathlib import Path

from hrvcalm.errors import RecordingError
from hrvcalm.recordings._common import Cell, clean_rr, read_lines, shorten
from hrvcalm.recordings.base import Recording

RR_INTERVAL_CODE = 238
"""``Interval`` value of an R-R recording in the Polar HRM specification."""

INTERMEDIATE_TIMES_CODE = 204
"""``Interval`` value of a file holding intermediate (lap) times only."""

_SECTION = re.compile(r"^\[([^\]]+)\]$")
_FIELD_SPLIT = re.compile(r"[\t ,;]+")
_NOTE_KEYS = {
    "version": "hrm_version",
    "monitor": "monitor",
    "smode": "smode",
    "starttime": "start_time",
    "length": "length",
}


def read_hrm(path: Path) -> Recording:
    """Read the R-R intervals of a Polar HRM file.

    Args:
        path: The ``.hrm`` file.

    Returns:
        The recording: ``rr_ms`` from the first ``[HRData]`` column, in ms; notes with the
        monitor, date, start time and length from ``[Params]``.

    Raises:
        RecordingError: Not an HRM file, no ``[HRData]``, a heart-rate (not R-R) recording,
            or too many bad values.
    """
    lines, notes = read_lines(path)
    params: dict[str, tuple[int, str]] = {}
    sections: set[str] = set()
    section = ""
    cells: list[Cell] = []
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        match = _SECTION.match(text)
        if match:
            section = match.group(1).strip().lower()
            sections.add(section)
            continue
        if section == "params" and "=" in text:
            key, value = text.split("=", 1)
            params[key.strip().lower()] = (number, value.strip())
        elif section == "hrdata" and text:
            cells.append(Cell(number, _FIELD_SPLIT.split(text)[0]))
    if not sections & {"params", "hrdata"}:
        raise RecordingError(path, "is not a Polar HRM file: no [Params] or [HRData] section")
    if "hrdata" not in sections:
        raise RecordingError(path, "is a Polar HRM file without an [HRData] section")
    _check_interval(path, params)
    if not cells:
        raise RecordingError(path, "has an empty [HRData] section: no beat intervals")
    cleaned = clean_rr(path, cells, unit="ms")
    for key, label in _NOTE_KEYS.items():
        if key in params:
            notes[label] = params[key][1]
    if "date" in params:
        date = params["date"][1]
        notes["date"] = f"{date[:4]}-{date[4:6]}-{date[6:8]}" if len(date) == 8 else date
    notes.update(cleaned.notes)
    return Recording(
        path=path,
        format="hrm",
        rr_ms=cleaned.rr_ms,
        bad_values=cleaned.bad_values,
        notes=notes,
    )


def _check_interval(path: Path, params: dict[str, tuple[int, str]]) -> None:
    """Raise unless ``[Params]`` says the file is an R-R recording (``Interval=238``)."""
    if "interval" not in params:
        raise RecordingError(
            path,
            "has no Interval= in [Params], so it is unknown whether [HRData] holds beat intervals",
        )
    line, text = params["interval"]
    try:
        interval = int(text)
    except ValueError:
        raise RecordingError(path, f"Interval={shorten(text)} is not a number", line) from None
    if interval == RR_INTERVAL_CODE:
        return
    if interval == INTERMEDIATE_TIMES_CODE:
        raise RecordingError(
            path, "holds intermediate (lap) times only (Interval=204), not beat intervals", line
        )
    raise RecordingError(
        path,
        f"holds heart-rate samples every {interval} s (Interval={interval}), not beat "
        f"intervals; record with R-R recording on (Interval={RR_INTERVAL_CODE})",
        line,
    )
