"""Who may talk to the server: same-origin pages, and a token beyond loopback.

Rules, checked on every HTTP request and websocket handshake before anything else:

1. A websocket handshake that carries an ``Origin`` header must come from a page of this
   server (the origin's host and port equal the request's ``Host``); otherwise 403. This
   stops another web site open in the patient's browser from reading the heart data through
   ``ws://127.0.0.1``. Non-browser clients send no ``Origin`` and pass this rule.
2. With an access token (required when serving beyond loopback, see ``hrvcalm session
   --host``), every request must carry it: ``?token=...`` in the URL, or the
   ``hrvcalm_token`` cookie that the server sets when a page is opened with the right
   ``?token=``; otherwise 401. Tokens are compared in constant time.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request, Response

from hrvcalm.server.static import RequestHook, request_path, text_response

COOKIE_NAME = "hrvcalm_token"


def new_token() -> str:
    """A fresh random access token (128 bits, URL-safe)."""
    return secrets.token_urlsafe(16)


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _query_token(request: Request) -> str | None:
    query = urlsplit(request.path).query
    values = parse_qs(query).get("token")
    return values[0] if values else None


def _cookie_token(request: Request) -> str | None:
    for header in request.headers.get_all("Cookie"):
        for part in header.split(";"):
            name, _, value = part.strip().partition("=")
            if name == COOKIE_NAME:
                return value
    return None


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    host = request.headers.get("Host")
    return host is not None and urlsplit(origin).netloc.lower() == host.lower()


def guard(inner: RequestHook, *, token: str | None, ws_path: str = "/ws") -> RequestHook:
    """Wrap a ``process_request`` hook with the access rules above."""

    def process_request(connection: ServerConnection, request: Request) -> Response | None:
        path = request_path(request)
        if path == ws_path and not _same_origin(request):
            return text_response(
                403, "websocket connections are accepted only from this server's page"
            )
        set_cookie = False
        if token is not None:
            given = _query_token(request)
            from_cookie = _cookie_token(request)
            if given is not None and hmac.compare_digest(given, token):
                set_cookie = True
            elif from_cookie is None or not hmac.compare_digest(from_cookie, token):
                return text_response(401, "access token required: open the address hrvcalm printed")
        result = inner(connection, request)
        if set_cookie and result is not None:
            result.headers["Set-Cookie"] = (
                f"{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Strict"
            )
        return result

    return process_request
