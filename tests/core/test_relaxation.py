"""The relaxation signal's arithmetic: 50 at the rest baseline, the odds tripling with each
doubling of the swing, smoothing on the time axis, and where the baseline comes from.

Its behaviour on synthetic physiology through the live pipeline (the score at 3, 6 and
10 breaths/min, headroom, jitter) is in tests/validation/test_shown.py.
"""

from __future__ import annotations

import itertools
import math

import pytest

from hrvcalm.core.relaxation import (
    BASELINE_S,
    COHERENCE_WEIGHT,
    MEANING_OF_50,
    TAU_S,
    RelaxationSignal,
    odds_score,
)


def steady(signal: RelaxationSignal, t0: float, t1: float, amp: float, coh: float | None) -> float:
    """Feed the same markers once a second from ``t0`` to ``t1``; the last value."""
    value = None
    t = t0
    while t <= t1:
        value = signal.update(t, amp, coh)
        t += 1.0
    assert value is not None
    return value


def test_odds_scale() -> None:
    assert odds_score(0.0) == 50.0
    assert odds_score(1.0) == pytest.approx(75.0)
    assert odds_score(2.0) == pytest.approx(90.0)
    assert odds_score(-1.0) == pytest.approx(25.0)
    # No ceiling: every further doubling still adds, and 100 is never reached.
    values = [odds_score(z) for z in range(0, 12)]
    assert all(b > a for a, b in itertools.pairwise(values))
    assert values[-1] < 100.0
    assert "50" in MEANING_OF_50 and "rest" in MEANING_OF_50


def test_baseline_reads_50_and_doubled_swing_reads_75() -> None:
    signal = RelaxationSignal()
    assert steady(signal, 0.0, BASELINE_S, 6.0, 1.0) == pytest.approx(50.0)
    # Twice the swing per breath, coherence unchanged: 75 once the smoothing has caught up.
    assert steady(signal, BASELINE_S + 1, BASELINE_S + 400, 12.0, 1.0) == pytest.approx(
        75.0, abs=0.1
    )
    # And a coherence doubling of (1 + C) on top: a quarter of a doubling more.
    expected = odds_score(1.0 + COHERENCE_WEIGHT)
    assert steady(signal, BASELINE_S + 401, BASELINE_S + 800, 12.0, 3.0) == pytest.approx(
        expected, abs=0.1
    )
    assert signal.baseline == (pytest.approx(6.0), pytest.approx(1.0))


def test_smoothing_is_on_the_time_axis() -> None:
    """One tau after a step the smoothed swing has moved 1 - 1/e of the way (in doublings),
    whether the markers are updated twice a second or every 5 s."""

    def after_step(every_s: float) -> float:
        signal = RelaxationSignal()
        for k in range(int(BASELINE_S / every_s) + 1):
            signal.update(k * every_s, 6.0, None)
        last_rest = k * every_s
        value = None
        for j in range(1, round(TAU_S / every_s) + 1):
            value = signal.update(last_rest + j * every_s, 12.0, None)
        assert value is not None
        return value

    expected = odds_score(1.0 - math.exp(-1.0))
    for every_s in (0.5, 1.0, 5.0):
        assert after_step(every_s) == pytest.approx(expected, abs=1e-9)


def test_rest_before_the_practice_is_the_baseline() -> None:
    signal = RelaxationSignal()
    steady(signal, 0.0, 100.0, 5.0, 0.5)  # settling in
    steady(signal, 101.0, 400.0, 4.0, 0.5)  # rest: the last 180 s of it are the baseline
    signal.start_practice(400.0)
    assert signal.baseline[0] == pytest.approx(4.0)
    assert steady(signal, 401.0, 900.0, 8.0, 0.5) == pytest.approx(75.0, abs=0.1)


def test_without_rest_the_first_minutes_are_the_baseline() -> None:
    # The practice starts 20 s after the first marker: too little rest.
    signal = RelaxationSignal()
    steady(signal, 0.0, 20.0, 4.0, 0.5)
    signal.start_practice(20.0)
    steady(signal, 21.0, BASELINE_S, 4.0, 0.5)
    assert steady(signal, BASELINE_S + 1, BASELINE_S + 500, 16.0, 0.5) == pytest.approx(
        90.0, abs=0.1
    )
    assert signal.baseline[0] == pytest.approx(4.0)
    # A replay is never told: the same first minutes.
    replay = RelaxationSignal()
    steady(replay, 0.0, BASELINE_S, 4.0, 0.5)
    assert steady(replay, BASELINE_S + 1, 1000.0, 2.0, 0.5) == pytest.approx(25.0, abs=0.1)


def test_missing_markers() -> None:
    signal = RelaxationSignal()
    assert signal.update(0.0, None, None) is None  # nothing yet
    assert signal.update(1.0, 6.0, None) == pytest.approx(50.0)  # coherence not yet: amplitude
    held = steady(signal, 2.0, 50.0, 6.0, 2.0)
    assert signal.update(60.0, None, None) == held  # held for a while
    assert signal.update(81.0, None, None) is None  # then gone
