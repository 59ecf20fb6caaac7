"""``hrvcalm analyze --report FILE.html``: one self-contained HTML file.

The figures are embedded as base64 PNG (``data:`` URIs) and the style sheet is inline, so the
file makes no external request and can be mailed or archived as it is.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

import numpy as np

from hrvcalm.core.analysis import Analysis, pairs
from hrvcalm.core.spectrum import spectrum
from hrvcalm.events import METRIC_KEYS
from hrvcalm.recordings.base import Recording
from hrvcalm.reports import plots, style
from hrvcalm.reports.writer import write_report_file

_UNITS = {
    "mean_nn_ms": "ms",
    "sdnn_ms": "ms",
    "rmssd_ms": "ms",
    "pnn50_pct": "%",
    "mean_hr_bpm": "bpm",
    "vlf_ms2": "ms²",
    "lf_ms2": "ms²",
    "hf_ms2": "ms²",
    "total_power_ms2": "ms²",
    "lf_peak_hz": "Hz",
    "hf_peak_hz": "Hz",
    "sd1_ms": "ms",
    "sd2_ms": "ms",
    "resp_rate_bpm": "breaths/min",
    "artifacts_pct": "%",
}

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1000px; color: #222; }
table { border-collapse: collapse; font-size: 0.85em; }
td, th { border: 1px solid #ddd; padding: 2px 6px; text-align: right; }
th { background: #f4f6f7; }
img { max-width: 100%; }
.figs { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }
.note { color: #555; font-size: 0.85em; }
"""

_WINDOW_COLUMNS = (
    "mean_hr_bpm",
    "mean_nn_ms",
    "sdnn_ms",
    "rmssd_ms",
    "pnn50_pct",
    "lf_hf",
    "hf_ms2",
    "resp_rate_bpm",
    "coherence",
    "artifacts_pct",
)


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):
        return str(value)
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.1f}"


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def render(recording: Recording, analysis: Analysis, settings: dict[str, Any]) -> str:
    """The report as an HTML string."""
    rr = recording.rr_ms
    t = np.cumsum(rr) / 1000.0
    normal = np.array([k == "normal" for k in analysis.kinds], dtype=bool)
    corrected = (
        analysis.corrected_rr_ms
        if analysis.corrected_rr_ms is not None
        else np.full(rr.size, np.nan)
    )
    psd = str(settings.get("psd", "welch"))
    s = analysis.summary
    with style.context():
        fig = style.figure(10.0, 3.2, dpi=100, layout="constrained")
        ax = fig.add_subplot()
        plots.tachogram(ax, t, rr, ~normal, corrected_rr_ms=corrected)
        ax.set_title("Tachogram", loc="left")
        figures = [_img(style.png(fig), "tachogram")]
        spec = spectrum(t[normal], rr[normal], psd)
        if spec is not None:
            fig = style.figure(6.0, 3.2, dpi=100, layout="constrained")
            plots.power_spectrum(fig.add_subplot(), spec, psd)
            figures.append(_img(style.png(fig), "power spectrum"))
        fig = style.figure(4.2, 4.2, dpi=100, layout="constrained")
        plots.poincare(fig.add_subplot(), rr, pairs(normal), s.sd1_ms, s.sd2_ms)
        figures.append(_img(style.png(fig), "Poincare plot"))

    summary_rows = "".join(
        f"<tr><th style='text-align:left'>{key}</th><td>{_fmt(getattr(s, key))}</td>"
        f"<td style='text-align:left'>{_UNITS.get(key, '')}</td></tr>"
        for key in METRIC_KEYS
    )
    head = "".join(f"<th>{key}</th>" for key in _WINDOW_COLUMNS)
    window_rows = "".join(
        f"<tr><td>{w.start_s:.0f}</td>"
        + "".join(f"<td>{_fmt(getattr(w.metrics, key))}</td>" for key in _WINDOW_COLUMNS)
        + "</tr>"
        for w in analysis.windows
    )
    settings_text = ", ".join(f"{k} = {v}" for k, v in settings.items())
    title = html.escape(recording.path.name)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>hrvcalm report: {title}</title>
<style>{_STYLE}</style></head><body>
<h1>HRV report: {title}</h1>
<p>{len(recording)} intervals ({recording.format}), {recording.duration_s / 60:.1f} min;
{analysis.n_artifacts} left out as artifacts. Settings: {html.escape(settings_text)}.</p>
<div class="figs">{"".join(figures)}</div>
<h2>Whole recording</h2>
<table>{summary_rows}</table>
<p class="note">Coherence and breathing rate of the whole recording are the medians over the
windows. "-": not computable (too few clean beats).</p>
<h2>Windows</h2>
<table><tr><th>start s</th>{head}</tr>{window_rows}</table>
</body></html>
"""


def write_report(
    path: Path, recording: Recording, analysis: Analysis, settings: dict[str, Any]
) -> None:
    """Write the report to ``path`` (UTF-8)."""
    write_report_file(path, render(recording, analysis, settings))
