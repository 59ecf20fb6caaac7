"""Who may talk to the server: its own pages, at its own address, and a token beyond loopback.

Rules, checked on every HTTP request and websocket handshake before anything else
(docs/security.md says what they promise and which tests hold them):

1. The ``Host`` header must name this server (421 otherwise). A server reached on a loopback
   address answers only to ``localhost`` and loopback addresses; one reached on another
   address also to any IP address and to this machine's name (and ``NAME.local``). The
   ``--host`` name it was started with and the names in ``$HRVCALM_ALLOWED_HOSTS``
   (comma-separated; e.g. the public name of a TLS proxy in front) are answered to always.
   This defeats DNS rebinding: a web site whose name re-resolves to 127.0.0.1 reaches the
   port, but its requests carry its own name and are refused.
2. A request that carries an ``Origin`` must come from a page of this server (the origin's
   host and port equal the request's ``Host``); a request with several is refused. This stops
   another web site open in the patient's browser from reading the heart data through
   ``ws://127.0.0.1``. Non-browser clients send no ``Origin`` and pass this rule.
3. The JSON API (``/api/...``), which reads the health history, is refused to requests a
   browser marks ``Sec-Fetch-Site: cross-site`` or ``same-site`` and needs the
   ``X-Hrvcalm: 1`` header, which hrvcalm's pages send and which no other site's page can
   send without the server's consent (a custom header makes the browser ask first, with an
   ``OPTIONS`` request this server never grants).
4. With an access token (required when serving beyond loopback, see ``hrvcalm session
   --host``), every request must carry it: ``?token=...`` in the URL, or the
   ``hrvcalm_token`` cookie that the server sets when a page is opened with the right
   ``?token=``; otherwise 401. A page opened with ``?token=`` is sent on to the same address
   without it (the cookie carries it from then on), so the token does not stay in the
   address bar, the history or a bookmark. Tokens are compared in constant time.
"""

from __future__ import annotations

import hmac
import inspect
import ipaddress
import os
import secrets
import socket
from collections.abc import Iterable
from typing import cast, overload
from urllib.parse import parse_qsl, urlencode, urlsplit

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from hrvcalm.server.static import (
    AsyncRequestHook,
    RequestHook,
    request_path,
    response,
    text_response,
)

COOKIE_NAME = "hrvcalm_token"
#: Extra names the server answers to beyond loopback, comma-separated.
ALLOWED_HOSTS_ENV = "HRVCALM_ALLOWED_HOSTS"
#: Paths under this prefix read or change health data: rule 3 applies.
API_PREFIX = "/api/"
#: The header (and its value) hrvcalm's pages send with every API request.
API_HEADER = "X-Hrvcalm"
API_HEADER_VALUE = "1"

_LOOPBACK_NAMES = frozenset(("localhost", "localhost.localdomain"))
_WILDCARDS = frozenset(("", "0.0.0.0", "::", "[::]"))


def new_token() -> str:
    """A fresh random access token (128 bits, URL-safe)."""
    return secrets.token_urlsafe(16)


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if host.lower().rstrip(".") in _LOOPBACK_NAMES:
        return True
    ip = _ip(host)
    return ip is not None and ip.is_loopback


def token_matches(given: str | None, token: str) -> bool:
    """Whether ``given`` is ``token``, in constant time; any text (non-ASCII too) is fine."""
    if given is None:
        return False
    return hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), token.encode("utf-8", "surrogatepass")
    )


def host_name(host_header: str) -> str | None:
    """The name in a ``Host`` header, lower case, without port or final dot; ``None`` if the
    header is malformed."""
    value = host_header.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return None
        name, rest = value[1:end], value[end + 1 :]
        if _ip(name) is None:
            return None
    else:
        name, _, port = value.partition(":")
        rest = f":{port}" if port or value.endswith(":") else ""
    if rest and not (rest.startswith(":") and rest[1:].isdigit()):
        return None
    name = name.removesuffix(".")
    if not name or any(c.isspace() or c in "/\\@?#" for c in name):
        return None
    return name


def _machine_names() -> set[str]:
    name = socket.gethostname().lower().rstrip(".")
    names = {name, f"{name}.local"} if name else set()
    short = name.split(".", 1)[0]
    if short:
        names |= {short, f"{short}.local"}
    return names


def _env_names() -> set[str]:
    raw = os.environ.get(ALLOWED_HOSTS_ENV, "")
    return {n.strip().lower().rstrip(".") for n in raw.split(",") if n.strip()}


class HostPolicy:
    """Which ``Host`` names the server answers to (rule 1).

    Args:
        host: The address the server was started on (``--host``); ``None`` when unknown, then
            the address each connection arrived on decides.
        allowed_hosts: Further names to answer to beyond loopback.
    """

    def __init__(self, host: str | None = None, allowed_hosts: Iterable[str] = ()) -> None:
        self.loopback_only = host is not None and is_loopback(host)
        configured = None if host is None else host.strip("[]").lower().rstrip(".")
        self._names = {n.lower().rstrip(".") for n in allowed_hosts}
        if configured and configured not in _WILDCARDS and _ip(configured) is None:
            self._names.add(configured)
        self._machine: set[str] | None = None

    def allows(self, name: str, local_address: str | None) -> bool:
        """Whether a request naming ``name`` and arriving on ``local_address`` is for us."""
        if is_loopback(name) or name in self._names or name in _env_names():
            return True  # loopback, or named by whoever started the server
        if self.loopback_only or local_address is None or is_loopback(local_address):
            return False
        if _ip(name) is not None:
            return True  # an address in the URL: no name that could be re-resolved
        if self._machine is None:
            self._machine = _machine_names()
        return name in self._machine


def _local_address(connection: ServerConnection) -> str | None:
    try:
        address = connection.local_address
    except (AttributeError, OSError):
        return None
    if isinstance(address, tuple) and address:
        return str(address[0])
    return None


def _query_token(request: Request) -> str | None:
    query = urlsplit(request.path).query
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name == "token":
            return value
    return None


def _cookie_token(request: Request) -> str | None:
    for header in request.headers.get_all("Cookie"):
        for part in header.split(";"):
            name, _, value = part.strip().partition("=")
            if name == COOKIE_NAME:
                return value
    return None


def _same_origin(request: Request) -> bool:
    """No ``Origin``, or exactly one naming this request's ``Host``."""
    origins = request.headers.get_all("Origin")
    if not origins:
        return True
    if len(origins) > 1:
        return False
    hosts = request.headers.get_all("Host")
    if len(hosts) != 1:
        return False
    try:
        netloc = urlsplit(origins[0].strip()).netloc
    except ValueError:
        return False
    return netloc.lower() == hosts[0].strip().lower()


def _without_token(path: str) -> str:
    parts = urlsplit(path)
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "token"]
    return parts.path + (f"?{urlencode(kept)}" if kept else "")


def _is_page(result: Response) -> bool:
    return result.status_code == 200 and result.headers.get("Content-Type", "").startswith(
        "text/html"
    )


class _Rules:
    """The checks of :func:`guard`, shared by its plain and its coroutine form."""

    def __init__(
        self, token: str | None, ws_path: str, host: str | None, allowed_hosts: Iterable[str]
    ) -> None:
        self.token = token
        self.ws_path = ws_path
        self.hosts = HostPolicy(host, allowed_hosts)

    def check(self, connection: ServerConnection, request: Request) -> Response | bool:
        """A refusal, else whether a valid ``?token=`` came with the request."""
        hosts = request.headers.get_all("Host")
        name = host_name(hosts[0]) if len(hosts) == 1 else None
        if name is None:
            return text_response(400, "bad request: one Host header with this server's address")
        if not self.hosts.allows(name, _local_address(connection)):
            return text_response(
                421,
                f"misdirected request: this server does not answer to {name!r}; "
                "open the address hrvcalm printed",
            )
        path = request_path(request)
        if not _same_origin(request):
            if path == self.ws_path:
                return text_response(
                    403, "websocket connections are accepted only from this server's page"
                )
            return text_response(403, "requests are accepted only from this server's pages")
        if path.startswith(API_PREFIX):
            site = request.headers.get_all("Sec-Fetch-Site")
            if any(s.strip().lower() in ("cross-site", "same-site") for s in site):
                return text_response(403, "the history is not shared with other web sites")
            if request.headers.get_all(API_HEADER) != [API_HEADER_VALUE]:
                return text_response(
                    403, f"the history API needs the header {API_HEADER}: {API_HEADER_VALUE}"
                )
        if self.token is None:
            return False
        if token_matches(_query_token(request), self.token):
            return True
        if not token_matches(_cookie_token(request), self.token):
            return text_response(401, "access token required: open the address hrvcalm printed")
        return False

    def finish(
        self, request: Request, result: Response | None, from_query: bool
    ) -> Response | None:
        """Set the cookie after a valid ``?token=``; send a page on without it."""
        if not from_query or result is None:
            return result
        cookie = f"{COOKIE_NAME}={self.token}; Path=/; HttpOnly; SameSite=Strict"
        if _is_page(result):
            headers = Headers()
            headers["Location"] = _without_token(request.path)
            headers["Set-Cookie"] = cookie
            return response(303, b"", "text/plain; charset=utf-8", headers)
        result.headers["Set-Cookie"] = cookie
        return result


@overload
def guard(
    inner: RequestHook,
    *,
    token: str | None,
    ws_path: str = "/ws",
    host: str | None = None,
    allowed_hosts: Iterable[str] = (),
) -> RequestHook: ...


@overload
def guard(
    inner: AsyncRequestHook,
    *,
    token: str | None,
    ws_path: str = "/ws",
    host: str | None = None,
    allowed_hosts: Iterable[str] = (),
) -> AsyncRequestHook: ...


def guard(
    inner: RequestHook | AsyncRequestHook,
    *,
    token: str | None,
    ws_path: str = "/ws",
    host: str | None = None,
    allowed_hosts: Iterable[str] = (),
) -> RequestHook | AsyncRequestHook:
    """Wrap a ``process_request`` hook (plain or coroutine) with the access rules above.

    Args:
        inner: The hook serving what the rules let through.
        token: The access token every request must carry (``None``: none needed).
        ws_path: The websocket's path.
        host: The address the server was started on (``--host``). ``None``: decided per
            connection by the address it arrived on (loopback: loopback names only).
        allowed_hosts: Further names to answer to beyond loopback.
    """
    rules = _Rules(token, ws_path, host, allowed_hosts)

    if inspect.iscoroutinefunction(inner):
        async_inner = cast(AsyncRequestHook, inner)

        async def async_process_request(
            connection: ServerConnection, request: Request
        ) -> Response | None:
            checked = rules.check(connection, request)
            if isinstance(checked, Response):
                return checked
            return rules.finish(request, await async_inner(connection, request), checked)

        return async_process_request

    def process_request(connection: ServerConnection, request: Request) -> Response | None:
        checked = rules.check(connection, request)
        if isinstance(checked, Response):
            return checked
        result = cast(RequestHook, inner)(connection, request)
        return rules.finish(request, result, checked)

    return process_request
