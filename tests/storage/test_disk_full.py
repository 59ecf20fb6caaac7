"""A full disk mid-session: the live session goes on, warns, and loses nothing: no beat, no
rating, no pacer change, no device event."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from pathlib import Path
from typing import Any

import pytest

from hrvcalm.core.pacer import PacerSettings
from hrvcalm.core.session import Rating, SessionState
from hrvcalm.devices.replay import ReplaySource
from hrvcalm.errors import StoreError
from hrvcalm.events import Beat, DeviceState, DeviceStatus
from hrvcalm.recordings import read_recording
from hrvcalm.server import messages
from hrvcalm.server.app import LiveSession
from hrvcalm.storage import SessionRecorder, SqliteStore, StoredRating
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


# -- what the patient entered while the disk was full ----------------------------------------


def _session_message(state: SessionState) -> dict[str, Any]:
    return messages.session(state, 30.0)


def _running() -> SessionState:
    state = SessionState(duration_s=600.0)
    state.start(0.0)
    return state


def _fill(store: SqliteStore) -> None:
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count = {pages}")


def _room(store: SqliteStore) -> None:
    store._db.execute("PRAGMA max_page_count = 1073741823")


def _feed(recorder: SessionRecorder, message: dict[str, Any]) -> None:
    """As the live session does: a failing store is warned about, and the session goes on."""
    with contextlib.suppress(StoreError):
        recorder.on_message(message)


def test_ratings_and_pacer_changes_given_while_the_disk_is_full_are_kept(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "full.db")
    recorder = SessionRecorder(store, clock=lambda: 30.0)
    state = _running()
    recorder.on_message(messages.hello("sim", 1.0))
    recorder.on_message(messages.device(DeviceStatus(DeviceState.CONNECTED, "H10", 90)))
    recorder.on_message(_session_message(state))
    recorder.flush()
    _fill(store)
    for i in range(3000):  # beats enough to need new pages: every commit fails
        _feed(recorder, messages.beat(Beat(0.8 * (i + 1), 800.0)))
    _feed(recorder, messages.pacer(PacerSettings(rate_bpm=5.5, t0_s=0.0)))
    state.rate("before", Rating(7, 8, "woke up stiff"))
    _feed(recorder, _session_message(state))  # the page now shows the rating as saved
    _feed(recorder, messages.device(DeviceStatus(DeviceState.LOST, "H10", 90)))
    with pytest.raises(StoreError, match="disk is full"):
        recorder.flush()
    with pytest.raises(StoreError, match="disk is full"):
        recorder.flush()  # retried: still full

    _room(store)
    recorder.flush()
    sid = recorder.session_id or 0
    summary = store.get_session(sid)
    assert summary.ratings["before"] == StoredRating("before", 7, 8, "woke up stiff")
    assert [p.rate_bpm for p in store.pacer_of(sid)][-1] == 5.5
    assert [e.state for e in store.events_of(sid)] == ["connected", "lost"]
    assert len(store.beats_of(sid)) == 3000
    store.close()


def test_a_session_whose_row_could_not_be_created_is_created_later(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "full.db")
    store._db.execute("PRAGMA query_only = ON")  # the file cannot be written at all
    recorder = SessionRecorder(store, clock=lambda: 1.0)
    state = _running()
    _feed(recorder, messages.hello("sim", 1.0))
    _feed(recorder, _session_message(state))
    _feed(recorder, messages.beat(Beat(0.8, 800.0)))
    state.rate("before", Rating(5, 5, None))
    _feed(recorder, _session_message(state))
    with pytest.raises(StoreError, match="readonly"):
        recorder.flush()
    store._db.execute("PRAGMA query_only = OFF")
    recorder.close()
    (summary,) = store.list_sessions()
    assert summary.n_beats == 1 and summary.ratings["before"].pain == 5
    store.close()


def test_a_note_no_utf8_file_can_hold_is_stored_repaired(tmp_path: Path) -> None:
    """The page refuses such a note (tests/server); a message that still carries one (another
    client) is stored with U+FFFD, not lost with everything else of the session."""
    store = SqliteStore(tmp_path / "s.db")
    recorder = SessionRecorder(store, clock=lambda: 1.0)
    state = _running()
    recorder.on_message(messages.hello("sim", 1.0))
    recorder.on_message(_session_message(state))
    recorder.on_message(messages.beat(Beat(0.8, 800.0)))
    state.rate("after", Rating(2, 3, "calmer \ud83d now"))
    recorder.on_message(_session_message(state))
    recorder.close()
    (summary,) = store.list_sessions()
    assert summary.ratings["after"].note == "calmer \ufffd now"
    assert summary.n_beats == 1
    store.close()
