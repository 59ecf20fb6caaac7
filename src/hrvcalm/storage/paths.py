"""Where the session database lives.

Order: ``--db PATH``, then the ``HRVCALM_DB`` environment variable, then
``$XDG_DATA_HOME/hrvcalm/sessions.db`` (``~/.local/share/hrvcalm/sessions.db`` when
``XDG_DATA_HOME`` is unset or not absolute, as the XDG Base Directory spec says).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

DB_ENV = "HRVCALM_DB"
STORE_ENV = "HRVCALM_STORE"
#: URL schemes that name a PostgreSQL server.
PG_SCHEMES = ("postgresql://", "postgres://")
DB_NAME = "sessions.db"


def default_db_path() -> Path:
    """The database path when no ``--db`` is given."""
    env = os.environ.get(DB_ENV)
    if env:
        return Path(env).expanduser()
    return default_xdg_db_path()


def default_xdg_db_path() -> Path:
    """The database in hrvcalm's own data folder (``$HRVCALM_DB`` aside)."""
    xdg = os.environ.get("XDG_DATA_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "share"
    return base / "hrvcalm" / DB_NAME


def resolve_db_path(given: str | Path | None) -> Path:
    """``given`` if set, else :func:`default_db_path`."""
    return Path(given).expanduser() if given else default_db_path()


def is_store_url(text: str | Path) -> bool:
    """Whether ``text`` is a ``postgresql://`` or ``postgres://`` URL (not a file)."""
    return isinstance(text, str) and text.strip().lower().startswith(PG_SCHEMES)


def resolve_store(given: str | Path | None) -> str | Path:
    """The store to open: a PostgreSQL URL (as a string) or a SQLite file (as a path).

    ``given`` if set, else ``$HRVCALM_STORE``, else :func:`default_db_path`.
    """
    chosen = given or os.environ.get(STORE_ENV) or None
    if chosen is None:
        return default_db_path()
    if is_store_url(chosen):
        return str(chosen).strip()
    return Path(chosen).expanduser()


def store_exists(location: str | Path) -> bool:
    """Whether the store holds sessions already: a SQLite file exists; a URL names a
    database that the server keeps (whether it answers is known when it is opened)."""
    return is_store_url(location) or Path(location).is_file()


def store_label(location: str | Path) -> str:
    """``location`` as it may be shown (a URL without its password)."""
    if not is_store_url(location):
        return str(location)
    parts = urlsplit(str(location))
    if parts.password is None:
        return str(location)
    host = parts.netloc.rpartition("@")[2]
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit((parts.scheme, f"{user}{host}", parts.path, "", ""))
