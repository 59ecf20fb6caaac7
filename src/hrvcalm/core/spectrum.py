"""Frequency-domain HRV: power spectra of the RR series and band powers in ms^2.

Bands (Task Force 1996, Circulation 93:1043): VLF 0.0033-0.04 Hz, LF 0.04-0.15 Hz, HF
0.15-0.4 Hz; total power 0.0033-0.4 Hz (ULF below 0.0033 Hz is left out, as short-term
analysis does). Every spectrum here is a one-sided power spectral density in ms^2/Hz whose
integral is the variance of the RR series: a sine of amplitude ``A`` ms in the RR series
carries ``A^2 / 2`` ms^2 in its band (tests/validation/test_analytic.py checks this).

Two methods:

- ``welch`` (Kubios' and NeuroKit's default): the normal beats' RR values at their beat times
  are interpolated by a cubic spline (linear interpolation loses high-frequency power: a
  0.25 Hz sine came out 29 % low, DESIGN.md section 5) onto a 4 Hz grid, the mean is removed
  and Welch's method (Hann window, 50 % overlap) is applied with segments as long as the data
  up to ``2 / 0.0033`` s, as NeuroKit does, so that one 300-s window is one segment.
- ``lomb`` (the PhysioNet Cardiovascular Signal Toolbox's default; Lomb 1976, Scargle 1982;
  Clifford & Tarassenko 2005 for its use on RR): the Lomb-Scargle periodogram of the unevenly
  sampled NN series itself, no interpolation, scaled to a PSD by ``2 T / N`` (T: span, N:
  samples), on a 0.001 Hz grid (3x finer than the 1/300 Hz resolution of a 5-min window).

Artifacts are simply absent from the input: the spline (or the Lomb fit) bridges them.

**What a span can hold** (Task Force 1996: a band's power needs about ten cycles of its lowest
frequency; DESIGN.md section 5): LF power, LF/HF and total power are ``None`` for less than
``MIN_LF_SPAN_S`` = 120 s of beats, VLF power for less than ``MIN_VLF_SPAN_S`` = 300 s; HF
power and the peak frequencies need ``MIN_SPAN_S`` = 50 s. The seconds of beats of a window
are the sum of its intervals (artifacts included: they still cover time; beats lost in a
dropout do not), which for a complete window of the toolbox's convention (intervals *ending*
in it) can fall short of its length by part of one interval: ``SPAN_SLACK_S`` = 2 s (one beat
at 30 bpm) is allowed for that. Live, the same spans apply: the live spectra cover 120 s, so
LF appears after two minutes and VLF never (it needs five).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.linalg.lapack import dgtsv

FloatArray = npt.NDArray[np.float64]

VLF_HZ = (0.0033, 0.04)
LF_HZ = (0.04, 0.15)
HF_HZ = (0.15, 0.4)
RESAMPLE_HZ = 4.0
LOMB_STEP_HZ = 0.001
METHODS = ("welch", "lomb")
#: Shortest span of data, s, for which a spectrum is computed (two cycles of 0.04 Hz).
MIN_SPAN_S = 50.0
#: Seconds of beats needed for LF power, LF/HF and total power (Task Force 1996).
MIN_LF_SPAN_S = 120.0
#: Seconds of beats needed for VLF power.
MIN_VLF_SPAN_S = 300.0
#: A complete window's intervals may fall short of its length by part of one interval.
SPAN_SLACK_S = 2.0


@dataclass(frozen=True, slots=True)
class Spectrum:
    """A one-sided PSD: ``freqs_hz`` and ``psd_ms2_hz`` (ms^2/Hz) on an even grid, and the
    seconds of beats it was computed from (``None``: unknown, no span rule applied)."""

    freqs_hz: FloatArray
    psd_ms2_hz: FloatArray
    span_s: float | None = None

    @property
    def step_hz(self) -> float:
        """Spacing of the frequency grid, Hz."""
        return float(self.freqs_hz[1] - self.freqs_hz[0])

    def band_power(self, lo_hz: float, hi_hz: float) -> float:
        """Power in ``[lo_hz, hi_hz)``, ms^2 (rectangle rule on the grid)."""
        band = band_slice(self.freqs_hz, lo_hz, hi_hz)
        return float(np.sum(self.psd_ms2_hz[band])) * self.step_hz

    def peak_hz(self, lo_hz: float, hi_hz: float) -> float | None:
        """Frequency of the highest PSD value in ``[lo_hz, hi_hz)``, Hz."""
        band = band_slice(self.freqs_hz, lo_hz, hi_hz)
        if band.stop <= band.start:
            return None
        return float(self.freqs_hz[band.start + int(np.argmax(self.psd_ms2_hz[band]))])


def band_slice(freqs_hz: FloatArray, lo_hz: float, hi_hz: float) -> slice:
    """Indices of an even frequency grid with ``lo_hz <= f < hi_hz`` (index arithmetic)."""
    f0 = float(freqs_hz[0])
    step = float(freqs_hz[1] - freqs_hz[0])
    lo = max(0, math.ceil((lo_hz - f0) / step - 1e-9))
    hi = min(freqs_hz.size, max(lo, math.ceil((hi_hz - f0) / step - 1e-9)))
    return slice(lo, hi)


@dataclass(frozen=True, slots=True)
class FrequencyDomain:
    """Band powers (ms^2), their ratio and peak frequencies (Hz); ``None`` if not computable."""

    vlf_ms2: float | None = None
    lf_ms2: float | None = None
    hf_ms2: float | None = None
    lf_hf: float | None = None
    total_power_ms2: float | None = None
    lf_peak_hz: float | None = None
    hf_peak_hz: float | None = None


def increasing(t_s: FloatArray, values: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Drop points whose time does not increase (a 0-ms interval), as a spline needs."""
    if t_s.size < 2:
        return t_s, values
    keep = np.concatenate(([True], np.diff(t_s) > 0))
    if bool(np.all(keep)):
        return t_s, values
    return t_s[keep], values[keep]


def cubic_spline(t_s: FloatArray, values: FloatArray, grid_s: FloatArray) -> FloatArray:
    """Natural cubic spline through ``(t_s, values)`` evaluated at ``grid_s``.

    A tridiagonal solve (LAPACK ``dgtsv``) for the second derivatives (zero at both ends), then
    the piecewise cubic; several times faster than SciPy's ``CubicSpline`` on the live path's
    ~150 beats, and equal to it away from the two end intervals. ``t_s`` must be strictly
    increasing (>= 3 points).
    """
    h = np.diff(t_s)
    n = t_s.size
    slopes = np.diff(values) / h
    second = np.zeros(n)
    if n > 2:
        off_diagonal = h[1:-1]
        *_, solution, info = dgtsv(
            off_diagonal, 2.0 * (h[:-1] + h[1:]), off_diagonal, 6.0 * np.diff(slopes)
        )
        if info != 0:  # cannot happen for increasing t_s (the system is diagonally dominant)
            raise ValueError(f"spline system is singular (LAPACK dgtsv info={info})")
        second[1:-1] = solution
    k = np.clip(np.searchsorted(t_s, grid_s, side="right") - 1, 0, n - 2)
    hk = h[k]
    a = t_s[k + 1] - grid_s
    b = grid_s - t_s[k]
    out = (second[k] * a**3 + second[k + 1] * b**3) / (6.0 * hk)
    out += (values[k] / hk - second[k] * hk / 6.0) * a
    out += (values[k + 1] / hk - second[k + 1] * hk / 6.0) * b
    return np.asarray(out, dtype=np.float64)


def resample(
    t_s: FloatArray, rr_ms: FloatArray, fs_hz: float = RESAMPLE_HZ
) -> tuple[FloatArray, FloatArray]:
    """Cubic-spline interpolation of RR (ms) at beat times (s) onto an even ``fs_hz`` grid."""
    t_s, rr_ms = increasing(t_s, rr_ms)
    grid = np.arange(t_s[0], t_s[-1], 1.0 / fs_hz)
    return grid, cubic_spline(t_s, rr_ms, grid)


@functools.lru_cache(maxsize=32)
def _hann(n: int) -> tuple[FloatArray, float]:
    window = np.hanning(n)
    window.flags.writeable = False
    return window, float(np.sum(window * window))


@functools.lru_cache(maxsize=32)
def _rfft_freqs(size: int, fs_hz: float) -> FloatArray:
    freqs = np.asarray(np.fft.rfftfreq(size, 1.0 / fs_hz), dtype=np.float64)
    freqs.flags.writeable = False
    return freqs


def periodogram_rows(
    x: FloatArray, fs_hz: float, nfft: int | None = None
) -> tuple[FloatArray, FloatArray]:
    """Hann-windowed, mean-removed periodogram of each row of ``x`` (its last axis).

    Returns:
        The frequency grid (Hz) and the one-sided PSDs (units of ``x``^2/Hz), one per row; a
        1-D ``x`` gives one 1-D PSD. Offline analysis passes many equal-length windows at once.
    """
    n = x.shape[-1]
    window, power = _hann(n)
    size = max(n, nfft or n)
    mean = x.sum(axis=-1, keepdims=True) / n  # np.mean's own arithmetic, without its overhead
    spec = np.fft.rfft((x - mean) * window, n=size, axis=-1)
    psd = (spec.real**2 + spec.imag**2) / (fs_hz * power)
    psd[..., 1:] *= 2.0
    if size % 2 == 0:
        psd[..., -1] /= 2.0
    return _rfft_freqs(size, fs_hz), np.asarray(psd, dtype=np.float64)


def periodogram_psd(x: FloatArray, fs_hz: float, nfft: int | None = None) -> Spectrum:
    """Hann-windowed, mean-removed periodogram of an evenly sampled series (one segment)."""
    return Spectrum(*periodogram_rows(x, fs_hz, nfft))


def welch_segment(fs_hz: float, segment_s: float = 2.0 / VLF_HZ[0]) -> int:
    """Samples in one Welch segment: series up to this long are a single periodogram."""
    return int(segment_s * fs_hz)


def welch_psd(x: FloatArray, fs_hz: float, segment_s: float = 2.0 / VLF_HZ[0]) -> Spectrum:
    """Welch's PSD (Hann, 50 % overlap, mean removed per segment) in units of ``x``^2/Hz."""
    nseg = min(x.size, welch_segment(fs_hz, segment_s))
    if nseg >= x.size:
        return periodogram_psd(x, fs_hz)
    segments = np.lib.stride_tricks.sliding_window_view(x, nseg)[:: nseg // 2]
    freqs, psd_rows = periodogram_rows(segments, fs_hz)
    return Spectrum(freqs, np.asarray(np.mean(psd_rows, axis=0), dtype=np.float64))


def lomb_psd(t_s: FloatArray, rr_ms: FloatArray, max_hz: float = HF_HZ[1]) -> Spectrum:
    """Lomb-Scargle PSD (ms^2/Hz) of RR values at uneven beat times."""
    freqs = np.arange(LOMB_STEP_HZ, max_hz + LOMB_STEP_HZ, LOMB_STEP_HZ)
    # scipy.signal costs ~1 s to import: only for the Lomb method, never on the default path.
    from scipy.signal import lombscargle

    y = rr_ms - np.mean(rr_ms)
    power = lombscargle(t_s, y, 2.0 * math.pi * freqs)
    span = float(t_s[-1] - t_s[0])
    psd = np.asarray(power, dtype=np.float64) * (2.0 * span / t_s.size)
    return Spectrum(freqs, psd)


def spectrum(t_s: FloatArray, rr_ms: FloatArray, method: str = "welch") -> Spectrum | None:
    """The PSD of normal beats (times ``t_s`` in s, intervals ``rr_ms``), or ``None`` if short.

    Args:
        t_s: End times of the normal intervals, s, increasing.
        rr_ms: The normal intervals, ms.
        method: ``welch`` or ``lomb``.
    """
    if method not in METHODS:
        raise ValueError(f"unknown PSD method {method!r}: use one of {', '.join(METHODS)}")
    if t_s.size < 16 or float(t_s[-1] - t_s[0]) < MIN_SPAN_S:
        return None
    span_s = float(t_s[-1] - t_s[0]) + float(rr_ms[0]) / 1000.0
    t_s, rr_ms = increasing(t_s, rr_ms)
    if method == "lomb":
        spec = lomb_psd(t_s, rr_ms)
    else:
        _, values = resample(t_s, rr_ms)
        spec = welch_psd(values, RESAMPLE_HZ)
    return Spectrum(spec.freqs_hz, spec.psd_ms2_hz, span_s)


def frequency_domain(spec: Spectrum | None, span_s: float | None = None) -> FrequencyDomain:
    """Band powers (ms^2), LF/HF and the LF and HF peak frequencies (Hz) of a spectrum.

    Args:
        spec: The spectrum, or ``None`` (everything ``None``).
        span_s: Seconds of beats behind it (default: the spectrum's own ``span_s``); LF, LF/HF
            and total power need 120 s, VLF 300 s (see the module docstring).
    """
    if spec is None:
        return FrequencyDomain()
    span = spec.span_s if span_s is None else span_s
    spans = None if span is None else [span]
    return frequency_domain_rows(spec.freqs_hz, spec.psd_ms2_hz[np.newaxis, :], spans)[0]


def within_spans(fd: FrequencyDomain, span_s: float) -> FrequencyDomain:
    """``fd`` with what ``span_s`` seconds of beats cannot hold set to ``None``."""
    if span_s < MIN_LF_SPAN_S - SPAN_SLACK_S:
        return FrequencyDomain(hf_ms2=fd.hf_ms2, lf_peak_hz=fd.lf_peak_hz, hf_peak_hz=fd.hf_peak_hz)
    if span_s < MIN_VLF_SPAN_S - SPAN_SLACK_S:
        return FrequencyDomain(
            None, fd.lf_ms2, fd.hf_ms2, fd.lf_hf, fd.total_power_ms2, fd.lf_peak_hz, fd.hf_peak_hz
        )
    return fd


def frequency_domain_rows(
    freqs_hz: FloatArray, psd_rows: FloatArray, spans_s: list[float] | None = None
) -> list[FrequencyDomain]:
    """:func:`frequency_domain` of each row of ``psd_rows`` (PSDs on the grid ``freqs_hz``),
    each with its seconds of beats in ``spans_s`` (``None``: no span rule)."""
    step = float(freqs_hz[1] - freqs_hz[0])
    bands = [band_slice(freqs_hz, *band) for band in (VLF_HZ, LF_HZ, HF_HZ)]
    vlf, lf, hf = ((psd_rows[:, band].sum(axis=1) * step).tolist() for band in bands)

    def peaks(band: slice) -> list[float | None]:
        if band.stop <= band.start:
            return [None] * psd_rows.shape[0]
        found: list[float | None] = freqs_hz[
            band.start + np.argmax(psd_rows[:, band], axis=1)
        ].tolist()
        return found

    out = [
        FrequencyDomain(
            vlf_ms2=v,
            lf_ms2=low,
            hf_ms2=high,
            lf_hf=low / high if high > 0 else None,
            total_power_ms2=v + low + high,
            lf_peak_hz=lf_peak,
            hf_peak_hz=hf_peak,
        )
        for v, low, high, lf_peak, hf_peak in zip(
            vlf, lf, hf, peaks(bands[1]), peaks(bands[2]), strict=True
        )
    ]
    if spans_s is None:
        return out
    return [within_spans(fd, span) for fd, span in zip(out, spans_s, strict=True)]
