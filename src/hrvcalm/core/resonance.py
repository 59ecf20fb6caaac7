"""Resonance-frequency assessment: the stepped protocol and the scoring of each step (sans-I/O).

Protocol (Lehrer, Vaschillo & Vaschillo 2000, Appl Psychophysiol Biofeedback 25:177; Shaffer &
Meehan 2020, Front Neurosci 14:570400): paced breathing for 2 minutes at each of 6.5, 6.0, 5.5,
5.0 and 4.5 breaths/min, in that order. The first quarter of each step, at most 30 s, is
skipped as settling (our choice: breathing and heart rate take a few breaths to follow a new
pace, and the published protocols leave the margin to the clinician), so a 2-minute step is
scored on its last 90 s.

Each step is scored from its normal beats (artifacts left out) and the pacer, on the six
criteria of Shaffer & Meehan (2020, table 2), all computed from the RR series cubic-spline
resampled at 4 Hz (:func:`hrvcalm.core.spectrum.resample`), each interval placed at its
midpoint (the time its heart rate describes) rather than at its end beat:

- **Phase synchrony**: the phase of heart rate (``60000 / RR``) relative to the pacer's breath
  (lung volume: rising during the in-breath, falling during the out-breath) at the paced
  frequency, from the single-frequency Fourier coefficients of both over the window, in
  degrees (negative: heart rate lags). At resonance heart rate and breathing are in phase, 0
  degrees (Vaschillo et al. 2002, Appl Psychophysiol Biofeedback 27:1); the score is
  ``cos(phase)``, 1 for in phase.
- **Peak-to-trough amplitude**: the mean of max - min heart rate (bpm) within each complete
  pacer cycle of the window.
- **LF power**: power of the RR series in 0.04-0.15 Hz, ms^2 (Task Force 1996), from the
  Hann-windowed periodogram of the linearly detrended window (zero-padded to 2048 points).
- **LF peak height**: the highest PSD value in 0.04-0.15 Hz, ms^2/Hz.
- **Smoothness**: the fraction of the total power (0.0033-0.4 Hz) within +-0.015 Hz of the
  paced frequency (a pure sine at the pace gives ~1; a jagged or irregular curve less). This
  quantifies the "smooth, sine-like heart-rate curve" that Shaffer & Meehan judge by eye.
- **Number of LF peaks**: local maxima of the PSD in 0.04-0.15 Hz at least 10 % as high as the
  highest one (fewer is better: one clear peak at the pace).

Choice (:func:`choose`): each criterion ranks the steps (1 = best; ties share the mean rank);
the ranks are summed with weight 2 for peak-to-trough amplitude and LF power, the criteria
Shaffer & Meehan (2020) give most weight, and 1 for the other four. The lowest weighted rank
sum wins; a tie goes to the larger peak-to-trough amplitude. Steps without enough clean data
(fewer than 3 pacer cycles or 60 % of the expected beats) are not ranked.

Times are seconds on the session's clock, passed in; nothing here reads a clock.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from hrvcalm.core.pacer import PacerSettings
from hrvcalm.core.spectrum import HF_HZ, LF_HZ, VLF_HZ, band_slice, periodogram_psd, resample

FloatArray = npt.NDArray[np.float64]

#: The paced rates of the protocol, breaths/min, in the order they are run.
RATES_BPM = (6.5, 6.0, 5.5, 5.0, 4.5)
#: Length of one step, s.
STEP_S = 120.0
#: Longest settling time skipped at the start of each step, s.
MAX_SETTLE_S = 30.0
#: Settling time as a fraction of the step, when that is shorter.
SETTLE_FRACTION = 0.25
GRID_HZ = 4.0
NFFT = 2048
#: Half-width of the band around the paced frequency counted as "at the pace", Hz.
PACE_HALF_WIDTH_HZ = 0.015
#: A local PSD maximum in LF counts as a peak when at least this fraction of the highest.
PEAK_FRACTION = 0.10
#: Weights of the criteria in the rank sum (Shaffer & Meehan 2020: amplitude and LF power).
WEIGHTS = {
    "synchrony": 1.0,
    "peak_trough_bpm": 2.0,
    "lf_ms2": 2.0,
    "lf_peak_ms2_hz": 1.0,
    "smoothness": 1.0,
    "n_lf_peaks": 1.0,
}
#: Criteria where a smaller value is better (all others: larger is better).
SMALLER_IS_BETTER = frozenset({"n_lf_peaks"})
MIN_CYCLES = 3
MIN_BEAT_FRACTION = 0.6


@dataclass(frozen=True, slots=True)
class Protocol:
    """The stepped protocol: rates (breaths/min) and the length of each step (s)."""

    rates_bpm: tuple[float, ...] = RATES_BPM
    step_s: float = STEP_S

    def __post_init__(self) -> None:
        if not self.rates_bpm:
            raise ValueError("the protocol needs at least one rate")
        if not 10.0 <= self.step_s <= 600.0:
            raise ValueError(f"step length must be 10-600 s, got {self.step_s:g}")

    @property
    def settle_s(self) -> float:
        """Seconds skipped at the start of each step."""
        return min(MAX_SETTLE_S, SETTLE_FRACTION * self.step_s)

    @property
    def total_s(self) -> float:
        """Length of the whole protocol, s."""
        return self.step_s * len(self.rates_bpm)

    def step_at(self, elapsed_s: float) -> int | None:
        """Index of the step running ``elapsed_s`` after the start (``None`` once over)."""
        if elapsed_s < 0:
            return 0
        k = int(elapsed_s // self.step_s)
        return k if k < len(self.rates_bpm) else None


@dataclass(frozen=True, slots=True)
class StepScore:
    """The criteria of one step (see the module docstring).

    Attributes:
        rate_bpm: Paced rate, breaths/min.
        n_beats: Normal beats in the scored window.
        phase_deg: Heart-rate phase relative to the breath at the pace, degrees (-180-180].
        synchrony: ``cos(phase)``, 1 = in phase.
        peak_trough_bpm: Mean peak-to-trough heart rate per breath, bpm.
        lf_ms2: LF power, ms^2.
        lf_peak_ms2_hz: Highest LF PSD value, ms^2/Hz.
        smoothness: Fraction of total power at the pace, 0-1.
        n_lf_peaks: Peaks in the LF band.
        rank_sum: Weighted rank sum across the steps (set by :func:`choose`).
    """

    rate_bpm: float
    n_beats: int
    phase_deg: float
    synchrony: float
    peak_trough_bpm: float
    lf_ms2: float
    lf_peak_ms2_hz: float
    smoothness: float
    n_lf_peaks: int
    rank_sum: float | None = None


@dataclass(frozen=True, slots=True)
class Assessment:
    """The outcome: every step's score (``None`` if not scorable) and the chosen rate."""

    rates_bpm: tuple[float, ...]
    steps: tuple[StepScore | None, ...]
    chosen_rate_bpm: float | None


def breath_volume(pacer: PacerSettings, t_s: FloatArray) -> FloatArray:
    """The pacer's breath as lung volume 0-1 at times ``t_s`` (same clock as ``t0_s``).

    Rises as a half cosine during the in-breath and falls likewise during the out-breath.
    """
    position = np.mod(t_s - pacer.t0_s, pacer.cycle_s)
    inhale = position < pacer.inhale_s
    frac_in = position / pacer.inhale_s
    frac_out = (position - pacer.inhale_s) / (pacer.cycle_s - pacer.inhale_s)
    up = 0.5 * (1.0 - np.cos(math.pi * frac_in))
    down = 0.5 * (1.0 + np.cos(math.pi * frac_out))
    return np.asarray(np.where(inhale, up, down), dtype=np.float64)


def _detrend(x: FloatArray) -> FloatArray:
    n = x.size
    centred = np.arange(n, dtype=np.float64) - (n - 1) / 2.0
    slope = float(centred @ x) / float(centred @ centred)
    return np.asarray(x - float(np.mean(x)) - slope * centred, dtype=np.float64)


def _fourier(x: FloatArray, t_s: FloatArray, freq_hz: float) -> complex:
    return complex(np.sum((x - np.mean(x)) * np.exp(-2j * math.pi * freq_hz * t_s)))


def _count_peaks(psd: FloatArray) -> int:
    if psd.size < 3:
        return 0
    top = float(np.max(psd))
    inner = psd[1:-1]
    is_peak = (inner > psd[:-2]) & (inner >= psd[2:]) & (inner >= PEAK_FRACTION * top)
    return max(1, int(np.count_nonzero(is_peak)))


def score_step(
    t_s: Sequence[float],
    rr_ms: Sequence[float],
    artifact: Sequence[bool],
    pacer: PacerSettings,
    start_s: float,
    end_s: float,
) -> StepScore | None:
    """Score one step from its beats.

    Args:
        t_s: End times of the beats, s (session clock), increasing.
        rr_ms: The intervals, ms.
        artifact: Whether each beat is an artifact (left out).
        pacer: The pacer during the step; its ``t0_s`` on the same clock as ``t_s``.
        start_s: Start of the scored window (after settling), s.
        end_s: End of the scored window, s.

    Returns:
        The criteria, or ``None`` when the window holds too little clean data.
    """
    t = np.asarray(t_s, dtype=np.float64)
    rr = np.asarray(rr_ms, dtype=np.float64)
    ok = ~np.asarray(artifact, dtype=bool) & (t >= start_s) & (t < end_s)
    # each interval's heart rate is referred to the interval's midpoint, not its end beat:
    # at 5 breaths/min the end time would add a lag of half a beat, ~14 degrees
    t, rr = t[ok] - 0.5e-3 * rr[ok], rr[ok]
    span = end_s - start_s
    if span < MIN_CYCLES * pacer.cycle_s or t.size < 16:
        return None
    expected = span / (float(np.mean(rr)) / 1000.0)
    if t.size < MIN_BEAT_FRACTION * expected:
        return None
    grid, rr4 = resample(t, rr, GRID_HZ)
    hr4 = 60_000.0 / rr4
    f_pace = pacer.rate_bpm / 60.0

    # phase of heart rate against the breath, over whole cycles from the window's end
    cycles = int((grid[-1] - grid[0]) // pacer.cycle_s)
    whole = grid >= grid[-1] - cycles * pacer.cycle_s
    volume = breath_volume(pacer, grid[whole])
    ratio = _fourier(hr4[whole], grid[whole], f_pace) / _fourier(volume, grid[whole], f_pace)
    phase = math.degrees(math.atan2(ratio.imag, ratio.real))

    # peak-to-trough heart rate per complete pacer cycle
    cycle_index = np.floor((grid - pacer.t0_s) / pacer.cycle_s)
    swings = []
    for k in np.unique(cycle_index):
        sel = cycle_index == k
        lo, hi = grid[sel][0], grid[sel][-1]
        if lo - grid[0] >= -1e-9 and hi + 1.0 / GRID_HZ >= lo + pacer.cycle_s - 1e-6:
            swings.append(float(np.max(hr4[sel]) - np.min(hr4[sel])))
    if not swings:
        return None

    spec = periodogram_psd(_detrend(rr4), GRID_HZ, NFFT)
    lf_band = band_slice(spec.freqs_hz, *LF_HZ)
    lf_psd = spec.psd_ms2_hz[lf_band]
    total = spec.band_power(VLF_HZ[0], HF_HZ[1])
    at_pace = spec.band_power(f_pace - PACE_HALF_WIDTH_HZ, f_pace + PACE_HALF_WIDTH_HZ)
    return StepScore(
        rate_bpm=pacer.rate_bpm,
        n_beats=int(t.size),
        phase_deg=phase,
        synchrony=math.cos(math.radians(phase)),
        peak_trough_bpm=float(np.mean(swings)),
        lf_ms2=spec.band_power(*LF_HZ),
        lf_peak_ms2_hz=float(np.max(lf_psd)),
        smoothness=at_pace / total if total > 0 else 0.0,
        n_lf_peaks=_count_peaks(lf_psd),
    )


def _ranks(values: list[float], smaller_is_better: bool) -> list[float]:
    """Ranks 1..n, 1 = best, tied values sharing their mean rank."""
    keyed = [v if smaller_is_better else -v for v in values]
    order = sorted(range(len(keyed)), key=lambda i: keyed[i])
    ranks = [0.0] * len(keyed)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and keyed[order[j + 1]] == keyed[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return ranks


def choose(rates_bpm: Sequence[float], steps: Sequence[StepScore | None]) -> Assessment:
    """Rank the scored steps on every criterion and choose the rate (module docstring)."""
    scored = [s for s in steps if s is not None]
    sums = [0.0] * len(scored)
    for name, weight in WEIGHTS.items():
        values = [float(getattr(s, name)) for s in scored]
        for i, rank in enumerate(_ranks(values, name in SMALLER_IS_BETTER)):
            sums[i] += weight * rank
    ranked = [replace(s, rank_sum=r) for s, r in zip(scored, sums, strict=True)]
    chosen = None
    if ranked:
        best = min(ranked, key=lambda s: (s.rank_sum, -s.peak_trough_bpm))
        chosen = best.rate_bpm
    it = iter(ranked)
    out = tuple(None if s is None else next(it) for s in steps)
    return Assessment(tuple(rates_bpm), out, chosen)
