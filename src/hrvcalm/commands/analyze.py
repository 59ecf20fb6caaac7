"""``hrvcalm analyze PATH``: offline HRV analysis of a recording."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hrvcalm.commands import positive_number
from hrvcalm.errors import UsageError

#: Windows above which a progress bar is shown on a terminal.
PROGRESS_MIN_WINDOWS = 200
#: Most windows one analysis may have (each keeps its metrics in memory).
MAX_WINDOWS = 100_000

#: Analysis window when ``--window`` is not given, s.
DEFAULT_WINDOW_S = 300.0


def register(sub: Any) -> None:
    p = sub.add_parser("analyze", help="offline HRV analysis of recordings")
    p.add_argument(
        "path",
        nargs="+",
        help="recording file; several files or folders: one table, a row per file",
    )
    p.add_argument(
        "--window",
        type=positive_number,
        default=None,
        help=f"window length, s (default {DEFAULT_WINDOW_S:g}); several files: a row per window",
    )
    p.add_argument("--step", type=positive_number, help="step between windows, s (default: window)")
    p.add_argument(
        "--psd", choices=("welch", "lomb"), default="welch", help="spectral method (default welch)"
    )
    p.add_argument("--no-correction", action="store_true", help="keep every interval")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--report", metavar="FILE.html", help="also write an HTML report with plots")
    p.add_argument("--format", help="override format detection (see docs/formats.md)")
    p.add_argument("--csv", metavar="FILE", help="several files: write the table as CSV to FILE")
    p.set_defaults(handler=run)


@contextmanager
def _progress(total_hint: int) -> Iterator[Callable[[int, int], None] | None]:
    """A rich progress bar on stderr for long analyses on a terminal, else nothing."""
    if total_hint < PROGRESS_MIN_WINDOWS or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("analyzing"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} windows"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("analyze", total=total_hint)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _is_batch(args: argparse.Namespace) -> bool:
    """Several paths, a folder, a zip archive or ``--csv``: the batch table, not one report."""
    if len(args.path) > 1 or args.csv is not None:
        return True
    path = Path(args.path[0])
    if path.is_dir():
        return True
    if args.format is not None:
        return bool(args.format.strip().lower() == "zip")
    if path.suffix.lower() == ".zip":
        return True
    try:
        with path.open("rb") as handle:
            return handle.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def run(args: argparse.Namespace) -> int:
    from hrvcalm.recordings import read_recording

    per_window = args.window is not None
    if args.window is None:
        args.window = DEFAULT_WINDOW_S
    if _is_batch(args):
        from hrvcalm.commands.analyze_batch import Settings, run_batch

        if args.report:
            raise UsageError("--report takes one recording; with several use --csv or --json")
        batch = Settings(
            format=args.format,
            window_s=args.window,
            step_s=args.step if args.step is not None else args.window,
            psd=args.psd,
            correction=not args.no_correction,
            per_window=per_window,
        )
        return run_batch(list(args.path), batch, args.csv, args.json)
    args.path = args.path[0]
    report = Path(args.report) if args.report else None
    if report is not None and not report.parent.is_dir():
        raise UsageError(f"--report {args.report}: folder {report.parent} does not exist")
    recording = read_recording(args.path, format=args.format)
    if len(recording) < 2:
        raise UsageError(
            f"{recording.path}: only {len(recording)} interval(s): too short to analyze"
        )
    # The analysis needs scipy.signal (about a second to import): only once the file has read,
    # so that every error about the file answers at once.
    from hrvcalm.analyze_output import analysis_document, analysis_table, artifact_warning
    from hrvcalm.core.analysis import analyze_rr

    step = args.step if args.step is not None else args.window
    if recording.duration_s / step > MAX_WINDOWS:
        raise UsageError(
            f"--step {step:g} s over {recording.duration_s:.0f} s of recording makes "
            f"{recording.duration_s / step:,.0f} windows; at most {MAX_WINDOWS:,}: "
            "choose a larger --step"
        )
    with _progress(int(recording.duration_s / step)) as progress:
        analysis = analyze_rr(
            recording.rr_ms,
            window_s=args.window,
            step_s=step,
            correction=not args.no_correction,
            psd=args.psd,
            labels=recording.labels,
            progress=progress,
        )
    warning = artifact_warning(recording, analysis)
    if warning is not None:
        print(f"hrvcalm: warning: {warning}", file=sys.stderr)
    settings = {
        "window_s": args.window,
        "step_s": step,
        "psd": args.psd,
        "correction": not args.no_correction,
    }
    if report is not None:
        from hrvcalm.reports.html import write_report

        try:
            write_report(report, recording, analysis, settings)
        except OSError as exc:
            raise UsageError(f"--report {args.report}: cannot write: {exc.strerror}") from None
    if args.json:
        print(json.dumps(analysis_document(recording, analysis, settings), allow_nan=False))
    else:
        print(analysis_table(recording, analysis))
        if report is not None:
            print(f"report written to {report}")
    return 0
