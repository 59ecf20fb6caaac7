"""Replay a recording through the live pipeline, in real time or faster.

A recording that logged when each interval arrived (a strap logger's host time) is replayed
with its own batching: intervals that arrived within 50 ms of each other travel in one
notification, as they did from the strap. A plain RR file has no arrival times: each interval
is sent as its own notification at the moment its beat ended (the cumulative sum of RR), so
the replayed beat times equal ``hrvcalm analyze``'s time axis.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator

from hrvcalm.devices.base import Source, SourceEvent
from hrvcalm.devices.playback import PlaybackClock
from hrvcalm.events import Contact, DeviceState, DeviceStatus, RRNotification
from hrvcalm.recordings.base import Recording

#: Intervals logged within this many seconds of each other came in one notification.
BATCH_WINDOW_S = 0.05


def notifications_from(recording: Recording) -> list[RRNotification]:
    """Split a recording into the notifications a replay sends.

    Arrival times start at the end of the first interval, so that time 0 is the first beat.
    """
    rr = [float(v) for v in recording.rr_ms]
    if not rr:
        return []
    if recording.arrival_s is None:
        t = 0.0
        out = []
        for value in rr:
            t += value / 1000.0
            out.append(RRNotification(arrival_s=t, rr_ms=(value,), contact=Contact.DETECTED))
        return out

    offset = rr[0] / 1000.0 - float(recording.arrival_s[0])
    arrivals = [float(a) + offset for a in recording.arrival_s]
    out = []
    batch = [rr[0]]
    for i in range(1, len(rr)):
        if arrivals[i] - arrivals[i - 1] < BATCH_WINDOW_S:
            batch.append(rr[i])
            continue
        out.append(RRNotification(arrivals[i - 1], tuple(batch), contact=Contact.DETECTED))
        batch = [rr[i]]
    out.append(RRNotification(arrivals[-1], tuple(batch), contact=Contact.DETECTED))
    return out


class ReplaySource(Source):
    """Plays a recording's notifications at ``speed`` times real time.

    Args:
        recording: What to play.
        speed: 1.0 real time, larger is faster, ``math.inf`` as fast as possible.
    """

    def __init__(self, recording: Recording, speed: float = 1.0) -> None:
        self.recording = recording
        self.spec = f"replay:{recording.path}"
        self.name = f"replay: {recording.path.name}"
        self._playback = PlaybackClock(speed)
        self._notifications = notifications_from(recording)

    @property
    def speed(self) -> float:
        return self._playback.speed

    def clock_s(self) -> float:
        return self._playback.now_s()

    async def events(self) -> AsyncIterator[SourceEvent]:
        yield DeviceStatus(DeviceState.CONNECTING, self.name, at_s=0.0)
        self._playback.start(0.0)
        yield DeviceStatus(DeviceState.CONNECTED, self.name, contact=Contact.DETECTED, at_s=0.0)
        for notification in self._notifications:
            await self._playback.wait_until(notification.arrival_s)
            yield notification

    def __repr__(self) -> str:
        speed = "max" if math.isinf(self.speed) else f"{self.speed:g}"
        return f"ReplaySource({self.recording.path.name!r}, speed={speed})"
