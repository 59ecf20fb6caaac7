"""Streaming time-domain HRV against NumPy, NeuroKit and the offline implementation."""

from __future__ import annotations

import math
import warnings

import numpy as np
import numpy.typing as npt
import pytest

from hrvcalm.core.analysis import time_domain
from hrvcalm.core.window import SlidingTimeDomain

FloatArray = npt.NDArray[np.float64]


def numpy_reference(rr: FloatArray) -> tuple[float, float, float, float]:
    diffs = np.diff(rr)
    return (
        float(np.mean(rr)),
        float(np.std(rr, ddof=1)),
        float(np.sqrt(np.mean(diffs**2))),
        100.0 * float(np.mean(np.abs(diffs) > 50.0)),
    )


def test_whole_recording_window_matches_numpy(rest_rr: FloatArray) -> None:
    window = SlidingTimeDomain(window_s=1e9, min_beats=30)
    t = 0.0
    for rr in rest_rr:
        t += rr / 1000.0
        window.push(t, float(rr))
    m = window.metrics()
    expected = numpy_reference(rest_rr)
    got = (m.mean_nn_ms, m.sdnn_ms, m.rmssd_ms, m.pnn50_pct)
    assert got == pytest.approx(expected, rel=1e-9)
    assert m.n_beats == rest_rr.size
    assert m.mean_hr_bpm == pytest.approx(60_000.0 / expected[0])


def test_whole_recording_matches_neurokit(rest_rr: FloatArray) -> None:
    import neurokit2 as nk

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (FutureWarning, DeprecationWarning))
        ref = nk.hrv_time({"RRI": rest_rr, "RRI_Time": np.cumsum(rest_rr) / 1000.0})
    window = SlidingTimeDomain(window_s=1e9)
    t = 0.0
    for rr in rest_rr:
        t += rr / 1000.0
        window.push(t, float(rr))
    m = window.metrics()
    assert m.mean_nn_ms == pytest.approx(float(ref["HRV_MeanNN"].iloc[0]), rel=1e-9)
    assert m.sdnn_ms == pytest.approx(float(ref["HRV_SDNN"].iloc[0]), rel=1e-9)
    assert m.rmssd_ms == pytest.approx(float(ref["HRV_RMSSD"].iloc[0]), rel=1e-9)
    # NeuroKit divides NN50 by the number of intervals, we (and the PhysioNet toolbox) by
    # the number of successive differences: the two differ by exactly n / (n - 1).
    n = rest_rr.size
    assert m.pnn50_pct == pytest.approx(float(ref["HRV_pNN50"].iloc[0]) * n / (n - 1), rel=1e-9)


@pytest.mark.parametrize("window_s", [30.0, 60.0, 120.0])
def test_sliding_window_equals_recomputing_every_beat(
    slow_breathing_rr: FloatArray, window_s: float
) -> None:
    """After every beat the incremental sums equal a fresh computation on the same beats."""
    rr = slow_breathing_rr
    times = np.cumsum(rr) / 1000.0
    normal = np.ones(rr.size, dtype=bool)
    normal[::37] = False  # some beats marked as artifacts
    window = SlidingTimeDomain(window_s=window_s, min_beats=10)
    checked = 0
    for i, (t, value) in enumerate(zip(times, rr, strict=True)):
        window.push(float(t), float(value), normal=bool(normal[i]))
        lo = int(np.searchsorted(times, t - window_s, side="right"))
        ref = time_domain(rr[lo : i + 1], normal[lo : i + 1], min_beats=10)
        got = window.metrics()
        assert got.n_beats == ref.n_beats
        if ref.rmssd_ms is None:
            assert got.rmssd_ms is None
            continue
        checked += 1
        assert got.mean_nn_ms == pytest.approx(ref.mean_nn_ms, rel=1e-9)
        assert got.sdnn_ms == pytest.approx(ref.sdnn_ms, rel=1e-7)
        assert got.rmssd_ms == pytest.approx(ref.rmssd_ms, rel=1e-7)
        assert got.pnn50_pct == pytest.approx(ref.pnn50_pct, rel=1e-9)
        assert got.artifacts_pct == pytest.approx(ref.artifacts_pct, rel=1e-9)
    assert checked > rr.size - 100


def test_metrics_are_null_until_enough_beats() -> None:
    window = SlidingTimeDomain(window_s=60.0, min_beats=30)
    for i in range(29):
        window.push(float(i + 1), 1000.0 + (i % 2) * 20.0)
        assert window.metrics().rmssd_ms is None
    window.push(30.0, 1000.0)
    assert window.metrics().rmssd_ms is not None


def test_gap_and_artifacts_break_successive_differences() -> None:
    window = SlidingTimeDomain(window_s=1e9, min_beats=3)
    for t, rr, normal, gap in [
        (1.0, 1000.0, True, False),
        (2.0, 1010.0, True, False),  # diff 10
        (3.0, 1500.0, False, False),  # artifact: no diffs with it
        (4.0, 1030.0, True, False),
        (10.0, 1100.0, True, True),  # gap before: no diff 70
        (11.0, 1060.0, True, False),  # diff -40
    ]:
        window.push(t, rr, normal=normal, gap_before=gap)
    m = window.metrics()
    assert m.rmssd_ms == pytest.approx(math.sqrt((10.0**2 + 40.0**2) / 2))
    assert m.pnn50_pct == 0.0
    assert m.n_beats == 6 and m.n_normal == 5
    assert m.artifacts_pct == pytest.approx(100.0 / 6)


def test_long_sessions_do_not_drift() -> None:
    rng = np.random.default_rng(3)
    rr = 900.0 + 50.0 * rng.standard_normal(20_000)
    window = SlidingTimeDomain(window_s=60.0)
    times = np.cumsum(rr) / 1000.0
    for t, value in zip(times, rr, strict=True):
        window.push(float(t), float(value))
    lo = int(np.searchsorted(times, times[-1] - 60.0, side="right"))
    expected = numpy_reference(rr[lo:])
    m = window.metrics()
    assert (m.mean_nn_ms, m.sdnn_ms, m.rmssd_ms) == pytest.approx(expected[:3], rel=1e-10)
