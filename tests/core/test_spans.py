"""Windows honest about what they can hold (issue 11): minimum spans for the frequency bands,
partial windows, the artifact warning of ``hrvcalm analyze``, and the new message keys."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hrvcalm.core.analysis import analyze_rr
from hrvcalm.core.pipeline import LivePipeline
from hrvcalm.core.relaxation import MEANING_OF_50
from hrvcalm.events import Metrics
from hrvcalm.server import messages
from tests.physiology import REST, Person, heart

CALM = Person(rate_bpm=12.0, swing_ms=120.0, cv=0.1, mayer_ms=25.0, walk_ms=15.0, seed=2)


def rr_of(seconds: float, person: Person = CALM) -> np.ndarray:
    return heart(person, seconds).rr_ms


@pytest.mark.parametrize(
    ("window_s", "lf", "vlf"),
    [(60.0, False, False), (90.0, False, False), (120.0, True, False), (300.0, True, True)],
)
def test_bands_need_their_span(window_s: float, lf: bool, vlf: bool) -> None:
    """LF, LF/HF and total power need 120 s of beats, VLF 300 s (the old windows reported
    them from 50 s on); HF is there from 50 s."""
    analysis = analyze_rr(rr_of(900.0), window_s=window_s)
    complete = [w.metrics for w in analysis.windows if not w.partial]
    assert complete
    for m in complete:
        assert m.hf_ms2 is not None and m.hf_peak_hz is not None
        assert (m.lf_ms2 is not None) is lf
        assert (m.lf_hf is not None) is lf
        assert (m.total_power_ms2 is not None) is lf
        assert (m.vlf_ms2 is not None) is vlf


def test_partial_window_is_marked_and_left_out_of_the_summary() -> None:
    rr = rr_of(680.0)
    times = np.cumsum(rr) / 1000.0
    analysis = analyze_rr(rr, window_s=300.0)
    assert [w.partial for w in analysis.windows] == [False, False, True]
    tail = analysis.windows[-1].metrics
    assert tail.lf_ms2 is None and tail.vlf_ms2 is None  # 80 s of beats
    # The summary's frequency domain: the beats of the complete windows (the first 600 s).
    first_600 = analyze_rr(rr[times < 600.0], window_s=300.0)
    assert not any(w.partial for w in first_600.windows)
    assert analysis.summary.lf_ms2 == pytest.approx(first_600.summary.lf_ms2)
    assert analysis.summary.vlf_ms2 == pytest.approx(first_600.summary.vlf_ms2)
    # Coherence and breathing rate: medians over the complete windows only.
    complete = [w.metrics.resp_rate_bpm for w in analysis.windows[:2]]
    assert analysis.summary.resp_rate_bpm == pytest.approx(
        float(np.median([v for v in complete if v is not None]))
    )
    # The time domain still covers every beat.
    assert analysis.summary.n_beats == rr.size


def test_a_recording_shorter_than_a_window() -> None:
    analysis = analyze_rr(rr_of(200.0), window_s=300.0)
    assert [w.partial for w in analysis.windows] == [True]
    summary = analysis.summary
    assert summary.lf_ms2 is not None and summary.vlf_ms2 is None  # 200 s of beats
    assert summary.coherence == analysis.windows[0].metrics.coherence
    assert summary.resp_rate_bpm == analysis.windows[0].metrics.resp_rate_bpm


def test_live_spectra_obey_the_same_spans() -> None:
    h = heart(CALM, 400.0)
    pipeline = LivePipeline()
    metrics: list[Metrics] = []
    for t, rr in zip(h.t_s, h.rr_ms, strict=True):
        metrics += [m for m in pipeline.push_beat(float(t), float(rr)) if isinstance(m, Metrics)]
    with_hf = [m.t_s for m in metrics if m.hf_ms2 is not None]
    with_lf = [m.t_s for m in metrics if m.lf_ms2 is not None]
    assert with_hf and with_hf[0] < 60.0
    assert with_lf and 118.0 <= with_lf[0] <= 126.0
    assert all(m.lf_ms2 is not None for m in metrics if m.t_s > 130.0)
    assert all(m.vlf_ms2 is None for m in metrics)  # the live spectra span 120 s


def hrvcalm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hrvcalm", *args], capture_output=True, text=True, timeout=60
    )


def write_rr(path: Path, rr: np.ndarray) -> Path:
    path.write_text("\n".join(f"{v:.1f}" for v in rr) + "\n")
    return path


def test_analyze_warns_once_about_artifacts(tmp_path: Path) -> None:
    rr = rr_of(900.0, REST)
    clean = hrvcalm("analyze", str(write_rr(tmp_path / "clean.txt", rr)))
    assert clean.returncode == 0 and clean.stderr == ""
    # 8 % missed beats (two intervals merged) in the recording: one line, naming the file.
    rng = np.random.default_rng(3)
    merged: list[float] = []
    values = list(rr)
    i = 0
    while i < len(values):
        if i + 1 < len(values) and rng.random() < 0.08:
            merged.append(values[i] + values[i + 1])
            i += 2
        else:
            merged.append(values[i])
            i += 1
    noisy = hrvcalm("analyze", str(write_rr(tmp_path / "noisy.txt", np.asarray(merged))), "--json")
    assert noisy.returncode == 0
    lines = noisy.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("hrvcalm: warning: ") and "noisy.txt" in lines[0]
    assert "% of the beats are artifacts" in lines[0]
    json.loads(noisy.stdout)  # stdout stays pure JSON
    # Artifacts bunched in one window only (under 5 % overall): the window is named.
    bunched = list(rr)
    start = int(np.searchsorted(np.cumsum(rr) / 1000.0, 320.0))
    for k in range(start, start + 80, 2):
        bunched[k] = bunched[k] / 2.0  # extra beats
    one = hrvcalm("analyze", str(write_rr(tmp_path / "bunched.txt", np.asarray(bunched))))
    lines = one.stderr.splitlines()
    assert len(lines) == 1 and "1 of 3 windows have over 10 % artifacts" in lines[0], lines


def test_json_windows_carry_partial_and_zone(tmp_path: Path) -> None:
    done = hrvcalm("analyze", str(write_rr(tmp_path / "rest.txt", rr_of(700.0))), "--json")
    doc = json.loads(done.stdout)
    assert [w["partial"] for w in doc["windows"]] == [False, False, True]
    for w in doc["windows"]:
        assert w["coherence_zone"] in ("low", "medium", "high", None)
        assert (w["coherence_zone"] is None) == (w["coherence"] is None)
    assert doc["summary"]["coherence_zone"] in ("low", "medium", "high")


def test_messages_carry_the_zone_and_the_meaning_of_50() -> None:
    assert messages.hello("sim", 1.0)["relaxation_meaning"] == MEANING_OF_50
    assert messages.metrics(Metrics(t_s=1.0))["coherence_zone"] is None
    assert messages.metrics(Metrics(t_s=1.0, coherence=0.5))["coherence_zone"] == "low"
    assert messages.metrics(Metrics(t_s=1.0, coherence=2.0))["coherence_zone"] == "medium"
    assert messages.metrics(Metrics(t_s=1.0, coherence=9.0))["coherence_zone"] == "high"
