"""The one interface every beat source implements: strap, virtual strap, replay, simulator.

A source is an async iterator of :data:`SourceEvent` values: :class:`RRNotification` for every
notification (or replayed batch) and :class:`DeviceStatus` whenever the link, battery or
contact changes. Iteration ends when the source has nothing more to give (a recording ran out);
a live strap never ends by itself. ``arrival_s`` and :meth:`Source.clock_s` share one clock:
seconds since the source started (recording time for a replay, so ``--speed`` scales it).
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
        """Playback speed factor: 1.0 for a live strap, ``math.inf`` for as fast as possible."""
        return 1.0

    async def aclose(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release the device or file; safe to call more than once."""
