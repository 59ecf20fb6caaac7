"""Finding heart-rate straps: the Bluetooth stack to use, scanning, and which strap is meant.

A strap is named by the text after ``ble:`` (:class:`StrapTarget`): ``auto`` picks the strongest
strap advertising the Heart Rate Service (0x180D), an address connects to that strap (the
client scans for it itself), anything else is an advertised name (case-insensitive, a prefix
is enough: ``ble:polar h10``).

The Bluetooth stack is injectable, as bleak itself allows: :class:`BleBackend` carries the
``backend=`` classes and their extra arguments (``None``: the platform's, BlueZ on Linux).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bleak import BleakScanner
from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.exc import BleakError

from hrvcalm.errors import BluetoothUnavailableError, DeviceNotFoundError

HEART_RATE_SERVICE_UUID = "0000180d-0000-1000-8000-00805f9b34fb"

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

    def scanner_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``BleakScanner`` and its class methods."""
        kwargs = dict(self.kwargs)
        if self.scanner is not None:
            kwargs["backend"] = self.scanner
        return kwargs

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``BleakClient``."""
        kwargs = dict(self.kwargs)
        if self.client is not None:
            kwargs["backend"] = self.client
        return kwargs


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


def reason(exc: BaseException) -> str:
    """The first line of an exception's message (its type's name if it has none)."""
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


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
            **backend.scanner_kwargs(),
        )
    except (BleakError, OSError) as exc:
        raise BluetoothUnavailableError(reason(exc)) from None
    straps = [
        FoundStrap(adv.local_name or device.name, device.address, adv.rssi)
        for device, adv in found.values()
        if HEART_RATE_SERVICE_UUID in adv.service_uuids
    ]
    return sorted(straps, key=lambda s: -s.rssi_dbm)


async def find_strap(
    target: StrapTarget, backend: BleBackend, *, scan_timeout_s: float, auto_scan_s: float
) -> BLEDevice | str:
    """The device to connect to (a bare address: the client scans for it itself).

    Args:
        target: Which strap.
        backend: The Bluetooth stack.
        scan_timeout_s: How long to look for a strap by name, s.
        auto_scan_s: How long ``auto`` listens before picking the strongest strap, s.

    Raises:
        DeviceNotFoundError: No such strap is advertising.
    """
    if target.kind == "address":
        return target.value
    if target.kind == "name":
        wanted = target.value.casefold()

        def matches(device: BLEDevice, adv: AdvertisementData) -> bool:
            name = (adv.local_name or device.name or "").casefold()
            return name == wanted or name.startswith(wanted)

        device = await BleakScanner.find_device_by_filter(
            matches, timeout=scan_timeout_s, **backend.scanner_kwargs()
        )
        if device is None:
            raise DeviceNotFoundError(f"no {target.describe()} seen")
        return device
    straps = await scan_straps(auto_scan_s, backend)
    if not straps:
        raise DeviceNotFoundError("no heart-rate strap seen")
    return straps[0].address
