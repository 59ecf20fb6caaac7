"""Issue 4's done criterion, end to end through the CLI, the virtual link and the store.

``hrvcalm session --source ble-virtual:REC,drop_at=60 --jsonl --no-browser --autostart`` (a
faster ``--speed`` than the issue's 5 to keep CI short; the path is the same; ``--autostart``
because only a started practice is stored and no page presses Start): the page messages show
connected, then lost/reconnecting, then connected; every RR that arrives equals the
recording's at 1/1024 s, in order; the stored session holds exactly those beats, with the gap.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from hrvcalm.storage import SqliteStore
from tests.conftest import FIXTURES, load_rr_column

SLOW = FIXTURES / "polar_h10_ibi_slowbreathing" / "sample_data_ibi.csv"


def test_drop_reconnect_and_store(tmp_path: Path) -> None:
    db = tmp_path / "sessions.db"
    result = subprocess.run(
        [
            sys.executable, "-m", "hrvcalm", "session",
            "--source", f"ble-virtual:{SLOW},drop_at=60",
            "--speed", "30", "--jsonl", "--no-browser", "--autostart", "--port", "0",
            "--db", str(db),
        ],
        capture_output=True, text=True, timeout=180, env={**os.environ, "PYTHONWARNINGS": "error"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    messages = [json.loads(line) for line in result.stdout.splitlines()]

    states = [m["state"] for m in messages if m["type"] == "device"]
    lost = states.index("lost")
    assert "connected" in states[:lost]
    assert states[lost + 1] == "reconnecting"
    assert "connected" in states[lost + 2 :]

    beats = [m for m in messages if m["type"] == "beat"]
    arrived = [b["rr_ms"] for b in beats]
    # exact multiples of 1/1024 s, equal to the recording's RR at that resolution, in order
    ticks = [v * 1024 / 1000 for v in arrived]
    assert all(abs(t - round(t)) < 1e-9 for t in ticks)
    expected = [round(v * 1.024) for v in load_rr_column(SLOW)]
    got = [round(t) for t in ticks]
    split = next(i for i in range(len(got)) if got[i] != expected[i])
    assert got[:split] == expected[:split]
    tail = got[split:]
    skipped = next(k for k in range(split, len(expected)) if expected[k : k + len(tail)] == tail)
    assert skipped > split  # beats during the drop are missing, the rest all arrived
    assert beats[split]["gap_before"] and not any(b["gap_before"] for b in beats[:split])

    store = SqliteStore(db)
    try:
        (session,) = store.list_sessions()
        stored = store.beats_of(session.id)
        assert [b.rr_ms for b in stored] == arrived
        assert [b.t_s for b in stored] == [b["t_s"] for b in beats]
        assert [i for i, b in enumerate(stored) if b.gap_before] == [split]
        kinds = [e.state for e in store.events_of(session.id)]
        assert "lost" in kinds and "reconnecting" in kinds
    finally:
        store.close()
