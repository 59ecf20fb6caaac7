"""A database holding one fully replayed session of ``rest_rri.txt`` (a real strap recording)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hrvcalm.cli import main
from tests.conftest import FIXTURES
from tests.storage.pg_server import PgServer, missing_binaries

#: The source folder, for processes the tests start (``PYTHONPATH``).
REPO_SRC = Path(__file__).resolve().parents[2] / "src"

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


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One PostgreSQL server for the whole test run (skipped where its binaries are missing)."""
    why = missing_binaries()
    if why is not None:
        pytest.skip(why)
    server = PgServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """The URL of a new, empty database on the test server."""
    return pg_server.new_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a new, empty store is: a SQLite file, then a PostgreSQL database (one test each)."""
    if request.param == "sqlite":
        return str(tmp_path / "sessions.db")
    server: PgServer = request.getfixturevalue("pg_server")
    return server.new_database()
