"""``hrvcalm scan``: heart-rate straps advertising nearby (name, address, signal strength)."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from hrvcalm.commands import positive_number


def register(sub: Any) -> None:
    p = sub.add_parser("scan", help="list heart-rate straps nearby")
    p.add_argument(
        "--timeout", type=positive_number, default=5.0, help="seconds to listen (default 5)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object a strap")
    p.add_argument(
        "--virtual",
        metavar="PATH",
        help="scan an emulated link with a virtual strap replaying PATH (no hardware needed)",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    straps = asyncio.run(_scan(args.timeout, args.virtual))
    if args.json:
        for strap in straps:
            print(
                json.dumps(
                    {"name": strap.name, "address": strap.address, "rssi_dbm": strap.rssi_dbm}
                )
            )
        return 0
    if not straps:
        print("no heart-rate strap found (is it worn, with moistened electrodes?)")
        return 0
    print(f"{'NAME':<24} {'ADDRESS':<20} RSSI")
    for strap in straps:
        print(f"{strap.name or '?':<24} {strap.address:<20} {strap.rssi_dbm} dBm")
    return 0


async def _scan(timeout_s: float, virtual: str | None) -> list[Any]:
    from hrvcalm.devices.ble import scan_straps

    if virtual is None:
        return await scan_straps(timeout_s)
    from hrvcalm.devices.virtual import VirtualAir, VirtualStrap, virtual_backend
    from hrvcalm.recordings import read_recording

    air = VirtualAir()
    strap = VirtualStrap(air, [float(v) for v in read_recording(virtual).rr_ms])
    await strap.start()
    try:
        return await scan_straps(timeout_s, virtual_backend(air))
    finally:
        await strap.stop()
