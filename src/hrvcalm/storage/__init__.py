"""The session store: every practice session, kept so the course can be followed over weeks.

- :mod:`~hrvcalm.storage.base`: the :class:`SessionStore` interface and its row types;
- :mod:`~hrvcalm.storage.sqlite`: the SQLite implementation (one file, WAL, migrations);
- :mod:`~hrvcalm.storage.schema`: the schema's migration steps;
- :mod:`~hrvcalm.storage.recorder`: records a live session as an observer of its messages;
- :mod:`~hrvcalm.storage.export`: a session as ``rr`` text, CSV or JSON;
- :mod:`~hrvcalm.storage.history`: the history page's JSON;
- :mod:`~hrvcalm.storage.paths`: where the database file is.

Nothing outside this package writes SQL.
"""

from __future__ import annotations

from pathlib import Path

from hrvcalm.errors import StoreError
from hrvcalm.storage.base import (
    DeviceEvent,
    MetricsSample,
    NewSession,
    Outcome,
    PacerChange,
    SessionStore,
    SessionSummary,
    StoredBeat,
    StoredRating,
)
from hrvcalm.storage.paths import default_db_path, resolve_db_path
from hrvcalm.storage.recorder import SessionRecorder
from hrvcalm.storage.sqlite import SqliteStore

__all__ = [
    "DeviceEvent",
    "MetricsSample",
    "NewSession",
    "Outcome",
    "PacerChange",
    "SessionRecorder",
    "SessionStore",
    "SessionSummary",
    "SqliteStore",
    "StoreError",
    "StoredBeat",
    "StoredRating",
    "default_db_path",
    "open_store",
    "resolve_db_path",
]


def open_store(path: str | Path | None = None, *, recover: bool = True) -> SqliteStore:
    """Open (creating and migrating if needed) the session database at ``path`` or the default.

    ``recover=False`` leaves sessions cut off by a crash as they are (for readers inside a
    process that records a session: the recording process recovered the file when it opened).
    """
    return SqliteStore(resolve_db_path(path), recover=recover)
