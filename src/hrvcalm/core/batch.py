"""Many analysis windows of one recording at once (offline analysis).

Offline analysis slides a window over a long recording (24 h in 300-s windows every 30 s is
2,880 windows). Computing each window alone costs mostly Python and NumPy call overhead, so
here the windows are computed together, with the very same definitions:

- time domain, SD1 and SD2 from prefix sums over the whole recording (the sums are centred,
  so they stay exact in float64);
- spectra, coherence and breathing rate for all windows with the same number of 4 Hz grid
  samples in one array operation (:func:`~hrvcalm.core.spectrum.periodogram_rows` and the
  ``*_rows`` functions of :mod:`~hrvcalm.core.coherence`);
- DFA alpha1 and the stress index for all windows in one array operation (each window's
  normal beats one row, padded to the longest).

Results equal a window-by-window computation up to float rounding
(tests/core/test_batch.py compares them on real recordings).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hrvcalm.core.coherence import Breathing, breathing_rows
from hrvcalm.core.metrics import Scheduled, spectral_metrics
from hrvcalm.core.nonlinear import (
    PREFIX_SUM_MAX_BEATS,
    Nonlinear,
    dfa_alpha1,
    dfa_alpha1_rows,
    poincare_windows,
    stress_index,
    stress_index_rows,
)
from hrvcalm.core.spectrum import (
    MIN_SPAN_S,
    RESAMPLE_HZ,
    FrequencyDomain,
    frequency_domain_rows,
    periodogram_rows,
    welch_segment,
)
from hrvcalm.core.window import TimeDomain

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

#: Windows whose rows are stacked at once (bounds memory: a few MB for 300-s windows).
CHUNK_WINDOWS = 256


@dataclass(frozen=True)
class Beats:
    """A recording's classified beats and its 4 Hz spline of the normal ones.

    Attributes:
        times_s: End time of each interval, s (cumulative sum of RR), increasing.
        rr_ms: Every interval, ms.
        normal: ``True`` for intervals used in the metrics.
        grid_t0_s: Time of the first 4 Hz grid sample, s.
        grid_ms: The normal RR spline-resampled at 4 Hz from ``grid_t0_s``.
    """

    times_s: FloatArray
    rr_ms: FloatArray
    normal: BoolArray
    grid_t0_s: float
    grid_ms: FloatArray

    def grid_between(self, lo_s: float, hi_s: float) -> FloatArray:
        """The grid samples from ``lo_s`` to ``hi_s`` (the window's first and last NN)."""
        lo, hi = self._grid_bounds(np.array([lo_s]), np.array([hi_s]))
        return self.grid_ms[int(lo[0]) : int(hi[0])]

    def _grid_bounds(self, lo_s: FloatArray, hi_s: FloatArray) -> tuple[IntArray, IntArray]:
        lo = np.maximum(0, np.ceil((lo_s - self.grid_t0_s) * RESAMPLE_HZ - 1e-9)).astype(np.int64)
        hi = np.floor((hi_s - self.grid_t0_s) * RESAMPLE_HZ + 1e-9).astype(np.int64)
        return lo, np.maximum(lo, hi)


def _prefix(values: FloatArray) -> FloatArray:
    return np.concatenate(([0.0], np.cumsum(values)))


def time_domain_windows(
    beats: Beats, lo: IntArray, hi: IntArray, *, min_beats: int
) -> list[TimeDomain]:
    """Time-domain metrics of the windows ``[lo, hi)`` (beat indices), as
    :func:`hrvcalm.core.analysis.time_domain` gives them one by one."""
    rr, normal = beats.rr_ms, beats.normal
    pair_ok = normal[1:] & normal[:-1]
    centre = float(np.mean(rr[normal])) if normal.any() else 0.0
    nn = np.where(normal, rr - centre, 0.0)
    diffs = np.where(pair_ok, np.diff(rr), 0.0)
    count_nn, sum_nn, sum_nn2 = _prefix(normal.astype(np.float64)), _prefix(nn), _prefix(nn * nn)
    count_d, sum_d2 = _prefix(pair_ok.astype(np.float64)), _prefix(diffs * diffs)
    over_50 = _prefix((np.abs(diffs) > 50.0).astype(np.float64))
    last_pair = np.maximum(lo, hi - 1)  # window [lo, hi) holds the pairs lo .. hi-2
    n_all = (hi - lo).tolist()
    n = np.rint(count_nn[hi] - count_nn[lo])
    n_d = np.rint(count_d[last_pair] - count_d[lo])
    valid = (n >= max(3, min_beats)) & (n_d >= 2)
    with np.errstate(invalid="ignore", divide="ignore"):  # the invalid windows are dropped
        s1 = sum_nn[hi] - sum_nn[lo]
        var = (sum_nn2[hi] - sum_nn2[lo] - s1 * s1 / n) / (n - 1.0)
        mean = centre + s1 / n
        sdnn = np.sqrt(np.maximum(var, 0.0))
        rmssd = np.sqrt((sum_d2[last_pair] - sum_d2[lo]) / n_d)
        pnn50 = 100.0 * np.rint(over_50[last_pair] - over_50[lo]) / n_d
        mean_hr = 60_000.0 / mean
    out = []
    for ok, total, k, mean_nn, sd, rms, pnn, hr in zip(
        valid.tolist(),
        n_all,
        n.astype(np.int64).tolist(),
        mean.tolist(),
        sdnn.tolist(),
        rmssd.tolist(),
        pnn50.tolist(),
        mean_hr.tolist(),
        strict=True,
    ):
        artifacts_pct = 100.0 * (total - k) / total if total else None
        if ok:
            out.append(TimeDomain(mean_nn, sd, rms, pnn, hr, total, k, artifacts_pct))
        else:
            out.append(TimeDomain(None, None, None, None, None, total, k, artifacts_pct))
    return out


def scheduled_windows(
    beats: Beats,
    lo: IntArray,
    hi: IntArray,
    *,
    psd: str = "welch",
    progress: Callable[[int], None] | None = None,
) -> list[Scheduled]:
    """Frequency-domain, nonlinear and breathing metrics of the windows ``[lo, hi)``.

    Every window must hold enough normal beats for the time-domain metrics (the caller
    leaves the others empty). The stacked rows are built ``CHUNK_WINDOWS`` windows at a time
    (a few MB); ``progress(done)`` is called after each chunk.
    """
    normal = beats.normal
    count_nn = np.concatenate(([0], np.cumsum(normal, dtype=np.int64)))
    nn_first, nn_end = count_nn[lo], count_nn[hi]  # NN indices [first, end) of each window
    nn_times = beats.times_s[normal]
    nn_ms = beats.rr_ms[normal]
    sd1, sd2 = poincare_windows(beats.rr_ms, normal[1:] & normal[:-1], lo, hi)
    out: list[Scheduled] = []
    for start in range(0, lo.size, CHUNK_WINDOWS):
        part = slice(start, start + CHUNK_WINDOWS)
        a, b, first, end = lo[part], hi[part], nn_first[part], nn_end[part]
        frequency, breathing = _spectral_windows(beats, a, b, nn_times, first, end, psd)
        dfa, si = _dfa_and_stress_windows(nn_ms, first, end)
        out.extend(
            Scheduled(f, Nonlinear(_none_if_nan(x1), _none_if_nan(x2), d, s), br)
            for f, br, x1, x2, d, s in zip(
                frequency, breathing, sd1[part].tolist(), sd2[part].tolist(), dfa, si, strict=True
            )
        )
        if progress is not None:
            progress(len(out))
    return out


def _none_if_nan(value: float) -> float | None:
    return None if math.isnan(value) else value


def _groups(keys: IntArray, indices: IntArray) -> dict[int, IntArray]:
    """Window indices grouped by a key (a length: windows of equal shape stack)."""
    grouped: dict[int, list[int]] = defaultdict(list)
    for key, i in zip(keys.tolist(), indices.tolist(), strict=True):
        grouped[key].append(i)
    return {key: np.array(members, dtype=np.int64) for key, members in grouped.items()}


def _spectral_windows(
    beats: Beats,
    lo: IntArray,
    hi: IntArray,
    nn_times: FloatArray,
    nn_first: IntArray,
    nn_end: IntArray,
    psd: str,
) -> tuple[list[FrequencyDomain], list[Breathing]]:
    count = lo.size
    frequency = [FrequencyDomain()] * count
    breathing = [Breathing()] * count
    n_nn = nn_end - nn_first
    has_nn = n_nn > 0
    t_first = np.where(has_nn, nn_times[np.minimum(nn_first, nn_times.size - 1)], 0.0)
    t_last = np.where(has_nn, nn_times[np.maximum(nn_end - 1, 0)], 0.0)
    spectral = (n_nn >= 16) & (t_last - t_first >= MIN_SPAN_S)
    g_lo, g_hi = beats._grid_bounds(t_first, t_last)
    length = g_hi - g_lo
    stackable = spectral & (length >= 16) & (length <= welch_segment(RESAMPLE_HZ))
    if psd != "welch":
        stackable[:] = False
    rr_sum = np.concatenate(([0.0], np.cumsum(beats.rr_ms)))
    spans = ((rr_sum[hi] - rr_sum[lo]) / 1000.0).tolist()  # seconds of beats per window
    for i in np.flatnonzero(spectral & ~stackable).tolist():  # Lomb, or very long windows
        a, b = int(lo[i]), int(hi[i])
        grid = beats.grid_ms[int(g_lo[i]) : int(g_hi[i])]
        frequency[i], breathing[i] = spectral_metrics(
            beats.times_s[a:b], beats.rr_ms[a:b], beats.normal[a:b], grid, psd=psd
        )
    for size, members in _groups(length[stackable], np.flatnonzero(stackable)).items():
        rows = beats.grid_ms[g_lo[members][:, np.newaxis] + np.arange(size)]
        freqs, psd_rows = periodogram_rows(rows, RESAMPLE_HZ)
        for i, f, br in zip(
            members.tolist(),
            frequency_domain_rows(freqs, psd_rows, [spans[m] for m in members.tolist()]),
            breathing_rows(rows),
            strict=True,
        ):
            frequency[i], breathing[i] = f, br
    return frequency, breathing


def _dfa_and_stress_windows(
    nn_ms: FloatArray, nn_first: IntArray, nn_end: IntArray
) -> tuple[list[float | None], list[float | None]]:
    n_nn = nn_end - nn_first
    short = n_nn <= PREFIX_SUM_MAX_BEATS
    # One padded row per window (the rows' lengths differ by a few beats).
    width = int(n_nn[short].max()) if short.any() else 0
    at = np.minimum(nn_first[short][:, np.newaxis] + np.arange(width), max(nn_ms.size - 1, 0))
    rows = nn_ms[at] if nn_ms.size else np.zeros((int(np.count_nonzero(short)), width))
    dfa: list[float | None] = [None] * n_nn.size
    si: list[float | None] = [None] * n_nn.size
    for i, d, s in zip(
        np.flatnonzero(short).tolist(),
        dfa_alpha1_rows(rows, n_nn[short]),
        stress_index_rows(rows, n_nn[short]),
        strict=True,
    ):
        dfa[i], si[i] = d, s
    for i in np.flatnonzero(~short).tolist():  # a window of hours: the direct loop
        window = nn_ms[int(nn_first[i]) : int(nn_end[i])]
        dfa[i], si[i] = dfa_alpha1(window), stress_index(window)
    return dfa, si
