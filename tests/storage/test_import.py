"""``hrvcalm import PATH``: a recording of each format we read becomes a stored session."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from hrvcalm.cli import main
from hrvcalm.recordings import read_recording
from hrvcalm.storage import SqliteStore
from tests.conftest import FIXTURES, load_rr_column

RR_TEXT = FIXTURES / "polar_rr_rhenanbartels_hrv" / "rest_rri.txt"
CSV = FIXTURES / "polar_h10_ibi_slowbreathing" / "sample_data_ibi.csv"
CSV_NS = FIXTURES / "polar_h10_ecg_detectpvc" / "h10_rr.csv"
HRM = FIXTURES / "polar_rr_rhenanbartels_hrv" / "test_file_2.hrm"
WFDB = FIXTURES / "mitdb_100_wfdb" / "100.atr"


def _hrm_rr(path: Path) -> list[float]:
    """The [HRData] section of a Polar HRM file with R-R on: one RR in ms a line."""
    lines = path.read_text(errors="replace").splitlines()
    start = next(i for i, s in enumerate(lines) if s.strip().lower() == "[hrdata]")
    return [float(s) for s in lines[start + 1 :] if s.strip()]


@pytest.mark.parametrize(
    ("path", "fmt", "expected"),
    [
        (RR_TEXT, "rr", lambda: np.loadtxt(RR_TEXT)),
        (CSV, "csv", lambda: load_rr_column(CSV)),
        (CSV_NS, "csv", lambda: np.loadtxt(CSV_NS, delimiter=",", skiprows=1)[:, 1]),
        (HRM, "hrm", lambda: np.array(_hrm_rr(HRM))),
        (WFDB, "wfdb", lambda: read_recording(WFDB).rr_ms),
    ],
    ids=["rr", "csv", "csv-ns", "hrm", "wfdb"],
)
def test_import_stores_every_interval(
    tmp_path: Path, path: Path, fmt: str, expected: object, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.db"
    argv = ["import", str(path), "--db", str(db), "--json", "--started", "2026-03-02T08:30"]
    assert main(argv) == 0
    doc = json.loads(capsys.readouterr().out)
    want = np.asarray(expected(), dtype=np.float64)  # type: ignore[operator]
    assert doc["ended_reason"] == "imported"
    assert doc["n_beats"] == want.size
    assert doc["source"].startswith("import:") and doc["source"].endswith(path.name)
    assert doc["started_at"].startswith("2026-03-02")
    with SqliteStore(db) as store:
        beats = store.beats_of(doc["id"])
        np.testing.assert_array_equal([b.rr_ms for b in beats], want)
        assert fmt == read_recording(path).format
        assert store.metrics_of(doc["id"]), "the metrics timeline is filled in"
        assert doc["minutes_practised"] == pytest.approx(beats[-1].t_s / 60.0, abs=0.01)


def test_importing_twice_makes_two_sessions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.db"
    assert main(["import", str(RR_TEXT), "--db", str(db)]) == 0
    assert main(["import", str(RR_TEXT), "--db", str(db)]) == 0
    assert "as session 2" in capsys.readouterr().out
    with sqlite3.connect(db) as raw:
        assert raw.execute("SELECT COUNT(*) FROM beats").fetchone()[0] == 2 * 910
    raw.close()


def test_import_of_a_bad_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("hello\nworld\n")
    assert main(["import", str(bad), "--db", str(tmp_path / "s.db")]) == 1
    err = capsys.readouterr().err
    assert str(bad) in err and err.count("\n") == 1
    assert main(["import", str(tmp_path / "missing.txt"), "--db", str(tmp_path / "s.db")]) == 1
    assert "missing.txt" in capsys.readouterr().err
