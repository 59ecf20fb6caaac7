"""The live pipeline: one emission per beat, same classification as offline, scheduled metrics."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from hrvcalm.core.analysis import analyze_rr, time_domain
from hrvcalm.core.pipeline import LivePipeline
from hrvcalm.events import METRIC_KEYS, Beat, Metrics, RRNotification
from hrvcalm.server import messages


def run(rr: np.ndarray, pipeline: LivePipeline | None = None) -> list[Beat | Metrics]:
    pipeline = pipeline or LivePipeline()
    out: list[Beat | Metrics] = []
    t = 0.0
    for value in rr:
        t += value / 1000.0
        out += pipeline.push_beat(t, float(value))
    out += pipeline.flush()
    return out


def with_artifacts(rr: np.ndarray) -> np.ndarray:
    bad = rr.copy()
    bad[200] *= 0.65
    bad[201] += 0.35 * rr[200]
    bad[400] += bad[401]
    return np.delete(bad, 401)


def test_beat_then_metrics_once_each(rest_rr: np.ndarray) -> None:
    out = run(with_artifacts(rest_rr))
    beats = out[0::2]
    assert all(isinstance(b, Beat) for b in beats)
    assert all(isinstance(m, Metrics) for m in out[1::2])
    assert [b.rr_ms for b in beats if isinstance(b, Beat)] == list(with_artifacts(rest_rr))


def test_live_flags_equal_offline_classification(rest_rr: np.ndarray) -> None:
    rr = with_artifacts(rest_rr)
    live = [b.artifact for b in run(rr) if isinstance(b, Beat)]
    offline = [k != "normal" for k in analyze_rr(rr).kinds]
    assert live == offline
    assert sum(live) >= 3


def test_time_domain_matches_offline_window(rest_rr: np.ndarray) -> None:
    rr = with_artifacts(rest_rr)
    out = run(rr)
    last = out[-1]
    assert isinstance(last, Metrics)
    t = np.cumsum(rr) / 1000.0
    in_window = t > t[-1] - 60.0
    normal = np.array([k == "normal" for k in analyze_rr(rr).kinds])[in_window]
    ref = time_domain(rr[in_window], normal)
    assert last.rmssd_ms == pytest.approx(ref.rmssd_ms, rel=1e-9)
    assert last.sdnn_ms == pytest.approx(ref.sdnn_ms, rel=1e-9)


def test_scheduled_metrics_appear_and_stay(slow_breathing_rr: np.ndarray) -> None:
    metrics = [m for m in run(slow_breathing_rr) if isinstance(m, Metrics)]
    early = [m for m in metrics if m.t_s < 20.0]
    assert all(m.lf_ms2 is None and m.coherence is None for m in early)
    late = [m for m in metrics if m.t_s > 130.0]
    for key in METRIC_KEYS:
        if key == "vlf_ms2":  # needs 300 s of beats; the live spectra span 120 s
            assert all(m.vlf_ms2 is None for m in metrics)
            continue
        assert all(getattr(m, key) is not None for m in late), key
    # Between recomputations the values are carried over: few distinct LF values per minute.
    lf = {m.lf_ms2 for m in late if m.t_s < 190.0}
    assert len(lf) <= 13


def test_messages_are_valid_json(slow_breathing_rr: np.ndarray) -> None:
    for item in run(slow_breathing_rr[:200]):
        msg = messages.beat(item) if isinstance(item, Beat) else messages.metrics(item)
        json.dumps(msg, allow_nan=False)
        if isinstance(item, Beat):
            assert msg["corrected_rr_ms"] is None or msg["artifact"]
        if isinstance(item, Metrics):
            assert msg["coherence_zone"] in (None, "low", "medium", "high")
            numbers = {k: v for k, v in msg.items() if k not in ("type", "coherence_zone")}
            assert all(v is None or math.isfinite(v) for v in numbers.values())


def test_notifications_path(rest_rr: np.ndarray) -> None:
    pipeline = LivePipeline()
    out: list[Beat | Metrics] = []
    t = 0.0
    batch: list[float] = []
    for value in rest_rr:
        t += value / 1000.0
        batch.append(float(value))
        if len(batch) == 3:
            out += pipeline.push_notification(RRNotification(arrival_s=t, rr_ms=tuple(batch)))
            batch = []
    out += pipeline.flush()
    assert sum(isinstance(b, Beat) for b in out) == 3 * (rest_rr.size // 3)
    assert pipeline.pending == 0


def test_lomb_live(rest_rr: np.ndarray) -> None:
    last = run(rest_rr, LivePipeline(psd="lomb"))[-1]
    assert isinstance(last, Metrics) and last.lf_hf is not None
