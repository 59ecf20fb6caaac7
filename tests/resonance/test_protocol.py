"""The whole protocol in a live session on simulated people whose resonance rate is known.

The simulator (``resonance=``) makes the breathing-driven heart-rate swing largest, and in
phase with the breath, at its resonance rate, and follows the pacer the session sets; so the
right answer of each assessment is known before it runs.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

import pytest

from hrvcalm.core.resonance import Protocol
from hrvcalm.devices.simulator import SimulatedStrap, SimulatorSettings
from hrvcalm.server.app import LiveSession
from hrvcalm.server.messages import SetPacer, Start, Stop

Message = dict[str, Any]


def run_assessment(
    settings: SimulatorSettings, protocol: Protocol | None = None
) -> tuple[list[Message], LiveSession]:
    seen: list[Message] = []
    live = LiveSession(
        SimulatedStrap(settings, speed=math.inf),
        on_message=seen.append,
        autostart=True,
        resonance=protocol,
    )
    live.state.configure("resonance")
    asyncio.run(live.run(port=None))
    return seen, live


@pytest.mark.parametrize(
    ("resonance", "seed", "artifacts"),
    [(5.0, 1, 0.0), (6.0, 2, 0.0), (4.5, 3, 0.0), (5.5, 4, 0.02), (6.5, 5, 0.0), (5.0, 6, 0.02)],
)
def test_the_assessment_finds_the_known_resonance(
    resonance: float, seed: int, artifacts: float
) -> None:
    seen, live = run_assessment(
        SimulatorSettings(seed=seed, resonance_bpm=resonance, artifacts=artifacts)
    )
    result = [m for m in seen if m["type"] == "resonance"][-1]
    assert result["state"] == "done"
    assert result["chosen_rate_bpm"] == resonance
    by_rate = dict(zip(result["rates_bpm"], result["steps"], strict=True))
    best = by_rate[resonance]
    # at resonance heart rate and breath are in phase and the swing is the largest
    assert abs(best["phase_deg"]) < 20.0
    assert best["peak_trough_bpm"] == max(s["peak_trough_bpm"] for s in result["steps"])
    assert live.state.phase.value == "ended"


def test_pacer_steps_progress_and_the_session_length() -> None:
    seen, _ = run_assessment(SimulatorSettings(seed=9, resonance_bpm=5.5))
    pacer_rates = [m["rate_bpm"] for m in seen if m["type"] == "pacer"]
    assert pacer_rates == [6.0, 6.5, 6.0, 5.5, 5.0, 4.5]  # the default, then the five steps
    steps = [m["step"] for m in seen if m["type"] == "resonance" and m["state"] == "running"]
    assert steps == [1, 2, 3, 4, 5]
    running = [m for m in seen if m["type"] == "resonance" and m["state"] == "running"]
    assert [m["rate_bpm"] for m in running] == [6.5, 6.0, 5.5, 5.0, 4.5]
    session = [m for m in seen if m["type"] == "session"][-1]
    assert session["practice"] == "resonance"
    assert session["duration_s"] == 600.0
    assert session["elapsed_s"] == pytest.approx(600.0)


def test_a_shortened_protocol_for_tests() -> None:
    seen, _ = run_assessment(SimulatorSettings(seed=4, resonance_bpm=4.5), Protocol(step_s=60))
    result = [m for m in seen if m["type"] == "resonance"][-1]
    session = [m for m in seen if m["type"] == "session"][-1]
    assert session["duration_s"] == 300.0
    assert result["state"] == "done"
    assert result["chosen_rate_bpm"] == 4.5


def test_the_simulated_person_follows_the_pacer_only_with_follow() -> None:
    strap = SimulatedStrap(SimulatorSettings(breaths_bpm=12.0, follow=False))
    strap.follow_breathing(5.0, 0.0)
    assert strap._breath.rate_bpm == 12.0
    following = SimulatedStrap(SimulatorSettings(breaths_bpm=12.0, resonance_bpm=5.0))
    following.follow_breathing(5.0, 3.0)
    assert following._breath.rate_bpm == 5.0
    assert following._breath.t0_s == 3.0
    assert following._breath.amplitude_bpm == pytest.approx(6.0)  # rsa at resonance


def test_a_session_sets_the_breathing_of_a_following_simulator() -> None:
    async def scenario() -> list[Message]:
        seen: list[Message] = []
        live = LiveSession(
            SimulatedStrap(SimulatorSettings(seed=1, breaths_bpm=12.0, minutes=4), speed=math.inf),
            on_message=seen.append,
        )
        await live.handle_command(SetPacer(4.0, None))
        await live.run(port=None)
        return seen

    seen = asyncio.run(scenario())
    rates = [m["resp_rate_bpm"] for m in seen if m["type"] == "metrics" and m["t_s"] > 200]
    assert rates and all(abs(r - 4.0) < 0.3 for r in rates if r is not None)


def test_stopping_early_gives_no_rate_and_the_pacer_is_locked_while_running() -> None:
    async def scenario() -> tuple[list[Message], str]:
        seen: list[Message] = []
        live = LiveSession(
            SimulatedStrap(SimulatorSettings(seed=2), speed=50.0), on_message=seen.append
        )
        live.state.configure("resonance")
        task = asyncio.create_task(live.run(port=None))
        while not live.n_beats:
            await asyncio.sleep(0.01)
        await live.handle_command(Start())
        try:
            await live.handle_command(SetPacer(8.0, None))
            refused = ""
        except ValueError as exc:
            refused = str(exc)
        await asyncio.sleep(0.6)
        await live.handle_command(Stop())
        await task
        return seen, refused

    seen, refused = asyncio.run(scenario())
    assert "resonance assessment sets the pacer" in refused
    result = [m for m in seen if m["type"] == "resonance"][-1]
    assert result["state"] == "stopped"
    assert result["chosen_rate_bpm"] is None
