"""``--store postgresql://...`` and ``$HRVCALM_STORE`` on the commands, against a real server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from hrvcalm.cli import main
from hrvcalm.commands.sessions import history_routes
from hrvcalm.storage import open_store
from tests.storage.conftest import REST
from tests.storage.test_durability import SPEED, _beats_printed, _run_and_kill


def _replay(where: list[str]) -> None:
    code = main(
        [
            "session", "--source", f"replay:{REST}", "--speed", "max", "--autostart",
            "--no-browser", "--port", "0", *where,
        ]
    )  # fmt: skip
    assert code == 0


def _listed(capsys: pytest.CaptureFixture[str], argv: list[str]) -> list[dict[str, Any]]:
    capsys.readouterr()
    assert main(argv) == 0
    listed: list[dict[str, Any]] = json.loads(capsys.readouterr().out)
    return listed


#: What differs between two recordings of the same replay: when, and the wall clock's span.
_WHEN = ("started_at", "started_unix", "ended_at")


def test_a_replayed_session_is_the_same_on_postgresql_as_on_sqlite(
    pg_url: str, replayed_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _replay(["--store", pg_url])
    on_pg = _listed(capsys, ["sessions", "list", "--json", "--store", pg_url])
    on_sqlite = _listed(capsys, ["sessions", "list", "--json", "--db", str(replayed_db)])
    assert len(on_pg) == 1 and on_pg[0]["n_beats"] == 910
    assert {k: v for k, v in on_pg[0].items() if k not in _WHEN} == {
        k: v for k, v in on_sqlite[0].items() if k not in _WHEN
    }
    with open_store(pg_url) as pg, open_store(replayed_db) as lite:
        assert pg.beats_of(1) == lite.beats_of(1)
        assert pg.metrics_of(1) == lite.metrics_of(1)
        assert pg.events_of(1) == lite.events_of(1)


def test_hrvcalm_store_env_chooses_the_server(
    pg_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HRVCALM_STORE", pg_url)
    _replay([])
    assert [s["n_beats"] for s in _listed(capsys, ["sessions", "list", "--json"])] == [910]
    # --db still names a file over the environment's server
    assert _listed(capsys, ["sessions", "list", "--json", "--db", "nowhere.db"]) == []


def test_report_reads_from_the_server(
    pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _replay(["--store", pg_url])
    out = tmp_path / "r.html"
    assert main(["report", "1", "--store", pg_url, "--out", str(out)]) == 0
    assert "910" in out.read_text()


def test_the_history_json_names_the_server_without_the_password(pg_url: str) -> None:
    with_password = pg_url.replace("postgres@", "postgres:s3cret@")  # trust auth ignores it
    _replay(["--store", with_password])
    response = history_routes(with_password)["/api/sessions"](None)  # type: ignore[arg-type]
    body = json.loads(response.body)
    assert body["db"] == pg_url and [s["n_beats"] for s in body["sessions"]] == [910]
    assert b"s3cret" not in response.body


@pytest.mark.parametrize(
    "argv",
    [
        ["sessions", "list"],
        ["sessions", "list", "--json"],
        ["sessions", "show", "1"],
        ["report", "1", "--out", "r.html"],
    ],
)
def test_an_unreachable_server_is_one_line_naming_it(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main([*argv, "--store", "postgresql://hrvcalm@127.0.0.1:1/clinic"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("hrvcalm: error: postgresql://hrvcalm@127.0.0.1:1/clinic: cannot connect")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_store_takes_only_a_url(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["sessions", "list", "--store", "sessions.db"])
    assert caught.value.code == 2
    assert "a store is a postgresql://" in capsys.readouterr().err


def test_db_and_store_are_one_or_the_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["sessions", "list", "--db", "a.db", "--store", "postgresql://h/db"])
    assert caught.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_sigkill_on_postgresql_loses_at_most_the_last_second(
    pg_url: str, tmp_path: Path, rest_rr: npt.NDArray[np.float64]
) -> None:
    """test_durability's promise on the server: a real session (``--db URL`` works too),
    SIGKILLed; the server holds exactly the first N intervals, N at least those replayed up
    to one wall-clock second before the kill; reopening marks the session interrupted."""
    jsonl = tmp_path / "out.jsonl"
    _, n_printed = _run_and_kill(pg_url, jsonl)
    printed = _beats_printed(jsonl)
    t_last_printed = float(printed[-1]["t_s"])  # type: ignore[arg-type]
    with open_store(pg_url, recover=False) as store:
        (session,) = store.list_sessions()
        stored = store.beats_of(session.id)
    assert session.ended_reason is None, "the killed session cannot have ended by itself"
    np.testing.assert_array_equal([b.rr_ms for b in stored], rest_rr[: len(stored)])
    must_have = sum(1 for b in printed if float(b["t_s"]) <= t_last_printed - SPEED * 1.0)  # type: ignore[arg-type]
    print(f"\npostgresql durability: printed {n_printed}, stored {len(stored)}, >= {must_have}")
    assert len(stored) >= max(must_have, 20)
    with open_store(pg_url) as store:
        (session,) = store.list_sessions()
    assert session.ended_reason == "interrupted"
    assert session.end_t_s == stored[-1].t_s and session.n_beats == len(stored)
