"""Processes opening one new database file at the same moment all find it migrated.

The schema version is read again inside the write lock: two processes reading 0 before
either migrated made the second fail ("table sessions already exists"), 4 times in 10.
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.synchronize import Barrier
from pathlib import Path

from hrvcalm.storage import SqliteStore
from hrvcalm.storage.schema import SCHEMA_VERSION

ROUNDS = 20
PROCESSES = 3


def _open(path: str, barrier: Barrier, results: multiprocessing.Queue[str]) -> None:
    barrier.wait()
    try:
        with SqliteStore(path) as store:
            results.put(f"ok {store.schema_version}")
    except Exception as exc:  # report whatever it is
        results.put(f"{type(exc).__name__}: {exc}")


def test_processes_opening_one_new_file_at_once_all_succeed(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    failures: list[str] = []
    for n in range(ROUNDS):
        path = str(tmp_path / f"new-{n}.db")
        barrier = context.Barrier(PROCESSES)
        results: multiprocessing.Queue[str] = context.Queue()
        procs = [
            context.Process(target=_open, args=(path, barrier, results)) for _ in range(PROCESSES)
        ]
        for proc in procs:
            proc.start()
        outcomes = [results.get(timeout=30) for _ in procs]
        for proc in procs:
            proc.join(30)
        failures += [o for o in outcomes if o != f"ok {SCHEMA_VERSION}"]
    assert failures == [], f"{len(failures)} of {ROUNDS * PROCESSES} opens failed: {failures[:3]}"
