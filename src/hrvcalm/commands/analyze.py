"""``hrvcalm analyze PATH``: offline HRV analysis of a recording."""

from __future__ import annotations

import argparse
import json
from typing import Any

from hrvcalm.commands import positive_number
from hrvcalm.errors import UsageError


def register(sub: Any) -> None:
    p = sub.add_parser("analyze", help="offline HRV analysis of a recording")
    p.add_argument("path", help="recording file")
    p.add_argument("--window", type=positive_number, default=300.0, help="window length, s")
    p.add_argument("--step", type=positive_number, help="step between windows, s (default: window)")
    p.add_argument("--no-correction", action="store_true", help="keep every interval")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--format", help="override format detection (rr, csv, hrm, wfdb)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from hrvcalm.analyze_output import analysis_document, analysis_table
    from hrvcalm.core.analysis import analyze_rr
    from hrvcalm.recordings import read_recording

    recording = read_recording(args.path, format=args.format)
    if len(recording) < 2:
        raise UsageError(
            f"{recording.path}: only {len(recording)} interval(s): too short to analyze"
        )
    step = args.step if args.step is not None else args.window
    analysis = analyze_rr(
        recording.rr_ms, window_s=args.window, step_s=step, correction=not args.no_correction
    )
    if args.json:
        settings = {"window_s": args.window, "step_s": step, "correction": not args.no_correction}
        print(json.dumps(analysis_document(recording, analysis, settings), allow_nan=False))
    else:
        print(analysis_table(recording, analysis))
    return 0
