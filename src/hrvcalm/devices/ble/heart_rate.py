"""The Heart Rate Service subscription: what a standard strap's link subscribes to.

Any strap with the Heart Rate Service (0x180D) works: on each connection the subscription
checks for the Heart Rate Measurement (0x2A37), subscribes to it, and turns every
notification into an :class:`~hrvcalm.events.RRNotification` stamped with its arrival time on
the source clock (the live pipeline reconstructs per-beat times from it,
:mod:`hrvcalm.core.beatclock`). A notification that cannot be parsed is counted by the link
(``malformed_packets``) and skipped; a change of skin contact becomes a ``connected`` status
before the notification that reported it.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from bleak import BleakClient
from bleak.backends.characteristic import BleakGATTCharacteristic

from hrvcalm.core.hrm import HEART_RATE_MEASUREMENT_UUID, parse_heart_rate_measurement
from hrvcalm.devices.ble.link import StrapLink
from hrvcalm.errors import DeviceError, MalformedPacketError
from hrvcalm.events import RRNotification

log = logging.getLogger(__name__)

#: Where a strap's own RR go: a function of the link and the notification.
RRSink = Callable[[StrapLink, RRNotification], None]


class HeartRateSubscription:
    """Subscribes to the Heart Rate Measurement (0x2A37) on each connection.

    A :class:`~hrvcalm.devices.ble.link.Subscription` for :class:`StrapLink`.

    Args:
        on_rr: Where each notification goes (default: the link's event stream). The Polar ECG
            stream takes them for its cross-check while the ECG runs.
    """

    def __init__(self, on_rr: RRSink | None = None) -> None:
        self._on_rr = on_rr

    async def prepare(self) -> None:
        """Nothing to prepare."""

    async def subscribe(self, link: StrapLink, client: BleakClient) -> None:
        """Start the 0x2A37 notifications of a new connection.

        Raises:
            DeviceError: The strap has no Heart Rate Measurement.
        """
        if client.services.get_characteristic(HEART_RATE_MEASUREMENT_UUID) is None:
            raise DeviceError(f"{client.address} has no heart-rate measurement (0x2A37)")
        handler = functools.partial(self._on_measurement, link)
        await client.start_notify(HEART_RATE_MEASUREMENT_UUID, link.bound(client, handler))

    async def release(self, client: BleakClient) -> None:
        """Nothing to stop: the notifications end with the connection."""

    def _on_measurement(
        self, link: StrapLink, _sender: BleakGATTCharacteristic, data: bytearray
    ) -> None:
        arrival_s = link.clock_s()
        try:
            measurement = parse_heart_rate_measurement(data)
        except MalformedPacketError as exc:
            link.count_malformed()
            log.debug("skipped a malformed notification: %s", exc)
            return
        link.set_contact(measurement.contact)
        notification = RRNotification(
            arrival_s=arrival_s,
            rr_ms=measurement.rr_ms,
            hr_bpm=measurement.hr_bpm,
            contact=measurement.contact,
        )
        if self._on_rr is None:
            link.emit(notification)
        else:
            self._on_rr(link, notification)
