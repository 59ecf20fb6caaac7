"""Bluetooth heart-rate straps over bleak, one concern a module.

- :mod:`~hrvcalm.devices.ble.scan`: which strap (``auto``, address, name), scanning, the
  Bluetooth stack to use (:class:`BleBackend`, bleak's ``backend=`` seam).
- :mod:`~hrvcalm.devices.ble.link`: the link to one strap: connect, reconnect with backoff,
  battery, notification guard, status events (its rules are at the top of that module), and
  the :class:`Subscription` protocol for what to subscribe to on each connection.
- :mod:`~hrvcalm.devices.ble.heart_rate`: the Heart Rate Service subscription (0x2A37).
- :mod:`~hrvcalm.devices.ble.source`: :class:`StrapSource`, a link and its subscription as a
  beat source.

The Polar H10 ECG stream, another subscription, is :mod:`hrvcalm.devices.polar`.
"""

from hrvcalm.devices.ble.heart_rate import HeartRateSubscription
from hrvcalm.devices.ble.link import StrapLink, Subscription
from hrvcalm.devices.ble.scan import BleBackend, FoundStrap, StrapTarget, scan_straps
from hrvcalm.devices.ble.source import StrapSource

__all__ = [
    "BleBackend",
    "FoundStrap",
    "HeartRateSubscription",
    "StrapLink",
    "StrapSource",
    "StrapTarget",
    "Subscription",
    "scan_straps",
]
