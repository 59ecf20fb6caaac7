"""Access rules and misbehaving pages, against the real server on a loopback port."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from hrvcalm.devices.simulator import SimulatedStrap, SimulatorSettings
from hrvcalm.server.access import is_loopback
from hrvcalm.server.app import LiveSession
from hrvcalm.server.ws import MAX_BUFFERED_BYTES, Hub

TOKEN = "s3cret-token"


async def _serve(token: str | None) -> tuple[LiveSession, asyncio.Task[None], int]:
    live = LiveSession(SimulatedStrap(SimulatorSettings(seed=2), speed=20.0))
    bound: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(live.run(port=0, serve_ready=bound.set_result, token=token))
    return live, task, await asyncio.wait_for(bound, 10)


async def _stop(live: LiveSession, task: asyncio.Task[None]) -> None:
    live._end()
    for ws in list(live.hub.clients):
        await ws.close()
    await asyncio.wait_for(task, 10)


@pytest.fixture
async def open_server() -> AsyncIterator[int]:
    live, task, port = await _serve(None)
    yield port
    await _stop(live, task)


@pytest.fixture
async def token_server() -> AsyncIterator[int]:
    live, task, port = await _serve(TOKEN)
    yield port
    await _stop(live, task)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str]]:
    """Status and headers of a GET (redirects are not followed)."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with _OPENER.open(request, timeout=5) as r:
            return r.status, dict(r.headers)
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers)


async def test_websocket_from_another_site_is_refused(open_server: int) -> None:
    url = f"ws://127.0.0.1:{open_server}/ws"
    with pytest.raises(InvalidStatus) as err:
        async with connect(url, origin="http://evil.example"):  # type: ignore[arg-type]
            pass
    assert err.value.response.status_code == 403
    async with connect(url, origin=f"http://127.0.0.1:{open_server}") as ws:  # type: ignore[arg-type]
        assert json.loads(await ws.recv())["type"] == "hello"


async def test_token_is_required_on_every_request(token_server: int) -> None:
    base = f"http://127.0.0.1:{token_server}"
    status, _ = await asyncio.to_thread(_get, base + "/")
    assert status == 401
    status, _ = await asyncio.to_thread(_get, base + "/app.js?token=wrong")
    assert status == 401
    status, headers = await asyncio.to_thread(_get, base + f"/?token={TOKEN}")
    assert status == 303  # the page is sent on to its address without the token ...
    assert headers["Location"] == "/"
    cookie = headers["Set-Cookie"].split(";")[0]  # ... which the cookie carries from now on
    assert "HttpOnly" in headers["Set-Cookie"] and "SameSite=Strict" in headers["Set-Cookie"]
    status, _ = await asyncio.to_thread(_get, base + "/", {"Cookie": cookie})
    assert status == 200
    status, _ = await asyncio.to_thread(_get, base + "/app.js", {"Cookie": cookie})
    assert status == 200
    status, headers = await asyncio.to_thread(_get, base + f"/app.js?token={TOKEN}")
    assert status == 200 and "Set-Cookie" in headers  # not a page: no redirect

    with pytest.raises(InvalidStatus) as err:
        async with connect(f"ws://127.0.0.1:{token_server}/ws"):
            pass
    assert err.value.response.status_code == 401
    async with connect(
        f"ws://127.0.0.1:{token_server}/ws", additional_headers={"Cookie": cookie}
    ) as ws:
        assert json.loads(await ws.recv())["type"] == "hello"


async def test_a_flooding_page_is_cut_off_and_others_carry_on(open_server: int) -> None:
    url = f"ws://127.0.0.1:{open_server}/ws"
    async with connect(url) as calm, connect(url) as flood:
        for _ in range(400):
            await flood.send(json.dumps({"type": "set_pacer", "rate_bpm": 6}))
        seen: list[dict[str, Any]] = []
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(10):
                while True:
                    seen.append(json.loads(await flood.recv()))
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
        assert any(m["type"] == "error" and "too many" in m["message"] for m in seen)
        kinds = set()
        async with asyncio.timeout(10):
            while "beat" not in kinds:
                kinds.add(json.loads(await calm.recv())["type"])


class _StuckTransport:
    def __init__(self, buffered: int) -> None:
        self.buffered = buffered
        self.aborted = False

    def get_write_buffer_size(self) -> int:
        return self.buffered

    def abort(self) -> None:
        self.aborted = True


class _FakeConnection:
    """Just enough of a connection for Hub's slow-client rule."""

    def __init__(self, buffered: int) -> None:
        self.transport = _StuckTransport(buffered)
        self.remote_address = ("127.0.0.1", 1)
        self.protocol = type("P", (), {"state": None})()


def test_hub_drops_a_page_that_stopped_reading() -> None:
    hub = Hub()
    stuck, fine = _FakeConnection(MAX_BUFFERED_BYTES + 1), _FakeConnection(10)
    hub.clients.update({stuck, fine})  # type: ignore[arg-type]
    hub.publish({"type": "beat", "t_s": 1.0, "rr_ms": 1000.0, "hr_bpm": 60.0, "artifact": False})
    assert stuck.transport.aborted and stuck not in hub.clients
    assert not fine.transport.aborted and fine in hub.clients


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.5.0.1", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("192.168.1.5", False),
        ("example.org", False),
    ],
)
def test_loopback_detection(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
