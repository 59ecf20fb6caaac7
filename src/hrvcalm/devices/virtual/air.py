"""The emulated radio: bumble controllers on one :class:`bumble.link.LocalLink`.

Every virtual device (the strap, and the central the bleak backend drives) is a bumble
:class:`~bumble.device.Device` with its own :class:`~bumble.host.Host` and
:class:`~bumble.controller.Controller`, all on the same link, so that advertising, connection,
ATT and notifications travel through a real Bluetooth host stack (DESIGN.md section 6). Own
addresses stay random (the default): a public own address makes LocalLink drop the data.

RSSI on a LocalLink is a constant -50 dBm; :attr:`VirtualAir.rssi_dbm` lets a test place straps
nearer or further so that ``ble:auto`` has a strongest strap to pick.
"""

from __future__ import annotations

import asyncio
import itertools

from bumble import hci
from bumble.controller import Controller
from bumble.device import Device
from bumble.host import Host
from bumble.link import LocalLink

_counter = itertools.count(1)


class VirtualAir:
    """One emulated radio space shared by virtual straps and the central (our app).

    Attributes:
        link: The bumble link every controller sits on.
        rssi_dbm: Signal strength reported for an address (upper-case), default -50 dBm.
    """

    def __init__(self) -> None:
        self.link = LocalLink()  # type: ignore[no-untyped-call]  # bumble leaves it untyped
        self.rssi_dbm: dict[str, int] = {}
        self._central: Device | None = None
        self._controllers: dict[Device, Controller] = {}
        self._central_lock = asyncio.Lock()
        #: Scanners currently listening (the central scans while there is one).
        self.scanners = 0

    def new_device(self, name: str, address: str | None = None) -> Device:
        """A bumble device on this link (not powered on yet).

        Args:
            name: Device (and controller) name.
            address: Random static address ``XX:XX:...``; a fresh one if ``None``.
        """
        if address is None:
            n = next(_counter)
            address = f"C0:DE:00:00:{(n >> 8) & 0xFF:02X}:{n & 0xFF:02X}"
        controller = Controller(name, link=self.link)
        host = Host()
        host.controller = controller
        device = Device(name=name, address=hci.Address(address), host=host)
        self._controllers[device] = controller
        return device

    async def central(self) -> Device:
        """The powered-on central device the bleak backend uses (created on first use)."""
        async with self._central_lock:
            if self._central is None:
                device = self.new_device("hrvcalm-central")
                await device.power_on()
                self._central = device
            return self._central

    def cancel_pending_connection(self, device: Device) -> None:
        """Complete an LE Create Connection Cancel in ``device``'s controller.

        bumble's emulated controller acknowledges the cancel but keeps the request pending
        (a real controller ends it with a Connection Complete event), which would refuse every
        later connection attempt with COMMAND_DISALLOWED; clear it here instead.
        """
        controller = self._controllers.get(device)
        if controller is not None:
            controller.pending_le_connection = None

    def rssi_for(self, address: str, default: int) -> int:
        """The RSSI to report for ``address`` (a test's placement, else ``default``)."""
        return self.rssi_dbm.get(address.upper(), default)
