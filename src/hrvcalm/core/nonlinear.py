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
    profile = np.cumsum(nn_ms - np.mean(nn_ms))
    layout = _layout(profile.size, tuple(int(n) for n in scales), overlap)
    if layout is None:
        return None
    if profile.size > PREFIX_SUM_MAX_BEATS:
        f2 = np.array(
            [_box_rss_loop(profile, n, b) for n, b in zip(layout.sizes, layout.starts, strict=True)]
        )
        return _slope(layout.sizes, f2)
    # Every box of every scale at once, from prefix sums of y, y^2 and i*y over the profile:
    # the residual sum of squares of a least-squares line through a box of n points is
    # Syy - Sy^2/n - Sxy_c^2/Sxx, with x centred in the box (Sxx = n(n^2-1)/12). Exact enough
    # in float64 for windows of a few thousand beats; longer series take the loop above.
    p1 = np.concatenate(([0.0], np.cumsum(profile)))
    p2 = np.concatenate(([0.0], np.cumsum(profile * profile)))
    p3 = np.concatenate(([0.0], np.cumsum(layout.index * profile)))
    box_s, box_e = layout.box_s, layout.box_e
    sy = p1[box_e] - p1[box_s]
    syy = p2[box_e] - p2[box_s]
    sxy = (p3[box_e] - p3[box_s]) - box_s * sy  # x = 0 .. n-1 within the box
    sxy_c = sxy - layout.half * sy
    rss = np.maximum(syy - sy * sy / layout.box_n - sxy_c * sxy_c / layout.sxx, 0.0)
    total_rss = np.bincount(layout.scale_of_box, weights=rss)
    return _slope(layout.sizes, np.asarray(total_rss / layout.points, dtype=np.float64))


@dataclass(frozen=True)
class _Layout:
    """Where the DFA boxes of every scale lie in a series of a given length."""

    sizes: list[int]
    starts: list[FloatArray]
    index: FloatArray
    box_n: FloatArray
    box_s: npt.NDArray[np.int64]
    box_e: npt.NDArray[np.int64]
    scale_of_box: npt.NDArray[np.int64]
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
        scale_of_box=scale_of_box,
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
    if nn_ms.size < 20:
        return None
    lo = math.floor(float(np.min(nn_ms)) / SI_BIN_MS) * SI_BIN_MS
    bins = np.floor((nn_ms - lo) / SI_BIN_MS).astype(np.int64)
    counts = np.bincount(bins)
    mode_bin = int(np.argmax(counts))
    mo_s = (lo + (mode_bin + 0.5) * SI_BIN_MS) / 1000.0
    amo_pct = 100.0 * float(counts[mode_bin]) / nn_ms.size
    range_s = float(np.max(nn_ms) - np.min(nn_ms)) / 1000.0
    if range_s <= 0:
        return None
    return amo_pct / (2.0 * mo_s * range_s)


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
