"""The real websockets server on a free loopback port, with real websocket and HTTP clients."""

from __future__ import annotations

import asyncio
import json
import math
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from hrvcalm.devices.replay import ReplaySource
from hrvcalm.devices.simulator import SimulatedStrap, SimulatorSettings
from hrvcalm.recordings import read_recording
from hrvcalm.server.app import LiveSession
from tests.conftest import FIXTURES


async def start(live: LiveSession) -> tuple[asyncio.Task[None], int]:
    bound: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(live.run(port=0, serve_ready=bound.set_result))
    return task, await asyncio.wait_for(bound, 10)


async def receive_until(
    ws: ClientConnection, kind: str, timeout: float = 10.0
) -> list[dict[str, Any]]:
    """Every message up to and including the first of type ``kind``."""
    seen = []
    async with asyncio.timeout(timeout):
        while True:
            message = json.loads(await ws.recv())
            seen.append(message)
            if message["type"] == kind:
                return seen


@pytest.fixture
async def sim_session() -> AsyncIterator[tuple[LiveSession, int]]:
    live = LiveSession(SimulatedStrap(SimulatorSettings(seed=1), speed=20.0))
    task, port = await start(live)
    yield live, port
    live._end()
    for ws in list(live.hub.clients):
        await ws.close()
    await asyncio.wait_for(task, 10)


async def test_page_and_scripts_are_served(sim_session: tuple[LiveSession, int]) -> None:
    _, port = sim_session

    def get(path: str) -> tuple[int, str, bytes]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
                return r.status, r.headers["Content-Type"], r.read()
        except urllib.error.HTTPError as err:
            return err.code, err.headers["Content-Type"], err.read()

    status, ctype, body = await asyncio.to_thread(get, "/")
    assert status == 200 and ctype.startswith("text/html") and b'data-testid="pacer"' in body
    status, ctype, _ = await asyncio.to_thread(get, "/app.js")
    assert status == 200 and ctype.startswith("text/javascript")
    for bad in ("/nope.js", "/../pyproject.toml", "/%2e%2e/pyproject.toml", "/..%2fREADME.md"):
        status, _, _ = await asyncio.to_thread(get, bad)
        assert status == 404, bad


async def test_late_page_gets_current_state_at_once(sim_session: tuple[LiveSession, int]) -> None:
    _live, port = sim_session
    async with connect(f"ws://127.0.0.1:{port}/ws") as first:
        await first.send(json.dumps({"type": "set_pacer", "rate_bpm": 5.5, "inhale_ratio": 0.5}))
        msgs = await receive_until(first, "pacer")
        # the welcome pacer comes first, then our change
        while msgs[-1]["rate_bpm"] != 5.5:
            msgs = await receive_until(first, "pacer")
        await receive_until(first, "metrics", timeout=20)
    async with connect(f"ws://127.0.0.1:{port}/ws") as late:
        welcome = [json.loads(await late.recv()) for _ in range(4)]
        kinds = [m["type"] for m in welcome]
        assert kinds == ["hello", "device", "pacer", "session"]
        assert welcome[0]["protocol"] == 1 and welcome[0]["speed"] == 20.0
        assert welcome[1]["state"] == "connected"
        assert (welcome[2]["rate_bpm"], welcome[2]["inhale_ratio"]) == (5.5, 0.5)
        rest = await receive_until(late, "metrics")
        assert any(m["type"] == "beat" for m in rest)


async def test_several_pages_see_the_same_broadcast(sim_session: tuple[LiveSession, int]) -> None:
    _, port = sim_session
    async with connect(f"ws://127.0.0.1:{port}/ws") as a, connect(f"ws://127.0.0.1:{port}/ws") as b:
        await receive_until(a, "session")
        await receive_until(b, "session")
        await a.send(json.dumps({"type": "start"}))
        for ws in (a, b):
            msgs = await receive_until(ws, "session")
            while msgs[-1]["phase"] != "running":
                msgs = await receive_until(ws, "session")
        await b.send(json.dumps({"type": "rating", "when": "before", "pain": 6, "stress": 4}))
        msgs = await receive_until(a, "session")
        while "before" not in msgs[-1]["ratings"]:
            msgs = await receive_until(a, "session")
        assert msgs[-1]["ratings"]["before"] == {"pain": 6, "stress": 4, "note": None}


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"type": "dance"}', "unknown message type"),
        ('{"type": "set_pacer", "rate_bpm": 12}', "between 3 and 10"),
        ('{"type": "set_pacer", "rate_bpm": "fast"}', "must be a number"),
        ('{"type": "rating", "when": "before", "pain": 11}', "0 to 10"),
        ('{"type": "rating", "when": "during", "pain": 1}', "'before' or 'after'"),
        ('{"type": "configure", "practice": "yoga"}', "practice must be one of"),
    ],
)
async def test_bad_page_messages_get_an_error_and_the_server_lives_on(
    sim_session: tuple[LiveSession, int], payload: str, expected: str
) -> None:
    _, port = sim_session
    async with connect(f"ws://127.0.0.1:{port}/ws") as ws:
        await receive_until(ws, "session")
        await ws.send(payload)
        error = (await receive_until(ws, "error"))[-1]
        assert expected in error["message"]
        await ws.send(json.dumps({"type": "set_pacer", "rate_bpm": 7}))
        msgs = await receive_until(ws, "pacer")
        assert msgs[-1]["rate_bpm"] == 7.0


async def test_configure_only_before_start(sim_session: tuple[LiveSession, int]) -> None:
    _, port = sim_session
    async with connect(f"ws://127.0.0.1:{port}/ws") as ws:
        await receive_until(ws, "session")
        await ws.send(json.dumps({"type": "configure", "practice": "body_scan", "minutes": 10}))
        msgs = await receive_until(ws, "session")
        assert (msgs[-1]["practice"], msgs[-1]["duration_s"]) == ("body_scan", 600.0)
        await ws.send(json.dumps({"type": "start"}))
        await ws.send(json.dumps({"type": "configure", "minutes": 5}))
        error = (await receive_until(ws, "error"))[-1]
        assert "before the start" in error["message"]


async def test_replay_session_ends_with_the_recording_and_sends_every_beat() -> None:
    recording = read_recording(FIXTURES / "polar_h10_ibi_slowbreathing" / "sample_data_ibi.csv")
    live = LiveSession(ReplaySource(recording, speed=math.inf), autostart=True)
    seen: list[dict[str, Any]] = []
    live.observers.append(_Collect(seen))
    task, _port = await start(live)
    await asyncio.wait_for(task, 30)
    beats = [m for m in seen if m["type"] == "beat"]
    assert [b["rr_ms"] for b in beats] == [float(v) for v in recording.rr_ms]
    assert seen[-1]["type"] == "session" and seen[-1]["phase"] == "ended"


class _Collect:
    def __init__(self, into: list[dict[str, Any]]) -> None:
        self.into = into

    def on_message(self, message: dict[str, Any]) -> None:
        self.into.append(message)

    def flush(self) -> None:
        pass


async def test_beats_waiting_for_the_look_ahead_come_out_when_a_replay_ends(
    tmp_path: Path,
) -> None:
    rr = [
        float(v)
        for v in read_recording(FIXTURES / "polar_rr_rhenanbartels_hrv/rest_rri.txt").rr_ms[:200]
    ]
    rr += [rr[-1] * 2.0, rr[-1] * 0.5]  # a missed and an extra beat at the very end
    path = tmp_path / "ends_badly.txt"
    path.write_text("\n".join(str(v) for v in rr))
    live = LiveSession(ReplaySource(read_recording(path), speed=math.inf), autostart=True)
    await asyncio.wait_for(live.run(port=None), 30)
    assert [b.rr_ms for b in live.beats] == rr
    assert live.beats[-2].artifact


async def test_the_practice_start_reaches_the_pipeline_with_the_pacer_as_prior() -> None:
    """The relaxation baseline is the rest before Start, and a paced practice gives the
    breathing-rate estimate the pacer's rate; body scan gives none (it leaves the breath be)."""
    recording = read_recording(FIXTURES / "polar_h10_ibi_slowbreathing" / "sample_data_ibi.csv")
    live = LiveSession(ReplaySource(recording, speed=math.inf), autostart=True)
    await asyncio.wait_for(live.run(port=None), 30)
    assert live.pipeline.relaxation._started_s is not None
    assert live.pipeline._prior_bpm == live.pacer.rate_bpm

    body_scan = LiveSession(ReplaySource(recording, speed=math.inf), autostart=True)
    body_scan.state.configure("body_scan")
    await asyncio.wait_for(body_scan.run(port=None), 30)
    assert body_scan.pipeline.relaxation._started_s is not None
    assert body_scan.pipeline._prior_bpm is None
