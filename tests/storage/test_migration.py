"""An older database file (schema 1, written here by hand in SQL) opens and migrates."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hrvcalm.storage import SqliteStore, StoreError
from hrvcalm.storage.schema import SCHEMA_VERSION

# The schema as hrvcalm's first store wrote it (version 1), copied here on purpose: the test
# must not follow later edits of the migration code.
SCHEMA_1 = """
CREATE TABLE sessions (id INTEGER PRIMARY KEY, started_unix REAL NOT NULL, source TEXT NOT NULL,
  speed REAL, app_version TEXT NOT NULL DEFAULT '', device_name TEXT,
  practice TEXT NOT NULL DEFAULT 'paced_breathing', planned_s REAL, practice_start_t_s REAL,
  practice_s REAL, end_t_s REAL, ended_unix REAL);
CREATE TABLE beats (session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  idx INTEGER NOT NULL, t_s REAL NOT NULL, rr_ms REAL NOT NULL,
  artifact INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (session_id, idx)) WITHOUT ROWID;
CREATE TABLE metrics (session_id INTEGER NOT NULL, t_s REAL NOT NULL, data TEXT NOT NULL);
CREATE INDEX metrics_session ON metrics(session_id, t_s);
CREATE TABLE device_events (session_id INTEGER NOT NULL, t_s REAL NOT NULL, state TEXT NOT NULL,
  name TEXT, battery_pct INTEGER, contact INTEGER);
CREATE INDEX device_events_session ON device_events(session_id, t_s);
CREATE TABLE pacer_changes (session_id INTEGER NOT NULL, t_s REAL NOT NULL,
  rate_bpm REAL NOT NULL, inhale_ratio REAL NOT NULL);
CREATE TABLE ratings (session_id INTEGER NOT NULL, "when" TEXT NOT NULL, pain INTEGER,
  stress INTEGER, note TEXT, PRIMARY KEY (session_id, "when"));
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO sessions VALUES (1, 1767250800.0, 'replay:old.txt', 1.0, '0.0.9', 'Polar H10',
  'body_scan', 600.0, 2.0, 600.0, 605.0, 1767251405.0);
INSERT INTO sessions (id, started_unix, source) VALUES (2, 1767337200.0, 'sim');
INSERT INTO beats VALUES (1, 0, 0.9765625, 976.5625, 0), (1, 1, 1.9521484375, 975.5859375, 1);
INSERT INTO beats VALUES (2, 0, 1.0, 1000.0, 0), (2, 1, 2.25, 1250.0, 0);
INSERT INTO metrics VALUES (1, 1.5, '{"rmssd_ms": 99.0}'),
  (1, 2.5, '{"rmssd_ms": 42.5, "coherence": null}');
INSERT INTO ratings VALUES (1, 'before', 6, 7, 'stiff back'), (1, 'after', 4, 3, NULL);
INSERT INTO device_events VALUES (1, 0.0, 'connected', 'Polar H10', 80, 1);
PRAGMA user_version = 1;
"""


def _old_file(path: Path) -> None:
    raw = sqlite3.connect(path)
    raw.executescript(SCHEMA_1)
    raw.commit()
    raw.close()


def test_schema_1_file_migrates_and_keeps_its_data(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    _old_file(db)
    with SqliteStore(db) as store:
        assert store.schema_version == SCHEMA_VERSION == 4
        first, second = store.list_sessions()
        assert (first.id, first.practice, first.ended_reason) == (1, "body_scan", "stopped")
        assert first.ratings["before"].pain == 6 and first.ratings["before"].note == "stiff back"
        assert first.ratings["after"].stress == 3
        assert first.mean_rmssd_ms == 42.5
        beats = store.beats_of(1)
        assert [b.rr_ms for b in beats] == [976.5625, 975.5859375]
        assert [b.artifact for b in beats] == [False, True]
        assert [b.gap_before for b in beats] == [False, False]  # new column, default
        assert [b.corrected_rr_ms for b in beats] == [None, None]
        assert store.events_of(1)[0].battery_pct == 80
        # Session 2 was never ended (an old crash): marked interrupted at its last beat.
        assert second.ended_reason == "interrupted"
        assert second.end_t_s == 2.25
        # New writes use the new columns.
        store.add_beats(2, [])
    with sqlite3.connect(db) as raw:
        columns = {r[1] for r in raw.execute("PRAGMA table_info(beats)")}
        assert {"gap_before", "corrected_rr_ms"} <= columns
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    raw.close()


def test_reopening_a_current_file_changes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    _old_file(db)
    SqliteStore(db).close()
    with SqliteStore(db) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert len(store.list_sessions()) == 2


def test_a_file_from_a_newer_hrvcalm_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    raw = sqlite3.connect(db)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    with pytest.raises(StoreError, match=rf"newer hrvcalm \(schema {SCHEMA_VERSION + 1}"):
        SqliteStore(db)


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.db"
    bogus.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(StoreError, match="not an hrvcalm session database"):
        SqliteStore(bogus)
