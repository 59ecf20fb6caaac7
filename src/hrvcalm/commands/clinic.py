"""``hrvcalm serve`` (a clinic's central server) and ``hrvcalm relay`` (one strap to it)."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from typing import Any

from hrvcalm.commands import DEFAULT_PORT, parse_speed, port_number
from hrvcalm.commands.sessions import add_db_option
from hrvcalm.errors import UsageError

TOKEN_ENV = "HRVCALM_TOKEN"


def register(sub: Any) -> None:
    serve = sub.add_parser(
        "serve", help="central server: relays stream straps in on /ingest, pages watch them"
    )
    serve.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    serve.add_argument(
        "--port", type=port_number, default=DEFAULT_PORT, help="port (default %(default)s)"
    )
    serve.add_argument(
        "--token", help=f"access token (default: ${TOKEN_ENV}, else a new one is printed)"
    )
    add_db_option(serve)
    serve.add_argument(
        "--no-store", action="store_true", help="keep the sessions in memory only, store nothing"
    )
    serve.set_defaults(handler=run_serve)

    relay = sub.add_parser("relay", help="stream a local strap to a central server")
    relay.add_argument("--source", required=True, help="ble:auto, replay:PATH, sim, ...")
    relay.add_argument(
        "--to",
        required=True,
        action="append",
        help="ws://server:8765/ingest (repeat for fallback servers, tried in turn)",
    )
    relay.add_argument(
        "--patient", metavar="NAME", help="the patient's name, as the clinic knows it"
    )
    relay.add_argument("--token", help=f"access token (default: ${TOKEN_ENV})")
    relay.add_argument("--speed", type=parse_speed, default=1.0, help="for replay and sim")
    relay.set_defaults(handler=run_relay)

    outcomes = sub.add_parser(
        "outcomes", help="a patient's questionnaires (PEG, Roland-Morris) by course week"
    )
    actions = outcomes.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="enter one week's questionnaires")
    add.add_argument("--patient", required=True, metavar="NAME")
    add.add_argument("--week", required=True, type=int, help="week of the course (0 = baseline)")
    add.add_argument("--peg", metavar="P,E,G", help="the three PEG items, 0-10 each")
    add.add_argument(
        "--rmdq", metavar="Y,N,...", help="the 24 Roland-Morris answers: y/n or 1/0, in order"
    )
    add_db_option(add)
    add.set_defaults(handler=run_outcomes_add)
    show = actions.add_parser("list", help="a patient's scores and changes from week 0")
    show.add_argument("--patient", required=True, metavar="NAME")
    show.add_argument("--json", action="store_true", help="print JSON")
    add_db_option(show)
    show.set_defaults(handler=run_outcomes_list)


def run_serve(args: argparse.Namespace) -> int:
    from hrvcalm.server.access import is_loopback, new_token
    from hrvcalm.server.clinic import ClinicServer

    token = args.token or os.environ.get(TOKEN_ENV) or new_token()
    store = None
    if not args.no_store:
        from hrvcalm.storage import open_store

        store = open_store(args.db)
    server = ClinicServer(token, protect_pages=not is_loopback(args.host), store=store)

    def ready(port: int) -> None:
        shown = f"[{args.host}]" if ":" in args.host else args.host
        print(f"hrvcalm: clinic dashboard on http://{shown}:{port}/", file=sys.stderr)
        print(f"hrvcalm: relays connect to ws://{shown}:{port}/ingest", file=sys.stderr)
        if not args.token and not os.environ.get(TOKEN_ENV):
            print(f"hrvcalm: access token: {token}  (give it to relays)", file=sys.stderr)
        if not is_loopback(args.host):
            print(
                "hrvcalm: serving beyond this machine: every request needs the token "
                f"(open http://{shown}:{port}/sessions?token=...)",
                file=sys.stderr,
            )

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        try:
            await server.run(host=args.host, port=args.port, serve_ready=ready, stop=stop)
        except OSError as exc:
            raise UsageError(
                f"cannot serve on {args.host}:{args.port}: {exc.strerror or exc}"
            ) from None

    try:
        asyncio.run(main())
    finally:
        if store is not None:
            store.close()
    print("hrvcalm: clinic server stopped; every session stored", file=sys.stderr)
    return 0


def run_relay(args: argparse.Namespace) -> int:
    from hrvcalm.devices import open_source
    from hrvcalm.server.relay import Relay

    token = args.token or os.environ.get(TOKEN_ENV)
    if not token:
        raise UsageError(f"relay needs the server's access token: --token or ${TOKEN_ENV}")
    for url in args.to:
        if not url.startswith(("ws://", "wss://")):
            raise UsageError(f"--to must be a ws:// or wss:// URL, got {url!r}")

    async def main() -> int:
        source = open_source(args.source, speed=args.speed)
        relay = Relay(
            source,
            args.to,
            token,
            patient=args.patient,
            on_status=lambda line: print(f"hrvcalm: {line}", file=sys.stderr),
        )
        await relay.run()
        print(
            f"hrvcalm: relay done, {relay.sent_frames} frames sent "
            f"({relay.resent_frames} resent after reconnecting)",
            file=sys.stderr,
        )
        return 0

    return asyncio.run(main())


def _answers(text: str, instrument: str) -> list[int]:
    values = []
    for part in text.replace(" ", "").split(","):
        if instrument == "rmdq" and part.lower() in ("y", "yes", "n", "no"):
            values.append(1 if part.lower().startswith("y") else 0)
            continue
        try:
            values.append(int(part))
        except ValueError:
            raise UsageError(f"--{instrument}: {part!r} is not an answer") from None
    if instrument == "rmdq" and any(v not in (0, 1) for v in values):
        raise UsageError("--rmdq: every answer is y/n or 1/0")
    return values


def run_outcomes_add(args: argparse.Namespace) -> int:
    import time

    from hrvcalm.reports.outcomes import score
    from hrvcalm.storage import Outcome, open_store

    given = [(name, text) for name, text in (("peg", args.peg), ("rmdq", args.rmdq)) if text]
    if not given:
        raise UsageError("give --peg and/or --rmdq")
    if args.week < 0:
        raise UsageError("--week counts from 0 (the baseline)")
    rows = []
    for instrument, text in given:
        items = _answers(text, instrument)
        try:
            value = score(instrument, [bool(v) for v in items] if instrument == "rmdq" else items)
        except ValueError as exc:
            raise UsageError(f"--{instrument}: {exc}") from None
        rows.append(Outcome(args.patient, args.week, instrument, tuple(items), value, time.time()))
    with open_store(args.db) as store:
        for row in rows:
            store.set_outcome(row)
            print(f"{row.patient}, week {row.week}: {row.instrument.upper()} {row.score:g}")
    return 0


def run_outcomes_list(args: argparse.Namespace) -> int:
    import json

    from hrvcalm.reports.outcomes import changes
    from hrvcalm.storage import open_store

    with open_store(args.db) as store:
        stored = store.outcomes_of(args.patient)
    rows = changes([(o.instrument, o.week, o.score) for o in stored])
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "instrument": c.instrument,
                        "week": c.week,
                        "score": c.score,
                        "improvement_pct": c.improvement_pct,
                        "responder": c.responder,
                    }
                    for c in rows
                ]
            )
        )
        return 0
    if not rows:
        print(f"no questionnaires of {args.patient} yet")
        return 0
    for c in rows:
        change = (
            ""
            if c.improvement_pct is None or c.week == 0
            else f"  {c.improvement_pct:.0f} % better than week 0"
        )
        verdict = {True: "  responder", False: "", None: ""}[c.responder]
        print(f"{c.instrument.upper():5} week {c.week:>2}: {c.score:5.2f}{change}{verdict}")
    return 0
