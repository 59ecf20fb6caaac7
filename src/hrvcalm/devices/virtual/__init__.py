"""A virtual strap on an emulated Bluetooth link (bumble), driven through bleak.

``ble-virtual:PATH[,drop_at=S,drop_for=S]`` (DESIGN.md section 4) builds a
:class:`VirtualStrapSource`: a :class:`~hrvcalm.devices.virtual.strap.VirtualStrap` replaying
PATH on a :class:`~hrvcalm.devices.virtual.air.VirtualAir`, and the very same
:class:`~hrvcalm.devices.ble.StrapSource` a real strap uses, with bleak's ``backend=`` pointed
at :mod:`hrvcalm.devices.virtual.backend`. bumble is imported only when this package is.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence

from hrvcalm.devices.base import SourceEvent
from hrvcalm.devices.ble import BleBackend, StrapSource
from hrvcalm.devices.polar import PolarEcgSource
from hrvcalm.devices.virtual.air import VirtualAir
from hrvcalm.devices.virtual.backend import BumbleClient, BumbleScanner
from hrvcalm.devices.virtual.strap import VirtualStrap

__all__ = [
    "BumbleClient",
    "BumbleScanner",
    "VirtualAir",
    "VirtualPolarEcgSource",
    "VirtualStrap",
    "VirtualStrapSource",
    "virtual_backend",
]


def virtual_backend(air: VirtualAir) -> BleBackend:
    """bleak's ``backend=`` seam pointed at the emulated link ``air``."""
    return BleBackend(scanner=BumbleScanner, client=BumbleClient, kwargs={"air": air})


class VirtualStrapSource(StrapSource):
    """A :class:`StrapSource` connected to a virtual strap replaying ``rr_ms``.

    The source clock is the strap's recording time (so ``--speed`` scales it), and the event
    stream ends shortly after the strap has sent its last notification.

    Args:
        rr_ms: The recording's RR intervals, ms.
        spec: The spec string to report.
        speed: Playback speed.
        drop_at_s: Recording time at which the strap vanishes (``None``: never).
        drop_for_s: How long it stays away, s of recording time.
        target: How to find it: ``auto`` (strongest strap, the default), its address or name.
        air: The emulated radio (a fresh one if ``None``).
        strap_name: The advertised name.
        backoff_s: Waits between reconnection attempts, wall-clock s.
        scan_timeout_s: How long one scan or connect attempt may take, wall-clock s.
        first_connect_s: How long to try the first connection, wall-clock s.
        auto_scan_s: How long ``auto`` listens for straps, wall-clock s.
    """

    def __init__(
        self,
        rr_ms: Sequence[float],
        *,
        spec: str,
        speed: float = 1.0,
        drop_at_s: float | None = None,
        drop_for_s: float = 10.0,
        target: str = "auto",
        air: VirtualAir | None = None,
        strap_name: str = "Polar H10 V1RTU4L",
        backoff_s: tuple[float, ...] = (0.2, 0.5, 1.0, 2.0),
        scan_timeout_s: float = 5.0,
        first_connect_s: float = 10.0,
        auto_scan_s: float = 0.3,
    ) -> None:
        self.air = air or VirtualAir()
        self.strap = VirtualStrap(
            self.air,
            rr_ms,
            name=strap_name,
            speed=speed,
            drop_at_s=drop_at_s,
            drop_for_s=drop_for_s,
        )
        super().__init__(
            target,
            backend=virtual_backend(self.air),
            clock=self.strap.clock_s,
            speed=speed,
            backoff_s=backoff_s,
            scan_timeout_s=scan_timeout_s,
            first_connect_s=first_connect_s,
            auto_scan_s=auto_scan_s,
            spec=spec,
        )
        self.name = strap_name

    async def events(self) -> AsyncIterator[SourceEvent]:
        await self.strap.start()
        watcher = asyncio.create_task(self._finish_with_strap())
        try:
            async for event in super().events():
                yield event
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    async def _finish_with_strap(self) -> None:
        await self.strap.finished.wait()
        self.finish()

    async def aclose(self) -> None:
        await super().aclose()
        await self.strap.stop()


class VirtualPolarEcgSource(VirtualStrapSource, PolarEcgSource):
    """A :class:`~hrvcalm.devices.polar.PolarEcgSource` on a virtual strap (``ecg=1``).

    The virtual strap's ECG is synthetic, with an R peak at the end of every recorded beat.
    """
