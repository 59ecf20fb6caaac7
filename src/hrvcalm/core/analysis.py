"""Offline analysis of a whole recording in fixed windows.

Windows follow the PhysioNet Cardiovascular Signal Toolbox's convention (DESIGN.md section 4):
time runs from the first beat of the recording (the cumulative sum of RR), a beat belongs to
the window in which its interval ends, and windows are ``[start_s, start_s + window_s)`` for
``start_s = 0, step_s, 2 step_s, ...`` while the window starts before the last beat.

Beats are screened by the same :class:`~hrvcalm.core.artifacts.ArtifactScreen` as the live
path, beat by beat in recording order, so offline and live agree on what is an artifact.
The statistics are those of :mod:`hrvcalm.core.window`, computed with NumPy on each window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hrvcalm.core.artifacts import ArtifactScreen
from hrvcalm.core.window import TimeDomain
from hrvcalm.events import Metrics

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

DEFAULT_WINDOW_S = 300.0
DEFAULT_MIN_BEATS = 30


@dataclass(frozen=True, slots=True)
class WindowMetrics:
    """Metrics of one analysis window ``[start_s, end_s)``."""

    start_s: float
    end_s: float
    metrics: Metrics


@dataclass(frozen=True, slots=True)
class Analysis:
    """A recording's summary (all beats) and its windows."""

    n_beats: int
    n_artifacts: int
    summary: Metrics
    windows: tuple[WindowMetrics, ...]


def screen_artifacts(rr_ms: FloatArray, gap_before: BoolArray | None = None) -> BoolArray:
    """Run the live artifact screen over a whole series; ``True`` marks an artifact."""
    screen = ArtifactScreen()
    gaps = np.zeros(rr_ms.size, dtype=bool) if gap_before is None else gap_before
    return np.fromiter(
        (
            screen.is_artifact(float(rr), gap_before=bool(g))
            for rr, g in zip(rr_ms, gaps, strict=True)
        ),
        dtype=bool,
        count=rr_ms.size,
    )


def time_domain(
    rr_ms: FloatArray,
    normal: BoolArray,
    gap_before: BoolArray | None = None,
    *,
    min_beats: int = DEFAULT_MIN_BEATS,
) -> TimeDomain:
    """Time-domain metrics of one block of consecutive beats (see :mod:`hrvcalm.core.window`).

    Args:
        rr_ms: Intervals in ms.
        normal: ``False`` for artifacts (left out).
        gap_before: ``True`` where beats are missing before a beat (no difference across).
        min_beats: Normal beats needed for any metric.
    """
    n_all = int(rr_ms.size)
    nn = rr_ms[normal]
    n = int(nn.size)
    artifacts_pct = 100.0 * (n_all - n) / n_all if n_all else None
    pair_ok = normal[1:] & normal[:-1]
    if gap_before is not None:
        pair_ok &= ~gap_before[1:]
    diffs = np.diff(rr_ms)[pair_ok]
    if n < max(3, min_beats) or diffs.size < 2:
        return TimeDomain(None, None, None, None, None, n_all, n, artifacts_pct)
    mean = float(np.mean(nn))
    return TimeDomain(
        mean_nn_ms=mean,
        sdnn_ms=float(np.std(nn, ddof=1)),
        rmssd_ms=math.sqrt(float(np.mean(diffs * diffs))),
        pnn50_pct=100.0 * float(np.count_nonzero(np.abs(diffs) > 50.0)) / diffs.size,
        mean_hr_bpm=60_000.0 / mean,
        n_beats=n_all,
        n_normal=n,
        artifacts_pct=artifacts_pct,
    )


def _metrics(t_s: float, td: TimeDomain) -> Metrics:
    quality = None if td.artifacts_pct is None else 1.0 - td.artifacts_pct / 100.0
    return Metrics(
        t_s=t_s,
        mean_nn_ms=td.mean_nn_ms,
        sdnn_ms=td.sdnn_ms,
        rmssd_ms=td.rmssd_ms,
        pnn50_pct=td.pnn50_pct,
        mean_hr_bpm=td.mean_hr_bpm,
        quality=quality,
        artifacts_pct=td.artifacts_pct,
        n_beats=td.n_beats,
    )


def window_starts(duration_s: float, window_s: float, step_s: float) -> FloatArray:
    """Start times of the windows that begin before ``duration_s``."""
    if window_s <= 0 or step_s <= 0:
        raise ValueError("window and step must be positive")
    count = max(1, math.ceil(duration_s / step_s))
    return np.arange(count, dtype=np.float64) * step_s


def analyze_rr(
    rr_ms: FloatArray,
    *,
    window_s: float = DEFAULT_WINDOW_S,
    step_s: float | None = None,
    correction: bool = True,
    min_beats: int = DEFAULT_MIN_BEATS,
) -> Analysis:
    """Analyze a series of intervals.

    Args:
        rr_ms: Intervals in ms, in order.
        window_s: Window length, s.
        step_s: Step between window starts, s (default: ``window_s``, no overlap).
        correction: Screen artifacts; ``False`` uses every interval as it is.
        min_beats: Normal beats a window needs for its metrics to be reported.
    """
    rr = np.asarray(rr_ms, dtype=np.float64)
    step = window_s if step_s is None else step_s
    artifact = screen_artifacts(rr) if correction else np.zeros(rr.size, dtype=bool)
    normal = ~artifact
    times = np.cumsum(rr) / 1000.0
    end_t = float(times[-1]) if rr.size else 0.0
    summary = _metrics(end_t, time_domain(rr, normal, min_beats=min_beats))
    windows = []
    if rr.size:
        for start in window_starts(end_t, window_s, step):
            lo = int(np.searchsorted(times, start, side="left"))
            hi = int(np.searchsorted(times, start + window_s, side="left"))
            td = time_domain(rr[lo:hi], normal[lo:hi], min_beats=min_beats)
            windows.append(
                WindowMetrics(
                    float(start),
                    float(start + window_s),
                    _metrics(float(times[hi - 1]) if hi > lo else float(start), td),
                )
            )
    return Analysis(
        n_beats=int(rr.size),
        n_artifacts=int(np.count_nonzero(artifact)),
        summary=summary,
        windows=tuple(windows),
    )
