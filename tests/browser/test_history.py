"""The history page in a real browser, served by ``hrvcalm history`` from a real SQLite file.

The file is filled through the store's own interface with a simulated 8-week course:
sessions on most days, pain and stress before and after, an RMSSD timeline per session.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
import pytest

from hrvcalm.storage import MetricsSample, NewSession, SqliteStore, StoredBeat, StoredRating
from tests.browser.conftest import SERVER_START_TIMEOUT_S, _answers, _free_port


@dataclass(frozen=True)
class CourseSession:
    started: dt.datetime
    minutes: float
    pain: tuple[int, int]
    stress: tuple[int, int]
    rmssd_ms: float
    coherence: float | None
    note: str | None


def simulated_course(seed: int = 3) -> list[CourseSession]:
    """Eight weeks ending today: ~5 sessions a week, pain and stress easing, RMSSD rising."""
    rng = np.random.default_rng(seed)
    today = dt.datetime.now().replace(hour=8, minute=30, second=0, microsecond=0)
    first = today - dt.timedelta(days=52)
    out = []
    for day in range(53):
        if rng.random() > 0.72 and day not in (0, 52):
            continue
        progress = day / 55.0
        pain_before = int(np.clip(round(7.0 - 2.5 * progress + rng.normal(0, 0.7)), 0, 10))
        stress_before = int(np.clip(round(6.5 - 3.0 * progress + rng.normal(0, 0.8)), 0, 10))
        relief = int(rng.integers(0, 3))
        out.append(
            CourseSession(
                started=first + dt.timedelta(days=day, minutes=int(rng.integers(0, 600))),
                minutes=float(rng.choice([10, 15, 15, 20, 20, 30])),
                pain=(pain_before, max(0, pain_before - relief)),
                stress=(stress_before, max(0, stress_before - relief - 1)),
                rmssd_ms=28.0 + 14.0 * progress + float(rng.normal(0, 3)),
                coherence=None if day < 30 else 0.6 + 2.0 * progress + float(rng.normal(0, 0.2)),
                note="back stiff after gardening" if day == 17 else None,
            )
        )
    return out


def fill(db: Path, course: list[CourseSession]) -> None:
    """Store the course through the store's interface."""
    with SqliteStore(db) as store:
        for c in course:
            sid = store.create_session(
                NewSession(
                    started_unix=c.started.timestamp(),
                    source="ble:Polar H10 A1B2",
                    practice="body_scan" if c.minutes == 30 else "paced_breathing",
                    planned_s=c.minutes * 60,
                )
            )
            n = int(c.minutes * 60)
            beats = [StoredBeat(t_s=float(t), rr_ms=1000.0) for t in range(1, n + 1, 20)]
            store.add_beats(sid, beats)
            store.add_metrics(
                sid,
                [
                    MetricsSample(
                        float(t),
                        {"rmssd_ms": c.rmssd_ms, "mean_hr_bpm": 62.0, "coherence": c.coherence},
                    )
                    for t in range(60, n, 60)
                ],
            )
            store.set_rating(sid, StoredRating("before", c.pain[0], c.stress[0], c.note))
            store.set_rating(sid, StoredRating("after", c.pain[1], c.stress[1]))
            store.update_session(sid, practice_start_t_s=0.0, practice_s=c.minutes * 60)
            store.end_session(
                sid, reason="completed", end_t_s=float(n), ended_unix=c.started.timestamp() + n
            )


@pytest.fixture
def history_url(tmp_path: Path) -> Iterator[tuple[str, list[CourseSession]]]:
    """``hrvcalm history`` on a database holding a simulated 8-week course."""
    course = simulated_course()
    db = tmp_path / "course.db"
    fill(db, course)
    port = _free_port()
    cmd = [
        sys.executable,
        "-m",
        "hrvcalm",
        "history",
        "--db",
        str(db),
        "--port",
        str(port),
        "--no-browser",
    ]
    url = f"http://127.0.0.1:{port}/history.html"
    with tempfile.TemporaryFile() as stderr:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            deadline = time.monotonic() + SERVER_START_TIMEOUT_S
            while not _answers(url):
                if proc.poll() is not None or time.monotonic() > deadline:
                    stderr.seek(0)
                    pytest.fail(f"history server did not start: {stderr.read().decode()}")
                time.sleep(0.2)
            yield url, course
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def test_history_shows_the_course_sessions_and_ratings(
    history_url: tuple[str, list[CourseSession]], open_page: Any, artifacts_dir: Path
) -> None:
    url, course = history_url
    watched = open_page(url, width=1280, height=900)
    page = watched.page
    page.wait_for_selector('#history[data-state="ready"]', timeout=10_000)

    rows = page.locator('[data-testid="session-row"]')
    assert rows.count() == len(course)
    # Newest first; its ratings are shown as "before → after".
    newest = course[-1]
    first_row = rows.nth(0)
    assert (
        first_row.locator('[data-field="pain"]').inner_text()
        == f"{newest.pain[0]} → {newest.pain[1]}"
    )
    assert (
        first_row.locator('[data-field="stress"]').inner_text()
        == f"{newest.stress[0]} → {newest.stress[1]}"
    )
    assert (
        "back stiff after gardening" in page.locator('[data-testid="sessions-table"]').inner_text()
    )

    assert page.locator('[data-testid="n-sessions"]').inner_text() == str(len(course))
    assert page.locator('[data-testid="course-week"]').inner_text() == "Week 8 of 8"
    mean_change = np.mean([c.pain[1] - c.pain[0] for c in course])
    assert (
        page.locator('[data-testid="pain-change"]').inner_text() == f"\u2212{abs(mean_change):.1f}"
    )

    # The course in view: 8 weekly totals, each the sum of that week's sessions.
    totals = page.locator('[data-testid="week-total"]')
    assert totals.count() == 8
    start = course[0].started.date()
    for week in range(8):
        want = sum(c.minutes for c in course if (c.started.date() - start).days // 7 == week)
        assert totals.nth(week).text_content() == f"{round(want)} min"
    # Every rating is a point; RMSSD for every session; coherence where the timeline had it.
    assert page.locator('[data-testid="pain-chart"]').get_attribute("data-points") == str(
        2 * len(course)
    )
    assert page.locator('[data-testid="rmssd-chart"]').get_attribute("data-points") == str(
        len(course)
    )
    with_coherence = sum(c.coherence is not None for c in course)
    assert page.locator('[data-testid="coherence-chart"]').get_attribute("data-points") == str(
        with_coherence
    )

    page.screenshot(path=str(artifacts_dir / "history.png"), full_page=True)
    assert watched.console_errors == []
    assert all(
        urlparse(u).hostname == "127.0.0.1" for u in watched.requests if u.startswith("http")
    )


def test_history_without_sessions_says_so(tmp_path: Path, open_page: Any) -> None:
    port = _free_port()
    cmd = [
        sys.executable,
        "-m",
        "hrvcalm",
        "history",
        "--db",
        str(tmp_path / "none.db"),
        "--port",
        str(port),
        "--no-browser",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/history.html"
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while not _answers(url):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        watched = open_page(url, width=420, height=800)
        watched.page.wait_for_selector('#history[data-state="empty"]', timeout=10_000)
        assert (
            "No sessions yet" in watched.page.locator('[data-testid="history-empty"]').inner_text()
        )
        assert watched.console_errors == []
        assert not (tmp_path / "none.db").exists()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
