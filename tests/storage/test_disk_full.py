"""A full disk mid-session: the live session goes on, warns, and loses no beat."""

from __future__ import annotations

import asyncio
import logging
import math
from pathlib import Path
from typing import Any

import pytest

from hrvcalm.devices.replay import ReplaySource
from hrvcalm.errors import StoreError
from hrvcalm.recordings import read_recording
from hrvcalm.server.app import LiveSession
from hrvcalm.storage import SessionRecorder, SqliteStore
from tests.conftest import FIXTURES

REST = FIXTURES / "polar_rr_rhenanbartels_hrv" / "rest_rri.txt"


class _FillDiskAfterHello:
    """Caps the database file at its current size once the session row exists: every later
    write fails with SQLite's own 'database or disk is full'."""

    def __init__(self, store: SqliteStore) -> None:
        self.store = store
        self.done = False
        self.messages: list[dict[str, Any]] = []

    def on_message(self, message: dict[str, Any]) -> None:
        self.messages.append(message)
        if not self.done and message["type"] == "device":
            pages = self.store._db.execute("PRAGMA page_count").fetchone()[0]
            self.store._db.execute(f"PRAGMA max_page_count = {pages}")
            self.done = True

    def flush(self) -> None:
        pass


def test_full_disk_mid_session(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    recording = read_recording(REST)
    store = SqliteStore(tmp_path / "full.db")
    recorder = SessionRecorder(store)
    filler = _FillDiskAfterHello(store)
    live = LiveSession(
        ReplaySource(recording, speed=math.inf), autostart=True, observers=[recorder, filler]
    )
    with caplog.at_level(logging.WARNING):
        asyncio.run(live.run(port=None))

    # the live session processed every beat although nothing could be saved
    assert live.n_beats == len(recording)
    assert filler.done
    warnings = [r.getMessage() for r in caplog.records if "cannot save" in r.getMessage()]
    assert warnings and "disk is full" in warnings[0] and "the session goes on" in warnings[0]
    with pytest.raises(StoreError, match="disk is full"):
        recorder.flush()

    # room again: the next flush writes everything that was kept
    store._db.execute("PRAGMA max_page_count = 1073741823")
    recorder.close()
    stored = store.beats_of(recorder.session_id or 0)
    assert [b.rr_ms for b in stored] == list(recording.rr_ms)
    store.close()
