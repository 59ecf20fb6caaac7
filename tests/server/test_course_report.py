"""Outcome measures and the course report: PEG, Roland-Morris, responders at 30 %."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hrvcalm.reports.outcomes import changes, peg_score, rmdq_score
from hrvcalm.storage import NewSession, SqliteStore, StoredBeat, StoredRating


def test_peg_is_the_mean_of_three_items() -> None:
    assert peg_score([7, 6, 8]) == 7.0
    assert peg_score([5, 4, 4]) == pytest.approx(13 / 3)
    for bad in ([7, 6], [7, 6, 11], [7, 6, -1], [7, 6, True]):
        with pytest.raises(ValueError, match="PEG"):
            peg_score(bad)


def test_rmdq_counts_the_yes_answers() -> None:
    assert rmdq_score([True] * 5 + [False] * 19) == 5
    with pytest.raises(ValueError, match="24"):
        rmdq_score([True] * 23)


def test_responders_improve_by_30_percent_from_week_0() -> None:
    rows = changes([("peg", 0, 7.0), ("peg", 8, 13 / 3), ("rmdq", 0, 12), ("rmdq", 4, 10),
                    ("rmdq", 8, 9), ("rmdq", 9, 8.4)])  # fmt: skip
    by_key = {(c.instrument, c.week): c for c in rows}
    assert by_key[("peg", 8)].improvement_pct == pytest.approx(100 * (7 - 13 / 3) / 7)
    assert by_key[("peg", 8)].responder is True
    assert by_key[("rmdq", 8)].improvement_pct == pytest.approx(25.0)
    assert by_key[("rmdq", 8)].responder is False
    assert by_key[("rmdq", 9)].responder is True  # exactly 30 %
    assert by_key[("rmdq", 0)].responder is None
    no_baseline = changes([("peg", 4, 3.0), ("rmdq", 0, 0), ("rmdq", 8, 0)])
    assert [c.responder for c in no_baseline] == [None, None, None]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    return subprocess.run(
        [sys.executable, "-m", "hrvcalm", *args], capture_output=True, text=True, env=env
    )


def test_course_report_of_one_patient(tmp_path: Path) -> None:
    db = tmp_path / "clinic.db"
    day = 86400.0
    start = time.time() - 56 * day
    with SqliteStore(db) as store:
        for i, patient in enumerate(["Ann B.", "Carl D.", "Ann B.", "Ann B."]):
            sid = store.create_session(
                NewSession(started_unix=start + 14 * i * day, source="relay", patient=patient)
            )
            store.add_beats(sid, [StoredBeat(t_s=float(t), rr_ms=1000.0) for t in range(600)])
            store.set_rating(sid, StoredRating("before", pain=6, stress=5))
            store.set_rating(sid, StoredRating("after", pain=4, stress=2))
            store.end_session(sid, reason="completed", end_t_s=600.0, ended_unix=start + 600)
    for week, peg, yes in ((0, "7,6,8", 12), (8, "5,4,4", 9)):
        rmdq = ",".join(["y"] * yes + ["n"] * (24 - yes))
        added = run("outcomes", "add", "--db", str(db), "--patient", "Ann B.",
                    "--week", str(week), "--peg", peg, "--rmdq", rmdq)  # fmt: skip
        assert added.returncode == 0, added.stderr
    listed = json.loads(
        run("outcomes", "list", "--db", str(db), "--patient", "Ann B.", "--json").stdout
    )
    assert [(r["instrument"], r["week"], r["responder"]) for r in listed] == [
        ("peg", 0, None), ("peg", 8, True), ("rmdq", 0, None), ("rmdq", 8, False)
    ]  # fmt: skip
    out = tmp_path / "ann.html"
    made = run("report", "--db", str(db), "--patient", "Ann B.", "--course", "--out", str(out))
    assert made.returncode == 0, made.stderr
    page = out.read_text()
    assert page.count("data-testid='session-row'") == 3  # Ann's sessions only
    assert re.search(r"Sessions recorded</th><td>3<", page)
    assert re.search(r"Minutes practised</th><td>30<", page)  # 3 x 10 min
    assert re.search(r"Pain eased in a session[^<]*</th>\s*<td>2\.0<", page)
    assert "week 8, 38 % from week 0 — a responder" in page
    assert "week 8, 25 % from week 0 — not a responder" in page
    bad = run("outcomes", "add", "--db", str(db), "--patient", "Ann B.", "--week", "4",
              "--peg", "7,6")  # fmt: skip
    assert bad.returncode != 0 and "Traceback" not in bad.stderr and "PEG" in bad.stderr
    nobody = run("report", "--db", str(db), "--patient", "Zoe", "--course", "--out", str(out))
    assert nobody.returncode != 0 and "nothing stored for patient" in nobody.stderr
