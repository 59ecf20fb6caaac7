"""Offline windows computed together (core/batch.py) equal the same windows computed one by one.

The reference here is the single-window path (``time_domain`` + ``scheduled_metrics`` on one
window's beats and its slice of the 4 Hz grid), which the validation tests check against the
PhysioNet toolbox and NeuroKit.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from hrvcalm.core.analysis import (
    _beats,
    analyze_rr,
    pairs,
    time_domain,
    window_starts,
)
from hrvcalm.core.metrics import Scheduled, assemble, scheduled_metrics
from hrvcalm.recordings import read_recording

MetricsDict = dict[str, float | None]
NSR001 = Path(__file__).resolve().parents[2] / "fixtures/recordings/nsr2db_cliffordlab/nsr001.ecg"


def _one_by_one(
    rr: np.ndarray, normal: np.ndarray, window_s: float, step_s: float, psd: str, min_beats: int
) -> list[dict[str, float | None]]:
    times = np.cumsum(rr) / 1000.0
    beats = _beats(times, rr, normal)
    out = []
    for start in window_starts(float(times[-1]), window_s, step_s):
        lo = int(np.searchsorted(times, start, side="left"))
        hi = int(np.searchsorted(times, start + window_s, side="left"))
        t, r, n = times[lo:hi], rr[lo:hi], normal[lo:hi]
        td = time_domain(r, n, min_beats=min_beats)
        sched = Scheduled()
        if td.mean_nn_ms is not None:
            grid = beats.grid_between(float(t[n][0]), float(t[n][-1]))
            sched = scheduled_metrics(t, r, n, pairs(n), grid, psd=psd)
        t_end = float(t[-1]) if hi > lo else float(start)
        out.append(dataclasses.asdict(assemble(t_end, td, sched)))
    return out


def _assert_same(
    batch: list[dict[str, float | None]], single: list[dict[str, float | None]]
) -> int:
    assert len(batch) == len(single)
    compared = 0
    for i, (b, s) in enumerate(zip(batch, single, strict=True)):
        for key, expected in s.items():
            got = b[key]
            assert (got is None) == (expected is None), (i, key, got, expected)
            if expected is not None and got is not None:
                assert math.isclose(got, expected, rel_tol=1e-7, abs_tol=1e-9), (
                    i,
                    key,
                    got,
                    expected,
                )
                compared += 1
    return compared


@pytest.fixture(scope="module")
def nsr001_rr() -> np.ndarray:
    return np.asarray(read_recording(NSR001).rr_ms[:12_000], dtype=np.float64)


@pytest.mark.parametrize(
    ("window_s", "step_s", "psd", "min_beats"),
    [
        (300.0, 30.0, "welch", 30),  # the benchmark's windows
        (120.0, 7.0, "welch", 30),  # the live span: breathing and coherence on short rows
        (300.0, 60.0, "lomb", 30),  # Lomb spectra window by window, the rest together
        (300.0, 150.0, "welch", 380),  # some windows too short for any metric
        (900.0, 450.0, "welch", 30),  # longer than one Welch segment: several segments
    ],
)
def test_windows_together_equal_windows_one_by_one(
    nsr001_rr: np.ndarray, window_s: float, step_s: float, psd: str, min_beats: int
) -> None:
    rr = nsr001_rr.copy()
    # Seeded artifacts (missed and extra beats, ectopics), so windows differ in normal beats.
    rng = np.random.default_rng(3)
    for i in rng.choice(np.arange(10, rr.size - 10), size=120, replace=False):
        rr[i] *= rng.choice([2.0, 0.5, 0.7])
    analysis = analyze_rr(rr, window_s=window_s, step_s=step_s, psd=psd, min_beats=min_beats)
    normal = np.array([k == "normal" for k in analysis.kinds])
    assert 0 < np.count_nonzero(~normal) < rr.size // 10
    batch = [dataclasses.asdict(w.metrics) for w in analysis.windows]
    single = _one_by_one(rr, normal, window_s, step_s, psd, min_beats)
    assert _assert_same(batch, single) > 10 * len(single)
    if min_beats > 30:  # the case is only useful if some windows really are empty
        assert any(w["mean_nn_ms"] is None for w in batch)
        assert any(w["mean_nn_ms"] is not None for w in batch)


def test_hours_long_windows_take_the_direct_dfa(nsr001_rr: np.ndarray) -> None:
    """Windows over 5,000 beats use the direct DFA loop; results still match."""
    rr = nsr001_rr
    analysis = analyze_rr(rr, window_s=5400.0, step_s=2700.0)
    normal = np.array([k == "normal" for k in analysis.kinds])
    batch = [dataclasses.asdict(w.metrics) for w in analysis.windows]
    assert max(w["n_beats"] or 0 for w in batch) > 5000
    _assert_same(batch, _one_by_one(rr, normal, 5400.0, 2700.0, "welch", 30))
