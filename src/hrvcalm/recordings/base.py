"""The in-memory form of a recording, shared by every reader and writer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class BadValue:
    """A value inside an otherwise good file that was skipped (reported, never fatal).

    Attributes:
        line: 1-based line number in the file (for WFDB: the annotation index, 1-based).
        text: The offending text as it stands in the file.
        reason: Why it was skipped, in words a user understands.
    """

    line: int
    text: str
    reason: str


@dataclass(frozen=True)
class Recording:
    """Beat intervals read from a file.

    Attributes:
        path: The file read.
        format: Reader that read it: ``rr`` (one RR per line), ``csv``, ``hrm`` (Polar) or
            ``wfdb`` (PhysioNet beat annotations).
        rr_ms: Beat-to-beat intervals in ms, in file order, bad values already left out.
        arrival_s: When each interval was received or logged, in seconds from the first
            row, if the file records it (a strap logger's host time); else ``None``.
            Several intervals that share one notification share (nearly) one time.
        labels: For annotated recordings, the label of the beat that ends each interval
            (WFDB symbols: ``N`` normal, ``V`` ventricular, ...); else ``None``.
        bad_values: Values skipped inside the file, with their line numbers.
        resolution_ms: The timing resolution of the intervals if known (1000/fs for WFDB).
        notes: Facts about the file worth telling a user (sampling rate, device, date).
        start_time: When the recording began, if the file says so (timezone-aware when the
            file states the zone or uses UTC, e.g. FIT, Empatica; naive local time otherwise).
    """

    path: Path
    format: str
    rr_ms: FloatArray
    arrival_s: FloatArray | None = None
    labels: tuple[str, ...] | None = None
    bad_values: tuple[BadValue, ...] = ()
    resolution_ms: float | None = None
    notes: dict[str, str] = field(default_factory=dict)
    start_time: datetime | None = None

    @property
    def beat_times_s(self) -> FloatArray:
        """End time of each interval in seconds from the first beat (cumulative sum of RR).

        This is the time axis of ``hrvcalm analyze``: a beat belongs to the window in which
        its interval ends.
        """
        return np.cumsum(self.rr_ms) / 1000.0

    @property
    def duration_s(self) -> float:
        """Length of the recording in seconds (sum of the intervals)."""
        return float(np.sum(self.rr_ms)) / 1000.0

    def __len__(self) -> int:
        return int(self.rr_ms.size)
