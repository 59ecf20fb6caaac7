"""``hrvcalm resonance`` as a user runs it: a real process, a real SQLite file, then a session
that starts at the stored rate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hrvcalm.server.resonance import RATE_SETTING, RESULT_SETTING
from hrvcalm.storage import open_store


def hrvcalm(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hrvcalm", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONWARNINGS": "error", **(env or {})},
    )


def assess(db: Path, spec: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return hrvcalm(
        "resonance", "--source", spec, "--speed", "max", "--no-browser", "--port", "0",
        "--db", str(db), *extra,
    )  # fmt: skip


def test_table_stored_rate_and_notes(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    result = assess(db, "sim:seed=3,resonance=5.0")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["rate/min", "phase", "deg"]
    rows = {float(line.split()[0]): line for line in lines[1:6]}
    assert sorted(rows) == [4.5, 5.0, 5.5, 6.0, 6.5]
    assert rows[5.0].endswith("<- chosen")
    assert lines[-1] == "resonance breathing rate: 5 breaths/min"
    assert "stored 5 breaths/min" in result.stderr
    store = open_store(db)
    try:
        assert store.get_setting(RATE_SETTING) == "5"
        saved = json.loads(store.get_setting(RESULT_SETTING) or "{}")
        assert saved["chosen_rate_bpm"] == 5.0
        (session,) = store.list_sessions()
        assert session.practice == "resonance"
        assert session.ended_reason == "completed"
        assert session.notes is not None and "<- chosen" in session.notes
        rates = [p.rate_bpm for p in store.pacer_of(session.id)]
        assert rates[-5:] == [6.5, 6.0, 5.5, 5.0, 4.5]
    finally:
        store.close()


def test_the_next_session_starts_at_the_stored_rate(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    assert assess(db, "sim:seed=8,resonance=4.5").returncode == 0
    session = hrvcalm(
        "session", "--source", "sim:seed=1", "--speed", "max", "--no-browser", "--port", "0",
        "--minutes", "1", "--autostart", "--jsonl", "--db", str(db),
    )  # fmt: skip
    assert session.returncode == 0, session.stderr
    first_pacer = next(
        json.loads(line) for line in session.stdout.splitlines() if '"type":"pacer"' in line
    )
    assert first_pacer["rate_bpm"] == 4.5


def test_a_stored_rate_out_of_range_is_ignored(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    store = open_store(db)
    store.set_setting(RATE_SETTING, "42")
    store.close()
    session = hrvcalm(
        "session", "--source", "sim:seed=1", "--speed", "max", "--no-browser", "--port", "0",
        "--minutes", "1", "--autostart", "--jsonl", "--db", str(db),
    )  # fmt: skip
    assert session.returncode == 0, session.stderr
    assert "ignoring the stored pacer rate '42'" in session.stderr
    first_pacer = next(
        json.loads(line) for line in session.stdout.splitlines() if '"type":"pacer"' in line
    )
    assert first_pacer["rate_bpm"] == 6.0


def test_json_output(tmp_path: Path) -> None:
    result = assess(tmp_path / "s.db", "sim:seed=5,resonance=6.0", "--json")
    assert result.returncode == 0, result.stderr
    message = json.loads(result.stdout)
    assert message["type"] == "resonance" and message["state"] == "done"
    assert message["chosen_rate_bpm"] == 6.0
    assert [s["rate_bpm"] for s in message["steps"]] == [6.5, 6.0, 5.5, 5.0, 4.5]


def test_a_recording_too_short_stores_nothing(tmp_path: Path) -> None:
    rr = tmp_path / "short.txt"
    rr.write_text("\n".join(["900"] * 200) + "\n")  # 3 minutes
    db = tmp_path / "s.db"
    result = assess(db, f"replay:{rr}")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "hrvcalm: error: the resonance assessment ended before its last step; nothing stored"
    )
    assert "no rate chosen: stopped" in result.stdout
    store = open_store(db)
    try:
        assert store.get_setting(RATE_SETTING) is None
    finally:
        store.close()


@pytest.mark.parametrize(
    ("args", "env", "fragment"),
    [
        (("--step-seconds", "5"), {}, "step seconds must be 10-600"),
        ((), {"HRVCALM_RESONANCE_STEP_S": "abc"}, "HRVCALM_RESONANCE_STEP_S must be a number"),
    ],
)
def test_bad_step_lengths_are_one_line_errors(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str], fragment: str
) -> None:
    result = hrvcalm(
        "resonance", "--source", "sim", "--no-browser", "--port", "0",
        "--db", str(tmp_path / "s.db"), *args, env=env,
    )  # fmt: skip
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert fragment in result.stderr.strip().splitlines()[-1]
