"""The link to a Bluetooth strap over bleak: connect, reconnect on its own, report its state.

One :class:`StrapLink` serves every strap source. It finds the strap
(:mod:`hrvcalm.devices.ble.scan`), connects, reads the battery level (0x2A19, and follows its
notifications) and the body sensor location (0x2A38), guards every notification handler
(:meth:`StrapLink.bound`), and turns the link's life into
:class:`~hrvcalm.events.DeviceStatus` events. What it subscribes to on each connection is a
:class:`Subscription`: the Heart Rate Service
(:class:`~hrvcalm.devices.ble.heart_rate.HeartRateSubscription`), or that and the Polar ECG
stream (:class:`~hrvcalm.devices.polar.PolarEcgStream`); a subscription hands its events to
the link (:meth:`StrapLink.emit`), which yields them in order with its own.

Link state rules (each :class:`~hrvcalm.events.DeviceStatus` carries ``at_s`` on the source
clock, so a store can record the gap):

1. ``connecting`` once, then ``connected`` when notifications are on. If the first connection
   cannot be made within ``first_connect_s``, :class:`~hrvcalm.errors.DeviceNotFoundError`
   (nothing answered) ends the source with a one-line reason.
2. When the link drops (bleak's ``disconnected_callback``): ``lost``, then ``reconnecting``
   before every attempt, with backoff between attempts (``backoff_s``, the last value
   repeated), then ``connected`` again. The session goes on meanwhile; a strap away for
   minutes is retried for as long as the source lives (or ``give_up_after_s``, then
   :class:`~hrvcalm.errors.DeviceLostError`).
3. Battery changes and contact on/off changes are ``connected`` statuses with the new value.
4. A notification that cannot be parsed is counted in ``malformed_packets`` and skipped; a
   repeated copy of one (BlueZ after a reconnection) in ``duplicate_notifications``.
5. :meth:`StrapLink.aclose` (Ctrl-C) lets the subscription stop what it started on the strap,
   then disconnects cleanly; :meth:`StrapLink.finish` ends the event stream (a virtual
   strap's recording ran out).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Protocol

from bleak import BleakClient
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.device import BLEDevice
from bleak.exc import BleakBluetoothNotAvailableError, BleakDeviceNotFoundError, BleakError

from hrvcalm.devices.base import SourceEvent
from hrvcalm.devices.ble.scan import BleBackend, StrapTarget, find_strap, reason
from hrvcalm.errors import (
    BluetoothUnavailableError,
    DeviceError,
    DeviceLostError,
    DeviceNotFoundError,
)
from hrvcalm.events import Contact, DeviceState, DeviceStatus, RRNotification

log = logging.getLogger(__name__)

BODY_SENSOR_LOCATION_UUID = "00002a38-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL_UUID = "00002a19-0000-1000-8000-00805f9b34fb"

#: Body sensor location values (Heart Rate Service 1.0, section 3.2).
BODY_LOCATIONS = {
    0: "other",
    1: "chest",
    2: "wrist",
    3: "finger",
    4: "hand",
    5: "ear lobe",
    6: "foot",
}

#: Identical values of one characteristic closer than this are one notification, s.
DUPLICATE_WINDOW_S = 0.1

#: A notification handler as bleak calls it.
NotifyHandler = Callable[[BleakGATTCharacteristic, bytearray], None]

_DISCONNECTED = object()


class Subscription(Protocol):
    """What a :class:`StrapLink` subscribes to on each connection."""

    async def prepare(self) -> None:
        """Get ready before the first connection (slow imports), once."""
        ...

    async def subscribe(self, link: StrapLink, client: BleakClient) -> None:
        """Start the notifications on a new connection, before it counts as connected.

        Handlers are registered through ``link.bound(client, handler)`` and hand their events
        to ``link.emit``.

        Raises:
            DeviceError: The strap lacks what this subscription needs.
        """
        ...

    async def release(self, client: BleakClient) -> None:
        """Stop what was started on the strap, before a clean disconnect."""
        ...


class StrapLink:
    """The link to one strap, reconnecting on its own (see the module's rules).

    Args:
        target: ``auto``, an address or a name (the text after ``ble:``).
        subscription: What to subscribe to on each connection.
        name: The name to show until the strap gives its own (default: the target).
        backend: The Bluetooth stack (bleak's ``backend=`` seam).
        clock: Seconds on the source clock (default: monotonic time since the first event).
        scan_timeout_s: How long one scan or connect attempt may take, s.
        first_connect_s: How long to try before giving up on the first connection, s.
        backoff_s: Waits between reconnection attempts, s (the last one repeats).
        give_up_after_s: Stop reconnecting after this long without a link, s (``None``: never).
        auto_scan_s: How long ``auto`` listens before picking the strongest strap, s.
        notify_period_s: Wall-clock time between two notifications of the strap, s (about
            1 s for a real strap; less for a virtual strap replaying faster). Identical values
            of one characteristic closer than ``min(DUPLICATE_WINDOW_S, notify_period_s / 2)``
            are one notification (:meth:`bound`).
    """

    def __init__(
        self,
        target: str,
        subscription: Subscription,
        *,
        name: str | None = None,
        backend: BleBackend | None = None,
        clock: Callable[[], float] | None = None,
        scan_timeout_s: float = 10.0,
        first_connect_s: float = 20.0,
        backoff_s: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0, 8.0),
        give_up_after_s: float | None = None,
        auto_scan_s: float = 3.0,
        notify_period_s: float = 1.0,
    ) -> None:
        if not notify_period_s >= 0:
            raise ValueError(f"notify_period_s must be 0 or more, got {notify_period_s}")
        self.target = StrapTarget.parse(target)
        self.subscription = subscription
        self.backend = backend or BleBackend()
        self.name = name or self.target.value or "heart-rate strap"
        self.address: str | None = self.target.value if self.target.kind == "address" else None
        self.scan_timeout_s = scan_timeout_s
        self.first_connect_s = first_connect_s
        self.backoff_s = backoff_s or (1.0,)
        self.give_up_after_s = give_up_after_s
        self.auto_scan_s = auto_scan_s
        self.notify_period_s = notify_period_s
        self._clock = clock
        self._t0: float | None = None
        self.body_location: str | None = None
        self.battery_pct: int | None = None
        self.contact = Contact.UNSUPPORTED
        #: Notifications that could not be parsed (counted and skipped).
        self.malformed_packets = 0
        #: Repeated copies of a notification that were dropped (see :meth:`bound`).
        self.duplicate_notifications = 0
        #: Number of times the link dropped and was re-established.
        self.reconnects = 0
        self.client: BleakClient | None = None
        self._active: BleakClient | None = None  # the connection being set up or in use
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._finished = asyncio.Event()
        self._closed = False

    # -- the event stream -------------------------------------------------------------------

    def clock_s(self) -> float:
        """Seconds on the source clock."""
        if self._clock is not None:
            return self._clock()
        if self._t0 is None:
            return 0.0
        return time.monotonic() - self._t0

    def emit(self, event: SourceEvent) -> None:
        """Queue an event of the subscription for :meth:`events` (in order with the link's)."""
        self._queue.put_nowait(event)

    def set_contact(self, contact: Contact) -> None:
        """Record the skin contact the strap reports; a change is a ``connected`` status."""
        if contact is not self.contact:
            self.contact = contact
            self.emit(self.status(DeviceState.CONNECTED))

    def count_malformed(self) -> None:
        """Count a notification that could not be parsed (it is skipped)."""
        self.malformed_packets += 1

    def status(self, state: DeviceState) -> DeviceStatus:
        """A status event of the link in ``state``, now."""
        return DeviceStatus(
            state, self.name, self.battery_pct, contact=self.contact, at_s=self.clock_s()
        )

    def finish(self) -> None:
        """End the event stream after the events already queued (the recording ran out)."""
        self._finished.set()

    async def aclose(self) -> None:
        """Stop the subscription's streams and disconnect cleanly; safe to call more than once."""
        client = self.client
        if client is not None:
            with contextlib.suppress(Exception):
                await self.subscription.release(client)
        self._closed = True
        self._finished.set()
        client, self.client = self.client, None
        self._active = None
        if client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.disconnect(), 5.0)

    async def events(self) -> AsyncIterator[SourceEvent]:
        """The link's statuses and the subscription's events, until finished or closed."""
        if self._t0 is None:
            self._t0 = time.monotonic()
        yield self.status(DeviceState.CONNECTING)
        await self.subscription.prepare()
        await self._connect_first()
        yield self.status(DeviceState.CONNECTED)
        while True:
            item = await self._next_item()
            if item is None:
                return
            if item is _DISCONNECTED:
                if self._closed or self._finished.is_set():
                    return
                lost_at = self.clock_s()
                yield self.status(DeviceState.LOST)
                async for status in self._reconnect(lost_at):
                    yield status
                if self.client is None:
                    return
                self.reconnects += 1
                yield self.status(DeviceState.CONNECTED)
            elif isinstance(item, RRNotification | DeviceStatus):
                yield item

    async def _next_item(self) -> object | None:
        """The next queued item, or ``None`` once finished and drained."""
        while True:
            if not self._queue.empty():
                return self._queue.get_nowait()
            if self._finished.is_set():
                return None
            getter = asyncio.ensure_future(self._queue.get())
            done_waiter = asyncio.ensure_future(self._finished.wait())
            done, _ = await asyncio.wait({getter, done_waiter}, return_when=asyncio.FIRST_COMPLETED)
            done_waiter.cancel()
            if getter in done:
                return getter.result()
            getter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await getter

    # -- connecting -------------------------------------------------------------------------

    async def _connect_first(self) -> None:
        deadline = time.monotonic() + self.first_connect_s
        last_error: BaseException | None = None
        attempt = 0
        while True:
            try:
                await self._connect_once()
                return
            except BluetoothUnavailableError:
                raise
            except (BleakError, TimeoutError, DeviceError, OSError) as exc:
                last_error = exc
            wait = self.backoff_s[min(attempt, len(self.backoff_s) - 1)]
            attempt += 1
            if self._closed or time.monotonic() + wait >= deadline:
                break
            await asyncio.sleep(wait)
        if isinstance(last_error, DeviceNotFoundError | BleakDeviceNotFoundError):
            raise DeviceNotFoundError(
                f"no {self.target.describe()} answered within {self.first_connect_s:g} s; "
                "is it worn (moistened electrodes) and not connected to another app?"
            )
        if isinstance(last_error, TimeoutError):
            raise DeviceNotFoundError(
                f"{self.target.describe()} was seen but connecting timed out "
                f"(tried for {self.first_connect_s:g} s)"
            )
        raise DeviceError(
            f"cannot connect to {self.target.describe()}: {reason(last_error or Exception())}"
        )

    async def _reconnect(self, lost_at: float) -> AsyncIterator[DeviceStatus]:
        attempt = 0
        lost_wall = time.monotonic()
        while not (self._closed or self._finished.is_set()):
            yield self.status(DeviceState.RECONNECTING)
            try:
                await self._connect_once()
                return
            except (BleakError, TimeoutError, DeviceError, OSError) as exc:
                log.info("reconnect attempt %d failed: %s", attempt + 1, reason(exc))
            if (
                self.give_up_after_s is not None
                and time.monotonic() - lost_wall > self.give_up_after_s
            ):
                raise DeviceLostError(
                    f"{self.name} lost at {lost_at:.1f} s and not back after "
                    f"{self.give_up_after_s:g} s"
                )
            wait = self.backoff_s[min(attempt, len(self.backoff_s) - 1)]
            attempt += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._finished.wait(), wait)

    async def _connect_once(self) -> None:
        target: BLEDevice | str
        if self.address is not None:  # once connected, the strap is known by its address
            target = self.address
        else:
            target = await find_strap(
                self.target,
                self.backend,
                scan_timeout_s=self.scan_timeout_s,
                auto_scan_s=self.auto_scan_s,
            )
        client = BleakClient(
            target,
            disconnected_callback=self._on_disconnect,
            timeout=self.scan_timeout_s,
            **self.backend.client_kwargs(),
        )
        try:
            await client.connect()
        except (BleakBluetoothNotAvailableError, FileNotFoundError, ConnectionRefusedError) as exc:
            raise BluetoothUnavailableError(reason(exc)) from None
        self._active = client
        try:
            await self._read_device_information(client)
            await self.subscription.subscribe(self, client)
        except BaseException:
            self._active = None
            with contextlib.suppress(Exception):
                await client.disconnect()
            raise
        self.client = client
        self.address = client.address
        with contextlib.suppress(Exception):
            self.name = client.name or self.name

    async def _read_device_information(self, client: BleakClient) -> None:
        """Body sensor location, and the battery level with its notifications."""
        services = client.services
        if services.get_characteristic(BODY_SENSOR_LOCATION_UUID) is not None:
            with contextlib.suppress(BleakError):
                raw = await client.read_gatt_char(BODY_SENSOR_LOCATION_UUID)
                if raw:
                    self.body_location = BODY_LOCATIONS.get(raw[0], f"code {raw[0]}")
        battery = services.get_characteristic(BATTERY_LEVEL_UUID)
        if battery is not None:
            with contextlib.suppress(BleakError):
                raw = await client.read_gatt_char(battery)
                if raw:
                    self.battery_pct = int(raw[0])
            if "notify" in battery.properties:
                with contextlib.suppress(BleakError):
                    await client.start_notify(battery, self.bound(client, self._on_battery))

    def bound(self, client: BleakClient, callback: NotifyHandler) -> NotifyHandler:
        """``callback``, only while ``client`` is the current connection, without duplicates.

        After a reconnection, BlueZ delivers every notification twice (seen in the tier-2
        guest; probably the previous connection's notify session, restored next to the new
        one). A value identical to the previous one of the same characteristic that arrives
        within ``DUPLICATE_WINDOW_S`` is such a copy (a strap notifies about once a second, a
        PMD frame carries a new timestamp): it is counted in ``duplicate_notifications`` and
        dropped. The window is at most half of ``notify_period_s``, so that two genuine
        notifications of a virtual strap replaying faster that happen to carry the same bytes
        are not taken for a copy. Notifications still reaching an old client are dropped too.
        """
        last: list[tuple[bytes, float]] = []
        window_s = min(DUPLICATE_WINDOW_S, self.notify_period_s / 2)

        def guarded(sender: BleakGATTCharacteristic, data: bytearray) -> None:
            if client is not self._active:
                return
            now = time.monotonic()
            value = bytes(data)
            if last and last[0][0] == value and now - last[0][1] < window_s:
                self.duplicate_notifications += 1
                return
            last[:] = [(value, now)]
            callback(sender, data)

        return guarded

    # -- callbacks (run on the event loop) ----------------------------------------------------

    def _on_disconnect(self, client: BleakClient) -> None:
        if client is self._active:
            self._active = None
        if self.client is client or self.client is None:
            self.client = None
            self._queue.put_nowait(_DISCONNECTED)

    def _on_battery(self, _sender: BleakGATTCharacteristic, data: bytearray) -> None:
        if not data:
            self.count_malformed()
            return
        level = int(data[0])
        if level != self.battery_pct:
            self.battery_pct = level
            self.emit(self.status(DeviceState.CONNECTED))

    def __repr__(self) -> str:
        return f"StrapLink({self.target.kind}={self.target.value!r})"
