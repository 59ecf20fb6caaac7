"""Wiring of a live session: source -> pipeline -> hub -> pages. The only place loops live.

:class:`LiveSession` reads a :class:`~hrvcalm.devices.base.Source`, pushes every notification
through the sans-I/O :class:`~hrvcalm.core.pipeline.LivePipeline`, publishes the resulting
messages on the :class:`~hrvcalm.server.ws.Hub` and applies the pages' commands. With
``port=None`` it runs the same path with no server (``hrvcalm replay``).

Lifecycle: beats flow from the moment the source connects (the page shows the heart rate
while the patient settles). The practice starts when a page sends ``start`` (or at once with
``autostart``) and ends when a page sends ``stop``, when its length is reached, or when the
source ends (a recording ran out); the ``session`` message's ``ended_reason`` says which. At
the end a ``summary`` message tells how it went (:mod:`hrvcalm.core.summary`; sent again when
the "after" ratings change). The source goes on after the end: a page's ``new_session`` opens
the next session (a fresh :class:`~hrvcalm.core.session.SessionState` and pipeline, so
relaxation's baseline is the new session's own start) without restarting anything.
:meth:`LiveSession.run` returns once the session has ended and no page is connected any more
(a page still open may give its "after" ratings or start anew), or never with ``stay_up``.

A recording can play from the practice's start instead of from launch (``play_from_start``):
before Start the page shows it as connected and waiting, the recording begins at Start, plays
for that one session, and a new session plays it again from its beginning (``reopen_source``).

Observers (:class:`SessionObserver`) see every published message and are flushed once a
second and at the end: this is how ``--jsonl`` printing and the session store attach.

Pacer changes are passed on to a source that follows the pacer
(:class:`~hrvcalm.devices.base.FollowsPacer`, the simulator). A session whose practice is
``resonance`` is driven by a :class:`~hrvcalm.server.resonance.ResonanceRunner`: it sets the
pacer step by step and ends with a ``resonance`` result message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Protocol

from websockets.asyncio.server import serve

from hrvcalm.core.pacer import PacerSettings
from hrvcalm.core.pipeline import LivePipeline
from hrvcalm.core.resonance import Protocol as ResonanceProtocol
from hrvcalm.core.session import Phase, Rating, SessionState
from hrvcalm.core.summary import Ratings, Sample, Summary, SummaryBuilder
from hrvcalm.devices.base import FollowsPacer, Source
from hrvcalm.errors import HrvcalmError
from hrvcalm.events import Beat, DeviceState, DeviceStatus, Metrics
from hrvcalm.server import messages
from hrvcalm.server.access import guard
from hrvcalm.server.messages import (
    ChooseSource,
    Command,
    Configure,
    Message,
    NewSessionCommand,
    RatingCommand,
    ScanCommand,
    SetPacer,
    Start,
    Stop,
)
from hrvcalm.server.resonance import ResonanceRunner
from hrvcalm.server.sources import SourceChooser
from hrvcalm.server.static import Route, find_web_root, make_async_static_server
from hrvcalm.server.ws import WS_PATH, Hub, make_handler

log = logging.getLogger(__name__)

#: How often the timer is sent to the pages and observers are flushed, wall-clock seconds.
TICK_PERIOD_S = 1.0
#: A repeated observer failure is reported at most this often, s.
WARN_EVERY_S = 60.0
#: Beats a session keeps in memory for inspection; the store keeps them all.
KEEP_BEATS = 10_000
#: Largest websocket message accepted from a page, bytes.
MAX_PAGE_MESSAGE_BYTES = 64 * 1024
#: Session seconds between two points of the timeline kept for the summary.
SUMMARY_PERIOD_S = 1.0
#: Practices that show the breathing circle (the pacer's rate means something for them).
GUIDED_PRACTICES = ("paced_breathing", "resonance")


class SessionObserver(Protocol):
    """Something that follows a session: a printer, the store."""

    def on_message(self, message: Message) -> None:
        """Called with every message the session publishes, in order."""

    def flush(self) -> None:
        """Called about once a second and at the end: make what was seen durable."""


class CallbackObserver:
    """Adapts a plain function (e.g. a JSON-lines printer) to :class:`SessionObserver`."""

    def __init__(self, callback: Callable[[Message], None]) -> None:
        self._callback = callback

    def on_message(self, message: Message) -> None:
        self._callback(message)

    def flush(self) -> None:
        """Nothing is buffered."""


#: Practices in which the patient breathes with the pacer.
PACED_PRACTICES = frozenset(("paced_breathing", "resonance"))


class LiveSession:
    """One practice session fed by one source.

    Args:
        source: Where beats come from.
        duration_s: Planned length on the session clock, s (``None``: until the source
            ends or a page stops it).
        on_message: Shorthand for a :class:`CallbackObserver` (``--jsonl`` printing).
        observers: Further observers, e.g. the session store.
        autostart: Start the practice as soon as the source connects, without a page.
        wall_clock: Unix time, for the pacer's ``t0_s`` (injectable for tests).
        pacer_rate_bpm: The pacer's starting rate, breaths/min (the patient's stored rate).
        resonance: The resonance protocol (shorter steps only for tests and demonstrations).
        play_from_start: Do not read the source before the practice starts, and only for
            that session (a recording: it plays from Start, not from launch).
        reopen_source: Opens the source anew for a new session once it has ended (a
            recording); without it a new session needs a source that is still running.
        stay_up: :meth:`run` with a port does not return when the session ends and the
            pages have gone (the patient's app: ``hrvcalm`` with no arguments).
        chooser: The sources a page may switch to (the patient's app), or ``None``: the
            session runs the one source it was given.
    """

    def __init__(
        self,
        source: Source,
        *,
        duration_s: float | None = None,
        on_message: Callable[[Message], None] | None = None,
        observers: Sequence[SessionObserver] = (),
        autostart: bool = False,
        wall_clock: Callable[[], float] = time.time,
        pacer_rate_bpm: float | None = None,
        resonance: ResonanceProtocol | None = None,
        play_from_start: bool = False,
        reopen_source: Callable[[], Source] | None = None,
        stay_up: bool = False,
        chooser: SourceChooser | None = None,
    ) -> None:
        self.source = source
        self.pipeline = LivePipeline()
        self.state = SessionState(duration_s=duration_s)
        self._default_duration_s = duration_s
        self.play_from_start = play_from_start
        self._reopen_source = reopen_source
        self.stay_up = stay_up
        self.chooser = chooser
        self._consumer: asyncio.Task[None] | None = None
        self.summary: Summary | None = None
        # The practice's metrics, one point a second, reduced as they come (bounded memory).
        self._timeline = SummaryBuilder()
        self._last_point_t_s: float | None = None
        self._source_done = False
        self._practice_began = asyncio.Event()
        self._renewed = asyncio.Event()
        self.observers: list[SessionObserver] = list(observers)
        if on_message is not None:
            self.observers.append(CallbackObserver(on_message))
        self._last_warning = ""
        self._last_warning_at = 0.0
        self.hub = Hub(self._notify_observers)
        self.autostart = autostart
        self._wall_clock = wall_clock
        self.pacer = (
            PacerSettings(t0_s=wall_clock())
            if pacer_rate_bpm is None
            else PacerSettings(rate_bpm=pacer_rate_bpm, t0_s=wall_clock())
        )
        self._resonance_protocol = resonance
        self.resonance = ResonanceRunner(resonance)
        self.last_metrics: Metrics | None = None
        # The most recent beats (at most ``KEEP_BEATS``: memory stays flat in long sessions),
        # as plain tuples, which the garbage collector stops tracking: a clinic server holding
        # a thousand sessions of Beat objects spent over 100 ms in each full collection.
        self._beats: deque[tuple[float, float, bool, bool, float | None]] = deque(maxlen=KEEP_BEATS)
        self.n_beats = 0
        self._ended = asyncio.Event()
        self.hub.publish(
            messages.hello(source.spec, source.speed, resonance=self._resonance_protocol)
        )
        self.hub.publish(messages.pacer(self.pacer))
        self._publish_session()

    @property
    def beats(self) -> list[Beat]:
        """The most recent beats of the session (at most ``KEEP_BEATS``), oldest first."""
        return [Beat(*b) for b in self._beats]

    def _notify_observers(self, message: Message) -> None:
        for observer in self.observers:
            try:
                observer.on_message(message)
            except BrokenPipeError:
                raise  # ``--jsonl | head``: the reader has gone, the run ends quietly
            except (HrvcalmError, OSError) as exc:
                self._observer_failed(exc)

    def _flush_observers(self) -> None:
        for observer in self.observers:
            try:
                observer.flush()
            except (HrvcalmError, OSError) as exc:
                self._observer_failed(exc)

    def _observer_failed(self, exc: Exception) -> None:
        """An observer (the store) failed: warn, once a minute per problem, and go on.

        The live session never stops because its record cannot be written (disk full,
        read-only database); the store keeps what it could not write and retries on the
        next flush.
        """
        text = f"{exc}; the session goes on and saving is retried every second"
        now = time.monotonic()
        if text == self._last_warning and now - self._last_warning_at < WARN_EVERY_S:
            return
        self._last_warning, self._last_warning_at = text, now
        log.warning("%s", text)
        self.hub.send_to_pages(messages.error(text))

    # -- commands from pages --------------------------------------------------------------

    async def handle_command(self, command: Command) -> None:
        """Apply a validated page command (raises ValueError for one that cannot apply)."""
        now = self.source.clock_s()
        if isinstance(command, Start):
            if self.state.phase is Phase.ENDED:
                raise ValueError("this session has ended; press New session for another one")
            self._start(now)
        elif isinstance(command, Stop):
            self._end()
        elif isinstance(command, NewSessionCommand):
            self.new_session()
        elif isinstance(command, ChooseSource | ScanCommand):
            if self.chooser is None:
                raise ValueError("this session runs the source it was started with")
            if isinstance(command, ChooseSource):
                await self.chooser.choose(self, command.id)
            else:
                self.chooser.start_scan(self)
        elif isinstance(command, SetPacer):
            if self.resonance.active:
                raise ValueError("the resonance assessment sets the pacer until it ends")
            self.set_pacer(command.rate_bpm, command.inhale_ratio)
        elif isinstance(command, RatingCommand):
            self.state.rate(command.when, command.rating)
            if self.state.phase is Phase.ENDED:
                self._summarize()  # the summary shows pain and stress after
            self._publish_session()
        elif isinstance(command, Configure):
            minutes = command.minutes
            self.state.configure(command.practice, None if minutes is None else 60.0 * minutes)
            self._publish_session()

    def set_pacer(self, rate_bpm: float | None, inhale_ratio: float | None = None) -> PacerSettings:
        """Change the pacer (``None`` keeps a setting), restart its cycle now, publish it and
        let a source that follows the pacer (:class:`FollowsPacer`) breathe at the new rate."""
        rate = self.pacer.rate_bpm if rate_bpm is None else rate_bpm
        ratio = self.pacer.inhale_ratio if inhale_ratio is None else inhale_ratio
        self.pacer = PacerSettings(rate_bpm=rate, inhale_ratio=ratio, t0_s=self._wall_clock())
        if isinstance(self.source, FollowsPacer):
            self.source.follow_breathing(rate, self.source.clock_s())
        if self.state.phase is Phase.RUNNING:
            self.pipeline.set_pacer_rate(self._paced_rate_bpm())
        self.hub.publish(messages.pacer(self.pacer))
        return self.pacer

    def _paced_rate_bpm(self) -> float | None:
        """The rate the patient breathes at, in a practice that follows the pacer; else None
        (breath focus and the body scan leave the breath alone)."""
        if self.state.practice in PACED_PRACTICES:
            return self.pacer.rate_bpm
        return None

    def _start(self, now: float) -> None:
        """Start the practice (the resonance protocol too, when that is the practice)."""
        if not self.state.start(now):
            return
        if self.state.practice == "resonance":
            self.state.duration_s = self.resonance.protocol.total_s
        self._timeline, self._last_point_t_s = SummaryBuilder(), None
        # Relaxation's baseline is the rest before this moment; a paced practice gives the
        # breathing-rate estimate the pacer's rate as its prior.
        self.pipeline.start_practice(now, self._paced_rate_bpm())
        self._practice_began.set()
        self._publish_session()
        if self.state.practice == "resonance":
            self.resonance.start(now, self.set_pacer, self.hub.publish)

    def new_session(self) -> None:
        """After the end: the next session, in phase ready (same practice and length), with
        a fresh pipeline; a recording that played from the start plays again at the next
        Start.

        Raises:
            ValueError: The session has not ended, or its source has ended for good.
        """
        if self.state.phase is not Phase.ENDED:
            raise ValueError("a session is running: stop it before starting a new one")
        if self._source_done and self._reopen_source is None:
            raise ValueError(
                "the source has ended (the recording ran out): start hrvcalm again for a new "
                "session"
            )
        self.state = self.state.renew(self._default_duration_s)
        self.pipeline = LivePipeline()
        self.summary = None
        self._timeline, self._last_point_t_s = SummaryBuilder(), None
        self.resonance = ResonanceRunner(self._resonance_protocol)
        self._practice_began.clear()
        self._ended.clear()
        self.hub.forget("summary", "resonance")
        self._publish_session()
        self._renewed.set()

    # -- the loops ------------------------------------------------------------------------

    async def run(
        self,
        *,
        host: str = "127.0.0.1",
        port: int | None = 8765,
        serve_ready: Callable[[int], None] | None = None,
        routes: dict[str, Route] | None = None,
        token: str | None = None,
    ) -> None:
        """Run until the session has ended and no page is connected.

        Args:
            host: Interface to serve on (loopback by default: health data stays local).
            port: TCP port; ``0`` picks a free one; ``None`` runs without any server.
            serve_ready: Called with the bound port once the server listens.
            routes: Extra HTTP GET paths (exact match) served before the static files; they
                run in a worker thread (they read the store), never on the session's loop.
            token: Access token every request must carry (required beyond loopback).
        """
        if port is None:
            await self._run_session(serving=False)
            return
        handler = make_handler(self.hub, self.handle_command)
        async with serve(
            handler,
            host,
            port,
            process_request=guard(
                make_async_static_server(find_web_root(), routes, ws_path=WS_PATH),
                token=token,
                ws_path=WS_PATH,
                host=host,
            ),
            max_size=MAX_PAGE_MESSAGE_BYTES,
        ) as server:
            bound = int(next(iter(server.sockets)).getsockname()[1])
            log.info("serving on http://%s:%d/ (websocket %s)", host, bound, WS_PATH)
            if serve_ready is not None:
                serve_ready(bound)
            await self._run_session(serving=True)

    def check_can_switch(self) -> None:
        """Raises ValueError while a practice runs (the source cannot change then)."""
        if self.state.phase is Phase.RUNNING:
            raise ValueError("stop the practice before choosing another source")

    async def switch_source(
        self,
        source: Source,
        *,
        play_from_start: bool = False,
        reopen_source: Callable[[], Source] | None = None,
    ) -> None:
        """Read from another source from now on (before a practice, or after one: then a new
        session opens). The pipeline starts afresh; pages get a new ``hello``.

        Raises:
            ValueError: A practice is running.
        """
        self.check_can_switch()
        running = self._consumer is not None
        if self._consumer is not None:
            self._consumer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._consumer
        with contextlib.suppress(Exception):
            await self.source.aclose()
        if self.state.phase is Phase.ENDED:
            self._source_done = False
            self._reopen_source = reopen_source
            self.new_session()
            self._renewed.clear()
        self.source = source
        self.play_from_start = play_from_start
        self._reopen_source = reopen_source
        self._source_done = False
        self.pipeline = LivePipeline()
        self._practice_began.clear()
        self.hub.forget("device", "metrics")
        self.hub.publish(
            messages.hello(source.spec, source.speed, resonance=self._resonance_protocol)
        )
        self._publish_session()
        if running:  # read the new source at once
            self._consumer = asyncio.create_task(self._consume())

    async def _run_session(self, *, serving: bool) -> None:
        ticker = asyncio.create_task(self._tick_forever())
        self._consumer = asyncio.create_task(self._consume())
        try:
            await self._until_done(serving=serving)
        finally:
            if self.state.phase is not Phase.ENDED:
                with contextlib.suppress(BrokenPipeError):
                    self._end()  # Ctrl-C, or the server is shutting down
            if self.chooser is not None:
                await self.chooser.aclose()
            for task in (self._consumer, ticker):
                task.cancel()
            for task in (self._consumer, ticker):
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            with contextlib.suppress(Exception):
                await self.source.aclose()
            self._flush_observers()

    async def _until_done(self, *, serving: bool) -> None:
        """Until the session has ended and no page is left to rate it or start another (with
        ``stay_up``, until cancelled); at once if the source failed."""
        while True:
            await self._ended.wait()
            consumer = self._consumer
            failed = (
                consumer is not None
                and consumer.done()
                and not consumer.cancelled()
                and consumer.exception()
            )
            if not serving or failed:
                return
            while self._ended.is_set() and (self.hub.clients or self.stay_up):
                await asyncio.sleep(0.2)
            if self._ended.is_set():
                return

    async def _consume(self) -> None:
        """Read the source; after it ends, reopen it for each new session (if it can be)."""
        try:
            while True:
                await self._play()
                if self.state.phase is not Phase.ENDED:
                    self._end("source_ended")
                with contextlib.suppress(Exception):
                    await self.source.aclose()
                if self._reopen_source is None:
                    return
                await self._renewed.wait()
                self._renewed.clear()
                self.source = self._reopen_source()
                self._source_done = False
        except asyncio.CancelledError:
            raise
        except BaseException:
            if self.state.phase is not Phase.ENDED:
                with contextlib.suppress(BrokenPipeError):
                    self._end("source_ended")
            raise

    async def _play(self) -> None:
        """The source's events until it ends (or, playing from the start, the session does)."""
        if self.play_from_start:
            if self.state.phase is not Phase.RUNNING:
                self.hub.publish(
                    messages.device(
                        DeviceStatus(
                            DeviceState.CONNECTED, f"{self.source.name} · plays from Start"
                        )
                    )
                )
            await self._practice_began.wait()
        async for event in self.source.events():
            if isinstance(event, DeviceStatus):
                self.hub.publish(messages.device(event))
            # Autostart at the first sign of a connected source: a status, or beats (a relay
            # resuming on a restarted server resends beats, not the status it sent long ago).
            if self.autostart and self.state.phase is Phase.READY:
                self._start(self.source.clock_s())
            if isinstance(event, DeviceStatus):
                continue
            self._publish_items(self.pipeline.push_notification(event))
            now = self.source.clock_s()
            self.resonance.advance(now)
            if self.state.tick(now):
                self._session_over()
            if self.play_from_start and self.state.phase is Phase.ENDED:
                return  # the recording played for this session only
        # the source ended: beats still waiting for the artifact look-ahead come out now
        self._publish_items(self.pipeline.flush())
        self._source_done = True

    def _publish_items(self, items: list[Beat | Metrics]) -> None:
        for item in items:
            if isinstance(item, Beat):
                self._beats.append(
                    (item.t_s, item.rr_ms, item.artifact, item.gap_before, item.corrected_rr_ms)
                )
                self.resonance.on_beat(item)
                self.n_beats += 1
                self.hub.publish(messages.beat(item))
            else:
                self.last_metrics = item
                message = messages.metrics(item)
                self.hub.publish(message)
                self._keep_for_summary(item.t_s, message)

    def _keep_for_summary(self, t_s: float, message: Message) -> None:
        """One point a second of the practice's metrics (what the summary is made of)."""
        if self.state.phase is not Phase.RUNNING:
            return
        if self._last_point_t_s is not None and t_s < self._last_point_t_s + SUMMARY_PERIOD_S:
            return
        self._last_point_t_s = t_s
        self._timeline.add(Sample.from_values(t_s, message))

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(TICK_PERIOD_S)
            if self.state.tick(self.source.clock_s()):
                self._session_over()
            elif self.state.phase is Phase.RUNNING:
                self._publish_session()
                self.resonance.advance(self.source.clock_s(), report=True)
            self._flush_observers()

    def _end(self, reason: str = "stopped") -> None:
        """End the session (a page's Stop, the source ended, the server stops)."""
        now = self.source.clock_s()
        try:
            self.resonance.finish(now)
            if self.state.stop(now, reason):
                self._session_over()
        finally:
            self._ended.set()

    def _session_over(self) -> None:
        """The session has just ended: the resonance result, the summary, the phase."""
        self._ended.set()
        self.resonance.finish(self.source.clock_s())
        self._summarize()
        self._publish_session()

    def _summarize(self) -> None:
        """How the session went, published (nothing for a session never started)."""
        state = self.state
        if state.started_s is None:
            return
        ratings = {when: state.ratings.get(when, Rating()) for when in ("before", "after")}
        self.summary = self._timeline.summary(
            practice=state.practice,
            start_t_s=state.started_s,
            end_t_s=state.started_s + state.elapsed_s(self.source.clock_s()),  # at most the length
            planned_s=state.duration_s,
            ended_reason=state.ended_reason,
            ratings=Ratings(
                pain_before=ratings["before"].pain,
                pain_after=ratings["after"].pain,
                stress_before=ratings["before"].stress,
                stress_after=ratings["after"].stress,
            ),
            pacer_rate_bpm=self.pacer.rate_bpm,
            guided=state.practice in GUIDED_PRACTICES,
        )
        self.hub.publish(messages.summary(self.summary))

    def _publish_session(self) -> None:
        self.hub.publish(messages.session(self.state, self.source.clock_s()))
