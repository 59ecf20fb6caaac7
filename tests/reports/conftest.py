"""A stored session with everything a report must show: artifacts, gaps, a lost link, many
device events, a pacer change, long notes (with characters matplotlib would read as math)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from hrvcalm.storage import (
    DeviceEvent,
    MetricsSample,
    NewSession,
    PacerChange,
    SqliteStore,
    StoredBeat,
    StoredRating,
)

LONG_NOTE = (
    "Headache since Tuesday $x$ (worse in the evening) \\ and the neck was stiff; "
    "Kopfschmerzen-seit-Dienstag-abends-und-nachts-schlimmer-als-sonst-immer was her word. "
    "She slept badly for three nights in a row and had coffee before the session."
)
N_BATTERY_EVENTS = 70
GAP_AT_S = (300.0, 720.0)


@pytest.fixture(scope="session")
def busy_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database holding :func:`make_busy_session` as session 1."""
    db = tmp_path_factory.mktemp("reports") / "busy.db"
    make_busy_session(db)
    return db


def make_busy_session(db: Path) -> None:
    """Session 1 of a fresh database: 20 min, artifacts every 97th beat, two 10 s gaps with a
    lost link, 70 battery reports, the pacer slowed at 8 min, ratings with a long note."""
    with SqliteStore(db) as store:
        sid = store.create_session(
            NewSession(started_unix=1_767_000_000.0, source="sim", device_name="Polar H10 TEST")
        )
        beats, t_s, k = [], 0.0, 0
        while t_s < 1200.0:
            rr = 1000.0 + 60.0 * math.sin(2 * math.pi * t_s / 10.0)
            t_s += rr / 1000.0
            gap = any(g <= t_s < g + 10.0 for g in GAP_AT_S)
            if gap:
                continue
            after_gap = bool(beats) and any(beats[-1].t_s < g + 10.0 <= t_s for g in GAP_AT_S)
            k += 1
            if k % 97 == 0:
                beats.append(StoredBeat(t_s, rr * 1.6, True, after_gap, rr))
            else:
                beats.append(StoredBeat(t_s, rr, False, after_gap, None))
        store.add_beats(sid, beats)
        store.add_metrics(
            sid,
            [
                MetricsSample(
                    float(t),
                    {"rmssd_ms": 40.0 + t / 60.0, "mean_hr_bpm": 60.0, "coherence": 0.5},
                )
                for t in range(60, 1200, 5)
            ],
        )
        store.add_event(sid, DeviceEvent(0.0, "connected", "Polar H10 TEST", 90, True))
        for g in GAP_AT_S:
            store.add_event(sid, DeviceEvent(g, "lost", "Polar H10 TEST"))
            store.add_event(sid, DeviceEvent(g + 10.0, "connected", "Polar H10 TEST", 88, True))
        for n in range(N_BATTERY_EVENTS):
            store.add_event(sid, DeviceEvent(15.0 * n + 1.0, "connected", None, 90 - n // 10, True))
        store.add_pacer(sid, PacerChange(0.0, 6.0, 1.0))
        store.add_pacer(sid, PacerChange(480.0, 5.5, 1.0))
        store.update_session(
            sid, practice_start_t_s=60.0, practice_s=1140.0, notes="First line.\nSecond line."
        )
        store.set_rating(sid, StoredRating("before", 7, 8, LONG_NOTE))
        store.set_rating(sid, StoredRating("after", 5, 2, "calmer"))
        store.end_session(sid, reason="completed", end_t_s=1200.0, ended_unix=1_767_001_200.0)
