"""Files of health data are the patient's alone: created 0600, in folders hrvcalm makes 0700.

The session database (and SQLite's ``-wal`` and ``-shm`` beside it, which SQLite creates with
the database file's mode), exports and reports are created readable and writable by their
owner only, whatever the umask (an existing export or report file that is written again
keeps the mode its owner gave it). Folders hrvcalm creates for them are 0700; a folder that
already existed is left as it is, except hrvcalm's own data folder
(``~/.local/share/hrvcalm``), which is tightened to 0700. An existing database file is
tightened to 0600 when it is opened (it holds the same health data).

Modes are given at creation (``os.open`` with a mode, ``mkdir`` with a mode), never by
changing the process's umask, which other threads share.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

FILE_MODE = 0o600
DIR_MODE = 0o700
#: SQLite's files beside a database in WAL mode.
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def _tighten(path: Path, mode: int) -> None:
    """Drop group and other permissions of ``path`` (ours only; errors ignored)."""
    try:
        st = path.stat()
        if st.st_uid == os.getuid() and stat.S_IMODE(st.st_mode) & 0o077:
            path.chmod(stat.S_IMODE(st.st_mode) & mode)
    except OSError:
        pass


def own_data_dir() -> Path:
    """hrvcalm's own data folder (where the default database lives)."""
    from hrvcalm.storage.paths import default_xdg_db_path

    return default_xdg_db_path().parent


def private_dir(folder: Path) -> None:
    """Make sure ``folder`` exists; the folders created here are 0700.

    An existing folder is left alone unless it is hrvcalm's own data folder.
    """
    missing = []
    current = folder
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):
            path.mkdir(mode=DIR_MODE)
    if missing and missing[0].is_dir():
        _tighten(missing[0], DIR_MODE)  # a umask of 0 does not widen it, but be explicit
    with contextlib.suppress(OSError):
        if folder.resolve() == own_data_dir().resolve():
            _tighten(folder, DIR_MODE)


def private_database_file(path: Path) -> None:
    """Create the database file 0600 before SQLite opens it (SQLite then gives its ``-wal``
    and ``-shm`` the same mode); tighten an existing one and its side files."""
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)
    except FileExistsError:
        for candidate in (path, *(Path(f"{path}{s}") for s in SQLITE_SIDE_FILES)):
            _tighten(candidate, FILE_MODE)
    else:
        os.close(fd)


@contextlib.contextmanager
def open_private(
    path: str | Path, mode: str = "w", encoding: str | None = None
) -> Iterator[IO[Any]]:
    """``open(path, mode)`` for writing; a new file is created 0600 (an existing file is
    truncated and keeps the mode its owner gave it)."""
    fd = os.open(Path(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, FILE_MODE)
    binary = "b" in mode
    handle = os.fdopen(fd, "wb" if binary else "w", encoding=None if binary else encoding)
    with handle:
        yield handle


def write_private_text(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to a file created 0600."""
    with open_private(path, "w", encoding="utf-8") as handle:
        handle.write(text)
