"""A bleak backend over bumble: bleak's public API driving the emulated radio.

bleak 3.x picks a platform backend, but ``BleakScanner(backend=...)`` and ``BleakClient(...,
backend=...)`` accept any :class:`~bleak.backends.scanner.BaseBleakScanner` /
:class:`~bleak.backends.client.BaseBleakClient` subclass (``bleak/__init__.py``). These two
classes let the production strap code (:mod:`hrvcalm.devices.ble`) run unchanged against a
virtual strap: pass ``backend=BumbleClient`` / ``BumbleScanner`` and ``air=VirtualAir``.

Where the app depends on it, the behaviour mirrors bleak's BlueZ backend (DESIGN.md
section 6): connecting by address scans first and raises
:class:`~bleak.exc.BleakDeviceNotFoundError`; a connect that does not complete within
``timeout`` raises :class:`TimeoutError`; ``disconnected_callback`` fires on every drop; ATT
error responses become :class:`~bleak.exc.BleakGATTProtocolError`; MTU 247 is requested so a
229-byte Polar PMD ECG frame fits in one notification.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from bleak import BleakScanner
from bleak.args import SizedBuffer
from bleak.assigned_numbers import CharacteristicPropertyName
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, AdvertisementDataCallback, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError, BleakGATTProtocolError
from bleak.uuids import normalize_uuid_str
from bumble import att, core, hci
from bumble.core import AdvertisingData
from bumble.device import Advertisement, Connection, Peer
from bumble.gatt_client import CharacteristicProxy, DescriptorProxy

from hrvcalm.devices.virtual.air import VirtualAir

#: The ATT MTU requested after connecting (a PMD ECG frame is 229 bytes + 3 of header).
REQUESTED_MTU = 247

_UUID_LIST_TYPES = (
    AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
)

_PROPERTY_NAMES: tuple[tuple[int, CharacteristicPropertyName], ...] = (
    (0x01, "broadcast"),
    (0x02, "read"),
    (0x04, "write-without-response"),
    (0x08, "write"),
    (0x10, "notify"),
    (0x20, "indicate"),
    (0x40, "authenticated-signed-writes"),
    (0x80, "extended-properties"),
)


def _uuid_str(uuid: core.UUID) -> str:
    return normalize_uuid_str(uuid.to_hex_str("-"))


def _air_from(kwargs: dict[str, Any]) -> VirtualAir:
    air = kwargs.get("air")
    if not isinstance(air, VirtualAir):
        raise BleakError("the bumble backend needs air=VirtualAir(...)")
    return air


def advertisement_fields(adv: Advertisement) -> tuple[str | None, list[str]]:
    """The local name and service UUIDs (bleak's 128-bit strings) of an advertisement."""
    name: str | None = None
    for ad_type in (AdvertisingData.COMPLETE_LOCAL_NAME, AdvertisingData.SHORTENED_LOCAL_NAME):
        text = adv.data.get(ad_type)
        if isinstance(text, str):
            name = text
            break
    uuids: list[str] = []
    for ad_type in _UUID_LIST_TYPES:
        value = adv.data.get(ad_type)
        if isinstance(value, list):
            uuids.extend(_uuid_str(u) for u in value if isinstance(u, core.UUID))
    return name, uuids


class BumbleScanner(BaseBleakScanner):
    """Scans the :class:`VirtualAir` given as ``air=`` for advertisements."""

    def __init__(
        self,
        detection_callback: AdvertisementDataCallback | None,
        service_uuids: list[str] | None,
        scanning_mode: str = "active",
        **kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self._air = _air_from(kwargs)
        self._scanning = False

    async def start(self) -> None:
        self.seen_devices = {}
        central = await self._air.central()
        central.on(central.EVENT_ADVERTISEMENT, self._on_advertisement)
        self._air.scanners += 1
        if not central.is_scanning:
            await central.start_scanning(filter_duplicates=False)
        self._scanning = True

    async def stop(self) -> None:
        if not self._scanning:
            return
        self._scanning = False
        central = await self._air.central()
        central.remove_listener(central.EVENT_ADVERTISEMENT, self._on_advertisement)
        self._air.scanners -= 1
        if self._air.scanners == 0 and central.is_scanning:
            await central.stop_scanning()

    def _on_advertisement(self, adv: Advertisement) -> None:
        name, uuids = advertisement_fields(adv)
        if not self.is_allowed_uuid(uuids):
            return
        address = str(adv.address).removesuffix("/P")
        rssi = self._air.rssi_for(address, int(adv.rssi))
        data = AdvertisementData(
            local_name=name,
            manufacturer_data={},
            service_data={},
            service_uuids=uuids,
            tx_power=None,
            rssi=rssi,
            platform_data=(adv,),
        )
        device = self.create_or_update_device(address, address, name, adv.address, data)
        self.call_detection_callbacks(device, data)


class BumbleClient(BaseBleakClient):
    """A GATT client on the :class:`VirtualAir` given as ``air=``."""

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        disconnected_callback: Callable[[], None] | None,
        timeout: float,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout
        )
        self._air = _air_from(kwargs)
        self._name = (
            address_or_ble_device.name if isinstance(address_or_ble_device, BLEDevice) else None
        )
        self._found = isinstance(address_or_ble_device, BLEDevice)
        self._connection: Connection | None = None
        self._peer: Peer | None = None
        self._mtu = 23
        self._subscriptions: dict[int, Callable[[bytes], None]] = {}

    # -- connection ----------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._name or self.address.replace(":", "-")

    @property
    def mtu_size(self) -> int:
        return self._mtu

    @property
    def is_connected(self) -> bool:
        return self._connection is not None

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        if self._connection is not None:
            return
        timeout = float(kwargs.get("timeout", self._timeout))
        if not self._found:
            # As BlueZ does: a bare address must be seen advertising before connecting.
            scanner_kwargs: dict[str, Any] = {"backend": BumbleScanner, "air": self._air}
            device = await BleakScanner.find_device_by_address(
                self.address, timeout=timeout, **scanner_kwargs
            )
            if device is None:
                raise BleakDeviceNotFoundError(
                    self.address, f"Device with address {self.address} was not found."
                )
            self._name = device.name
        central = await self._air.central()
        try:
            connection = await asyncio.wait_for(
                central.connect(
                    hci.Address(self.address),
                    own_address_type=hci.OwnAddressType.RANDOM,
                    timeout=None,
                ),
                timeout,
            )
        except TimeoutError:
            self._air.cancel_pending_connection(central)
            raise TimeoutError(f"connecting to {self.address} timed out") from None
        except core.ConnectionError as exc:
            raise BleakError(f"connecting to {self.address} failed: {exc}") from exc
        connection.on(connection.EVENT_DISCONNECTION, self._on_disconnection)
        self._connection = connection
        try:
            async with asyncio.timeout(timeout):
                peer = Peer(connection)
                self._mtu = await peer.request_mtu(REQUESTED_MTU)
                await peer.discover_services()
                self.services = await self._collect(peer)
                self._peer = peer
        except TimeoutError:
            await self._drop_quietly(connection)
            raise TimeoutError(f"service discovery on {self.address} timed out") from None
        except att.ATT_Error as exc:
            await self._drop_quietly(connection)
            raise BleakGATTProtocolError(exc.error_code) from exc

    async def _drop_quietly(self, connection: Connection) -> None:
        connection.remove_listener(connection.EVENT_DISCONNECTION, self._on_disconnection)
        self._connection = None
        with contextlib.suppress(Exception):
            await connection.disconnect()

    async def _collect(self, peer: Peer) -> BleakGATTServiceCollection:
        collection = BleakGATTServiceCollection()
        for service in peer.services:
            bleak_service = BleakGATTService(service, service.handle, _uuid_str(service.uuid))
            collection.add_service(bleak_service)
            for char in await service.discover_characteristics():
                props = [name for bit, name in _PROPERTY_NAMES if int(char.properties) & bit]
                bleak_char = BleakGATTCharacteristic(
                    char,
                    char.handle,
                    _uuid_str(char.uuid),
                    props,
                    lambda: self._mtu - 3,
                    bleak_service,
                )
                collection.add_characteristic(bleak_char)
                for desc in await char.discover_descriptors():
                    collection.add_descriptor(
                        BleakGATTDescriptor(desc, desc.handle, _uuid_str(desc.type), bleak_char)
                    )
        return collection

    def _on_disconnection(self, reason: int) -> None:
        self._connection = None
        self._peer = None
        self._subscriptions.clear()
        if self._disconnected_callback is not None:
            self._disconnected_callback()

    async def disconnect(self) -> None:
        connection = self._connection
        if connection is None:
            return
        with contextlib.suppress(core.BaseBumbleError, hci.HCI_Error):
            await connection.disconnect()

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("the virtual strap does not pair")

    async def unpair(self) -> None:
        raise NotImplementedError("the virtual strap does not pair")

    # -- I/O -------------------------------------------------------------------------------

    def _require_connection(self) -> None:
        if self._connection is None:
            raise BleakError("Not connected")

    async def read_gatt_char(
        self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        self._require_connection()
        proxy: CharacteristicProxy[bytes] = characteristic.obj
        try:
            return bytearray(await proxy.read_value())
        except att.ATT_Error as exc:
            raise BleakGATTProtocolError(exc.error_code) from exc

    async def read_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        self._require_connection()
        proxy: DescriptorProxy = descriptor.obj
        try:
            return bytearray(await proxy.read_value())
        except att.ATT_Error as exc:
            raise BleakGATTProtocolError(exc.error_code) from exc

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: SizedBuffer, response: bool
    ) -> None:
        self._require_connection()
        proxy: CharacteristicProxy[bytes] = characteristic.obj
        try:
            await proxy.write_value(bytes(data), with_response=response)
        except att.ATT_Error as exc:
            raise BleakGATTProtocolError(exc.error_code) from exc

    async def write_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, data: SizedBuffer
    ) -> None:
        self._require_connection()
        proxy: DescriptorProxy = descriptor.obj
        try:
            await proxy.write_value(bytes(data), with_response=True)
        except att.ATT_Error as exc:
            raise BleakGATTProtocolError(exc.error_code) from exc

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any
    ) -> None:
        self._require_connection()
        proxy: CharacteristicProxy[bytes] = characteristic.obj

        def subscriber(value: bytes) -> None:
            callback(bytearray(value))

        try:
            await proxy.subscribe(subscriber, prefer_notify=True)
        except att.ATT_Error as exc:
            raise BleakGATTProtocolError(exc.error_code) from exc
        self._subscriptions[characteristic.handle] = subscriber

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        self._require_connection()
        proxy: CharacteristicProxy[bytes] = characteristic.obj
        subscriber = self._subscriptions.pop(characteristic.handle, None)
        try:
            await proxy.unsubscribe(subscriber)
        except att.ATT_Error as exc:
            raise BleakGATTProtocolError(exc.error_code) from exc
