"""Tier-2 scenario, run inside the QEMU guest by scripts/bluez-vm/guest-init.sh.

The kernel's BlueZ stack (hci_vhci + bluetoothd) is the central; a bumble ``Controller`` on
the vhci transport is its radio, linked (LocalLink) to the virtual strap. Our production code
runs with bleak's default (BlueZ D-Bus) backend: scan, connect, notify, drop, reconnect. The
outcome is printed as one JSON object for ``test_bluez_vm.py`` to check on the host.
"""

from __future__ import annotations

# The slow imports come first: the kernel's HCI command timeout is 2 s once vhci is open.
import asyncio
import json
import subprocess
import sys
import time

import bleak  # noqa: F401
from bumble.controller import Controller
from bumble.hci import Address
from bumble.transport import open_transport

from hrvcalm.devices.ble import StrapSource, scan_straps
from hrvcalm.devices.virtual import VirtualAir, VirtualStrap
from hrvcalm.events import DeviceStatus, RRNotification
from tests.conftest import FIXTURES, load_rr_column

RECORDING = FIXTURES / "polar_h10_ibi_slowbreathing" / "sample_data_ibi.csv"
SPEED = 5.0
DROP_AT_S = 20.0
DROP_FOR_S = 10.0
UNTIL_S = 60.0


class BlueZRadio(Controller):
    """The controller BlueZ drives through vhci.

    bumble's LocalLink sends LE ACL data from the sender's *random* address, while BlueZ
    connects from its *public* one, so the strap would drop every packet ("no connection for
    ..."). This radio answers to its public address only (test harness, not product code).
    """

    @property  # type: ignore[override]
    def random_address(self) -> Address:
        return self.public_address

    @random_address.setter
    def random_address(self, address: object) -> None:
        pass


def _power_on() -> str:
    last = ""
    for _ in range(40):
        done = subprocess.run(
            ["bluetoothctl", "power", "on"], capture_output=True, text=True, timeout=10
        )
        last = (done.stdout + done.stderr).strip()
        if "succeeded" in last:
            return last
        time.sleep(0.5)
    return last


async def main() -> dict[str, object]:
    t0 = time.monotonic()
    result: dict[str, object] = {}
    air = VirtualAir()
    rr_ms = [float(v) for v in load_rr_column(RECORDING)]
    strap = VirtualStrap(air, rr_ms, speed=SPEED, drop_at_s=DROP_AT_S, drop_for_s=DROP_FOR_S)
    await strap.start()
    transport = await open_transport("vhci")
    BlueZRadio(
        "bluez-radio",
        host_source=transport.source,
        host_sink=transport.sink,
        link=air.link,
        public_address="F0:F1:F2:F3:F4:F5",
    )
    result["power_on"] = await asyncio.to_thread(_power_on)
    result["power_on_s"] = round(time.monotonic() - t0, 1)
    found = await scan_straps(5.0)
    result["scan"] = [[s.name, s.address, s.rssi_dbm] for s in found]
    source = StrapSource("auto", clock=strap.clock_s, backoff_s=(0.5, 1.0), scan_timeout_s=10)
    events: list[dict[str, object]] = []
    rr_1024: list[int] = []
    try:
        async with asyncio.timeout(120):
            async for event in source.events():
                if isinstance(event, DeviceStatus):
                    events.append({"state": event.state.value, "at_s": event.at_s})
                elif isinstance(event, RRNotification):
                    rr_1024.extend(round(v * 1.024) for v in event.rr_ms)
                if source.clock_s() > UNTIL_S:
                    break
    except Exception as exc:  # reported, the host-side test fails on it
        result["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        await source.aclose()
    result.update(
        events=events,
        rr_1024=rr_1024,
        expected_1024=[round(v * 1.024) for v in rr_ms],
        address=strap.address,
        reconnects=source.reconnects,
        malformed=source.malformed_packets,
        duplicates=source.duplicate_notifications,
        sent_by_strap=len(strap.sent),
        elapsed_s=round(time.monotonic() - t0, 1),
    )
    await strap.stop()
    await transport.close()
    return result


if __name__ == "__main__":
    outcome = asyncio.run(main())
    json.dump(outcome, sys.stdout)
    sys.stdout.write("\n")
