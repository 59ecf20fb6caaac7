"""Offline analysis of a whole recording in fixed windows.

Windows follow the PhysioNet Cardiovascular Signal Toolbox's convention (DESIGN.md section 4):
time runs from the first beat of the recording (the cumulative sum of RR), a beat belongs to
the window in which its interval ends, and windows are ``[start_s, start_s + window_s)`` for
``start_s = 0, step_s, 2 step_s, ...`` while the window starts before the last beat.

Artifacts are classified by the same streaming Lipponen-Tarvainen classifier as the live path
(:class:`~hrvcalm.core.correction.BeatCorrector`), beat by beat in recording order, so offline
and live agree on every beat. For annotated recordings (WFDB), an interval that begins or ends
at a beat not of sinus origin (anything but ``N L R e j``: ventricular, supraventricular
ectopic, fusion, unclassified) is excluded too, as the toolbox does.

The normal beats of the whole recording are resampled once by a cubic spline at 4 Hz; each
window's Welch spectrum, coherence and breathing rate use its slice of that grid (between its
first and last normal beat), which is what a per-window spline gives up to the spline's edge
effects, at a fraction of the cost. The windows are computed together, with the same
definitions as one window alone (:mod:`hrvcalm.core.batch`). What a window's spectrum can hold
depends on its seconds of beats (:mod:`hrvcalm.core.spectrum`: LF from 120 s, VLF from 300 s).

A window the recording ends inside (its end more than ``SPAN_SLACK_S`` after the last beat)
is *partial* (``WindowMetrics.partial``): its metrics are those of the beats it holds, and it
is left out of the summary's frequency-domain and breathing values.

The whole-recording summary has the time-domain and nonlinear metrics of all beats, the
frequency-domain metrics of the beats up to the end of the last complete window, and the
median over the complete windows of coherence and breathing rate (which describe a minute or
two, not a day); a recording shorter than one window has only a partial window, and its
summary then uses all beats and that window.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hrvcalm.core.batch import Beats, scheduled_windows, time_domain_windows
from hrvcalm.core.coherence import Breathing
from hrvcalm.core.correction import classify_series
from hrvcalm.core.metrics import Scheduled, assemble, spectral_metrics
from hrvcalm.core.nonlinear import nonlinear
from hrvcalm.core.spectrum import SPAN_SLACK_S, cubic_spline, increasing
from hrvcalm.core.window import TimeDomain
from hrvcalm.events import Metrics

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

DEFAULT_WINDOW_S = 300.0
DEFAULT_MIN_BEATS = 30
GRID_HZ = 4.0
#: WFDB beat labels of sinus origin (the AAMI "N" class).
SINUS_LABELS = frozenset("NLRej")


@dataclass(frozen=True, slots=True)
class WindowMetrics:
    """Metrics of one analysis window ``[start_s, end_s)``; ``partial`` if the recording
    ends inside it (see the module docstring)."""

    start_s: float
    end_s: float
    metrics: Metrics
    partial: bool = False


@dataclass(frozen=True, slots=True)
class Analysis:
    """A recording's summary (all beats), its windows, and each beat's classification.

    Attributes:
        kinds: Per interval, ``normal`` or the artifact class (see
            :data:`hrvcalm.core.correction.KINDS`; ``label`` for annotated non-sinus beats).
        corrected_rr_ms: Per interval, the display replacement of an artifact, else NaN.
    """

    n_beats: int
    n_artifacts: int
    summary: Metrics
    windows: tuple[WindowMetrics, ...]
    kinds: tuple[str, ...] = ()
    corrected_rr_ms: FloatArray | None = None


def excluded_by_labels(labels: Sequence[str]) -> BoolArray:
    """``True`` for intervals that begin or end at a non-sinus beat (WFDB labels)."""
    ends_ok = np.fromiter((s in SINUS_LABELS for s in labels), dtype=bool, count=len(labels))
    starts_ok = np.concatenate(([True], ends_ok[:-1]))
    return np.asarray(~(ends_ok & starts_ok), dtype=np.bool_)


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
    pair_ok = pairs(normal, gap_before)
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


def pairs(normal: BoolArray, gap_before: BoolArray | None = None) -> BoolArray:
    """``True`` where ``(rr[i], rr[i+1])`` are both normal with no gap between them."""
    ok = normal[1:] & normal[:-1]
    if gap_before is not None:
        ok = ok & ~gap_before[1:]
    return np.asarray(ok, dtype=np.bool_)


def window_starts(duration_s: float, window_s: float, step_s: float) -> FloatArray:
    """Start times of the windows that begin before ``duration_s``."""
    if window_s <= 0 or step_s <= 0:
        raise ValueError("window and step must be positive")
    count = max(1, math.ceil(duration_s / step_s))
    return np.arange(count, dtype=np.float64) * step_s


def _beats(times: FloatArray, rr: FloatArray, normal: BoolArray) -> Beats:
    """The classified beats with the normal ones spline-resampled once at 4 Hz."""
    t_nn, rr_nn = increasing(times[normal], rr[normal])
    if t_nn.size < 4:
        return Beats(times, rr, normal, 0.0, np.zeros(0))
    grid = np.arange(float(t_nn[0]), float(t_nn[-1]), 1.0 / GRID_HZ)
    return Beats(times, rr, normal, float(t_nn[0]), cubic_spline(t_nn, rr_nn, grid))


def _whole(
    beats: Beats, spectral_end_s: float, *, psd: str, min_beats: int
) -> tuple[TimeDomain, Scheduled]:
    """Metrics of all beats as one block (the summary); the frequency domain of the beats
    ending before ``spectral_end_s`` only (the complete windows)."""
    times, rr, normal = beats.times_s, beats.rr_ms, beats.normal
    td = time_domain(rr, normal, min_beats=min_beats)
    if td.mean_nn_ms is None:
        return td, Scheduled()
    t_nn = times[normal]
    nl = nonlinear(rr, normal, pairs(normal))
    end = int(np.searchsorted(times, spectral_end_s, side="left"))
    keep = slice(0, max(end, 1))
    t_kept = times[keep][normal[keep]]
    rr_4hz = beats.grid_between(float(t_nn[0]), float(t_kept[-1])) if t_kept.size else None
    freq, _ = spectral_metrics(
        times[keep], rr[keep], normal[keep], rr_4hz, psd=psd, with_breathing=False
    )
    return td, Scheduled(freq, nl)


def _windows(
    beats: Beats,
    starts: FloatArray,
    window_s: float,
    *,
    psd: str,
    min_beats: int,
    progress: Callable[[int, int], None] | None,
) -> list[WindowMetrics]:
    """Every window's metrics, computed together (see :mod:`hrvcalm.core.batch`)."""
    times = beats.times_s
    lo = np.searchsorted(times, starts, side="left").astype(np.int64)
    hi = np.searchsorted(times, starts + window_s, side="left").astype(np.int64)
    tds = time_domain_windows(beats, lo, hi, min_beats=min_beats)
    valid = np.array([td.mean_nn_ms is not None for td in tds], dtype=bool)
    valid_at = np.flatnonzero(valid)

    def report(done: int) -> None:  # windows with too few beats count as done at once
        if progress is not None:
            total = starts.size
            progress(total if done == valid_at.size else int(valid_at[done]), total)

    scheduled = [Scheduled()] * lo.size
    computed = scheduled_windows(beats, lo[valid], hi[valid], psd=psd, progress=report)
    for i, sched in zip(valid_at.tolist(), computed, strict=True):
        scheduled[i] = sched
    if progress is not None and valid_at.size == 0:
        progress(starts.size, starts.size)
    end_t = float(times[-1])
    return [
        WindowMetrics(
            start,
            start + window_s,
            assemble(float(times[b - 1]) if b > a else start, td, sched),
            partial=start + window_s > end_t + SPAN_SLACK_S,
        )
        for start, a, b, td, sched in zip(
            starts.tolist(), lo.tolist(), hi.tolist(), tds, scheduled, strict=True
        )
    ]


def analyze_rr(
    rr_ms: FloatArray,
    *,
    window_s: float = DEFAULT_WINDOW_S,
    step_s: float | None = None,
    correction: bool = True,
    psd: str = "welch",
    labels: Sequence[str] | None = None,
    min_beats: int = DEFAULT_MIN_BEATS,
    progress: Callable[[int, int], None] | None = None,
) -> Analysis:
    """Analyze a series of intervals.

    Args:
        rr_ms: Intervals in ms, in order.
        window_s: Window length, s.
        step_s: Step between window starts, s (default: ``window_s``, no overlap).
        correction: Classify artifacts; ``False`` uses every interval as it is (annotation
            labels are then ignored too).
        psd: ``welch`` or ``lomb``.
        labels: WFDB beat labels of each interval's end beat, if the recording has them.
        min_beats: Normal beats a window needs for its metrics to be reported.
        progress: Called as ``progress(done, total)`` as windows are done.
    """
    rr = np.asarray(rr_ms, dtype=np.float64)
    step = window_s if step_s is None else step_s
    kinds = ["normal"] * rr.size
    corrected = np.full(rr.size, np.nan)
    if correction:
        for c in classify_series(rr.tolist()):
            kinds[c.index] = c.kind
            if c.corrected_rr_ms is not None:
                corrected[c.index] = c.corrected_rr_ms
        if labels is not None and len(labels) == rr.size:
            for i in np.flatnonzero(excluded_by_labels(labels)):
                if kinds[i] == "normal":
                    kinds[i] = "label"
    normal = np.fromiter((k == "normal" for k in kinds), dtype=bool, count=rr.size)
    times = np.cumsum(rr) / 1000.0
    end_t = float(times[-1]) if rr.size else 0.0
    beats = _beats(times, rr, normal)
    windows = []
    if rr.size:
        starts = window_starts(end_t, window_s, step)
        windows = _windows(beats, starts, window_s, psd=psd, min_beats=min_beats, progress=progress)
    complete = [w for w in windows if not w.partial]
    spectral_end = max((w.end_s for w in complete), default=math.inf)
    td_all, sched_all = _whole(beats, spectral_end, psd=psd, min_beats=min_beats)
    sched_all = Scheduled(
        sched_all.frequency, sched_all.nonlinear, _median_breathing(complete or windows)
    )
    return Analysis(
        n_beats=int(rr.size),
        n_artifacts=int(rr.size - np.count_nonzero(normal)),
        summary=assemble(end_t, td_all, sched_all),
        windows=tuple(windows),
        kinds=tuple(kinds),
        corrected_rr_ms=corrected,
    )


def _median_breathing(windows: list[WindowMetrics]) -> Breathing:
    def median(key: str) -> float | None:
        values = [getattr(w.metrics, key) for w in windows]
        present = [v for v in values if v is not None]
        return float(np.median(present)) if present else None

    return Breathing(median("coherence"), median("resp_rate_bpm"))
