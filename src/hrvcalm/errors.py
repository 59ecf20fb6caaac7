"""The exceptions hrvcalm raises, in one documented hierarchy.

::

    HrvcalmError                  anything hrvcalm raises on purpose
    +-- DataError                 the data is wrong (our side is fine)
    |   +-- MalformedPacketError  a Bluetooth notification that cannot be parsed
    |   +-- RecordingError        a recording file that cannot be read (names file and line)
    +-- DeviceError               the strap or link is wrong (the data may be fine)
    |   +-- DeviceNotFoundError   no strap answered
    |   +-- DeviceLostError       the link dropped and could not be brought back
    |   +-- BluetoothUnavailableError  no adapter or no BlueZ/D-Bus on this machine
    +-- StoreError                the session database cannot be opened or written
    +-- UsageError                the user asked for something that does not exist

Like h11's LocalProtocolError / RemoteProtocolError, data-side and device-side errors are
distinct so callers can count-and-skip the first and reconnect on the second. Poor signal
quality is not an exception: it is data in the output (``quality``, ``artifact``).
"""

from __future__ import annotations

from pathlib import Path


class HrvcalmError(Exception):
    """Base class of every error hrvcalm raises on purpose."""


class DataError(HrvcalmError):
    """The input data is malformed."""


class MalformedPacketError(DataError):
    """A Bluetooth notification (0x2A37, PMD) that cannot be parsed."""


class RecordingError(DataError):
    """A recording file that cannot be read.

    Args:
        path: The file.
        message: What is wrong, in words a user understands.
        line: 1-based line number where the problem is, if the format has lines.
    """

    def __init__(self, path: Path | str, message: str, line: int | None = None) -> None:
        self.path = Path(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line is not None else f"{self.path}"
        super().__init__(f"{where}: {message}")


class DeviceError(HrvcalmError):
    """The strap or the Bluetooth link failed."""


class DeviceNotFoundError(DeviceError):
    """No strap matching the request answered."""


class DeviceLostError(DeviceError):
    """The link dropped and could not be re-established."""


class StoreError(HrvcalmError):
    """The session database cannot be opened, is not ours, or cannot be written to."""


class BluetoothUnavailableError(DeviceError):
    """This machine has no usable Bluetooth (no adapter, no BlueZ / D-Bus): retrying is futile."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"Bluetooth is not available ({reason}); is there an adapter, and are "
            "bluetoothd and D-Bus running? Without a strap, try --source ble-virtual:PATH"
        )


class UsageError(HrvcalmError):
    """The user asked for something that does not exist (bad source spec, bad option)."""
