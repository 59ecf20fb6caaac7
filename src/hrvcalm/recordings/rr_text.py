"""Reader for plain RR text files: one beat-to-beat interval per line.

This is the format Kubios and most HRV tools import and export (``rest_rri.txt``). Values are
in ms; a file whose median value is below 3 is taken to be in seconds and converted. Blank
lines and lines starting with ``#`` are ignored; a first line that is not a number (``RR``,
``rr_ms``, ``RR (s)``) is a header and may state the unit.
"""

from __future__ import annotations

import re
from pathlib import Path

from hrvcalm.recordings._common import Cell, clean_rr, parse_number, read_lines, unit_from_name
from hrvcalm.recordings.base import Recording


def read_rr_text(path: Path) -> Recording:
    """Read a text file with one RR interval per line.

    Args:
        path: The file.

    Returns:
        The recording: ``rr_ms`` in ms, no arrival times, no labels.

    Raises:
        RecordingError: The file cannot be read, holds no valid value or too many bad ones.
    """
    lines, notes = read_lines(path)
    cells: list[Cell] = []
    header: str | None = None
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        is_first = header is None and not cells
        if is_first and _is_header(text):
            header = text
            continue
        cells.append(Cell(number, text))
    unit = unit_from_name(header) if header is not None else None
    hint = ""
    if any(sep in c.text for c in cells[:20] for sep in (",", ";", "\t")):
        hint = " (lines have several columns: read it as format 'csv')"
    cleaned = clean_rr(path, cells, unit=unit if unit in ("ms", "s") else None, hint=hint)
    if header is not None:
        notes["header"] = header
    from hrvcalm.recordings.text_exports import start_from_name

    start = start_from_name(path)
    if start is not None:
        notes["start_time"] = f"{start.isoformat()} (from the file name, as Elite HRV names them)"
    notes.update(cleaned.notes)
    return Recording(
        path=path,
        format="rr",
        rr_ms=cleaned.rr_ms,
        bad_values=cleaned.bad_values,
        notes=notes,
        start_time=start,
    )


def _is_header(text: str) -> bool:
    """A first line naming the column (``RR``, ``RR (s)``): words, not numbers."""
    fields = [f for f in re.split(r"[\s,;]+", text) if f]
    return any(c.isalpha() for c in text) and all(parse_number(f) is None for f in fields)
