"""A damaged row in the metrics timeline costs that row, not the session's list, show,
export or report."""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

import pytest

from hrvcalm.cli import main
from tests.conftest import FIXTURES

REST = FIXTURES / "polar_rr_rhenanbartels_hrv" / "rest_rri.txt"


def test_a_damaged_metrics_row_is_skipped_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "s.db"
    assert main(["session", "--source", f"replay:{REST}", "--speed", "max", "--autostart",
                 "--no-browser", "--port", "0", "--db", str(db)]) == 0  # fmt: skip
    raw = sqlite3.connect(db)
    with raw:
        (n,) = raw.execute("SELECT COUNT(*) FROM metrics").fetchone()
        raw.execute("UPDATE metrics SET data = '{\"rmssd_ms\": 3' WHERE rowid = 5")
        raw.execute("UPDATE metrics SET data = '[1, 2]' WHERE rowid = 6")
    raw.close()
    capsys.readouterr()
    with caplog.at_level(logging.WARNING):
        assert main(["sessions", "list", "--json", "--db", str(db)]) == 0
        (listed,) = json.loads(capsys.readouterr().out)
        assert listed["mean_rmssd_ms"] is not None
        assert main(["sessions", "list", "--db", str(db)]) == 0
        assert main(["sessions", "show", "1", "--db", str(db)]) == 0
        capsys.readouterr()
        assert main(["sessions", "export", "1", "--format", "json", "--db", str(db)]) == 0
        exported = json.loads(capsys.readouterr().out)
        assert len(exported["metrics"]) == n - 2
        assert main(["report", "1", "--db", str(db), "--out", str(tmp_path / "r.html")]) == 0
    assert any("damaged metrics row" in r.getMessage() for r in caplog.records)
