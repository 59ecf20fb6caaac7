"""HTTP side of the one port: the page's files from web/ and a few exact-path routes.

Static serving is deliberately small: GET only (the websockets handshake parser accepts
nothing else), exact files under the web root (no directory listings, no path traversal:
every path is resolved and must stay inside the root; a path the file system cannot take, a
NUL or an over-long name, is "not found"), ``/`` is ``index.html``.

Routes that read the session store run in a worker thread
(:func:`make_async_static_server`), never on the event loop that carries the live session:
a whole-history query takes most of a second on an 8-week store, and the patient's pacer and
heart trace must not wait for it. At most :data:`MAX_WAITING_READS` such requests wait at a
time; more are answered 503.
"""

from __future__ import annotations

import asyncio
import json
import mimetypes
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

#: A handler for one extra HTTP path (e.g. a JSON endpoint of the history page).
Route = Callable[[Request], Response]
#: ``process_request`` hook type of websockets' asyncio server.
RequestHook = Callable[[ServerConnection, Request], Response | None]
#: The same hook as a coroutine function (websockets awaits it).
AsyncRequestHook = Callable[[ServerConnection, Request], Awaitable[Response | None]]

#: Requests to blocking routes that may wait for the worker thread at once; more get 503.
MAX_WAITING_READS = 8

_CONTENT_TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css"}
_REASONS = {
    200: "OK",
    303: "See Other",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    421: "Misdirected Request",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def find_web_root() -> Path:
    """The folder holding the page: inside the installed package, else the repository's web/."""
    packaged = Path(str(resources.files("hrvcalm"))) / "web"
    if (packaged / "index.html").is_file():
        return packaged
    repo = Path(__file__).resolve().parents[3] / "web"
    if (repo / "index.html").is_file():
        return repo
    raise FileNotFoundError("the page (web/index.html) is missing from this installation")


def response(
    status: int, body: bytes, content_type: str, headers: Headers | None = None
) -> Response:
    """An HTTP response with the headers every answer of ours carries."""
    out = Headers() if headers is None else headers
    out["Content-Type"] = content_type
    out["Content-Length"] = str(len(body))
    out["Cache-Control"] = "no-cache"
    out["X-Content-Type-Options"] = "nosniff"
    out["Referrer-Policy"] = "no-referrer"
    return Response(status, _REASONS.get(status, "Error"), out, body)


def text_response(status: int, text: str) -> Response:
    """A plain-text response (errors)."""
    return response(status, (text + "\n").encode(), "text/plain; charset=utf-8")


def json_response(payload: object, status: int = 200) -> Response:
    """A JSON HTTP response (for :data:`Route` handlers)."""
    body = json.dumps(payload, allow_nan=False).encode()
    return response(status, body, "application/json")


def request_path(request: Request) -> str:
    """The path of a request without query or fragment."""
    return request.path.split("?", 1)[0].split("#", 1)[0]


def _file_response(root: Path, path: str) -> Response:
    if "\x00" in path:
        return text_response(400, "bad request: a NUL in the path")
    relative = "index.html" if path in ("", "/") else path.lstrip("/")
    try:
        target = (root / relative).resolve()
        if not target.is_relative_to(root) or not target.is_file():
            return text_response(404, "not found")
        body = target.read_bytes()
    except (OSError, ValueError):  # a name too long for the file system, a NUL, ...
        return text_response(404, "not found")
    content_type = _CONTENT_TYPES.get(target.suffix) or (
        mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    )
    if content_type.startswith("text/"):
        content_type += "; charset=utf-8"
    return response(200, body, content_type)


def make_static_server(
    web_root: Path, routes: dict[str, Route] | None = None, *, ws_path: str = "/ws"
) -> RequestHook:
    """A ``process_request`` hook serving ``routes`` (exact paths) and files under ``web_root``.

    ``ws_path`` is left to the websocket handshake. The routes run on the event loop: give
    routes that block (read the store) to :func:`make_async_static_server`.
    """
    root = web_root.resolve()
    extra = dict(routes or {})

    def process_request(connection: ServerConnection, request: Request) -> Response | None:
        path = request_path(request)
        if path == ws_path:
            return None
        if path in extra:
            return extra[path](request)
        return _file_response(root, path)

    return process_request


_worker: ThreadPoolExecutor | None = None
_worker_lock = threading.Lock()


def _blocking_worker() -> ThreadPoolExecutor:
    """The one thread that runs blocking routes (one: it never competes with itself for
    the interpreter, and the loop waits at most a switch interval for it)."""
    global _worker
    with _worker_lock:
        if _worker is None:
            _worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hrvcalm-reads")
        return _worker


def make_async_static_server(
    web_root: Path,
    routes: dict[str, Route] | None = None,
    *,
    ws_path: str = "/ws",
    max_waiting: int = MAX_WAITING_READS,
) -> AsyncRequestHook:
    """Like :func:`make_static_server`, with every route run in a worker thread.

    A route must then open what it reads itself (its own SQLite connection): it runs on
    another thread than the loop. The static files are small and served on the loop.
    """
    root = web_root.resolve()
    extra = dict(routes or {})
    waiting = 0

    async def process_request(connection: ServerConnection, request: Request) -> Response | None:
        nonlocal waiting
        path = request_path(request)
        if path == ws_path:
            return None
        route = extra.get(path)
        if route is None:
            return _file_response(root, path)
        if waiting >= max_waiting:
            return text_response(503, "busy reading the history; try again in a moment")
        waiting += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(_blocking_worker(), route, request)
        finally:
            waiting -= 1

    return process_request
