"""``hrvcalm scan`` and a live session over the emulated link, end to end."""

from __future__ import annotations

import json

import pytest

from hrvcalm.cli import main
from hrvcalm.devices import open_source
from hrvcalm.server.app import LiveSession
from tests.conftest import FIXTURES, load_rr_column

SLOW = FIXTURES / "polar_h10_ibi_slowbreathing" / "sample_data_ibi.csv"


def test_scan_virtual_strap(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "--virtual", str(SLOW), "--timeout", "0.3", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 1
    assert lines[0]["name"] == "Polar H10 V1RTU4L"
    assert lines[0]["rssi_dbm"] == -50


def test_scan_without_bluetooth_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["scan", "--timeout", "0.2"])
    err = capsys.readouterr().err
    if code == 0:
        pytest.skip("this machine has a Bluetooth adapter")
    assert code == 1
    assert err.startswith("hrvcalm: error: Bluetooth is not available")
    assert "ble-virtual" in err
    assert len(err.strip().splitlines()) == 1


def test_bad_virtual_recording_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["session", "--source", "ble-virtual:/nonexistent.csv", "--no-browser"])
    assert code != 0
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


async def test_live_session_over_the_virtual_link() -> None:
    source = open_source(f"ble-virtual:{SLOW},drop_at=30,drop_for=8", speed=40)
    messages: list[dict[str, object]] = []
    live = LiveSession(source, duration_s=70, on_message=messages.append, autostart=True)
    await live.run(port=None)
    states = [m["state"] for m in messages if m["type"] == "device"]
    lost = states.index("lost")
    assert states[:2] == ["connecting", "connected"]
    assert states[lost + 1] == "reconnecting"
    assert "connected" in states[lost + 2 :]
    expected = [round(v * 1.024) for v in load_rr_column(SLOW)]
    got = [round(b.rr_ms * 1.024) for b in live.beats]
    assert all(abs(b.rr_ms * 1.024 - round(b.rr_ms * 1.024)) < 1e-9 for b in live.beats)
    split = next(i for i in range(len(got)) if got[i] != expected[i])
    assert 25 <= split <= 32
    tail = got[split:]
    assert any(expected[k : k + len(tail)] == tail for k in range(split, len(expected)))
    times = [b.t_s for b in live.beats]
    assert times == sorted(times)
    assert times[split] - times[split - 1] > 7  # the gap is visible in the beat times
    assert live.beats[split].gap_before
