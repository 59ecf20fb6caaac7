"""The SQLite schema and its migrations.

The file's version is ``PRAGMA user_version``: 0 for a new file, then the number of the last
migration applied. :data:`MIGRATIONS` is ordered; opening a file applies the steps above its
version, each in one transaction with the version bump, so a crash mid-migration leaves the
file at the previous version. Never edit a released step: add a new one.

Version history:

1. Sessions, beats (time, RR, artifact), metrics timeline (JSON per row), device events,
   pacer changes, ratings, settings.
2. Beats gain ``gap_before`` and ``corrected_rr_ms``; sessions gain ``ended_reason``, the
   recording process's ``writer_pid``/``writer_host`` and a ``heartbeat_unix`` (for crash
   recovery), and ``notes``.
3. Sessions gain ``patient`` (who practised: a clinic's relays name their patient; a home
   install has one patient, ``DEFAULT_PATIENT``), indexed with the start time.
4. Outcomes: a patient's questionnaires (PEG, Roland-Morris) by course week, with the items
   as given and the score.
"""

from __future__ import annotations

MIGRATION_1 = """
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    started_unix REAL NOT NULL,
    source TEXT NOT NULL,
    speed REAL,
    app_version TEXT NOT NULL DEFAULT '',
    device_name TEXT,
    practice TEXT NOT NULL DEFAULT 'paced_breathing',
    planned_s REAL,
    practice_start_t_s REAL,
    practice_s REAL,
    end_t_s REAL,
    ended_unix REAL
);
CREATE TABLE beats (
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    t_s REAL NOT NULL,
    rr_ms REAL NOT NULL,
    artifact INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (session_id, idx)
) WITHOUT ROWID;
CREATE TABLE metrics (
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    t_s REAL NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX metrics_session ON metrics(session_id, t_s);
CREATE TABLE device_events (
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    t_s REAL NOT NULL,
    state TEXT NOT NULL,
    name TEXT,
    battery_pct INTEGER,
    contact INTEGER
);
CREATE INDEX device_events_session ON device_events(session_id, t_s);
CREATE TABLE pacer_changes (
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    t_s REAL NOT NULL,
    rate_bpm REAL NOT NULL,
    inhale_ratio REAL NOT NULL
);
CREATE TABLE ratings (
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    "when" TEXT NOT NULL CHECK ("when" IN ('before', 'after')),
    pain INTEGER CHECK (pain BETWEEN 0 AND 10),
    stress INTEGER CHECK (stress BETWEEN 0 AND 10),
    note TEXT,
    PRIMARY KEY (session_id, "when")
);
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

MIGRATION_2 = """
ALTER TABLE beats ADD COLUMN gap_before INTEGER NOT NULL DEFAULT 0;
ALTER TABLE beats ADD COLUMN corrected_rr_ms REAL;
ALTER TABLE sessions ADD COLUMN ended_reason TEXT;
ALTER TABLE sessions ADD COLUMN writer_pid INTEGER;
ALTER TABLE sessions ADD COLUMN writer_host TEXT;
ALTER TABLE sessions ADD COLUMN heartbeat_unix REAL;
ALTER TABLE sessions ADD COLUMN notes TEXT;
UPDATE sessions SET ended_reason = 'stopped' WHERE ended_unix IS NOT NULL;
"""

MIGRATION_3 = """
ALTER TABLE sessions ADD COLUMN patient TEXT NOT NULL DEFAULT 'me';
CREATE INDEX sessions_patient ON sessions(patient, started_unix);
"""

MIGRATION_4 = """
CREATE TABLE outcomes (
    patient TEXT NOT NULL,
    week INTEGER NOT NULL CHECK (week >= 0),
    instrument TEXT NOT NULL CHECK (instrument IN ('peg', 'rmdq')),
    taken_unix REAL NOT NULL,
    items TEXT NOT NULL,
    score REAL NOT NULL,
    PRIMARY KEY (patient, week, instrument)
);
"""

#: Ordered migration steps: ``MIGRATIONS[i]`` takes a file from version ``i`` to ``i + 1``.
MIGRATIONS: tuple[str, ...] = (MIGRATION_1, MIGRATION_2, MIGRATION_3, MIGRATION_4)

#: The version this code writes.
SCHEMA_VERSION = len(MIGRATIONS)
