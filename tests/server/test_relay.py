"""The relay against a real clinic server on loopback: cuts, restarts, misbehaving servers.

Every beat of the recording must reach the server's session and its store exactly once.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from websockets.asyncio.server import ServerConnection, serve

from hrvcalm.devices.replay import ReplaySource
from hrvcalm.recordings import read_recording
from hrvcalm.server import ingest_protocol as proto
from hrvcalm.server.clinic import ClinicServer
from hrvcalm.server.relay import Relay
from hrvcalm.storage import SqliteStore
from tests.conftest import FIXTURES
from tests.server.netfaults import DelayProxy, reset_during_handshake

TOKEN = "relay-token"
REST = FIXTURES / "polar_rr_rhenanbartels_hrv" / "rest_rri.txt"
REST_RR = list(read_recording(REST).rr_ms)
#: Replay speed: the 15-minute recording streams in about 9 s.
SPEED = 100.0
BACKOFF_S = 0.05


class RunningClinic:
    """A ClinicServer on a port, stoppable and restartable on the same port."""

    def __init__(self, store: SqliteStore, port: int = 0) -> None:
        self.store = store
        self.port = port
        self.server: ClinicServer | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.server = ClinicServer(TOKEN, store=self.store, resume_grace_s=30)
        self._stop = asyncio.Event()
        bound: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(
            self.server.run(port=self.port, serve_ready=bound.set_result, stop=self._stop)
        )
        self.port = await asyncio.wait_for(bound, 10)

    async def stop(self) -> None:
        self._stop.set()
        assert self._task is not None
        await asyncio.wait_for(self._task, 20)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    with SqliteStore(tmp_path / "clinic.db") as opened:
        yield opened


@pytest.fixture
async def clinic(store: SqliteStore) -> AsyncIterator[RunningClinic]:
    running = RunningClinic(store)
    await running.start()
    yield running
    await running.stop()


def stored_rr(store: SqliteStore) -> list[float]:
    """Every stored beat of every session, in session order."""
    return [b.rr_ms for s in store.list_sessions() for b in store.beats_of(s.id)]


async def until(condition: Callable[[], bool], timeout_s: float = 20.0) -> None:
    """Wait until ``condition()`` holds (checked every 10 ms)."""
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.01)


def beats_taken(clinic: RunningClinic) -> int:
    """Beats the clinic's sessions have taken so far."""
    assert clinic.server is not None
    return sum(s.live.n_beats for s in clinic.server.sessions.values())


def relay_to(urls: list[str], lines: list[str], patient: str = "Ann B.") -> Relay:
    return Relay(
        ReplaySource(read_recording(REST), speed=SPEED),
        urls,
        TOKEN,
        patient=patient,
        on_status=lines.append,
        backoff_start_s=BACKOFF_S,
    )


async def test_cuts_with_link_delay_lose_and_duplicate_no_beat(
    clinic: RunningClinic, store: SqliteStore
) -> None:
    """Three cuts with 0.5 s of link delay: one session, every beat stored exactly once."""
    lines: list[str] = []
    async with DelayProxy(clinic.port, delay_s=0.5) as proxy:
        relay = relay_to([f"ws://127.0.0.1:{proxy.port}/ingest"], lines)
        running = asyncio.create_task(relay.run())
        assert clinic.server is not None
        for beats in (150, 350, 550):
            await until(lambda b=beats: beats_taken(clinic) >= b and proxy.open)
            proxy.cut()
        await asyncio.wait_for(running, 60)
    assert proxy.cuts == 3
    assert relay.resent_frames > 0  # frames were in flight at the cuts
    assert len(relay.session_ids) == 1, lines  # resumed, never a new session
    (session,) = clinic.server.sessions.values()
    await until(session.ran.is_set)
    assert [b.rr_ms for b in session.live.beats] == REST_RR
    assert stored_rr(store) == REST_RR
    (stored,) = store.list_sessions()
    assert stored.patient == "Ann B."
    # the backoff starts over after every successful hello
    retries = [line for line in lines if "retrying in" in line]
    assert len(retries) >= 3
    assert all(line.endswith(f"retrying in {BACKOFF_S:g} s") for line in retries)


async def test_server_restart_mid_stream_stores_every_beat_once(
    clinic: RunningClinic, store: SqliteStore
) -> None:
    lines: list[str] = []
    async with DelayProxy(clinic.port, delay_s=0.2) as proxy:
        relay = relay_to([f"ws://127.0.0.1:{proxy.port}/ingest"], lines)
        running = asyncio.create_task(relay.run())
        assert clinic.server is not None
        await until(lambda: beats_taken(clinic) >= 300)
        await clinic.stop()  # ends and stores its session
        await clinic.start()  # same port, same store
        await asyncio.wait_for(running, 60)
    assert relay.resent_frames > 0
    assert len(store.list_sessions()) == 2  # the restarted server could not resume
    assert stored_rr(store) == REST_RR
    assert relay.session_ids[0] == relay.session_ids[-1]  # the watch address stays the same


async def test_misbehaving_servers_are_retried_then_skipped(
    clinic: RunningClinic, store: SqliteStore
) -> None:
    """A server resetting during the handshake and one answering the hello with garbage:
    each is a logged line and a retry (on the next --to address), never a traceback."""
    answers = iter(["not json {", '{"type":"ingest_ok"}', '{"type":"ingest_ok","session":""}'])

    async def garbage(connection: ServerConnection) -> None:
        await connection.recv()
        await connection.send(next(answers, "no"))
        await connection.wait_closed()

    resetter = await asyncio.start_server(reset_during_handshake, "127.0.0.1", 0)
    reset_port = resetter.sockets[0].getsockname()[1]
    async with resetter, serve(garbage, "127.0.0.1", 0) as fake:
        fake_port = next(iter(fake.sockets)).getsockname()[1]
        lines: list[str] = []
        relay = relay_to(
            [
                f"ws://127.0.0.1:{reset_port}/ingest",
                f"ws://127.0.0.1:{fake_port}/ingest",
                f"ws://127.0.0.1:{reset_port}/ingest",
                f"ws://127.0.0.1:{fake_port}/ingest",
                f"ws://127.0.0.1:{fake_port}/ingest",
                f"ws://127.0.0.1:{clinic.port}/ingest",
            ],
            lines,
        )
        await asyncio.wait_for(relay.run(), 60)
    assert clinic.server is not None
    (session,) = clinic.server.sessions.values()
    await until(session.ran.is_set)
    assert [b.rr_ms for b in session.live.beats] == REST_RR
    failures = [line for line in lines if "retrying" in line]
    assert len(failures) == 5
    assert sum("InvalidMessage" in line for line in failures) == 2
    assert sum("no valid ingest_ok" in line for line in failures) == 3
    assert [line.split("retrying in ")[1] for line in failures] == [
        f"{BACKOFF_S * 2**i:g} s" for i in range(5)
    ]


async def test_future_and_past_arrival_times_are_rejected(clinic: RunningClinic) -> None:
    """A frame from the future (arrival_s = 1e6) no longer poisons the session."""
    from websockets.asyncio.client import connect

    headers = {"Authorization": f"Bearer {TOKEN}"}
    url = f"ws://127.0.0.1:{clinic.port}/ingest"
    async with connect(url, additional_headers=headers) as ws:
        await ws.send(proto.encode_hello("strap", "test", first_seq=0, clock_s=0.0, speed=1.0))
        ok = proto.parse_ingest_ok(await ws.recv())
        frames = [(1.0, 1000.0), (1e6, 1000.0), (0.5, 1000.0), (2.0, 1000.0), (3.0, 1000.0)]
        replies = []
        for seq, (arrival, rr) in enumerate(frames):
            await ws.send(
                json.dumps({"type": "rr", "seq": seq, "arrival_s": arrival, "rr_ms": [rr]})
            )
            replies.append(json.loads(await ws.recv()))
            if replies[-1]["type"] == "error":
                replies.append(json.loads(await ws.recv()))
        # a duplicate and an out-of-order frame
        await ws.send(json.dumps({"type": "rr", "seq": 3, "arrival_s": 2.0, "rr_ms": [1000.0]}))
        assert json.loads(await ws.recv()) == {"type": "ack", "seq": 4}
        await ws.send(json.dumps({"type": "end", "seq": 6}))
        await ws.send(json.dumps({"type": "rr", "seq": 5, "arrival_s": 4.0, "rr_ms": [1000.0]}))
        assert json.loads(await ws.recv()) == {"type": "ack", "seq": 4}  # 6 held
        assert json.loads(await ws.recv()) == {"type": "ack", "seq": 6}
    errors = [r["message"] for r in replies if r["type"] == "error"]
    assert len(errors) == 2
    assert "future" in errors[0] and "before the previous" in errors[1]
    assert clinic.server is not None
    session = clinic.server.sessions[ok.session]
    await until(session.ran.is_set)
    beats = session.live.beats
    assert [b.rr_ms for b in beats] == [1000.0] * 4
    assert [round(b.t_s, 3) for b in beats] == [1.0, 2.0, 3.0, 4.0]
    assert session.rejected_frames == 2
    assert session.sequencer.duplicates == 1


def test_sequencer_rules() -> None:
    seq = proto.Sequencer()
    end = proto.End()
    seq.on_hello(10)
    assert seq.ack is None or seq.ack == 9
    assert seq.push(12, end) == []  # held
    assert seq.push(10, end) == [end]
    assert seq.ack == 10
    assert seq.push(11, end) == [end, end]  # 11 and the held 12
    assert seq.push(11, end) == [] and seq.duplicates == 1
    seq.on_hello(20)  # the relay dropped 13-19
    assert seq.lost == 7 and seq.ack == 19
    assert seq.skip(20) == [] and seq.ack == 20
    assert seq.push(None, end) == [end]  # protocol 1: as it comes


def test_arrival_check_rules() -> None:
    check = proto.ArrivalCheck()
    check.on_hello(proto.RelayHello("s", "x", clock_s=100.0, speed=2.0), now_s=50.0)
    assert check.check(100.0, now_s=50.0) is None
    assert check.check(99.0, now_s=50.0) is not None  # before the previous
    assert check.check(100.0 + 20 + proto.FUTURE_SLACK_S, now_s=60.0) is None
    assert check.check(100.0 + 40 + proto.FUTURE_SLACK_S + 1, now_s=70.0) is not None
    fast = proto.ArrivalCheck()
    fast.on_hello(proto.RelayHello("s", "x", clock_s=0.0, speed=None), now_s=0.0)
    assert fast.check(5000.0, now_s=0.0) is None  # as fast as possible: no clock bound
    assert fast.check(1e6, now_s=0.0) is not None  # but never beyond a day


def test_relay_status_has_no_math_inf_speed() -> None:
    hello = json.loads(proto.encode_hello("n", "s", speed=math.inf))
    assert hello["speed"] is None
