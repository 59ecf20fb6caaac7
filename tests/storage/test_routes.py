"""The history JSON served next to a live session, while it is being recorded."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.browser.conftest import _free_port


def _get(url: str) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(url, headers={"X-Hrvcalm": "1"})  # as the page sends
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


def test_a_running_session_is_listed_and_not_taken_for_a_crash(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    port = _free_port()
    cmd = [
        sys.executable, "-m", "hrvcalm", "session", "--source", "sim:seed=2", "--speed", "10",
        "--autostart", "--no-browser", "--port", str(port), "--db", str(db),
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        sessions: list[dict[str, object]] = []
        while time.monotonic() < deadline:
            try:
                _, payload = _get(f"http://127.0.0.1:{port}/api/sessions")
                sessions = payload["sessions"]  # type: ignore[assignment]
                if sessions and int(sessions[0]["n_beats"]) > 20:  # type: ignore[call-overload]
                    break
            except OSError:
                pass
            time.sleep(0.3)
        (running,) = sessions
        assert running["ended_reason"] is None  # the reader did not "recover" a live session
        assert running["source"] == "sim"
        status, one = _get(f"http://127.0.0.1:{port}/api/session?id={running['id']}")
        assert status == 200 and one["metrics"]
        status, missing = _get(f"http://127.0.0.1:{port}/api/session?id=99")
        assert status == 404 and "no session 99" in str(missing["error"])
        status, _ = _get(f"http://127.0.0.1:{port}/api/session?id=x")
        assert status == 400
    finally:
        proc.terminate()
        proc.wait(timeout=10)
