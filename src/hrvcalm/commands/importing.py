"""``hrvcalm import PATH``: bring a recording from another app in as a stored session.

Any format ``hrvcalm analyze`` reads (``rr``, ``csv``, ``hrm``, ``wfdb``) is accepted. The
intervals are stored exactly as read, timed by their cumulative sum (as ``analyze`` does);
artifact flags, corrections and the metrics timeline come from the same live pipeline a
session runs, so an imported session looks like a recorded one on the history page. The
metrics timeline is thinned to one point a second.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from datetime import datetime
from typing import Any

from hrvcalm.commands.sessions import add_db_option
from hrvcalm.errors import UsageError


def _when(text: str) -> float:
    """An ISO 8601 date or date-time (local time unless it says otherwise), as Unix time."""
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--started must be an ISO date or time such as 2026-03-02T08:30, got {text!r}"
        ) from None


def register(sub: Any) -> None:
    p = sub.add_parser("import", help="store a recording from another app as a session")
    p.add_argument("path", help="recording file (rr, csv, hrm or wfdb)")
    p.add_argument("--format", help="override format detection (rr, csv, hrm, wfdb)")
    p.add_argument("--started", type=_when, help="when it was recorded (default: now)")
    p.add_argument(
        "--practice",
        choices=("paced_breathing", "breath_focus", "body_scan"),
        default="paced_breathing",
        help="the practice it recorded (default %(default)s)",
    )
    add_db_option(p)
    p.add_argument("--json", action="store_true", help="print the stored session as JSON")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from hrvcalm import __version__
    from hrvcalm.core.pipeline import LivePipeline
    from hrvcalm.events import Beat, Metrics
    from hrvcalm.recordings import read_recording
    from hrvcalm.storage import MetricsSample, NewSession, StoredBeat, open_store
    from hrvcalm.storage.export import summary_document

    recording = read_recording(args.path, format=args.format)
    if len(recording) < 2:
        raise UsageError(f"{recording.path}: only {len(recording)} interval(s): nothing to import")
    pipeline = LivePipeline()
    beats: list[StoredBeat] = []
    samples: list[MetricsSample] = []
    last_kept = -math.inf
    # Beat times are the cumulative sum of RR, as in ``hrvcalm analyze`` (DESIGN.md section 4).
    items: list[Beat | Metrics] = []
    for t_s, rr_ms in zip(recording.beat_times_s, recording.rr_ms, strict=True):
        items.extend(pipeline.push_beat(float(t_s), float(rr_ms)))
    items.extend(pipeline.flush())
    for item in items:
        if isinstance(item, Beat):
            beats.append(
                StoredBeat(
                    item.t_s, item.rr_ms, item.artifact, item.gap_before, item.corrected_rr_ms
                )
            )
        elif item.t_s >= last_kept + 1.0:
            values = {
                k: (v if v is None or isinstance(v, int) or math.isfinite(v) else None)
                for k, v in item.metric_dict().items()
            }
            samples.append(MetricsSample(item.t_s, values))
            last_kept = item.t_s
    if len(beats) != len(recording):
        raise UsageError(
            f"{recording.path}: {len(recording) - len(beats)} interval(s) could not be analysed"
        )
    end_t_s = beats[-1].t_s
    started = args.started if args.started is not None else time.time() - end_t_s
    with open_store(args.db) as store:
        session = store.create_session(
            NewSession(
                started_unix=started,
                source=f"import:{recording.path.resolve()}",
                speed=None,
                app_version=__version__,
                practice=args.practice,
                device_name=recording.notes.get("device") or recording.path.name,
            )
        )
        store.add_beats(session, beats)
        store.add_metrics(session, samples)
        store.update_session(session, practice_start_t_s=0.0, practice_s=end_t_s)
        store.end_session(session, reason="imported", end_t_s=end_t_s, ended_unix=started + end_t_s)
        summary = store.get_session(session)
    if args.json:
        print(json.dumps(summary_document(summary), allow_nan=False))
    else:
        print(
            f"imported {recording.path.name} ({recording.format}, {len(beats)} beats, "
            f"{end_t_s / 60:.1f} min) as session {session}"
        )
    return 0
