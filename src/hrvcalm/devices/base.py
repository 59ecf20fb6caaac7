"""The one interface every beat source implements: strap, virtual strap, replay, simulator.

A source is an async iterator of :data:`SourceEvent` values: :class:`RRNotification` for every
notification (or replayed batch) and :class:`DeviceStatus` whenever the link, battery or
contact changes. Iteration ends when the source has nothing more to give (a recording ran out);
a live strap never ends by itself. ``arrival_s`` and :meth:`Source.clock_s` share one clock:
seconds since the source started (recording time for a replay, so ``--speed`` scales it).

A source whose simulated person breathes with the page's pacer says so by also being a
:class:`FollowsPacer` (the simulator); the session tells it every pacer change.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator

from hrvcalm.events import DeviceStatus, RRNotification

SourceEvent = RRNotification | DeviceStatus


class Source(abc.ABC):
    """A stream of heart-beat notifications and device status changes.

    Attributes:
        spec: The source spec it was opened from (``replay:PATH``, ``sim:...``).
        name: A short name to show the patient (``Polar H10 1234``, ``replay: file.csv``).
    """

    spec: str
    name: str

    @abc.abstractmethod
    def events(self) -> AsyncIterator[SourceEvent]:
        """Yield events until the source ends (or forever, for a live strap)."""

    @abc.abstractmethod
    def clock_s(self) -> float:
        """The source's current time, s, on the clock of ``arrival_s``."""

    @property
    def speed(self) -> float:
        """Playback speed factor of a source that plays back time (replay, simulator, virtual
        strap): 5.0 is five times real time, ``math.inf`` as fast as possible. A live source
        (a strap, a relay) has no speed of its own and reports 1.0."""
        return 1.0

    async def aclose(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release the device or file; safe to call more than once."""


class FollowsPacer(abc.ABC):
    """A source that breathes with the breath pacer (the simulated person of ``sim``).

    The session calls :meth:`follow_breathing` on every pacer change (the page's rate slider,
    each step of the resonance assessment) of a source that is an instance of this class;
    other sources are left alone.
    """

    @abc.abstractmethod
    def follow_breathing(self, rate_bpm: float, at_s: float | None = None) -> None:
        """Breathe at the pacer's ``rate_bpm`` from now on.

        Args:
            rate_bpm: The pacer's rate, breaths/min.
            at_s: Source time at which the pacer's in-breath started, s (default: now).
        """
