"""Agreement with NeuroKit2 (and SciPy) on real strap recordings.

NeuroKit's ``hrv_time`` and ``hrv_nonlinear`` define mean NN, SDNN, RMSSD, SD1 and SD2 as we
do: they must agree to rounding on the same intervals (no correction on either side). Its DFA
uses 4-11 beat boxes overlapping by half; ours does too when asked. Its frequency domain
interpolates at 100 Hz and reports powers in its own normalisation, so only the LF/HF ratio is
compared, loosely; our Welch itself is checked exactly against ``scipy.signal.welch`` on the
same resampled series, and physical units on analytic sines (test_analytic.py).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import signal

from hrvcalm.core.analysis import analyze_rr
from hrvcalm.core.nonlinear import dfa_alpha1
from hrvcalm.core.spectrum import RESAMPLE_HZ, resample, welch_psd
from tests.conftest import FIXTURES, load_rr_column

RECORDINGS = [
    "polar_rr_rhenanbartels_hrv/rest_rri.txt",
    "polar_rr_rhenanbartels_hrv/real_rri.txt",
    "polar_h10_ibi_slowbreathing/sample_data_ibi.csv",
]


@pytest.fixture(scope="module")
def nk():  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import neurokit2

    return neurokit2


def neurokit_hrv(nk, rr: np.ndarray) -> dict[str, float]:  # type: ignore[no-untyped-def]
    peaks = nk.intervals_to_peaks(rr, sampling_rate=1000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frames = [
            nk.hrv_time(peaks, sampling_rate=1000),
            nk.hrv_frequency(peaks, sampling_rate=1000),
            nk.hrv_nonlinear(peaks, sampling_rate=1000),
        ]
    out: dict[str, float] = {}
    for frame in frames:
        out.update({key: float(frame[key].iloc[0]) for key in frame.columns})
    return out


@pytest.mark.parametrize("name", RECORDINGS)
def test_whole_recording_against_neurokit(nk, name: str) -> None:  # type: ignore[no-untyped-def]
    rr = load_rr_column(FIXTURES / name)
    rr = rr[rr > 0]  # real_rri.txt holds one 0 ms value, which our readers skip too
    ref = neurokit_hrv(nk, rr)
    ours = analyze_rr(rr, window_s=1e6, correction=False).summary
    assert ours.mean_nn_ms == pytest.approx(ref["HRV_MeanNN"], rel=1e-9)
    assert ours.sdnn_ms == pytest.approx(ref["HRV_SDNN"], rel=1e-9)
    assert ours.rmssd_ms == pytest.approx(ref["HRV_RMSSD"], rel=1e-9)
    assert ours.sd1_ms == pytest.approx(ref["HRV_SD1"], rel=1e-9)
    assert ours.sd2_ms == pytest.approx(ref["HRV_SD2"], rel=1e-9)
    # NeuroKit divides pNN50 by the number of intervals, we (and the toolbox) by differences;
    # its peaks-to-intervals round trip also moves a difference across 50 ms now and then.
    n = rr.size
    assert ours.pnn50_pct == pytest.approx(ref["HRV_pNN50"] * n / (n - 1), abs=0.25)
    assert dfa_alpha1(rr, np.arange(4, 12), overlap=True) == pytest.approx(
        ref["HRV_DFA_alpha1"], rel=0.01
    )
    assert ours.lf_hf == pytest.approx(ref["HRV_LFHF"], rel=0.3)


def test_welch_matches_scipy(slow_breathing_rr: np.ndarray) -> None:
    rr = slow_breathing_rr
    _, x = resample(np.cumsum(rr) / 1000.0, rr)
    ours = welch_psd(x, RESAMPLE_HZ, segment_s=120.0)
    freqs, ref = signal.welch(x, fs=RESAMPLE_HZ, window="hann", nperseg=480, detrend="constant")
    np.testing.assert_allclose(ours.freqs_hz, freqs)
    # SciPy's "hann" is the periodic window, NumPy's the symmetric one: 0.2 % apart at n=480.
    np.testing.assert_allclose(ours.psd_ms2_hz, ref, rtol=0.02, atol=1e-6 * float(np.max(ref)))
