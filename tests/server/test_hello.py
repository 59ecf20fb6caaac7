"""messages.hello: the protocol version and the practice lengths the page offers."""

from __future__ import annotations

import pytest

from hrvcalm.core.resonance import Protocol as StepProtocol
from hrvcalm.server import messages
from hrvcalm.server.resonance import STEP_ENV


def test_hello_announces_protocol_and_lengths(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(STEP_ENV, raising=False)
    msg = messages.hello("sim", 4.0)
    assert msg["protocol"] == messages.PROTOCOL_VERSION == 1
    assert msg["practice_lengths_min"] == [5, 10, 15, 20]
    assert msg["resonance_minutes"] == 10.0  # 5 paces of 2 minutes
    assert msg["speed"] == 4.0


def test_hello_gives_the_resonance_length_the_server_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(STEP_ENV, "30")
    assert messages.hello("sim", 1.0)["resonance_minutes"] == 2.5
    short = StepProtocol(step_s=12.0)
    assert messages.hello("sim", 1.0, resonance=short)["resonance_minutes"] == 1.0


def test_hello_as_fast_as_possible_is_null_speed() -> None:
    assert messages.hello("replay:x", float("inf"))["speed"] is None
