"""The relaxation signal: 50 at baseline, +25 per doubling of every marker, clipped 0-100."""

from __future__ import annotations

import pytest

from hrvcalm.core.relaxation import RelaxationSignal


def test_baseline_reads_50_and_doubling_reads_75() -> None:
    signal = RelaxationSignal(baseline_s=10.0)
    for t in range(11):
        assert signal.update(float(t), 40.0, resonance_bpm=8.0, coherence=1.0) == pytest.approx(50)
    # Doubling RMSSD and amplitude, and (1 + coherence) doubling too: +25 points.
    assert signal.update(100.0, 80.0, resonance_bpm=16.0, coherence=3.0) == pytest.approx(75)
    assert signal.update(101.0, 5.0, resonance_bpm=1.0, coherence=0.0) == 0.0
    assert signal.update(102.0, 40.0 * 64, resonance_bpm=8.0 * 64, coherence=255.0) == 100.0


def test_rmssd_alone_until_the_others_exist() -> None:
    signal = RelaxationSignal(baseline_s=5.0)
    assert signal.update(0.0, None) is None
    assert signal.update(1.0, 30.0) == pytest.approx(50)
    assert signal.update(20.0, 60.0) == pytest.approx(75)
    assert signal.baseline_rmssd_ms == pytest.approx(30.0)


def test_weights_renormalised() -> None:
    signal = RelaxationSignal(baseline_s=5.0)
    signal.update(0.0, 30.0, coherence=1.0)
    # RMSSD unchanged, coherence (1 + c) doubled: 25 * 0.3 / 0.7 points.
    assert signal.update(30.0, 30.0, coherence=3.0) == pytest.approx(50 + 25 * 0.3 / 0.7)
