"""The relay: forwards one local source to a central server's ``/ingest``.

Runs next to the patient (``hrvcalm relay --source ble:auto --to ws://server:8765/ingest
--patient NAME --token T``). What it guarantees (``server/ingest_protocol.py`` has the wire
side):

1. Every source event becomes one frame with the next sequence number (0, 1, 2, ... over the
   whole run) and is kept until the server acknowledges it (up to ``MAX_BACKLOG`` frames,
   an hour of beats; beyond that the oldest are dropped and counted).
2. After a reconnection the relay says hello with the session id of its first
   ``ingest_ok`` and resends every frame the server has not acknowledged; the server
   continues that session and ignores what it had taken already, so every beat reaches the
   session exactly once (and a restarted server, which starts a new session, skips what it
   stored before).
3. Any failure to connect or to speak the protocol (refused, reset during the handshake, an
   HTTP error, a reply that is not a valid ``ingest_ok``, a dropped connection) is one log
   line and a retry, with backoff from ``BACKOFF_START_S`` doubling to ``BACKOFF_MAX_S``;
   the backoff starts over after every successful hello. With several ``--to`` addresses
   each failure moves on to the next one. Only a refused token (HTTP 401/403) stops the
   relay: retrying cannot fix it.
4. The relay ends when the source has ended and the server has acknowledged the ``end``
   frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections import deque
from collections.abc import Callable, Sequence

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus, WebSocketException

from hrvcalm.devices.base import Source
from hrvcalm.errors import HrvcalmError, UsageError
from hrvcalm.server import ingest_protocol as proto

log = logging.getLogger(__name__)

#: Frames kept until acknowledged (a strap sends about one a second: an hour).
MAX_BACKLOG = 3600
BACKOFF_START_S = 1.0
BACKOFF_MAX_S = 30.0
#: The server must answer the hello within this time, s.
HELLO_TIMEOUT_S = 10.0
#: Largest server frame accepted, bytes.
MAX_SERVER_FRAME_BYTES = 2**16


class _Retry(Exception):
    """This connection failed in a way a new connection may fix."""


class Relay:
    """Streams ``source`` to the server at ``urls`` (tried in turn) with ``token``.

    Args:
        source: Where the beats come from.
        urls: One ``ws://host:port/ingest`` address, or several to try in turn.
        token: The server's access token.
        patient: The patient's name, sent in the hello.
        on_status: Called with a short human-readable line on every connection change.
        backoff_start_s: First wait before a retry, s (doubles up to ``backoff_max_s``).
        backoff_max_s: Longest wait between retries, s.

    Attributes:
        sent_frames: Frames sent, resends included.
        resent_frames: Frames sent again after a reconnection.
        dropped_frames: Frames dropped unacknowledged because the backlog was full.
        session_ids: Every distinct server session this relay streamed to, in order.
    """

    def __init__(
        self,
        source: Source,
        urls: str | Sequence[str],
        token: str,
        *,
        patient: str | None = None,
        on_status: Callable[[str], None] | None = None,
        backoff_start_s: float = BACKOFF_START_S,
        backoff_max_s: float = BACKOFF_MAX_S,
    ) -> None:
        self.source = source
        self.urls = [urls] if isinstance(urls, str) else list(urls)
        if not self.urls:
            raise UsageError("the relay needs a server address (--to)")
        self.token = token
        self.patient = patient
        self.sent_frames = 0
        self.resent_frames = 0
        self.dropped_frames = 0
        self.session_ids: list[str] = []
        self.backoff_start_s = backoff_start_s
        self.backoff_max_s = backoff_max_s
        self._next_seq = 0
        self._unacked: deque[tuple[int, str]] = deque()
        self._highest_sent = -1
        self._on_status = on_status or (lambda line: None)
        self._source_done = asyncio.Event()
        self._wake = asyncio.Event()
        self._all_acked = asyncio.Event()
        self._backoff_s = backoff_start_s
        self.source_error: HrvcalmError | None = None

    @property
    def url(self) -> str:
        """The first server address."""
        return self.urls[0]

    @property
    def session_id(self) -> str | None:
        """The server session this relay streams to (resumed after a reconnection)."""
        return self.session_ids[-1] if self.session_ids else None

    def _status(self, line: str) -> None:
        log.info("%s", line)
        self._on_status(line)

    # -- the source side ------------------------------------------------------------------

    def _keep(self, text_of_seq: Callable[[int], str]) -> None:
        seq = self._next_seq
        self._next_seq += 1
        if len(self._unacked) >= MAX_BACKLOG:
            self._unacked.popleft()
            self.dropped_frames += 1
            if self.dropped_frames == 1:
                self._status(f"backlog full ({MAX_BACKLOG} frames): dropping the oldest")
        self._unacked.append((seq, text_of_seq(seq)))
        self._wake.set()

    async def _read_source(self) -> None:
        try:
            async for event in self.source.events():
                self._keep(functools.partial(proto.encode_event, event))
        except HrvcalmError as exc:  # the strap cannot be found, the recording is unreadable
            self.source_error = exc
            self._status(f"the source failed: {exc}")
        finally:
            self._keep(proto.encode_end)
            self._source_done.set()

    def _on_ack(self, seq: int | None) -> None:
        if seq is None:
            return
        while self._unacked and self._unacked[0][0] <= seq:
            self._unacked.popleft()
        if self._source_done.is_set() and not self._unacked:
            self._all_acked.set()

    # -- one connection -------------------------------------------------------------------

    async def _send_unacked(self, ws: ClientConnection) -> None:
        sent_upto = -1  # on this connection
        while True:
            todo = [frame for frame in self._unacked if frame[0] > sent_upto]
            for seq, text in todo:
                await ws.send(text)
                sent_upto = seq
                self.sent_frames += 1
                if seq <= self._highest_sent:
                    self.resent_frames += 1
                self._highest_sent = max(self._highest_sent, seq)
            if not todo:
                self._wake.clear()
                await self._wake.wait()

    async def _read_acks(self, ws: ClientConnection) -> None:
        async for text in ws:
            try:
                kind, seq, message = proto.parse_server_frame(text)
            except proto.IngestError as exc:
                self._status(f"ignoring a server frame: {exc}")
                continue
            if kind == "ack":
                self._on_ack(seq)
                if self._all_acked.is_set():
                    return
            elif kind == "error":
                self._status(f"the server skipped a frame: {message}")

    async def _connection(self, url: str) -> bool:
        """One connection; ``True`` once everything was sent and acknowledged."""
        headers = {"Authorization": f"Bearer {self.token}"}
        async with connect(
            url,
            additional_headers=headers,
            max_size=MAX_SERVER_FRAME_BYTES,
            open_timeout=HELLO_TIMEOUT_S,
            close_timeout=2,
        ) as ws:
            first_seq = self._unacked[0][0] if self._unacked else self._next_seq
            await ws.send(
                proto.encode_hello(
                    self.source.name,
                    self.source.spec,
                    patient=self.patient,
                    resume=self.session_id,
                    first_seq=first_seq,
                    clock_s=self.source.clock_s(),
                    speed=self.source.speed,
                )
            )
            async with asyncio.timeout(HELLO_TIMEOUT_S):
                reply = await ws.recv()
            try:
                ok = proto.parse_ingest_ok(reply)
            except proto.IngestError as exc:
                raise _Retry(f"{url} answered the hello with no valid ingest_ok ({exc})") from None
            if ok.session != self.session_id:
                self.session_ids.append(ok.session)
                self._status(f"streaming to {url} as session {ok.session}")
            else:
                self._status(f"resumed session {ok.session} on {url}")
            self._on_ack(ok.ack)
            self._backoff_s = self.backoff_start_s  # a successful hello: start over
            if self._all_acked.is_set():
                return True
            sender = asyncio.create_task(self._send_unacked(ws))
            try:
                await self._read_acks(ws)
            finally:
                sender.cancel()
                with contextlib.suppress(asyncio.CancelledError, WebSocketException):
                    await sender
            return self._all_acked.is_set()

    async def run(self) -> None:
        """Relay until the source has ended and the server has acknowledged everything.

        Raises:
            UsageError: The server refused the access token.
            HrvcalmError: The source failed (after what it gave was delivered).
        """
        reader = asyncio.create_task(self._read_source())
        self._backoff_s = self.backoff_start_s
        attempt = 0
        try:
            while True:
                url = self.urls[attempt % len(self.urls)]
                try:
                    if await self._connection(url):
                        if self.source_error is not None:
                            raise self.source_error
                        return
                    why = "the server closed the connection"
                except InvalidStatus as exc:
                    code = exc.response.status_code
                    if code in (401, 403):
                        raise UsageError(f"{url} refused the access token (HTTP {code})") from None
                    why = f"the server answered HTTP {code}"
                except _Retry as exc:
                    why = str(exc)
                except (WebSocketException, OSError, TimeoutError, EOFError) as exc:
                    why = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                attempt += 1
                self._status(
                    f"{url}: {why}; {len(self._unacked)} frames kept, "
                    f"retrying in {self._backoff_s:g} s"
                )
                await asyncio.sleep(self._backoff_s)
                self._backoff_s = min(self.backoff_max_s, self._backoff_s * 2)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
