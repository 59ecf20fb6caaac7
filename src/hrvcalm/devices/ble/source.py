"""A Bluetooth strap as a beat source: a strap link and what it subscribes to.

:class:`StrapSource` is the :class:`~hrvcalm.devices.base.Source` of a real strap: its events
are those of one :class:`~hrvcalm.devices.ble.link.StrapLink` (connection, reconnection,
battery, contact), subscribed on each connection to the Heart Rate Service by default, or to
whatever :class:`~hrvcalm.devices.ble.link.Subscription` it is given (the Polar ECG stream,
:class:`~hrvcalm.devices.polar.PolarEcgSource`). A live strap plays nothing back: its
:attr:`~hrvcalm.devices.base.Source.speed` is the base class's 1.0.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from bleak import BleakClient

from hrvcalm.devices.base import Source, SourceEvent
from hrvcalm.devices.ble.heart_rate import HeartRateSubscription
from hrvcalm.devices.ble.link import StrapLink, Subscription
from hrvcalm.devices.ble.scan import BleBackend


class StrapSource(Source):
    """Beats from a heart-rate strap, reconnecting on its own.

    Args:
        target: ``auto``, an address or a name (the text after ``ble:``).
        subscription: What to subscribe to on each connection (default: the Heart Rate
            Service).
        spec: The spec string to report.
        name: The name to show until the strap gives its own.
        backend: The Bluetooth stack (bleak's ``backend=`` seam).
        clock: Seconds on the source clock (default: monotonic time since the first event).
        scan_timeout_s: How long one scan or connect attempt may take, s.
        first_connect_s: How long to try before giving up on the first connection, s.
        backoff_s: Waits between reconnection attempts, s (the last one repeats).
        give_up_after_s: Stop reconnecting after this long without a link, s (``None``: never).
        auto_scan_s: How long ``auto`` listens before picking the strongest strap, s.
        notify_period_s: Wall-clock time between two notifications of the strap, s
            (:class:`~hrvcalm.devices.ble.link.StrapLink`).

    Attributes:
        link: The link to the strap (its counters and state are also read through here).
        subscription: What the link subscribes to.
    """

    def __init__(
        self,
        target: str,
        *,
        subscription: Subscription | None = None,
        spec: str | None = None,
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
        self.subscription = subscription or HeartRateSubscription()
        self.link = StrapLink(
            target,
            self.subscription,
            name=name,
            backend=backend,
            clock=clock,
            scan_timeout_s=scan_timeout_s,
            first_connect_s=first_connect_s,
            backoff_s=backoff_s,
            give_up_after_s=give_up_after_s,
            auto_scan_s=auto_scan_s,
            notify_period_s=notify_period_s,
        )
        self.spec = spec or f"ble:{target}"

    # -- Source interface -------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The strap's name (its advertised name once connected)."""
        return self.link.name

    @name.setter
    def name(self, name: str) -> None:
        self.link.name = name

    def events(self) -> AsyncIterator[SourceEvent]:
        return self.link.events()

    def clock_s(self) -> float:
        return self.link.clock_s()

    def finish(self) -> None:
        """End the event stream after the events already queued (the recording ran out)."""
        self.link.finish()

    async def aclose(self) -> None:
        """Disconnect cleanly; safe to call more than once."""
        await self.link.aclose()

    # -- what the link knows ----------------------------------------------------------------

    @property
    def address(self) -> str | None:
        """The strap's address (known once connected, unless it was the target)."""
        return self.link.address

    @property
    def client(self) -> BleakClient | None:
        """The current connection, ``None`` while there is none."""
        return self.link.client

    @property
    def body_location(self) -> str | None:
        """Where the strap says it is worn (0x2A38), e.g. ``chest``."""
        return self.link.body_location

    @property
    def battery_pct(self) -> int | None:
        """The strap's battery level, %."""
        return self.link.battery_pct

    @property
    def malformed_packets(self) -> int:
        """Notifications that could not be parsed (counted and skipped)."""
        return self.link.malformed_packets

    @property
    def duplicate_notifications(self) -> int:
        """Repeated copies of a notification that were dropped."""
        return self.link.duplicate_notifications

    @property
    def reconnects(self) -> int:
        """Number of times the link dropped and was re-established."""
        return self.link.reconnects

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.link.target.kind}={self.link.target.value!r})"
