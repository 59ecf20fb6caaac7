"""``hrvcalm report SESSION --out FILE.html``: a stored session as one printable HTML file.

The file is self-contained (plots embedded as base64 PNG, no external requests), for a
clinician to print or attach to the patient's file: summary, ratings, tachogram with
artifacts and gaps, the metrics over time (RMSSD and heart rate, and coherence as soon as the
timeline holds it), the pacer rate and the device events. ``--out FILE.pdf`` writes the same
summary and plots as a PDF with matplotlib's own PDF backend (no extra library).
"""

from __future__ import annotations

import argparse
import base64
import html
import io
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hrvcalm.commands.sessions import add_db_option, session_id
from hrvcalm.errors import UsageError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from hrvcalm.storage import SessionStore, SessionSummary

INK = "#2d3a3f"
ACCENT = "#467d76"
BAD = "#c0705f"
MUTED = "#8a979b"
EXHALE = "#7f8fbb"


def register(sub: Any) -> None:
    p = sub.add_parser(
        "report", help="a printable report of a stored session, or of a patient's course"
    )
    p.add_argument(
        "session", type=session_id, nargs="?", help="session number (see 'sessions list')"
    )
    p.add_argument("--out", required=True, metavar="FILE", help="FILE.html or FILE.pdf")
    p.add_argument("--patient", metavar="NAME", help="with --course: whose course")
    p.add_argument(
        "--course",
        action="store_true",
        help="the patient's whole course: adherence, outcomes against week 0, every session (HTML)",
    )
    add_db_option(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from hrvcalm.storage import open_store, resolve_db_path

    out = Path(args.out)
    if out.suffix.lower() not in (".html", ".htm", ".pdf"):
        raise UsageError(f"{out}: the report is written as .html or .pdf")
    path = resolve_db_path(args.db)
    if not path.is_file():
        raise UsageError(f"{path}: no session database yet (record a session first, or --db)")
    if args.course:
        return _run_course(args, path, out)
    if args.session is None:
        raise UsageError("give a session number, or --course --patient NAME")
    with open_store(path) as store:
        summary = store.get_session(args.session)
        figures = session_figures(store, summary)
        try:
            if out.suffix.lower() == ".pdf":
                write_pdf(summary, figures, out)
            else:
                out.write_text(report_html(store, summary, figures), encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{out}: cannot write: {exc.strerror or exc}") from None
    print(f"wrote {out}")
    return 0


def _run_course(args: argparse.Namespace, path: Path, out: Path) -> int:
    from hrvcalm.reports.course import course_html
    from hrvcalm.storage import open_store

    if args.patient is None:
        raise UsageError("--course needs --patient NAME")
    if out.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"{out}: the course report is written as .html")
    with open_store(path) as store:
        sessions = store.list_sessions(patient=args.patient)
        outcomes = store.outcomes_of(args.patient)
    if not sessions and not outcomes:
        raise UsageError(f"{path}: nothing stored for patient {args.patient!r}")
    try:
        out.write_text(course_html(args.patient, sessions, outcomes), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{out}: cannot write: {exc.strerror or exc}") from None
    print(f"wrote {out}")
    return 0


# -- plots ------------------------------------------------------------------------------


def _figure(height_in: float) -> Figure:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9.0, height_in), dpi=110, layout="constrained")
    return fig


def _style(ax: Any, ylabel: str) -> None:
    ax.set_ylabel(ylabel, color=INK)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color="#e3ddd3", linewidth=0.8)
    ax.tick_params(colors=INK)


def _minutes(values: list[float]) -> list[float]:
    return [v / 60.0 for v in values]


def session_figures(store: SessionStore, s: SessionSummary) -> list[tuple[str, Figure]]:
    """The report's plots, each with its title: tachogram, metrics over time, pacer."""
    beats = store.beats_of(s.id)
    metrics = store.metrics_of(s.id)
    pacer = store.pacer_of(s.id)
    events = store.events_of(s.id)
    figures: list[tuple[str, Figure]] = []
    end_t = max([b.t_s for b in beats] + [s.end_t_s or 0.0, 1.0])

    fig = _figure(3.0)
    ax = fig.add_subplot()
    t = _minutes([b.t_s for b in beats])
    ax.plot(t, [b.rr_ms for b in beats], color=ACCENT, linewidth=0.9, label="RR interval")
    bad = [(ti, b.rr_ms) for ti, b in zip(t, beats, strict=True) if b.artifact]
    if bad:
        ax.scatter(
            [p[0] for p in bad], [p[1] for p in bad], color=BAD, s=14, zorder=3, label="artifact"
        )
    for e in events:
        if e.is_gap:
            ax.axvline(e.t_s / 60.0, color=BAD, linestyle=":", linewidth=1.2)
    gaps = [ti for ti, b in zip(t, beats, strict=True) if b.gap_before]
    for g in gaps:
        ax.axvline(g, color=MUTED, linestyle="--", linewidth=1.0)
    if s.practice_start_t_s:
        ax.axvline(s.practice_start_t_s / 60.0, color=INK, linewidth=1.0, linestyle="-.")
    ax.set_xlim(0, end_t / 60.0)
    ax.set_xlabel("session time, min")
    _style(ax, "RR interval, ms")
    if bad:
        ax.legend(frameon=True, framealpha=0.9, loc="lower right")
    figures.append(("Tachogram (beat-to-beat intervals)", fig))

    keys = [
        ("rmssd_ms", "RMSSD, ms", ACCENT),
        ("mean_hr_bpm", "heart rate, bpm", INK),
        ("coherence", "coherence", EXHALE),
    ]
    present = [k for k in keys if any(m.values.get(k[0]) is not None for m in metrics)]
    if present:
        fig = _figure(1.9 * len(present) + 0.4)
        axes = fig.subplots(len(present), 1, sharex=True, squeeze=False)[:, 0]
        for ax, (key, label, color) in zip(axes, present, strict=True):
            points = [
                (m.t_s / 60.0, m.values[key]) for m in metrics if m.values.get(key) is not None
            ]
            ax.plot(*zip(*points, strict=True), color=color, linewidth=1.4)
            _style(ax, label)
        axes[-1].set_xlabel("session time, min")
        axes[-1].set_xlim(0, end_t / 60.0)
        figures.append(("Metrics over time (60 s window)", fig))

    if pacer:
        fig = _figure(1.8)
        ax = fig.add_subplot()
        times = [p.t_s / 60.0 for p in pacer] + [end_t / 60.0]
        rates = [p.rate_bpm for p in pacer] + [pacer[-1].rate_bpm]
        ax.step(times, rates, where="post", color=EXHALE, linewidth=1.6)
        ax.set_ylim(min(rates) - 1.0, max(rates) + 1.0)
        ax.set_xlim(0, end_t / 60.0)
        ax.set_xlabel("session time, min")
        _style(ax, "breaths/min")
        figures.append(("Pacer rate", fig))
    return figures


def _png_base64(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


# -- documents --------------------------------------------------------------------------


def _fmt(value: float | None, digits: int = 1, unit: str = "") -> str:
    if value is None:
        return "—"
    return f"{value:.{digits}f}{unit}"


def summary_rows(s: SessionSummary) -> list[tuple[str, str]]:
    """The summary table: label and value."""
    artifacts = 100.0 * s.n_artifacts / s.n_beats if s.n_beats else None
    return [
        ("Date", datetime.fromtimestamp(s.started_unix).strftime("%A %d %B %Y, %H:%M")),
        ("Practice", s.practice.replace("_", " ")),
        ("Time practised", f"{s.minutes_practised:.1f} min"),
        ("Planned", "—" if s.planned_s is None else f"{s.planned_s / 60:.0f} min"),
        ("How it ended", s.ended_reason or "still running"),
        ("Device / source", s.device_name or s.source),
        ("Beats", f"{s.n_beats} ({s.n_artifacts} artifacts, {_fmt(artifacts, 1, ' %')})"),
        ("Mean heart rate", _fmt(s.mean_hr_bpm, 1, " bpm")),
        ("Mean RMSSD", _fmt(s.mean_rmssd_ms, 1, " ms")),
        ("Mean coherence", _fmt(s.mean_coherence, 2)),
    ]


def report_html(store: SessionStore, s: SessionSummary, figures: list[tuple[str, Figure]]) -> str:
    """The self-contained HTML report."""
    esc = html.escape
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in summary_rows(s))
    rating_rows = ""
    for when in ("before", "after"):
        r = s.ratings.get(when)
        rating_rows += (
            f"<tr><th>{when.capitalize()}</th>"
            f"<td>{'—' if r is None or r.pain is None else r.pain}</td>"
            f"<td>{'—' if r is None or r.stress is None else r.stress}</td>"
            f"<td>{esc(r.note) if r is not None and r.note else ''}</td></tr>"
        )
    plots = "".join(
        f'<figure><figcaption>{esc(title)}</figcaption><img alt="{esc(title)}" '
        f'src="data:image/png;base64,{_png_base64(fig)}"></figure>'
        for title, fig in figures
    )
    events = "".join(
        f"<tr><td>{e.t_s / 60:.1f} min</td><td>{esc(e.state)}</td>"
        f"<td>{'' if e.battery_pct is None else f'{e.battery_pct} %'}</td>"
        f"<td>{'' if e.contact is None else ('yes' if e.contact else 'no')}</td></tr>"
        for e in store.events_of(s.id)
    )
    notes = f"<p class='notes'>{esc(s.notes)}</p>" if s.notes else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>hrvcalm session {s.id} report</title>
<style>
body {{ font-family: system-ui, sans-serif; color: {INK}; max-width: 52rem; margin: 2rem auto;
  padding: 0 1rem; line-height: 1.45; }}
h1 {{ font-size: 1.4rem; margin-bottom: .2rem; }} h2 {{ font-size: 1.1rem; margin-top: 1.6rem; }}
table {{ border-collapse: collapse; }} th, td {{ text-align: left; padding: .25rem .9rem .25rem 0;
  border-bottom: 1px solid #e3ddd3; vertical-align: top; }}
figure {{ margin: 1rem 0; break-inside: avoid; }} img {{ width: 100%; }}
figcaption {{ font-weight: 600; margin-bottom: .3rem; }} .muted {{ color: #56666c; }}
@media print {{ body {{ margin: 0; }} }}
</style></head><body>
<h1>Practice session {s.id}</h1>
<p class="muted">hrvcalm heart-rate-variability biofeedback · report of a stored session</p>
<h2>Summary</h2><table data-testid="summary">{rows}</table>{notes}
<h2>Ratings (0 = none, 10 = worst imaginable)</h2>
<table data-testid="ratings"><tr><th></th><th>Pain</th><th>Stress</th><th>Note</th></tr>
{rating_rows}</table>
<h2>Recording</h2>{plots}
<h2>Device events</h2>
<table><tr><th>Time</th><th>State</th><th>Battery</th><th>Skin contact</th></tr>{events}</table>
<p class="muted">RMSSD: root mean square of successive differences of normal beats (Task Force
1996), over a sliding 60 s window. Coherence: HeartMath ratio (McCraty et al. 2009).
Artifacts: beats excluded by the artifact screen (after Lipponen &amp; Tarvainen 2019).</p>
</body></html>
"""


def write_pdf(s: SessionSummary, figures: list[tuple[str, Figure]], out: Path) -> None:
    """The summary page and the plots as a PDF (matplotlib's PDF backend)."""
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    with PdfPages(out) as pdf:
        page = Figure(figsize=(8.27, 11.69))
        text = [f"Practice session {s.id}", ""]
        text += [f"{k}: {v}" for k, v in summary_rows(s)]
        text.append("")
        for when in ("before", "after"):
            r = s.ratings.get(when)
            if r is not None:
                note = f" - {r.note}" if r.note else ""
                text.append(f"{when.capitalize()}: pain {r.pain}, stress {r.stress}{note}")
        page.text(0.08, 0.95, "\n".join(text), va="top", fontsize=11, color=INK)
        pdf.savefig(page)
        for title, fig in figures:
            fig.suptitle(title, color=INK)
            pdf.savefig(fig)
