"""The clinician's journey on the command line: serve --db, relays naming their patients,
a stop with SIGTERM, then ``sessions list --patient``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.browser.conftest import _free_port
from tests.conftest import FIXTURES

REST = FIXTURES / "polar_rr_rhenanbartels_hrv" / "rest_rri.txt"
N_BEATS = 910
TOKEN = "cli-token"


def hrvcalm(*args: str) -> list[str]:
    return [sys.executable, "-m", "hrvcalm", *args]


def test_serve_stores_each_patients_sessions(tmp_path: Path) -> None:
    db = tmp_path / "clinic.db"
    port = _free_port()
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    serve = subprocess.Popen(
        hrvcalm("serve", "--port", str(port), "--token", TOKEN, "--db", str(db)),
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/sessions", timeout=1).close()
                break
            except OSError:
                assert serve.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)
        relays = [
            subprocess.run(
                hrvcalm(
                    "relay",
                    "--source",
                    f"replay:{REST}",
                    "--speed",
                    "max",
                    "--to",
                    f"ws://127.0.0.1:{_free_port()}/ingest",  # nobody: next one
                    "--to",
                    f"ws://127.0.0.1:{port}/ingest",
                    "--token",
                    TOKEN,
                    "--patient",
                    patient,
                ),
                capture_output=True,
                text=True,
                timeout=60,
                env=env,
            )
            for patient in ("Ann B.", "Carl D.", "Ann B.")
        ]
    finally:
        serve.send_signal(signal.SIGTERM)
        _, serve_err = serve.communicate(timeout=30)
    for relay in relays:
        assert relay.returncode == 0, relay.stderr
        assert "Traceback" not in relay.stderr
        assert "ConnectionRefusedError" in relay.stderr  # the first address, retried once
    assert serve.returncode == 0, serve_err
    assert "Traceback" not in serve_err
    listed = subprocess.run(
        hrvcalm("sessions", "list", "--db", str(db), "--patient", "Ann B.", "--json"),
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    sessions = json.loads(listed.stdout)
    assert [s["patient"] for s in sessions] == ["Ann B.", "Ann B."]
    assert [s["n_beats"] for s in sessions] == [N_BEATS, N_BEATS]
    table = subprocess.run(
        hrvcalm("sessions", "list", "--db", str(db), "--patient", "Carl D."),
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    assert "Carl D." in table and "Ann B." not in table
