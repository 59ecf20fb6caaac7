"""Cardiac coherence, breathing rate from the RSA peak, and resonance amplitude.

All three take the RR series of normal beats already cubic-spline resampled at 4 Hz (see
:func:`hrvcalm.core.spectrum.resample`), ending at the time they describe.

- **Coherence** (McCraty et al. 2009, Integral Review 5:10, the HeartMath coherence ratio; the
  definition fixed in DESIGN.md section 5): the last 64 s of normal RR, resampled at 2 Hz
  (every other 4 Hz sample), linearly detrended, Hann-windowed and zero-padded to 512 points
  (0.0039 Hz grid); peak = the highest PSD value in 0.04-0.26 Hz; peak power = power within
  +-0.015 Hz of it (the 0.030 Hz window); total = power in 0.0033-0.4 Hz;
  ``coherence = (peak / (total - peak))^2``. A pure sine gives a large value, broadband
  variability a value near 0. The live path recomputes it every 5 s.
- **Breathing rate** (``resp_rate_bpm``, breaths/min): respiratory sinus arrhythmia makes the
  RR series oscillate at the breathing frequency, so the highest peak of the RR spectrum in
  0.045-0.5 Hz (2.7-30 breaths/min, capped at half the heart rate), weighted by ``f`` to
  flatten the 1/f background of slow (VLF, Mayer-wave) variability, is taken as the breathing
  frequency, refined by parabolic interpolation of the log of the weighted PSD around the peak
  bin (at most half a bin either way). (Without
  the weight, resting recordings at 15-16 breaths/min read 4/min in one window in ten.) The
  spectrum is that of the last 120 s (Hann, zero-padded to 2048 points): long enough to hold
  six cycles at 3 breaths/min. Slow-wave power can still win over fast, shallow breathing; at
  the slow paced rates of a practice session RSA dominates.
- **Resonance amplitude** (Lehrer, Vaschillo & Vaschillo 2000; Shaffer & Meehan 2020):
  the mean peak-to-trough heart-rate swing (bpm) per breath over the last 120 s: ``60000 / RR``
  on the 4 Hz grid, cut into consecutive breath-long pieces (one period of the breathing rate), the
  max-min of each complete piece averaged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hrvcalm.core.spectrum import band_slice, periodogram_rows

FloatArray = npt.NDArray[np.float64]

COHERENCE_WINDOW_S = 64.0
COHERENCE_FS_HZ = 2.0
COHERENCE_NFFT = 512
COHERENCE_PEAK_HZ = (0.04, 0.26)
COHERENCE_HALF_WIDTH_HZ = 0.015
COHERENCE_TOTAL_HZ = (0.0033, 0.4)
RESP_WINDOW_S = 120.0
GRID_HZ = 4.0
RESP_NFFT = 2048
RESP_BAND_HZ = (0.045, 0.5)
RESP_WEIGHT_POWER = 1.0


@dataclass(frozen=True, slots=True)
class Breathing:
    """Coherence ratio, breathing rate (breaths/min) and resonance amplitude (bpm)."""

    coherence: float | None = None
    resp_rate_bpm: float | None = None
    resonance_bpm: float | None = None


def _detrend(x: FloatArray) -> FloatArray:
    """Remove the least-squares line from each row (closed form: cheaper than ``np.polyfit``)."""
    n = x.shape[-1]
    centred = np.arange(n, dtype=np.float64) - (n - 1) / 2.0
    slope = (x @ centred)[..., np.newaxis] / float(centred @ centred)
    mean = x.sum(axis=-1, keepdims=True) / n  # np.mean's own arithmetic, without its overhead
    return np.asarray(x - mean - slope * centred, dtype=np.float64)


def coherence_ratio_rows(freqs_hz: FloatArray, psd_rows: FloatArray) -> list[float | None]:
    """McCraty's ratio ``(peak / (total - peak))^2`` of each PSD row (grid ``freqs_hz``; see the
    module docstring)."""
    band = band_slice(freqs_hz, *COHERENCE_PEAK_HZ)
    if band.stop <= band.start:
        return [None] * psd_rows.shape[0]
    step = float(freqs_hz[1] - freqs_hz[0])
    peaks_hz = freqs_hz[band.start + np.argmax(psd_rows[:, band], axis=1)].tolist()
    totals = (psd_rows[:, band_slice(freqs_hz, *COHERENCE_TOTAL_HZ)].sum(axis=1) * step).tolist()
    out: list[float | None] = []
    for psd, peak_hz, total in zip(psd_rows, peaks_hz, totals, strict=True):
        around = band_slice(
            freqs_hz, peak_hz - COHERENCE_HALF_WIDTH_HZ, peak_hz + COHERENCE_HALF_WIDTH_HZ
        )
        peak = float(psd[around].sum()) * step
        rest = total - peak
        out.append((peak / rest) ** 2 if rest > 0 else None)
    return out


def coherence(rr_4hz: FloatArray) -> float | None:
    """Coherence of the last 64 s of an RR series sampled at 4 Hz (taken at 2 Hz)."""
    return coherence_rows(rr_4hz[np.newaxis, :])[0]


def coherence_rows(rr_4hz: FloatArray) -> list[float | None]:
    """:func:`coherence` of each row of a 2-D array (equal-length 4 Hz RR series)."""
    need = int(COHERENCE_WINDOW_S * GRID_HZ)
    if rr_4hz.shape[1] < need:
        return [None] * rr_4hz.shape[0]
    step = int(GRID_HZ / COHERENCE_FS_HZ)
    x = rr_4hz[:, rr_4hz.shape[1] - need :: step]
    return coherence_ratio_rows(*periodogram_rows(_detrend(x), COHERENCE_FS_HZ, COHERENCE_NFFT))


def breathing_rate(rr_4hz: FloatArray) -> float | None:
    """Breathing rate (breaths/min) from the RSA peak of the last 120 s (at least 40 s)."""
    return breathing_rate_rows(rr_4hz[np.newaxis, :])[0]


def breathing_rate_rows(rr_4hz: FloatArray) -> list[float | None]:
    """:func:`breathing_rate` of each row of a 2-D array (equal-length 4 Hz RR series)."""
    rows = rr_4hz.shape[0]
    if rr_4hz.shape[1] < int(40.0 * GRID_HZ):
        return [None] * rows
    x = rr_4hz[:, -int(RESP_WINDOW_S * GRID_HZ) :]
    freqs, psd = periodogram_rows(_detrend(x), GRID_HZ, RESP_NFFT)
    step = float(freqs[1] - freqs[0])
    hi = np.minimum(RESP_BAND_HZ[1], 0.5 * 1000.0 / (x.sum(axis=1) / x.shape[1]))
    lo_k = math.ceil(RESP_BAND_HZ[0] / step)
    hi_k = np.ceil(hi / step).astype(np.int64)
    top = int(np.max(hi_k))
    if top - lo_k < 3:
        return [None] * rows
    weighted = psd[:, lo_k:top] * freqs[lo_k:top] ** RESP_WEIGHT_POWER
    out: list[float | None] = []
    for row, hk in enumerate(hi_k.tolist()):
        if hk - lo_k < 3:  # the band is cut at half the heart rate
            out.append(None)
            continue
        kk = lo_k + int(np.argmax(weighted[row, : hk - lo_k]))
        f = float(freqs[kk])
        if 0 < kk < psd.shape[1] - 1:
            # The vertex of a parabola through the log of the weighted peak and its two
            # neighbours, kept within half a bin of the peak it refines.
            a, b, c = (
                math.log(max(float(v) * float(fr) ** RESP_WEIGHT_POWER, 1e-12))
                for v, fr in zip(psd[row, kk - 1 : kk + 2], freqs[kk - 1 : kk + 2], strict=True)
            )
            denom = a - 2 * b + c
            if denom < 0:
                f += min(0.5, max(-0.5, 0.5 * (a - c) / denom)) * step
        out.append(60.0 * f)
    return out


def resonance_amplitude_rows(
    rr_4hz: FloatArray, resp_rates_bpm: list[float | None]
) -> list[float | None]:
    """Mean peak-to-trough HR (bpm) per breath over the last 120 s of each row (equal-length
    4 Hz RR series), cut into breaths at the row's own breathing rate."""
    hr = 60_000.0 / rr_4hz[:, -int(RESP_WINDOW_S * GRID_HZ) :]
    out: list[float | None] = [None] * hr.shape[0]
    by_length: dict[int, list[int]] = {}  # rows cut into breaths of the same length stack
    for row, rate in enumerate(resp_rates_bpm):
        if rate is not None and rate > 0:
            by_length.setdefault(round(GRID_HZ * 60.0 / rate), []).append(row)
    for per_breath, rows in by_length.items():
        breaths = hr.shape[1] // per_breath
        if breaths < 1 or per_breath < 2:
            continue
        pieces = hr[rows, hr.shape[1] - breaths * per_breath :].reshape(
            len(rows), breaths, per_breath
        )
        swings = np.mean(pieces.max(axis=2) - pieces.min(axis=2), axis=1)
        for row, swing in zip(rows, swings.tolist(), strict=True):
            out[row] = swing
    return out


def breathing(rr_4hz: FloatArray) -> Breathing:
    """Coherence, breathing rate and resonance amplitude of a 4 Hz RR series (its end)."""
    return breathing_rows(rr_4hz[np.newaxis, :])[0]


def breathing_rows(rr_4hz: FloatArray) -> list[Breathing]:
    """:func:`breathing` of each row of a 2-D array (equal-length 4 Hz RR series)."""
    rates = breathing_rate_rows(rr_4hz)
    return [
        Breathing(coherence=c, resp_rate_bpm=rate, resonance_bpm=amplitude)
        for c, rate, amplitude in zip(
            coherence_rows(rr_4hz), rates, resonance_amplitude_rows(rr_4hz, rates), strict=True
        )
    ]
