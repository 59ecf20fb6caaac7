"""Many sessions on one server: relays stream straps in on ``/ingest``, pages watch them.

A clinic runs one central server (``hrvcalm serve``); next to each patient a relay
(``hrvcalm relay --source ble:auto --to ws://server:8765/ingest``) forwards the strap's
notifications. Every ingest connection becomes one :class:`~hrvcalm.server.app.LiveSession`
(the same pipeline and hub as a local session) and pages watch it at ``/?session=ID``, whose
websocket is ``/ws?session=ID``. ``/sessions`` lists the live sessions as JSON.

Access: ``/ingest`` always needs the access token (``Authorization: Bearer TOKEN`` or
``?token=``); pages need it too when the server listens beyond loopback (see
:mod:`hrvcalm.server.access`). Sessions whose relay has gone are kept for
``ENDED_KEEP_S`` so that their pages can still show the end, then forgotten.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import secrets
from collections.abc import Callable, Sequence
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from hrvcalm.devices.ingest import IngestSource
from hrvcalm.server import ingest_protocol as proto
from hrvcalm.server.access import guard
from hrvcalm.server.app import LiveSession, SessionObserver
from hrvcalm.server.static import (
    find_web_root,
    json_response,
    make_static_server,
    request_path,
    text_response,
)
from hrvcalm.server.ws import WS_PATH, make_handler

log = logging.getLogger(__name__)

INGEST_PATH = "/ingest"
SESSIONS_PATH = "/sessions"
#: How long a session stays watchable after its relay ended, s.
ENDED_KEEP_S = 300.0
#: A relay must say hello within this time, s.
HELLO_TIMEOUT_S = 10.0
#: Largest ingest frame, bytes (a notification is ~150 bytes).
MAX_INGEST_FRAME_BYTES = 16 * 1024

ObserverFactory = Callable[[LiveSession], Sequence[SessionObserver]]


def _query(request: Request, name: str) -> str | None:
    values = parse_qs(urlsplit(request.path).query).get(name)
    return values[0] if values else None


class ClinicServer:
    """The central server of a clinic.

    Args:
        token: Access token for relays (and for pages beyond loopback).
        protect_pages: Require the token on page requests too.
        observers: Called for each new session to attach observers (e.g. the store).
    """

    def __init__(
        self, token: str, *, protect_pages: bool = False, observers: ObserverFactory | None = None
    ) -> None:
        self.token = token
        self.sessions: dict[str, LiveSession] = {}
        self.rejected_frames = 0
        self._protect_pages = protect_pages
        self._observers = observers
        self._tasks: set[asyncio.Task[None]] = set()

    # -- HTTP side -------------------------------------------------------------------------

    def _sessions_json(self, request: Request) -> Response:
        return json_response(
            [
                {
                    "session": sid,
                    "name": live.source.name,
                    "phase": live.state.phase.value,
                    "beats": live.n_beats,
                    "watch_path": f"/?session={sid}",
                }
                for sid, live in self.sessions.items()
            ]
        )

    def _relay_authorised(self, request: Request) -> bool:
        given = _query(request, "token")
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            given = auth.removeprefix("Bearer ").strip()
        return given is not None and hmac.compare_digest(given, self.token)

    def _process_request(self) -> Callable[[ServerConnection, Request], Response | None]:
        pages = make_static_server(
            find_web_root(), {SESSIONS_PATH: self._sessions_json}, ws_path=WS_PATH
        )
        guarded = guard(pages, token=self.token if self._protect_pages else None, ws_path=WS_PATH)

        def process_request(connection: ServerConnection, request: Request) -> Response | None:
            path = request_path(request)
            if path == INGEST_PATH:
                if not self._relay_authorised(request):
                    return text_response(401, "ingest needs the access token")
                return None
            if path == WS_PATH and _query(request, "session") not in self.sessions:
                return text_response(404, "no such session; see /sessions")
            return guarded(connection, request)

        return process_request

    # -- websocket side --------------------------------------------------------------------

    async def _handle(self, connection: ServerConnection) -> None:
        request = connection.request
        assert request is not None
        if request_path(request) == INGEST_PATH:
            await self._ingest(connection)
            return
        live = self.sessions.get(_query(request, "session") or "")
        if live is None:
            await connection.close(1008, "no such session")
            return
        await make_handler(live.hub, live.handle_command)(connection)

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
        sid = secrets.token_urlsafe(6)
        source = IngestSource(first.name, first.source)
        live = LiveSession(source, autostart=True)
        if self._observers is not None:
            live.observers.extend(self._observers(live))
        self.sessions[sid] = live
        task = asyncio.create_task(self._run_session(sid, live))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        await connection.send(
            f'{{"type":"ingest_ok","session":"{sid}","watch_path":"/?session={sid}"}}'
        )
        try:
            async for text in connection:
                try:
                    frame = proto.parse_frame(text, device_name=first.name)
                except proto.IngestError as exc:
                    self.rejected_frames += 1
                    await connection.send(f'{{"type":"error","message":{_json_str(str(exc))}}}')
                    continue
                if isinstance(frame, proto.End):
                    break
                if isinstance(frame, proto.RelayHello):
                    continue
                await source.feed(frame)
        except ConnectionClosed:
            log.info("relay of session %s went away", sid)
        finally:
            source.finish()

    async def _run_session(self, sid: str, live: LiveSession) -> None:
        try:
            await live.run(port=None)
            await asyncio.sleep(ENDED_KEEP_S)
        finally:
            self.sessions.pop(sid, None)

    async def run(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 8765,
        serve_ready: Callable[[int], None] | None = None,
        stop: asyncio.Event | None = None,
    ) -> None:
        """Serve until ``stop`` is set (or forever)."""
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
            await (stop or asyncio.Event()).wait()
            for task in list(self._tasks):
                task.cancel()


def _json_str(text: str) -> str:
    import json

    return json.dumps(text)
