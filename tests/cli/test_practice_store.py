"""Only practice counts as practice, and the demo never enters the patient's course.

Real ``hrvcalm demo`` / ``hrvcalm session`` processes, stopped with Ctrl-C (SIGINT) as a
patient would; a plain websocket client plays the page where one is needed; the outcome is
read back with ``hrvcalm sessions list --json`` as the history page and the course read it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import connect

from tests.conftest import FIXTURES

REST = FIXTURES / "polar_rr_rhenanbartels_hrv" / "rest_rri.txt"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The patient's database is $HRVCALM_DB in a fresh folder."""
    return {**os.environ, "HRVCALM_DB": str(tmp_path / "sessions.db")}


class Server:
    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.port = _free_port()
        cmd = [sys.executable, "-m", "hrvcalm", *args, "--port", str(self.port), "--no-browser"]
        self.proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"server did not start: {self.proc.communicate()[1]}")
                time.sleep(0.2)

    def page(self) -> Any:
        return connect(f"ws://127.0.0.1:{self.port}/ws")

    def interrupt(self) -> str:
        """Ctrl-C; returns what the process wrote on stderr."""
        self.proc.send_signal(signal.SIGINT)
        _, err = self.proc.communicate(timeout=20)
        return str(err)


@pytest.fixture
def serve(env: dict[str, str]) -> Iterator[Any]:
    servers: list[Server] = []

    def start(*args: str) -> Server:
        server = Server(list(args), env)
        servers.append(server)
        return server

    yield start
    for server in servers:
        if server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait()


def listed(env: dict[str, str], db: Path | None = None) -> list[dict[str, Any]]:
    args = [sys.executable, "-m", "hrvcalm", "sessions", "list", "--json"]
    if db is not None:
        args += ["--db", str(db)]
    out = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
    result: list[dict[str, Any]] = json.loads(out.stdout)
    return result


def wait_for(ws: Any, kind: str, **fields: Any) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        message = json.loads(ws.recv(timeout=20))
        if message["type"] == kind and all(message.get(k) == v for k, v in fields.items()):
            return dict(message)
    raise AssertionError(f"no {kind} {fields}")


def test_a_demo_never_started_stores_nothing_anywhere(serve: Any, env: dict[str, str]) -> None:
    """The issue's case: `hrvcalm demo`, no Start, Ctrl-C a while later."""
    demo = serve("demo", "--speed", "20")
    with demo.page() as ws:
        wait_for(ws, "device", state="connected")
        time.sleep(2.0)  # 40 s of demo time with the page open, no Start
    err = demo.interrupt()
    patient_db = Path(env["HRVCALM_DB"])
    assert "demo sessions are kept apart" in err and str(patient_db.with_name("demo.db")) in err
    assert not patient_db.exists() or listed(env) == []
    assert listed(env, patient_db.with_name("demo.db")) == []


def test_a_demo_practice_goes_to_the_demo_database_only(serve: Any, env: dict[str, str]) -> None:
    demo = serve("demo", "--speed", "20")
    with demo.page() as ws:
        wait_for(ws, "device", state="connected")
        time.sleep(1.0)  # before Start the recording does not play: no beat yet
        ws.send(json.dumps({"type": "configure", "minutes": 1}))
        ws.send(json.dumps({"type": "start"}))
        first = wait_for(ws, "beat")
        assert first["t_s"] < 3.0, "the recording plays from Start, not from launch"
        wait_for(ws, "session", phase="ended")
    demo.interrupt()
    patient_db = Path(env["HRVCALM_DB"])
    assert not patient_db.exists() or listed(env) == []
    (session,) = listed(env, patient_db.with_name("demo.db"))
    assert session["ended_reason"] == "completed"
    assert session["minutes_practised"] == pytest.approx(1.0, abs=0.05)


def test_a_session_never_started_is_not_practice(serve: Any, env: dict[str, str]) -> None:
    session = serve("session", "--source", "sim:seed=1", "--speed", "20")
    with session.page() as ws:
        wait_for(ws, "beat")
        ws.send(json.dumps({"type": "rating", "when": "before", "pain": 6, "stress": 5}))
        time.sleep(2.0)
    session.interrupt()
    assert listed(env) == []


def test_a_session_is_stored_from_start_on(serve: Any, env: dict[str, str]) -> None:
    session = serve("session", "--source", "sim:seed=1", "--speed", "20")
    with session.page() as ws:
        wait_for(ws, "beat")
        ws.send(json.dumps({"type": "rating", "when": "before", "pain": 6, "stress": 5}))
        time.sleep(1.5)  # 30 s of settling in, not practice
        ws.send(json.dumps({"type": "start"}))
        wait_for(ws, "session", phase="running")
        time.sleep(3.0)  # 60 s of practice
        ws.send(json.dumps({"type": "stop"}))
        summary = wait_for(ws, "summary")
        wait_for(ws, "session", phase="ended")
    session.interrupt()
    (stored,) = listed(env)
    assert stored["ended_reason"] == "stopped"
    assert stored["minutes_practised"] == pytest.approx(summary["minutes"], abs=0.02)
    assert 0.8 < stored["minutes_practised"] < 1.4  # the practice, not the settling in
    assert stored["ratings"]["before"]["pain"] == 6


def test_replay_jsonl_into_head_exits_quietly() -> None:
    """`hrvcalm replay --jsonl | head` ends without a word once head has its lines."""
    replay = subprocess.Popen(
        [sys.executable, "-m", "hrvcalm", "replay", str(REST), "--speed", "max", "--jsonl"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert replay.stdout is not None
    head = [replay.stdout.readline() for _ in range(3)]
    replay.stdout.close()  # what head does after its lines
    _, err = replay.communicate(timeout=60)
    assert all(json.loads(line)["type"] for line in head)
    assert replay.returncode == 0
    assert err == b""
