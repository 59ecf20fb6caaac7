"""Shared checks for broken-file tests of the recording readers."""

from __future__ import annotations

from pathlib import Path

import pytest

from hrvcalm.errors import RecordingError
from hrvcalm.recordings import read_recording

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures" / "recordings"


def one_line_error(path: Path, format: str | None = None) -> str:
    """Read ``path``, expect a RecordingError on one line naming the file; return it."""
    with pytest.raises(RecordingError) as exc:
        read_recording(path, format=format)
    message = str(exc.value)
    assert "\n" not in message and "\r" not in message
    assert message.startswith(str(path))
    assert exc.value.path == path
    return message


def source_ibi_ms() -> list[float]:
    """Column 2 of the slow-breathing H10 file: the real intervals the fixtures carry."""
    text = (FIXTURES / "polar_h10_ibi_slowbreathing" / "sample_data_ibi.csv").read_text()
    return [float(line.split(",")[1]) for line in text.split()]
