"""Soak: hours of recording time through a live session, with memory flat."""

from __future__ import annotations

import asyncio
import math
import tracemalloc

from hrvcalm.devices.replay import ReplaySource
from hrvcalm.recordings import read_recording
from hrvcalm.server.app import LiveSession
from tests.conftest import FIXTURES

LONG = FIXTURES / "polar_hrm_vollmer_hrvtool" / "14121501.hrm"  # 2.6 h, 19,001 beats


class _Sampler:
    """Samples traced memory every ``every`` beat messages."""

    def __init__(self, every: int) -> None:
        self.every = every
        self.beats = 0
        self.samples: list[int] = []

    def on_message(self, message: dict[str, object]) -> None:
        if message["type"] == "beat":
            self.beats += 1
            if self.beats % self.every == 0:
                self.samples.append(tracemalloc.get_traced_memory()[0])

    def flush(self) -> None:
        pass


def test_hours_of_beats_keep_memory_flat() -> None:
    recording = read_recording(LONG)
    sampler = _Sampler(every=1000)
    live = LiveSession(ReplaySource(recording, speed=math.inf), autostart=True, observers=[sampler])
    tracemalloc.start()
    try:
        asyncio.run(live.run(port=None))
    finally:
        tracemalloc.stop()
    assert live.n_beats == len(recording) == 19_001
    assert recording.duration_s > 2.5 * 3600
    # after the windows have filled (first few thousand beats), memory no longer grows with
    # the number of beats: allow 1 MB of noise over ~15,000 beats (~70 bytes a beat at most)
    settled = sampler.samples[3:]
    assert max(settled) - settled[0] < 1_000_000, [s // 1000 for s in sampler.samples]
