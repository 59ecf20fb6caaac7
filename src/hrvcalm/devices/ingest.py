"""A source fed from outside: the notifications a relay streams to ``/ingest``.

The ingest connection handler calls :meth:`IngestSource.feed` with every valid frame and
:meth:`IngestSource.finish` when the relay ends or disconnects; the session's pipeline reads
:meth:`IngestSource.events` as from any other source. Times are the relay's source clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from hrvcalm.devices.base import Source, SourceEvent
from hrvcalm.events import DeviceStatus, RRNotification

#: Events buffered before the relay is pushed back (the handler awaits :meth:`feed`).
QUEUE_LIMIT = 1024


class IngestSource(Source):
    """Events pushed in by an ingest connection.

    Args:
        name: The strap's name as the relay reported it.
        spec: What the relay said its source was.
    """

    def __init__(self, name: str, spec: str) -> None:
        self.name = name
        self.spec = f"ingest:{spec}"
        self._queue: asyncio.Queue[SourceEvent | None] = asyncio.Queue(QUEUE_LIMIT)
        self._loop = asyncio.get_running_loop()
        self._latest_s = 0.0
        self._latest_wall = self._loop.time()

    async def feed(self, event: RRNotification | DeviceStatus) -> None:
        """Hand one event from the relay to the session."""
        if isinstance(event, RRNotification):
            self._latest_s = max(self._latest_s, event.arrival_s)
            self._latest_wall = self._loop.time()
        await self._queue.put(event)

    async def end(self) -> None:
        """The relay ended or went away: the session ends after the buffered events (waits
        for room in the queue instead of dropping a buffered event)."""
        await self._queue.put(None)

    def finish(self) -> None:
        """The relay ended or went away: the session ends after the buffered events."""
        try:
            self._queue.put_nowait(None)
        except asyncio.QueueFull:
            self._queue.get_nowait()
            self._queue.put_nowait(None)

    def clock_s(self) -> float:
        return self._latest_s + (self._loop.time() - self._latest_wall)

    async def events(self) -> AsyncIterator[SourceEvent]:
        while (event := await self._queue.get()) is not None:
            yield event
