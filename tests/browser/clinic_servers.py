"""Processes of a clinic for the browser tests: ``hrvcalm serve`` and its relays."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import SERVER_START_TIMEOUT_S, _answers, _free_port

TOKEN = "clinic-browser-token"


@dataclass
class Clinic:
    """A running ``hrvcalm serve`` and the relays streaming to it."""

    port: int
    db: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[Any] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def _spawn(self, *args: str) -> subprocess.Popen[bytes]:
        log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        proc = subprocess.Popen(
            [sys.executable, "-m", "hrvcalm", *args], stdout=subprocess.DEVNULL, stderr=log
        )
        self.procs.append(proc)
        self.logs.append(log)
        return proc

    def relay(self, patient: str, source: str = "sim:seed=1,breaths=6", speed: str = "4") -> None:
        """Start a relay for ``patient`` on a simulated strap."""
        self._spawn(
            "relay", "--source", source, "--speed", speed, "--patient", patient,
            "--to", f"ws://127.0.0.1:{self.port}/ingest", "--token", TOKEN,
        )  # fmt: skip

    def sessions(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(self.url + "sessions", timeout=5) as answer:
            rows: list[dict[str, Any]] = json.loads(answer.read())
        return rows

    def wait_for_sessions(self, n: int) -> list[dict[str, Any]]:
        """The ``/sessions`` rows once ``n`` sessions have beats."""
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            rows = [r for r in self.sessions() if r["beats"] > 0]
            if len(rows) >= n:
                return rows
            if time.monotonic() > deadline:
                pytest.fail(f"{n} relayed sessions did not start: {rows}\n{self.stderr()}")
            time.sleep(0.2)

    def stderr(self) -> str:
        out = []
        for proc, log in zip(self.procs, self.logs, strict=True):
            log.seek(0)
            out.append(f"$ {' '.join(map(str, proc.args))}\n{log.read().decode(errors='replace')}")
        return "\n".join(out)

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        for log in self.logs:
            log.close()


@pytest.fixture
def clinic(tmp_path: Path) -> Iterator[Clinic]:
    """``hrvcalm serve`` on a free loopback port, storing into a fresh database."""
    running = Clinic(_free_port(), tmp_path / "clinic.db")
    running._spawn("serve", "--port", str(running.port), "--token", TOKEN, "--db", str(running.db))
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    try:
        while not _answers(running.url + "sessions"):
            if running.procs[0].poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"hrvcalm serve did not start:\n{running.stderr()}")
            time.sleep(0.2)
        yield running
    finally:
        running.stop()
