"""The streaming Lipponen-Tarvainen classifier: ordering, look-ahead, and textbook cases."""

from __future__ import annotations

import numpy as np
import pytest

from hrvcalm.core.correction import BeatCorrector, classify_series


def steady(n: int = 120, seed: int = 0) -> list[float]:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return list(850.0 + 40.0 * np.sin(2 * np.pi * t / 5.0) + rng.normal(0.0, 10.0, n))


def test_every_beat_once_in_order(rest_rr: np.ndarray) -> None:
    corrector = BeatCorrector()
    seen = []
    for rr in rest_rr:
        seen += corrector.push(float(rr))
    assert corrector.pending <= corrector.lookahead
    seen += corrector.flush()
    assert [c.index for c in seen] == list(range(rest_rr.size))
    assert [c.rr_ms for c in seen] == [float(v) for v in rest_rr]


def test_normal_beats_are_final_at_once() -> None:
    corrector = BeatCorrector()
    for i, rr in enumerate(steady()):
        out = corrector.push(rr)
        assert [c.index for c in out] == [i]


def test_suspicious_beat_waits_for_lookahead() -> None:
    rr = steady()
    rr[60] *= 0.7  # premature beat...
    rr[61] += 0.3 * rr[61]  # ...and its compensatory pause
    corrector = BeatCorrector()
    outputs = [corrector.push(v) for v in rr]
    assert outputs[60] == []
    assert outputs[60 + corrector.lookahead][0].index == 60
    kinds = {c.index: c.kind for out in outputs for c in out}
    assert kinds[60] != "normal" and kinds[61] != "normal"
    assert sum(k != "normal" for k in kinds.values()) == 2


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda rr: [*rr[:60], rr[60] + rr[61], *rr[62:]], {60: "missed"}),
        (lambda rr: [*rr[:60], 0.4 * rr[60], 0.6 * rr[60], *rr[61:]], {60: "extra", 61: "extra"}),
        (lambda rr: [*rr[:60], 2500.0, *rr[61:]], {60: "range"}),
    ],
)
def test_textbook_artifacts(edit, expected: dict[int, str]) -> None:  # type: ignore[no-untyped-def]
    rr = edit(steady())
    kinds = {c.index: c.kind for c in classify_series(rr)}
    flagged = {i: k for i, k in kinds.items() if k != "normal"}
    assert flagged == expected


def test_missed_beat_display_value_is_half() -> None:
    rr = steady()
    rr = [*rr[:60], rr[60] + rr[61], *rr[62:]]
    c = classify_series(rr)[60]
    assert c.corrected_rr_ms == pytest.approx(rr[60] / 2)


def test_gap_is_not_differenced() -> None:
    rr = steady()
    gaps = [False] * len(rr)
    rr[70] = rr[70] * 1.5  # a jump right after a link gap is not an artifact
    gaps[70] = True
    kinds = [c.kind for c in classify_series(rr, gaps)]
    assert kinds[70] == "normal"


def test_slow_breathing_is_not_an_artifact(slow_breathing_rr: np.ndarray) -> None:
    # RR swings 850 <-> 1150 ms at 3.7 breaths/min: large, but physiological.
    flagged = [c for c in classify_series(slow_breathing_rr.tolist()) if c.artifact]
    assert flagged == []
