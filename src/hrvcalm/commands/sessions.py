"""``hrvcalm sessions list|show|export`` and ``hrvcalm history``: the stored sessions.

``history`` serves the history page (``web/history.html``) and its JSON on one port, without
a live session. The page reads ``/api/sessions`` (every session's summary and ratings) and
``/api/session?id=N`` (one session's metrics timeline, device events and pacer changes).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import webbrowser
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hrvcalm.commands import DEFAULT_PORT, port_number
from hrvcalm.errors import UsageError

if TYPE_CHECKING:
    from websockets.http11 import Request, Response

    from hrvcalm.core.summary import Summary
    from hrvcalm.server.static import Route
    from hrvcalm.storage import SessionSummary, Store


def store_url(text: str) -> str:
    """A ``--store`` value: a ``postgresql://`` URL."""
    from hrvcalm.storage import is_store_url

    if not is_store_url(text):
        raise argparse.ArgumentTypeError(
            f"a store is a postgresql://user@host:port/dbname URL, got {text!r} "
            "(a SQLite file is --db PATH)"
        )
    return text


def add_db_option(parser: argparse.ArgumentParser) -> None:
    """``--db PATH`` or ``--store URL``: the session store (both set ``args.db``; default:
    $HRVCALM_STORE, else $HRVCALM_DB, else the XDG data folder)."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--db",
        metavar="PATH",
        help="session database (default: $HRVCALM_STORE, else $HRVCALM_DB, else "
        "~/.local/share/hrvcalm/sessions.db)",
    )
    where.add_argument(
        "--store",
        dest="db",
        metavar="URL",
        type=store_url,
        help="a PostgreSQL session store, postgresql://user@host:port/dbname (docs/clinic.md)",
    )


def session_id(text: str) -> int:
    """A session number as ``sessions list`` shows it."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a session is a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"a session is a number from 1, got {text!r}")
    return value


def register(sub: Any) -> None:
    p = sub.add_parser("sessions", help="list, show and export stored sessions")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")

    lst = actions.add_parser("list", help="every stored session, oldest first")
    add_db_option(lst)
    lst.add_argument("--json", action="store_true", help="print JSON")
    lst.add_argument("--patient", metavar="NAME", help="only this patient's sessions")
    lst.set_defaults(handler=run_list)

    show = actions.add_parser("show", help="one session: summary, ratings, device events")
    show.add_argument("id", type=session_id, help="session number (see 'sessions list')")
    add_db_option(show)
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(handler=run_show)

    export = actions.add_parser("export", help="write a session's beats as csv, rr or json")
    export.add_argument("id", type=session_id, help="session number (see 'sessions list')")
    export.add_argument(
        "--format", choices=("csv", "rr", "json"), default="rr", help="default %(default)s"
    )
    export.add_argument("--out", metavar="FILE", help="write to FILE instead of stdout")
    add_db_option(export)
    export.add_argument("--json", action="store_true", help="same as --format json")
    export.set_defaults(handler=run_export)

    hist = sub.add_parser("history", help="serve the history page of the stored sessions")
    add_db_option(hist)
    hist.add_argument(
        "--port", type=port_number, default=DEFAULT_PORT, help="port (default %(default)s)"
    )
    hist.add_argument("--no-browser", action="store_true", help="do not open a browser")
    hist.set_defaults(handler=run_history)


def _open(args: argparse.Namespace, *, must_exist: bool = True) -> Store:
    from hrvcalm.storage import open_store, resolve_store, store_exists

    path = resolve_store(args.db)
    if must_exist and not store_exists(path):
        raise UsageError(f"{path}: no session database yet (record a session first, or --db)")
    return open_store(path)


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}:{secs:02d}"


def _rating_text(s: SessionSummary, key: str) -> str:
    before = getattr(s.ratings.get("before"), key, None)
    after = getattr(s.ratings.get("after"), key, None)
    if before is None and after is None:
        return "-"
    return f"{'-' if before is None else before}>{'-' if after is None else after}"


def _local(unix_s: float) -> str:
    return datetime.fromtimestamp(unix_s).strftime("%Y-%m-%d %H:%M")


def run_list(args: argparse.Namespace) -> int:
    from hrvcalm.storage import resolve_store, store_exists
    from hrvcalm.storage.export import summary_document

    if args.json and not store_exists(resolve_store(args.db)):
        print("[]")  # no database yet: no sessions (and no file created by listing)
        return 0
    with _open(args) as store:
        sessions = store.list_sessions(patient=args.patient)
    if args.json:
        print(json.dumps([summary_document(s) for s in sessions], allow_nan=False))
        return 0
    if not sessions:
        print(
            "no sessions stored yet" if args.patient is None else f"no sessions of {args.patient}"
        )
        return 0
    print(
        f"{'id':>4}  {'patient':12}  {'started':16}  {'practice':15}  {'time':>6}  {'beats':>6}  "
        f"{'pain':>5}  {'stress':>6}  {'RMSSD':>6}  ended"
    )
    for s in sessions:
        rmssd = "-" if s.mean_rmssd_ms is None else f"{s.mean_rmssd_ms:.1f}"
        print(
            f"{s.id:>4}  {s.patient[:12]:12}  {_local(s.started_unix):16}  {s.practice:15}  "
            f"{_clock(s.minutes_practised * 60):>6}  {s.n_beats:>6}  "
            f"{_rating_text(s, 'pain'):>5}  {_rating_text(s, 'stress'):>6}  {rmssd:>6}  "
            f"{s.ended_reason or 'running'}"
        )
    return 0


def summary_of(store: Store, session_id: int) -> Summary | None:
    """How a stored session went: :func:`hrvcalm.core.summary.summarize` over its stored
    metrics timeline, the same as the page's ``summary`` at its end (``None`` for a session
    with no practice window, such as an imported recording, or one still running)."""
    from hrvcalm.core.summary import Ratings, Sample, summarize
    from hrvcalm.server.app import GUIDED_PRACTICES

    s = store.get_session(session_id)
    if s.practice_start_t_s is None or s.practice_s is None or s.ended_reason is None:
        return None
    before, after = s.ratings.get("before"), s.ratings.get("after")
    pacer = store.pacer_of(session_id)
    return summarize(
        (Sample.from_values(m.t_s, m.values) for m in store.metrics_of(session_id)),
        practice=s.practice,
        start_t_s=s.practice_start_t_s,
        end_t_s=s.practice_start_t_s + s.practice_s,
        planned_s=s.planned_s,
        ended_reason=s.ended_reason,
        ratings=Ratings(
            pain_before=None if before is None else before.pain,
            pain_after=None if after is None else after.pain,
            stress_before=None if before is None else before.stress,
            stress_after=None if after is None else after.stress,
        ),
        pacer_rate_bpm=pacer[-1].rate_bpm if pacer else None,
        guided=s.practice in GUIDED_PRACTICES,
    )


def _summary_lines(summary: dict[str, Any]) -> list[str]:
    def fmt(value: float | None) -> str:
        return "-" if value is None else f"{value:.0f}"

    def pair(key: str, unit: str) -> str:
        return f"{fmt(summary['start'][key])} -> {fmt(summary['end'][key])}{unit}"

    zones = summary["zones_s"]
    done = "completed" if summary["completed"] else (summary["ended_reason"] or "stopped")
    lines = [
        f"  how it went {_clock(summary['minutes'] * 60)} practised ({done}); start -> end:",
        f"              heart rate {pair('mean_hr_bpm', ' bpm')}, RMSSD {pair('rmssd_ms', ' ms')},"
        f" relaxation {pair('relaxation', '')} (50 = as at the start)",
        "              coherence "
        + ", ".join(f"{zone} {_clock(zones[zone])}" for zone in ("low", "medium", "high")),
    ]
    if summary["resp_rate_bpm"] is not None:
        pacer = summary["pacer_rate_bpm"]
        lines.append(
            f"              breathing {summary['resp_rate_bpm']:g}/min"
            + ("" if pacer is None else f" (pacer {pacer:g}/min)")
        )
    lines += [f"  next time   {tip}" for tip in summary["next"]]
    return lines


def run_show(args: argparse.Namespace) -> int:
    from hrvcalm.storage.export import session_document

    with _open(args) as store:
        doc = session_document(store, args.id, full=False)
        summary = summary_of(store, args.id)
    doc["summary"] = None if summary is None else summary.as_json()
    if args.json:
        print(json.dumps(doc, allow_nan=False))
        return 0
    lines = [
        f"session {doc['id']}: {doc['practice']} from {doc['source']}",
        f"  started   {_local(doc['started_unix'])}  (ended: {doc['ended_reason'] or 'running'})",
        f"  practised {_clock((doc['minutes_practised'] or 0) * 60)}  planned "
        f"{_clock(doc['planned_s'])}",
        f"  beats     {doc['n_beats']} ({doc['n_artifacts']} artifacts)",
        f"  RMSSD     {doc['mean_rmssd_ms'] if doc['mean_rmssd_ms'] is not None else '-'} ms"
        f"  heart rate {doc['mean_hr_bpm'] if doc['mean_hr_bpm'] is not None else '-'} bpm"
        f"  coherence {doc['mean_coherence'] if doc['mean_coherence'] is not None else '-'}",
    ]
    for when in ("before", "after"):
        r = doc["ratings"].get(when)
        if r is not None:
            note = f"  note: {r['note']}" if r["note"] else ""
            lines.append(f"  {when:9} pain {r['pain']}, stress {r['stress']}{note}")
    if doc["summary"] is not None:
        lines += _summary_lines(doc["summary"])
    for p in doc["pacer"]:
        lines.append(f"  pacer     {p['rate_bpm']:g}/min from {_clock(p['t_s'])}")
    for e in doc["device_events"]:
        battery = "" if e["battery_pct"] is None else f", battery {e['battery_pct']}%"
        lines.append(f"  device    {_clock(e['t_s'])} {e['state']}{battery}")
    print("\n".join(lines))
    return 0


def run_export(args: argparse.Namespace) -> int:
    from hrvcalm.storage.export import export_session
    from hrvcalm.storage.files import write_private_text

    fmt = "json" if args.json else args.format
    with _open(args) as store:
        store.get_session(args.id)
        text = export_session(store, args.id, fmt)
    if args.out:
        try:
            write_private_text(args.out, text)  # 0600: health data
        except OSError as exc:
            raise UsageError(f"{args.out}: cannot write: {exc.strerror or exc}") from None
    else:
        sys.stdout.write(text)
    return 0


# -- the history page -------------------------------------------------------------------


#: Websocket close code of the history server: no practice runs here (web/connection.js).
NO_SESSION_CLOSE_CODE = 4404


def history_routes(db: str | Path | None) -> dict[str, Route]:
    """The history page's JSON endpoints, reading the database at ``db`` on every request."""
    from hrvcalm.server.static import json_response
    from hrvcalm.storage import StoreError, open_store, resolve_store, store_exists, store_label
    from hrvcalm.storage.export import session_document, summary_document

    path = resolve_store(db)
    label = store_label(path)

    def sessions(request: Request) -> Response:
        if not store_exists(path):
            return json_response({"db": label, "sessions": []})
        try:
            with open_store(path, recover=False) as store:
                docs = [summary_document(s) for s in store.list_sessions()]
                pacer = store.get_setting("pacer_rate_bpm")
        except StoreError as exc:
            return json_response({"error": str(exc)}, status=500)
        return json_response({"db": label, "sessions": docs, "pacer_rate_bpm": pacer})

    def one_session(request: Request) -> Response:
        from urllib.parse import parse_qs, urlsplit

        query = parse_qs(urlsplit(request.path).query)
        try:
            wanted = int(query.get("id", [""])[0])
        except ValueError:
            return json_response({"error": "id must be a session number"}, status=400)
        if not store_exists(path):
            return json_response({"error": f"no session {wanted}"}, status=404)
        try:
            with open_store(path, recover=False) as store:
                doc = session_document(store, wanted, full=False)
                doc["metrics"] = [{"t_s": m.t_s, **m.values} for m in store.metrics_of(wanted)]
        except UsageError as exc:
            return json_response({"error": str(exc)}, status=404)
        except StoreError as exc:
            return json_response({"error": str(exc)}, status=500)
        return json_response(doc)

    return {"/api/sessions": sessions, "/api/session": one_session}


async def serve_history(
    db: str | Path | None, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT, ready: Any = None
) -> None:
    """Serve web/ and the history JSON until cancelled; ``ready(port)`` once listening."""
    from websockets.asyncio.server import serve

    from hrvcalm.server.access import guard
    from hrvcalm.server.static import find_web_root, make_async_static_server

    async def no_websocket(connection: Any) -> None:
        # 4404: the practice page stops reconnecting and says no practice runs (connection.js)
        await connection.close(NO_SESSION_CLOSE_CODE, "no practice running: start hrvcalm")

    from hrvcalm.storage import open_store, resolve_store, store_exists

    if store_exists(resolve_store(db)):
        open_store(db).close()  # migrate, and mark sessions cut off by a crash, once
    process = guard(
        make_async_static_server(find_web_root(), history_routes(db)), token=None, host=host
    )
    async with serve(no_websocket, host, port, process_request=process) as server:
        bound = int(next(iter(server.sockets)).getsockname()[1])
        if ready is not None:
            ready(bound)
        await asyncio.Future()


def run_history(args: argparse.Namespace) -> int:
    def ready(port: int) -> None:
        url = f"http://127.0.0.1:{port}/history.html"
        print(f"hrvcalm: history -> open {url}  (Ctrl-C to stop)", file=sys.stderr, flush=True)
        if not args.no_browser:
            webbrowser.open(url)

    try:
        asyncio.run(serve_history(args.db, port=args.port, ready=ready))
    except OSError as exc:
        raise UsageError(
            f"cannot serve on 127.0.0.1:{args.port}: {exc.strerror or exc}; "
            "choose another port with --port"
        ) from None
    return 0
