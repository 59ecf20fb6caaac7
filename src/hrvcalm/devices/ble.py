"""A standard Bluetooth heart-rate strap over bleak, with automatic reconnection.

Any strap with the Heart Rate Service (0x180D) works: the source subscribes to the Heart Rate
Measurement (0x2A37), reads the body sensor location (0x2A38) and the battery level (0x2A19,
and follows its notifications), and turns every notification into an
:class:`~hrvcalm.events.RRNotification` stamped with its arrival time on the source clock (the
live pipeline reconstructs per-beat times from it, :mod:`hrvcalm.core.beatclock`).

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
5. :meth:`StrapSource.aclose` (Ctrl-C) disconnects cleanly; :meth:`StrapSource.finish` ends
   the event stream (a virtual strap's recording ran out).

The Bluetooth stack is injectable, as bleak itself allows: :class:`BleBackend` carries the
``backend=`` classes and their extra arguments (``None``: the platform's, BlueZ on Linux).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from bleak import BleakClient, BleakScanner
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.exc import BleakBluetoothNotAvailableError, BleakDeviceNotFoundError, BleakError

from hrvcalm.core.hrm import HEART_RATE_MEASUREMENT_UUID, parse_heart_rate_measurement
from hrvcalm.devices.base import Source, SourceEvent
from hrvcalm.errors import (
    BluetoothUnavailableError,
    DeviceError,
    DeviceLostError,
    DeviceNotFoundError,
    MalformedPacketError,
)
from hrvcalm.events import Contact, DeviceState, DeviceStatus, RRNotification

log = logging.getLogger(__name__)

HEART_RATE_SERVICE_UUID = "0000180d-0000-1000-8000-00805f9b34fb"
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

_ADDRESS = re.compile(r"^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f-]{36}$")


@dataclass(frozen=True, slots=True)
class BleBackend:
    """The Bluetooth stack to use: bleak's ``backend=`` seam.

    Attributes:
        scanner: A ``BaseBleakScanner`` subclass, ``None`` for the platform's.
        client: A ``BaseBleakClient`` subclass, ``None`` for the platform's.
        kwargs: Extra keyword arguments for both (e.g. ``air=`` for the virtual link).
    """

    scanner: type[BaseBleakScanner] | None = None
    client: type[BaseBleakClient] | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FoundStrap:
    """A heart-rate strap seen advertising."""

    name: str | None
    address: str
    rssi_dbm: int


@dataclass(frozen=True, slots=True)
class StrapTarget:
    """Which strap to use: ``auto`` (strongest), an address, or an advertised name."""

    kind: str
    value: str

    @classmethod
    def parse(cls, text: str) -> StrapTarget:
        """Parse the part of ``ble:...`` before any options."""
        text = text.strip()
        if not text or text.lower() == "auto":
            return cls("auto", "")
        if _ADDRESS.match(text):
            return cls("address", text.upper())
        return cls("name", text)

    def describe(self) -> str:
        """Words for messages: ``the strongest strap``, ``strap AA:..``, ``strap 'Polar'``."""
        if self.kind == "auto":
            return "any heart-rate strap"
        if self.kind == "address":
            return f"strap {self.value}"
        return f"strap named {self.value!r}"


def _scanner_kwargs(backend: BleBackend) -> dict[str, Any]:
    kwargs = dict(backend.kwargs)
    if backend.scanner is not None:
        kwargs["backend"] = backend.scanner
    return kwargs


async def scan_straps(timeout_s: float, backend: BleBackend | None = None) -> list[FoundStrap]:
    """Heart-rate straps advertising nearby, strongest signal first.

    Args:
        timeout_s: How long to listen, s.
        backend: The Bluetooth stack (platform default if ``None``).

    Raises:
        DeviceError: Bluetooth is not available on this machine.
    """
    backend = backend or BleBackend()
    try:
        found: dict[str, tuple[BLEDevice, AdvertisementData]] = await BleakScanner.discover(
            timeout=timeout_s,
            return_adv=True,
            service_uuids=[HEART_RATE_SERVICE_UUID],
            **_scanner_kwargs(backend),
        )
    except (BleakError, OSError) as exc:
        raise BluetoothUnavailableError(_reason(exc)) from None
    straps = [
        FoundStrap(adv.local_name or device.name, device.address, adv.rssi)
        for device, adv in found.values()
        if HEART_RATE_SERVICE_UUID in adv.service_uuids
    ]
    return sorted(straps, key=lambda s: -s.rssi_dbm)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


_DISCONNECTED = object()

#: Identical values of one characteristic closer than this are one notification, s.
DUPLICATE_WINDOW_S = 0.1

#: A notification handler as bleak calls it.
NotifyHandler = Callable[[BleakGATTCharacteristic, bytearray], None]


class StrapSource(Source):
    """Beats from a heart-rate strap, reconnecting on its own.

    Args:
        target: ``auto``, an address or a name (the text after ``ble:``).
        backend: The Bluetooth stack (bleak's ``backend=`` seam).
        clock: Seconds on the source clock (default: monotonic time since the first event).
        speed: Reported playback speed (1.0 for a real strap).
        scan_timeout_s: How long one scan or connect attempt may take, s.
        first_connect_s: How long to try before giving up on the first connection, s.
        backoff_s: Waits between reconnection attempts, s (the last one repeats).
        give_up_after_s: Stop reconnecting after this long without a link, s (``None``: never).
        auto_scan_s: How long ``auto`` listens before picking the strongest strap, s.
        spec: The spec string to report.
    """

    def __init__(
        self,
        target: str,
        *,
        backend: BleBackend | None = None,
        clock: Callable[[], float] | None = None,
        speed: float = 1.0,
        scan_timeout_s: float = 10.0,
        first_connect_s: float = 20.0,
        backoff_s: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0, 8.0),
        give_up_after_s: float | None = None,
        auto_scan_s: float = 3.0,
        spec: str | None = None,
    ) -> None:
        self.target = StrapTarget.parse(target)
        self.backend = backend or BleBackend()
        self.spec = spec or f"ble:{target}"
        self.name = self.target.value or "heart-rate strap"
        self.address: str | None = self.target.value if self.target.kind == "address" else None
        self.scan_timeout_s = scan_timeout_s
        self.first_connect_s = first_connect_s
        self.backoff_s = backoff_s or (1.0,)
        self.give_up_after_s = give_up_after_s
        self.auto_scan_s = auto_scan_s
        self._speed = speed
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

    # -- Source interface -------------------------------------------------------------------

    @property
    def speed(self) -> float:
        return self._speed

    def clock_s(self) -> float:
        if self._clock is not None:
            return self._clock()
        if self._t0 is None:
            return 0.0
        return time.monotonic() - self._t0

    def finish(self) -> None:
        """End the event stream after the events already queued (the recording ran out)."""
        self._finished.set()

    async def aclose(self) -> None:
        """Disconnect cleanly; safe to call more than once."""
        self._closed = True
        self._finished.set()
        client, self.client = self.client, None
        self._active = None
        if client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.disconnect(), 5.0)

    def _status(self, state: DeviceState) -> DeviceStatus:
        return DeviceStatus(
            state, self.name, self.battery_pct, contact=self.contact, at_s=self.clock_s()
        )

    async def events(self) -> AsyncIterator[SourceEvent]:
        if self._t0 is None:
            self._t0 = time.monotonic()
        yield self._status(DeviceState.CONNECTING)
        await self._connect_first()
        yield self._status(DeviceState.CONNECTED)
        while True:
            item = await self._next_item()
            if item is None:
                return
            if item is _DISCONNECTED:
                if self._closed or self._finished.is_set():
                    return
                lost_at = self.clock_s()
                yield self._status(DeviceState.LOST)
                async for status in self._reconnect(lost_at):
                    yield status
                if self.client is None:
                    return
                self.reconnects += 1
                yield self._status(DeviceState.CONNECTED)
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
            f"cannot connect to {self.target.describe()}: {_reason(last_error or Exception())}"
        )

    async def _reconnect(self, lost_at: float) -> AsyncIterator[DeviceStatus]:
        attempt = 0
        lost_wall = time.monotonic()
        while not (self._closed or self._finished.is_set()):
            yield self._status(DeviceState.RECONNECTING)
            try:
                await self._connect_once()
                return
            except (BleakError, TimeoutError, DeviceError, OSError) as exc:
                log.info("reconnect attempt %d failed: %s", attempt + 1, _reason(exc))
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

    async def _find(self) -> BLEDevice | str:
        """The device to connect to (a bare address: the client scans for it itself)."""
        if self.address is not None:
            return self.address
        kwargs = _scanner_kwargs(self.backend)
        if self.target.kind == "name":
            wanted = self.target.value.casefold()

            def matches(device: BLEDevice, adv: AdvertisementData) -> bool:
                name = (adv.local_name or device.name or "").casefold()
                return name == wanted or name.startswith(wanted)

            device = await BleakScanner.find_device_by_filter(
                matches, timeout=self.scan_timeout_s, **kwargs
            )
            if device is None:
                raise DeviceNotFoundError(f"no {self.target.describe()} seen")
            return device
        straps = await scan_straps(self.auto_scan_s, self.backend)
        if not straps:
            raise DeviceNotFoundError("no heart-rate strap seen")
        return straps[0].address

    async def _connect_once(self) -> None:
        target = await self._find()
        kwargs = dict(self.backend.kwargs)
        if self.backend.client is not None:
            kwargs["backend"] = self.backend.client
        client = BleakClient(
            target,
            disconnected_callback=self._on_disconnect,
            timeout=self.scan_timeout_s,
            **kwargs,
        )
        try:
            await client.connect()
        except (BleakBluetoothNotAvailableError, FileNotFoundError, ConnectionRefusedError) as exc:
            raise BluetoothUnavailableError(_reason(exc)) from None
        self._active = client
        try:
            await self._setup(client)
        except BaseException:
            self._active = None
            with contextlib.suppress(Exception):
                await client.disconnect()
            raise
        self.client = client
        self.address = client.address
        with contextlib.suppress(Exception):
            self.name = client.name or self.name

    async def _setup(self, client: BleakClient) -> None:
        services = client.services
        if services.get_characteristic(HEART_RATE_MEASUREMENT_UUID) is None:
            raise DeviceError(f"{client.address} has no heart-rate measurement (0x2A37)")
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
        await client.start_notify(
            HEART_RATE_MEASUREMENT_UUID, self.bound(client, self._on_measurement)
        )

    def bound(self, client: BleakClient, callback: NotifyHandler) -> NotifyHandler:
        """``callback``, only while ``client`` is the current connection, without duplicates.

        After a reconnection, BlueZ delivers every notification twice (seen in the tier-2
        guest; probably the previous connection's notify session, restored next to the new
        one). A value identical to the previous one of the same characteristic that arrives
        within ``DUPLICATE_WINDOW_S`` is such a copy (a strap notifies about once a second,
        a PMD frame carries a new timestamp): it is counted in ``duplicate_notifications``
        and dropped. Notifications still reaching an old client are dropped too.
        """
        last: list[tuple[bytes, float]] = []
        # A replayed virtual strap notifies ``speed`` times a second: two genuine notifications
        # that happen to carry the same bytes must not be taken for a copy.
        window_s = min(DUPLICATE_WINDOW_S, 0.5 / self._speed)

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
            self.malformed_packets += 1
            return
        level = int(data[0])
        if level != self.battery_pct:
            self.battery_pct = level
            self._queue.put_nowait(self._status(DeviceState.CONNECTED))

    def _on_measurement(self, _sender: BleakGATTCharacteristic, data: bytearray) -> None:
        arrival_s = self.clock_s()
        try:
            measurement = parse_heart_rate_measurement(data)
        except MalformedPacketError as exc:
            self.malformed_packets += 1
            log.debug("skipped a malformed notification: %s", exc)
            return
        if measurement.contact is not self.contact:
            self.contact = measurement.contact
            self._queue.put_nowait(self._status(DeviceState.CONNECTED))
        self._queue.put_nowait(
            RRNotification(
                arrival_s=arrival_s,
                rr_ms=measurement.rr_ms,
                hr_bpm=measurement.hr_bpm,
                contact=measurement.contact,
            )
        )

    def __repr__(self) -> str:
        return f"StrapSource({self.target.kind}={self.target.value!r}, speed={self.speed:g})"
