"""The recorder as a session observer, fed the messages a live session publishes."""

from __future__ import annotations

import itertools
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from hrvcalm.core.pacer import PacerSettings
from hrvcalm.core.session import Rating, SessionState
from hrvcalm.events import Beat, Contact, DeviceState, DeviceStatus, Metrics
from hrvcalm.server import messages
from hrvcalm.storage import NewSession, SessionRecorder, SqliteStore, StoredBeat, StoredRating
from hrvcalm.storage.recorder import PRESTART_KEEP_S


class Clock:
    """A settable clock (session time and wall time alike)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _count(db: Path, table: str) -> int:
    """Rows visible to another connection, i.e. committed."""
    raw = sqlite3.connect(db)
    try:
        return int(raw.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
    finally:
        raw.close()


@pytest.fixture
def recorded(tmp_path: Path) -> tuple[SqliteStore, SessionRecorder, Clock, Path]:
    db = tmp_path / "s.db"
    store = SqliteStore(db)
    clock, mono = Clock(), Clock()
    recorder = SessionRecorder(
        store, clock=clock, wall_clock=lambda: 1_700_000_000 + clock.now, monotonic=mono
    )
    recorder.on_message(messages.hello("sim", 1.0))
    recorder.on_message(messages.pacer(PacerSettings(t0_s=0.0)))
    started = SessionState()
    started.start(0.0)
    recorder.on_message(messages.session(started, 0.0))  # the practice starts: the row exists
    return store, recorder, mono, db


def test_beats_commit_within_the_commit_interval(
    recorded: tuple[SqliteStore, SessionRecorder, Clock, Path],
) -> None:
    store, recorder, mono, db = recorded
    assert _count(db, "sessions") == 1  # the session exists from the start on
    recorder.on_message(messages.beat(Beat(0.8, 800.0)))
    assert _count(db, "beats") == 0
    mono.now = 0.6  # more than COMMIT_INTERVAL_S of wall time later
    recorder.on_message(messages.beat(Beat(1.6, 800.0)))
    assert _count(db, "beats") == 2
    store.close()


def test_metrics_are_thinned_to_one_a_second_and_the_last_is_kept(
    recorded: tuple[SqliteStore, SessionRecorder, Clock, Path],
) -> None:
    store, recorder, _, _ = recorded
    t = 0.0
    for _ in range(41):  # a beat every 0.4 s for 16.4 s
        t += 0.4
        recorder.on_message(messages.beat(Beat(t, 400.0)))
        recorder.on_message(messages.metrics(Metrics(t, rmssd_ms=30.0 + t, n_beats=3)))
    recorder.close()
    times = [m.t_s for m in store.metrics_of(recorder.session_id or 0)]
    assert times[0] == pytest.approx(0.4)
    assert all(b - a >= 1.0 - 1e-9 for a, b in itertools.pairwise(times[:-1]))
    assert times[-1] == pytest.approx(16.4)
    assert len(times) == 15  # 0.4, 1.6, 2.8, ... 16.0, then the last one at 16.4
    assert store.metrics_of(1)[-1].values["rmssd_ms"] == pytest.approx(46.4)
    store.close()


def test_device_events_gaps_ratings_and_end(
    recorded: tuple[SqliteStore, SessionRecorder, Clock, Path],
) -> None:
    store, recorder, _, db = recorded
    clock_now = 0.0

    def at(t: float) -> None:
        nonlocal clock_now
        clock_now = t
        recorder._clock = lambda: clock_now  # the session's clock

    at(0.0)
    recorder.on_message(
        messages.device(DeviceStatus(DeviceState.CONNECTED, "H10", 90, Contact.DETECTED))
    )
    recorder.on_message(
        {"type": "beat", "t_s": 1.0, "rr_ms": 975.5859375, "hr_bpm": 61.5, "artifact": False}
    )
    at(5.0)
    recorder.on_message(messages.device(DeviceStatus(DeviceState.LOST, "H10", 90)))
    at(9.0)
    recorder.on_message(messages.device(DeviceStatus(DeviceState.CONNECTED, "H10", 89)))
    recorder.on_message(
        {
            "type": "beat",
            "t_s": 9.5,
            "rr_ms": 1000.0,
            "hr_bpm": 60,
            "artifact": True,
            "corrected_rr_ms": 990.25,
            "gap_before": True,  # the beat clock's one gap rule: beats were lost in the drop
        }
    )
    state = SessionState(duration_s=600.0)
    state.rate("before", Rating(6, 7, "tight"))
    state.start(0.0)
    recorder.on_message(messages.session(state, 9.5))
    assert _count(db, "ratings") == 1  # ratings are committed at once
    at(9.6)
    state.stop(9.6)
    recorder.on_message(messages.session(state, 9.6))
    state.rate("after", Rating(4, 3))
    recorder.on_message(messages.session(state, 9.6))  # after the end, page still open
    assert _count(db, "ratings") == 2
    recorder.close()

    session = store.get_session(1)
    assert session.ended_reason == "stopped"
    assert session.end_t_s == pytest.approx(9.6)
    assert session.device_name == "H10"
    assert session.ratings["before"].note == "tight" and session.ratings["after"].pain == 4
    beats = store.beats_of(1)
    assert [b.rr_ms for b in beats] == [975.5859375, 1000.0]  # stored exactly
    assert [b.gap_before for b in beats] == [False, True]
    assert [b.corrected_rr_ms for b in beats] == [None, 990.25]
    events = store.events_of(1)
    assert [(e.t_s, e.state, e.battery_pct) for e in events] == [
        (0.0, "connected", 90),
        (5.0, "lost", 90),
        (9.0, "connected", 89),
    ]
    assert store.pacer_of(1)[0].rate_bpm == 6.0
    store.close()


def test_a_session_that_reaches_its_length_is_completed(
    recorded: tuple[SqliteStore, SessionRecorder, Clock, Path],
) -> None:
    store, recorder, _, _ = recorded
    state = SessionState(duration_s=60.0)
    state.start(0.0)
    state.tick(61.0)
    recorder.on_message(messages.session(state, 61.0))
    assert store.get_session(1).ended_reason == "completed"
    store.close()


def test_a_running_session_of_a_live_process_is_not_taken_for_a_crash(
    recorded: tuple[SqliteStore, SessionRecorder, Clock, Path],
) -> None:
    store, recorder, _, db = recorded
    recorder.on_message(messages.beat(Beat(0.8, 800.0)))
    recorder.flush()
    with SqliteStore(db) as reader:  # e.g. the history page while the session runs
        assert reader.get_session(1).ended_reason is None
    recorder.close()
    assert store.get_session(1).ended_reason == "interrupted"
    store.close()


def test_a_session_with_neither_beats_nor_ratings_is_not_kept(
    recorded: tuple[SqliteStore, SessionRecorder, Clock, Path],
) -> None:
    store, recorder, _, db = recorded
    recorder.on_message(messages.device(DeviceStatus(DeviceState.CONNECTING, "H10")))
    recorder.close()
    assert store.list_sessions() == []
    assert _count(db, "device_events") == 0
    store.close()


def test_recovery_removes_an_empty_cut_off_session(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    with SqliteStore(db) as store:
        empty = store.create_session(NewSession(started_unix=1.0, source="sim"))
        kept = store.create_session(NewSession(started_unix=2.0, source="sim"))
        store.add_beats(kept, [])
        store.add_beats(kept, [StoredBeat(0.9, 900.0), StoredBeat(1.8, 900.0)])
        store.commit()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a process that has ended: as if the recording process had been killed
    raw = sqlite3.connect(db)
    raw.execute("UPDATE sessions SET writer_pid = ?", (gone.pid,))
    raw.commit()
    raw.close()
    with SqliteStore(db) as store:
        (session,) = store.list_sessions()
        assert (session.id, session.ended_reason, session.end_t_s) == (kept, "interrupted", 1.8)
        assert empty != kept


@pytest.fixture
def unstarted(tmp_path: Path) -> tuple[SqliteStore, SessionRecorder, Clock]:
    """A recorder that has seen the hello and the pacer, but no start."""
    store = SqliteStore(tmp_path / "s.db")
    clock = Clock()
    recorder = SessionRecorder(
        store, clock=clock, wall_clock=lambda: 1_700_000_000 + clock.now, monotonic=Clock()
    )
    recorder.on_message(messages.hello("sim", 1.0))
    recorder.on_message(messages.pacer(PacerSettings(t0_s=0.0)))
    return store, recorder, clock


def _beats_and_metrics(recorder: SessionRecorder, clock: Clock, start: int, stop: int) -> None:
    for i in range(start, stop):
        clock.now = i * 1.0
        recorder.on_message(messages.beat(Beat(i * 1.0, 1000.0)))
        recorder.on_message(messages.metrics(Metrics(i * 1.0, rmssd_ms=40.0, n_beats=i)))
        recorder.flush()


def test_a_session_never_started_is_not_stored(
    unstarted: tuple[SqliteStore, SessionRecorder, Clock],
) -> None:
    """No Start: nothing counts as practice, so nothing is stored (not even the ratings)."""
    store, recorder, clock = unstarted
    recorder.on_message(messages.device(DeviceStatus(DeviceState.CONNECTED, "H10", 90)))
    state = SessionState()
    state.rate("before", Rating(5, 5))
    recorder.on_message(messages.session(state, 0.0))
    _beats_and_metrics(recorder, clock, 1, 90)
    state.stop(89.0)  # the page was closed without Start: ready -> ended
    recorder.on_message(messages.session(state, 89.0))
    recorder.close()
    assert store.list_sessions() == []
    assert recorder.sessions == []
    store.close()


def test_the_row_begins_at_start_with_the_settling_in_before_it(
    unstarted: tuple[SqliteStore, SessionRecorder, Clock],
) -> None:
    store, recorder, clock = unstarted
    recorder.on_message(messages.device(DeviceStatus(DeviceState.CONNECTED, "H10", 90)))
    state = SessionState(duration_s=120.0)
    state.rate("before", Rating(6, 4, "stiff"))
    recorder.on_message(messages.session(state, 0.0))
    _beats_and_metrics(recorder, clock, 1, 400)  # 400 s of waiting before Start
    assert store.list_sessions() == []
    clock.now = 400.0
    state.start(400.0)
    recorder.on_message(messages.session(state, 400.0))
    (session,) = store.list_sessions()  # the row exists from the start on
    assert session.practice_start_t_s == pytest.approx(400.0)
    assert session.ratings["before"] == StoredRating("before", 6, 4, "stiff")
    assert session.device_name == "H10"
    _beats_and_metrics(recorder, clock, 400, 461)
    state.stop(460.0)
    recorder.on_message(messages.session(state, 460.0))
    recorder.close()
    session = store.get_session(session.id)
    beats = store.beats_of(session.id)
    # the last PRESTART_KEEP_S before the start are kept with it, the rest was let go
    assert beats[0].t_s == pytest.approx(400.0 - PRESTART_KEEP_S, abs=1.0)
    assert beats[-1].t_s == pytest.approx(460.0)
    assert session.minutes_practised == pytest.approx(1.0)
    assert session.ended_reason == "stopped"
    assert [e.state for e in store.events_of(session.id)] == ["connected"]
    assert store.pacer_of(session.id)[0].rate_bpm == 6.0
    store.close()


def test_sessions_in_a_row_are_stored_apart(
    unstarted: tuple[SqliteStore, SessionRecorder, Clock],
) -> None:
    store, recorder, clock = unstarted
    first = SessionState(duration_s=60.0)
    recorder.on_message(messages.session(first, 0.0))
    _beats_and_metrics(recorder, clock, 1, 10)
    clock.now = 10.0
    first.start(10.0)
    recorder.on_message(messages.session(first, 10.0))
    _beats_and_metrics(recorder, clock, 10, 71)
    clock.now = 70.0
    first.tick(70.0)
    recorder.on_message(messages.session(first, 70.0))
    _beats_and_metrics(recorder, clock, 71, 80)  # the patient rates; the strap goes on
    first.rate("after", Rating(2, 1))
    recorder.on_message(messages.session(first, 80.0))
    second = SessionState(duration_s=60.0)  # New session
    recorder.on_message(messages.session(second, 80.0))
    _beats_and_metrics(recorder, clock, 80, 90)
    clock.now = 90.0
    second.start(90.0)
    recorder.on_message(messages.session(second, 90.0))
    _beats_and_metrics(recorder, clock, 90, 121)
    clock.now = 120.0
    second.stop(120.0)
    recorder.on_message(messages.session(second, 120.0))
    recorder.close()

    one, two = store.list_sessions()
    assert recorder.sessions == [one.id, two.id]
    assert (one.ended_reason, two.ended_reason) == ("completed", "stopped")
    assert one.ratings == {"after": StoredRating("after", 2, 1, None)}
    assert two.ratings == {}
    assert one.minutes_practised == pytest.approx(1.0)
    assert two.minutes_practised == pytest.approx(0.5)
    # every beat in exactly one session: the first's up to its end, the rest in the second
    first_beats = [b.t_s for b in store.beats_of(one.id)]
    second_beats = [b.t_s for b in store.beats_of(two.id)]
    assert first_beats == [float(i) for i in range(1, 71)]
    assert second_beats == [float(i) for i in range(71, 121)]
    assert two.practice_start_t_s == pytest.approx(90.0)
    store.close()
