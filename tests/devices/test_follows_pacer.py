"""Following the pacer is declared (:class:`FollowsPacer`), not guessed from a method name."""

from __future__ import annotations

from collections.abc import AsyncIterator

from hrvcalm.devices.base import FollowsPacer, Source, SourceEvent
from hrvcalm.devices.replay import ReplaySource
from hrvcalm.devices.simulator import SimulatedStrap, SimulatorSettings
from hrvcalm.recordings import read_recording
from hrvcalm.server.app import LiveSession
from tests.conftest import FIXTURES

SLOW = FIXTURES / "polar_h10_ibi_slowbreathing" / "sample_data_ibi.csv"


class _Quiet(Source):
    """A source that never yields, with its clock at 42 s."""

    spec = "test"
    name = "test"

    def __init__(self) -> None:
        self.calls: list[tuple[float, float | None]] = []

    async def events(self) -> AsyncIterator[SourceEvent]:
        return
        yield  # an async generator with nothing in it

    def clock_s(self) -> float:
        return 42.0


class Follower(_Quiet, FollowsPacer):
    """Declares that it follows the pacer."""

    def follow_breathing(self, rate_bpm: float, at_s: float | None = None) -> None:
        self.calls.append((rate_bpm, at_s))


class LookAlike(_Quiet):
    """Has a method of that name but does not declare it follows the pacer."""

    def follow_breathing(self, rate_bpm: float, at_s: float | None = None) -> None:
        self.calls.append((rate_bpm, at_s))


async def test_a_pacer_change_reaches_a_source_that_follows_the_pacer() -> None:
    source = Follower()
    live = LiveSession(source)
    live.set_pacer(4.5)
    live.set_pacer(None, 0.6)  # only the ratio: the rate stays, the cycle restarts
    assert source.calls == [(4.5, 42.0), (4.5, 42.0)]


async def test_a_source_that_does_not_follow_the_pacer_is_left_alone() -> None:
    source = LookAlike()
    live = LiveSession(source)
    settings = live.set_pacer(4.5)
    assert settings.rate_bpm == 4.5
    assert source.calls == []


def test_which_sources_follow_the_pacer() -> None:
    assert isinstance(SimulatedStrap(SimulatorSettings()), FollowsPacer)
    assert isinstance(SimulatedStrap(SimulatorSettings(follow=False)), FollowsPacer)
    assert not isinstance(ReplaySource(read_recording(SLOW)), FollowsPacer)
