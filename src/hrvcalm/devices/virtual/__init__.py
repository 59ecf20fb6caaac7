"""A virtual strap on an emulated Bluetooth link (bumble), driven through bleak.

``ble-virtual:PATH[,drop_at=S,drop_for=S,ecg=1]`` (DESIGN.md section 4) builds a
:class:`VirtualStrapSource`: a :class:`~hrvcalm.devices.virtual.strap.VirtualStrap` replaying
PATH on a :class:`~hrvcalm.devices.virtual.air.VirtualAir`, and the very same
:class:`~hrvcalm.devices.ble.source.StrapSource` a real strap uses (the same link and
subscriptions), with bleak's ``backend=`` pointed at :mod:`hrvcalm.devices.virtual.backend`.
What only a replay has stays here: the playback speed, the strap's clock (recording time) and
its notification period (``NOTIFY_PERIOD_S / speed`` of wall-clock time), given to the link
as plain parameters. bumble is imported only when this package is.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

from hrvcalm.devices.base import SourceEvent
from hrvcalm.devices.ble import BleBackend, StrapSource, Subscription
from hrvcalm.devices.polar import PolarEcgStream
from hrvcalm.devices.virtual.air import VirtualAir
from hrvcalm.devices.virtual.backend import BumbleClient, BumbleScanner
from hrvcalm.devices.virtual.strap import NOTIFY_PERIOD_S, VirtualStrap

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
        subscription: What the link subscribes to (default: the Heart Rate Service).
        air: The emulated radio (a fresh one if ``None``).
        strap_name: The advertised name.
        backoff_s: Waits between reconnection attempts, wall-clock s.
        scan_timeout_s: How long one scan or connect attempt may take, wall-clock s.
        first_connect_s: How long to try the first connection, wall-clock s.
        auto_scan_s: How long ``auto`` listens for straps, wall-clock s.
        give_up_after_s: Stop reconnecting after this long, wall-clock s (``None``: never).
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
        subscription: Subscription | None = None,
        air: VirtualAir | None = None,
        strap_name: str = "Polar H10 V1RTU4L",
        backoff_s: tuple[float, ...] = (0.2, 0.5, 1.0, 2.0),
        scan_timeout_s: float = 5.0,
        first_connect_s: float = 10.0,
        auto_scan_s: float = 0.3,
        give_up_after_s: float | None = None,
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
            subscription=subscription,
            spec=spec,
            name=strap_name,
            backend=virtual_backend(self.air),
            clock=self.strap.clock_s,
            backoff_s=backoff_s,
            scan_timeout_s=scan_timeout_s,
            first_connect_s=first_connect_s,
            give_up_after_s=give_up_after_s,
            auto_scan_s=auto_scan_s,
            notify_period_s=NOTIFY_PERIOD_S / speed,
        )

    @property
    def speed(self) -> float:
        """The virtual strap's playback speed."""
        return self.strap.playback.speed

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

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.strap.name!r}, speed={self.speed:g})"


class VirtualPolarEcgSource(VirtualStrapSource):
    """A :class:`~hrvcalm.devices.polar.PolarEcgSource` on a virtual strap (``ecg=1``).

    The virtual strap's ECG is synthetic, with an R peak at the end of every recorded beat.

    Args:
        rr_ms: The recording's RR intervals, ms.
        **options: As for :class:`VirtualStrapSource`.

    Attributes:
        ecg: The ECG stream the link subscribes to (its state and counters).
    """

    def __init__(self, rr_ms: Sequence[float], **options: Any) -> None:
        self.ecg = PolarEcgStream()
        super().__init__(rr_ms, subscription=self.ecg, **options)
