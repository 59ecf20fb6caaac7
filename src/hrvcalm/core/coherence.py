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
  frequency, refined by parabolic interpolation of the log PSD around the peak bin. (Without
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

from hrvcalm.core.spectrum import Spectrum, periodogram_psd

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
    """Remove the least-squares line (closed form: much cheaper than ``np.polyfit``)."""
    n = x.size
    centred = np.arange(n, dtype=np.float64) - (n - 1) / 2.0
    slope = float(centred @ x) / float(centred @ centred)
    return np.asarray(x - float(np.mean(x)) - slope * centred, dtype=np.float64)


def coherence_ratio(spec: Spectrum) -> float | None:
    """McCraty's ratio ``(peak / (total - peak))^2`` of a PSD (see the module docstring)."""
    peak_hz = spec.peak_hz(*COHERENCE_PEAK_HZ)
    if peak_hz is None:
        return None
    peak = spec.band_power(peak_hz - COHERENCE_HALF_WIDTH_HZ, peak_hz + COHERENCE_HALF_WIDTH_HZ)
    total = spec.band_power(*COHERENCE_TOTAL_HZ)
    rest = total - peak
    if rest <= 0:
        return None
    return (peak / rest) ** 2


def coherence(rr_4hz: FloatArray) -> float | None:
    """Coherence of the last 64 s of an RR series sampled at 4 Hz (taken at 2 Hz)."""
    need = int(COHERENCE_WINDOW_S * GRID_HZ)
    if rr_4hz.size < need:
        return None
    step = int(GRID_HZ / COHERENCE_FS_HZ)
    x = rr_4hz[rr_4hz.size - need :: step]
    return coherence_ratio(periodogram_psd(_detrend(x), COHERENCE_FS_HZ, COHERENCE_NFFT))


def breathing_rate(rr_4hz: FloatArray) -> float | None:
    """Breathing rate (breaths/min) from the RSA peak of the last 120 s (at least 40 s)."""
    if rr_4hz.size < int(40.0 * GRID_HZ):
        return None
    x = rr_4hz[-int(RESP_WINDOW_S * GRID_HZ) :]
    spec = periodogram_psd(_detrend(x), GRID_HZ, RESP_NFFT)
    hi = min(RESP_BAND_HZ[1], 0.5 * 1000.0 / float(np.mean(x)))
    lo_k = math.ceil(RESP_BAND_HZ[0] / spec.step_hz)
    hi_k = math.ceil(hi / spec.step_hz)
    if hi_k - lo_k < 3:
        return None
    psd = spec.psd_ms2_hz
    weighted = psd[lo_k:hi_k] * spec.freqs_hz[lo_k:hi_k] ** RESP_WEIGHT_POWER
    k = lo_k + int(np.argmax(weighted))
    f = float(spec.freqs_hz[k])
    if 0 < k < psd.size - 1:
        a, b, c = (math.log(max(float(v), 1e-12)) for v in psd[k - 1 : k + 2])
        denom = a - 2 * b + c
        if denom < 0:
            f += 0.5 * (a - c) / denom * spec.step_hz
    return 60.0 * f


def resonance_amplitude(rr_4hz: FloatArray, resp_rate_bpm: float) -> float | None:
    """Mean peak-to-trough HR (bpm) per breath over the last 120 s of a 4 Hz RR series."""
    if resp_rate_bpm <= 0:
        return None
    hr = 60_000.0 / rr_4hz[-int(RESP_WINDOW_S * GRID_HZ) :]
    per_breath = round(GRID_HZ * 60.0 / resp_rate_bpm)
    breaths = hr.size // per_breath
    if breaths < 1 or per_breath < 2:
        return None
    pieces = hr[hr.size - breaths * per_breath :].reshape(breaths, per_breath)
    return float(np.mean(pieces.max(axis=1) - pieces.min(axis=1)))


def breathing(rr_4hz: FloatArray) -> Breathing:
    """Coherence, breathing rate and resonance amplitude of a 4 Hz RR series (its end)."""
    rate = breathing_rate(rr_4hz)
    amp = resonance_amplitude(rr_4hz, rate) if rate is not None else None
    return Breathing(coherence(rr_4hz), rate, amp)
