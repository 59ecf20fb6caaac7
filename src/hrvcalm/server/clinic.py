"""Many sessions on one server: relays stream straps in on ``/ingest``, pages watch them.

A clinic runs one central server (``hrvcalm serve``); next to each patient a relay
(``hrvcalm relay --source ble:auto --to ws://server:8765/ingest --patient NAME``) forwards
the strap's notifications. Every relayed recording becomes one
:class:`~hrvcalm.server.app.LiveSession` (the same pipeline and hub as a local session);
``/`` is the clinic's dashboard (``web/dashboard.html``: one tile per session), a session's
watch page is ``/?session=ID`` (the practice page, whose websocket is ``/ws?session=ID``),
``/sessions`` lists the sessions as JSON with their patients and latest figures, and
``/sessions/today`` the sessions stored today (with ``--db``).

Relayed sessions survive the network (``server/ingest_protocol.py`` has the rules):

- every relay frame carries a sequence number; the server takes each number once, in order
  (:class:`~hrvcalm.server.ingest_protocol.Sequencer`) and acknowledges what it took, so the
  relay resends only what was not acknowledged;
- a relay whose connection was cut says hello again with its session id; the server continues
  that session (same pipeline, same relaxation baseline, the watch pages stay) when it is
  still live. A session whose relay has not come back within ``resume_grace_s`` ends;
- notification times from the past or the future are rejected and counted
  (:class:`~hrvcalm.server.ingest_protocol.ArrivalCheck`).

With a store (``hrvcalm serve --db PATH``) every session is recorded by the same
:class:`~hrvcalm.storage.SessionRecorder` as ``hrvcalm session``, with its patient; the
highest sequence number a session took is kept in the store's settings when it ends
(``relay_seq:ID``), so a relay that comes back to a restarted server resends nothing that
was stored already.

Access: ``/ingest`` always needs the access token, in the ``Authorization: Bearer TOKEN``
header only (never in the URL, where proxies and logs keep it); pages need it too when the
server listens beyond loopback (see :mod:`hrvcalm.server.access`), checked before a watched
session is looked up (401 before 404: an outsider learns nothing about which sessions exist).
Sessions whose relay has gone are kept for ``ENDED_KEEP_S`` so that their pages can still
show the end, then forgotten.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import re
import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from hrvcalm.devices.ingest import IngestSource
from hrvcalm.events import RRNotification
from hrvcalm.server import ingest_protocol as proto
from hrvcalm.server.access import guard, token_matches
from hrvcalm.server.app import LiveSession, SessionObserver
from hrvcalm.server.messages import Message
from hrvcalm.server.static import (
    find_web_root,
    json_response,
    make_static_server,
    request_path,
    response,
    text_response,
)
from hrvcalm.server.ws import WS_PATH, make_handler
from hrvcalm.storage import SessionRecorder, SessionStore
from hrvcalm.storage.base import DEFAULT_PATIENT

log = logging.getLogger(__name__)

INGEST_PATH = "/ingest"
SESSIONS_PATH = "/sessions"
TODAY_PATH = "/sessions/today"
#: How long a session stays watchable after its relay ended, s.
ENDED_KEEP_S = 300.0
#: A relay must say hello within this time, s.
HELLO_TIMEOUT_S = 10.0
#: How long a session whose relay went away waits for it to come back, s.
RESUME_GRACE_S = 120.0
#: How long a stopping server waits for its sessions to end and be stored, s.
STOP_TIMEOUT_S = 10.0
#: Largest ingest frame, bytes (a notification is ~150 bytes).
MAX_INGEST_FRAME_BYTES = 16 * 1024
#: No beat for this long (wall clock) shows as "signal lost" on the dashboard, s.
SIGNAL_LOST_AFTER_S = 5.0
#: Settings key holding the last sequence number a relayed session took.
SEQ_SETTING = "relay_seq:{}"
_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")

ObserverFactory = Callable[[LiveSession], list[SessionObserver]]


def _query(request: Request, name: str) -> str | None:
    values = parse_qs(urlsplit(request.path).query).get(name)
    return values[0] if values else None


class SessionView:
    """The latest figures of one session, for the dashboard: an observer of its messages."""

    def __init__(self) -> None:
        self.hr_bpm: float | None = None
        self.metrics: Message = {}
        self.device: Message = {}
        self.session: Message = {}
        self.beat_at: float | None = None  # monotonic time of the last beat

    def on_message(self, message: Message) -> None:
        kind = message.get("type")
        if kind == "beat":
            self.hr_bpm = message.get("hr_bpm")
            self.beat_at = time.monotonic()
        elif kind == "metrics":
            self.metrics = message
        elif kind == "device":
            self.device = message
        elif kind == "session":
            self.session = message

    def flush(self) -> None:
        """Nothing to write."""


class ClinicSession:
    """One relayed session: its live pipeline, its relay's state and its dashboard figures."""

    def __init__(
        self,
        sid: str,
        hello: proto.RelayHello,
        source: IngestSource,
        observers: list[SessionObserver],
        recorder: SessionRecorder | None = None,
    ) -> None:
        self.sid = sid
        self.patient = hello.patient
        self.name = hello.name
        self.started_unix = time.time()
        self.source = source
        self.view = SessionView()
        self.recorder = recorder
        if recorder is not None:
            observers = [recorder, *observers]
        self.live = LiveSession(self.source, autostart=True, observers=[self.view, *observers])
        self.sequencer = proto.Sequencer()
        self.arrivals = proto.ArrivalCheck()
        self.relay: ServerConnection | None = None
        self.finished = False  # the relay said end, or never came back
        self.took_end = False  # the relay said end
        self.ran = asyncio.Event()  # the pipeline has run to its end
        self.rejected_frames = 0
        self._grace: asyncio.TimerHandle | None = None
        self._ending: asyncio.Task[None] | None = None

    def finish(self) -> None:
        """No more frames: the session ends after those already fed."""
        if not self.finished:
            self.finished = True
            self._ending = asyncio.create_task(self.source.end())
        if self._grace is not None:
            self._grace.cancel()
            self._grace = None

    def detach(self, connection: ServerConnection, grace_s: float) -> None:
        """The relay's connection went away: wait ``grace_s`` for it to resume."""
        if self.relay is not connection:
            return
        self.relay = None
        if not self.finished:
            self._grace = asyncio.get_running_loop().call_later(grace_s, self.finish)

    def attach(self, connection: ServerConnection) -> ServerConnection | None:
        """A relay connection took over; returns the one it replaces (to be closed)."""
        if self._grace is not None:
            self._grace.cancel()
            self._grace = None
        old, self.relay = self.relay, connection
        return old

    def row(self) -> dict[str, Any]:
        """The session as a ``/sessions`` row."""
        view = self.view
        metrics = view.metrics
        device_state = view.device.get("state")
        quiet = view.beat_at is None or time.monotonic() - view.beat_at > SIGNAL_LOST_AFTER_S
        live = not self.finished and self.live.state.phase.value != "ended"
        return {
            "session": self.sid,
            "patient": self.patient,
            "name": self.name,
            "phase": self.live.state.phase.value,
            "practice": view.session.get("practice"),
            "elapsed_s": view.session.get("elapsed_s"),
            "duration_s": view.session.get("duration_s"),
            "started_unix": self.started_unix,
            "beats": self.live.n_beats,
            "hr_bpm": view.hr_bpm,
            "rmssd_ms": metrics.get("rmssd_ms"),
            "coherence": metrics.get("coherence"),
            "coherence_zone": metrics.get("coherence_zone"),
            "relaxation": metrics.get("relaxation"),
            "device_state": device_state,
            "battery_pct": view.device.get("battery_pct"),
            "contact": view.device.get("contact"),
            "relay_connected": self.relay is not None,
            "signal_lost": live
            and (
                quiet
                or self.relay is None
                or device_state in ("lost", "reconnecting")
                or view.device.get("contact") is False
            ),
            "watch_path": f"/?session={self.sid}",
        }


class ClinicServer:
    """The central server of a clinic.

    Args:
        token: Access token for relays (and for pages beyond loopback).
        protect_pages: Require the token on page requests too.
        observers: Called for each new session for further observers.
        store: Where every session is recorded, with its patient (``None``: not stored).
        resume_grace_s: How long a session waits for its relay to come back, s.
    """

    def __init__(
        self,
        token: str,
        *,
        protect_pages: bool = False,
        observers: ObserverFactory | None = None,
        store: SessionStore | None = None,
        resume_grace_s: float = RESUME_GRACE_S,
    ) -> None:
        self.token = token
        self.sessions: dict[str, ClinicSession] = {}
        self.rejected_frames = 0
        self.store = store
        self.resume_grace_s = resume_grace_s
        self._protect_pages = protect_pages
        self._observers = observers
        self._tasks: set[asyncio.Task[None]] = set()

    # -- HTTP side -------------------------------------------------------------------------

    def _sessions_json(self, request: Request) -> Response:
        rows = [s.row() for s in self.sessions.values()]
        rows.sort(key=lambda r: ((r["patient"] or r["name"]).casefold(), r["started_unix"]))
        return json_response(rows)

    def _today_json(self, request: Request) -> Response:
        """Sessions that ended today, newest first: from the store, else those still held
        in memory (for ``ENDED_KEEP_S``)."""
        midnight = dt.datetime.now().replace(hour=0, minute=0, second=0, microsecond=0)
        since = midnight.timestamp()
        rows: list[dict[str, Any]] = []
        if self.store is not None:
            for s in self.store.list_sessions():
                if s.ended_unix is None or s.started_unix < since:
                    continue
                rows.append(
                    {
                        "patient": s.patient,
                        "name": s.device_name,
                        "started_unix": s.started_unix,
                        "ended_unix": s.ended_unix,
                        "minutes": round(s.minutes_practised, 2),
                        "beats": s.n_beats,
                        "mean_hr_bpm": s.mean_hr_bpm,
                        "mean_rmssd_ms": s.mean_rmssd_ms,
                        "ended_reason": s.ended_reason,
                        "stored_id": s.id,
                    }
                )
        else:
            for session in self.sessions.values():
                if session.ran.is_set():
                    row = session.row()
                    rows.append(
                        {
                            "patient": row["patient"],
                            "name": row["name"],
                            "started_unix": row["started_unix"],
                            "ended_unix": None,
                            "minutes": round((row["elapsed_s"] or 0.0) / 60.0, 2),
                            "beats": row["beats"],
                            "mean_hr_bpm": None,
                            "mean_rmssd_ms": None,
                            "ended_reason": "ended",
                            "stored_id": None,
                        }
                    )
        return json_response(rows[::-1])

    def _root(self, web: Any) -> Callable[[Request], Response]:
        """``/``: the dashboard; ``/?session=ID``: the practice page watching that session."""

        def root(request: Request) -> Response:
            page = "index.html" if _query(request, "session") else "dashboard.html"
            body = (web / page).read_bytes()
            return response(200, body, "text/html; charset=utf-8")

        return root

    def _relay_authorised(self, request: Request) -> bool:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return False
        return token_matches(auth.removeprefix("Bearer ").strip(), self.token)

    def _process_request(self) -> Callable[[ServerConnection, Request], Response | None]:
        web = find_web_root()
        routes = {
            SESSIONS_PATH: self._sessions_json,
            TODAY_PATH: self._today_json,
            "/": self._root(web),
        }
        pages = make_static_server(web, routes, ws_path=WS_PATH)

        def pages_and_sessions(connection: ServerConnection, request: Request) -> Response | None:
            if request_path(request) == WS_PATH and _query(request, "session") not in self.sessions:
                return text_response(404, "no such session; see /sessions")
            return pages(connection, request)

        # the token (when pages need one) is checked before a session is looked up
        guarded = guard(
            pages_and_sessions,
            token=self.token if self._protect_pages else None,
            ws_path=WS_PATH,
        )

        def process_request(connection: ServerConnection, request: Request) -> Response | None:
            if request_path(request) == INGEST_PATH:
                if not self._relay_authorised(request):
                    return text_response(
                        401, "ingest needs the access token (Authorization: Bearer TOKEN)"
                    )
                return None
            return guarded(connection, request)

        return process_request

    # -- websocket side --------------------------------------------------------------------

    async def _handle(self, connection: ServerConnection) -> None:
        request = connection.request
        assert request is not None
        if request_path(request) == INGEST_PATH:
            await self._ingest(connection)
            return
        session = self.sessions.get(_query(request, "session") or "")
        if session is None:
            await connection.close(1008, "no such session")
            return
        await make_handler(session.live.hub, session.live.handle_command)(connection)

    def _open_session(self, hello: proto.RelayHello, taken: int | None = None) -> ClinicSession:
        """A new session for ``hello`` (under the id it asks to resume, when that is free).

        ``taken``: the last sequence number an earlier session of this relay took (that
        session ended when its relay did not come back in time).
        """
        sid = hello.resume
        if sid is None or not _SESSION_ID.fullmatch(sid) or sid in self.sessions:
            sid = secrets.token_urlsafe(6)
        source = IngestSource(hello.name, hello.source)
        recorder = None
        if self.store is not None:
            recorder = SessionRecorder(
                self.store, clock=source.clock_s, patient=hello.patient or DEFAULT_PATIENT
            )
        session = ClinicSession(sid, hello, source, [], recorder)
        if self._observers is not None:
            session.live.observers.extend(self._observers(session.live))
        if taken is None and hello.resume is not None and self.store is not None:
            # a restarted server: what the relay's earlier session took is stored
            stored = self.store.get_setting(SEQ_SETTING.format(hello.resume))
            taken = None if stored is None else int(stored)
        if hello.first_seq is not None and taken is not None and taken + 1 > hello.first_seq:
            session.sequencer.on_hello(taken + 1)
        self.sessions[sid] = session
        task = asyncio.create_task(self._run_session(session))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return session

    async def _ingest(self, connection: ServerConnection) -> None:
        try:
            async with asyncio.timeout(HELLO_TIMEOUT_S):
                first = proto.parse_frame(await connection.recv())
        except (TimeoutError, proto.IngestError, ConnectionClosed) as exc:
            with contextlib.suppress(ConnectionClosed):
                await connection.close(1008, f"expected relay_hello: {exc}"[:120])
            return
        if not isinstance(first, proto.RelayHello):
            await connection.close(1008, "the first frame must be relay_hello")
            return
        session = self.sessions.get(first.resume or "")
        if session is not None and session.took_end:
            # the relay missed the ack of its end: everything was taken already
            await connection.send(
                proto.encode_ingest_ok(session.sid, resumed=True, ack=session.sequencer.ack)
            )
            await connection.close()
            return
        resumed = session is not None and not session.finished
        if session is None or session.finished:
            taken = None if session is None else session.sequencer.ack
            session = self._open_session(first, taken)
        replaced = session.attach(connection)
        if replaced is not None:
            log.info("relay of session %s reconnected; closing its old connection", session.sid)
            with contextlib.suppress(ConnectionClosed):
                await replaced.close(1000, "a newer connection of this relay took over")
        session.sequencer.on_hello(first.first_seq)
        session.arrivals.on_hello(first, asyncio.get_running_loop().time())
        await connection.send(
            proto.encode_ingest_ok(session.sid, resumed=resumed, ack=session.sequencer.ack)
        )
        try:
            await self._receive(connection, session, first.name)
        except ConnectionClosed:
            log.info("relay of session %s went away", session.sid)
        finally:
            session.detach(connection, self.resume_grace_s)

    async def _receive(
        self, connection: ServerConnection, session: ClinicSession, name: str
    ) -> None:
        async for text in connection:
            if session.relay is not connection or session.finished:
                return  # a newer connection of the same relay took over, or the session ended
            acked = session.sequencer.ack
            try:
                seq, frame = proto.parse_sequenced(text, device_name=name)
            except proto.IngestError as exc:
                frames = session.sequencer.skip(exc.seq)
                await self._reject(connection, session, str(exc))
            else:
                frames = session.sequencer.push(seq, frame)
            ended = False
            for taken in frames:
                ended = await self._take(connection, session, taken) or ended
            ack = session.sequencer.ack
            if ack is not None and (ack != acked or not frames):
                await _send_quietly(connection, proto.encode_ack(ack))
            if ended:
                return

    async def _take(
        self, connection: ServerConnection, session: ClinicSession, frame: proto.IngestFrame
    ) -> bool:
        """Apply one frame in order; ``True`` when it ended the session."""
        if isinstance(frame, proto.End):
            session.took_end = True
            session.finish()
            return True
        if isinstance(frame, proto.RelayHello):
            return False
        if isinstance(frame, RRNotification):
            now = asyncio.get_running_loop().time()
            problem = session.arrivals.check(frame.arrival_s, now)
            if problem is not None:
                await self._reject(connection, session, problem)
                return False
        await session.source.feed(frame)
        return False

    async def _reject(self, connection: ServerConnection, session: ClinicSession, why: str) -> None:
        self.rejected_frames += 1
        session.rejected_frames += 1
        await _send_quietly(connection, json.dumps({"type": "error", "message": why}))

    async def _run_session(self, session: ClinicSession) -> None:
        try:
            await session.live.run(port=None)
            self._stored(session)
            session.ran.set()
            await asyncio.sleep(ENDED_KEEP_S)
        finally:
            session.finish()
            self._stored(session)
            if self.sessions.get(session.sid) is session:
                del self.sessions[session.sid]

    def _stored(self, session: ClinicSession) -> None:
        """Close the session's record, noting the last sequence number it took."""
        recorder, session.recorder = session.recorder, None
        if recorder is None or self.store is None:
            return
        try:
            recorder.close("source_ended")
            ack = session.sequencer.ack
            if ack is not None:
                self.store.set_setting(SEQ_SETTING.format(session.sid), str(ack))
        except OSError as exc:  # pragma: no cover - disk gone at the end
            log.warning("session %s: cannot finish its record: %s", session.sid, exc)

    async def stop_sessions(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """End every session (what was taken is run through the pipeline and stored)."""
        for session in list(self.sessions.values()):
            session.finish()
        pending = [s.ran.wait() for s in self.sessions.values() if not s.ran.is_set()]
        if pending:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout_s):
                    await asyncio.gather(*pending)

    async def run(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 8765,
        serve_ready: Callable[[int], None] | None = None,
        stop: asyncio.Event | None = None,
    ) -> None:
        """Serve until ``stop`` is set (or forever); then end and store every session."""
        async with serve(
            self._handle,
            host,
            port,
            process_request=self._process_request(),
            max_size=MAX_INGEST_FRAME_BYTES,
        ) as server:
            bound = int(next(iter(server.sockets)).getsockname()[1])
            if serve_ready is not None:
                serve_ready(bound)
            try:
                await (stop or asyncio.Event()).wait()
            finally:
                server.close(close_connections=True)
                await self.stop_sessions()
                for task in list(self._tasks):
                    task.cancel()
                for task in list(self._tasks):
                    with contextlib.suppress(asyncio.CancelledError):
                        await task


async def _send_quietly(connection: ServerConnection, text: str) -> None:
    """Send to a relay whose connection may have closed: the frames it sent before closing
    are still taken (an unacknowledged relay resends anyway)."""
    with contextlib.suppress(ConnectionClosed):
        await connection.send(text)
