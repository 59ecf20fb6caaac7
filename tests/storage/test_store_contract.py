"""The same scenarios against the SQLite file and a real PostgreSQL server, same results.

Every test taking ``store_location`` runs twice: on a new SQLite file, then on a new database
of the throwaway server of ``conftest.pg_server`` (skipped only where PostgreSQL's binaries
are missing). Processes are real processes: a recording process that dies without ending its
session, and several processes opening a new store at the same moment.
"""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
import pytest

from hrvcalm.errors import StoreError, UsageError
from hrvcalm.storage import (
    DeviceEvent,
    MetricsSample,
    NewSession,
    Outcome,
    PacerChange,
    SessionSummary,
    StoredBeat,
    StoredRating,
    open_store,
)
from hrvcalm.storage.pg_schema import PG_MIGRATIONS, VERSION_TABLE
from hrvcalm.storage.postgres import PostgresStore
from hrvcalm.storage.schema import MIGRATIONS, SCHEMA_VERSION
from tests.storage.conftest import REPO_SRC
from tests.storage.pg_server import PgServer

#: Strap intervals are multiples of 1000/1024 ms: stored and read back bit for bit.
RR_MS = [800 * 1000 / 1024, 801 * 1000 / 1024, 1250.0, 799 * 1000 / 1024, 812.5]
BEATS = [
    StoredBeat(0.78125, RR_MS[0]),
    StoredBeat(1.5634765625, RR_MS[1], artifact=True, corrected_rr_ms=781.25),
    StoredBeat(2.8134765625, RR_MS[2], gap_before=True),
    StoredBeat(3.5937500000, RR_MS[3]),
    StoredBeat(4.40625, RR_MS[4]),
]
METRICS = [
    MetricsSample(1.0, {"rmssd_ms": 99.0, "coherence": None, "mean_hr_bpm": 70.0}),
    MetricsSample(3.0, {"rmssd_ms": 20.0, "coherence": 0.5, "mean_hr_bpm": 60.0, "n_beats": 3}),
    MetricsSample(4.0, {"rmssd_ms": 40.0, "coherence": None, "mean_hr_bpm": 62.0, "n_beats": 4}),
]
EVENTS = [
    DeviceEvent(0.0, "connected", "Polar H10 A1B2", 80, True),
    DeviceEvent(2.5, "lost", "Polar H10 A1B2"),
    DeviceEvent(2.7, "connected", "Polar H10 A1B2", 79, None),
]
PACER = [PacerChange(0.0, 6.0, 0.4), PacerChange(3.5, 5.5, 0.45)]


def _record_scenario(location: str) -> tuple[int, int]:
    """Two patients' sessions with every kind of row; returns (ana's id, me's id)."""
    with open_store(location) as store:
        ana = store.create_session(
            NewSession(1_767_250_800.0, "sim", speed=None, app_version="1.2.3", patient="ana")
        )
        store.update_session(ana, practice_start_t_s=2.0, device_name="Polar H10 A1B2")
        store.add_beats(ana, BEATS[:2])
        store.add_beats(ana, BEATS[2:])
        store.add_metrics(ana, METRICS)
        for event in EVENTS:
            store.add_event(ana, event)
        for change in PACER:
            store.add_pacer(ana, change)
        store.set_rating(ana, StoredRating("before", pain=7, stress=8, note="first"))
        store.set_rating(ana, StoredRating("before", pain=6, stress=7, note="stiff back"))
        store.set_rating(ana, StoredRating("after", pain=4, stress=None))
        store.heartbeat(ana, 1_767_250_805.0)
        store.update_session(ana, practice_s=4.5, notes="calm")
        store.commit()
        store.end_session(ana, reason="completed", end_t_s=4.40625, ended_unix=1_767_250_806.0)
        me = store.create_session(NewSession(1_767_337_200.0, "replay:rest.txt", planned_s=600))
        store.add_beats(me, [StoredBeat(1.0, 1000.0)])
        store.end_session(me, reason="stopped", end_t_s=1.0, ended_unix=1_767_337_202.0)
        store.set_outcome(Outcome("ana", 0, "rmdq", (1, 0) * 12, 12.0, 1_767_250_000.0))
        store.set_outcome(Outcome("ana", 0, "peg", (7, 6, 5), 6.0, 1_767_250_000.0))
        store.set_outcome(Outcome("ana", 0, "peg", (6, 6, 6), 6.0, 1_767_250_100.0))  # replaces
        store.set_outcome(Outcome("ana", 8, "peg", (3, 3, 3), 3.0, 1_767_850_000.0))
        store.set_setting("pacer_rate_bpm", "6.0")
        store.set_setting("pacer_rate_bpm", "5.5")
    return ana, me


def _read_back(location: str, ana: int, me: int) -> dict[str, Any]:
    with open_store(location) as store:
        return {
            "all": store.list_sessions(),
            "ana": store.list_sessions(patient="ana"),
            "nobody": store.list_sessions(patient="nobody"),
            "beats": store.beats_of(ana),
            "metrics": store.metrics_of(ana),
            "events": store.events_of(ana),
            "pacer": store.pacer_of(ana),
            "outcomes": store.outcomes_of("ana"),
            "setting": store.get_setting("pacer_rate_bpm"),
            "unset": store.get_setting("nothing"),
            "me_beats": store.beats_of(me),
        }


def test_a_recorded_scenario_reads_back_exactly(store_location: str) -> None:
    ana, me = _record_scenario(store_location)
    got = _read_back(store_location, ana, me)
    assert (ana, me) == (1, 2)
    assert [s.id for s in got["all"]] == [ana, me]
    assert [s.id for s in got["ana"]] == [ana] and got["nobody"] == []
    assert got["beats"] == BEATS  # floats bit for bit, flags, corrected intervals
    assert got["metrics"] == METRICS  # None kept, extra keys kept
    assert [list(m.values) for m in got["metrics"]] == [list(m.values) for m in METRICS]
    assert got["events"] == EVENTS and got["pacer"] == PACER
    assert got["me_beats"] == [StoredBeat(1.0, 1000.0)]
    assert [(o.instrument, o.week, o.items) for o in got["outcomes"]] == [
        ("peg", 0, (6, 6, 6)),
        ("peg", 8, (3, 3, 3)),
        ("rmdq", 0, (1, 0) * 12),
    ]
    assert got["outcomes"][0].taken_unix == 1_767_250_100.0
    assert (got["setting"], got["unset"]) == ("5.5", None)
    first: SessionSummary = got["all"][0]
    assert first == SessionSummary(
        id=ana,
        started_unix=1_767_250_800.0,
        source="sim",
        device_name="Polar H10 A1B2",
        practice="paced_breathing",
        planned_s=None,
        practice_start_t_s=2.0,
        practice_s=4.5,
        end_t_s=4.40625,
        ended_unix=1_767_250_806.0,
        ended_reason="completed",
        n_beats=5,
        n_artifacts=1,
        mean_rmssd_ms=30.0,  # the metrics from the practice's start on: 20 and 40
        mean_coherence=0.5,  # nulls left out of the mean
        mean_hr_bpm=61.0,
        ratings={
            "before": StoredRating("before", 6, 7, "stiff back"),
            "after": StoredRating("after", 4, None, None),
        },
        notes="calm",
        speed=None,
        app_version="1.2.3",
        patient="ana",
    )
    second: SessionSummary = got["all"][1]
    assert (second.patient, second.planned_s, second.speed, second.ended_reason) == (
        "me",
        600.0,
        1.0,
        "stopped",
    )


def test_both_engines_give_the_same_results(pg_url: str, tmp_path: Path) -> None:
    sqlite = str(tmp_path / "s.db")
    ids = _record_scenario(sqlite)
    assert _record_scenario(pg_url) == ids
    assert _read_back(pg_url, *ids) == _read_back(sqlite, *ids)


def test_missing_session_and_delete(store_location: str) -> None:
    ana, me = _record_scenario(store_location)
    with open_store(store_location) as store:
        with pytest.raises(UsageError, match="no session 99"):
            store.get_session(99)
        store.delete_session(ana)
        assert [s.id for s in store.list_sessions()] == [me]
        assert store.beats_of(ana) == [] and store.metrics_of(ana) == []
        assert store.events_of(ana) == [] and store.pacer_of(ana) == []
        with pytest.raises(ValueError, match="ended_reason"):
            store.end_session(me, reason="exploded", end_t_s=None, ended_unix=0.0)


def test_rollback_abandons_writes_and_beats_continue_in_order(store_location: str) -> None:
    with open_store(store_location) as store:
        sid = store.create_session(NewSession(1000.0, "sim"))
        store.add_beats(sid, BEATS[:2])
        store.commit()
        store.add_beats(sid, BEATS[2:4])
        store.update_session(sid, notes="lost")
        store.rollback()
        store.add_beats(sid, BEATS[2:])
        store.commit()
    with open_store(store_location) as store:
        assert store.beats_of(sid) == BEATS
        assert store.get_session(sid).notes is None
        store.add_beats(sid, [StoredBeat(5.0, 600.0)])  # a new process appends after them
        store.commit()
        assert store.beats_of(sid)[-1] == StoredBeat(5.0, 600.0)
        assert len(store.beats_of(sid)) == 6


def test_commits_are_visible_to_other_connections_at_once(store_location: str) -> None:
    writer = open_store(store_location)
    try:
        sid = writer.create_session(NewSession(1000.0, "sim"))
        with open_store(store_location, recover=False) as reader:
            assert [s.id for s in reader.list_sessions()] == [sid]  # created = committed
            writer.add_beats(sid, BEATS)
            assert reader.beats_of(sid) == []  # not committed yet
            writer.commit()
            assert reader.beats_of(sid) == BEATS
    finally:
        writer.close()


_DYING_WRITER = """
import os, sys
from hrvcalm.storage import NewSession, StoredBeat, StoredRating, open_store
store = open_store(sys.argv[1])
beats = store.create_session(NewSession(1000.0, "sim"))
store.add_beats(beats, [StoredBeat(0.8, 800.0), StoredBeat(1.7, 900.0)])
store.heartbeat(beats, 1005.0)
empty = store.create_session(NewSession(1010.0, "sim"))
rated = store.create_session(NewSession(1020.0, "sim"))
store.set_rating(rated, StoredRating("before", pain=3))
store.commit()
os._exit(0)  # gone without ending its sessions, as after a SIGKILL
"""


def test_sessions_of_a_dead_process_are_recovered(store_location: str) -> None:
    before_unix = time.time()
    subprocess.run(
        [sys.executable, "-c", _DYING_WRITER, store_location],
        check=True,
        env={"PYTHONPATH": str(REPO_SRC), "PATH": "/usr/bin:/bin"},
    )
    with open_store(store_location, recover=False) as store:
        assert [s.ended_reason for s in store.list_sessions()] == [None, None, None]
    with open_store(store_location) as store:
        beats, rated = store.list_sessions()  # the empty one is removed
        assert (beats.id, beats.ended_reason, beats.end_t_s) == (1, "interrupted", 1.7)
        assert beats.ended_unix == 1005.0  # its last heartbeat
        assert (rated.id, rated.ended_reason, rated.end_t_s) == (3, "interrupted", None)
        # never beat: its heartbeat at creation (the writer's wall clock)
        assert rated.ended_unix is not None and before_unix <= rated.ended_unix <= time.time()


def test_a_live_writer_is_left_alone(store_location: str) -> None:
    with open_store(store_location) as writer:
        sid = writer.create_session(NewSession(1000.0, "sim"))
        writer.add_beats(sid, BEATS)
        writer.commit()
        with open_store(store_location) as other:  # recovers, but this process is alive
            assert other.get_session(sid).ended_reason is None


def _open_at_once(location: str, barrier: Any, results: Any) -> None:
    barrier.wait()
    try:
        with open_store(location) as store:
            store.set_setting("opened", "yes")
        results.put("ok")
    except Exception as exc:  # reported to the test, which shows it
        results.put(f"{type(exc).__name__}: {exc}")


N_PROCESSES = 4


def test_processes_opening_a_new_store_at_once_all_succeed(store_location: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(N_PROCESSES), ctx.Queue()
    procs = [
        ctx.Process(target=_open_at_once, args=(store_location, barrier, results))
        for _ in range(N_PROCESSES)
    ]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert outcomes == ["ok"] * N_PROCESSES
    with open_store(store_location) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.get_setting("opened") == "yes"


# -- PostgreSQL only ------------------------------------------------------------------------


def test_each_sqlite_migration_has_its_postgresql_step() -> None:
    assert len(PG_MIGRATIONS) == len(MIGRATIONS) == SCHEMA_VERSION


def test_a_newer_postgresql_schema_is_refused(pg_url: str) -> None:
    PostgresStore(pg_url).close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"UPDATE {VERSION_TABLE} SET version = 99".encode())
    with pytest.raises(StoreError, match=r"newer hrvcalm \(schema 99"):
        PostgresStore(pg_url)


def test_a_resent_beat_is_stored_once(pg_url: str) -> None:
    """The commit reached the server but its answer was lost: the beats written again after
    the rollback take the same indices and are stored once."""
    with PostgresStore(pg_url) as store:
        sid = store.create_session(NewSession(1000.0, "sim"))
        store.add_beats(sid, BEATS[:2])
        store.commit()
        store.add_beats(sid, BEATS[2:])
        store._conn.execute("COMMIT")  # the server commits ... and the answer is lost:
        store.rollback()  # what the recorder does after a failed commit
        store.add_beats(sid, BEATS[2:])  # the recorder writes its buffer again
        store.commit()
        assert store.beats_of(sid) == BEATS


def test_a_dropped_connection_fails_one_flush_then_reconnects(
    pg_url: str, pg_server: PgServer
) -> None:
    with PostgresStore(pg_url) as store:
        sid = store.create_session(NewSession(1000.0, "sim"))
        store.add_beats(sid, BEATS[:2])
        store.commit()
        with psycopg.connect(pg_server.url(), autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'hrvcalm'"
            )
        with pytest.raises(StoreError, match="cannot save to the session database"):
            store.add_beats(sid, BEATS[2:])
            store.commit()
        store.rollback()
        store.add_beats(sid, BEATS[2:])
        store.commit()
        assert store.beats_of(sid) == BEATS


def test_the_url_is_shown_without_its_password(pg_server: PgServer) -> None:
    url = f"postgresql://postgres:s3cret@127.0.0.1:{pg_server.port}/no_such_db"
    with pytest.raises(StoreError) as caught:
        open_store(url)
    message = str(caught.value)
    assert "s3cret" not in message and "\n" not in message
    assert message.startswith(f"postgresql://postgres@127.0.0.1:{pg_server.port}/no_such_db:")


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("postgresql://127.0.0.1:1/hrvcalm", "127.0.0.1:1"),
        ("postgres://nobody@127.0.0.1:1/hrvcalm", "127.0.0.1:1"),
        ("postgresql://127.0.0.1:notaport/hrvcalm", 'invalid integer value "notaport"'),
        ("postgresql://db.clinic:5433/x?bogus=1", "db.clinic:5433/x?bogus=1: not a valid"),
        ("postgresql://u:s3cret@db.clinic/x?bogus=1", "//u@db.clinic/x: not a valid"),
        ("postgresql://u:s3cret@[::1/x", "postgresql://...: not a valid PostgreSQL URL"),
    ],
)
def test_an_unreachable_or_bad_url_is_one_line(url: str, named: str) -> None:
    with pytest.raises(StoreError) as caught:
        open_store(url)
    message = str(caught.value)
    assert named in message and "\n" not in message and "s3cret" not in message


def test_summary_types_match_sqlite(store_location: str) -> None:
    """Counts are ints, times floats, flags bools, whatever the engine's column types."""
    ana, _ = _record_scenario(store_location)
    with open_store(store_location) as store:
        s = store.get_session(ana)
        beats = store.beats_of(ana)
    assert type(s.n_beats) is int and type(s.id) is int and type(s.started_unix) is float
    assert [type(b.artifact) for b in beats] == [bool] * len(BEATS)
    assert replace(s, ratings={}).ratings == {}
