"""The SQLite session store: one file, WAL journal, schema migrations, crash recovery.

Durability: the file runs in WAL mode with ``synchronous=FULL``, so a :meth:`commit` is on
disk when it returns and survives a SIGKILL of the process (and a power cut). The recorder
commits at least once a second, so a killed session loses at most its last second of beats.

Crash recovery: opening the file marks every session that has no end and whose recording
process is gone (:func:`_writer_gone`) as ended, ``ended_reason='interrupted'``, its end at
its last beat; such a session with neither beats nor ratings holds nothing and is removed.
A session still being recorded by a live process on this machine is left alone, so the
history page and ``hrvcalm sessions`` can read the file while a session runs.
"""

from __future__ import annotations

import json
import logging
import math
import os
import socket
import sqlite3
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from hrvcalm.errors import StoreError, UsageError
from hrvcalm.storage.base import (
    ENDED_REASONS,
    DeviceEvent,
    MetricsSample,
    NewSession,
    Outcome,
    PacerChange,
    SessionSummary,
    StoredBeat,
    StoredRating,
)
from hrvcalm.storage.files import private_database_file
from hrvcalm.storage.schema import MIGRATIONS, SCHEMA_VERSION

log = logging.getLogger(__name__)

#: A running session whose process is alive but silent this long is taken as interrupted, s.
STALE_HEARTBEAT_S = 3600.0
#: How long a write waits for another process's transaction, ms.
BUSY_TIMEOUT_MS = 5000


def _split(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _writer_gone(pid: int | None, host: str | None, heartbeat: float | None, now: float) -> bool:
    """Whether the process that recorded a still-open session is gone.

    Gone: no recorded process (an older file), a process on this machine that no longer
    exists, or no heartbeat for :data:`STALE_HEARTBEAT_S` (a reused pid, another machine).
    """
    if pid is None:
        return True
    stale = heartbeat is None or now - heartbeat > STALE_HEARTBEAT_S
    if host != socket.gethostname():
        return stale
    return stale or not _pid_alive(pid)


class SqliteStore:
    """A :class:`~hrvcalm.storage.base.SessionStore` in one SQLite file.

    Args:
        path: The database file (created with its folders if missing); ``":memory:"`` for a
            throwaway store.
        recover: Mark sessions whose recording process is gone as interrupted.

    Raises:
        StoreError: The file is not a database, is from a newer hrvcalm, or cannot be opened.
    """

    def __init__(self, path: str | Path, *, recover: bool = True) -> None:
        self.path = Path(path)
        memory = str(path) == ":memory:"
        try:
            if not memory:
                private_database_file(self.path)  # 0600 (and its -wal, -shm), folder 0700
            self._db = sqlite3.connect(
                str(path), isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000.0
            )
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"{path}: cannot open the session database: {exc}") from None
        self._next_idx: dict[int, int] = {}
        try:
            self._db.execute("PRAGMA foreign_keys = ON")
            if not memory:
                self._use_wal()
            self._db.execute("PRAGMA synchronous = FULL")
            self._migrate()
            if recover:
                self.recover_interrupted()
        except sqlite3.OperationalError as exc:  # locked, read-only, disk full ...
            self._db.close()
            raise StoreError(f"{path}: cannot use the session database: {exc}") from None
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise StoreError(f"{path}: not an hrvcalm session database ({exc})") from None

    def _use_wal(self) -> None:
        """Switch the file to WAL. On a new file that other processes open at the same time
        SQLite answers "database is locked" at once, without waiting: try again meanwhile."""
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000.0
        while True:
            try:
                self._db.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.005)

    # -- schema ---------------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        """``PRAGMA user_version`` of the file."""
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _check_version(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: written by a newer hrvcalm (schema {version}, this one reads "
                f"up to {SCHEMA_VERSION}); upgrade hrvcalm"
            )

    def _migrate(self) -> None:
        """Apply the migration steps above the file's version.

        The version is read again inside the write lock (``BEGIN IMMEDIATE``): two processes
        opening one new file at once would otherwise both see version 0 and the second would
        fail on "table sessions already exists".
        """
        version = self.schema_version
        self._check_version(version)
        if version == SCHEMA_VERSION:
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            version = self.schema_version  # another process may have migrated meanwhile
            self._check_version(version)
            for step in range(version, SCHEMA_VERSION):
                for statement in _split(MIGRATIONS[step]):
                    self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {step + 1}")
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def recover_interrupted(self, now_unix: float | None = None) -> list[int]:
        """Mark sessions cut off by a crash as ended (removing empty ones); returns their ids."""
        now = time.time() if now_unix is None else now_unix
        rows = self._db.execute(
            "SELECT id, writer_pid, writer_host, heartbeat_unix, started_unix FROM sessions "
            "WHERE ended_unix IS NULL"
        ).fetchall()
        recovered = []
        for session_id, pid, host, heartbeat, started in rows:
            if not _writer_gone(pid, host, heartbeat, now):
                continue
            last = self._db.execute(
                "SELECT MAX(t_s) FROM beats WHERE session_id = ?", (session_id,)
            ).fetchone()[0]
            rated = self._db.execute(
                "SELECT COUNT(*) FROM ratings WHERE session_id = ?", (session_id,)
            ).fetchone()[0]
            recovered.append(session_id)
            if last is None and not rated:
                self.delete_session(session_id)
                continue
            self._write(
                "UPDATE sessions SET ended_reason = 'interrupted', end_t_s = ?, ended_unix = ? "
                "WHERE id = ?",
                (last, heartbeat if heartbeat is not None else started, session_id),
            )
        self.commit()
        return recovered

    # -- writing --------------------------------------------------------------------------

    def _failed(self, exc: sqlite3.Error) -> StoreError:
        return StoreError(f"{self.path}: cannot save to the session database: {exc}")

    def _write(self, sql: str, params: Sequence[Any] = ()) -> None:
        try:
            if not self._db.in_transaction:
                self._db.execute("BEGIN")
            self._db.execute(sql, params)
        except sqlite3.Error as exc:  # disk full, read-only file, I/O error ...
            raise self._failed(exc) from None

    def _write_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        try:
            if not self._db.in_transaction:
                self._db.execute("BEGIN")
            self._db.executemany(sql, rows)
        except sqlite3.Error as exc:
            raise self._failed(exc) from None

    def commit(self) -> None:
        """Make every write so far durable.

        Raises:
            StoreError: The write failed (disk full, read-only file); call :meth:`rollback`
                and try again later.
        """
        try:
            if self._db.in_transaction:
                self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise self._failed(exc) from None

    def rollback(self) -> None:
        """Abandon the writes since the last commit (after a failed write)."""
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")
        self._next_idx.clear()  # recount from the file on the next add_beats

    def create_session(self, new: NewSession) -> int:
        """Store a new running session (committed at once); returns its id."""
        speed = None if new.speed is None or math.isinf(new.speed) else new.speed
        self._write(
            "INSERT INTO sessions (started_unix, source, speed, app_version, device_name, "
            "practice, planned_s, writer_pid, writer_host, heartbeat_unix, patient) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                new.started_unix,
                new.source,
                speed,
                new.app_version,
                new.device_name,
                new.practice,
                new.planned_s,
                os.getpid(),
                socket.gethostname(),
                time.time(),
                new.patient,
            ),
        )
        session_id = int(self._db.execute("SELECT last_insert_rowid()").fetchone()[0])
        self.commit()
        self._next_idx[session_id] = 0
        return session_id

    def update_session(
        self,
        session_id: int,
        *,
        practice: str | None = None,
        planned_s: float | None = None,
        practice_start_t_s: float | None = None,
        practice_s: float | None = None,
        device_name: str | None = None,
        notes: str | None = None,
    ) -> None:
        """Change the session's fields that are given (``None`` leaves a field as it is)."""
        fields = {
            "practice": practice,
            "planned_s": planned_s,
            "practice_start_t_s": practice_start_t_s,
            "practice_s": practice_s,
            "device_name": device_name,
            "notes": notes,
        }
        given = {k: v for k, v in fields.items() if v is not None}
        if not given:
            return
        assignments = ", ".join(f"{k} = ?" for k in given)
        self._write(
            f"UPDATE sessions SET {assignments} WHERE id = ?", (*given.values(), session_id)
        )

    def heartbeat(self, session_id: int, now_unix: float) -> None:
        """Note that the recording process is alive (with the next commit)."""
        self._write("UPDATE sessions SET heartbeat_unix = ? WHERE id = ?", (now_unix, session_id))

    def add_beats(self, session_id: int, beats: Sequence[StoredBeat]) -> None:
        """Append beats, in time order."""
        if not beats:
            return
        start = self._next_idx.get(session_id)
        if start is None:
            last = self._db.execute(
                "SELECT MAX(idx) FROM beats WHERE session_id = ?", (session_id,)
            ).fetchone()[0]
            start = 0 if last is None else int(last) + 1
        self._write_many(
            "INSERT INTO beats (session_id, idx, t_s, rr_ms, artifact, gap_before, "
            "corrected_rr_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                (
                    session_id,
                    start + i,
                    b.t_s,
                    float(b.rr_ms),
                    int(b.artifact),
                    int(b.gap_before),
                    b.corrected_rr_ms,
                )
                for i, b in enumerate(beats)
            ),
        )
        self._next_idx[session_id] = start + len(beats)

    def add_metrics(self, session_id: int, samples: Sequence[MetricsSample]) -> None:
        """Append points of the metrics timeline (the values as JSON)."""
        self._write_many(
            "INSERT INTO metrics (session_id, t_s, data) VALUES (?, ?, ?)",
            ((session_id, s.t_s, json.dumps(s.values, allow_nan=False)) for s in samples),
        )

    def add_event(self, session_id: int, event: DeviceEvent) -> None:
        """Append a device event."""
        contact = None if event.contact is None else int(event.contact)
        self._write(
            "INSERT INTO device_events (session_id, t_s, state, name, battery_pct, contact) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (session_id, event.t_s, event.state, event.name, event.battery_pct, contact),
        )

    def add_pacer(self, session_id: int, change: PacerChange) -> None:
        """Append a change of the pacer settings."""
        self._write(
            "INSERT INTO pacer_changes (session_id, t_s, rate_bpm, inhale_ratio) "
            "VALUES (?, ?, ?, ?)",
            (session_id, change.t_s, change.rate_bpm, change.inhale_ratio),
        )

    def set_rating(self, session_id: int, rating: StoredRating) -> None:
        """Store a rating (replacing an earlier one given at the same ``when``)."""
        self._write(
            'INSERT OR REPLACE INTO ratings (session_id, "when", pain, stress, note) '
            "VALUES (?, ?, ?, ?, ?)",
            (session_id, rating.when, rating.pain, rating.stress, rating.note),
        )

    def end_session(
        self, session_id: int, *, reason: str, end_t_s: float | None, ended_unix: float
    ) -> None:
        """Mark the session ended (and commit)."""
        if reason not in ENDED_REASONS:
            raise ValueError(f"ended_reason must be one of {ENDED_REASONS}, got {reason!r}")
        self._write(
            "UPDATE sessions SET ended_reason = ?, end_t_s = ?, ended_unix = ? WHERE id = ?",
            (reason, end_t_s, ended_unix, session_id),
        )
        self.commit()

    def delete_session(self, session_id: int) -> None:
        """Remove a session and everything recorded in it (and commit)."""
        for table in ("beats", "metrics", "device_events", "pacer_changes", "ratings"):
            self._write(f"DELETE FROM {table} WHERE session_id = ?", (session_id,))
        self._write("DELETE FROM sessions WHERE id = ?", (session_id,))
        self.commit()

    def set_outcome(self, outcome: Outcome) -> None:
        """Store a questionnaire (replacing the same patient's, week's and instrument's;
        committed at once)."""
        self._write(
            "INSERT OR REPLACE INTO outcomes (patient, week, instrument, taken_unix, items, "
            "score) VALUES (?, ?, ?, ?, ?, ?)",
            (
                outcome.patient,
                outcome.week,
                outcome.instrument,
                outcome.taken_unix,
                json.dumps(list(outcome.items)),
                outcome.score,
            ),
        )
        self.commit()

    def outcomes_of(self, patient: str) -> list[Outcome]:
        """A patient's questionnaires by instrument and week."""
        rows = self._db.execute(
            "SELECT patient, week, instrument, items, score, taken_unix FROM outcomes "
            "WHERE patient = ? ORDER BY instrument, week",
            (patient,),
        ).fetchall()
        return [
            Outcome(r[0], int(r[1]), r[2], tuple(int(v) for v in json.loads(r[3])), r[4], r[5])
            for r in rows
        ]

    def get_setting(self, key: str) -> str | None:
        """A stored preference, or ``None``."""
        row = self._db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_setting(self, key: str, value: str) -> None:
        """Store a preference (committed at once)."""
        self._write("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", (key, value))
        self.commit()

    def close(self) -> None:
        """Commit and release the file."""
        self.commit()
        self._db.close()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading --------------------------------------------------------------------------

    _SUMMARY_SQL = """
        SELECT s.id, s.started_unix, s.source, s.device_name, s.practice, s.planned_s,
               s.practice_start_t_s, s.practice_s, s.end_t_s, s.ended_unix, s.ended_reason,
               (SELECT COUNT(*) FROM beats b WHERE b.session_id = s.id),
               (SELECT COUNT(*) FROM beats b WHERE b.session_id = s.id AND b.artifact),
               (SELECT AVG(CASE WHEN json_valid(m.data) THEN json_extract(m.data,
                 '$.rmssd_ms') END) FROM metrics m
                 WHERE m.session_id = s.id AND m.t_s >= COALESCE(s.practice_start_t_s, 0)),
               (SELECT AVG(CASE WHEN json_valid(m.data) THEN json_extract(m.data,
                 '$.coherence') END) FROM metrics m
                 WHERE m.session_id = s.id AND m.t_s >= COALESCE(s.practice_start_t_s, 0)),
               (SELECT AVG(CASE WHEN json_valid(m.data) THEN json_extract(m.data,
                 '$.mean_hr_bpm') END) FROM metrics m
                 WHERE m.session_id = s.id AND m.t_s >= COALESCE(s.practice_start_t_s, 0)),
               s.notes, s.speed, s.app_version, s.patient
        FROM sessions s
    """

    def _ratings(self, session_ids: Sequence[int]) -> dict[int, dict[str, StoredRating]]:
        out: dict[int, dict[str, StoredRating]] = {i: {} for i in session_ids}
        rows = self._db.execute(
            'SELECT session_id, "when", pain, stress, note FROM ratings ORDER BY session_id'
        ).fetchall()
        for session_id, when, pain, stress, note in rows:
            if session_id in out:
                out[session_id][when] = StoredRating(when, pain, stress, note)
        return out

    def _summaries(self, where: str, params: Sequence[Any]) -> list[SessionSummary]:
        rows = self._db.execute(
            f"{self._SUMMARY_SQL} {where} ORDER BY s.started_unix, s.id", params
        ).fetchall()
        ratings = self._ratings([int(r[0]) for r in rows])
        return [SessionSummary.from_row(r, ratings[int(r[0])]) for r in rows]

    def list_sessions(self, patient: str | None = None) -> list[SessionSummary]:
        """Every session (of ``patient`` only, when given), oldest first."""
        if patient is not None:
            return self._summaries("WHERE s.patient = ?", (patient,))
        return self._summaries("", ())

    def get_session(self, session_id: int) -> SessionSummary:
        """One session (raises :class:`UsageError` naming the file if there is none)."""
        found = self._summaries("WHERE s.id = ?", (session_id,))
        if not found:
            raise UsageError(f"{self.path}: no session {session_id} (see 'hrvcalm sessions list')")
        return found[0]

    def beats_of(self, session_id: int) -> list[StoredBeat]:
        """The session's beats in order."""
        rows = self._db.execute(
            "SELECT t_s, rr_ms, artifact, gap_before, corrected_rr_ms FROM beats "
            "WHERE session_id = ? ORDER BY idx",
            (session_id,),
        ).fetchall()
        return [StoredBeat(r[0], r[1], bool(r[2]), bool(r[3]), r[4]) for r in rows]

    def metrics_of(self, session_id: int) -> list[MetricsSample]:
        """The session's metrics timeline in order."""
        rows = self._db.execute(
            "SELECT t_s, data FROM metrics WHERE session_id = ? ORDER BY t_s, rowid",
            (session_id,),
        ).fetchall()
        out = []
        for t_s, data in rows:
            try:
                values = json.loads(data)
                if not isinstance(values, dict):
                    raise ValueError("not a JSON object")
                out.append(MetricsSample(float(t_s), values))
            except (ValueError, TypeError) as exc:
                log.warning(
                    "%s: session %d: a damaged metrics row at %s s is skipped (%s)",
                    self.path,
                    session_id,
                    t_s,
                    exc,
                )
        return out

    def events_of(self, session_id: int) -> list[DeviceEvent]:
        """The session's device events in order."""
        rows = self._db.execute(
            "SELECT t_s, state, name, battery_pct, contact FROM device_events "
            "WHERE session_id = ? ORDER BY t_s, rowid",
            (session_id,),
        ).fetchall()
        return [
            DeviceEvent(r[0], r[1], r[2], r[3], None if r[4] is None else bool(r[4])) for r in rows
        ]

    def pacer_of(self, session_id: int) -> list[PacerChange]:
        """The session's pacer settings over time."""
        rows = self._db.execute(
            "SELECT t_s, rate_bpm, inhale_ratio FROM pacer_changes WHERE session_id = ? "
            "ORDER BY t_s, rowid",
            (session_id,),
        ).fetchall()
        return [PacerChange(r[0], r[1], r[2]) for r in rows]
