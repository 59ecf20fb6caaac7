"""Synthetic RR of known truth: a patient going from ordinary breathing to slow paced breathing.

A heart-rate model, beats by integral pulse frequency modulation (a beat whenever the integral
of HR/60 over time crosses a whole number, so RR = 60000/HR only on average and the shape of
RR is that of a real heart driven by a modulated rate)::

    hr(t) = hr0 - a(t) * g(breath phase)      respiratory sinus arrhythmia (RSA)
                + m * sin(2 pi f_mayer t + p)  baroreflex (Mayer) wave, ~0.1 Hz
                + w(t)                         slow random walk
    rr    = the interval between beats + N(0, noise) ms, rounded to 1/1024 s (Polar's unit)

- **Breaths** are irregular: each breath's length is the nominal one times ``1 + 0.3 u``,
  ``u`` uniform in [-1, 1] (30 % breath-to-breath variation), its depth varies by +-20 %.
- **Asymmetric breaths**: ``g`` rises from -1 to +1 in the first ``rise`` (25-40 %) of a
  breath and returns over the rest (RR lengthens abruptly at the start of the out-breath and
  shortens gradually), the shape of the surges a reviewer measured on paced-breathing data
  (``844 [1062][1125] 891``).
- **Onset**: ordinary breathing at ``rate0`` (15/min) with a small RSA (about 50 ms of RR peak
  to trough) until ``onset_s``; then the pacer's rate, and the RSA amplitude ramps (cosine) to
  its paced value (``swing_ms`` peak to trough in RR, 300-500 ms) within ``ramp_s`` (<= 60 s).

Everything is drawn from one seeded ``numpy`` generator: a seed always gives the same beats.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
_FS = 50.0  # integration grid of the heart-rate model, Hz


@dataclass(frozen=True)
class Onset:
    """One synthetic patient and session (all times in s)."""

    seed: int
    rate_bpm: float  # the pacer's rate after the onset
    swing_ms: float = 400.0  # RSA peak to trough in RR once paced
    hr0_bpm: float = 62.0
    rate0_bpm: float = 15.0
    swing0_ms: float = 50.0
    onset_s: float = 120.0
    ramp_s: float = 50.0
    duration_s: float = 480.0
    mayer_bpm: float = 1.2
    noise_ms: float = 3.0


def _shape(phase: FloatArray, rise: FloatArray) -> FloatArray:
    """-1 -> +1 over the first ``rise`` of a breath (phase 0-1), back to -1 over the rest."""
    up = phase < rise
    out = np.empty_like(phase)
    out[up] = -np.cos(np.pi * phase[up] / rise[up])
    down = ~up
    out[down] = np.cos(np.pi * (phase[down] - rise[down]) / (1.0 - rise[down]))
    return out


def _hr_amplitude(swing_ms: float, hr0: float) -> float:
    """HR half-swing (bpm) whose RR swing peak to trough is ``swing_ms`` at ``hr0``."""
    lo, hi = 0.0, 0.9 * hr0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if 60_000.0 / (hr0 - mid) - 60_000.0 / (hr0 + mid) < swing_ms:
            lo = mid
        else:
            hi = mid
    return lo


def onset_rr(o: Onset) -> tuple[FloatArray, FloatArray]:
    """The beats of one session: (end time of each interval s, RR ms)."""
    rng = np.random.default_rng(o.seed)
    n = int(o.duration_s * _FS) + 1
    t = np.arange(n) / _FS
    # Breaths: irregular lengths and depths, asymmetric shape; the rate changes at the onset.
    phase = np.zeros(n)
    rise = np.zeros(n)
    depth = np.zeros(n)
    start = -rng.uniform(0.0, 60.0 / o.rate0_bpm)
    while start < o.duration_s:
        rate = o.rate0_bpm if start < o.onset_s else o.rate_bpm
        length = 60.0 / rate * (1.0 + 0.3 * rng.uniform(-1.0, 1.0))
        if start < o.onset_s < start + length:  # the first paced breath starts at the onset
            length = o.onset_s - start
        sel = (t >= start) & (t < start + length)
        phase[sel] = (t[sel] - start) / length
        rise[sel] = rng.uniform(0.25, 0.4)
        depth[sel] = 1.0 + 0.2 * rng.uniform(-1.0, 1.0)
        start += length
    ramp = np.clip((t - o.onset_s) / o.ramp_s, 0.0, 1.0)
    ramp = 0.5 - 0.5 * np.cos(np.pi * ramp)
    a0 = _hr_amplitude(o.swing0_ms, o.hr0_bpm)
    a1 = _hr_amplitude(o.swing_ms, o.hr0_bpm)
    amplitude = (a0 + (a1 - a0) * ramp) * depth
    mayer_hz = rng.uniform(0.08, 0.12)
    walk = np.cumsum(rng.normal(0.0, 0.02, n))
    walk -= np.linspace(0.0, walk[-1], n)  # a bridge: no net drift over the session
    hr = (
        o.hr0_bpm
        - amplitude * _shape(phase, rise)
        + o.mayer_bpm * np.sin(2 * np.pi * mayer_hz * t + rng.uniform(0, 2 * np.pi))
        + walk
    )
    # Integral pulse frequency modulation: beat k when the integral of hr/60 reaches k.
    beats_done = np.concatenate(([0.0], np.cumsum(hr[1:] + hr[:-1]) / (2 * 60.0 * _FS)))
    k = np.arange(1, math.floor(beats_done[-1]) + 1)
    beat_t = np.interp(k, beats_done, t)
    rr = np.diff(beat_t) * 1000.0 + rng.normal(0.0, o.noise_ms, beat_t.size - 1)
    rr = np.round(rr * 1.024) / 1.024
    return np.cumsum(rr) / 1000.0 + beat_t[0], rr


def inject(
    rr: FloatArray, fraction: float, seed: int, first: int = 0
) -> tuple[FloatArray, list[int]]:
    """Seeded missed, extra and ectopic beats (a third each) at or after beat ``first``.

    As tests/validation/test_artifact_injection.py: missed = two intervals merged, extra = one
    split at a uniform 25-75 % point, ectopic = one shortened by 20-35 % and the next lengthened
    by as much (a compensatory pause). Returns the corrupted series and its corrupted indices.
    """
    rng = np.random.default_rng(seed)
    candidates = np.arange(max(20, first), rr.size - 20, 3)
    count = min(candidates.size, round(fraction * (rr.size - first)))
    where = set(rng.choice(candidates, size=count, replace=False).tolist())
    out: list[float] = []
    marked: list[int] = []
    i = 0
    kind = 0
    while i < rr.size:
        if i in where:
            kind = (kind + 1) % 3
            if kind == 0:
                marked.append(len(out))
                out.append(rr[i] + rr[i + 1])
                i += 2
                continue
            if kind == 1:
                f = rng.uniform(0.25, 0.75)
                marked += [len(out), len(out) + 1]
                out += [f * rr[i], (1 - f) * rr[i]]
                i += 1
                continue
            shift = rng.uniform(0.2, 0.35) * rr[i]
            marked += [len(out), len(out) + 1]
            out += [rr[i] - shift, rr[i + 1] + shift]
            i += 2
            continue
        out.append(float(rr[i]))
        i += 1
    return np.asarray(out), marked
