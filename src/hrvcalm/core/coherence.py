"""Cardiac coherence (and its zones), breathing rate, and resonance amplitude.

All of them take the RR series of normal beats already cubic-spline resampled at 4 Hz (see
:func:`hrvcalm.core.spectrum.resample`) over the span they describe.

**Coherence** (McCraty et al. 2009, Integral Review 5:10, the HeartMath coherence ratio; the
definition fixed in DESIGN.md section 5, with the peak band widened as below): 64 s of normal
RR, resampled at 2 Hz (every other 4 Hz sample), linearly detrended, Hann-windowed and
zero-padded to 512 points (0.0039 Hz grid); peak = the highest PSD value in 0.04-0.26 Hz;
peak power = power within +-0.03125 Hz of it; total = power in 0.0033-0.4 Hz;
``coherence = min(16, (peak / (total - peak))^2)``.

- *The peak band is the Hann window's main lobe.* A 64-s Hann window spreads a pure sine over
  +-2/64 s = +-0.031 Hz. DESIGN.md's 0.030 Hz band (+-0.015 Hz) holds only the middle of that
  lobe, ~86 % of a sine's power, the rest counting as "not peak": a pure sine read ~40 and
  varied by +-10 % with its frequency (36-42 between 0.05 and 0.2 Hz), since how much of the
  lobe falls inside depends on where the sine sits between grid points. With the whole lobe
  inside, only spline and detrending residue is left outside.
- *The ratio stops at 16*, the top of HeartMath's own coherence scale ("scores range from 0
  to 16", HeartMath Inner Balance / emWave documentation): beyond it ``total - peak`` is
  residue (a pure sine reads hundreds to millions depending on that residue), not a property
  of the rhythm. A pure sine at any frequency in 0.05-0.2 Hz reads 16; paced breathing reads
  ~16 too (the peak holds more than 80 % of the power); real resting recordings read 0.1-1.
- **Zones** (:func:`coherence_zone`): ``low`` below 0.9, ``medium`` from 0.9, ``high`` from
  4.0. HeartMath's challenge level 1 (the default) puts its low/medium threshold at 0.5 and
  medium/high at 1.8 on its 0-16 scale (HeartMath help, "How do the challenge levels work in
  Inner Balance"). Those were set for the narrow band, which holds ~86 % of a peak's own
  power; the same rhythm read with the whole lobe has a peak share ``q`` about 1/0.86 times
  larger, and ``(q/(1-q))^2`` maps 0.5 to 0.86 and 1.8 to 4.0 (HeartMath's 0.5 is
  ``q_narrow`` = 0.414, i.e. ``q`` = 0.48; its 1.8 is ``q_narrow`` = 0.573, ``q`` = 0.67). We
  chose 0.9 and 4.0 so that a rhythm keeps the zone HeartMath would give it: white noise and
  real resting recordings (median 0.2) read low, slow deliberate breathing (the demo
  recording: median 16, 10th percentile 6) high. The page shows the zone, not the ratio.
- Live, coherence is that of the last 64 s, recomputed every 5 s as McCraty's; an offline
  window's is the mean over the fewest 64-s pieces that cover the whole window, spread evenly
  (one for a 64-s window, two for 120 s, five for 300 s), so it describes all of the window.

**Breathing rate** (``resp_rate_bpm``, breaths/min) from respiratory sinus arrhythmia (RSA),
over the whole span given (120 s live, the whole window offline), in three steps:

1. *Candidates*: the peaks of the span's periodogram (every other 4 Hz sample, i.e. 2 Hz as
   for coherence; linearly detrended, Hann, zero-padded to twice its length) in 0.04-0.5 Hz
   (2.4-30/min, capped at half the heart rate), each the top of its own main lobe (+-2/T Hz
   for a span of T s), with the power of that lobe.
2. *Which peak is the breathing.* The strongest peak ``S`` is the breathing unless it lies at
   or below 0.14 Hz (8.4/min), where a Mayer wave (the ~0.1 Hz blood-pressure rhythm;
   Julien 2006, Cardiovasc Res 70:12) can outweigh the shallow RSA of breathing at rest,
   which lies in the HF band (0.15-0.4 Hz; at rest people breathe 12-20/min). Then:

   - a *faster* peak (>= 0.15 Hz, >= 1.6 times ``S``'s frequency) holding at least 12 % of
     ``S``'s power is the breathing (the HF band at rest): the RSA harmonics of breathing at
     ``S`` hold 0-5 % (an in-breath of 30-50 % of the breath), a Mayer wave, near a sine, less;
   - else, during a paced practice, a peak within 0.6/min (or 10 %) of the pacer's rate holding
     at least 25 % of ``S``'s power is the breathing (the pacer is a strong prior; it is not
     used when the faster-peak rule fired: the patient is not following the pacer);
   - else, if a faster peak (>= 1.8 times ``S``'s frequency) that is not at a harmonic of
     ``S`` holds 3-12 % of ``S``'s power and stands ten times above the HF band's median, the
     breathing may be either: no rate; during a paced practice likewise when ``S`` is not
     near the pacer's rate (a Mayer wave, or a patient not following the pacer);
   - else ``S`` (slow breathing: HF holds only noise and harmonics).
3. *Cycle count as a cross-check* (the "advanced counting" idea of Schafer & Kratky 2008, Ann
   Biomed Eng 36:476): the RR series band-passed around the chosen peak (a zero-phase
   second-order Butterworth response from f/1.6 to 1.6 f, its edge moved to the geometric
   mean of the two frequencies when a stronger peak would fall inside) has its upward zero
   crossings counted with a hysteresis of a quarter of its root mean square; the rate is
   ``60 (crossings - 1) / (time from first to last)``, the mean over the whole cycles of the
   span. It is reported if it agrees with the peak's frequency within 25 % (10 % when a
   stronger peak lies within a factor 1.6 of the chosen one: what leaks through the band's
   edge pulls the count towards it), else no rate (the rhythm is not regular at that rate).
   At least two whole cycles are needed.

On synthetic physiology (tests/physiology.py, benchmarks/shown.py): breathing at 15/min
beside a 0.1 Hz Mayer wave, the previous estimate (the highest ``f``-weighted peak of the last
120 s) read ~6/min in 67 % of 2-minute windows; this one reads no wrong rate there, and a
wrong one in 3 % of windows (none in 0-1 %) over fifteen resting people with RSA swings of
30-80 ms beside Mayer waves of 15-40 ms. Irregular slow breathing (+-30 % breath to breath)
reads within 0.6/min of the true mean rate (the old estimate: up to 1.0/min off); paced
6/min within 0.05/min. When the RSA is much weaker than the Mayer wave (a swing of 20-40 ms
beside 30-50 ms) it still reads the Mayer wave in about a quarter of the windows and gives
no rate in another quarter: there the HF peak is barely above the noise.

**Resonance amplitude** (Lehrer, Vaschillo & Vaschillo 2000; Shaffer & Meehan 2020): the mean
peak-to-trough heart-rate swing (bpm, ``60000 / RR`` on the 4 Hz grid) per cycle of the chosen
rhythm, each cycle running from one counted upward crossing to the next: the swing per breath
that slow breathing near the resonance rate maximises. It is measured even when the rate is
not reported (the swing of the dominant rhythm; the relaxation signal needs it at rest too).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hrvcalm.core.spectrum import band_slice, periodogram_rows

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

COHERENCE_WINDOW_S = 64.0
COHERENCE_FS_HZ = 2.0
COHERENCE_NFFT = 512
COHERENCE_PEAK_HZ = (0.04, 0.26)
#: Half the main lobe of a 64-s Hann window, 2 / 64 s.
COHERENCE_HALF_WIDTH_HZ = 2.0 / COHERENCE_WINDOW_S
COHERENCE_TOTAL_HZ = (0.0033, 0.4)
#: The top of the coherence scale (HeartMath's 0-16).
COHERENCE_MAX = 16.0
#: Lower bounds of the zones ``medium`` and ``high`` (see the module docstring).
ZONE_MEDIUM = 0.9
ZONE_HIGH = 4.0
ZONES = ("low", "medium", "high")

GRID_HZ = 4.0
#: Live span of the breathing analysis, s (six cycles at 3 breaths/min).
RESP_WINDOW_S = 120.0
#: Shortest span for a breathing rate, s.
RESP_MIN_S = 40.0
RESP_BAND_HZ = (0.04, 0.5)
#: A strongest peak at or below this may be a Mayer wave rather than the breathing.
MAYER_MAX_HZ = 0.14
#: A faster peak must be at least this fast (the HF band) ...
FAST_MIN_HZ = 0.15
#: ... and this many times the strongest peak's frequency.
FAST_RATIO = 1.6
#: Power of a faster peak, relative to the strongest, above which it is the breathing.
FAST_SHARE = 0.12
#: Power, height over the HF median and distance (times the strongest peak's frequency)
#: above which a weaker faster peak makes the rate ambiguous.
WEAK_SHARE = 0.03
WEAK_RATIO = 1.8
WEAK_PROMINENCE = 10.0
#: The pacer prior: how near (breaths/min, or this fraction) and how strong a peak must be.
PRIOR_NEAR_BPM = 0.6
PRIOR_NEAR_FRACTION = 0.1
PRIOR_SHARE = 0.25
#: The counting band runs from f / COUNT_WIDTH to f * COUNT_WIDTH.
COUNT_WIDTH = 1.6
#: Hysteresis of the crossing count, in root mean squares of the band-passed series.
COUNT_HYSTERESIS = 0.25
#: The counted rate must agree with the peak's frequency within this fraction ...
COUNT_AGREEMENT = 0.25
#: ... or this one when a stronger peak lies within a factor COUNT_WIDTH of it.
COUNT_AGREEMENT_CLOSE = 0.1
#: Rows analysed at once (offline windows come in stacks of hundreds).
CHUNK_ROWS = 64


@dataclass(frozen=True, slots=True)
class Breathing:
    """Coherence ratio, breathing rate (breaths/min) and resonance amplitude (bpm)."""

    coherence: float | None = None
    resp_rate_bpm: float | None = None
    resonance_bpm: float | None = None


def coherence_zone(value: float | None) -> str | None:
    """``low``, ``medium`` or ``high`` for a coherence ratio (``None`` for ``None``)."""
    if value is None or not math.isfinite(value):
        return None
    if value >= ZONE_HIGH:
        return "high"
    return "medium" if value >= ZONE_MEDIUM else "low"


def _detrend(x: FloatArray) -> FloatArray:
    """Remove the least-squares line from each row (closed form: cheaper than ``np.polyfit``)."""
    n = x.shape[-1]
    centred = np.arange(n, dtype=np.float64) - (n - 1) / 2.0
    slope = (x @ centred)[..., np.newaxis] / float(centred @ centred)
    mean = x.sum(axis=-1, keepdims=True) / n  # np.mean's own arithmetic, without its overhead
    return np.asarray(x - mean - slope * centred, dtype=np.float64)


# -- coherence ------------------------------------------------------------------------------


def peak_shares_rows(freqs_hz: FloatArray, psd_rows: FloatArray) -> list[float | None]:
    """The share of each PSD row's power (0.0033-0.4 Hz) within the main lobe around its
    highest peak in 0.04-0.26 Hz (grid ``freqs_hz``; see the module docstring)."""
    band = band_slice(freqs_hz, *COHERENCE_PEAK_HZ)
    rows = psd_rows.shape[0]
    if band.stop <= band.start:
        return [None] * rows
    step = float(freqs_hz[1] - freqs_hz[0])
    half = round(COHERENCE_HALF_WIDTH_HZ / step)  # +-half bins around the peak, both included
    total_band = band_slice(freqs_hz, *COHERENCE_TOTAL_HZ)
    totals = psd_rows[:, total_band].sum(axis=1) * step
    peaks = band.start + np.argmax(psd_rows[:, band], axis=1)
    # The peak band never reaches the ends of the grid (0.04 - 0.031 Hz > 0, 0.26 + 0.031 Hz
    # below the grid's top), so the bins around each peak need no clipping.
    around = peaks[:, np.newaxis] + np.arange(-half, half + 1)
    peak = psd_rows[np.arange(rows)[:, np.newaxis], around].sum(axis=1) * step
    return [
        min(1.0, p / t) if t > 0 else None
        for p, t in zip(peak.tolist(), totals.tolist(), strict=True)
    ]


def coherence_ratio_rows(freqs_hz: FloatArray, psd_rows: FloatArray) -> list[float | None]:
    """McCraty's ratio ``(peak / (total - peak))^2`` of each PSD row, at most 16."""
    out: list[float | None] = []
    for share in peak_shares_rows(freqs_hz, psd_rows):
        if share is None:
            out.append(None)
        elif share >= 1.0:
            out.append(COHERENCE_MAX)
        else:
            out.append(min(COHERENCE_MAX, (share / (1.0 - share)) ** 2))
    return out


def coherence(rr_4hz: FloatArray) -> float | None:
    """Coherence of the last 64 s of an RR series sampled at 4 Hz (taken at 2 Hz)."""
    return coherence_rows(rr_4hz[np.newaxis, :])[0]


def _coherence_pieces(rr_4hz: FloatArray, starts: list[int]) -> list[list[float | None]]:
    """Coherence of the 64-s pieces starting at the given 4 Hz samples of each row."""
    need = int(COHERENCE_WINDOW_S * GRID_HZ)
    step = int(GRID_HZ / COHERENCE_FS_HZ)
    rows = rr_4hz.shape[0]
    x = np.concatenate([rr_4hz[:, s : s + need : step] for s in starts], axis=0)
    ratios = coherence_ratio_rows(*periodogram_rows(_detrend(x), COHERENCE_FS_HZ, COHERENCE_NFFT))
    return [ratios[i * rows : (i + 1) * rows] for i in range(len(starts))]


def coherence_rows(rr_4hz: FloatArray) -> list[float | None]:
    """:func:`coherence` of each row of a 2-D array (equal-length 4 Hz RR series)."""
    need = int(COHERENCE_WINDOW_S * GRID_HZ)
    if rr_4hz.shape[1] < need:
        return [None] * rr_4hz.shape[0]
    return _coherence_pieces(rr_4hz, [rr_4hz.shape[1] - need])[0]


def window_coherence_rows(rr_4hz: FloatArray) -> list[float | None]:
    """Coherence of whole windows: the mean over the fewest 64-s pieces that cover each row,
    spread evenly (one for 64 s, two for 120 s, five for 300 s)."""
    n = rr_4hz.shape[1]
    need = int(COHERENCE_WINDOW_S * GRID_HZ)
    if n < need:
        return [None] * rr_4hz.shape[0]
    count = math.ceil(n / need - 1e-9)
    starts = np.round(np.linspace(0, n - need, count)).astype(np.int64).tolist()
    pieces = _coherence_pieces(rr_4hz, starts)
    out: list[float | None] = []
    for row in range(rr_4hz.shape[0]):
        values = [v for p in pieces if (v := p[row]) is not None]
        out.append(sum(values) / len(values) if values else None)
    return out


# -- breathing rate and resonance amplitude -------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Choice:
    """Per row: the chosen peak (frequency, Hz; NaN if none), whether its rate is ambiguous,
    the counting band (Hz), and how closely the count must agree with the peak."""

    freq_hz: FloatArray
    ambiguous: BoolArray
    lo_hz: FloatArray
    hi_hz: FloatArray
    agreement: FloatArray


def _choose(
    freqs: FloatArray, psd: FloatArray, hi_hz: FloatArray, span_s: float, prior_bpm: float | None
) -> _Choice:
    """Step 2 of the module docstring, for every row at once."""
    rows, bins = psd.shape
    step = float(freqs[1] - freqs[0])
    half = max(1, round(2.0 / span_s / step))  # the Hann main lobe, in bins
    cum = np.cumsum(psd, axis=1)
    lobe = np.zeros_like(psd)  # the lobe's power; the band lies more than a lobe from the ends
    lobe[:, half + 1 : bins - half] = (
        cum[:, 2 * half + 1 :] - cum[:, : bins - 2 * half - 1]
    ) * step
    top = psd >= _running_max(psd, half)
    in_band = (freqs >= RESP_BAND_HZ[0]) & (freqs < hi_hz[:, np.newaxis])
    candidate = top & in_band & (psd > 0)
    power = np.where(candidate, lobe, -np.inf)
    s = np.argmax(power, axis=1)
    r = np.arange(rows)
    p_s = power[r, s]
    f_s = freqs[s]
    found = np.isfinite(p_s)
    tol = 2.0 / span_s
    f = freqs[np.newaxis, :]
    fs_col = f_s[:, np.newaxis]
    ps_col = p_s[:, np.newaxis]
    faster = candidate & (f >= FAST_MIN_HZ) & (f >= FAST_RATIO * fs_col)
    fast = faster & (lobe >= FAST_SHARE * ps_col)
    slow = found & (f_s <= MAYER_MAX_HZ)
    use_fast = slow & fast.any(axis=1)
    chosen = np.where(use_fast, np.argmax(np.where(fast, lobe, -np.inf), axis=1), s)
    ambiguous = np.zeros(rows, dtype=bool)
    for row in np.flatnonzero(slow & ~use_fast).tolist():  # the weak-peak rule, where it applies
        hf = slice(math.ceil(FAST_MIN_HZ / step), math.ceil(float(hi_hz[row]) / step))
        if hf.stop <= hf.start:
            continue
        floor = float(np.median(psd[row, hf]))
        weak = (
            faster[row]
            & (freqs >= WEAK_RATIO * f_s[row])
            & (np.abs(freqs - 2.0 * f_s[row]) > tol)
            & (np.abs(freqs - 3.0 * f_s[row]) > tol)
            & (lobe[row] >= WEAK_SHARE * p_s[row])
            & (psd[row] >= WEAK_PROMINENCE * floor)
        )
        ambiguous[row] = bool(weak.any())
    if prior_bpm is not None:
        near_hz = max(PRIOR_NEAR_BPM, PRIOR_NEAR_FRACTION * prior_bpm) / 60.0
        near = (
            candidate & (np.abs(f - prior_bpm / 60.0) <= near_hz) & (lobe >= PRIOR_SHARE * ps_col)
        )
        use_prior = ~use_fast & near.any(axis=1)
        chosen = np.where(use_prior, np.argmax(np.where(near, lobe, -np.inf), axis=1), chosen)
        ambiguous &= ~use_prior
        # A slow peak away from the pacer: a Mayer wave, or a patient not following it.
        ambiguous |= slow & ~use_fast & ~use_prior & (np.abs(f_s - prior_bpm / 60.0) > near_hz)
    f_c = freqs[chosen]
    lo = f_c / COUNT_WIDTH
    hi = f_c * COUNT_WIDTH
    stronger = power[r, chosen] < p_s  # S is stronger than the chosen peak: keep it out
    middle = np.sqrt(f_s * f_c)
    lo = np.where(stronger & (f_s < f_c), np.maximum(lo, middle), lo)
    hi = np.where(stronger & (f_s > f_c), np.minimum(hi, middle), hi)
    # A stronger peak near enough to leak through the band's edge pulls the count its way.
    close = stronger & (np.maximum(f_s, f_c) < COUNT_WIDTH * np.minimum(f_s, f_c))
    agreement = np.where(close, COUNT_AGREEMENT_CLOSE, COUNT_AGREEMENT)
    return _Choice(np.where(found, f_c, np.nan), ambiguous, lo, hi, agreement)


@dataclass(frozen=True, slots=True)
class _Crossings:
    """The counted upward crossings of all rows: each one's row and 2 Hz sample index, in
    row order and, within a row, in time order."""

    owner: IntArray
    at_2hz: IntArray


def _count(
    spectrum: npt.NDArray[np.complex128], m: int, choice: _Choice
) -> tuple[FloatArray, _Crossings]:
    """Step 3 of the module docstring: the counted rate (breaths/min, NaN if fewer than two
    whole cycles) and the 2 Hz sample indices of the upward crossings, per row.

    ``spectrum`` is the rfft of the detrended 2 Hz rows (``m`` samples) zero-padded to
    ``2 m`` (so that the filter's response does not wrap around from one end to the other).
    """
    rows, keep = spectrum.shape
    f = np.arange(1, keep) * (COHERENCE_FS_HZ / (2 * m))
    lo = choice.lo_hz[:, np.newaxis]  # NaN for a row without a peak
    hi = choice.hi_hz[:, np.newaxis]
    with np.errstate(divide="ignore", invalid="ignore"):
        shape = (f * f - lo * hi) * (1.0 / f) / (hi - lo)
        shape *= shape
        gain = 1.0 / (1.0 + shape * shape)  # |H|^2 of a 2nd-order Butterworth band-pass
    gain[~np.isfinite(gain)] = 0.0  # rows without a peak: nothing passes
    filtered = np.zeros_like(spectrum)
    filtered[:, 1:] = spectrum[:, 1:] * gain
    y = np.fft.irfft(filtered, n=2 * m, axis=1)[:, :m]
    width = y.shape[1]
    h = COUNT_HYSTERESIS * np.sqrt(np.einsum("ij,ij->i", y, y) / width)[:, np.newaxis]
    state = (y > h).astype(np.int8) - (y < -h)  # +1 above, -1 below, 0 inside the hysteresis
    at = np.where(state != 0, np.arange(width), 0)
    np.maximum.accumulate(at, axis=1, out=at)
    held = state[np.arange(rows)[:, np.newaxis], at]  # the last state outside the hysteresis
    ups = (held[:, 1:] == 1) & (held[:, :-1] == -1)
    owner, at_2hz = np.nonzero(ups)  # row by row, in time order
    crossings = _Crossings(owner, at_2hz + 1)
    row_ids = np.arange(rows)
    begin = np.searchsorted(owner, row_ids, side="left")
    end = np.searchsorted(owner, row_ids, side="right")
    count = end - begin
    times = np.append(crossings.at_2hz, 0)  # a row without crossings points past the end
    span = times[np.maximum(end - 1, 0)] - times[np.minimum(begin, owner.size)]
    with np.errstate(divide="ignore", invalid="ignore"):
        rates = 60.0 * (count - 1) / (span / COHERENCE_FS_HZ)
    return np.where(count >= 3, rates, np.nan), crossings


def _swings(rr_4hz: FloatArray, crossings: _Crossings) -> list[float | None]:
    """Mean peak-to-trough heart rate (bpm) over the cycles between successive crossings."""
    rows, n = rr_4hz.shape
    out: list[float | None] = [None] * rows
    owner = crossings.owner
    if owner.size < 2:
        return out
    step = int(GRID_HZ / COHERENCE_FS_HZ)
    bounds = owner * n + step * crossings.at_2hz  # increasing: rows in order, times in order
    hr = (60_000.0 / rr_4hz).ravel()
    swing = np.maximum.reduceat(hr, bounds) - np.minimum.reduceat(hr, bounds)
    whole = owner[:-1] == owner[1:]  # a cycle ends at the next crossing of the same row
    counts = np.bincount(owner[:-1][whole], minlength=rows)
    sums = np.bincount(owner[:-1][whole], weights=swing[:-1][whole], minlength=rows)
    for row in np.flatnonzero(counts).tolist():
        out[row] = float(sums[row] / counts[row])
    return out


def rate_and_swing_rows(
    rr_4hz: FloatArray, prior_bpm: float | None = None
) -> tuple[list[float | None], list[float | None]]:
    """Breathing rate (breaths/min) and resonance amplitude (bpm) of each row of a 2-D array
    of equal-length 4 Hz RR series (see the module docstring).

    Args:
        rr_4hz: The rows, each the whole span to describe (at least 40 s).
        prior_bpm: The pacer's rate during a paced practice, breaths/min.
    """
    rows, n = rr_4hz.shape
    if n < int(RESP_MIN_S * GRID_HZ):
        return [None] * rows, [None] * rows
    if rows > CHUNK_ROWS:  # arrays that stay in the cache: ~30 % faster than all rows at once
        rates: list[float | None] = []
        swings: list[float | None] = []
        for start in range(0, rows, CHUNK_ROWS):
            r, w = rate_and_swing_rows(rr_4hz[start : start + CHUNK_ROWS], prior_bpm)
            rates += r
            swings += w
        return rates, swings
    # The breathing band and the counting band lie below 1 Hz: every other 4 Hz sample
    # (2 Hz, as for coherence) holds them.
    x = _detrend(rr_4hz[:, ::2])
    m = x.shape[1]
    spectrum = np.fft.rfft(x, n=2 * m, axis=1)
    # The Hann-windowed periodogram from the same transform: a periodic Hann window is
    # 1/2 - (e^{+} + e^{-})/4 at +-1/T, two bins of the padded grid on either side. Only the
    # bins up to the band's top and a main lobe more are needed.
    bins = min(spectrum.shape[1] - 2, math.ceil(RESP_BAND_HZ[1] * 2 * m / COHERENCE_FS_HZ) + 6)
    windowed = 0.5 * spectrum[:, :bins]
    windowed[:, 2:] -= 0.25 * spectrum[:, : bins - 2]
    windowed -= 0.25 * spectrum[:, 2 : bins + 2]
    windowed[:, :2] -= 0.25 * np.conj(spectrum[:, 2:0:-1])  # negative frequencies, mirrored
    psd = windowed.real**2 + windowed.imag**2
    freqs = np.arange(bins) * (COHERENCE_FS_HZ / (2 * m))
    hi = np.minimum(RESP_BAND_HZ[1], 0.5 * 1000.0 / (rr_4hz.sum(axis=1) / n))
    choice = _choose(freqs, psd, hi, m / COHERENCE_FS_HZ, prior_bpm)
    counted, crossings = _count(spectrum, m, choice)
    expected = 60.0 * choice.freq_hz
    with np.errstate(invalid="ignore"):
        agree = np.abs(counted - expected) <= choice.agreement * expected
    ok = agree & ~choice.ambiguous
    return [
        float(v) if good else None for v, good in zip(counted.tolist(), ok.tolist(), strict=True)
    ], _swings(rr_4hz, crossings)


def breathing_rate(rr_4hz: FloatArray, prior_bpm: float | None = None) -> float | None:
    """Breathing rate (breaths/min) of a 4 Hz RR series (all of it, at least 40 s)."""
    return rate_and_swing_rows(rr_4hz[np.newaxis, :], prior_bpm)[0][0]


def breathing_rate_rows(rr_4hz: FloatArray, prior_bpm: float | None = None) -> list[float | None]:
    """:func:`breathing_rate` of each row of a 2-D array (equal-length 4 Hz RR series)."""
    return rate_and_swing_rows(rr_4hz, prior_bpm)[0]


def breathing(
    rr_4hz: FloatArray, *, prior_bpm: float | None = None, live: bool = False
) -> Breathing:
    """Coherence, breathing rate and resonance amplitude of a 4 Hz RR series (see
    :func:`breathing_rows`)."""
    return breathing_rows(rr_4hz[np.newaxis, :], prior_bpm=prior_bpm, live=live)[0]


def breathing_rows(
    rr_4hz: FloatArray, *, prior_bpm: float | None = None, live: bool = False
) -> list[Breathing]:
    """:func:`breathing` of each row of a 2-D array (equal-length 4 Hz RR series).

    Args:
        rr_4hz: The rows, each a whole window.
        prior_bpm: The pacer's rate during a paced practice, breaths/min.
        live: Coherence of the last 64 s (McCraty's live value) instead of the whole row.
    """
    rates, swings = rate_and_swing_rows(rr_4hz, prior_bpm)
    coherent = coherence_rows(rr_4hz) if live else window_coherence_rows(rr_4hz)
    return [
        Breathing(coherence=c, resp_rate_bpm=rate, resonance_bpm=swing)
        for c, rate, swing in zip(coherent, rates, swings, strict=True)
    ]


def _running_max(rows: FloatArray, half: int) -> FloatArray:
    """The maximum over ``row[i - half .. i + half]`` for every ``i`` of every row, the edge
    values repeated beyond the ends (``scipy.ndimage.maximum_filter1d(..., mode="nearest")``,
    whose import alone costs ~0.4 s of every command's start)."""
    padded = np.pad(rows, ((0, 0), (half, half)), mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1, axis=1)
    return np.asarray(windows.max(axis=-1), dtype=np.float64)
