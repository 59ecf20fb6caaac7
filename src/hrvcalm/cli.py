"""The ``hrvcalm`` command line (DESIGN.md section 4).

Every bad input ends in a one-line ``hrvcalm: error: ...`` on stderr and a non-zero exit
(1 for bad data or devices, 2 for a bad command line), never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import webbrowser
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hrvcalm import __version__
from hrvcalm.errors import HrvcalmError, UsageError

DEFAULT_PORT = 8765
DEMO_RECORDING = "sample_data_ibi.csv"


def parse_speed(text: str) -> float:
    """``max`` (as fast as possible) or a positive factor."""
    if text.strip().lower() == "max":
        return math.inf
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"speed must be a positive number or 'max', got {text!r}"
        ) from None
    if not value > 0 or math.isinf(value):
        raise argparse.ArgumentTypeError(f"speed must be a positive number or 'max', got {text!r}")
    return value


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or math.isinf(value):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def demo_recording_path() -> Path:
    """The bundled real strap recording (Polar H10, slow breathing, 10 min)."""
    from importlib import resources

    packaged = Path(str(resources.files("hrvcalm"))) / "demo_recording" / DEMO_RECORDING
    if packaged.is_file():
        return packaged
    repo = (
        Path(__file__).resolve().parents[2]
        / "fixtures/recordings/polar_h10_ibi_slowbreathing"
        / DEMO_RECORDING
    )
    if repo.is_file():
        return repo
    raise UsageError("the demo recording is missing from this installation")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hrvcalm",
        description="Heart-rate-variability biofeedback for mindfulness practice.",
    )
    parser.add_argument("--version", action="version", version=f"hrvcalm {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="replay a real strap recording to the breath-pacing page")
    demo.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (default %(default)s)")
    demo.add_argument("--no-browser", action="store_true", help="do not open a browser")
    demo.add_argument("--speed", type=parse_speed, default=1.0, help="playback speed (default 1)")
    demo.add_argument("--jsonl", action="store_true", help="also print every message on stdout")

    session = sub.add_parser("session", help="run a live session from a source")
    session.add_argument("--source", required=True, help="replay:PATH or sim[:breaths=6,seed=1]")
    session.add_argument("--port", type=int, default=DEFAULT_PORT)
    session.add_argument("--minutes", type=_positive, help="end the session after N minutes")
    session.add_argument("--speed", type=parse_speed, default=1.0, help="speed for replay/sim")
    session.add_argument("--no-browser", action="store_true")
    session.add_argument("--jsonl", action="store_true", help="also print every message on stdout")
    session.add_argument("--format", help="recording format for replay: (rr, csv, hrm, wfdb)")

    replay = sub.add_parser("replay", help="run the live pipeline on a recording")
    replay.add_argument("path", help="recording file")
    replay.add_argument("--speed", type=parse_speed, default=1.0, help="factor, or 'max'")
    replay.add_argument("--jsonl", action="store_true", help="print every websocket message")
    replay.add_argument("--format", help="override format detection (rr, csv, hrm, wfdb)")

    analyze = sub.add_parser("analyze", help="offline HRV analysis of a recording")
    analyze.add_argument("path", help="recording file")
    analyze.add_argument("--window", type=_positive, default=300.0, help="window length, s")
    analyze.add_argument("--step", type=_positive, help="step between windows, s (default: window)")
    analyze.add_argument("--no-correction", action="store_true", help="keep every interval")
    analyze.add_argument("--json", action="store_true", help="print JSON instead of a table")
    analyze.add_argument("--format", help="override format detection (rr, csv, hrm, wfdb)")
    return parser


def _print_message(message: dict[str, Any]) -> None:
    from hrvcalm.server.messages import encode

    sys.stdout.write(encode(message) + "\n")
    sys.stdout.flush()


async def _serve_session(
    spec: str,
    *,
    port: int,
    speed: float,
    minutes: float | None,
    jsonl: bool,
    open_browser: bool,
    format: str | None = None,
) -> int:
    from hrvcalm.devices import open_source
    from hrvcalm.server.app import LiveSession

    source = open_source(spec, speed=speed, format=format)
    live = LiveSession(
        source,
        duration_s=None if minutes is None else 60.0 * minutes,
        on_message=_print_message if jsonl else None,
    )

    def ready(bound: int) -> None:
        url = f"http://127.0.0.1:{bound}/"
        print(f"hrvcalm: {source.name} -> open {url}  (Ctrl-C to stop)", file=sys.stderr)
        if open_browser:
            webbrowser.open(url)

    try:
        await live.run(port=port, serve_ready=ready)
    except OSError as exc:
        raise UsageError(f"cannot serve on 127.0.0.1:{port}: {exc.strerror or exc}") from None
    print(f"hrvcalm: session ended after {len(live.beats)} beats", file=sys.stderr)
    return 0


async def _replay(path: str, speed: float, jsonl: bool, format: str | None) -> int:
    from hrvcalm.devices import open_source
    from hrvcalm.server.app import LiveSession

    source = open_source(f"replay:{path}", speed=speed, format=format)
    live = LiveSession(source, on_message=_print_message if jsonl else None)
    await live.run(port=None)
    if not jsonl:
        m = live.last_metrics
        print(
            f"{source.name}: {len(live.beats)} beats, "
            f"{live.pipeline.n_artifacts} artifacts, {live.pipeline.bad_intervals} bad intervals"
        )
        if m is not None:
            for key, value in m.metric_dict().items():
                if value is not None:
                    print(
                        f"  {key:<16} {value:.2f}"
                        if isinstance(value, float)
                        else f"  {key:<16} {value}"
                    )
    return 0


def _analyze(args: argparse.Namespace) -> int:
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


def run(args: argparse.Namespace) -> int:
    """Dispatch one parsed command."""
    if args.command == "analyze":
        return _analyze(args)
    if args.command == "replay":
        return asyncio.run(_replay(args.path, args.speed, args.jsonl, args.format))
    if args.command == "demo":
        return asyncio.run(
            _serve_session(
                f"replay:{demo_recording_path()}",
                port=args.port,
                speed=args.speed,
                minutes=None,
                jsonl=args.jsonl,
                open_browser=not args.no_browser,
            )
        )
    if args.command == "session":
        return asyncio.run(
            _serve_session(
                args.source,
                port=args.port,
                speed=args.speed,
                minutes=args.minutes,
                jsonl=args.jsonl,
                open_browser=not args.no_browser,
                format=args.format,
            )
        )
    raise UsageError(f"unknown command {args.command!r}")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hrvcalm`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return run(args)
    except UsageError as exc:
        print(f"hrvcalm: error: {exc}", file=sys.stderr)
        return 2
    except HrvcalmError as exc:
        print(f"hrvcalm: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("hrvcalm: stopped", file=sys.stderr)
        return 130
    except BrokenPipeError:
        sys.stderr.close()
        return 0
