"""``hrvcalm session`` and ``hrvcalm demo``: a live session served to the breath-pacing page.

What is stored: a session from its Start on (a page that never started stores nothing). A
recording (``replay:``, and the demo) plays from Start, not from launch, and again from its
beginning for each new session. The demo's sessions go to their own database, ``demo.db``
next to the patient's (``--db`` chooses another): they never enter the patient's course.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import webbrowser
from pathlib import Path
from typing import Any

from hrvcalm.commands import DEFAULT_PORT, parse_speed, port_number, positive_number, print_message
from hrvcalm.commands.sessions import add_db_option
from hrvcalm.errors import UsageError

DEMO_RECORDING = "sample_data_ibi.csv"
#: The demo's database file name, beside the patient's (never the patient's own file).
DEMO_DB = "demo.db"


def add_live_options(parser: Any, *, source: bool = True, network: bool = True) -> None:
    """The options of every command that runs a live session served to the page."""
    if source:
        parser.add_argument(
            "--source", required=True, help="ble:auto, ble-virtual:PATH, replay:PATH, sim"
        )
        parser.add_argument("--format", help="recording format for replay: (rr, csv, hrm, wfdb)")
    parser.add_argument(
        "--port", type=port_number, default=DEFAULT_PORT, help="port (default %(default)s)"
    )
    parser.add_argument("--speed", type=parse_speed, default=1.0, help="for replay and sim")
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser")
    parser.add_argument("--jsonl", action="store_true", help="also print every message on stdout")
    add_db_option(parser)
    if network:
        _add_network_options(parser)


def register(sub: Any) -> None:
    demo = sub.add_parser("demo", help="replay a real strap recording to the breath-pacing page")
    add_live_options(demo, source=False)
    demo.set_defaults(handler=run_demo)

    p = sub.add_parser("session", help="run a live session from a source")
    add_live_options(p)
    p.add_argument("--minutes", type=positive_number, help="end the session after N minutes")
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


def _add_network_options(parser: Any) -> None:
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="interface to serve on (default 127.0.0.1: only this machine); anything else "
        "requires an access token",
    )
    parser.add_argument(
        "--token", help="access token when serving beyond loopback (default: a new one, printed)"
    )


def _access_token(args: argparse.Namespace) -> str | None:
    """No token on loopback; beyond it, the given token or a fresh one."""
    from hrvcalm.server.access import is_loopback, new_token

    if is_loopback(args.host):
        return None
    return str(args.token or new_token())


def demo_db_path(db: str | None) -> str | Path:
    """The demo's own store: ``--db``/``--store`` if given, else ``demo.db`` beside the
    patient's default file."""
    from hrvcalm.storage import default_db_path, is_store_url

    if db and is_store_url(db):
        return db
    return Path(db).expanduser() if db else default_db_path().with_name(DEMO_DB)


def run_demo(args: argparse.Namespace) -> int:
    from hrvcalm.storage import store_label

    args.db = str(demo_db_path(args.db))
    print(
        f"hrvcalm: demo sessions are kept apart from yours, in {store_label(args.db)}",
        file=sys.stderr,
    )
    args.source = f"replay:{demo_recording_path()}"
    args.minutes = None
    args.format = None
    args.autostart = False
    return run_session(args)


def is_recording(spec: str) -> bool:
    """A source that plays a file (``replay:``): it plays from Start and can play again."""
    return spec.partition(":")[0].strip().lower() == "replay"


def run_session(args: argparse.Namespace) -> int:
    return asyncio.run(_serve(args))


async def _serve(args: argparse.Namespace) -> int:
    from hrvcalm.commands.sessions import history_routes
    from hrvcalm.devices import Source, open_source
    from hrvcalm.server.app import LiveSession
    from hrvcalm.server.resonance import ResonanceSaver, stored_rate_bpm
    from hrvcalm.storage import SessionRecorder, open_store

    def open_() -> Source:
        return open_source(args.source, speed=args.speed, format=args.format)

    source = open_()
    recording = is_recording(args.source)
    store = open_store(args.db)
    live: LiveSession | None = None
    recorder = SessionRecorder(store, clock=lambda: (live.source if live else source).clock_s())
    live = LiveSession(
        source,
        duration_s=None if args.minutes is None else 60.0 * args.minutes,
        on_message=print_message if args.jsonl else None,
        observers=[recorder, ResonanceSaver(store, recorder)],
        autostart=args.autostart,
        pacer_rate_bpm=stored_rate_bpm(store),
        play_from_start=recording and not args.autostart,
        reopen_source=open_ if recording else None,
    )

    token = _access_token(args)

    def ready(port: int) -> None:
        host = f"[{args.host}]" if ":" in args.host else args.host
        url = f"http://{host}:{port}/" + (f"?token={token}" if token else "")
        print(f"hrvcalm: {source.name} -> open {url}  (Ctrl-C to stop)", file=sys.stderr)
        if token:
            print(
                f"hrvcalm: serving beyond this machine on {args.host}: every request needs "
                "the access token in that address",
                file=sys.stderr,
            )
        if not args.no_browser and not webbrowser.open(url):
            print(
                "hrvcalm: no browser found here: open the address above yourself",
                file=sys.stderr,
            )

    try:
        await live.run(
            host=args.host,
            port=args.port,
            serve_ready=ready,
            routes=history_routes(args.db),
            token=token,
        )
    except OSError as exc:
        raise UsageError(
            f"cannot serve on {args.host}:{args.port}: {exc.strerror or exc}; "
            "choose another port with --port"
        ) from None
    finally:
        recorder.close()
        store.close()
    print(f"hrvcalm: session ended after {live.n_beats} beats", file=sys.stderr)
    return 0
