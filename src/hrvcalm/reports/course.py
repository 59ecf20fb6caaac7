"""A patient's course as one self-contained HTML file (``hrvcalm report --patient NAME
--course --out FILE.html``): adherence, outcomes against week 0, and every session with its
ratings.

Outcomes follow :mod:`hrvcalm.reports.outcomes` (PEG, Roland-Morris, responders at 30 %).
Adherence is what the store holds: sessions recorded and minutes practised. The report
claims nothing beyond the numbers: the evidence for HRV biofeedback in chronic low back pain
is modest (Kapitza et al. 2010; Berry et al. 2014; Lehrer et al. 2020, meta-analysis).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from hrvcalm.reports.outcomes import changes
from hrvcalm.storage.base import Outcome, SessionSummary

INK = "#2d3a3f"
NAMES = {"peg": "PEG (pain, enjoyment, activity; 0-10)", "rmdq": "Roland-Morris (0-24)"}


def _num(value: float | None, digits: int = 1, unit: str = "") -> str:
    return "—" if value is None else f"{value:.{digits}f}{unit}"


def _pair(s: SessionSummary, key: str) -> str:
    before = getattr(s.ratings.get("before"), key, None)
    after = getattr(s.ratings.get("after"), key, None)
    if before is None and after is None:
        return "—"
    return f"{'—' if before is None else before} → {'—' if after is None else after}"


@dataclass(frozen=True, slots=True)
class Adherence:
    """Sessions recorded, minutes practised and sessions a week (over at least one week)."""

    sessions: int
    minutes: float
    per_week: float | None


def adherence(sessions: Sequence[SessionSummary]) -> Adherence:
    """What the store says about the practice: sessions, minutes, sessions a week."""
    if not sessions:
        return Adherence(0, 0.0, None)
    first = min(s.started_unix for s in sessions)
    last = max(s.started_unix for s in sessions)
    weeks = max(1.0, (last - first) / (7 * 86400.0))
    return Adherence(
        len(sessions), sum(s.minutes_practised for s in sessions), len(sessions) / weeks
    )


def mean_rating_change(sessions: Sequence[SessionSummary], key: str) -> float | None:
    """Mean of before minus after over the sessions rated both times (positive = eased)."""
    drops = []
    for s in sessions:
        before = getattr(s.ratings.get("before"), key, None)
        after = getattr(s.ratings.get("after"), key, None)
        if before is not None and after is not None:
            drops.append(before - after)
    return sum(drops) / len(drops) if drops else None


def course_html(
    patient: str, sessions: Sequence[SessionSummary], outcomes: Sequence[Outcome]
) -> str:
    """The course report."""
    esc = html.escape
    done = adherence(sessions)
    rows = changes([(o.instrument, o.week, o.score) for o in outcomes])
    outcome_rows = "".join(
        f"<tr data-testid='outcome-row'><td>{esc(NAMES.get(c.instrument, c.instrument))}</td>"
        f"<td>{c.week}</td><td>{c.score:.2f}</td>"
        f"<td>{'' if c.week == 0 else _num(c.improvement_pct, 0, ' %')}</td>"
        f"<td>{'' if c.responder is None else ('yes' if c.responder else 'no')}</td></tr>"
        for c in rows
    )
    follow_ups = [c for c in rows if c.week > 0 and c.responder is not None]
    last_by_instrument = {c.instrument: c for c in follow_ups}
    verdicts = "".join(
        f"<li>{esc(NAMES.get(i, i))}: week {c.week}, {_num(c.improvement_pct, 0, ' %')} from week 0"
        f" — {'a responder (≥ 30 %)' if c.responder else 'not a responder (< 30 %)'}</li>"
        for i, c in sorted(last_by_instrument.items())
    )
    session_rows = "".join(
        f"<tr data-testid='session-row'>"
        f"<td>{datetime.fromtimestamp(s.started_unix).strftime('%Y-%m-%d %H:%M')}</td>"
        f"<td>{esc(s.practice.replace('_', ' '))}</td><td>{s.minutes_practised:.1f}</td>"
        f"<td>{_pair(s, 'pain')}</td><td>{_pair(s, 'stress')}</td>"
        f"<td>{_num(s.mean_rmssd_ms)}</td><td>{_num(s.mean_hr_bpm, 0)}</td></tr>"
        for s in sessions
    )
    span = (
        "no sessions recorded"
        if not sessions
        else f"{datetime.fromtimestamp(sessions[0].started_unix):%d %B %Y} to "
        f"{datetime.fromtimestamp(sessions[-1].started_unix):%d %B %Y}"
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>hrvcalm course report: {esc(patient)}</title>
<style>
body {{ font-family: system-ui, sans-serif; color: {INK}; max-width: 58rem; margin: 2rem auto;
  padding: 0 1rem; line-height: 1.45; }}
h1 {{ font-size: 1.4rem; margin-bottom: .2rem; }} h2 {{ font-size: 1.1rem; margin-top: 1.6rem; }}
table {{ border-collapse: collapse; }} th, td {{ text-align: left; padding: .25rem .9rem .25rem 0;
  border-bottom: 1px solid #e3ddd3; vertical-align: top; font-variant-numeric: tabular-nums; }}
.muted {{ color: #56666c; }} @media print {{ body {{ margin: 0; }} }}
</style></head><body>
<h1 data-testid="patient">Course report: {esc(patient)}</h1>
<p class="muted">hrvcalm heart-rate-variability biofeedback · {esc(span)}</p>
<h2>Adherence</h2>
<table data-testid="adherence">
<tr><th>Sessions recorded</th><td>{done.sessions}</td></tr>
<tr><th>Minutes practised</th><td>{_num(done.minutes, 0)}</td></tr>
<tr><th>Sessions a week</th><td>{_num(done.per_week, 1)}</td></tr>
<tr><th>Pain eased in a session (mean of before minus after)</th>
<td>{_num(mean_rating_change(sessions, "pain"))}</td></tr>
<tr><th>Stress eased in a session (mean of before minus after)</th>
<td>{_num(mean_rating_change(sessions, "stress"))}</td></tr>
</table>
<h2>Outcomes</h2>
{
        "<ul data-testid='verdicts'>" + verdicts + "</ul>"
        if verdicts
        else "<p data-testid='verdicts'>No follow-up against a week-0 baseline yet.</p>"
    }
<table data-testid="outcomes"><tr><th>Questionnaire</th><th>Week</th><th>Score</th>
<th>Improvement from week 0</th><th>Responder</th></tr>{outcome_rows}</table>
<p class="muted">PEG: mean of three 0-10 items (Krebs et al. 2009). Roland-Morris: number of
24 statements answered yes (Roland &amp; Morris 1983). Lower is better on both; a responder
improved by at least 30 % from week 0 (Deyo et al. 2014; Cherkin et al. 2016).</p>
<h2>Sessions</h2>
<table data-testid="sessions"><tr><th>Date</th><th>Practice</th><th>Minutes</th>
<th>Pain before → after</th><th>Stress before → after</th><th>Mean RMSSD (ms)</th>
<th>Mean heart rate</th></tr>{session_rows}</table>
<p class="muted">These numbers describe this patient's course; they are not evidence that the
practice caused any change. The evidence for HRV biofeedback in chronic low back pain is
modest (Kapitza et al. 2010; Berry et al. 2014; Lehrer et al. 2020).</p>
</body></html>
"""
