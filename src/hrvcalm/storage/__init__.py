"""The session store: every practice session, kept so the course can be followed over weeks.

- :mod:`~hrvcalm.storage.base`: the :class:`SessionStore` interface and its row types;
- :mod:`~hrvcalm.storage.sqlite`: the SQLite implementation (one file, WAL, migrations);
- :mod:`~hrvcalm.storage.postgres`: the PostgreSQL implementation (a clinic's server);
- :mod:`~hrvcalm.storage.schema`, :mod:`~hrvcalm.storage.pg_schema`: the migration steps;
- :mod:`~hrvcalm.storage.recorder`: records a live session as an observer of its messages;
- :mod:`~hrvcalm.storage.export`: a session as ``rr`` text, CSV or JSON;
- :mod:`~hrvcalm.storage.history`: the history page's JSON;
- :mod:`~hrvcalm.storage.paths`: where the store is (a file or a ``postgresql://`` URL).

Nothing outside this package writes SQL.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

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
from hrvcalm.storage.paths import (
    default_db_path,
    is_store_url,
    resolve_db_path,
    resolve_store,
    store_exists,
    store_label,
)
from hrvcalm.storage.recorder import SessionRecorder
from hrvcalm.storage.sqlite import SqliteStore

if TYPE_CHECKING:
    from hrvcalm.storage.postgres import PostgresStore

#: An open store of either engine (both implement :class:`SessionStore` and close on ``with``).
Store: TypeAlias = "SqliteStore | PostgresStore"

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
    "Store",
    "StoreError",
    "StoredBeat",
    "StoredRating",
    "default_db_path",
    "is_store_url",
    "open_store",
    "resolve_db_path",
    "resolve_store",
    "store_exists",
    "store_label",
]


def open_store(location: str | Path | None = None, *, recover: bool = True) -> Store:
    """Open (creating and migrating if needed) the session store at ``location``.

    ``location`` is a ``postgresql://`` (or ``postgres://``) URL, or the SQLite file's path;
    ``None`` means ``$HRVCALM_STORE``, else the default file (:func:`resolve_store`).
    ``recover=False`` leaves sessions cut off by a crash as they are (for readers inside a
    process that records a session: the recording process recovered the store when it opened).

    Raises:
        StoreError: The store cannot be opened (a one-line message naming the file or the
            server: a bad URL, an unreachable server, psycopg not installed).
    """
    where = resolve_store(location)
    if isinstance(where, str):
        try:
            from hrvcalm.storage.postgres import PostgresStore
        except ImportError:
            raise StoreError(
                "a postgresql:// store needs psycopg: pip install 'hrvcalm[postgresql]'"
            ) from None
        return PostgresStore(where, recover=recover)
    return SqliteStore(where, recover=recover)
