"""A session killed with SIGKILL keeps all but at most its last second of beats.

A real ``hrvcalm session`` replays ``rest_rri.txt`` at 20x into a real SQLite file and is
killed mid-session. The beats it printed (``--jsonl``) before the kill tell how far the
replay got; the file must hold exactly the first N intervals of the recording (read with
numpy), with N at least the beats replayed up to one wall-clock second (20 s of recording)
before the kill. Reopening the file marks the cut-off session as interrupted.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from hrvcalm.storage import SqliteStore
from tests.conftest import FIXTURES

REST = FIXTURES / "polar_rr_rhenanbartels_hrv" / "rest_rri.txt"
SPEED = 20.0
RUN_AFTER_FIRST_BEAT_S = 3.0


def _beats_printed(jsonl: Path) -> list[dict[str, object]]:
    out = []
    for line in jsonl.read_text().splitlines():
        try:
            message = json.loads(line)
        except ValueError:  # the last line may be cut by the kill
            continue
        if message.get("type") == "beat":
            out.append(message)
    return out


def _run_and_kill(db: str | Path, jsonl: Path) -> tuple[float, int]:
    """Start a session, SIGKILL it a few seconds in; returns (kill time, beats printed)."""
    cmd = [
        sys.executable, "-m", "hrvcalm", "session", "--source", f"replay:{REST}",
        "--speed", str(SPEED), "--autostart", "--no-browser", "--port", "0",
        "--db", str(db), "--jsonl",
    ]  # fmt: skip
    with jsonl.open("w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 20.0
            while not _beats_printed(jsonl):
                if proc.poll() is not None:
                    pytest.fail(f"session exited early: {proc.stderr.read().decode()}")  # type: ignore[union-attr]
                if time.monotonic() > deadline:
                    pytest.fail("no beat within 20 s")
                time.sleep(0.05)
            time.sleep(RUN_AFTER_FIRST_BEAT_S)
            os.kill(proc.pid, signal.SIGKILL)
            killed_at = time.monotonic()
        finally:
            proc.wait(timeout=10)
            assert proc.stderr is not None
            proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    return killed_at, len(_beats_printed(jsonl))


def test_sigkill_loses_at_most_the_last_second(
    tmp_path: Path, rest_rr: npt.NDArray[np.float64]
) -> None:
    db, jsonl = tmp_path / "s.db", tmp_path / "out.jsonl"
    _, n_printed = _run_and_kill(db, jsonl)
    printed = _beats_printed(jsonl)
    t_last_printed = float(printed[-1]["t_s"])  # type: ignore[arg-type]

    # What is on disk right after the kill, read with plain sqlite3 (no recovery yet).
    with sqlite3.connect(db) as raw:
        stored = np.array(
            [r[0] for r in raw.execute("SELECT rr_ms FROM beats ORDER BY session_id, idx")]
        )
        times = [r[0] for r in raw.execute("SELECT t_s FROM beats ORDER BY session_id, idx")]
        (ended,) = raw.execute("SELECT ended_unix FROM sessions").fetchone()
    raw.close()
    assert ended is None, "the killed session cannot have ended by itself"
    n_stored = stored.size
    # Exactly the first N intervals of the recording, bit for bit.
    np.testing.assert_array_equal(stored, rest_rr[:n_stored])
    # At most one wall-clock second (SPEED s of recording) of printed beats is missing.
    must_have = sum(1 for b in printed if float(b["t_s"]) <= t_last_printed - SPEED * 1.0)  # type: ignore[arg-type]
    lost_s = t_last_printed - (times[-1] if times else 0.0)
    print(
        f"\ndurability: printed {n_printed} beats up to t={t_last_printed:.1f} s of recording; "
        f"stored {n_stored} up to t={times[-1]:.1f} s; lost {n_printed - n_stored} beats = "
        f"{lost_s:.1f} s of recording = {lost_s / SPEED:.2f} s wall at {SPEED:g}x; "
        f"required >= {must_have}"
    )
    assert n_stored >= must_have
    assert n_stored >= 20, "the replay should have run for several seconds"
    assert n_stored <= rest_rr.size

    # The next start opens the file cleanly and marks the cut-off session as interrupted.
    with SqliteStore(db) as store:
        (session,) = store.list_sessions()
        assert session.ended_reason == "interrupted"
        assert session.end_t_s == pytest.approx(times[-1])
        assert session.n_beats == n_stored
        assert session.ended_unix is not None
        with sqlite3.connect(db) as raw:
            assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        raw.close()
