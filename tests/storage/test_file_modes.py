"""Health data is the patient's alone: files 0600, folders hrvcalm makes 0700, whatever the
umask; a folder of the user's that already existed keeps its mode."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from hrvcalm.cli import main
from hrvcalm.storage import SqliteStore, open_store
from tests.conftest import FIXTURES

REST = FIXTURES / "polar_rr_rhenanbartels_hrv" / "rest_rri.txt"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """The umask most desktops have, which makes new files 0644 and folders 0755."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_database_and_its_side_files_are_private(tmp_path: Path) -> None:
    os.chmod(tmp_path, 0o755)
    db = tmp_path / "new" / "deeper" / "sessions.db"
    store = SqliteStore(db)
    store.set_setting("pacer_rate_bpm", "5.5")  # the -wal and -shm exist while it is open
    assert _mode(db) == 0o600
    assert _mode(Path(f"{db}-wal")) == 0o600
    assert _mode(Path(f"{db}-shm")) == 0o600
    assert _mode(db.parent) == 0o700 and _mode(db.parent.parent) == 0o700
    assert _mode(tmp_path) == 0o755  # the user's own folder is left alone
    store.close()


def test_hrvcalm_data_folder_and_an_old_database_are_tightened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HRVCALM_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    own = tmp_path / "xdg" / "hrvcalm"
    own.mkdir(parents=True, mode=0o755)
    os.chmod(own, 0o755)
    SqliteStore(own / "sessions.db").close()
    os.chmod(own / "sessions.db", 0o644)  # as an older hrvcalm left it
    open_store(None).close()
    assert _mode(own) == 0o700
    assert _mode(own / "sessions.db") == 0o600
    assert _mode(tmp_path / "xdg") != 0o700  # not hrvcalm's: as it was made


def test_exports_and_reports_are_private(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    assert main(["import", str(REST), "--db", str(db)]) == 0
    outs = {
        "export.csv": ["sessions", "export", "1", "--format", "csv"],
        "export.json": ["sessions", "export", "1", "--format", "json"],
        "report.html": ["report", "1"],
        "report.pdf": ["report", "1"],
    }
    for name, args in outs.items():
        assert main([*args, "--db", str(db), "--out", str(tmp_path / name)]) == 0
        assert _mode(tmp_path / name) == 0o600, name
    analysis = tmp_path / "analysis.html"
    assert main(["analyze", str(REST), "--report", str(analysis)]) == 0
    assert _mode(analysis) == 0o600
