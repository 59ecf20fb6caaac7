"""Requests a hostile web page or a broken client can make, against real servers on loopback.

DNS rebinding (a site whose name re-resolves to 127.0.0.1), other sites' pages reading the
history API, malformed tokens, headers, paths and websocket messages: each is refused with a
4xx and one line, or answered with an ``error`` message, never with a 500 or a traceback.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect

from hrvcalm.commands.sessions import history_routes, serve_history
from hrvcalm.devices.simulator import SimulatedStrap, SimulatorSettings
from hrvcalm.server import access
from hrvcalm.server.app import LiveSession
from hrvcalm.server.clinic import ClinicServer
from hrvcalm.storage import NewSession, SqliteStore, StoredRating

TOKEN = "s3cret-token"
REBIND = "rebind.attacker.example"


def _raw(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes; the status, headers and body of the answer (read to the close)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
    return int(lines[0].split()[1]), headers, body


def _request(path: str, host: str, *extra: str, websocket: bool = False) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", *extra]
    if websocket:
        key = base64.b64encode(os.urandom(16)).decode()
        lines += [
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
        ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _status(port: int, request: bytes) -> int:
    return (await asyncio.to_thread(_raw, port, request))[0]


def _history_db(path: Path) -> Path:
    with SqliteStore(path) as store:
        sid = store.create_session(NewSession(started_unix=1.7e9, source="sim"))
        store.set_rating(sid, StoredRating("before", 6, 7, "stiff back, bad night"))
        store.end_session(sid, reason="stopped", end_t_s=60.0, ended_unix=1.7e9 + 60)
    return path


async def _serve(token: str | None, db: Path) -> tuple[LiveSession, asyncio.Task[None], int]:
    live = LiveSession(SimulatedStrap(SimulatorSettings(seed=2), speed=20.0))
    bound: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        live.run(port=0, serve_ready=bound.set_result, token=token, routes=history_routes(db))
    )
    return live, task, await asyncio.wait_for(bound, 10)


async def _stop(live: LiveSession, task: asyncio.Task[None]) -> None:
    live._end()
    for ws in list(live.hub.clients):
        await ws.close()
    await asyncio.wait_for(task, 10)


@pytest.fixture
async def session_server(tmp_path: Path) -> AsyncIterator[tuple[LiveSession, int]]:
    live, task, port = await _serve(None, _history_db(tmp_path / "h.db"))
    yield live, port
    await _stop(live, task)


@pytest.fixture
async def token_server(tmp_path: Path) -> AsyncIterator[int]:
    live, task, port = await _serve(TOKEN, _history_db(tmp_path / "h.db"))
    yield port
    await _stop(live, task)


API = ("X-Hrvcalm: 1",)


# -- DNS rebinding ---------------------------------------------------------------------------


async def test_a_rebound_name_gets_nothing_from_the_session_server(
    session_server: tuple[LiveSession, int],
) -> None:
    live, port = session_server
    for path in ("/api/sessions", "/api/session?id=1", "/", "/history.html"):
        status, _, body = await asyncio.to_thread(
            _raw, port, _request(path, f"{REBIND}:{port}", *API)
        )
        assert status == 421, path
        assert body.count(b"\n") == 1 and b"misdirected" in body
    # nor a live websocket on which it could stop the session or rate it
    assert await _status(port, _request("/ws", f"{REBIND}:{port}", websocket=True)) == 421
    assert await _status(port, _request("/ws", REBIND, websocket=True)) == 421
    assert live.state.phase.value != "ended"
    # the server's own names still work
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "localhost", f"[::1]:{port}"):
        status, _, body = await asyncio.to_thread(_raw, port, _request("/api/sessions", host, *API))
        assert status == 200, host
        assert "stiff back" in body.decode()
    assert await _status(port, _request("/ws", f"localhost:{port}", websocket=True)) == 101


async def test_a_rebound_name_gets_nothing_from_the_history_server(tmp_path: Path) -> None:
    db = _history_db(tmp_path / "h.db")
    bound: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve_history(db, port=0, ready=bound.set_result))
    try:
        port = await asyncio.wait_for(bound, 10)
        assert await _status(port, _request("/api/sessions", f"{REBIND}:{port}", *API)) == 421
        assert await _status(port, _request("/history.html", f"{REBIND}:{port}")) == 421
        assert await _status(port, _request("/api/sessions", f"127.0.0.1:{port}", *API)) == 200
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_a_rebound_name_gets_nothing_from_the_clinic_server() -> None:
    """Pages through the shared guard; relays with the token in the header."""
    server = ClinicServer(TOKEN)
    stop = asyncio.Event()
    bound: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(server.run(port=0, serve_ready=bound.set_result, stop=stop))
    try:
        port = await asyncio.wait_for(bound, 10)
        assert await _status(port, _request("/sessions", f"{REBIND}:{port}")) == 421
        assert await _status(port, _request("/", f"{REBIND}:{port}")) == 421
        assert await _status(port, _request("/sessions", f"localhost:{port}")) == 200
        # a relay's non-ASCII token is refused, not a server error
        bearer = "Authorization: Bearer \xe9t\xe9"
        ingest = _request("/ingest", f"127.0.0.1:{port}", bearer, websocket=True)
        assert await _status(port, ingest) == 401
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("localhost:8765", "localhost"),
        ("LOCALHOST.", "localhost"),
        ("[::1]:8765", "::1"),
        ("127.0.0.1", "127.0.0.1"),
        ("clinic.lan:80", "clinic.lan"),
        ("evil.example:80@127.0.0.1", None),
        ("[nonsense]:1", None),
        ("a b:1", None),
        ("host:port", None),
        ("", None),
    ],
)
def test_host_header_parsing(header: str, name: str | None) -> None:
    assert access.host_name(header) == name


def test_host_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    loopback = access.HostPolicy("127.0.0.1")
    assert loopback.allows("localhost", "127.0.0.1")
    assert loopback.allows("127.0.0.1", "127.0.0.1")
    assert not loopback.allows(REBIND, "127.0.0.1")
    assert not loopback.allows("192.168.1.5", "127.0.0.1")
    # started for all interfaces: loopback arrivals answer to loopback names only ...
    anywhere = access.HostPolicy("0.0.0.0", allowed_hosts=["clinic.lan"])
    assert not anywhere.allows(REBIND, "127.0.0.1")
    # ... others to addresses, the configured names and this machine's name
    assert anywhere.allows("192.168.1.5", "192.168.1.5")
    assert anywhere.allows("clinic.lan", "192.168.1.5")
    assert anywhere.allows(socket.gethostname().lower(), "192.168.1.5")
    assert not anywhere.allows(REBIND, "192.168.1.5")
    assert access.HostPolicy("clinic.lan").allows("clinic.lan", "10.0.0.2")
    # names given by whoever started the server count even on loopback (a TLS proxy's name)
    assert access.HostPolicy("127.0.0.1", allowed_hosts=["clinic.lan"]).allows(
        "clinic.lan", "127.0.0.1"
    )
    monkeypatch.setenv(access.ALLOWED_HOSTS_ENV, "proxy.example, other.example")
    assert access.HostPolicy("127.0.0.1").allows("proxy.example", "127.0.0.1")
    assert not access.HostPolicy("127.0.0.1").allows(REBIND, "127.0.0.1")
    # unknown start address: the arrival address decides
    assert not access.HostPolicy().allows(REBIND, "127.0.0.1")
    assert access.HostPolicy().allows("localhost", "127.0.0.1")


# -- the history API is for hrvcalm's own pages ----------------------------------------------


async def test_the_history_api_needs_the_page_header_and_refuses_other_sites(
    session_server: tuple[LiveSession, int],
) -> None:
    _, port = session_server
    host = f"127.0.0.1:{port}"
    # a no-cors request from another site's page can send neither the header ...
    status, _, body = await asyncio.to_thread(_raw, port, _request("/api/sessions", host))
    assert status == 403 and b"X-Hrvcalm" in body and b"stiff back" not in body
    # ... nor hide where it comes from
    for site in ("cross-site", "same-site"):
        request = _request("/api/sessions", host, *API, f"Sec-Fetch-Site: {site}")
        assert await _status(port, request) == 403
        request = _request("/api/session?id=1", host, *API, f"Sec-Fetch-Site: {site}")
        assert await _status(port, request) == 403
    request = _request("/api/sessions", host, *API, "Origin: http://evil.example")
    assert await _status(port, request) == 403
    for fine in ("Sec-Fetch-Site: same-origin", "Sec-Fetch-Site: none", f"Origin: http://{host}"):
        assert await _status(port, _request("/api/sessions", host, *API, fine)) == 200


# -- malformed tokens, headers, paths --------------------------------------------------------


async def test_non_ascii_tokens_are_refused_not_a_server_error(token_server: int) -> None:
    port = token_server
    host = f"127.0.0.1:{port}"
    assert await _status(port, _request("/?token=%C3%A9t%C3%A9", host)) == 401
    assert await _status(port, _request("/app.js", host, "Cookie: hrvcalm_token=\xe9t\xe9")) == 401
    assert await _status(port, _request("/ws?token=%E2%82%AC", host, websocket=True)) == 401
    assert not access.token_matches("\udce9", TOKEN) and not access.token_matches("é", "é" + TOKEN)
    assert access.token_matches(TOKEN, TOKEN)


async def test_two_origins_are_refused_not_a_server_error(
    session_server: tuple[LiveSession, int],
) -> None:
    _, port = session_server
    host = f"127.0.0.1:{port}"
    two = (f"Origin: http://{host}", "Origin: http://evil.example")
    assert await _status(port, _request("/ws", host, *two, websocket=True)) == 403
    assert await _status(port, _request("/api/sessions", host, *API, *two)) == 403
    assert await _status(port, _request("/", host, "Host: other.example")) == 400


async def test_paths_the_file_system_cannot_take_are_not_found(
    session_server: tuple[LiveSession, int],
) -> None:
    _, port = session_server
    host = f"127.0.0.1:{port}"
    assert await _status(port, _request("/a\x00b.js", host)) in (400, 404)
    assert await _status(port, _request("/" + "a" * 255 + ".js", host)) == 404
    assert await _status(port, _request("/" + "a" * 300 + "/b.js", host)) == 404
    assert await _status(port, _request("/../../etc/passwd", host)) == 404


# -- malformed websocket messages -------------------------------------------------------------


async def _errors_after(port: int, payload: str) -> list[dict[str, Any]]:
    """Send one message; the error messages that come back (the connection must stay open)."""
    errors: list[dict[str, Any]] = []
    async with connect(f"ws://127.0.0.1:{port}/ws", max_size=None) as ws:
        await ws.send(payload)
        await ws.send(json.dumps({"type": "configure", "practice": "body_scan"}))
        async with asyncio.timeout(10):
            while True:
                message = json.loads(await ws.recv())
                if message["type"] == "error":
                    errors.append(message)
                if message["type"] == "session" and message["practice"] == "body_scan":
                    break  # the next command was taken: the connection lived on
    return errors


@pytest.mark.parametrize(
    "payload",
    [
        "[" * 30_000 + "]" * 30_000,
        '{"type": "set_pacer", "rate_bpm": ' + "7" * 400 + "}",
        '{"type": "set_pacer", "inhale_ratio": -' + "1" * 400 + "}",
        '{"type": "rating", "when": "before", "pain": ' + "3" * 400 + "}",
        '{"type": ' + "9" * 400 + "}",
    ],
    ids=["deep", "huge-rate", "huge-ratio", "huge-score", "huge-type"],
)
async def test_absurd_messages_get_an_error_not_a_closed_connection(
    session_server: tuple[LiveSession, int], payload: str
) -> None:
    _, port = session_server
    (error,) = await _errors_after(port, payload)
    assert len(error["message"]) < 200


async def test_a_note_that_cannot_be_stored_is_refused_with_a_reason(
    session_server: tuple[LiveSession, int],
) -> None:
    live, port = session_server
    payload = '{"type": "rating", "when": "before", "pain": 4, "note": "back \\ud800 ok"}'
    (error,) = await _errors_after(port, payload)
    assert "cannot be saved" in error["message"]
    assert "before" not in live.state.ratings  # not shown as accepted
