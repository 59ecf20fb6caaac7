"""Polar H10: beats from the chest ECG (PMD stream, 130 Hz), the strap's RR as a cross-check.

The H10 computes its own RR from its ECG, but it also streams the ECG itself through Polar's
Measurement Data service (:mod:`hrvcalm.core.pmd`). :class:`PolarEcgStream` is what the strap
link (:class:`~hrvcalm.devices.ble.link.StrapLink`: same scan, reconnection and device events
as any strap) subscribes to on each connection: the Heart Rate Service
(:class:`~hrvcalm.devices.ble.heart_rate.HeartRateSubscription`), then the ECG stream. It
detects R peaks in the ECG (:class:`~hrvcalm.core.ecg.StreamingRPeakDetector`, NeuroKit
imported lazily) and yields the ECG-derived RR intervals. The strap's own 0x2A37 RR keep
arriving and are placed in time with the same :class:`~hrvcalm.core.beatclock.BeatClock` the
pipeline uses; every ECG interval is compared with the strap interval ending within
``CROSS_CHECK_WINDOW_S`` of it, and the outcome is counted (``rr_agreements`` /
``rr_disagreements``). :class:`PolarEcgSource` is a strap source with this subscription.

Rules:

1. ECG sample ``i`` of a connection is at ``t0 + i / 130`` s on the source clock, ``t0``
   anchored on the first frame's arrival (its last sample arrived then). A yielded
   notification's ``arrival_s`` is the time of the R peak that closes the interval.
2. A reconnection restarts the stream, the detector and the anchor: no interval spans a gap.
3. A strap without PMD (not a Polar) or one that refuses the start falls back to its own RR
   (``active`` is ``False``), so ``ble:...,ecg=1`` never leaves the patient without beats.
4. Malformed frames are counted in the link's ``malformed_packets``; compressed or unknown
   frame types in ``skipped_frames``. Neither ends the session.
5. Closing the source (Ctrl-C) stops the ECG stream on the strap before disconnecting.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib
import logging
from bisect import bisect_left
from typing import Any

from bleak import BleakClient
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.exc import BleakError

from hrvcalm.core import pmd
from hrvcalm.core.beatclock import BeatClock
from hrvcalm.core.ecg import StreamingRPeakDetector
from hrvcalm.devices.ble.heart_rate import HeartRateSubscription
from hrvcalm.devices.ble.link import StrapLink
from hrvcalm.devices.ble.source import StrapSource
from hrvcalm.errors import MalformedPacketError
from hrvcalm.events import RRNotification

log = logging.getLogger(__name__)

#: How far apart an ECG beat and a strap beat may end to be compared, s (strap beat times
#: are reconstructed from ~1 s notification batches, so they are only known to about 1 s).
CROSS_CHECK_WINDOW_S = 1.5
#: Largest ECG-vs-strap RR difference still counted as agreement, ms.
CROSS_CHECK_TOLERANCE_MS = 30.0
#: How long to wait for the control point's reply to the start request, s.
START_REPLY_TIMEOUT_S = 5.0
#: How long to wait for the stop request on close, s.
STOP_TIMEOUT_S = 2.0


class PolarEcgStream:
    """The Heart Rate Service and the PMD ECG stream, subscribed on each connection.

    A :class:`~hrvcalm.devices.ble.link.Subscription` (see the module's rules).

    Attributes:
        active: The ECG stream runs on the current connection (else the strap's RR are used).
        frames: ECG frames received.
        skipped_frames: Compressed or non-ECG frames skipped.
        rr_agreements: ECG intervals within ``CROSS_CHECK_TOLERANCE_MS`` of a strap interval.
        rr_disagreements: ECG intervals with strap intervals near them, none close enough.
    """

    def __init__(self) -> None:
        self.heart_rate = HeartRateSubscription(on_rr=self._on_strap_rr)
        self.active = False
        self.frames = 0
        self.skipped_frames = 0
        self.rr_agreements = 0
        self.rr_disagreements = 0
        self._detector = StreamingRPeakDetector(pmd.ECG_SAMPLE_RATE_HZ)
        self._t0_s: float | None = None
        self._last_peak: int | None = None
        self._replies: asyncio.Queue[pmd.PmdControlResponse] = asyncio.Queue()
        self._strap_clock = BeatClock()
        self._strap_beats: list[tuple[float, float]] = []

    async def prepare(self) -> None:
        """Import NeuroKit (seconds) before the strap streams anything."""
        await asyncio.to_thread(importlib.import_module, "neurokit2")

    async def subscribe(self, link: StrapLink, client: BleakClient) -> None:
        """Subscribe to the Heart Rate Service, then start the ECG stream if the strap can."""
        await self.heart_rate.subscribe(link, client)
        self.active = False
        self._detector = StreamingRPeakDetector(pmd.ECG_SAMPLE_RATE_HZ)
        self._t0_s = None
        self._last_peak = None
        if client.services.get_characteristic(pmd.PMD_CONTROL_POINT_UUID) is None:
            log.warning("%s has no Polar PMD service: using its own RR", client.address)
            return
        on_control = functools.partial(self._on_control, link)
        on_frame = functools.partial(self._on_frame, link)
        try:
            await client.start_notify(pmd.PMD_CONTROL_POINT_UUID, link.bound(client, on_control))
            await client.start_notify(pmd.PMD_DATA_UUID, link.bound(client, on_frame))
            await client.write_gatt_char(pmd.PMD_CONTROL_POINT_UUID, pmd.start_command(), True)
            reply = await asyncio.wait_for(self._replies.get(), START_REPLY_TIMEOUT_S)
        except (BleakError, TimeoutError) as exc:
            log.warning("ECG start failed (%s): using the strap's own RR", exc)
            return
        self.active = reply.ok or reply.status == 0x06  # 6: already streaming
        if not self.active:
            log.warning("the strap refused the ECG start (status %d)", reply.status)

    async def release(self, client: BleakClient) -> None:
        """Stop the ECG stream on the strap (it would otherwise stream on after we leave)."""
        if self.active:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(
                    client.write_gatt_char(pmd.PMD_CONTROL_POINT_UUID, pmd.stop_command(), True),
                    STOP_TIMEOUT_S,
                )

    # -- callbacks ------------------------------------------------------------------------

    def _on_control(
        self, link: StrapLink, _sender: BleakGATTCharacteristic, data: bytearray
    ) -> None:
        try:
            self._replies.put_nowait(pmd.parse_control_response(data))
        except MalformedPacketError:
            link.count_malformed()

    def _on_frame(self, link: StrapLink, _sender: BleakGATTCharacteristic, data: bytearray) -> None:
        arrival_s = link.clock_s()
        try:
            frame = pmd.parse_frame(data)
        except MalformedPacketError:
            link.count_malformed()
            return
        if not frame.supported or frame.measurement_type != pmd.MeasurementType.ECG:
            self.skipped_frames += 1
            return
        samples = [float(v) for v in frame.samples if isinstance(v, int)]
        if not samples:
            return
        self.frames += 1
        if self._t0_s is None:
            self._t0_s = arrival_s - (len(samples) - 1) / pmd.ECG_SAMPLE_RATE_HZ
        for peak in self._detector.push(samples):
            self._on_peak(link, peak)

    def _on_peak(self, link: StrapLink, peak: int) -> None:
        previous, self._last_peak = self._last_peak, peak
        if previous is None or self._t0_s is None:
            return
        rr_ms = (peak - previous) * 1000.0 / pmd.ECG_SAMPLE_RATE_HZ
        t_s = self._t0_s + peak / pmd.ECG_SAMPLE_RATE_HZ
        self._cross_check(t_s, rr_ms)
        link.emit(RRNotification(arrival_s=t_s, rr_ms=(rr_ms,), contact=link.contact))

    def _cross_check(self, t_s: float, rr_ms: float) -> None:
        times = [t for t, _ in self._strap_beats]
        k = bisect_left(times, t_s - CROSS_CHECK_WINDOW_S)
        near = [rr for t, rr in self._strap_beats[k:] if abs(t - t_s) <= CROSS_CHECK_WINDOW_S]
        if not near:
            return
        if min(abs(rr - rr_ms) for rr in near) <= CROSS_CHECK_TOLERANCE_MS:
            self.rr_agreements += 1
        else:
            self.rr_disagreements += 1

    def _on_strap_rr(self, link: StrapLink, notification: RRNotification) -> None:
        """The strap's own RR: the beats while the ECG is off, the cross-check while it runs."""
        if not self.active:
            link.emit(notification)
            return
        for beat in self._strap_clock.place(notification.arrival_s, notification.rr_ms):
            self._strap_beats.append((beat.t_s, beat.rr_ms))
        del self._strap_beats[:-64]


class PolarEcgSource(StrapSource):
    """A Polar H10 whose beats come from R peaks in its ECG stream.

    Args:
        target: ``auto``, an address or a name.
        **options: As for :class:`~hrvcalm.devices.ble.source.StrapSource`.

    Attributes:
        ecg: The ECG stream the link subscribes to (its state and counters).
    """

    def __init__(self, target: str, **options: Any) -> None:
        self.ecg = PolarEcgStream()
        super().__init__(target, subscription=self.ecg, **options)
