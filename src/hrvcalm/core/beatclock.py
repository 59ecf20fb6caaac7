"""Per-beat time reconstruction from notification arrival times.

A strap notification carries the RR intervals of beats that ended *before* it arrived, but no
beat times. Rules, applied to each notification in arrival order:

1. Intervals of 0 ms or less are not beats: they are skipped and counted in ``bad_intervals``.
2. The first notification is placed backwards from its arrival time: its last beat ended at
   ``arrival_s``, the one before at ``arrival_s - rr_last``, and so on.
3. Later notifications continue the chain forwards from the previous beat time
   (``t_prev + cumsum(rr)``), so beat times stay consistent with the intervals instead of
   inheriting the radio's arrival jitter.
4. A beat cannot end after the notification that reports it arrived: if the chain runs ahead
   of ``arrival_s`` it is pulled back so that its last beat ends at ``arrival_s`` (times stay
   strictly increasing).
5. If the chain ends more than ``max_lag_s`` before ``arrival_s``, beats were lost in between
   (notifications without RR, a dropped link): the notification is placed backwards from its
   arrival as in rule 2 and its first beat is marked ``gap_before``.

Times are in seconds on whatever clock the caller passes (monotonic time for a live strap,
recording time for a replay); no clock is read here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: The smallest step between two beat times when rule 4 has to squeeze the chain, in s.
_MIN_STEP_S = 1e-3


@dataclass(frozen=True, slots=True)
class PlacedBeat:
    """A beat interval with the time its beat ended."""

    t_s: float
    rr_ms: float
    gap_before: bool


class BeatClock:
    """Assigns an end time to every RR interval of a stream of notifications.

    Args:
        max_lag_s: How far the forward chain may trail a notification's arrival before the
            beats in between are considered lost (rule 5), in seconds. Straps notify about
            once a second, so a few seconds of lag means missed beats.
    """

    def __init__(self, max_lag_s: float = 3.0) -> None:
        self.max_lag_s = max_lag_s
        self.last_t_s: float | None = None
        self.bad_intervals = 0

    def place(self, arrival_s: float, rr_ms: Sequence[float]) -> list[PlacedBeat]:
        """Place the intervals of one notification in time.

        Args:
            arrival_s: When the notification arrived, in seconds.
            rr_ms: Its RR intervals in ms, oldest first.

        Returns:
            One :class:`PlacedBeat` per valid interval, oldest first.
        """
        valid = [float(rr) for rr in rr_ms if rr > 0]
        self.bad_intervals += len(rr_ms) - len(valid)
        if not valid:
            return []

        gap = False
        if self.last_t_s is None:
            times = self._backwards(arrival_s, valid)
        else:
            times = self._forwards(self.last_t_s, valid)
            if arrival_s - times[-1] > self.max_lag_s:
                times = self._backwards(arrival_s, valid)
                gap = True
            elif times[-1] > arrival_s:
                shift = times[-1] - arrival_s
                times = [t - shift for t in times]
            floor = self.last_t_s
            for i, t in enumerate(times):
                floor = max(t, floor + _MIN_STEP_S)
                times[i] = floor

        self.last_t_s = times[-1]
        return [
            PlacedBeat(t, rr, gap_before=gap and i == 0)
            for i, (t, rr) in enumerate(zip(times, valid, strict=True))
        ]

    @staticmethod
    def _backwards(arrival_s: float, rr_ms: list[float]) -> list[float]:
        times = [arrival_s]
        for rr in reversed(rr_ms[1:]):
            times.append(times[-1] - rr / 1000.0)
        times.reverse()
        return times

    @staticmethod
    def _forwards(start_s: float, rr_ms: list[float]) -> list[float]:
        times: list[float] = []
        t = start_s
        for rr in rr_ms:
            t += rr / 1000.0
            times.append(t)
        return times
