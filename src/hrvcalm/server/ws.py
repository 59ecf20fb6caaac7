"""The ``/ws`` endpoint: the hub that fans messages out to pages, and the page handler.

:class:`Hub` keeps the latest state (hello, device, pacer, session, metrics and the beats of
the last two minutes) so that a page connecting late is brought up to date at once, and
broadcasts every new message to all connected pages. Several pages may watch one session.

One misbehaving page never disturbs another:

- a page whose unsent data passes ``MAX_BUFFERED_BYTES`` (it stopped reading) is dropped
  instead of being buffered without bound;
- a page sending more than ``MESSAGES_PER_S`` messages a second (bursts of
  ``MESSAGE_BURST``) gets an ``error`` and its extra messages are ignored; one that keeps
  flooding is disconnected (close code 1008);
- every message is validated (:func:`hrvcalm.server.messages.parse_command`); an invalid one
  gets an ``error`` back. Message size is limited by the server (``max_size``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from websockets.asyncio.server import ServerConnection, broadcast
from websockets.exceptions import ConnectionClosed

from hrvcalm.server import messages
from hrvcalm.server.messages import CommandError, Message

if TYPE_CHECKING:
    from hrvcalm.server.messages import Command

log = logging.getLogger(__name__)

WS_PATH = "/ws"
#: Beats kept for pages that connect late (enough for a 2-minute heart-rate trace).
RECENT_BEATS = 240
_STATE_TYPES = frozenset(
    ("hello", "device", "pacer", "session", "metrics", "resonance", "summary", "sources")
)
#: Unsent bytes after which a page that stopped reading is dropped.
MAX_BUFFERED_BYTES = 1 << 20
#: Sustained page-message rate allowed, per second, and the burst on top.
MESSAGES_PER_S = 10.0
MESSAGE_BURST = 30.0
#: Ignored messages after which a flooding page is disconnected.
MAX_IGNORED = 200


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
            self._drop_slow_clients()
            broadcast(self.clients, messages.encode(message))

    def _drop_slow_clients(self) -> None:
        for connection in list(self.clients):
            transport = connection.transport
            if transport is not None and transport.get_write_buffer_size() > MAX_BUFFERED_BYTES:
                log.warning("dropping a page that stopped reading (%s)", connection.remote_address)
                self.clients.discard(connection)
                transport.abort()

    def send_to_pages(self, message: Message) -> None:
        """Send a message to the connected pages only: not state, not seen by observers."""
        if self.clients:
            broadcast(self.clients, messages.encode(message))

    def welcome(self) -> list[Message]:
        """What a page that just connected needs, in order: state first, then recent beats."""
        out = [
            self._state[k]
            for k in ("hello", "device", "pacer", "session", "sources")
            if k in self._state
        ]
        out.extend(self._recent_beats)
        out.extend(self._state[k] for k in ("metrics", "resonance", "summary") if k in self._state)
        return out

    def forget(self, *kinds: str) -> None:
        """Stop offering these state messages to pages that connect (a new session began)."""
        for kind in kinds:
            self._state.pop(kind, None)


CommandHandler = Callable[["Command"], Awaitable[None]]


def make_handler(
    hub: Hub, on_command: CommandHandler
) -> Callable[[ServerConnection], Awaitable[None]]:
    """The connection handler for ``/ws``: welcome, then read page commands until closed."""

    async def handler(connection: ServerConnection) -> None:
        for message in hub.welcome():
            await connection.send(messages.encode(message))
        hub.clients.add(connection)
        bucket = _TokenBucket(MESSAGES_PER_S, MESSAGE_BURST)
        ignored = 0
        closing: asyncio.Task[None] | None = None
        try:
            async for text in connection:
                if not bucket.take(time.monotonic()):
                    ignored += 1
                    if ignored == 1:
                        await connection.send(
                            messages.encode(messages.error("too many messages; slow down"))
                        )
                    if ignored == MAX_IGNORED:
                        # Keep draining what the page already sent while closing: the page's
                        # close reply queues up behind its unread messages.
                        closing = asyncio.create_task(connection.close(1008, "too many messages"))
                    continue
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
            if closing is not None:
                await closing

    return handler


class _TokenBucket:
    """Allows ``rate_per_s`` events a second with bursts of ``burst``."""

    def __init__(self, rate_per_s: float, burst: float) -> None:
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._tokens = burst
        self._last: float | None = None

    def take(self, now_s: float) -> bool:
        if self._last is not None:
            self._tokens = min(self.burst, self._tokens + (now_s - self._last) * self.rate_per_s)
        self._last = now_s
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True
