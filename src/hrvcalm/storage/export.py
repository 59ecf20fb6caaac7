"""A stored session as a file: ``rr`` text, CSV or JSON.

- ``rr``: one raw RR interval in ms per line, the plain text Kubios and most HRV tools
  import. Values are written in Python's shortest round-trip form (``936`` or
  ``975.5859375``), so reading the file back gives the stored float64 values exactly.
- ``csv``: one row per beat: ``t_s,rr_ms,artifact,gap_before,corrected_rr_ms``.
- ``json``: the session (:func:`session_document`) with its beats, metrics timeline, device
  events and pacer changes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hrvcalm.storage.base import SessionStore, SessionSummary, StoredRating

EXPORT_FORMATS = ("csv", "rr", "json")


def format_ms(value: float) -> str:
    """An interval in ms, shortest text that reads back as the same float64."""
    return str(int(value)) if value.is_integer() else repr(value)


def iso_utc(unix_s: float | None) -> str | None:
    """Unix seconds as an ISO 8601 UTC time (``None`` stays ``None``)."""
    if unix_s is None:
        return None
    return datetime.fromtimestamp(unix_s, tz=UTC).isoformat(timespec="seconds")


def _rating_json(rating: StoredRating) -> dict[str, Any]:
    return {"pain": rating.pain, "stress": rating.stress, "note": rating.note}


def summary_document(s: SessionSummary) -> dict[str, Any]:
    """A session's summary as JSON (``sessions list --json`` and the history page)."""
    return {
        "id": s.id,
        "started_at": iso_utc(s.started_unix),
        "started_unix": s.started_unix,
        "ended_at": iso_utc(s.ended_unix),
        "ended_reason": s.ended_reason,
        "source": s.source,
        "device_name": s.device_name,
        "speed": s.speed,
        "practice": s.practice,
        "planned_s": s.planned_s,
        "practice_s": s.practice_s,
        "end_t_s": s.end_t_s,
        "minutes_practised": round(s.minutes_practised, 2),
        "n_beats": s.n_beats,
        "n_artifacts": s.n_artifacts,
        "mean_rmssd_ms": None if s.mean_rmssd_ms is None else round(s.mean_rmssd_ms, 2),
        "mean_coherence": None if s.mean_coherence is None else round(s.mean_coherence, 3),
        "mean_hr_bpm": None if s.mean_hr_bpm is None else round(s.mean_hr_bpm, 1),
        "ratings": {when: _rating_json(r) for when, r in s.ratings.items()},
        "notes": s.notes,
        "app_version": s.app_version,
        "patient": s.patient,
    }


def session_document(store: SessionStore, session_id: int, *, full: bool = True) -> dict[str, Any]:
    """The session as JSON: summary, device events, pacer; with ``full`` the beats and metrics."""
    doc = summary_document(store.get_session(session_id))
    doc["device_events"] = [
        {
            "t_s": e.t_s,
            "state": e.state,
            "name": e.name,
            "battery_pct": e.battery_pct,
            "contact": e.contact,
        }
        for e in store.events_of(session_id)
    ]
    doc["pacer"] = [
        {"t_s": p.t_s, "rate_bpm": p.rate_bpm, "inhale_ratio": p.inhale_ratio}
        for p in store.pacer_of(session_id)
    ]
    if full:
        doc["beats"] = [
            {
                "t_s": b.t_s,
                "rr_ms": b.rr_ms,
                "artifact": b.artifact,
                "gap_before": b.gap_before,
                "corrected_rr_ms": b.corrected_rr_ms,
            }
            for b in store.beats_of(session_id)
        ]
        doc["metrics"] = [{"t_s": m.t_s, **m.values} for m in store.metrics_of(session_id)]
    return doc


def export_session(store: SessionStore, session_id: int, fmt: str) -> str:
    """The session in ``fmt`` (one of :data:`EXPORT_FORMATS`) as text."""
    if fmt == "rr":
        return "".join(f"{format_ms(b.rr_ms)}\n" for b in store.beats_of(session_id))
    if fmt == "csv":
        lines = ["t_s,rr_ms,artifact,gap_before,corrected_rr_ms"]
        for b in store.beats_of(session_id):
            corrected = "" if b.corrected_rr_ms is None else format_ms(b.corrected_rr_ms)
            lines.append(
                f"{b.t_s!r},{format_ms(b.rr_ms)},{int(b.artifact)},{int(b.gap_before)},{corrected}"
            )
        return "\n".join(lines) + "\n"
    if fmt == "json":
        return json.dumps(session_document(store, session_id), allow_nan=False, indent=1) + "\n"
    raise ValueError(f"unknown export format {fmt!r}; valid formats: {', '.join(EXPORT_FORMATS)}")
