"""Nonlinear HRV: Poincare SD1/SD2, DFA alpha1, Baevsky's stress index.

Inputs are the normal intervals of one window, in order, with a mask of which successive pairs
are valid (both beats normal, no gap between them): pairs across an artifact are not used.

- **SD1, SD2** (ms; Brennan, Palaniswami & Kamen 2001, IEEE TBME 48:1342): standard deviations
  (ddof=1, as NeuroKit) of the Poincare plot's points ``(RR[n], RR[n+1])`` across and along the
  line of identity: ``SD1 = std((RR[n+1] - RR[n]) / sqrt 2)``, ``SD2 = std((RR[n+1] + RR[n]) /
  sqrt 2)``.
- **DFA alpha1** (Peng et al. 1995, Chaos 5:82): the NN series is integrated (cumulative sum of
  the deviations from its mean), cut into non-overlapping boxes of n = 4..16 beats, each box
  detrended by a least-squares line; alpha1 is the slope of log F(n) against log n, F(n) the
  root mean square of the residuals. Around 1 at rest, towards 0.5 in exercise; at least 50
  beats are required.
- **Stress index** (Baevsky & Chernikova 2017, Cardiometry 10:66): ``SI = AMo / (2 Mo MxDMn)``
  with the RR histogram in 50-ms bins, ``Mo`` the centre of the fullest bin (s), ``AMo`` the
  share of intervals in it (%), ``MxDMn`` the range of the intervals (s). Typical rest values
  are 50-150; it rises with sympathetic activation. (Kubios reports the square root of this.)
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

DFA_SCALES = np.arange(4, 17)
DFA_MIN_BEATS = 50
PREFIX_SUM_MAX_BEATS = 5000
SI_BIN_MS = 50.0


@dataclass(frozen=True, slots=True)
class Nonlinear:
    """SD1 and SD2 (ms), DFA alpha1 and the stress index; ``None`` where not computable."""

    sd1_ms: float | None = None
    sd2_ms: float | None = None
    dfa_alpha1: float | None = None
    stress_index: float | None = None


def poincare(rr_ms: FloatArray, pair_ok: BoolArray) -> tuple[float | None, float | None]:
    """SD1 and SD2 in ms from the valid successive pairs ``(rr[i], rr[i+1])``."""
    x1 = rr_ms[:-1][pair_ok]
    x2 = rr_ms[1:][pair_ok]
    if x1.size < 3:
        return None, None
    sd1 = float(np.std((x2 - x1) / math.sqrt(2.0), ddof=1))
    sd2 = float(np.std((x2 + x1) / math.sqrt(2.0), ddof=1))
    return sd1, sd2


def poincare_windows(
    rr_ms: FloatArray, pair_ok: BoolArray, lo: npt.NDArray[np.int64], hi: npt.NDArray[np.int64]
) -> tuple[FloatArray, FloatArray]:
    """SD1 and SD2 (ms) of many windows ``rr_ms[lo:hi]`` of one series at once; NaN if short.

    The same statistics as :func:`poincare`, from prefix sums of the valid pairs' differences
    and sums (centred on their overall mean, so the sums stay small and exact in float64).
    """
    d = (rr_ms[1:] - rr_ms[:-1]) / math.sqrt(2.0)
    s = (rr_ms[1:] + rr_ms[:-1]) / math.sqrt(2.0)
    ok = pair_ok.astype(np.float64)
    s = s - (float(np.sum(s * ok)) / max(1.0, float(np.sum(ok))))

    def prefix(values: FloatArray) -> FloatArray:
        return np.concatenate(([0.0], np.cumsum(values * ok)))

    # Window [lo, hi) holds the pairs lo .. hi-2.
    first, last = lo, np.maximum(lo, hi - 1)
    n = (prefix(np.ones_like(d))[last] - prefix(np.ones_like(d))[first]).round()

    def std(values: FloatArray) -> FloatArray:
        p1, p2 = prefix(values), prefix(values * values)
        total, squares = p1[last] - p1[first], p2[last] - p2[first]
        with np.errstate(invalid="ignore", divide="ignore"):
            var = (squares - total * total / n) / (n - 1.0)
        return np.where(n >= 3, np.sqrt(np.maximum(var, 0.0)), np.nan)

    return std(d), std(s)


def dfa_alpha1(
    nn_ms: FloatArray, scales: npt.NDArray[np.int64] = DFA_SCALES, *, overlap: bool = False
) -> float | None:
    """Short-term DFA scaling exponent of an NN series.

    Args:
        nn_ms: The NN intervals, ms, in order.
        scales: Box sizes in beats (4-16 as Peng 1995 and Kubios; NeuroKit uses 4-11).
        overlap: Boxes overlap by half (NeuroKit's default) instead of tiling the series.
    """
    if nn_ms.size < DFA_MIN_BEATS:
        return None
    if nn_ms.size <= PREFIX_SUM_MAX_BEATS:
        return dfa_alpha1_rows(nn_ms[np.newaxis, :], scales=scales, overlap=overlap)[0]
    profile = np.cumsum(nn_ms - np.mean(nn_ms))
    layout = _layout(profile.size, tuple(int(n) for n in scales), overlap)
    if layout is None:
        return None
    f2 = np.array(
        [_box_rss_loop(profile, n, b) for n, b in zip(layout.sizes, layout.starts, strict=True)]
    )
    return _slope(layout.sizes, f2)


def dfa_alpha1_rows(
    nn_rows: FloatArray,
    lengths: npt.NDArray[np.int64] | None = None,
    scales: npt.NDArray[np.int64] = DFA_SCALES,
    *,
    overlap: bool = False,
) -> list[float | None]:
    """:func:`dfa_alpha1` of each row of a 2-D array of NN series (at most
    ``PREFIX_SUM_MAX_BEATS`` beats each).

    Args:
        nn_rows: One NN series per row, ms; a row may be padded (any values) after its end.
        lengths: Beats in each row (default: the full width).
        scales: Box sizes in beats.
        overlap: Boxes overlap by half.

    Every box of every scale at once, from prefix sums of y, y^2 and i*y over the profile: the
    residual sum of squares of a least-squares line through a box of n points is
    Syy - Sy^2/n - Sxy_c^2/Sxx, with x centred in the box (Sxx = n(n^2-1)/12). Exact enough
    in float64 for windows of a few thousand beats; longer series take a direct loop. Boxes
    are laid from each row's start, so a shorter row uses the first boxes of the layout.
    """
    rows, width = nn_rows.shape
    layout = _layout(width, tuple(int(n) for n in scales), overlap)
    if layout is None:
        return [None] * rows
    # Beats along axis 0 (one column per row): the box gathers then copy whole rows.
    series = nn_rows.T
    if lengths is None:  # every row full: no padding to mask
        n_beats = np.full(rows, width, dtype=np.int64)
        profile = np.cumsum(series - series.sum(axis=0) / width, axis=0)
    else:
        n_beats = lengths
        inside = (np.arange(width)[:, np.newaxis] < n_beats).astype(np.float64)
        mean = (series * inside).sum(axis=0) / np.maximum(n_beats, 1)
        profile = np.cumsum((series - mean) * inside, axis=0)
    zero = np.zeros((1, rows))
    p1 = np.concatenate((zero, np.cumsum(profile, axis=0)))
    p2 = np.concatenate((zero, np.cumsum(profile * profile, axis=0)))
    p3 = np.concatenate((zero, np.cumsum(layout.index[:, np.newaxis] * profile, axis=0)))
    box_s, box_e = layout.box_s, layout.box_e
    sy = p1[box_e] - p1[box_s]
    syy = p2[box_e] - p2[box_s]
    sxy = (p3[box_e] - p3[box_s]) - box_s[:, np.newaxis] * sy  # x = 0 .. n-1 in the box
    sxy_c = sxy - layout.half[:, np.newaxis] * sy
    box_n = layout.box_n[:, np.newaxis]
    rss = np.maximum(syy - sy * sy / box_n - sxy_c * sxy_c / layout.sxx[:, np.newaxis], 0.0)

    def per_scale(per_box: FloatArray) -> FloatArray:  # boxes are grouped by scale
        return np.add.reduceat(per_box, layout.scale_starts, axis=0)

    if lengths is None:
        f2 = (per_scale(rss) / layout.points[:, np.newaxis]).T
    else:
        fits = (box_e[:, np.newaxis] <= n_beats).astype(np.float64)  # the row's own boxes
        with np.errstate(invalid="ignore", divide="ignore"):
            f2_scales = per_scale(rss * fits) / per_scale(fits * box_n)
        # A scale needs two boxes; 0 leaves it out of the slope.
        f2 = np.where(per_scale(fits) >= 2, f2_scales, 0.0).T
    x = np.log(np.asarray(layout.sizes, dtype=np.float64))
    xm = x - x.mean()
    with np.errstate(divide="ignore", invalid="ignore"):  # log 0: rows redone below
        slopes = (0.5 * np.log(f2) @ xm) / float(xm @ xm)
    complete = np.all(f2 > 0, axis=1)  # else drop the empty scales, row by row
    return [
        None if n < DFA_MIN_BEATS else float(slope) if ok else _slope(layout.sizes, row)
        for n, slope, ok, row in zip(n_beats.tolist(), slopes, complete, f2, strict=True)
    ]


@dataclass(frozen=True)
class _Layout:
    """Where the DFA boxes of every scale lie in a series of a given length."""

    sizes: list[int]
    starts: list[FloatArray]
    index: FloatArray
    box_n: FloatArray
    box_s: npt.NDArray[np.int64]
    box_e: npt.NDArray[np.int64]
    scale_starts: npt.NDArray[np.int64]
    points: FloatArray
    half: FloatArray
    sxx: FloatArray


@functools.lru_cache(maxsize=32)  # window lengths drift slowly: recent ones recur
def _layout(length: int, scales: tuple[int, ...], overlap: bool) -> _Layout | None:
    sizes: list[int] = []
    starts: list[FloatArray] = []
    for n in scales:
        step = max(1, n // 2) if overlap else n
        box_starts = np.arange(0, length - n + 1, step, dtype=np.float64)
        if box_starts.size >= 2:
            sizes.append(n)
            starts.append(box_starts)
    if len(sizes) < 3:
        return None
    box_n = np.concatenate(
        [np.full(b.size, n, dtype=np.float64) for n, b in zip(sizes, starts, strict=True)]
    )
    box_s = np.concatenate(starts).astype(np.int64)
    scale_of_box = np.repeat(np.arange(len(sizes)), [b.size for b in starts])
    return _Layout(
        sizes=sizes,
        starts=starts,
        index=np.arange(length, dtype=np.float64),
        box_n=box_n,
        box_s=box_s,
        box_e=box_s + box_n.astype(np.int64),
        scale_starts=np.cumsum([0] + [b.size for b in starts[:-1]]).astype(np.int64),
        points=np.asarray(np.bincount(scale_of_box, weights=box_n), dtype=np.float64),
        half=(box_n - 1.0) / 2.0,
        sxx=box_n * (box_n * box_n - 1.0) / 12.0,
    )


def _box_rss_loop(profile: FloatArray, n: int, box_starts: FloatArray) -> float:
    """Mean squared residual of the boxes of size ``n`` (one scale, direct least squares)."""
    y = profile[box_starts.astype(np.int64)[:, None] + np.arange(n)]
    xc = np.arange(n, dtype=np.float64) - (n - 1) / 2.0
    yc = y - y.mean(axis=1, keepdims=True)
    sxy = yc @ xc
    return (float(np.sum(yc * yc)) - float(np.sum(sxy * sxy)) / float(xc @ xc)) / float(y.size)


def _slope(sizes: list[int], f2: FloatArray) -> float | None:
    """Least-squares slope of log F(n) against log n, F(n) = sqrt(f2)."""
    keep = f2 > 0
    if int(np.count_nonzero(keep)) < 3:
        return None
    x = np.log(np.asarray(sizes, dtype=np.float64)[keep])
    y = 0.5 * np.log(f2[keep])
    xm = x - x.mean()
    return float(xm @ y) / float(xm @ xm)


def stress_index(nn_ms: FloatArray) -> float | None:
    """Baevsky's stress index of an NN series (50-ms histogram bins)."""
    return stress_index_rows(nn_ms[np.newaxis, :])[0]


def stress_index_rows(
    nn_rows: FloatArray, lengths: npt.NDArray[np.int64] | None = None
) -> list[float | None]:
    """:func:`stress_index` of each row of a 2-D array of NN series (ms).

    A row may be padded (any values) after its end; ``lengths`` gives the beats in each row
    (default: the full width).
    """
    rows, width = nn_rows.shape
    if lengths is None:  # every row full: no padding to mask
        if width < 20:
            return [None] * rows
        n_beats = np.full(rows, width, dtype=np.int64)
        usable = np.ones(rows, dtype=bool)
        low, high = nn_rows.min(axis=1), nn_rows.max(axis=1)
        values, weights = nn_rows, None
    else:
        n_beats = lengths
        usable = n_beats >= 20
        if not usable.any():
            return [None] * rows
        inside = (np.arange(width) < n_beats[:, np.newaxis]) & usable[:, np.newaxis]
        low = np.where(usable, np.where(inside, nn_rows, np.inf).min(axis=1), 0.0)
        high = np.where(usable, np.where(inside, nn_rows, -np.inf).max(axis=1), 0.0)
        values, weights = np.where(inside, nn_rows, low[:, np.newaxis]), inside.ravel()
    lo = np.floor(low / SI_BIN_MS) * SI_BIN_MS
    bins = np.floor((values - lo[:, np.newaxis]) / SI_BIN_MS).astype(np.int64)
    width_bins = int(bins.max()) + 1  # one histogram per row, side by side
    flat = (bins + width_bins * np.arange(rows)[:, np.newaxis]).ravel()
    counts = np.bincount(flat, weights=weights, minlength=rows * width_bins)
    counts = counts.reshape(rows, width_bins)
    mode_bin = np.argmax(counts, axis=1)
    mo_s = (lo + (mode_bin + 0.5) * SI_BIN_MS) / 1000.0
    amo_pct = 100.0 * counts[np.arange(rows), mode_bin] / np.maximum(n_beats, 1)
    range_s = (high - low) / 1000.0
    return [
        float(a / (2.0 * m * r)) if ok and r > 0 else None
        for ok, a, m, r in zip(
            usable.tolist(), amo_pct.tolist(), mo_s.tolist(), range_s.tolist(), strict=True
        )
    ]


def nonlinear(rr_ms: FloatArray, normal: BoolArray, pair_ok: BoolArray) -> Nonlinear:
    """All nonlinear metrics of one window.

    Args:
        rr_ms: Every interval of the window, ms (artifacts included).
        normal: ``True`` for normal intervals.
        pair_ok: ``True`` where ``(rr[i], rr[i+1])`` are both normal with no gap between.
    """
    sd1, sd2 = poincare(rr_ms, pair_ok)
    nn = rr_ms[normal]
    return Nonlinear(sd1, sd2, dfa_alpha1(nn), stress_index(nn))
