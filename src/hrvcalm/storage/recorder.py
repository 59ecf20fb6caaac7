"""Records a live session into a store, as an observer of the session's messages.

:class:`SessionRecorder` follows the websocket messages a
:class:`~hrvcalm.server.app.LiveSession` publishes (``hello``, ``device``, ``pacer``,
``session``, ``beat``, ``metrics``) and writes them to a
:class:`~hrvcalm.storage.base.SessionStore`:

- ``hello`` creates the session row (committed at once);
- every ``beat`` is buffered and written with its raw ``rr_ms`` (and ``corrected_rr_ms`` and
  ``gap_before`` when the message carries them);
- the metrics timeline is thinned to at most one row per :data:`METRICS_PERIOD_S` of session
  time (the first message of each second is kept, and the last one of the session);
- every ``device`` message becomes a device event at the session time it was seen; a beat
  that follows a ``lost`` or ``reconnecting`` event is stored with ``gap_before``;
- pacer changes, the practice, its timer and the ratings are kept up to date.

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


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


class SessionRecorder:
    """A session observer that stores what it sees.

    Args:
        store: Where to write.
        clock: The session's clock, s (``source.clock_s``): the time of device events and
            pacer changes. Defaults to the time of the last beat.
        wall_clock: Unix time (injectable for tests).
        monotonic: A monotonic clock for the commit interval (injectable for tests).
        patient: Who practises (a clinic's relay names the patient).
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
        self.session_id: int | None = None
        self._clock = clock
        self._wall = wall_clock
        self._monotonic = monotonic
        self._last_commit = monotonic()
        self._beats: list[StoredBeat] = []
        self._metrics: list[MetricsSample] = []
        self._last_metrics: MetricsSample | None = None
        self._last_kept_t_s: float | None = None
        self._last_beat_t_s = 0.0
        self._gap_pending = False
        self._ratings: dict[str, StoredRating] = {}
        self._practice_started = False
        self._pending_end: tuple[str, float] | None = None
        self.ended = False
        self.n_beats = 0

    def _now(self) -> float:
        return self._clock() if self._clock is not None else self._last_beat_t_s

    # -- observer -------------------------------------------------------------------------

    def on_message(self, message: dict[str, Any]) -> None:
        """Take in one published message."""
        kind = message.get("type")
        if kind == "hello":
            self._on_hello(message)
            return
        if self.session_id is None:
            return
        if kind == "beat":
            self._on_beat(message)
        elif kind == "metrics":
            self._on_metrics(message)
        elif kind == "device":
            self._on_device(message)
        elif kind == "pacer":
            self.store.add_pacer(
                self.session_id,
                PacerChange(
                    self._now(), float(message["rate_bpm"]), float(message["inhale_ratio"])
                ),
            )
        elif kind == "session":
            self._on_session(message)
        if self._monotonic() - self._last_commit >= COMMIT_INTERVAL_S:
            self.flush()

    def flush(self) -> None:
        """Write what is buffered and commit (and end the session if it has ended).

        Raises:
            StoreError: The write failed (disk full, read-only file). Nothing buffered is
                lost: the transaction is rolled back and the next flush writes it again.
        """
        if self.session_id is None:
            return
        try:
            ending = self._write_buffered()
        except StoreError:
            self.store.rollback()
            raise
        self._beats = []
        self._metrics = []
        self.ended = self.ended or ending
        self._last_commit = self._monotonic()

    def _write_buffered(self) -> bool:
        """Write and commit what is buffered; ``True`` if that ended the session."""
        assert self.session_id is not None
        ending = False
        if self._beats:
            self.store.add_beats(self.session_id, self._beats)
        if self._metrics:
            self.store.add_metrics(self.session_id, self._metrics)
        if self._pending_end is not None and not self.ended:
            self._store_last_metrics()
            reason, end_t_s = self._pending_end
            self.store.end_session(
                self.session_id, reason=reason, end_t_s=end_t_s, ended_unix=self._wall()
            )
            ending = True
        elif not self.ended:
            self.store.heartbeat(self.session_id, time.time())  # real time: liveness
        self.store.commit()
        return ending

    def close(self, reason: str = "interrupted") -> None:
        """Flush, and end the session with ``reason`` if it has not ended by itself.

        A session that ended with neither beats nor ratings (the strap never connected, the
        window was closed at once) holds nothing worth keeping and is removed.
        """
        if self.session_id is not None and not self.ended and self._pending_end is None:
            self._pending_end = (reason, self._last_beat_t_s)
        self.flush()
        if self.session_id is not None and self.n_beats == 0 and not self._ratings:
            self.store.delete_session(self.session_id)
            self.session_id = None

    # -- messages -------------------------------------------------------------------------

    def _on_hello(self, message: dict[str, Any]) -> None:
        if self.session_id is not None:
            return
        self.session_id = self.store.create_session(
            NewSession(
                started_unix=self._wall(),
                source=str(message.get("source", "")),
                speed=_opt_float(message.get("speed")),
                app_version=str(message.get("version", "")),
                patient=self.patient,
            )
        )

    def _on_beat(self, message: dict[str, Any]) -> None:
        t_s = float(message["t_s"])
        gap = bool(message.get("gap_before", False)) or self._gap_pending
        self._gap_pending = False
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
        self.n_beats += 1

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

    def _store_last_metrics(self) -> None:
        if self._last_metrics is not None and self.session_id is not None:
            self.store.add_metrics(self.session_id, [self._last_metrics])
            self._last_metrics = None

    def _on_device(self, message: dict[str, Any]) -> None:
        assert self.session_id is not None
        contact = message.get("contact")
        battery = message.get("battery_pct")
        event = DeviceEvent(
            t_s=self._now(),
            state=str(message.get("state")),
            name=message.get("name"),
            battery_pct=None if battery is None else int(battery),
            contact=None if contact is None else bool(contact),
        )
        self.store.add_event(self.session_id, event)
        if event.is_gap:
            self._gap_pending = True
        if event.name:
            self.store.update_session(self.session_id, device_name=event.name)

    def _on_session(self, message: dict[str, Any]) -> None:
        assert self.session_id is not None
        phase = message.get("phase")
        elapsed = _opt_float(message.get("elapsed_s"))
        start_t_s = None
        started = phase == "running" or (phase == "ended" and elapsed)
        if started and not self._practice_started and elapsed is not None:
            start_t_s = max(0.0, self._now() - elapsed)
            self._practice_started = True
        self.store.update_session(
            self.session_id,
            practice=message.get("practice"),
            planned_s=_opt_float(message.get("duration_s")),
            practice_start_t_s=start_t_s,
            practice_s=elapsed if self._practice_started else None,
        )
        ratings_changed = False
        for when, given in (message.get("ratings") or {}).items():
            rating = StoredRating(when, given.get("pain"), given.get("stress"), given.get("note"))
            if self._ratings.get(when) != rating:
                self._ratings[when] = rating
                self.store.set_rating(self.session_id, rating)
                ratings_changed = True
        if phase == "ended" and self._pending_end is None and not self.ended:
            planned = _opt_float(message.get("duration_s"))
            done = planned is not None and elapsed is not None and elapsed >= planned - 0.05
            end_t_s = max(self._now(), self._last_beat_t_s)  # never before the last beat
            self._pending_end = ("completed" if done else "stopped", end_t_s)
            self.flush()
        elif ratings_changed:
            self.flush()
