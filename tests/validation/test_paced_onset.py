"""Artifact correction when a patient starts slow paced breathing (issue 11), against NeuroKit.

Synthetic physiology of known truth (tests/validation/paced_model.py): a heart-rate model with
respiratory sinus arrhythmia that grows from ~50 ms at 15 breaths/min to 300-500 ms of RR peak
to trough at 3-10 breaths/min within a minute, asymmetric breaths (fast rise, slow return),
+-30 % irregular breaths, a Mayer wave and mild noise. The seeds here (20-23) are not the ones
the classifier was developed on (0-3 and 10-15).

Targets:
- onset, no artifacts: at most 0.5 % of the beats flagged on average, and the live 60-s RMSSD
  never more than 10 % below the true one (all beats of the same window, nothing excluded);
- 2 % seeded missed, extra and ectopic beats in the high-RSA part: RMSSD within 5 % and SDNN
  within 3 % of the clean series, every rate and seed; detection see
  :func:`test_injected_artifacts_at_high_rsa`;
- pyhrv's NN series (nsrdb): correction moves RMSSD at most 5 %.

NeuroKit's ``signal_fixpeaks(method="Kubios")`` runs on the same data in the same test and is
printed beside ours (``pytest -s``); it is not asserted on.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from hrvcalm.core.correction import classify_series
from hrvcalm.core.pipeline import LivePipeline
from hrvcalm.events import Metrics
from tests.conftest import FIXTURES
from tests.validation.paced_model import Onset, inject, onset_rr

RATES = (3.0, 4.5, 6.0, 8.0, 10.0)
SEEDS = (20, 21, 22, 23)
PYHRV = FIXTURES / "pyhrv_nni_nsrdb"


def patient(seed: int, rate: float, duration_s: float = 480.0) -> Onset:
    """A seeded patient: resting heart rate 56-72 bpm, paced RSA swing 300-500 ms."""
    rng = np.random.default_rng(1000 + seed)
    return Onset(
        seed=seed,
        rate_bpm=rate,
        swing_ms=float(rng.uniform(300.0, 500.0)),
        hr0_bpm=float(rng.uniform(56.0, 72.0)),
        duration_s=duration_s,
    )


def rmssd(rr: np.ndarray, normal: np.ndarray | None = None) -> float:
    ok = np.ones(rr.size - 1, bool) if normal is None else normal[1:] & normal[:-1]
    d = np.diff(rr)[ok]
    return float(np.sqrt(np.mean(d * d)))


def sdnn(rr: np.ndarray, normal: np.ndarray | None = None) -> float:
    return float(np.std(rr if normal is None else rr[normal], ddof=1))


def neurokit(rr: np.ndarray) -> tuple[set[int], np.ndarray]:
    """NeuroKit's Kubios method: the intervals it flags and its corrected series."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import neurokit2 as nk

        fs = 1000
        peaks = np.concatenate(([0], np.round(np.cumsum(rr) * fs / 1000).astype(int)))
        info, fixed = nk.signal_fixpeaks(peaks, sampling_rate=fs, method="Kubios", iterative=False)
    flagged: set[int] = set()
    for key in ("ectopic", "missed", "extra", "longshort"):
        flagged |= {int(p) - 1 for p in info[key]}  # peak p ends interval p - 1
    return flagged, np.diff(np.asarray(fixed, dtype=np.float64)) * 1000.0 / fs


def live_worst_rmssd_ratio(t: np.ndarray, rr: np.ndarray) -> tuple[float, float]:
    """Live: the lowest 60-s RMSSD over the true one, and the fraction of beats flagged."""
    pipeline = LivePipeline()
    out = []
    for ts, value in zip(t.tolist(), rr.tolist(), strict=True):
        out += pipeline.push_beat(ts, value)
    out += pipeline.flush()
    worst = 1.0
    for m in out:
        if isinstance(m, Metrics) and m.rmssd_ms is not None:
            window = rr[(t > m.t_s - 60.0) & (t <= m.t_s)]
            worst = min(worst, m.rmssd_ms / rmssd(window))
    return worst, pipeline.n_artifacts / pipeline.n_beats


def test_onset_of_paced_breathing_is_not_an_artifact() -> None:
    flagged, nk_flagged, worst = [], [], 1.0
    for rate in RATES:
        for seed in SEEDS:
            t, rr = onset_rr(patient(seed, rate))
            ratio, fraction = live_worst_rmssd_ratio(t, rr)
            nk, _ = neurokit(rr)
            flagged.append(fraction)
            nk_flagged.append(len(nk) / rr.size)
            worst = min(worst, ratio)
            print(
                f"{rate:4.1f}/min seed {seed}: flagged {100 * fraction:.2f} % "
                f"(NeuroKit {100 * len(nk) / rr.size:.2f} %), worst live RMSSD {ratio:.3f} x true"
            )
    mean, nk_mean = 100 * np.mean(flagged), 100 * np.mean(nk_flagged)
    print(f"onset: flagged {mean:.3f} % of beats (NeuroKit {nk_mean:.3f} %), worst {worst:.3f}")
    assert mean <= 0.5
    assert worst >= 0.9


def test_injected_artifacts_at_high_rsa() -> None:
    """2 % missed/extra/ectopic beats after the ramp, 20 minutes per rate and seed.

    Detection: >= 99 % over the slow rates (3-6/min, 10-20 beats a breath) and >= 95 % over
    all, where at 8-10/min a breath is 5-8 beats and the fast rise of an asymmetric breath
    moves RR by up to 390 ms in one beat: an ectopic beat at the foot of such a rise is not
    a short-long couplet any more (measured: NeuroKit's detection, printed, is lower still).
    """
    caught = {"ours": [0, 0], "slow": [0, 0], "nk": [0, 0]}
    for rate in RATES:
        for seed in SEEDS:
            o = patient(seed, rate, duration_s=1500.0)
            t, rr = onset_rr(o)
            clean = rr[np.searchsorted(t, o.onset_s + o.ramp_s) :]
            corrupted, marked = inject(clean, 0.02, seed)
            normal = np.array([not c.artifact for c in classify_series(corrupted.tolist())])
            d_rmssd = 100 * (rmssd(corrupted, normal) / rmssd(clean) - 1)
            d_sdnn = 100 * (sdnn(corrupted, normal) / sdnn(clean) - 1)
            hit = sum(not normal[i] for i in marked)
            nk, fixed = neurokit(corrupted)
            nk_hit = sum(i in nk for i in marked)
            nk_rmssd = 100 * (rmssd(fixed) / rmssd(clean) - 1)
            nk_sdnn = 100 * (sdnn(fixed) / sdnn(clean) - 1)
            print(
                f"{rate:4.1f}/min seed {seed}: RMSSD {d_rmssd:+.2f} % SDNN {d_sdnn:+.2f} % "
                f"caught {hit}/{len(marked)} | NeuroKit RMSSD {nk_rmssd:+.2f} % "
                f"SDNN {nk_sdnn:+.2f} % caught {nk_hit}/{len(marked)}"
            )
            assert abs(d_rmssd) <= 5.0
            assert abs(d_sdnn) <= 3.0
            for key, n in (("ours", hit), ("nk", nk_hit)) + ((("slow", hit),) if rate <= 6 else ()):
                caught[key][0] += n
                caught[key][1] += len(marked)
    share = {key: 100 * a / b for key, (a, b) in caught.items()}
    print("detection %:", {key: round(value, 2) for key, value in share.items()})
    assert share["slow"] >= 99.0
    assert share["ours"] >= 95.0


@pytest.mark.parametrize("name", ["SampleNNISeriesLong", "SampleNNISeriesShort"])
def test_pyhrv_nn_series_left_alone(name: str) -> None:
    rr = np.load(PYHRV / f"{name}.npy").astype(np.float64)
    normal = np.array([not c.artifact for c in classify_series(rr.tolist())])
    change = 100 * (rmssd(rr, normal) / rmssd(rr) - 1)
    nk, fixed = neurokit(rr)
    nk_change = 100 * (rmssd(fixed) / rmssd(rr) - 1)
    print(
        f"{name}: {int((~normal).sum())} of {rr.size} flagged, RMSSD {change:+.2f} % | "
        f"NeuroKit {len(nk)} flagged, RMSSD {nk_change:+.2f} %"
    )
    assert abs(change) <= 5.0


def test_no_cascade_after_a_flagged_beat() -> None:
    """A lone long beat in a surge is flagged at most alone: the next is not judged against
    a replacement (the reviewer's ``844 [1062][1125] 891`` pattern, and a gross spike)."""
    base = [844.0, 820.0, 844.0, 860.0, 900.0] * 12
    surge = [*base[:30], 844.0, 1062.0, 1125.0, 891.0, *base[30:]]
    assert not any(c.artifact for c in classify_series(surge))
    spike = [*base[:30], 844.0, 1600.0, 1125.0, 891.0, *base[30:]]
    flagged = [c.index for c in classify_series(spike) if c.artifact]
    assert flagged == [31]
