"""``hrvcalm resonance``: find the patient's resonance breathing rate (DESIGN.md section 5).

Runs Lehrer's stepped protocol (:mod:`hrvcalm.core.resonance`) in a live session served to the
practice page: 2 minutes at each of 6.5, 6.0, 5.5, 5.0 and 4.5 breaths/min. The page shows
the step and, at the end, the result; the patient starts it with Start on the page, or it
starts at once with ``--no-browser`` (headless). At the end a table of the steps (or, with
``--json``, the result message) is printed on stdout and the chosen rate is stored as the
pacer's default for the next sessions (setting ``pacer_rate_bpm``).

``--step-seconds`` (hidden from ``--help``) shortens the steps for tests and demonstrations
(10-600 s; the scores of steps shorter than ~60 s are rough).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import webbrowser
from typing import Any

from hrvcalm.commands import print_message
from hrvcalm.commands.session import add_live_options
from hrvcalm.errors import DataError, UsageError


def _step_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"step seconds must be a number, got {text!r}") from None
    if not 10.0 <= value <= 600.0:
        raise argparse.ArgumentTypeError(f"step seconds must be 10-600, got {text!r}")
    return value


def register(sub: Any) -> None:
    p = sub.add_parser(
        "resonance",
        help="find the resonance breathing rate (2 minutes at each of 6.5 to 4.5 breaths/min)",
    )
    add_live_options(p, network=False)
    p.add_argument("--json", action="store_true", help="print the result as JSON, not a table")
    p.add_argument("--step-seconds", type=_step_seconds, default=None, help=argparse.SUPPRESS)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))


async def _run(args: argparse.Namespace) -> int:
    from hrvcalm.commands.sessions import history_routes
    from hrvcalm.core.resonance import Protocol
    from hrvcalm.devices import open_source
    from hrvcalm.server.app import LiveSession
    from hrvcalm.server.messages import Message
    from hrvcalm.server.resonance import ResonanceSaver, default_protocol, steps_table
    from hrvcalm.storage import SessionRecorder, open_store

    protocol = default_protocol() if args.step_seconds is None else Protocol(args.step_seconds)
    source = open_source(args.source, speed=args.speed, format=args.format)
    store = open_store(args.db)
    recorder = SessionRecorder(store, clock=source.clock_s)
    saver = ResonanceSaver(store, recorder)
    results: list[Message] = []

    def keep(message: Message) -> None:
        if message.get("type") == "resonance" and message.get("state") != "running":
            results.append(message)
        if args.jsonl:
            print_message(message)

    live = LiveSession(
        source,
        on_message=keep,
        observers=[recorder, saver],
        autostart=args.no_browser,
        resonance=protocol,
    )
    live.state.configure("resonance")
    live.state.duration_s = protocol.total_s  # the page shows the protocol's length

    def ready(port: int) -> None:
        url = f"http://127.0.0.1:{port}/"
        minutes = protocol.total_s / 60.0
        print(
            f"hrvcalm: {source.name} -> open {url}  (resonance assessment, "
            f"{minutes:g} minutes; Ctrl-C to stop)",
            file=sys.stderr,
        )
        if not args.no_browser and not webbrowser.open(url):
            print(
                "hrvcalm: no browser found here: open the address above yourself",
                file=sys.stderr,
            )

    try:
        await live.run(port=args.port, serve_ready=ready, routes=history_routes(args.db))
    except OSError as exc:
        raise UsageError(
            f"cannot serve on 127.0.0.1:{args.port}: {exc.strerror or exc}; "
            "choose another port with --port"
        ) from None
    finally:
        recorder.close()
        store.close()
    if not results:
        raise DataError("the resonance assessment did not start (no Start from the page)")
    result = results[-1]
    if args.json:
        print(json.dumps(result, separators=(",", ":")))
    else:
        print(steps_table(result))
    if result.get("state") != "done":
        raise DataError("the resonance assessment ended before its last step; nothing stored")
    if result.get("chosen_rate_bpm") is None:
        raise DataError("no step of the resonance assessment had enough clean beats to score")
    print(
        f"hrvcalm: stored {saver.saved_rate_bpm:g} breaths/min as the pacer's default rate",
        file=sys.stderr,
    )
    return 0
