"""Records a live session into a store, as an observer of the session's messages.

:class:`SessionRecorder` follows the websocket messages a
:class:`~hrvcalm.server.app.LiveSession` publishes (``hello``, ``device``, ``pacer``,
``session``, ``beat``, ``metrics``) and writes them to a
:class:`~hrvcalm.storage.base.SessionStore`.

**Only practice is stored.** A session gets its row when its practice starts (the first
``session`` message in phase ``running``), not when the page connects: a page opened and
closed without Start, or a connection that never started, leaves nothing in the store, so
nothing counts toward minutes practised, the course or the history that was not practice.
Until the start, what the session sees is held in memory, at most the last
:data:`PRESTART_KEEP_S` of session time: those beats (the settling-in before Start), metrics,
device events, pacer changes, the practice chosen and the "before" ratings are written with
the row when the practice starts (``practice_start_t_s`` marks where the practice begins).

Once the row exists:

- every ``beat`` is buffered and written with its raw ``rr_ms`` (and ``corrected_rr_ms`` and
  ``gap_before`` when the message carries them);
- the metrics timeline is thinned to at most one row per :data:`METRICS_PERIOD_S` of session
  time (the first message of each second is kept, and the last one of the session);
- every ``device`` message becomes a device event at the session time it was seen. Gaps have
  one rule, the beat clock's (:mod:`hrvcalm.core.beatclock`): a beat is stored with
  ``gap_before`` exactly when its message says so (a dropped link that lost no beat is no gap;
  beats still held by the artifact look-ahead when ``lost`` is published are no gap either);
- pacer changes, the practice, its timer and the ratings are kept up to date.

**Several sessions in a row** (the page's "New session"): after a session has ended, what
follows belongs to the next one (held in memory as above), except the ended session's "after"
ratings, which are still written to it until a ``session`` message in phase ``ready`` opens
the next session.

Nothing is written to the store between commits: every item (beats, metrics, device events,
pacer changes, the session's fields, ratings) waits in memory until
:meth:`SessionRecorder.flush` writes them and commits, and leaves memory only once that
commit succeeded. A failed commit (disk full, a read-only file) is rolled back and all of it
is written again on the next flush, the row itself too if creating it failed: nothing the
patient entered is lost while the page says it was saved or that saving is retried.
Text that no UTF-8 file can hold (a lone surrogate) is stored with U+FFFD in its place.

Commits happen on :meth:`SessionRecorder.flush` (the session calls it about once a second)
and also whenever :data:`COMMIT_INTERVAL_S` of wall-clock time has passed since the last
commit when a message arrives, so a SIGKILL loses at most the last second of beats.
Ratings are committed as soon as they arrive (they may come after the session's end).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from hrvcalm.errors import StoreError
from hrvcalm.storage.base import (
    DEFAULT_PATIENT,
    DeviceEvent,
    MetricsSample,
    NewSession,
    PacerChange,
    SessionStore,
    StoredBeat,
    StoredRating,
)

#: Wall-clock seconds between commits at most (while messages arrive).
COMMIT_INTERVAL_S = 0.5
#: Session seconds between two stored points of the metrics timeline at least.
METRICS_PERIOD_S = 1.0
#: Session seconds before the start whose beats, metrics and events are stored with it.
PRESTART_KEEP_S = 300.0


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _text(value: Any) -> str | None:
    """Text as the store can hold it: lone surrogates (no UTF-8 for them) become U+FFFD."""
    if value is None:
        return None
    text = str(value)
    if any("\ud800" <= c <= "\udfff" for c in text):
        text = "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in text)
    return text


class SessionRecorder:
    """A session observer that stores what it sees, from the practice's start on.

    Args:
        store: Where to write.
        clock: The session's clock, s (``source.clock_s``): the time of device events and
            pacer changes. Defaults to the time of the last beat.
        wall_clock: Unix time (injectable for tests).
        monotonic: A monotonic clock for the commit interval (injectable for tests).
        patient: Who practises (a clinic's relay names the patient).

    Attributes:
        session_id: The row of the session being recorded, or of the one that just ended
            (``None`` before a practice has started).
        ended: The session of ``session_id`` has ended and its end is stored.
        n_beats: Beats written to that session.
        sessions: Every row this recorder created, in order.
    """

    def __init__(
        self,
        store: SessionStore,
        *,
        clock: Callable[[], float] | None = None,
        wall_clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        patient: str = DEFAULT_PATIENT,
    ) -> None:
        self.store = store
        self.patient = patient
        self._clock = clock
        self._wall = wall_clock
        self._monotonic = monotonic
        self._last_commit = monotonic()
        self._hello: dict[str, Any] = {}
        self._last_beat_t_s = 0.0
        self.sessions: list[int] = []
        self._phase: str | None = None
        # What arrived and is not written yet; before the start, what the row will begin with.
        self._beats: list[StoredBeat] = []
        self._metrics: list[MetricsSample] = []
        self._events: list[DeviceEvent] = []
        self._pacers: list[PacerChange] = []
        self._last_kept_t_s: float | None = None
        self._new_session()

    def _new_session(self) -> None:
        """Forget the last session's row: what is held from now on opens the next one."""
        self.session_id: int | None = None
        self.ended = False
        self.n_beats = 0
        self._prestart_unwritten = True
        self._fields: dict[str, Any] = {}
        self._ratings: dict[str, StoredRating] = {}
        self._unsaved_ratings: dict[str, StoredRating] = {}
        self._last_metrics: MetricsSample | None = None
        self._practice_started = False
        self._start_pending = False
        self._pending_end: tuple[str, float] | None = None
        self._started_unix = 0.0

    def _now(self) -> float:
        return self._clock() if self._clock is not None else self._last_beat_t_s

    @property
    def _recording(self) -> bool:
        """Beats go to a row (which exists or is about to be created), not to the next one."""
        return self._start_pending and not self.ended

    # -- observer -------------------------------------------------------------------------

    def on_message(self, message: dict[str, Any]) -> None:
        """Take in one published message."""
        kind = message.get("type")
        if kind == "hello":
            self._hello = message
            return
        if kind == "beat":
            self._on_beat(message)
        elif kind == "metrics":
            self._on_metrics(message)
        elif kind == "device":
            self._on_device(message)
        elif kind == "pacer":
            self._pacers.append(
                PacerChange(self._now(), float(message["rate_bpm"]), float(message["inhale_ratio"]))
            )
        elif kind == "session":
            self._on_session(message)
        if self._monotonic() - self._last_commit >= COMMIT_INTERVAL_S:
            self.flush()

    def flush(self) -> None:
        """Write what is buffered and commit (creating the row once the practice has
        started, and ending it once it has ended).

        Before the start nothing is written: what is held is trimmed to the last
        :data:`PRESTART_KEEP_S`.

        Raises:
            StoreError: The write failed (disk full, read-only file). Nothing buffered is
                lost: the transaction is rolled back and the next flush writes it again.
        """
        if not self._recording:
            if self.session_id is not None and self._unsaved_ratings:
                self._write_late_ratings(self.session_id)  # "after" ratings of an ended row
            self._trim_prestart()
            return
        written = len(self._beats)
        try:
            ending = self._write_buffered()
        except StoreError:
            self.store.rollback()
            raise
        self._beats = []
        self._metrics = []
        self.n_beats += written
        self._last_commit = self._monotonic()
        self.ended = ending

    def _write_buffered(self) -> bool:
        """Write and commit what is buffered; ``True`` if that ended the session.

        The first time, this creates the row (committed at once) and writes what was held
        from before the start with it; should that fail, the next flush writes it again.
        """
        if self.session_id is None:
            hello = self._hello
            self.session_id = self.store.create_session(
                NewSession(
                    started_unix=self._started_unix,
                    source=str(hello.get("source", "")),
                    speed=_opt_float(hello.get("speed")),
                    app_version=str(hello.get("version", "")),
                    patient=self.patient,
                )
            )
            self.sessions.append(self.session_id)
        session_id = self.session_id
        for event in self._events:
            self.store.add_event(session_id, event)
            if event.name:
                self.store.update_session(session_id, device_name=event.name)
        for change in self._pacers:
            self.store.add_pacer(session_id, change)
        for rating in self._unsaved_ratings.values():
            self.store.set_rating(session_id, rating)
        if self._fields:
            self.store.update_session(session_id, **self._fields)
        if self._beats:
            self.store.add_beats(session_id, self._beats)
        if self._metrics:
            self.store.add_metrics(session_id, self._metrics)
        ending = False
        if self._pending_end is not None:
            if self._last_metrics is not None:
                self.store.add_metrics(session_id, [self._last_metrics])
            reason, end_t_s = self._pending_end
            self.store.end_session(
                session_id, reason=reason, end_t_s=end_t_s, ended_unix=self._wall()
            )
            ending = True
        else:
            self.store.heartbeat(session_id, time.time())  # real time: liveness
        self.store.commit()
        # committed: only now is what was held forgotten
        self._prestart_unwritten = False
        self._events, self._pacers, self._fields, self._unsaved_ratings = [], [], {}, {}
        if ending:
            self._last_metrics = None
        return ending

    def _write_late_ratings(self, session_id: int) -> None:
        """Write and commit ratings given after the row ended (kept until that succeeded)."""
        try:
            for rating in self._unsaved_ratings.values():
                self.store.set_rating(session_id, rating)
            self.store.commit()
        except StoreError:
            self.store.rollback()
            raise
        self._unsaved_ratings = {}

    def _trim_prestart(self) -> None:
        """Keep only the last :data:`PRESTART_KEEP_S` of what came before the start."""
        since = self._now() - PRESTART_KEEP_S
        if self._beats and self._beats[0].t_s < since:
            self._beats = [b for b in self._beats if b.t_s >= since]
        if self._metrics and self._metrics[0].t_s < since:
            self._metrics = [m for m in self._metrics if m.t_s >= since]
        if len(self._events) > 1 and self._events[0].t_s < since:
            # the state the strap was in when the window opens, and what happened since
            self._events = (
                [self._events[-1]]
                if self._events[-1].t_s < since
                else [e for e in self._events if e.t_s >= since]
            )
        if len(self._pacers) > 1 and self._pacers[0].t_s < since:
            kept = [p for p in self._pacers if p.t_s >= since]
            earlier = [p for p in self._pacers if p.t_s < since]
            self._pacers = earlier[-1:] + kept

    def close(self, reason: str = "interrupted") -> None:
        """Flush, and end the session with ``reason`` if it has not ended by itself.

        A session whose practice never started is not stored. One that started and holds
        neither beats nor ratings (the strap never connected) is removed.
        """
        if self._recording and self._pending_end is None:
            self._pending_end = (reason, self._last_beat_t_s)
        self.flush()
        if self.session_id is not None and self.n_beats == 0 and not self._ratings:
            self.store.delete_session(self.session_id)
            self.sessions.remove(self.session_id)
            self.session_id = None

    # -- messages -------------------------------------------------------------------------

    def _on_beat(self, message: dict[str, Any]) -> None:
        t_s = float(message["t_s"])
        gap = bool(message.get("gap_before", False))
        self._beats.append(
            StoredBeat(
                t_s=t_s,
                rr_ms=float(message["rr_ms"]),
                artifact=bool(message.get("artifact", False)),
                gap_before=gap,
                corrected_rr_ms=_opt_float(message.get("corrected_rr_ms")),
            )
        )
        self._last_beat_t_s = t_s

    def _on_metrics(self, message: dict[str, Any]) -> None:
        t_s = float(message["t_s"])
        values = {k: v for k, v in message.items() if k not in ("type", "t_s")}
        sample = MetricsSample(t_s, values)
        if self._last_kept_t_s is None or t_s >= self._last_kept_t_s + METRICS_PERIOD_S:
            self._metrics.append(sample)
            self._last_kept_t_s = t_s
            self._last_metrics = None
        else:
            self._last_metrics = sample

    def _on_device(self, message: dict[str, Any]) -> None:
        contact = message.get("contact")
        battery = message.get("battery_pct")
        event = DeviceEvent(
            t_s=self._now(),
            state=str(message.get("state")),
            name=_text(message.get("name")),
            battery_pct=None if battery is None else int(battery),
            contact=None if contact is None else bool(contact),
        )
        self._events.append(event)

    def _set_fields(self, **fields: Any) -> None:
        self._fields.update((k, v) for k, v in fields.items() if v is not None)

    def _on_session(self, message: dict[str, Any]) -> None:
        phase = message.get("phase")
        previous, self._phase = self._phase, str(phase)
        if phase == "ready" and previous == "ended":  # a new session (the page's New session)
            self.flush()  # the ended session's last writes, then the next session opens
            self._new_session()
        elapsed = _opt_float(message.get("elapsed_s"))
        start_t_s = None
        started = phase == "running" or (phase == "ended" and elapsed)
        if started and not self._practice_started and elapsed is not None and not self.ended:
            start_t_s = max(0.0, self._now() - elapsed)
            self._practice_started = True
            self._start_pending = True
            self._started_unix = self._wall()
        self._set_fields(
            practice=message.get("practice"),
            planned_s=_opt_float(message.get("duration_s")),
            practice_start_t_s=start_t_s,
            practice_s=elapsed if self._practice_started else None,
        )
        ratings_changed = False
        for when, given in (message.get("ratings") or {}).items():
            rating = StoredRating(
                when, given.get("pain"), given.get("stress"), _text(given.get("note"))
            )
            if self._ratings.get(when) != rating:
                self._ratings[when] = rating
                self._unsaved_ratings[when] = rating
                ratings_changed = True
        if phase == "ended" and self._pending_end is None and self._recording:
            reason = message.get("ended_reason")
            if reason not in ("completed", "stopped", "source_ended"):
                planned = _opt_float(message.get("duration_s"))
                done = planned is not None and elapsed is not None and elapsed >= planned - 0.05
                reason = "completed" if done else "stopped"
            end_t_s = max(self._now(), self._last_beat_t_s)  # never before the last beat
            self._pending_end = (str(reason), end_t_s)
            self.flush()
        elif phase == "running" and start_t_s is not None:
            self.flush()  # the row, at once
        elif ratings_changed and self.session_id is not None:
            self.flush()
