"""The ECG R-peak detector against cardiologist annotations (MIT-BIH, svdb) and the H10's RR.

References we did not write: the PhysioNet beat annotations, and wfdb's own
``compare_annotations`` as an independent scorer of the same matches.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import wfdb
import wfdb.processing

from hrvcalm.core.ecg import StreamingRPeakDetector, detect_r_peaks, score_detections
from tests.conftest import FIXTURES

#: Annotation symbols that are beats (PhysioNet's beat annotation codes).
BEAT_SYMBOLS = set("NLRBAaJSVrFejnE/fQ?")

RECORDS = [
    # record, folder, minimum sensitivity, minimum positive predictivity
    ("100", "mitdb_100_wfdb", 0.995, 0.995),
    ("800", "svdb800_mitdb208_ecgkit", 0.995, 0.995),
    ("105", "mitdb_105_cliffordlab", 0.985, 0.985),  # heavy noise and artifact
]


def _load(record: str, folder: str) -> tuple[np.ndarray, np.ndarray, float]:
    path = str(FIXTURES / folder / record)
    signal = wfdb.rdrecord(path, channels=[0])
    ann = wfdb.rdann(path, "atr")
    beats = np.array(
        [s for s, sym in zip(ann.sample, ann.symbol, strict=True) if sym in BEAT_SYMBOLS]
    )
    return signal.p_signal[:, 0], beats, float(signal.fs)


@pytest.mark.parametrize(("record", "folder", "min_se", "min_ppv"), RECORDS)
def test_detector_on_annotated_records(
    record: str, folder: str, min_se: float, min_ppv: float
) -> None:
    ecg, reference, fs = _load(record, folder)
    detected = detect_r_peaks(ecg, fs)
    score = score_detections(detected, reference, fs, tolerance_s=0.150)
    assert score.sensitivity >= min_se
    assert score.positive_predictivity >= min_ppv
    # wfdb's independent matcher agrees with ours on the counts.
    wfdb_cmp = wfdb.processing.compare_annotations(reference, detected, int(0.150 * fs))
    assert abs(wfdb_cmp.tp - score.true_positives) <= 2
    assert abs(wfdb_cmp.fp - score.false_positives) <= 2


def test_streaming_matches_the_reference_at_128_hz() -> None:
    ecg, reference, fs = _load("800", "svdb800_mitdb208_ecgkit")
    n = int(600 * fs)  # ten minutes keeps the test quick
    detector = StreamingRPeakDetector(fs)
    peaks: list[int] = []
    for start in range(0, n, 73):  # PMD-sized frames
        peaks += detector.push(ecg[start : min(n, start + 73)].tolist())
    peaks += detector.flush()
    assert peaks == sorted(set(peaks))
    score = score_detections(peaks, reference[reference < n], fs)
    assert score.sensitivity >= 0.995
    assert score.positive_predictivity >= 0.995


def _h10(name: str) -> tuple[np.ndarray, np.ndarray]:
    folder = FIXTURES / "polar_h10_ecg_detectpvc"
    ecg = np.loadtxt(Path(folder, f"{name}_ecg.csv"), delimiter=",", skiprows=1)
    rr = np.loadtxt(Path(folder, f"{name}_rr.csv"), delimiter=",", skiprows=1)
    return ecg, rr[:, 1]


@pytest.mark.parametrize("name", ["h10", "polar_h10"])
def test_h10_ecg_rr_against_the_straps_own_rr(name: str) -> None:
    ecg, strap_rr = _h10(name)
    t_s = (ecg[:, 0] - ecg[0, 0]) / 1e9
    peaks = detect_r_peaks(ecg[:, 1], 130.0)
    ecg_rr = np.diff(t_s[peaks]) * 1000
    assert abs(len(ecg_rr) - len(strap_rr)) <= 6  # the logs start and end a beat or two apart
    best = min(
        (
            float(np.median(np.abs(ecg_rr[max(0, k) :][:n] - strap_rr[max(0, -k) :][:n]))),
            k,
        )
        for k in range(-8, 9)
        if (n := min(len(ecg_rr) - max(0, k), len(strap_rr) - max(0, -k))) > 20
    )
    assert best[0] < 16.0  # ms: within two samples at 130 Hz (PVC morphology shifts some)
