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
    n_all = hi - lo
    n = np.rint(count_nn[hi] - count_nn[lo]).astype(np.int64)
    n_d = np.rint(count_d[last_pair] - count_d[lo]).astype(np.int64)
    out = []
    for i in range(lo.size):
        a, b, c, k = int(lo[i]), int(hi[i]), int(last_pair[i]), int(n[i])
        total = int(n_all[i])
        artifacts_pct = 100.0 * (total - k) / total if total else None
        if k < max(3, min_beats) or n_d[i] < 2:
            out.append(TimeDomain(None, None, None, None, None, total, k, artifacts_pct))
            continue
        s1 = float(sum_nn[b] - sum_nn[a])
        var = (float(sum_nn2[b] - sum_nn2[a]) - s1 * s1 / k) / (k - 1)
        mean = centre + s1 / k
        out.append(
            TimeDomain(
                mean_nn_ms=mean,
                sdnn_ms=math.sqrt(max(var, 0.0)),
                rmssd_ms=math.sqrt(float(sum_d2[c] - sum_d2[a]) / int(n_d[i])),
                pnn50_pct=100.0 * round(float(over_50[c] - over_50[a])) / int(n_d[i]),
                mean_hr_bpm=60_000.0 / mean,
                n_beats=total,
                n_normal=k,
                artifacts_pct=artifacts_pct,
            )
        )
    return out


def scheduled_windows(
    beats: Beats, lo: IntArray, hi: IntArray, *, psd: str = "welch"
) -> list[Scheduled]:
    """Frequency-domain, nonlinear and breathing metrics of the windows ``[lo, hi)``.

    Every window must hold enough normal beats for the time-domain metrics (the caller
    leaves the others empty).
    """
    normal = beats.normal
    count_nn = np.concatenate(([0], np.cumsum(normal, dtype=np.int64)))
    nn_first, nn_end = count_nn[lo], count_nn[hi]  # NN indices [first, end) of each window
    nn_times = beats.times_s[normal]
    nn_ms = beats.rr_ms[normal]
    frequency, breathing = _spectral_windows(beats, lo, hi, nn_times, nn_first, nn_end, psd)
    nonlinear = _nonlinear_windows(beats, lo, hi, nn_ms, nn_first, nn_end)
    return [Scheduled(f, nl, br) for f, nl, br in zip(frequency, nonlinear, breathing, strict=True)]


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
            frequency_domain_rows(freqs, psd_rows),
            breathing_rows(rows),
            strict=True,
        ):
            frequency[i], breathing[i] = f, br
    return frequency, breathing


def _nonlinear_windows(
    beats: Beats,
    lo: IntArray,
    hi: IntArray,
    nn_ms: FloatArray,
    nn_first: IntArray,
    nn_end: IntArray,
) -> list[Nonlinear]:
    normal = beats.normal
    sd1, sd2 = poincare_windows(beats.rr_ms, normal[1:] & normal[:-1], lo, hi)
    n_nn = nn_end - nn_first
    short = n_nn <= PREFIX_SUM_MAX_BEATS
    # One padded row per window (the rows' lengths differ by a few beats).
    width = int(n_nn[short].max()) if short.any() else 0
    at = np.minimum(nn_first[short][:, np.newaxis] + np.arange(width), max(nn_ms.size - 1, 0))
    rows = nn_ms[at] if nn_ms.size else np.zeros((int(np.count_nonzero(short)), width))
    dfa: list[float | None] = [None] * lo.size
    si: list[float | None] = [None] * lo.size
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
    return [
        Nonlinear(
            sd1_ms=None if math.isnan(a) else a,
            sd2_ms=None if math.isnan(b) else b,
            dfa_alpha1=d,
            stress_index=s,
        )
        for a, b, d, s in zip(sd1.tolist(), sd2.tolist(), dfa, si, strict=True)
    ]
