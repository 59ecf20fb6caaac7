"""Per-beat time reconstruction from notification arrival times."""

from __future__ import annotations

import numpy as np
import pytest

from hrvcalm.core.beatclock import BeatClock


def test_first_notification_is_placed_backwards_from_arrival() -> None:
    clock = BeatClock()
    beats = clock.place(10.0, [800.0, 1000.0])
    assert [b.t_s for b in beats] == pytest.approx([9.0, 10.0])
    assert not any(b.gap_before for b in beats)


def test_later_notifications_chain_forwards_and_ignore_jitter() -> None:
    clock = BeatClock()
    clock.place(1.0, [1000.0])
    # arrives 300 ms late: the beat still ended 1000 ms after the previous one
    beats = clock.place(2.3, [1000.0])
    assert beats[0].t_s == pytest.approx(2.0)


def test_chain_is_pulled_back_when_it_runs_ahead_of_arrival() -> None:
    clock = BeatClock()
    clock.place(1.0, [1000.0])
    beats = clock.place(1.9, [1000.0])  # a beat cannot end after its notification arrived
    assert beats[0].t_s == pytest.approx(1.9)


def test_missing_beats_start_a_new_chain_with_a_gap() -> None:
    clock = BeatClock(max_lag_s=3.0)
    clock.place(1.0, [1000.0])
    beats = clock.place(30.0, [900.0, 1000.0])
    assert [b.t_s for b in beats] == pytest.approx([29.0, 30.0])
    assert [b.gap_before for b in beats] == [True, False]


def test_zero_and_negative_intervals_are_skipped_and_counted() -> None:
    clock = BeatClock()
    beats = clock.place(1.0, [0.0, 1000.0, -5.0])
    assert [b.rr_ms for b in beats] == [1000.0]
    assert clock.bad_intervals == 2
    assert clock.place(2.0, [0.0]) == []


def test_times_increase_strictly_and_match_cumsum_on_jittered_arrivals() -> None:
    rng = np.random.default_rng(7)
    rr = 800.0 + 100.0 * rng.random(500)
    ends = np.cumsum(rr) / 1000.0
    clock = BeatClock()
    placed = []
    for end, value in zip(ends, rr, strict=True):
        placed += clock.place(float(end + rng.uniform(0.0, 0.2)), [float(value)])
    times = np.array([b.t_s for b in placed])
    assert np.all(np.diff(times) > 0)
    # anchored on the first (late) arrival, the chain keeps the true spacing
    offsets = times - ends
    assert np.ptp(offsets) < 0.21


def test_a_flooding_strap_cannot_break_the_time_axis() -> None:
    """10,000 notifications in one instant (a misbehaving strap): times stay increasing, the
    chain is pulled back to the arrival time, and the pipeline keeps producing metrics."""
    from hrvcalm.core.pipeline import LivePipeline
    from hrvcalm.events import Metrics, RRNotification

    clock = BeatClock()
    clock.place(1.0, [1000.0])
    placed = [b for _ in range(10_000) for b in clock.place(2.0, [1000.0])]
    times = np.array([b.t_s for b in placed])
    assert np.all(np.diff(times) > 0)
    assert times[0] <= 2.0 + 1e-9

    pipeline = LivePipeline()
    out = []
    for i in range(3_000):
        out += pipeline.push_notification(RRNotification(100.0 + (i // 1000), (800.0, 810.0)))
    metrics = [m for m in out if isinstance(m, Metrics)]
    assert len(metrics) == 6_000 - pipeline.pending
