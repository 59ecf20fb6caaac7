"""One strap link for every strap source, composed with what to subscribe on each connection.

The heart-rate strap and the Polar ECG source are the same :class:`StrapLink` with different
subscriptions; a third, recording subscription shows what the link promises any of them
(prepare once, subscribe on every connection, release before a clean disconnect, events in
order with the link's). Runs over the emulated link (bumble), as a real strap would.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from bleak import BleakClient

from hrvcalm.core import pmd
from hrvcalm.devices import open_source
from hrvcalm.devices.base import SourceEvent
from hrvcalm.devices.ble import HeartRateSubscription, StrapLink, StrapSource
from hrvcalm.devices.polar import PolarEcgSource, PolarEcgStream
from hrvcalm.devices.virtual import (
    VirtualAir,
    VirtualPolarEcgSource,
    VirtualStrap,
    VirtualStrapSource,
    virtual_backend,
)
from hrvcalm.errors import DeviceError
from hrvcalm.events import DeviceState, DeviceStatus, RRNotification
from tests.conftest import FIXTURES

SLOW = FIXTURES / "polar_h10_ibi_slowbreathing" / "sample_data_ibi.csv"
STEADY = [1000.0] * 30


class RecordingSubscription:
    """Subscribes to nothing; records what the link asks of it and emits one beat a connection."""

    def __init__(self, fail_with: str | None = None) -> None:
        self.calls: list[str] = []
        self.fail_with = fail_with

    async def prepare(self) -> None:
        self.calls.append("prepare")

    async def subscribe(self, link: StrapLink, client: BleakClient) -> None:
        self.calls.append(f"subscribe {client.address}")
        if self.fail_with is not None:
            raise DeviceError(self.fail_with)
        link.emit(RRNotification(arrival_s=link.clock_s(), rr_ms=(1000.0,)))

    async def release(self, client: BleakClient) -> None:
        self.calls.append(f"release {client.address}")


@pytest.fixture
async def strap() -> AsyncIterator[VirtualStrap]:
    strap = VirtualStrap(VirtualAir(), STEADY, play=False, battery_pct=70)
    await strap.start()
    yield strap
    await strap.stop()


async def _until(events: AsyncIterator[SourceEvent], state: DeviceState) -> list[SourceEvent]:
    """Events up to and including the first status in ``state``."""
    seen: list[SourceEvent] = []
    async with asyncio.timeout(10):
        while True:
            event = await anext(events)
            seen.append(event)
            if isinstance(event, DeviceStatus) and event.state is state:
                return seen


async def test_both_strap_sources_are_the_one_link_with_a_different_subscription() -> None:
    strap = StrapSource("auto")
    polar = PolarEcgSource("auto")
    assert type(strap.link) is StrapLink and type(polar.link) is StrapLink
    assert isinstance(strap.subscription, HeartRateSubscription)
    assert isinstance(polar.subscription, PolarEcgStream)
    assert polar.subscription is polar.ecg and polar.link.subscription is polar.ecg
    # the Polar source adds a subscription, not behaviour: nothing of the link is overridden
    own = {k for k, v in vars(PolarEcgSource).items() if callable(v) or isinstance(v, property)}
    assert own == {"__init__"}
    virtual = open_source(f"ble-virtual:{SLOW},ecg=1", speed=4)
    assert isinstance(virtual, VirtualPolarEcgSource)
    assert type(virtual.link) is StrapLink and virtual.link.subscription is virtual.ecg


async def test_only_a_source_that_plays_back_has_a_speed() -> None:
    assert StrapSource("auto").speed == 1.0
    with pytest.raises(TypeError):
        StrapSource("auto", speed=4.0)  # type: ignore[call-arg]  # a real strap has no speed
    virtual = VirtualStrapSource(STEADY, spec="test", speed=4.0)
    assert virtual.speed == 4.0
    # what the replay changes for the link is explicit: one notification every 1/4 s
    assert virtual.link.notify_period_s == 0.25
    assert StrapSource("auto").link.notify_period_s == 1.0


async def test_the_link_prepares_once_and_subscribes_on_every_connection(
    strap: VirtualStrap,
) -> None:
    subscription = RecordingSubscription()
    source = StrapSource(
        strap.address,
        subscription=subscription,
        backend=virtual_backend(strap.air),
        backoff_s=(0.05,),
        scan_timeout_s=1.0,
    )
    events = source.events()
    first = await _until(events, DeviceState.CONNECTED)
    assert [e.state for e in first if isinstance(e, DeviceStatus)] == [
        DeviceState.CONNECTING,
        DeviceState.CONNECTED,
    ]
    connected = first[-1]
    assert isinstance(connected, DeviceStatus)
    assert connected.battery_pct == 70  # the link reads the battery, whatever the subscription
    beat = await asyncio.wait_for(anext(events), 5)  # the subscription's event, after the link's
    assert isinstance(beat, RRNotification)

    await strap.vanish()
    dropped = await _until(events, DeviceState.RECONNECTING)
    assert [e.state for e in dropped if isinstance(e, DeviceStatus)][-2:] == [
        DeviceState.LOST,
        DeviceState.RECONNECTING,
    ]
    await strap.appear()
    await _until(events, DeviceState.CONNECTED)
    again = await asyncio.wait_for(anext(events), 5)
    assert isinstance(again, RRNotification)
    assert source.reconnects == 1

    await strap.set_battery(69)
    changed = await asyncio.wait_for(anext(events), 5)
    assert isinstance(changed, DeviceStatus) and changed.battery_pct == 69

    await source.aclose()
    address = strap.address
    assert subscription.calls == [
        "prepare",
        f"subscribe {address}",
        f"subscribe {address}",
        f"release {address}",
    ]
    await source.aclose()  # twice: released once
    assert subscription.calls.count(f"release {address}") == 1


async def test_a_subscription_that_cannot_subscribe_fails_the_connection(
    strap: VirtualStrap,
) -> None:
    subscription = RecordingSubscription(fail_with="no such service")
    source = StrapSource(
        strap.address,
        subscription=subscription,
        backend=virtual_backend(strap.air),
        first_connect_s=0.5,
        backoff_s=(0.1,),
    )
    events = source.events()
    await anext(events)
    with pytest.raises(DeviceError, match=r"cannot connect to strap .*: no such service"):
        await anext(events)
    assert subscription.calls[0] == "prepare"
    assert subscription.calls.count(f"subscribe {strap.address}") >= 2  # retried
    assert not [c for c in subscription.calls if c.startswith("release")]
    assert not strap.device.connections  # each failed connection was closed


async def test_the_polar_source_gets_the_link_and_releases_the_ecg_through_it(
    strap: VirtualStrap,
) -> None:
    source = PolarEcgSource(strap.address, backend=virtual_backend(strap.air))
    events = source.events()
    await _until(events, DeviceState.CONNECTED)
    assert source.ecg.active and strap.ecg_streaming
    assert source.body_location == "chest"
    await strap.set_battery(55)
    changed = await asyncio.wait_for(anext(events), 5)
    assert isinstance(changed, DeviceStatus)
    assert (changed.state, changed.battery_pct) == (DeviceState.CONNECTED, 55)
    await source.aclose()
    assert not strap.ecg_streaming  # the stop command went out before the disconnection
    stop = pmd.parse_control_response(strap.pmd_replies[-1])
    assert (stop.op, stop.ok) == (pmd.ControlOp.STOP, True)
