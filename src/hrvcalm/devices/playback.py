"""The playback clock shared by sources that play back time (replay, simulator, virtual strap).

Source time (a recording's seconds) runs ``speed`` times faster than the event loop's clock;
:meth:`PlaybackClock.wait_until` sleeps until a source time is due.
"""

from __future__ import annotations

import asyncio
import math


class PlaybackClock:
    """Maps source time to wall-clock time at a speed factor.

    Args:
        speed: 1.0 is real time, 5.0 five times faster, ``math.inf`` as fast as possible.
    """

    #: With infinite speed, yield to the event loop every this many waits.
    _YIELD_EVERY = 64

    def __init__(self, speed: float = 1.0) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self.speed = speed
        self._loop_start: float | None = None
        self._source_start = 0.0
        self._latest_s = 0.0
        self._waits = 0

    def start(self, source_start_s: float = 0.0) -> None:
        """Anchor source time ``source_start_s`` at the current loop time."""
        self._loop_start = asyncio.get_running_loop().time()
        self._source_start = source_start_s
        self._latest_s = source_start_s

    def now_s(self) -> float:
        """The source time that corresponds to now."""
        if self._loop_start is None:
            return self._source_start
        if math.isinf(self.speed):
            return self._latest_s
        elapsed = asyncio.get_running_loop().time() - self._loop_start
        return self._source_start + elapsed * self.speed

    async def wait_until(self, source_s: float) -> None:
        """Sleep until source time ``source_s`` is due."""
        if self._loop_start is None:
            self.start(source_s)
        self._latest_s = max(self._latest_s, source_s)
        if math.isinf(self.speed):
            self._waits += 1
            if self._waits % self._YIELD_EVERY == 0:
                await asyncio.sleep(0)
            return
        delay = (source_s - self.now_s()) / self.speed
        if delay > 0:
            await asyncio.sleep(delay)
