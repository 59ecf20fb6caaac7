"""Recording readers: beat intervals (RR, ms) from the files HRV tools and straps produce.

``read_recording(path)`` picks the reader by content and extension (:func:`detect_format`);
``format=`` overrides the choice. Formats:

- ``rr``: one RR per line (Kubios / most HRV tools), ms or seconds.
- ``csv``: delimited time and RR columns, header or not (strap loggers).
- ``hrm``: Polar HRM exports recorded with R-R on (``Interval=238``).
- ``wfdb``: PhysioNet beat-annotation files (``100.atr``, ``nsr001.ecg``, ``100.qrs``).
- ``fit``: Garmin FIT activity files (``hrv`` messages).
- ``polar-sensor-logger``: Polar Sensor Logger RR, HR, ECG and PPI exports.
- ``hrv-logger``: HRV Logger ``date,rr,since start`` exports.
- ``empatica-ibi``: Empatica E4 ``IBI.csv``.
- ``zip``: an archive of recordings (Elite HRV exports), one reading per member.

Layouts, units and clocks of every format: ``docs/formats.md``.

Every failure is a one-line :class:`~hrvcalm.errors.RecordingError` naming the file (and the
line); bad values inside a good file are skipped and listed in ``Recording.bad_values``.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from pathlib import Path

from hrvcalm.errors import RecordingError
from hrvcalm.recordings._common import check_file, looks_binary, one_line, parse_number
from hrvcalm.recordings.base import BadValue, Recording
from hrvcalm.recordings.csv_rr import read_csv_rr
from hrvcalm.recordings.fit import looks_like_fit, read_fit
from hrvcalm.recordings.hrm import read_hrm
from hrvcalm.recordings.polar_sensor_logger import (
    looks_like_polar_sensor_logger,
    read_polar_sensor_logger,
)
from hrvcalm.recordings.rr_text import read_rr_text
from hrvcalm.recordings.text_exports import (
    looks_like_empatica_ibi,
    looks_like_hrv_logger,
    read_empatica_ibi,
    read_hrv_logger,
    read_zip,
)
from hrvcalm.recordings.wfdb_annotations import (
    ANNOTATION_EXTENSIONS,
    SIGNAL_EXTENSIONS,
    looks_like_annotations,
    read_wfdb_annotations,
)

__all__ = ["FORMATS", "BadValue", "Recording", "detect_format", "read_recording"]

FORMATS = (
    "rr",
    "csv",
    "hrm",
    "wfdb",
    "fit",
    "polar-sensor-logger",
    "hrv-logger",
    "empatica-ibi",
    "zip",
)
"""Names accepted by ``read_recording(..., format=...)``."""

_READERS: dict[str, Callable[[Path], Recording]] = {
    "rr": read_rr_text,
    "csv": read_csv_rr,
    "hrm": read_hrm,
    "wfdb": read_wfdb_annotations,
    "fit": read_fit,
    "polar-sensor-logger": read_polar_sensor_logger,
    "hrv-logger": read_hrv_logger,
    "empatica-ibi": read_empatica_ibi,
    "zip": read_zip,
}
_HEAD_BYTES = 65536


def read_recording(path: str | Path, format: str | None = None) -> Recording:
    """Read the beat intervals of a recording file.

    Args:
        path: The file.
        format: One of :data:`FORMATS` to skip detection; ``None`` to detect it.

    Returns:
        The recording, RR in ms.

    Raises:
        RecordingError: An unknown format name, or a file that cannot be read as beat
            intervals (the message names the file and, where there is one, the line).
    """
    path = Path(path)
    if format is None:
        name = detect_format(path)
    else:
        name = format.strip().lower()
        if name not in _READERS:
            raise RecordingError(
                path, f"unknown format {format!r}; valid formats: {', '.join(FORMATS)}"
            )
    return _READERS[name](path)


def detect_format(path: Path) -> str:
    """Guess a file's format from its content and extension.

    Order: ``.hea`` (and ``.dat`` with a header beside it) -> ``wfdb`` (the reader explains
    that it is a signal record); a FIT header or ``.fit`` -> ``fit``; a zip -> ``zip``;
    binary content ->
    ``wfdb`` if it is named like or shaped like a beat-annotation file; a first line
    ``Phone timestamp;...`` -> ``polar-sensor-logger``; ``<unix s>, IBI`` -> ``empatica-ibi``;
    ``date,rr,...`` -> ``hrv-logger``; ``[Params]``/``[HRData]`` or ``.hrm`` -> ``hrm``; ``.csv``,
    ``.tsv`` or several columns a line -> ``csv``; else ``rr``.

    Args:
        path: The file.

    Returns:
        One of :data:`FORMATS`.

    Raises:
        RecordingError: Missing, a directory, empty, unreadable, or binary but not WFDB.
    """
    path = Path(path)
    check_file(path)
    suffix = path.suffix[1:].lower()
    base = path.parent / path.name[: len(path.name) - len(path.suffix)]
    has_header = (base.parent / f"{base.name}.hea").is_file()
    try:
        with path.open("rb") as handle:
            head = handle.read(_HEAD_BYTES)
    except OSError as exc:
        raise RecordingError(path, f"cannot be read: {one_line(exc.strerror or str(exc))}") from exc
    if suffix == "hea" or (suffix == "dat" and has_header):
        return "wfdb"
    if looks_like_fit(head) or suffix == "fit":
        return "fit"
    if head.startswith(b"PK\x03\x04") or suffix == "zip":
        return "zip"
    if looks_binary(head):
        named = suffix in ANNOTATION_EXTENSIONS or suffix in SIGNAL_EXTENSIONS or has_header
        if suffix and (named or looks_like_annotations(path)):
            return "wfdb"
        raise RecordingError(
            path,
            "is a binary file, neither a text recording nor a WFDB annotation file "
            "(no RECORD.hea header beside it)",
        )
    text = _decode_head(head)
    lines = [s.strip() for s in text.splitlines()]
    if lines and looks_like_polar_sensor_logger(lines[0]):
        return "polar-sensor-logger"
    if lines and looks_like_empatica_ibi(lines[0]):
        return "empatica-ibi"
    if lines and looks_like_hrv_logger(lines[0]):
        return "hrv-logger"
    if any(s.lower() in ("[params]", "[hrdata]") for s in lines) or suffix == "hrm":
        return "hrm"
    if suffix in ("csv", "tsv"):
        return "csv"
    sample = [s for s in lines if s and not s.startswith("#")][:20]
    if sample and _columns(sample) >= 0.8 * len(sample):
        return "csv"
    return "rr"


def _decode_head(head: bytes) -> str:
    """Decode the start of a text file leniently (it may end inside a character)."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return head.decode("utf-16", errors="replace")
    if head.startswith(codecs.BOM_UTF8):
        head = head[len(codecs.BOM_UTF8) :]
    return head.decode("utf-8", errors="replace")


def _columns(sample: list[str]) -> int:
    """How many of the lines hold several columns: a separator, or blank-separated numbers."""
    return sum(_several_columns(s) for s in sample)


def _several_columns(line: str) -> bool:
    """True for ``1.2,936`` or ``1.2;936`` or ``1.2<TAB>936`` or ``1.2   936``."""
    if any(sep in line for sep in (",", ";", "\t")):
        return True
    fields = line.split()
    return len(fields) > 1 and all(parse_number(f) is not None for f in fields)
