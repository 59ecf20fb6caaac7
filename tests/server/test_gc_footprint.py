"""A long session does not grow the number of objects the garbage collector tracks.

A clinic server holds a thousand sessions; every object the collector tracks is walked in each
full collection, which blocks the event loop (docs/clinic.md measured 77-200 ms pauses with a
few hundred thousand). What a session keeps per beat must therefore be untracked (tuples of
numbers), so that the tracked count stays flat however long the session runs.
"""

from __future__ import annotations

import asyncio
import gc
import math
from pathlib import Path

import numpy as np

from hrvcalm.devices.replay import ReplaySource
from hrvcalm.recordings import read_recording
from hrvcalm.server.app import LiveSession

REST = Path(__file__).resolve().parents[2] / "fixtures/recordings/polar_rr_rhenanbartels_hrv"


def _source(beats: int, tmp_path: Path) -> ReplaySource:
    """A replay of the resting recording repeated to ``beats`` intervals."""
    rr = read_recording(REST / "rest_rri.txt").rr_ms
    path = tmp_path / f"rest_{beats}.txt"
    path.write_text("\n".join(f"{v:.0f}" for v in np.resize(rr, beats)))
    return ReplaySource(read_recording(path), speed=math.inf)


def _run(live: LiveSession) -> None:
    asyncio.run(asyncio.wait_for(live.run(port=None), 120))
    gc.collect()
    gc.collect()  # a tuple of numbers is untracked by the collection that first sees it


def test_what_a_session_keeps_per_beat_is_not_tracked(tmp_path: Path) -> None:
    live = LiveSession(_source(1000, tmp_path), autostart=True)
    _run(live)
    assert len(live.beats) == 1000
    kept = [*live._beats, *live.pipeline.window._entries]
    assert len(kept) > 1000
    assert not any(gc.is_tracked(item) for item in kept)


def test_tracked_objects_do_not_grow_with_the_length_of_a_session(tmp_path: Path) -> None:
    def growth(beats: int) -> int:
        source = _source(beats, tmp_path)  # the replayed recording is not the session's
        gc.collect()
        before = len(gc.get_objects())
        live = LiveSession(source, autostart=True)
        _run(live)
        assert len(live.beats) == beats
        return len(gc.get_objects()) - before

    short, long = growth(500), growth(5000)
    # Ten times the beats: the session's tracked objects stay within a few hundred.
    assert long - short < 300, (short, long)
