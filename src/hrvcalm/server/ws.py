"""One websockets server on one port: static files from web/ and the ``/ws`` endpoint.

:class:`Hub` keeps the latest state (hello, device, pacer, session, metrics and the beats of
the last two minutes) so that a page connecting late is brought up to date at once, and
broadcasts every new message to all connected pages. Several pages may watch one session.
"""

from __future__ import annotations

import logging
import mimetypes
from collections import deque
from collections.abc import Awaitable, Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from websockets.asyncio.server import ServerConnection, broadcast
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from hrvcalm.server import messages
from hrvcalm.server.messages import CommandError, Message

if TYPE_CHECKING:
    from hrvcalm.server.messages import Command

log = logging.getLogger(__name__)

WS_PATH = "/ws"
#: Beats kept for pages that connect late (enough for a 2-minute heart-rate trace).
RECENT_BEATS = 240
_STATE_TYPES = ("hello", "device", "pacer", "session", "metrics")
_CONTENT_TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css"}


def find_web_root() -> Path:
    """The folder holding the page: inside the installed package, else the repository's web/."""
    packaged = Path(str(resources.files("hrvcalm"))) / "web"
    if (packaged / "index.html").is_file():
        return packaged
    repo = Path(__file__).resolve().parents[3] / "web"
    if (repo / "index.html").is_file():
        return repo
    raise FileNotFoundError("the page (web/index.html) is missing from this installation")


class Hub:
    """Latest state plus the set of connected pages.

    Args:
        on_message: Called with every published message (e.g. to print ``--jsonl``).
    """

    def __init__(self, on_message: Callable[[Message], None] | None = None) -> None:
        self.clients: set[ServerConnection] = set()
        self._state: dict[str, Message] = {}
        self._recent_beats: deque[Message] = deque(maxlen=RECENT_BEATS)
        self._on_message = on_message

    def publish(self, message: Message) -> None:
        """Remember a message as current state and send it to every page."""
        kind = message["type"]
        if kind in _STATE_TYPES:
            self._state[kind] = message
        elif kind == "beat":
            self._recent_beats.append(message)
        if self._on_message is not None:
            self._on_message(message)
        if self.clients:
            broadcast(self.clients, messages.encode(message))

    def welcome(self) -> list[Message]:
        """What a page that just connected needs, in order: state first, then recent beats."""
        out = [self._state[k] for k in ("hello", "device", "pacer", "session") if k in self._state]
        out.extend(self._recent_beats)
        if "metrics" in self._state:
            out.append(self._state["metrics"])
        return out


CommandHandler = Callable[["Command"], Awaitable[None]]


def make_handler(
    hub: Hub, on_command: CommandHandler
) -> Callable[[ServerConnection], Awaitable[None]]:
    """The connection handler for ``/ws``: welcome, then read page commands until closed."""

    async def handler(connection: ServerConnection) -> None:
        for message in hub.welcome():
            await connection.send(messages.encode(message))
        hub.clients.add(connection)
        try:
            async for text in connection:
                try:
                    command = messages.parse_command(text)
                except CommandError as exc:
                    await connection.send(messages.encode(messages.error(str(exc))))
                    continue
                try:
                    await on_command(command)
                except ValueError as exc:
                    await connection.send(messages.encode(messages.error(str(exc))))
        except ConnectionClosed:
            pass
        finally:
            hub.clients.discard(connection)

    return handler


#: A handler for one extra HTTP path (e.g. a JSON endpoint of the history page).
Route = Callable[[Request], Response]


def json_response(payload: object, status: int = 200) -> Response:
    """A JSON HTTP response (for :data:`Route` handlers)."""
    import json

    body = json.dumps(payload, allow_nan=False).encode()
    return _response(status, "OK" if status == 200 else "Error", body, "application/json")


def _response(status: int, reason: str, body: bytes, content_type: str) -> Response:
    headers = Headers()
    headers["Content-Type"] = content_type
    headers["Content-Length"] = str(len(body))
    headers["Cache-Control"] = "no-cache"
    headers["X-Content-Type-Options"] = "nosniff"
    return Response(status, reason, headers, body)


def make_static_server(
    web_root: Path, routes: dict[str, Route] | None = None
) -> Callable[[ServerConnection, Request], Response | None]:
    """A ``process_request`` hook serving ``routes`` (exact paths) and files under ``web_root``.

    ``/ws`` is left to the websocket handshake.
    """
    root = web_root.resolve()
    extra = dict(routes or {})

    def process_request(connection: ServerConnection, request: Request) -> Response | None:
        path = request.path.split("?", 1)[0].split("#", 1)[0]
        if path == WS_PATH:
            return None
        if path in extra:
            return extra[path](request)
        relative = "index.html" if path in ("", "/") else path.lstrip("/")
        target = (root / relative).resolve()
        if not target.is_relative_to(root) or not target.is_file():
            return _response(404, "Not Found", b"not found\n", "text/plain; charset=utf-8")
        content_type = _CONTENT_TYPES.get(target.suffix) or (
            mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        )
        if content_type.startswith("text/"):
            content_type += "; charset=utf-8"
        return _response(200, "OK", target.read_bytes(), content_type)

    return process_request
