"""How ``hrvcalm analyze`` presents its result: a JSON document or a readable table, and the
one warning line about artifacts.

Every window carries ``partial`` (the recording ends inside it: its metrics are those of the
beats it holds, and it is left out of the summary's frequency and breathing values) and
``coherence_zone`` (``low``, ``medium``, ``high``, or ``null`` with coherence).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from hrvcalm.core.analysis import Analysis
from hrvcalm.core.coherence import coherence_zone
from hrvcalm.events import METRIC_KEYS, Metrics
from hrvcalm.recordings.base import Recording

#: Above this share of artifacts in the recording (%), analyze warns.
WARN_RECORDING_PCT = 5.0
#: Above this share of artifacts in any window (%), analyze warns.
WARN_WINDOW_PCT = 10.0
#: Windows with fewer beats than this are not checked.
WARN_MIN_BEATS = 30


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, float):
        return round(value, 4)
    return value


def _metric_values(m: Metrics) -> dict[str, Any]:
    values = {key: _clean(value) for key, value in m.metric_dict().items()}
    values["coherence_zone"] = coherence_zone(m.coherence)
    return values


def artifact_warning(recording: Recording, analysis: Analysis) -> str | None:
    """One line when the recording's artifacts exceed 5 % or a window's exceed 10 %, else
    ``None``: the metrics then rest on fewer clean beats than they seem to."""
    parts = []
    if analysis.n_beats:
        share = 100.0 * analysis.n_artifacts / analysis.n_beats
        if share > WARN_RECORDING_PCT:
            parts.append(
                f"{share:.1f} % of the beats are artifacts (over {WARN_RECORDING_PCT:g} %)"
            )
    over = [  # a window of a few beats (the end of a recording) says nothing
        w
        for w in analysis.windows
        if w.metrics.n_beats >= WARN_MIN_BEATS
        and w.metrics.artifacts_pct is not None
        and w.metrics.artifacts_pct > WARN_WINDOW_PCT
    ]
    if over:
        worst = max(over, key=lambda w: w.metrics.artifacts_pct or 0.0)
        parts.append(
            f"{len(over)} of {len(analysis.windows)} windows have over {WARN_WINDOW_PCT:g} % "
            f"artifacts (worst {worst.metrics.artifacts_pct:.1f} % at {_clock(worst.start_s)})"
        )
    if not parts:
        return None
    return f"{recording.path}: {'; '.join(parts)}: read those metrics with care"


def analysis_document(
    recording: Recording, analysis: Analysis, settings: dict[str, Any]
) -> dict[str, Any]:
    """The ``--json`` document: ``source``, ``n_beats``, ``summary``, ``windows``."""
    return {
        "source": {
            "path": str(recording.path),
            "format": recording.format,
            "n_intervals": len(recording),
            "duration_s": round(recording.duration_s, 3),
            "resolution_ms": recording.resolution_ms,
            "bad_values": [
                {"line": b.line, "text": b.text, "reason": b.reason} for b in recording.bad_values
            ],
            "notes": dict(recording.notes),
            "settings": settings,
        },
        "n_beats": analysis.n_beats,
        "n_artifacts": analysis.n_artifacts,
        "artifact_kinds": _kind_counts(analysis),
        "summary": _metric_values(analysis.summary),
        "windows": [
            {
                "start_s": w.start_s,
                "end_s": w.end_s,
                "partial": w.partial,
                **_metric_values(w.metrics),
            }
            for w in analysis.windows
        ],
    }


def _kind_counts(analysis: Analysis) -> dict[str, int]:
    counts: dict[str, int] = {}
    for kind in analysis.kinds:
        if kind != "normal":
            counts[kind] = counts.get(kind, 0) + 1
    return counts


_TABLE_COLUMNS = (
    ("mean_hr_bpm", "HR bpm", 1),
    ("mean_nn_ms", "meanNN ms", 1),
    ("sdnn_ms", "SDNN ms", 1),
    ("rmssd_ms", "RMSSD ms", 1),
    ("pnn50_pct", "pNN50 %", 1),
    ("lf_hf", "LF/HF", 2),
    ("hf_ms2", "HF ms2", 0),
    ("resp_rate_bpm", "resp/min", 1),
    ("coherence", "coher.", 2),
    ("artifacts_pct", "artif. %", 1),
    ("n_beats", "beats", 0),
)


def _cell(value: Any, digits: int) -> str:
    if value is None:
        return "-"
    if digits == 0:
        return str(round(value))
    return f"{value:.{digits}f}"


def _clock(seconds: float) -> str:
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


def analysis_table(recording: Recording, analysis: Analysis) -> str:
    """A plain-text report a person can read in a terminal."""
    lines = [
        f"{recording.path}  ({recording.format}, {len(recording)} intervals, "
        f"{_clock(recording.duration_s)} h:mm:ss)",
    ]
    for bad in recording.bad_values:
        lines.append(f"  skipped line {bad.line}: {bad.text!r} ({bad.reason})")
    for key, value in recording.notes.items():
        lines.append(f"  {key}: {value}")
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(_kind_counts(analysis).items()))
    lines.append(
        f"  artifacts: {analysis.n_artifacts} of {analysis.n_beats} beats left out of the metrics"
        + (f" ({kinds})" if kinds else "")
    )
    lines.append("")
    lines.append("Whole recording:")
    for key in METRIC_KEYS:
        value = analysis.summary.metric_dict()[key]
        if value is not None:
            shown = str(value) if key == "n_beats" else f"{value:.4g}"
            lines.append(f"  {key:<16} {shown}")
    lines.append("")
    header = f"{'window':>19}  " + "  ".join(f"{title:>9}" for _, title, _ in _TABLE_COLUMNS)
    lines.append(header)
    for w in analysis.windows:
        values = w.metrics.metric_dict()
        cells = "  ".join(f"{_cell(values[key], d):>9}" for key, _, d in _TABLE_COLUMNS)
        mark = " *" if w.partial else ""
        lines.append(f"{_clock(w.start_s):>9}-{_clock(w.end_s):>9}  {cells}{mark}")
    lines.append("")
    lines.append(
        "'-' = not computable: too few clean beats, too short a span (LF and LF/HF need 120 s "
        "of beats, VLF 300 s) or, for resp/min, no clear breathing rhythm."
    )
    if any(w.partial for w in analysis.windows):
        lines.append(
            "* = partial window (the recording ends inside it), left out of the summary's "
            "frequency-domain and breathing values."
        )
    lines.append(
        "Summary frequency domain: the beats of the complete windows; coherence and "
        "resp_rate_bpm: medians over them."
    )
    return "\n".join(lines)


#: Columns of a batch row before the metrics.
BATCH_ID_COLUMNS = ("path", "format", "start_time", "n_intervals", "duration_s", "n_artifacts")


def batch_rows(recording: Recording, analysis: Analysis, per_window: bool) -> list[dict[str, Any]]:
    """Rows of one recording in ``hrvcalm analyze PATH...``: its summary, or one per window.

    Every row starts with the file (``path``, ``format``, ``start_time`` ISO 8601 or ``None``,
    ``n_intervals``, ``duration_s``, ``n_artifacts``); window rows add ``start_s``, ``end_s``.
    """
    head: dict[str, Any] = {
        "path": str(recording.path),
        "format": recording.format,
        "start_time": recording.start_time.isoformat() if recording.start_time else None,
        "n_intervals": len(recording),
        "duration_s": round(recording.duration_s, 3),
        "n_artifacts": analysis.n_artifacts,
    }
    if not per_window:
        return [{**head, **_metric_values(analysis.summary)}]
    return [
        {**head, "start_s": w.start_s, "end_s": w.end_s, **_metric_values(w.metrics)}
        for w in analysis.windows
    ]


def batch_table(rows: list[dict[str, Any]]) -> str:
    """The batch rows as a text table: file name, window (if any) and the main metrics."""
    windowed = any("start_s" in row for row in rows)
    name_width = max([len(Path(str(r["path"])).name) for r in rows] + [4])
    header = f"{'file':<{name_width}}  " + ("   window          " if windowed else "")
    header += "  ".join(f"{title:>9}" for _, title, _ in _TABLE_COLUMNS)
    lines = [header]
    for row in rows:
        line = f"{Path(str(row['path'])).name:<{name_width}}  "
        if windowed:
            line += f"{_clock(row['start_s']):>8}-{_clock(row['end_s']):>8}  "
        line += "  ".join(f"{_cell(row.get(key), d):>9}" for key, _, d in _TABLE_COLUMNS)
        lines.append(line)
    return "\n".join(lines)
