"""Where the session database lives.

Order: ``--db PATH``, then the ``HRVCALM_DB`` environment variable, then
``$XDG_DATA_HOME/hrvcalm/sessions.db`` (``~/.local/share/hrvcalm/sessions.db`` when
``XDG_DATA_HOME`` is unset or not absolute, as the XDG Base Directory spec says).
"""

from __future__ import annotations

import os
from pathlib import Path

DB_ENV = "HRVCALM_DB"
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
