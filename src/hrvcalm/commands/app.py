"""``hrvcalm app`` (also plain ``hrvcalm``): the patient's app.

One server that stays up: the page chooses the source (a virtual strap, the bundled recording,
the simulator, or a strap a Bluetooth scan found; ``--source`` starts with one already) and
runs as many sessions as the patient likes. Closing the page does not stop it; Ctrl-C does.

Where sessions go: a real strap's into the patient's database (``--db``, ``$HRVCALM_DB`` or
the default); the virtual strap's, the recording's and the simulator's into ``demo.db`` beside
it, never into the patient's course (docs/protocol.md, "What is stored").
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import webbrowser
from pathlib import Path
from typing import Any

from hrvcalm.commands import DEFAULT_PORT, parse_speed, port_number
from hrvcalm.commands.sessions import add_db_option
from hrvcalm.errors import UsageError


def register(sub: Any) -> None:
    p = sub.add_parser(
        "app", help="the patient's app (the default): the page chooses the strap, many sessions"
    )
    p.add_argument("--source", help="start with this source (default: the page asks)")
    p.add_argument(
        "--port", type=port_number, default=DEFAULT_PORT, help="port (default %(default)s)"
    )
    p.add_argument("--speed", type=parse_speed, default=1.0, help="for recordings and sim")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    add_db_option(p)
    p.set_defaults(handler=run_app)


def run_app(args: argparse.Namespace) -> int:
    return asyncio.run(_app(args))


def _choices(demo: Path, given: str | None) -> list[Any]:
    from hrvcalm.commands.session import is_recording
    from hrvcalm.server.sources import Choice

    choices = [
        Choice(
            "virtual",
            "Virtual strap (a real recording over emulated Bluetooth)",
            f"ble-virtual:{demo}",
        ),
        Choice("recording", "Recording (10 minutes of a real strap)", f"replay:{demo}", True),
        Choice("sim", "Simulated strap", "sim"),
    ]
    if given:
        kind = given.partition(":")[0].strip().lower()
        choices.insert(
            0,
            Choice(
                "given", given, given, recording=is_recording(given), demo=kind in ("replay", "sim")
            ),
        )
    return choices


class _Recorders:
    """The session's store observers, moved to the right database when the source changes."""

    def __init__(self, patient_db: str) -> None:
        from hrvcalm.commands.session import DEMO_DB
        from hrvcalm.storage import default_db_path, is_store_url

        # a clinic's server keeps the course only: the demo's sessions stay in a local file
        beside = default_db_path() if is_store_url(patient_db) else Path(patient_db)
        self.paths = {False: patient_db, True: str(beside.with_name(DEMO_DB))}
        self.current: list[Any] = []
        self._store: Any = None
        self._recorder: Any = None

    def use(self, demo: bool, clock: Any) -> None:
        from hrvcalm.server.resonance import ResonanceSaver
        from hrvcalm.storage import SessionRecorder, open_store

        self.close()
        self._store = open_store(self.paths[demo])
        self._recorder = SessionRecorder(self._store, clock=clock)
        self.current[:] = [self._recorder, ResonanceSaver(self._store, self._recorder)]

    def on_message(self, message: dict[str, Any]) -> None:
        for observer in self.current:
            observer.on_message(message)

    def flush(self) -> None:
        for observer in self.current:
            observer.flush()

    def close(self) -> None:
        if self._recorder is not None:
            self._recorder.close()
            self._store.close()
        self._recorder = self._store = None
        self.current[:] = []


async def _app(args: argparse.Namespace) -> int:
    from hrvcalm.commands.session import demo_recording_path
    from hrvcalm.commands.sessions import history_routes
    from hrvcalm.devices import Source, open_source
    from hrvcalm.devices.ble import scan_straps
    from hrvcalm.server.app import LiveSession
    from hrvcalm.server.resonance import stored_rate_bpm
    from hrvcalm.server.sources import Choice, NoSource, SourceChooser
    from hrvcalm.storage import open_store, resolve_store

    def open_(spec: str) -> Source:
        return open_source(spec, speed=args.speed)

    patient_db = str(resolve_store(args.db))
    recorders = _Recorders(patient_db)
    live: LiveSession | None = None

    def clock() -> float:
        return 0.0 if live is None else live.source.clock_s()

    def on_switch(choice: Choice) -> None:
        recorders.use(choice.demo, clock)

    chooser = SourceChooser(
        _choices(demo_recording_path(), args.source), open_, scan=scan_straps, on_switch=on_switch
    )
    with open_store(patient_db) as store:
        rate = stored_rate_bpm(store)
    live = LiveSession(
        NoSource(),
        observers=[recorders],
        pacer_rate_bpm=rate,
        stay_up=True,
        chooser=chooser,
    )
    live.hub.publish(chooser.message())

    def ready(port: int) -> None:
        url = f"http://127.0.0.1:{port}/"
        print(f"hrvcalm: open {url}  (choose your strap there; Ctrl-C to stop)", file=sys.stderr)
        if not args.no_browser and not webbrowser.open(url):
            print(
                "hrvcalm: no browser found here: open the address above yourself",
                file=sys.stderr,
            )

    try:
        if args.source:
            try:
                await chooser.choose(live, "given")
            except ValueError as exc:
                raise UsageError(str(exc)) from None
        await live.run(port=args.port, serve_ready=ready, routes=history_routes(patient_db))
    except OSError as exc:
        raise UsageError(
            f"cannot serve on 127.0.0.1:{args.port}: {exc.strerror or exc}; "
            "choose another port with --port"
        ) from None
    finally:
        recorders.close()
    return 0
