"""Session state machine, ratings and the pacer's phase."""

from __future__ import annotations

import pytest

from hrvcalm.core.pacer import PacerSettings
from hrvcalm.core.session import Phase, Rating, SessionState


def test_phases_follow_the_rules() -> None:
    s = SessionState(duration_s=60.0)
    assert s.phase is Phase.READY and s.elapsed_s(5.0) == 0.0
    assert s.start(10.0) and not s.start(11.0)
    assert s.elapsed_s(40.0) == 30.0
    assert not s.tick(69.0) and s.tick(70.0)
    assert s.phase is Phase.ENDED
    assert s.elapsed_s(500.0) == 60.0
    assert not s.stop(80.0) and not s.start(90.0)


def test_stop_from_ready_ends() -> None:
    s = SessionState()
    assert s.stop(1.0) and s.phase is Phase.ENDED


@pytest.mark.parametrize("bad", [-1, 11, 2.5, True, "3"])
def test_ratings_are_whole_numbers_0_to_10(bad: object) -> None:
    with pytest.raises(ValueError, match="0 to 10"):
        Rating(pain=bad)  # type: ignore[arg-type]


def test_later_rating_replaces_earlier() -> None:
    s = SessionState()
    s.rate("before", Rating(pain=6, stress=7))
    s.rate("before", Rating(pain=5, stress=7, note="stiff"))
    s.rate("after", Rating(pain=3, stress=2))
    assert s.ratings["before"] == Rating(5, 7, "stiff")
    with pytest.raises(ValueError):
        s.rate("during", Rating())


@pytest.mark.parametrize(
    ("rate", "ratio", "t", "phase", "fraction"),
    [
        (6.0, 1.0, 0.0, "inhale", 0.0),
        (6.0, 1.0, 2.5, "inhale", 0.5),
        (6.0, 1.0, 5.0, "exhale", 0.0),
        (6.0, 1.0, 12.5, "inhale", 0.5),
        (6.0, 0.5, 10.0 / 3.0 + 1e-9, "exhale", 0.0),  # 1:2 -> inhale a third of 10 s
        (10.0, 1.0, 4.5, "exhale", 0.5),
    ],
)
def test_pacer_phase(rate: float, ratio: float, t: float, phase: str, fraction: float) -> None:
    got_phase, got_fraction = PacerSettings(rate, ratio, t0_s=100.0).phase_at(100.0 + t)
    assert got_phase == phase
    assert got_fraction == pytest.approx(fraction, abs=1e-9)


@pytest.mark.parametrize(("rate", "ratio"), [(2.9, 1.0), (10.5, 1.0), (6.0, 0.4), (6.0, 1.2)])
def test_pacer_rejects_out_of_range(rate: float, ratio: float) -> None:
    with pytest.raises(ValueError, match="must be between"):
        PacerSettings(rate, ratio)
