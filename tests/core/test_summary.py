"""How a session went: the rules of core/summary.py, one test each, no event loop."""

from __future__ import annotations

import pytest

from hrvcalm.core.session import Phase, SessionState
from hrvcalm.core.summary import (
    EDGE_S,
    MAX_HOLD_S,
    Ratings,
    Sample,
    SummaryBuilder,
    next_length_min,
    summarize,
    zone_of,
)


def timeline(n: int, **values: object) -> list[Sample]:
    return [Sample.from_values(float(t), values) for t in range(n)]


def test_start_and_end_are_means_over_the_first_and_last_known_minute() -> None:
    # RMSSD unknown for the first 30 s, then rising 1 ms a second; heart rate falls.
    samples = [
        Sample.from_values(
            float(t), {"rmssd_ms": None if t < 30 else float(t), "mean_hr_bpm": 80.0 - t / 10}
        )
        for t in range(300)
    ]
    s = summarize(samples, practice="paced_breathing", start_t_s=0.0, end_t_s=299.0)
    assert s.start["rmssd_ms"] == pytest.approx((30 + 30 + EDGE_S) / 2)  # 30..90, first known
    assert s.end["rmssd_ms"] == pytest.approx((239 + 299) / 2)
    assert s.start["mean_hr_bpm"] == pytest.approx(80.0 - 3.0)
    assert s.start["relaxation"] is None and s.end["relaxation"] is None  # never known


def test_samples_outside_the_practice_are_left_out() -> None:
    samples = timeline(200, mean_hr_bpm=70.0)
    samples[10] = Sample.from_values(10.0, {"mean_hr_bpm": 200.0})  # before the start
    s = summarize(samples, practice="body_scan", start_t_s=60.0, end_t_s=180.0)
    assert s.start["mean_hr_bpm"] == 70.0 and s.minutes == pytest.approx(2.0)


def test_time_in_zones_holds_each_zone_until_the_next_sample_with_a_cap() -> None:
    samples = [
        Sample.from_values(0.0, {"coherence": 0.2}),  # low, 5 s
        Sample.from_values(5.0, {"coherence": 2.0}),  # medium, 5 s
        Sample.from_values(10.0, {"coherence": 9.0}),  # high, held at most MAX_HOLD_S
        Sample.from_values(60.0, {"coherence": 9.0, "coherence_zone": "low"}),  # the server's
    ]
    s = summarize(samples, practice="paced_breathing", start_t_s=0.0, end_t_s=63.0)
    assert s.zones_s == {"low": 5.0 + 3.0, "medium": 5.0, "high": MAX_HOLD_S}


@pytest.mark.parametrize(
    ("values", "zone"),
    [
        ({"coherence": 0.89}, "low"),  # the limits of core/coherence.py (0.9, 4.0)
        ({"coherence": 0.9}, "medium"),
        ({"coherence": 4.0}, "high"),
        ({"coherence": None}, None),
        ({"coherence": 0.1, "coherence_zone": "high"}, "high"),
        ({"coherence": 0.1, "coherence_zone": "bogus"}, "low"),
    ],
)
def test_zone_of(values: dict[str, object], zone: str | None) -> None:
    assert zone_of(Sample.from_values(0.0, values)) == zone


def test_breathing_rate_is_the_median_and_the_pacer_only_when_shown() -> None:
    samples = [Sample.from_values(float(t), {"resp_rate_bpm": 6.0 + (t % 3)}) for t in range(90)]
    guided = summarize(
        samples, practice="paced_breathing", start_t_s=0, end_t_s=90, pacer_rate_bpm=6.0
    )
    assert guided.resp_rate_bpm == 7.0 and guided.pacer_rate_bpm == 6.0
    free = summarize(
        samples, practice="body_scan", start_t_s=0, end_t_s=90, pacer_rate_bpm=6.0, guided=False
    )
    assert free.pacer_rate_bpm is None
    assert not any("circle" in tip for tip in free.next)


def test_suggestions() -> None:
    base = {"practice": "paced_breathing", "start_t_s": 0.0}
    completed = summarize(timeline(300), end_t_s=300.0, planned_s=300.0, **base)
    assert completed.completed and "try 10 minutes" in completed.next[0]
    stopped = summarize(
        timeline(200), end_t_s=200.0, planned_s=600.0, ended_reason="stopped", **base
    )
    assert not stopped.completed and "Stopping early is fine" in stopped.next[0]
    ran_out = summarize(
        timeline(200), end_t_s=200.0, planned_s=600.0, ended_reason="source_ended", **base
    )
    assert "recording ended" in ran_out.next[0]
    fast = summarize(timeline(300, resp_rate_bpm=9.0), end_t_s=300.0, pacer_rate_bpm=6.0, **base)
    assert any("faster than the circle" in tip and "5.5" in tip for tip in fast.next)
    low = summarize(timeline(300, coherence=0.1), end_t_s=300.0, **base)
    assert any("mostly low" in tip and "Find your breathing rate" in tip for tip in low.next)
    worse = summarize(
        timeline(60), end_t_s=60.0, ratings=Ratings(pain_before=3, pain_after=5), **base
    )
    assert any("Pain was higher" in tip for tip in worse.next)
    plain = summarize(timeline(60), end_t_s=60.0, **base)
    assert plain.next  # always at least one


@pytest.mark.parametrize(
    ("minutes", "completed", "length"),
    [(5, True, 10), (20, True, 20), (1, True, 5), (7.5, False, 5), (12, False, 10), (2, False, 5)],
)
def test_next_length(minutes: float, completed: bool, length: int) -> None:
    assert next_length_min(minutes, completed) == length


def test_the_builder_is_the_same_summary_in_bounded_memory() -> None:
    samples = [
        Sample.from_values(
            float(t), {"rmssd_ms": 20.0 + t % 7, "coherence": (t % 5) * 1.5, "resp_rate_bpm": 6.2}
        )
        for t in range(4000)
    ]
    builder = SummaryBuilder()
    for sample in samples:
        builder.add(sample)
    live = builder.summary(practice="paced_breathing", start_t_s=0.0, end_t_s=4000.0)
    assert live == summarize(samples, practice="paced_breathing", start_t_s=0.0, end_t_s=4000.0)
    assert len(builder._last) <= 2 * EDGE_S + 1
    assert live.as_json()["zones_s"]["high"] > 0


def test_a_session_renews_with_its_practice_and_length() -> None:
    state = SessionState(duration_s=600.0, practice="body_scan")
    with pytest.raises(ValueError, match="still running"):
        state.renew()
    state.start(0.0)
    state.tick(600.0)
    assert (state.phase, state.ended_reason) == (Phase.ENDED, "completed")
    fresh = state.renew(300.0)
    assert (fresh.phase, fresh.practice, fresh.duration_s, fresh.ratings) == (
        Phase.READY,
        "body_scan",
        600.0,
        {},
    )
    resonance = SessionState(practice="resonance")
    resonance.stop(1.0)
    assert resonance.ended_reason == "stopped" and not resonance.practised
    assert (resonance.renew(300.0).practice, resonance.renew(300.0).duration_s) == (
        "paced_breathing",
        300.0,
    )
