"""Wiring of a live session: source -> pipeline -> hub -> pages. The only place loops live.

:class:`LiveSession` reads a :class:`~hrvcalm.devices.base.Source`, pushes every notification
through the sans-I/O :class:`~hrvcalm.core.pipeline.LivePipeline`, publishes the resulting
messages on the :class:`~hrvcalm.server.ws.Hub` and applies the pages' commands. With
``serve=False`` it runs the same path with no server (``hrvcalm replay``).

Lifecycle: the session starts at once (``autostart``), ends when the source ends, when
``duration_s`` is reached or when a page sends ``stop``; :meth:`LiveSession.run` then returns
as soon as no page is connected any more (a page still open may give its "after" ratings).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from websockets.asyncio.server import serve

from hrvcalm.core.pacer import PacerSettings
from hrvcalm.core.pipeline import LivePipeline
from hrvcalm.core.session import Phase, SessionState
from hrvcalm.devices.base import Source
from hrvcalm.events import Beat, DeviceStatus, Metrics
from hrvcalm.server import messages
from hrvcalm.server.messages import Command, Message, RatingCommand, SetPacer, Start, Stop
from hrvcalm.server.ws import WS_PATH, Hub, find_web_root, make_handler, make_static_server

log = logging.getLogger(__name__)

#: How often the session timer is sent to the pages, wall-clock seconds.
TIMER_PERIOD_S = 1.0


class LiveSession:
    """One practice session fed by one source.

    Args:
        source: Where beats come from.
        duration_s: Planned length on the session clock, s (``None``: until the source ends).
        on_message: Called with every message published (``--jsonl`` printing).
        autostart: Start the timer as soon as the source connects.
        wall_clock: Unix time, for the pacer's ``t0_s`` (injectable for tests).
    """

    def __init__(
        self,
        source: Source,
        *,
        duration_s: float | None = None,
        on_message: Callable[[Message], None] | None = None,
        autostart: bool = True,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.source = source
        self.pipeline = LivePipeline()
        self.state = SessionState(duration_s=duration_s)
        self.hub = Hub(on_message)
        self.autostart = autostart
        self._wall_clock = wall_clock
        self.pacer = PacerSettings(t0_s=wall_clock())
        self.last_metrics: Metrics | None = None
        self.beats: list[Beat] = []
        self._ended = asyncio.Event()
        self.hub.publish(messages.hello(source.spec, source.speed))
        self.hub.publish(messages.pacer(self.pacer))
        self._publish_session()

    # -- commands from pages --------------------------------------------------------------

    async def handle_command(self, command: Command) -> None:
        """Apply a validated page command (raises ValueError for one that cannot apply)."""
        now = self.source.clock_s()
        if isinstance(command, Start):
            if self.state.phase is Phase.ENDED:
                raise ValueError("this session has ended; start a new one from the command line")
            if self.state.start(now):
                self._publish_session()
        elif isinstance(command, Stop):
            self._end()
        elif isinstance(command, SetPacer):
            self.pacer = PacerSettings(
                rate_bpm=command.rate_bpm if command.rate_bpm is not None else self.pacer.rate_bpm,
                inhale_ratio=(
                    command.inhale_ratio
                    if command.inhale_ratio is not None
                    else self.pacer.inhale_ratio
                ),
                t0_s=self._wall_clock(),
            )
            self.hub.publish(messages.pacer(self.pacer))
        elif isinstance(command, RatingCommand):
            self.state.rate(command.when, command.rating)
            self._publish_session()

    # -- the loops ------------------------------------------------------------------------

    async def run(
        self,
        *,
        host: str = "127.0.0.1",
        port: int | None = 8765,
        serve_ready: Callable[[int], None] | None = None,
    ) -> None:
        """Run until the session has ended and no page is connected.

        Args:
            host: Interface to serve on (loopback by default: health data stays local).
            port: TCP port; ``0`` picks a free one; ``None`` runs without any server.
            serve_ready: Called with the bound port once the server listens.
        """
        if port is None:
            await self._run_session()
            return
        handler = make_handler(self.hub, self.handle_command)
        async with serve(
            handler,
            host,
            port,
            process_request=make_static_server(find_web_root()),
            max_size=64 * 1024,
        ) as server:
            bound = next(iter(server.sockets)).getsockname()[1]
            log.info("serving on http://%s:%d/ (websocket %s)", host, bound, WS_PATH)
            if serve_ready is not None:
                serve_ready(int(bound))
            await self._run_session()
            while self.hub.clients:
                await asyncio.sleep(0.5)

    async def _run_session(self) -> None:
        ticker = asyncio.create_task(self._tick_forever())
        consumer = asyncio.create_task(self._consume())
        try:
            await self._ended.wait()
        finally:
            for task in (consumer, ticker):
                task.cancel()
            for task in (consumer, ticker):
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            with contextlib.suppress(Exception):
                await self.source.aclose()

    async def _consume(self) -> None:
        try:
            async for event in self.source.events():
                if isinstance(event, DeviceStatus):
                    self.hub.publish(messages.device(event))
                    if self.autostart and self.state.start(self.source.clock_s()):
                        self._publish_session()
                    continue
                for item in self.pipeline.push_notification(event):
                    if isinstance(item, Beat):
                        self.beats.append(item)
                        self.hub.publish(messages.beat(item))
                    else:
                        self.last_metrics = item
                        self.hub.publish(messages.metrics(item))
                if self.state.tick(self.source.clock_s()):
                    self._end()
                    return
        finally:
            self._end()

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(TIMER_PERIOD_S)
            if self.state.tick(self.source.clock_s()):
                self._end()
            elif self.state.phase is Phase.RUNNING:
                self._publish_session()

    def _end(self) -> None:
        self._ended.set()
        if self.state.stop(self.source.clock_s()):
            self._publish_session()

    def _publish_session(self) -> None:
        self.hub.publish(messages.session(self.state, self.source.clock_s()))
