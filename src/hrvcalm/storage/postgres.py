"""The PostgreSQL session store: a clinic's sessions on a database server.

The same tables, columns and semantics as :class:`~hrvcalm.storage.sqlite.SqliteStore`
(see :mod:`~hrvcalm.storage.pg_schema`), through psycopg 3 with explicit transactions: the
connection runs in autocommit mode for reads, and the first write after a :meth:`commit`
opens a transaction that the next :meth:`commit` ends, exactly as the SQLite store does.

Migrations: the version is a row in ``hrvcalm_schema``; opening a database applies the
missing steps in one transaction holding ``pg_advisory_xact_lock``, so two processes opening
a new database at once never race (the second waits, then finds the schema current).

Durability: every connection sets ``synchronous_commit = on``, so a :meth:`commit` has
reached the server's write-ahead log on disk when it returns; the recorder commits at least
once a second, so a killed process loses at most its last second of beats.

Resent beats: a beat is keyed by ``(session_id, idx)`` and written with ``ON CONFLICT DO
NOTHING``. After a failed commit, :meth:`rollback` rewinds the next index to the last
*committed* one, so when a commit did reach the server but its answer was lost (a dropped
connection), the beats written again take the same indices and are stored once.

Crash recovery: as in the SQLite store (a session whose recording process is gone is
marked ``interrupted``); on a server shared by several machines, a session recorded on
another machine counts as gone only once its heartbeat is stale.
"""

from __future__ import annotations

import json
import math
import os
import socket
import time
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import conninfo
from psycopg.pq import TransactionStatus

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
from hrvcalm.storage.paths import store_label
from hrvcalm.storage.pg_schema import MIGRATION_LOCK_KEY, PG_MIGRATIONS, VERSION_TABLE
from hrvcalm.storage.sqlite import _writer_gone

#: How long connecting may take before the server counts as unreachable, s.
CONNECT_TIMEOUT_S = 5


def _split(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def display_url(url: str) -> str:
    """``url`` without its password (for messages): ``postgresql://user@host:port/db``.

    Raises:
        StoreError: ``url`` is not a valid connection URL.
    """
    try:
        parts = conninfo.conninfo_to_dict(url)
    except psycopg.Error as exc:
        try:
            shown = store_label(url)
        except ValueError:  # not even a URL: show the scheme only
            shown = url.partition("://")[0] + "://..."
        detail = _first_line(exc).replace(url, shown)  # libpq quotes the URL, password too
        raise StoreError(f"{shown}: not a valid PostgreSQL URL: {detail}") from None
    host = str(parts.get("host") or "localhost")
    port = str(parts.get("port") or "5432")
    user = f"{parts['user']}@" if parts.get("user") else ""
    db = str(parts.get("dbname") or "")
    return f"postgresql://{user}{host}:{port}/{db}"


class PostgresStore:
    """A :class:`~hrvcalm.storage.base.SessionStore` in a PostgreSQL database.

    Args:
        url: ``postgresql://[user[:password]@]host[:port]/dbname`` (libpq's URL; the database
            must exist, see docs/clinic.md).
        recover: Mark sessions whose recording process is gone as interrupted.

    Raises:
        StoreError: The URL is not valid, the server cannot be reached or refuses, or the
            database is from a newer hrvcalm. The message names the server, never the
            password.
    """

    def __init__(self, url: str, *, recover: bool = True) -> None:
        self.url = url
        #: The server and database, without the password (for messages).
        self.where = display_url(url)
        self._next_idx: dict[int, int] = {}
        self._committed_idx: dict[int, int] = {}
        self._conn = self._connect()
        try:
            self._migrate()
            if recover:
                self.recover_interrupted()
        except psycopg.Error as exc:
            self._conn.close()
            raise StoreError(
                f"{self.where}: cannot use the session database: {_first_line(exc)}"
            ) from None
        except BaseException:
            self._conn.close()
            raise

    def _connect(self) -> psycopg.Connection[tuple[Any, ...]]:
        try:
            conn = psycopg.connect(
                self.url,
                autocommit=True,
                connect_timeout=CONNECT_TIMEOUT_S,
                application_name="hrvcalm",
            )
            conn.execute("SET synchronous_commit = on")
        except psycopg.Error as exc:
            detail = _first_line(exc).replace(self.url, self.where)
            raise StoreError(
                f"{self.where}: cannot connect to the session database: {detail}"
            ) from None
        return conn

    # -- schema ---------------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        """The database's version (0 for a new database)."""
        exists = self._conn.execute(
            "SELECT to_regclass(%s) IS NOT NULL", (VERSION_TABLE,)
        ).fetchone()
        if not exists or not exists[0]:
            return 0
        row = self._conn.execute(f"SELECT version FROM {VERSION_TABLE}").fetchone()
        return 0 if row is None else int(row[0])

    def _migrate(self) -> None:
        with self._conn.transaction():
            self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
            self._conn.execute(
                f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (version INTEGER NOT NULL)"
            )
            row = self._conn.execute(f"SELECT version FROM {VERSION_TABLE}").fetchone()
            if row is None:
                self._conn.execute(f"INSERT INTO {VERSION_TABLE} (version) VALUES (0)")
            version = 0 if row is None else int(row[0])
            if version > len(PG_MIGRATIONS):
                raise StoreError(
                    f"{self.where}: written by a newer hrvcalm (schema {version}, this one "
                    f"reads up to {len(PG_MIGRATIONS)}); upgrade hrvcalm"
                )
            for step in range(version, len(PG_MIGRATIONS)):
                for statement in _split(PG_MIGRATIONS[step]):
                    self._conn.execute(statement.encode())
            self._conn.execute(f"UPDATE {VERSION_TABLE} SET version = %s", (len(PG_MIGRATIONS),))

    def recover_interrupted(self, now_unix: float | None = None) -> list[int]:
        """Mark sessions cut off by a crash as ended (removing empty ones); returns their ids."""
        now = time.time() if now_unix is None else now_unix
        rows = self._read(
            "SELECT id, writer_pid, writer_host, heartbeat_unix, started_unix FROM sessions "
            "WHERE ended_unix IS NULL ORDER BY id"
        )
        recovered = []
        for session_id, pid, host, heartbeat, started in rows:
            if not _writer_gone(pid, host, heartbeat, now):
                continue
            last = self._read("SELECT MAX(t_s) FROM beats WHERE session_id = %s", (session_id,))
            rated = self._read("SELECT COUNT(*) FROM ratings WHERE session_id = %s", (session_id,))
            recovered.append(int(session_id))
            if last[0][0] is None and not rated[0][0]:
                self.delete_session(session_id)
                continue
            self._write(
                "UPDATE sessions SET ended_reason = 'interrupted', end_t_s = %s, "
                "ended_unix = %s WHERE id = %s AND ended_unix IS NULL",
                (last[0][0], heartbeat if heartbeat is not None else started, session_id),
            )
        self.commit()
        return recovered

    # -- connection and transactions ------------------------------------------------------

    def _usable(self) -> psycopg.Connection[tuple[Any, ...]]:
        """The connection, reconnecting once if the last one broke."""
        if self._conn.closed or self._conn.broken:
            self._conn = self._connect()
        return self._conn

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return self._usable().execute(sql.encode(), params).fetchall()
        except psycopg.Error as exc:
            raise StoreError(
                f"{self.where}: cannot read the session database: {_first_line(exc)}"
            ) from None

    def _failed(self, exc: psycopg.Error) -> StoreError:
        return StoreError(f"{self.where}: cannot save to the session database: {_first_line(exc)}")

    def _begin(self) -> psycopg.Connection[tuple[Any, ...]]:
        conn = self._usable()
        if conn.info.transaction_status == TransactionStatus.IDLE:
            conn.execute("BEGIN")
        return conn

    def _write(self, sql: str, params: Sequence[Any] = ()) -> None:
        try:
            self._begin().execute(sql.encode(), params)
        except psycopg.Error as exc:  # server gone, disk full, constraint ...
            raise self._failed(exc) from None

    def _write_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        try:
            with self._begin().cursor() as cur:
                cur.executemany(sql.encode(), rows)
        except psycopg.Error as exc:
            raise self._failed(exc) from None

    def commit(self) -> None:
        """Make every write so far durable.

        Raises:
            StoreError: The commit failed (the server is gone, its disk is full); call
                :meth:`rollback` and write again later.
        """
        if self._conn.closed:
            return
        try:
            if self._conn.info.transaction_status != TransactionStatus.IDLE:
                self._conn.execute("COMMIT")
        except psycopg.Error as exc:
            raise self._failed(exc) from None
        self._committed_idx.update(self._next_idx)

    def rollback(self) -> None:
        """Abandon the writes since the last commit (after a failed write).

        The next beats of a session take up at the last committed index again, so beats
        written again after a commit whose answer was lost are stored once.
        """
        self._next_idx = dict(self._committed_idx)
        if self._conn.closed or self._conn.broken:
            return  # the server dropped the transaction; the next write reconnects
        try:
            if self._conn.info.transaction_status != TransactionStatus.IDLE:
                self._conn.execute("ROLLBACK")
        except psycopg.Error:
            self._conn.close()  # reconnect on the next write

    # -- writing --------------------------------------------------------------------------

    def create_session(self, new: NewSession) -> int:
        """Store a new running session (committed at once); returns its id."""
        speed = None if new.speed is None or math.isinf(new.speed) else new.speed
        try:
            row = (
                self._begin()
                .execute(
                    "INSERT INTO sessions (started_unix, source, speed, app_version, "
                    "device_name, practice, planned_s, writer_pid, writer_host, "
                    "heartbeat_unix, patient) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
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
                .fetchone()
            )
        except psycopg.Error as exc:
            raise self._failed(exc) from None
        assert row is not None  # INSERT ... RETURNING gives one row
        session_id = int(row[0])
        self.commit()
        self._next_idx[session_id] = 0
        self._committed_idx[session_id] = 0
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
        assignments = ", ".join(f"{k} = %s" for k in given)
        self._write(
            f"UPDATE sessions SET {assignments} WHERE id = %s", (*given.values(), session_id)
        )

    def heartbeat(self, session_id: int, now_unix: float) -> None:
        """Note that the recording process is alive (with the next commit)."""
        self._write("UPDATE sessions SET heartbeat_unix = %s WHERE id = %s", (now_unix, session_id))

    def add_beats(self, session_id: int, beats: Sequence[StoredBeat]) -> None:
        """Append beats, in time order (a beat already stored at its index is kept once)."""
        if not beats:
            return
        start = self._next_idx.get(session_id)
        if start is None:
            last = self._read("SELECT MAX(idx) FROM beats WHERE session_id = %s", (session_id,))
            start = 0 if last[0][0] is None else int(last[0][0]) + 1
        self._write_many(
            "INSERT INTO beats (session_id, idx, t_s, rr_ms, artifact, gap_before, "
            "corrected_rr_ms) VALUES (%s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (session_id, idx) DO NOTHING",
            [
                (
                    session_id,
                    start + i,
                    b.t_s,
                    float(b.rr_ms),
                    bool(b.artifact),
                    bool(b.gap_before),
                    b.corrected_rr_ms,
                )
                for i, b in enumerate(beats)
            ],
        )
        self._next_idx[session_id] = start + len(beats)

    def add_metrics(self, session_id: int, samples: Sequence[MetricsSample]) -> None:
        """Append points of the metrics timeline (the values as JSON)."""
        self._write_many(
            "INSERT INTO metrics (session_id, t_s, data) VALUES (%s, %s, %s::json)",
            [(session_id, s.t_s, json.dumps(s.values, allow_nan=False)) for s in samples],
        )

    def add_event(self, session_id: int, event: DeviceEvent) -> None:
        """Append a device event."""
        self._write(
            "INSERT INTO device_events (session_id, t_s, state, name, battery_pct, contact) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            (session_id, event.t_s, event.state, event.name, event.battery_pct, event.contact),
        )

    def add_pacer(self, session_id: int, change: PacerChange) -> None:
        """Append a change of the pacer settings."""
        self._write(
            "INSERT INTO pacer_changes (session_id, t_s, rate_bpm, inhale_ratio) "
            "VALUES (%s, %s, %s, %s)",
            (session_id, change.t_s, change.rate_bpm, change.inhale_ratio),
        )

    def set_rating(self, session_id: int, rating: StoredRating) -> None:
        """Store a rating (replacing an earlier one given at the same ``when``)."""
        self._write(
            'INSERT INTO ratings (session_id, "when", pain, stress, note) '
            "VALUES (%s, %s, %s, %s, %s) "
            'ON CONFLICT (session_id, "when") DO UPDATE SET pain = EXCLUDED.pain, '
            "stress = EXCLUDED.stress, note = EXCLUDED.note",
            (session_id, rating.when, rating.pain, rating.stress, rating.note),
        )

    def end_session(
        self, session_id: int, *, reason: str, end_t_s: float | None, ended_unix: float
    ) -> None:
        """Mark the session ended (and commit)."""
        if reason not in ENDED_REASONS:
            raise ValueError(f"ended_reason must be one of {ENDED_REASONS}, got {reason!r}")
        self._write(
            "UPDATE sessions SET ended_reason = %s, end_t_s = %s, ended_unix = %s WHERE id = %s",
            (reason, end_t_s, ended_unix, session_id),
        )
        self.commit()

    def delete_session(self, session_id: int) -> None:
        """Remove a session and everything recorded in it (and commit)."""
        for table in ("beats", "metrics", "device_events", "pacer_changes", "ratings"):
            self._write(f"DELETE FROM {table} WHERE session_id = %s", (session_id,))
        self._write("DELETE FROM sessions WHERE id = %s", (session_id,))
        self.commit()
        self._next_idx.pop(session_id, None)
        self._committed_idx.pop(session_id, None)

    def set_outcome(self, outcome: Outcome) -> None:
        """Store a questionnaire (replacing the same patient's, week's and instrument's;
        committed at once)."""
        self._write(
            "INSERT INTO outcomes (patient, week, instrument, taken_unix, items, score) "
            "VALUES (%s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (patient, week, instrument) DO UPDATE SET "
            "taken_unix = EXCLUDED.taken_unix, items = EXCLUDED.items, score = EXCLUDED.score",
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
        rows = self._read(
            "SELECT patient, week, instrument, items, score, taken_unix FROM outcomes "
            "WHERE patient = %s ORDER BY instrument, week",
            (patient,),
        )
        return [
            Outcome(r[0], int(r[1]), r[2], tuple(int(v) for v in json.loads(r[3])), r[4], r[5])
            for r in rows
        ]

    def get_setting(self, key: str) -> str | None:
        """A stored preference, or ``None``."""
        rows = self._read("SELECT value FROM settings WHERE key = %s", (key,))
        return None if not rows else str(rows[0][0])

    def set_setting(self, key: str, value: str) -> None:
        """Store a preference (committed at once)."""
        self._write(
            "INSERT INTO settings (key, value) VALUES (%s, %s) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            (key, value),
        )
        self.commit()

    def close(self) -> None:
        """Commit and release the connection."""
        try:
            self.commit()
        finally:
            self._conn.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading --------------------------------------------------------------------------

    _PRACTICE_MEAN = (
        "(SELECT AVG((m.data->>'{key}')::double precision) FROM metrics m "
        "WHERE m.session_id = s.id AND m.t_s >= COALESCE(s.practice_start_t_s, 0))"
    )
    _SUMMARY_SQL = f"""
        SELECT s.id, s.started_unix, s.source, s.device_name, s.practice, s.planned_s,
               s.practice_start_t_s, s.practice_s, s.end_t_s, s.ended_unix, s.ended_reason,
               (SELECT COUNT(*) FROM beats b WHERE b.session_id = s.id),
               (SELECT COUNT(*) FROM beats b WHERE b.session_id = s.id AND b.artifact),
               {_PRACTICE_MEAN.format(key="rmssd_ms")},
               {_PRACTICE_MEAN.format(key="coherence")},
               {_PRACTICE_MEAN.format(key="mean_hr_bpm")},
               s.notes, s.speed, s.app_version, s.patient
        FROM sessions s
    """

    def _ratings(self, session_ids: Sequence[int]) -> dict[int, dict[str, StoredRating]]:
        out: dict[int, dict[str, StoredRating]] = {i: {} for i in session_ids}
        if not session_ids:
            return out
        rows = self._read(
            'SELECT session_id, "when", pain, stress, note FROM ratings '
            "WHERE session_id = ANY(%s) ORDER BY session_id",
            (list(session_ids),),
        )
        for session_id, when, pain, stress, note in rows:
            out[int(session_id)][when] = StoredRating(when, pain, stress, note)
        return out

    def _summaries(self, where: str, params: Sequence[Any]) -> list[SessionSummary]:
        rows = self._read(f"{self._SUMMARY_SQL} {where} ORDER BY s.started_unix, s.id", params)
        ratings = self._ratings([int(r[0]) for r in rows])
        return [SessionSummary.from_row(r, ratings[int(r[0])]) for r in rows]

    def list_sessions(self, patient: str | None = None) -> list[SessionSummary]:
        """Every session (of ``patient`` only, when given), oldest first."""
        if patient is not None:
            return self._summaries("WHERE s.patient = %s", (patient,))
        return self._summaries("", ())

    def get_session(self, session_id: int) -> SessionSummary:
        """One session (raises :class:`UsageError` naming the server if there is none)."""
        found = self._summaries("WHERE s.id = %s", (session_id,))
        if not found:
            raise UsageError(f"{self.where}: no session {session_id} (see 'hrvcalm sessions list')")
        return found[0]

    def beats_of(self, session_id: int) -> list[StoredBeat]:
        """The session's beats in order."""
        rows = self._read(
            "SELECT t_s, rr_ms, artifact, gap_before, corrected_rr_ms FROM beats "
            "WHERE session_id = %s ORDER BY idx",
            (session_id,),
        )
        return [StoredBeat(r[0], r[1], bool(r[2]), bool(r[3]), r[4]) for r in rows]

    def metrics_of(self, session_id: int) -> list[MetricsSample]:
        """The session's metrics timeline in order."""
        rows = self._read(
            "SELECT t_s, data::text FROM metrics WHERE session_id = %s ORDER BY t_s, seq",
            (session_id,),
        )
        return [MetricsSample(float(r[0]), dict(json.loads(r[1]))) for r in rows]

    def events_of(self, session_id: int) -> list[DeviceEvent]:
        """The session's device events in order."""
        rows = self._read(
            "SELECT t_s, state, name, battery_pct, contact FROM device_events "
            "WHERE session_id = %s ORDER BY t_s, seq",
            (session_id,),
        )
        return [DeviceEvent(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    def pacer_of(self, session_id: int) -> list[PacerChange]:
        """The session's pacer settings over time."""
        rows = self._read(
            "SELECT t_s, rate_bpm, inhale_ratio FROM pacer_changes WHERE session_id = %s "
            "ORDER BY t_s, seq",
            (session_id,),
        )
        return [PacerChange(r[0], r[1], r[2]) for r in rows]
