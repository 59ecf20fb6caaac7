"""Streaming time-domain HRV over a sliding time window, O(1) per beat.

The window holds the beats whose interval ended within the last ``window_s`` seconds,
``(t_last - window_s, t_last]``. Beats marked as artifacts stay in the window (they count in
``artifacts_pct``) but not in the statistics, and a successive difference is only formed
between two adjacent normal (NN) beats with no gap between them. Running sums are updated on
every push and eviction; they are recomputed exactly every ``_RESYNC_EVERY`` beats so that
floating-point drift cannot build up over a long session.

Metrics (Task Force 1996, Circulation 93:1043; the same definitions as NeuroKit's
``hrv_time`` and the PhysioNet Cardiovascular Signal Toolbox):

- ``mean_nn_ms``: mean of the NN intervals.
- ``sdnn_ms``: standard deviation of the NN intervals, ddof=1.
- ``rmssd_ms``: root mean square of successive NN differences.
- ``pnn50_pct``: percentage of successive NN differences larger than 50 ms.
- ``mean_hr_bpm``: ``60000 / mean_nn_ms``.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

_RESYNC_EVERY = 4096


#: One beat in the window: ``(t_s, rr_ms, normal, diff_from_prev)``, the successive difference
#: to the previous beat (ms) or ``None``. A plain tuple of numbers: the garbage collector
#: stops tracking it, which matters when a clinic server holds a thousand windows.
_Entry = tuple[float, float, bool, float | None]


@dataclass(frozen=True, slots=True)
class TimeDomain:
    """Time-domain metrics of one window; ``None`` where the window has too few beats."""

    mean_nn_ms: float | None
    sdnn_ms: float | None
    rmssd_ms: float | None
    pnn50_pct: float | None
    mean_hr_bpm: float | None
    n_beats: int
    n_normal: int
    artifacts_pct: float | None


class SlidingTimeDomain:
    """Incremental time-domain HRV over the trailing ``window_s`` seconds.

    Args:
        window_s: Window length in seconds.
        min_beats: Normal beats needed in the window before any metric is reported.

    Call :meth:`push` once per beat in time order, then :meth:`metrics` whenever needed.
    """

    def __init__(self, window_s: float = 60.0, min_beats: int = 30) -> None:
        if window_s <= 0:
            raise ValueError("window_s must be positive")
        self.window_s = window_s
        self.min_beats = max(3, min_beats)
        self._entries: deque[_Entry] = deque()
        self._pushes = 0
        self._reset_sums()

    def _reset_sums(self) -> None:
        self._n_nn = 0
        self._sum = 0.0
        self._sum_sq = 0.0
        self._n_diff = 0
        self._sum_diff_sq = 0.0
        self._n_diff_over_50 = 0

    def push(
        self, t_s: float, rr_ms: float, *, normal: bool = True, gap_before: bool = False
    ) -> None:
        """Add one beat and evict those that left the window.

        Args:
            t_s: Time the interval ended, seconds; must not decrease.
            rr_ms: The interval in ms.
            normal: ``False`` for an artifact (kept for counting, left out of the metrics).
            gap_before: Beats are missing right before this one: no successive difference.
        """
        diff = None
        if self._entries:
            _, prev_rr, prev_normal, _ = self._entries[-1]
            if normal and prev_normal and not gap_before:
                diff = rr_ms - prev_rr
                self._add_diff(diff, +1)
        self._entries.append((t_s, rr_ms, normal, diff))
        if normal:
            self._add_nn(rr_ms, +1)
        self._evict_before(t_s - self.window_s)
        self._pushes += 1
        if self._pushes % _RESYNC_EVERY == 0:
            self._resync()

    def _add_nn(self, rr_ms: float, sign: int) -> None:
        self._n_nn += sign
        self._sum += sign * rr_ms
        self._sum_sq += sign * rr_ms * rr_ms

    def _add_diff(self, diff_ms: float, sign: int) -> None:
        self._n_diff += sign
        self._sum_diff_sq += sign * diff_ms * diff_ms
        if abs(diff_ms) > 50.0:
            self._n_diff_over_50 += sign

    def _evict_before(self, cutoff_s: float) -> None:
        entries = self._entries
        while entries and entries[0][0] <= cutoff_s:
            _, rr_ms, normal, _ = entries.popleft()
            if normal:
                self._add_nn(rr_ms, -1)
            if entries and entries[0][3] is not None:  # the difference to the evicted beat
                self._add_diff(entries[0][3], -1)

    def _resync(self) -> None:
        self._reset_sums()
        for i, (_, rr_ms, normal, diff) in enumerate(self._entries):
            if normal:
                self._add_nn(rr_ms, +1)
            if diff is not None and i > 0:  # the first beat's predecessor has left
                self._add_diff(diff, +1)

    def metrics(self) -> TimeDomain:
        """The metrics of the current window."""
        n_all = len(self._entries)
        n = self._n_nn
        artifacts_pct = 100.0 * (n_all - n) / n_all if n_all else None
        if n < self.min_beats or self._n_diff < 2:
            return TimeDomain(None, None, None, None, None, n_all, n, artifacts_pct)
        mean = self._sum / n
        variance = max(0.0, (self._sum_sq - self._sum * mean) / (n - 1))
        rmssd = math.sqrt(max(0.0, self._sum_diff_sq / self._n_diff))
        pnn50 = 100.0 * self._n_diff_over_50 / self._n_diff
        return TimeDomain(
            mean_nn_ms=mean,
            sdnn_ms=math.sqrt(variance),
            rmssd_ms=rmssd,
            pnn50_pct=pnn50,
            mean_hr_bpm=60_000.0 / mean,
            n_beats=n_all,
            n_normal=n,
            artifacts_pct=artifacts_pct,
        )
