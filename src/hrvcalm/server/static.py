"""HTTP side of the one port: the page's files from web/ and a few exact-path routes.

Static serving is deliberately small: GET only (the websockets handshake parser accepts
nothing else), exact files under the web root (no directory listings, no path traversal:
every path is resolved and must stay inside the root), ``/`` is ``index.html``.
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

#: A handler for one extra HTTP path (e.g. a JSON endpoint of the history page).
Route = Callable[[Request], Response]
#: ``process_request`` hook type of websockets' asyncio server.
RequestHook = Callable[[ServerConnection, Request], Response | None]

_CONTENT_TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css"}
_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}


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


def make_static_server(
    web_root: Path, routes: dict[str, Route] | None = None, *, ws_path: str = "/ws"
) -> RequestHook:
    """A ``process_request`` hook serving ``routes`` (exact paths) and files under ``web_root``.

    ``ws_path`` is left to the websocket handshake.
    """
    root = web_root.resolve()
    extra = dict(routes or {})

    def process_request(connection: ServerConnection, request: Request) -> Response | None:
        path = request_path(request)
        if path == ws_path:
            return None
        if path in extra:
            return extra[path](request)
        relative = "index.html" if path in ("", "/") else path.lstrip("/")
        target = (root / relative).resolve()
        if not target.is_relative_to(root) or not target.is_file():
            return text_response(404, "not found")
        content_type = _CONTENT_TYPES.get(target.suffix) or (
            mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        )
        if content_type.startswith("text/"):
            content_type += "; charset=utf-8"
        return response(200, target.read_bytes(), content_type)

    return process_request
