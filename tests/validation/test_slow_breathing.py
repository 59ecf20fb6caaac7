"""Breathing rate on a real Polar H10 recording of slow breathing (about 3.7 breaths/min).

PROVENANCE.txt of polar_h10_ibi_slowbreathing: the spectrum of the 4-Hz resampled RR series
peaks at 0.062 Hz (3.7 breaths/min), with RR swinging 850 <-> 1150 ms every 12-16 s. Target
(issue 3): breathing rate within 0.5 breaths/min, offline and live.
"""

from __future__ import annotations

import numpy as np
import pytest

from hrvcalm.core.analysis import analyze_rr
from hrvcalm.core.coherence import breathing_rate
from hrvcalm.core.pipeline import LivePipeline
from hrvcalm.core.spectrum import resample
from hrvcalm.events import Metrics

EXPECTED_BPM = 0.062 * 60.0


def test_whole_recording_rate(slow_breathing_rr: np.ndarray) -> None:
    rr = slow_breathing_rr
    _, rr_4hz = resample(np.cumsum(rr) / 1000.0, rr)
    # The last 120 s of the recording, and the analysis summary (median over its windows).
    assert breathing_rate(rr_4hz) == pytest.approx(EXPECTED_BPM, abs=1.5)
    summary = analyze_rr(rr, window_s=120.0, step_s=30.0).summary
    assert summary.resp_rate_bpm == pytest.approx(EXPECTED_BPM, abs=0.5)
    assert summary.lf_peak_hz == pytest.approx(0.062, abs=0.004)


def test_live_rate(slow_breathing_rr: np.ndarray) -> None:
    pipeline = LivePipeline()
    t = 0.0
    out = []
    for rr in slow_breathing_rr:
        t += rr / 1000.0
        out += pipeline.push_beat(t, float(rr))
    out += pipeline.flush()
    rates = [m.resp_rate_bpm for m in out if isinstance(m, Metrics) and m.resp_rate_bpm]
    assert rates
    assert float(np.median(rates)) == pytest.approx(EXPECTED_BPM, abs=0.5)
    coherent = [m.coherence for m in out if isinstance(m, Metrics) and m.coherence is not None]
    assert float(np.median(coherent)) > 1.0  # slow deliberate breathing is coherent
