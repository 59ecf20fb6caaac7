"""The report of one stored session, as a :class:`~hrvcalm.reports.document.Document`.

What a clinician prints or attaches to the patient's file: the summary, the pain and stress
ratings before and after, the tachogram with artifacts and gaps, the metrics over time (RMSSD
and heart rate, and coherence as soon as the timeline holds it), the pacer rate and the
device events. :mod:`hrvcalm.reports.document_html` and :mod:`hrvcalm.reports.pdf` render it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from hrvcalm.reports import plots
from hrvcalm.reports.document import Block, Document, Heading, Paragraph, Plot, Table
from hrvcalm.reports.style import ACCENT, EXHALE, INK

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from hrvcalm.storage import (
        DeviceEvent,
        MetricsSample,
        PacerChange,
        SessionStore,
        SessionSummary,
        StoredBeat,
    )

MISSING = "—"
"""Shown for a value that is not known."""

_TIMELINES = (
    ("rmssd_ms", "RMSSD, ms", ACCENT),
    ("mean_hr_bpm", "heart rate, bpm", INK),
    ("coherence", "coherence", EXHALE),
)

NO_BEATS = "No beats were recorded."
"""The recording section of a session without beats."""

FOOTNOTE = (
    "RMSSD: root mean square of successive differences of normal beats (Task Force 1996), "
    "over a sliding 60 s window. Coherence: HeartMath ratio (McCraty et al. 2009). "
    "Artifacts: beats excluded by the artifact screen (after Lipponen & Tarvainen 2019)."
)


def _fmt(value: float | None, digits: int = 1, unit: str = "") -> str:
    if value is None:
        return MISSING
    return f"{value:.{digits}f}{unit}"


def summary_rows(s: SessionSummary) -> list[tuple[str, str]]:
    """The summary table: label and value."""
    artifacts = 100.0 * s.n_artifacts / s.n_beats if s.n_beats else None
    return [
        ("Date", datetime.fromtimestamp(s.started_unix).strftime("%A %d %B %Y, %H:%M")),
        ("Practice", s.practice.replace("_", " ")),
        ("Time practised", f"{s.minutes_practised:.1f} min"),
        ("Planned", MISSING if s.planned_s is None else f"{s.planned_s / 60:.0f} min"),
        ("How it ended", s.ended_reason or "still running"),
        ("Device / source", s.device_name or s.source),
        ("Beats", f"{s.n_beats} ({s.n_artifacts} artifacts, {_fmt(artifacts, 1, ' %')})"),
        ("Mean heart rate", _fmt(s.mean_hr_bpm, 1, " bpm")),
        ("Mean RMSSD", _fmt(s.mean_rmssd_ms, 1, " ms")),
        ("Mean coherence", _fmt(s.mean_coherence, 2)),
    ]


def rating_rows(s: SessionSummary) -> list[tuple[str, str, str, str]]:
    """The ratings table: when, pain, stress and the note, before then after."""
    rows = []
    for when in ("before", "after"):
        r = s.ratings.get(when)
        rows.append(
            (
                when.capitalize(),
                MISSING if r is None or r.pain is None else str(r.pain),
                MISSING if r is None or r.stress is None else str(r.stress),
                r.note if r is not None and r.note else "",
            )
        )
    return rows


def event_rows(events: Sequence[DeviceEvent]) -> list[tuple[str, str, str, str]]:
    """The device events table: time, state, battery and skin contact."""
    return [
        (
            f"{e.t_s / 60:.1f} min",
            e.state,
            "" if e.battery_pct is None else f"{e.battery_pct} %",
            "" if e.contact is None else ("yes" if e.contact else "no"),
        )
        for e in events
    ]


def session_document(store: SessionStore, s: SessionSummary) -> Document:
    """The whole report of session ``s`` (reads its beats, metrics, pacer and events)."""
    events = store.events_of(s.id)
    recording: list[Block] = [
        *_plots(s, store.beats_of(s.id), store.metrics_of(s.id), store.pacer_of(s.id), events)
    ]
    blocks: list[Block] = [
        Heading("Summary"),
        Table("summary", None, tuple(summary_rows(s))),
    ]
    if s.notes:
        blocks.append(Paragraph(s.notes, "notes"))
    blocks += [
        Heading("Ratings (0 = none, 10 = worst imaginable)"),
        Table("ratings", ("", "Pain", "Stress", "Note"), tuple(rating_rows(s))),
        Heading("Recording"),
        *(recording or [Paragraph(NO_BEATS, "muted")]),
        Heading("Device events"),
        Table(
            "events",
            ("Time", "State", "Battery", "Skin contact"),
            tuple(event_rows(events)),
            row_headings=False,
            empty="No device events were recorded.",
        ),
        Paragraph(FOOTNOTE, "muted"),
    ]
    return Document(
        title=f"Practice session {s.id}",
        subtitle="hrvcalm heart-rate-variability biofeedback · report of a stored session",
        blocks=tuple(blocks),
        footer=f"hrvcalm · practice session {s.id}",
    )


def _plots(
    s: SessionSummary,
    beats: Sequence[StoredBeat],
    metrics: Sequence[MetricsSample],
    pacer: Sequence[PacerChange],
    events: Sequence[DeviceEvent],
) -> list[Plot]:
    """Tachogram, metrics over time and pacer rate (each only if there is something to draw)."""
    end_t_s = max([b.t_s for b in beats] + [s.end_t_s or 0.0, 1.0])
    t_s = np.array([b.t_s for b in beats], dtype=np.float64)
    rr_ms = np.array([b.rr_ms for b in beats], dtype=np.float64)
    artifact = np.array([b.artifact for b in beats], dtype=np.bool_)
    gap_before = np.array([b.gap_before for b in beats], dtype=np.bool_)
    corrected = np.array(
        [np.nan if b.corrected_rr_ms is None else b.corrected_rr_ms for b in beats],
        dtype=np.float64,
    )
    link_lost_t_s = [e.t_s for e in events if e.is_gap]

    def draw_tachogram(axes: Sequence[Axes]) -> None:
        plots.tachogram(
            axes[0],
            t_s,
            rr_ms,
            artifact,
            corrected_rr_ms=corrected,
            gap_before=gap_before,
            link_lost_t_s=link_lost_t_s,
            practice_start_t_s=s.practice_start_t_s,
            end_t_s=end_t_s,
        )

    found: list[Plot] = []
    if beats:
        found.append(Plot("Tachogram (beat-to-beat intervals)", 2.7, draw_tachogram))

    metrics_t_s = np.array([m.t_s for m in metrics], dtype=np.float64)
    series = []
    for key, label, color in _TIMELINES:
        values = [m.values.get(key) for m in metrics]
        if any(v is not None for v in values):
            column = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
            series.append((label, column, color))
    if series:

        def draw_timelines(axes: Sequence[Axes]) -> None:
            plots.timelines(axes, metrics_t_s, series, end_t_s=end_t_s)

        found.append(
            Plot(
                "Metrics over time (60 s window)",
                0.7 + 1.35 * len(series),
                draw_timelines,
                panels=len(series),
            )
        )

    if pacer:
        pacer_t_s = np.array([p.t_s for p in pacer], dtype=np.float64)
        rate_bpm = np.array([p.rate_bpm for p in pacer], dtype=np.float64)

        def draw_pacer(axes: Sequence[Axes]) -> None:
            plots.pacer_rate(axes[0], pacer_t_s, rate_bpm, end_t_s=end_t_s)

        found.append(Plot("Pacer rate", 1.6, draw_pacer))
    return found
