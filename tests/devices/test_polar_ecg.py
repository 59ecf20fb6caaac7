"""The Polar H10 ECG source over the emulated link: PMD start, R peaks, RR, cross-check."""

from __future__ import annotations

import asyncio

import numpy as np

from hrvcalm.core import pmd
from hrvcalm.devices import open_source
from hrvcalm.devices.virtual import VirtualPolarEcgSource
from hrvcalm.events import DeviceState, DeviceStatus, RRNotification
from tests.conftest import FIXTURES, load_rr_column

SLOW = FIXTURES / "polar_h10_ibi_slowbreathing" / "sample_data_ibi.csv"


async def test_ecg_rr_equals_the_recording_within_two_samples() -> None:
    source = open_source(f"ble-virtual:{SLOW},ecg=1,drop_at=25,drop_for=5", speed=25)
    assert isinstance(source, VirtualPolarEcgSource)
    events: list[object] = []
    try:
        async for event in source.events():
            events.append(event)
            if source.clock_s() > 50:
                break
    finally:
        await source.aclose()
    assert source.ecg.active
    states = [e.state for e in events if isinstance(e, DeviceStatus)]
    assert DeviceState.LOST in states
    assert states[-1] is DeviceState.CONNECTED
    rr = [v for e in events if isinstance(e, RRNotification) for v in e.rr_ms]
    assert len(rr) > 30
    expected = load_rr_column(SLOW)
    # The ECG intervals before the drop are a run of the recording, to 2 samples at 130 Hz.
    first = rr[:15]
    offsets = [
        k
        for k in range(0, 5)
        if np.all(np.abs(np.array(first) - expected[k : k + len(first)]) <= 2000 / 130 + 1)
    ]
    assert offsets, first
    # Against the strap's own RR: nearly every ECG beat agrees.
    ecg = source.ecg
    assert ecg.rr_agreements >= 0.9 * (ecg.rr_agreements + ecg.rr_disagreements)
    assert ecg.rr_agreements > 20


async def test_malformed_and_unsupported_frames_are_counted_and_skipped() -> None:
    rr = list(load_rr_column(SLOW)[:40])
    source = VirtualPolarEcgSource(rr, spec="test", speed=10)
    events = source.events()
    await anext(events)
    await anext(events)
    assert source.ecg.active
    strap = source.strap
    await strap.send_pmd(b"\x00\x01")  # shorter than the header
    await strap.send_pmd(b"\x00" + bytes(8) + b"\x80" + bytes(9))  # compressed
    await strap.send_pmd(b"\x07" + bytes(8) + b"\x00" + bytes(9))  # unknown type
    await asyncio.sleep(0.1)
    assert source.malformed_packets == 1
    assert source.ecg.skipped_frames == 2
    n_frames = source.ecg.frames
    got_beat = await asyncio.wait_for(anext(events), 5)  # the stream goes on
    assert isinstance(got_beat, RRNotification | DeviceStatus)
    await source.aclose()
    assert source.ecg.frames >= n_frames
    assert not strap.ecg_streaming  # stopped on close (or dropped with the link)
    assert pmd.parse_control_response(strap.pmd_replies[0]).ok
