"""Outcome measures a back-pain clinic tracks over a course, scored (sans-I/O).

- PEG (Krebs et al. 2009, J Gen Intern Med 24:733): three items 0-10 - average pain in the
  past week, interference with enjoyment of life, interference with general activity;
  score = the mean of the three (0-10).
- Roland-Morris Disability Questionnaire (Roland & Morris 1983; the 24-item version): 24
  yes/no statements; score = the number of yes answers (0-24). Cherkin et al. 2016 (JAMA
  315:1240) used a 23-item modification; this is the original 24-item form.
- Responders (Deyo et al. 2014, NIH Task Force research standards; Cherkin 2016): an
  improvement of at least 30 % from week 0 (a lower score is better on both).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

PEG = "peg"
RMDQ = "rmdq"
INSTRUMENTS = (PEG, RMDQ)
PEG_ITEMS = (
    "average pain in the past week",
    "interference with enjoyment of life",
    "interference with general activity",
)
RMDQ_ITEMS = 24
#: Relative improvement from week 0 that makes a responder.
RESPONDER_IMPROVEMENT = 0.30


def peg_score(items: Sequence[int]) -> float:
    """PEG score: the mean of its three 0-10 items.

    Raises:
        ValueError: Not three whole numbers 0-10.
    """
    if len(items) != len(PEG_ITEMS) or any(
        isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 10 for v in items
    ):
        raise ValueError("the PEG has 3 items, each a whole number 0-10")
    return sum(items) / len(items)


def rmdq_score(items: Sequence[bool]) -> int:
    """Roland-Morris score: the number of the 24 statements answered yes.

    Raises:
        ValueError: Not 24 yes/no answers.
    """
    if len(items) != RMDQ_ITEMS or any(not isinstance(v, bool) for v in items):
        raise ValueError(f"the Roland-Morris questionnaire has {RMDQ_ITEMS} yes/no items")
    return sum(items)


def score(instrument: str, items: Sequence[int] | Sequence[bool]) -> float:
    """The score of one questionnaire (``peg`` or ``rmdq``)."""
    if instrument == PEG:
        return peg_score([int(v) for v in items])
    if instrument == RMDQ:
        return float(rmdq_score([bool(v) for v in items]))
    raise ValueError(f"unknown instrument {instrument!r} (peg or rmdq)")


@dataclass(frozen=True, slots=True)
class Change:
    """One follow-up score against week 0.

    Attributes:
        instrument: ``peg`` or ``rmdq``.
        week: Week of the course (0 = baseline).
        score: The score that week.
        baseline: The week-0 score (``None``: no week 0 yet).
        improvement_pct: ``100 * (baseline - score) / baseline`` (``None`` without a baseline
            or with a baseline of 0, where no improvement is possible).
        responder: Improvement of at least 30 % (``None`` when it cannot be judged).
    """

    instrument: str
    week: int
    score: float
    baseline: float | None
    improvement_pct: float | None
    responder: bool | None


def changes(scores: Sequence[tuple[str, int, float]]) -> list[Change]:
    """Every (instrument, week, score) against its week-0 score, by instrument then week.

    A week given twice counts with its last score.
    """
    latest: dict[tuple[str, int], float] = {}
    for instrument, week, value in scores:
        latest[(instrument, week)] = value
    out = []
    for (instrument, week), value in sorted(latest.items()):
        baseline = latest.get((instrument, 0))
        if baseline is None or baseline <= 0:
            improvement = None
        else:
            improvement = 100.0 * (baseline - value) / baseline
        responder = (
            None
            if improvement is None or week == 0
            else improvement >= 100.0 * RESPONDER_IMPROVEMENT - 1e-9
        )
        out.append(Change(instrument, week, value, baseline, improvement, responder))
    return out
