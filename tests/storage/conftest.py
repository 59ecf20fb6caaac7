"""A database holding one fully replayed session of ``rest_rri.txt`` (a real strap recording)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hrvcalm.cli import main
from tests.conftest import FIXTURES

REST = FIXTURES / "polar_rr_rhenanbartels_hrv" / "rest_rri.txt"


@pytest.fixture(scope="module")
def replayed_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Session 1: ``hrvcalm session`` replaying rest_rri.txt as fast as possible, to its end."""
    db = tmp_path_factory.mktemp("db") / "sessions.db"
    code = main(
        [
            "session", "--source", f"replay:{REST}", "--speed", "max", "--autostart",
            "--no-browser", "--port", "0", "--db", str(db),
        ]
    )  # fmt: skip
    assert code == 0
    return db
