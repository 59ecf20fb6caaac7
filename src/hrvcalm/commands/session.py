"""``hrvcalm session`` and ``hrvcalm demo``: a live session served to the breath-pacing page."""

from __future__ import annotations

import argparse
import asyncio
import sys
import webbrowser
from pathlib import Path
from typing import Any

from hrvcalm.commands import DEFAULT_PORT, parse_speed, positive_number, print_message
from hrvcalm.errors import UsageError

DEMO_RECORDING = "sample_data_ibi.csv"


def register(sub: Any) -> None:
    demo = sub.add_parser("demo", help="replay a real strap recording to the breath-pacing page")
    demo.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (default %(default)s)")
    demo.add_argument("--no-browser", action="store_true", help="do not open a browser")
    demo.add_argument("--speed", type=parse_speed, default=1.0, help="playback speed (default 1)")
    demo.add_argument("--jsonl", action="store_true", help="also print every message on stdout")
    demo.set_defaults(handler=run_demo)

    p = sub.add_parser("session", help="run a live session from a source")
    p.add_argument("--source", required=True, help="replay:PATH or sim[:breaths=6,seed=1]")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (default %(default)s)")
    p.add_argument("--minutes", type=positive_number, help="end the session after N minutes")
    p.add_argument("--speed", type=parse_speed, default=1.0, help="speed for replay and sim")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.add_argument("--jsonl", action="store_true", help="also print every message on stdout")
    p.add_argument("--format", help="recording format for replay: (rr, csv, hrm, wfdb)")
    p.add_argument(
        "--autostart",
        action="store_true",
        help="start the practice timer at once instead of waiting for Start on the page",
    )
    p.set_defaults(handler=run_session)


def demo_recording_path() -> Path:
    """The bundled real strap recording (Polar H10, slow breathing, 10 min)."""
    from importlib import resources

    packaged = Path(str(resources.files("hrvcalm"))) / "demo_recording" / DEMO_RECORDING
    if packaged.is_file():
        return packaged
    repo = Path(__file__).resolve().parents[3] / "fixtures/recordings/polar_h10_ibi_slowbreathing"
    if (repo / DEMO_RECORDING).is_file():
        return repo / DEMO_RECORDING
    raise UsageError("the demo recording is missing from this installation")


def run_demo(args: argparse.Namespace) -> int:
    args.source = f"replay:{demo_recording_path()}"
    args.minutes = None
    args.format = None
    args.autostart = False
    return run_session(args)


def run_session(args: argparse.Namespace) -> int:
    return asyncio.run(_serve(args))


async def _serve(args: argparse.Namespace) -> int:
    from hrvcalm.devices import open_source
    from hrvcalm.server.app import LiveSession

    source = open_source(args.source, speed=args.speed, format=args.format)
    live = LiveSession(
        source,
        duration_s=None if args.minutes is None else 60.0 * args.minutes,
        on_message=print_message if args.jsonl else None,
        autostart=args.autostart,
    )

    def ready(port: int) -> None:
        url = f"http://127.0.0.1:{port}/"
        print(f"hrvcalm: {source.name} -> open {url}  (Ctrl-C to stop)", file=sys.stderr)
        if not args.no_browser:
            webbrowser.open(url)

    try:
        await live.run(port=args.port, serve_ready=ready)
    except OSError as exc:
        raise UsageError(
            f"cannot serve on 127.0.0.1:{args.port}: {exc.strerror or exc}; "
            "choose another port with --port"
        ) from None
    print(f"hrvcalm: session ended after {len(live.beats)} beats", file=sys.stderr)
    return 0
