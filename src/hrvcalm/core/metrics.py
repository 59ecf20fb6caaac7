"""One window's full set of metrics, shared by offline analysis and the live pipeline.

The time-domain part comes from :mod:`hrvcalm.core.window` (live, O(1) per beat) or
:func:`hrvcalm.core.analysis.time_domain` (offline); this module adds the frequency-domain
(:mod:`~hrvcalm.core.spectrum`), nonlinear (:mod:`~hrvcalm.core.nonlinear`) and breathing
(:mod:`~hrvcalm.core.coherence`) metrics and assembles :class:`~hrvcalm.events.Metrics`.

``quality`` (0-1) is the share of the window's intervals that are normal, i.e.
``1 - artifacts_pct / 100``: it says how much of what the patient sees rests on clean beats.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from hrvcalm.core.coherence import Breathing, breathing
from hrvcalm.core.nonlinear import Nonlinear, nonlinear
from hrvcalm.core.spectrum import (
    MIN_SPAN_S,
    RESAMPLE_HZ,
    FrequencyDomain,
    frequency_domain,
    lomb_psd,
    welch_psd,
)
from hrvcalm.core.window import TimeDomain
from hrvcalm.events import Metrics

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Scheduled:
    """The metrics that are recomputed on a schedule rather than per beat."""

    frequency: FrequencyDomain = field(default_factory=FrequencyDomain)
    nonlinear: Nonlinear = field(default_factory=Nonlinear)
    breathing: Breathing = field(default_factory=Breathing)


def spectral_metrics(
    t_s: FloatArray,
    rr_ms: FloatArray,
    normal: BoolArray,
    rr_4hz: FloatArray | None,
    *,
    psd: str = "welch",
    prior_bpm: float | None = None,
    live: bool = False,
    with_breathing: bool = True,
) -> tuple[FrequencyDomain, Breathing]:
    """Frequency-domain and breathing metrics of one window.

    Args:
        t_s: End times of the window's intervals, s.
        rr_ms: The window's intervals, ms (artifacts included); their sum is the window's
            seconds of beats, which decides what the spectrum can hold
            (:func:`~hrvcalm.core.spectrum.within_spans`).
        normal: ``True`` for normal intervals.
        rr_4hz: The normal RR series spline-resampled at 4 Hz over the window, or ``None``.
        psd: ``welch`` (on ``rr_4hz``) or ``lomb`` (on the normal beats themselves).
        prior_bpm: The pacer's rate during a paced practice (breathing-rate prior).
        live: Coherence of the last 64 s (the live value) rather than of the whole window.
        with_breathing: Compute coherence, breathing rate and resonance amplitude.
    """
    t_nn = t_s[normal]
    if t_nn.size < 16 or float(t_nn[-1] - t_nn[0]) < MIN_SPAN_S:
        return FrequencyDomain(), Breathing()
    usable = rr_4hz is not None and rr_4hz.size >= 16
    if psd == "lomb":
        spec = lomb_psd(t_nn, rr_ms[normal])
    elif rr_4hz is not None and usable:
        spec = welch_psd(rr_4hz, RESAMPLE_HZ)
    else:
        spec = None
    br = Breathing()
    if with_breathing and rr_4hz is not None and usable:
        br = breathing(rr_4hz, prior_bpm=prior_bpm, live=live)
    return frequency_domain(spec, float(np.sum(rr_ms)) / 1000.0), br


def scheduled_metrics(
    t_s: FloatArray,
    rr_ms: FloatArray,
    normal: BoolArray,
    pair_ok: BoolArray,
    rr_4hz: FloatArray | None,
    *,
    psd: str = "welch",
    with_breathing: bool = True,
) -> Scheduled:
    """Frequency-domain, nonlinear and breathing metrics of one window.

    Args:
        t_s: End times of the window's intervals, s.
        rr_ms: The window's intervals, ms (artifacts included).
        normal: ``True`` for normal intervals.
        pair_ok: ``True`` where ``(rr[i], rr[i+1])`` is a valid successive pair.
        rr_4hz: The normal RR series spline-resampled at 4 Hz over the window, or ``None``.
        psd: ``welch`` (on ``rr_4hz``) or ``lomb`` (on the normal beats themselves).
        with_breathing: Compute coherence, breathing rate and resonance amplitude.
    """
    freq, br = spectral_metrics(t_s, rr_ms, normal, rr_4hz, psd=psd, with_breathing=with_breathing)
    return Scheduled(freq, nonlinear(rr_ms, normal, pair_ok), br)


def assemble(
    t_s: float, td: TimeDomain, sched: Scheduled, relaxation: float | None = None
) -> Metrics:
    """Build the :class:`Metrics` of a window from its parts."""
    f, nl, br = sched.frequency, sched.nonlinear, sched.breathing
    quality = None if td.artifacts_pct is None else 1.0 - td.artifacts_pct / 100.0
    return Metrics(
        t_s=t_s,
        mean_nn_ms=td.mean_nn_ms,
        sdnn_ms=td.sdnn_ms,
        rmssd_ms=td.rmssd_ms,
        pnn50_pct=td.pnn50_pct,
        mean_hr_bpm=td.mean_hr_bpm,
        vlf_ms2=f.vlf_ms2,
        lf_ms2=f.lf_ms2,
        hf_ms2=f.hf_ms2,
        lf_hf=f.lf_hf,
        total_power_ms2=f.total_power_ms2,
        lf_peak_hz=f.lf_peak_hz,
        hf_peak_hz=f.hf_peak_hz,
        sd1_ms=nl.sd1_ms,
        sd2_ms=nl.sd2_ms,
        dfa_alpha1=nl.dfa_alpha1,
        stress_index=nl.stress_index,
        coherence=br.coherence,
        resp_rate_bpm=br.resp_rate_bpm,
        relaxation=relaxation,
        quality=quality,
        artifacts_pct=td.artifacts_pct,
        n_beats=td.n_beats,
    )
