"""A clinic's central server: relays stream in on /ingest, pages watch each session."""

from __future__ import annotations

import asyncio
import json
import math
import urllib.request
from collections.abc import AsyncIterator

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from hrvcalm.devices.replay import ReplaySource
from hrvcalm.errors import UsageError
from hrvcalm.recordings import read_recording
from hrvcalm.server import ingest_protocol as proto
from hrvcalm.server.clinic import ClinicServer
from hrvcalm.server.relay import Relay
from tests.conftest import FIXTURES

TOKEN = "clinic-token"
REST = FIXTURES / "polar_rr_rhenanbartels_hrv" / "rest_rri.txt"
SLOW = FIXTURES / "polar_h10_ibi_slowbreathing" / "sample_data_ibi.csv"


@pytest.fixture
async def clinic() -> AsyncIterator[tuple[ClinicServer, int]]:
    server = ClinicServer(TOKEN)
    stop = asyncio.Event()
    bound: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(server.run(port=0, serve_ready=bound.set_result, stop=stop))
    yield server, await asyncio.wait_for(bound, 10)
    stop.set()
    await asyncio.wait_for(task, 10)


async def test_relays_stream_whole_recordings_and_pages_watch_them(
    clinic: tuple[ClinicServer, int],
) -> None:
    server, port = clinic
    paths = [REST, SLOW, REST]
    relays = [
        Relay(
            ReplaySource(read_recording(p), speed=math.inf), f"ws://127.0.0.1:{port}/ingest", TOKEN
        )
        for p in paths
    ]
    await asyncio.wait_for(asyncio.gather(*(r.run() for r in relays)), 30)
    assert all(len(r.session_ids) == 1 for r in relays)
    # the sessions stay watchable after their relays ended
    listing = json.loads(
        await asyncio.to_thread(
            lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/sessions", timeout=5).read()
        )
    )
    assert {row["session"] for row in listing} == {r.session_ids[0] for r in relays}
    for relay, path in zip(relays, paths, strict=True):
        sid = relay.session_ids[0]
        live = server.sessions[sid].live
        for _ in range(100):
            if live.state.phase.value == "ended":
                break
            await asyncio.sleep(0.05)
        assert [b.rr_ms for b in live.beats] == list(read_recording(path).rr_ms)
        async with connect(f"ws://127.0.0.1:{port}/ws?session={sid}", close_timeout=0.1) as page:
            kinds = [json.loads(await page.recv())["type"] for _ in range(4)]
            assert kinds == ["hello", "device", "pacer", "session"]


async def test_ingest_needs_the_token(clinic: tuple[ClinicServer, int]) -> None:
    _, port = clinic
    with pytest.raises(InvalidStatus) as err:
        async with connect(f"ws://127.0.0.1:{port}/ingest"):
            pass
    assert err.value.response.status_code == 401
    relay = Relay(
        ReplaySource(read_recording(REST), speed=math.inf), f"ws://127.0.0.1:{port}/ingest", "wrong"
    )
    with pytest.raises(UsageError, match="refused the access token"):
        await asyncio.wait_for(relay.run(), 10)


async def test_unknown_session_page_is_refused(clinic: tuple[ClinicServer, int]) -> None:
    _, port = clinic
    with pytest.raises(InvalidStatus) as err:
        async with connect(f"ws://127.0.0.1:{port}/ws?session=nope"):
            pass
    assert err.value.response.status_code == 404


async def test_bad_frames_are_counted_skipped_and_answered(
    clinic: tuple[ClinicServer, int],
) -> None:
    server, port = clinic
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with connect(f"ws://127.0.0.1:{port}/ingest", additional_headers=headers) as ws:
        await ws.send(proto.encode_hello("test strap", "sim"))
        ok = json.loads(await ws.recv())
        assert ok["type"] == "ingest_ok"
        for bad in ("nope", '{"type":"rr","arrival_s":1,"rr_ms":[-5]}', '{"type":"zap"}'):
            await ws.send(bad)
            assert json.loads(await ws.recv())["type"] == "error"
        await ws.send('{"type":"rr","arrival_s":1.0,"rr_ms":[1000.0],"hr_bpm":60,"contact":true}')
        await ws.send('{"type":"end"}')
    live = server.sessions[ok["session"]].live
    for _ in range(100):
        if live.beats:
            break
        await asyncio.sleep(0.05)
    assert server.rejected_frames == 3
    assert [b.rr_ms for b in live.beats] == [1000.0]


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        ('{"type":"rr","arrival_s":"x","rr_ms":[]}', "arrival_s must be a finite number"),
        (
            '{"type":"rr","arrival_s":1,"rr_ms":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21]}',
            "at most 20",
        ),
        ('{"type":"rr","arrival_s":1,"rr_ms":[1000],"contact":"yes"}', "contact must be"),
        ('{"type":"device","state":"exploded"}', "unknown device state"),
        ('{"type":"device","state":"connected","battery_pct":140}', "battery_pct"),
        ('{"type":"relay_hello","protocol":9,"name":"x","source":"y"}', "protocol"),
        ("[]", "JSON object"),
    ],
)
def test_frame_validation(frame: str, message: str) -> None:
    with pytest.raises(proto.IngestError, match=message):
        proto.parse_frame(frame)


async def test_token_is_checked_before_the_session_is_looked_up() -> None:
    """Beyond loopback an outsider gets 401 for any session id, existing or not."""
    server = ClinicServer(TOKEN, protect_pages=True)
    stop = asyncio.Event()
    bound: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(server.run(port=0, serve_ready=bound.set_result, stop=stop))
    port = await asyncio.wait_for(bound, 10)
    try:
        for query in ("session=nope", f"session=nope&token={TOKEN}"):
            with pytest.raises(InvalidStatus) as err:
                async with connect(f"ws://127.0.0.1:{port}/ws?{query}"):
                    pass
            expected = 404 if "token" in query else 401
            assert err.value.response.status_code == expected
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def test_ingest_token_only_in_the_header(clinic: tuple[ClinicServer, int]) -> None:
    _, port = clinic
    with pytest.raises(InvalidStatus) as err:
        async with connect(f"ws://127.0.0.1:{port}/ingest?token={TOKEN}"):
            pass
    assert err.value.response.status_code == 401


async def test_protocol_1_relay_cannot_poison_the_clock(clinic: tuple[ClinicServer, int]) -> None:
    """arrival_s = 1e6 once spaced every later beat 1 ms apart; now it is rejected, and so is
    a time before the previous one, even when the relay closes without reading the errors."""
    server, port = clinic
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with connect(f"ws://127.0.0.1:{port}/ingest", additional_headers=headers) as ws:
        await ws.send(
            json.dumps({"type": "relay_hello", "protocol": 1, "name": "s", "source": "x"})
        )
        sid = json.loads(await ws.recv())["session"]
        for arrival_s in (1.0, 1e6, 0.5, 2.0, 3.0, 4.0):
            await ws.send(json.dumps({"type": "rr", "arrival_s": arrival_s, "rr_ms": [1000.0]}))
        await ws.send('{"type":"end"}')
    session = server.sessions[sid]
    await asyncio.wait_for(session.ran.wait(), 10)
    assert [round(b.t_s, 3) for b in session.live.beats] == [1.0, 2.0, 3.0, 4.0]
    assert server.rejected_frames == 2
