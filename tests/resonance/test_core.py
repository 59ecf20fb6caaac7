"""Scoring of one step and the choice, on synthetic beats whose heart rate is known analytically.

The references are closed-form: heart rate ``hr(t) = hr0 - A cos(2 pi f (t - t0) - lag)``
swings by ``2 A`` bpm peak to trough, is ``-lag`` out of phase with the pacer's breath (whose
fundamental is ``-cos(2 pi f (t - t0))``), and its RR series ``60000 / hr`` has the variance
``60000^2 (a / (a^2 - A^2)^1.5 - 1 / (a^2 - A^2))`` with ``a = hr0`` (the moments of
``1 / (a - A cos u)`` over a uniform phase).
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from hrvcalm.core.pacer import PacerSettings
from hrvcalm.core.resonance import (
    RATES_BPM,
    Protocol,
    StepScore,
    breath_volume,
    choose,
    score_step,
)

HR0 = 65.0


def beats(
    rate_bpm: float,
    amp_bpm: float,
    lag_rad: float = 0.0,
    *,
    t0_s: float = 0.0,
    span_s: float = 120.0,
    extra: tuple[float, float] | None = None,
    noise_ms: float = 0.0,
    seed: int = 0,
) -> tuple[list[float], list[float]]:
    """Beat end times and RR of ``hr(t)``, each interval set by the rate at its middle."""
    rng = random.Random(seed)
    f = rate_bpm / 60.0

    def hr(t: float) -> float:
        value = HR0 - amp_bpm * math.cos(2 * math.pi * f * (t - t0_s) - lag_rad)
        if extra is not None:
            value += extra[1] * math.sin(2 * math.pi * extra[0] * t)
        return value

    t, times, rrs = t0_s, [], []
    while t < t0_s + span_s:
        rr = 60.0 / hr(t + 30.0 / HR0)
        rr = 60.0 / hr(t + rr / 2)  # one refinement: the middle of this interval
        t += rr
        times.append(t)
        rrs.append(rr * 1000.0 + rng.gauss(0.0, noise_ms))
    return times, rrs


def score(rate: float, amp: float, lag: float = 0.0, ratio: float = 1.0, **kw: object) -> StepScore:
    t, rr = beats(rate, amp, lag, **kw)  # type: ignore[arg-type]
    pacer = PacerSettings(rate_bpm=rate, inhale_ratio=ratio, t0_s=0.0)
    result = score_step(t, rr, [False] * len(t), pacer, 30.0, 120.0)
    assert result is not None
    return result


def rr_variance(amp: float) -> float:
    d = HR0 * HR0 - amp * amp
    return float(60_000.0**2 * (HR0 / d**1.5 - 1.0 / d))


@pytest.mark.parametrize("lag_deg", [0.0, 30.0, -45.0])
def test_phase_of_heart_rate_against_the_breath(lag_deg: float) -> None:
    s = score(5.0, 5.0, math.radians(lag_deg))
    assert s.phase_deg == pytest.approx(-lag_deg, abs=3.0)
    assert s.synchrony == pytest.approx(math.cos(math.radians(lag_deg)), abs=0.05)


def test_phase_is_against_the_breath_not_the_cycle_start_with_a_1_to_2_ratio() -> None:
    # with in:out 1:2 the volume's fundamental still peaks half a cycle after the start
    # (the waveform is symmetric about its peak in phase terms only for 1:1; allow 25 deg)
    s = score(5.0, 5.0, 0.0, ratio=0.5)
    assert abs(s.phase_deg) < 35.0


@pytest.mark.parametrize("amp", [2.0, 5.0, 8.0])
def test_peak_to_trough_is_twice_the_amplitude(amp: float) -> None:
    assert score(5.5, amp).peak_trough_bpm == pytest.approx(2 * amp, rel=0.05)


@pytest.mark.parametrize("amp", [3.0, 6.0])
def test_lf_power_matches_the_analytic_rr_variance(amp: float) -> None:
    s = score(6.0, amp)
    assert s.lf_ms2 == pytest.approx(rr_variance(amp), rel=0.10)


def test_a_pure_rhythm_is_smooth_with_one_lf_peak() -> None:
    s = score(6.0, 5.0)
    assert s.n_lf_peaks == 1
    assert s.smoothness > 0.9
    assert s.lf_peak_ms2_hz > 0


def test_a_second_rhythm_is_a_second_peak_and_less_smooth() -> None:
    pure = score(4.5, 5.0)
    mixed = score(4.5, 5.0, extra=(0.135, 4.0))
    assert mixed.n_lf_peaks == 2
    assert mixed.smoothness < pure.smoothness - 0.2


def test_noise_lowers_smoothness() -> None:
    assert score(6.0, 2.0, noise_ms=25.0).smoothness < score(6.0, 2.0).smoothness - 0.1


def test_artifacts_and_beats_outside_the_window_are_left_out() -> None:
    t, rr = beats(5.0, 5.0)
    clean = score_step(t, rr, [False] * len(t), PacerSettings(5.0, t0_s=0.0), 30.0, 120.0)
    # a gross artifact flagged as such changes nothing
    rr_bad = list(rr)
    rr_bad[60] = 3000.0
    flags = [i == 60 for i in range(len(t))]
    flagged = score_step(t, rr_bad, flags, PacerSettings(5.0, t0_s=0.0), 30.0, 120.0)
    assert clean is not None and flagged is not None
    assert flagged.peak_trough_bpm == pytest.approx(clean.peak_trough_bpm, rel=0.05)
    assert flagged.n_beats == clean.n_beats - 1


def test_too_little_data_is_not_scored() -> None:
    t, rr = beats(5.0, 5.0)
    pacer = PacerSettings(5.0, t0_s=0.0)
    assert score_step(t, rr, [False] * len(t), pacer, 100.0, 120.0) is None  # < 3 cycles
    flags = [i % 2 == 0 for i in range(len(t))]  # half the beats are artifacts
    assert score_step(t, rr, flags, pacer, 30.0, 120.0) is None
    assert score_step([], [], [], pacer, 30.0, 120.0) is None


def amplitude(rate: float, resonance: float) -> float:
    """The bell-shaped RSA amplitude of a person resonating at ``resonance``."""
    return 6.0 * (0.3 + 0.7 / (1.0 + (rate - resonance) ** 2))


@pytest.mark.parametrize("resonance", RATES_BPM)
def test_choose_picks_the_step_with_the_largest_in_phase_swing(resonance: float) -> None:
    steps = [
        score(rate, amplitude(rate, resonance), math.atan(rate - resonance), noise_ms=6.0, seed=i)
        for i, rate in enumerate(RATES_BPM)
    ]
    result = choose(RATES_BPM, steps)
    assert result.chosen_rate_bpm == resonance
    assert all(s is not None and s.rank_sum is not None for s in result.steps)


def test_choose_ranks_with_ties_and_skips_unscored_steps() -> None:
    a = score(6.0, 5.0)
    b = score(5.0, 5.0)
    result = choose((6.0, 5.5, 5.0), [a, None, b])
    assert result.steps[1] is None
    first, third = result.steps[0], result.steps[2]
    assert first is not None and third is not None
    # 6 criteria, weights 2+2+1+1+1+1 = 8: two steps' rank sums add up to 8 * (1 + 2)
    assert first.rank_sum is not None and third.rank_sum is not None
    assert first.rank_sum + third.rank_sum == pytest.approx(24.0)
    assert choose((6.0,), [None]).chosen_rate_bpm is None


def test_protocol_steps_and_settling() -> None:
    p = Protocol()
    assert p.rates_bpm == (6.5, 6.0, 5.5, 5.0, 4.5)
    assert p.total_s == 600.0
    assert p.settle_s == 30.0
    assert [p.step_at(t) for t in (0.0, 119.9, 120.0, 599.0, 600.0)] == [0, 0, 1, 4, None]
    assert Protocol(step_s=40.0).settle_s == 10.0
    with pytest.raises(ValueError, match="step length"):
        Protocol(step_s=5.0)
    with pytest.raises(ValueError, match="at least one rate"):
        Protocol(rates_bpm=())


@pytest.mark.parametrize("ratio", [1.0, 0.5])
def test_breath_volume_rises_during_the_in_breath(ratio: float) -> None:
    pacer = PacerSettings(rate_bpm=6.0, inhale_ratio=ratio, t0_s=100.0)
    t = np.array([100.0, 100.0 + pacer.inhale_s / 2, 100.0 + pacer.inhale_s, 110.0 - 1e-9])
    v = breath_volume(pacer, t)
    assert v[0] == pytest.approx(0.0)
    assert v[1] == pytest.approx(0.5)
    assert v[2] == pytest.approx(1.0)
    assert v[3] == pytest.approx(0.0, abs=1e-6)
