"""A throwaway PostgreSQL server for the tests: Debian's binaries, a temporary cluster.

PostgreSQL refuses to run as root, so as root the cluster belongs to the ``postgres`` user
and ``initdb``/``pg_ctl`` run through ``runuser -u postgres`` (DESIGN.md section 8). The
server listens on 127.0.0.1 on a free port and on a Unix socket in its own folder, trusts
local connections (``--auth=trust``), and is stopped and removed at the end.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg


def _debian_pg_bin() -> Path:
    """The newest of Debian's ``/usr/lib/postgresql/N/bin`` (15 on this project's machines)."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return found[-1].parent if found else Path("/usr/lib/postgresql/15/bin")


#: The server binaries: ``$HRVCALM_PG_BIN``, else Debian's.
PG_BIN = Path(os.environ.get("HRVCALM_PG_BIN") or _debian_pg_bin())


def missing_binaries() -> str | None:
    """Why no server can be started here (``None`` if it can)."""
    for name in ("initdb", "pg_ctl", "postgres"):
        if not (PG_BIN / name).is_file():
            return f"PostgreSQL server binaries not found: no {PG_BIN / name}"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root but no runuser to start PostgreSQL as 'postgres'"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgServer:
    """A started PostgreSQL cluster in a temporary folder.

    Attributes:
        port: The TCP port on 127.0.0.1.
        data_dir: The cluster's folder (also the socket folder; the log is ``log`` in it).
    """

    def __init__(self) -> None:
        self.data_dir = Path(tempfile.mkdtemp(prefix="hrvcalm-pg-"))
        self.port = _free_port()
        self._names = itertools.count(1)
        self._as_postgres: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.data_dir, user="postgres", group="postgres")
            self._as_postgres = ["runuser", "-u", "postgres", "--"]
        self._run(
            str(PG_BIN / "initdb"), "-D", str(self.data_dir), "--auth=trust", "-U", "postgres",
            "--no-sync", "-E", "UTF8", "--locale=C.UTF-8",
        )  # fmt: skip
        self._run(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data_dir),
            "-o", f"-p {self.port} -k {self.data_dir} -c listen_addresses=127.0.0.1",
            "-l", str(self.data_dir / "log"), "-w", "start",
        )  # fmt: skip

    def _run(self, *argv: str) -> None:
        done = subprocess.run(
            [*self._as_postgres, *argv], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            log = self.data_dir / "log"
            tail = log.read_text(errors="replace")[-2000:] if log.is_file() else ""
            raise RuntimeError(f"{argv[0]} failed: {done.stderr or done.stdout}\n{tail}")

    def url(self, dbname: str = "postgres") -> str:
        """The URL of a database on this server (over TCP on 127.0.0.1)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def new_database(self) -> str:
        """Create an empty database; returns its URL."""
        name = f"hrvcalm_test_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}".encode())
        return self.url(name)

    def stop(self) -> None:
        """Stop the server and remove its folder."""
        try:
            self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.data_dir, ignore_errors=True)
