"""Reading the history never freezes the live session.

A real ``hrvcalm session`` on a loopback port, its store holding a simulated 8-week course
(two 20-minute sessions a day, a metrics row a second as the recorder keeps them), while
several clients ask ``/api/sessions`` back to back: the patient page's websocket pings must
still come back within :data:`PING_P99_BUDGET_S`. With the store read on the event loop,
each request froze it for the whole query (p99 of seconds).
"""

from __future__ import annotations

import asyncio
import random
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from hrvcalm.events import METRIC_KEYS
from hrvcalm.storage import (
    MetricsSample,
    NewSession,
    SqliteStore,
    StoredBeat,
    StoredRating,
)
from tests.browser.conftest import _free_port

#: The 99th percentile of the ping round trip allowed while the history is read, s. Measured:
#: 8-17 ms on a quiet 2-core machine, up to ~60 ms with other test suites running beside it;
#: 6.6 s when the store was read on the loop.
PING_P99_BUDGET_S = 0.2
WEEKS, PER_DAY, SESSION_S = 8, 2, 1200
HAMMERS = 4
PINGS = 120


def build_course(path: Path, *, seed: int = 1) -> int:
    """A store holding ``WEEKS`` of practice, through the store's API; returns the sessions."""
    rng = random.Random(seed)
    start = 1.7e9
    n = 0
    with SqliteStore(path) as store:
        for day in range(7 * WEEKS):
            for k in range(PER_DAY):
                began = start + day * 86400 + k * 36000
                sid = store.create_session(
                    NewSession(started_unix=began, source="sim", planned_s=float(SESSION_S))
                )
                t_s, beats = 0.0, []
                while t_s < SESSION_S:
                    rr = 850.0 + 150.0 * rng.random()
                    t_s += rr / 1000.0
                    beats.append(StoredBeat(t_s, rr, False, False, None))
                store.add_beats(sid, beats)
                samples = []
                for i in range(SESSION_S):
                    values = {key: round(rng.uniform(0, 80), 3) for key in METRIC_KEYS}
                    samples.append(MetricsSample(float(i), values))
                store.add_metrics(sid, samples)
                store.update_session(sid, practice_start_t_s=0.0, practice_s=float(SESSION_S))
                store.set_rating(sid, StoredRating("before", 6, 7, "stiff"))
                store.set_rating(sid, StoredRating("after", 4, 3, None))
                store.end_session(
                    sid, reason="completed", end_t_s=float(SESSION_S), ended_unix=began + SESSION_S
                )
                n += 1
    return n


@pytest.fixture(scope="module")
def course_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("course") / "sessions.db"
    assert build_course(path) == 7 * WEEKS * PER_DAY
    return path


@pytest.fixture
def session_port(course_db: Path) -> Iterator[int]:
    port = _free_port()
    cmd = [
        sys.executable, "-m", "hrvcalm", "session", "--source", "sim:seed=3", "--no-browser",
        "--port", str(port), "--db", str(course_db),
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _hammer(port: int, stop: threading.Event, answered: list[int]) -> None:
    """Ask for the whole history again and again (as the page does, with its header)."""
    request = (
        f"GET /api/sessions HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Hrvcalm: 1\r\n\r\n"
    ).encode()
    while not stop.is_set():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
                sock.sendall(request)
                head = sock.recv(64)
                while sock.recv(1 << 16):
                    pass
            answered.append(int(head.split()[1]))
        except OSError:
            time.sleep(0.01)


async def test_history_requests_do_not_stall_the_live_websocket(session_port: int) -> None:
    port = session_port
    stop = threading.Event()
    answered: list[int] = []
    latencies: list[float] = []
    async with connect(f"ws://127.0.0.1:{port}/ws") as ws:

        async def drain() -> None:
            async for _ in ws:
                pass

        reader = asyncio.create_task(drain())
        hammers = [
            threading.Thread(target=_hammer, args=(port, stop, answered), daemon=True)
            for _ in range(HAMMERS)
        ]
        for thread in hammers:
            thread.start()
        try:
            await asyncio.sleep(0.5)  # the requests are under way
            for _ in range(PINGS):
                sent = time.perf_counter()
                pong = await ws.ping()
                await asyncio.wait_for(pong, 30)
                latencies.append(time.perf_counter() - sent)
                await asyncio.sleep(0.03)
        finally:
            stop.set()
            for thread in hammers:
                await asyncio.to_thread(thread.join, 30)
            reader.cancel()
    latencies.sort()
    p99 = latencies[int(0.99 * (len(latencies) - 1))]
    p50 = latencies[len(latencies) // 2]
    print(
        f"ping p50 {p50 * 1e3:.1f} ms, p99 {p99 * 1e3:.1f} ms, max {latencies[-1] * 1e3:.1f} ms; "
        f"{len(answered)} history requests answered"
    )
    assert answered and set(answered) <= {200, 503}
    assert answered.count(200) >= 2  # the history was really read meanwhile
    assert p99 < PING_P99_BUDGET_S, f"ping p99 {p99 * 1e3:.0f} ms while the history was read"
