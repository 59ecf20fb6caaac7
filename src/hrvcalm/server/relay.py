"""The relay: forwards one local source to a central server's ``/ingest``.

Runs next to the patient (``hrvcalm relay --source ble:auto --to ws://server:8765/ingest
--token T``). If the server cannot be reached or the connection drops, it retries with
backoff (1 s doubling to 30 s); notifications that arrive while disconnected are kept (up to
``MAX_BACKLOG``) and sent after reconnecting, so a short network hiccup loses no beats. A new
connection is a new session on the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Callable

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from hrvcalm.devices.base import Source
from hrvcalm.errors import UsageError
from hrvcalm.server import ingest_protocol as proto

log = logging.getLogger(__name__)

MAX_BACKLOG = 3600
BACKOFF_START_S = 1.0
BACKOFF_MAX_S = 30.0


class Relay:
    """Streams ``source`` to ``url`` with ``token``.

    Args:
        on_status: Called with a short human-readable line on every connection change.
    """

    def __init__(
        self,
        source: Source,
        url: str,
        token: str,
        *,
        on_status: Callable[[str], None] | None = None,
    ) -> None:
        self.source = source
        self.url = url
        self.token = token
        self.sent_frames = 0
        self.session_ids: list[str] = []
        self._backlog: deque[str] = deque(maxlen=MAX_BACKLOG)
        self._on_status = on_status or (lambda line: None)
        self._source_done = asyncio.Event()
        self._wake = asyncio.Event()

    async def _read_source(self) -> None:
        try:
            async for event in self.source.events():
                self._backlog.append(proto.encode_event(event))
                self._wake.set()
        finally:
            self._source_done.set()
            self._wake.set()

    async def _send_backlog(self, ws: ClientConnection) -> None:
        while True:
            while self._backlog:
                await ws.send(self._backlog[0])
                self._backlog.popleft()
                self.sent_frames += 1
            if self._source_done.is_set():
                await ws.send(json.dumps({"type": "end"}))
                return
            self._wake.clear()
            await self._wake.wait()

    async def _session(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        async with connect(self.url, additional_headers=headers, max_size=2**16) as ws:
            await ws.send(proto.encode_hello(self.source.name, self.source.spec))
            reply = json.loads(await ws.recv())
            if reply.get("type") != "ingest_ok":
                raise UsageError(f"the server refused the relay: {reply}")
            self.session_ids.append(reply["session"])
            self._on_status(f"streaming to {self.url} as session {reply['session']}")
            await self._send_backlog(ws)

    async def run(self) -> None:
        """Relay until the source ends; reconnects on its own."""
        reader = asyncio.create_task(self._read_source())
        backoff = BACKOFF_START_S
        try:
            while True:
                try:
                    await self._session()
                    return
                except InvalidStatus as exc:
                    if exc.response.status_code in (401, 403):
                        raise UsageError(
                            f"{self.url} refused the access token (HTTP {exc.response.status_code})"
                        ) from None
                    self._on_status(f"server answered HTTP {exc.response.status_code}; retrying")
                except (OSError, ConnectionClosed, TimeoutError) as exc:
                    self._on_status(f"cannot reach {self.url} ({exc}); retrying in {backoff:g} s")
                if self._source_done.is_set() and not self._backlog:
                    return
                await asyncio.sleep(backoff)
                backoff = min(BACKOFF_MAX_S, backoff * 2)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
