"""Parser for the Bluetooth Heart Rate Measurement characteristic (0x2A37).

Layout (Bluetooth SIG Heart Rate Service 1.0, section 3.1)::

    byte 0      flags
                  bit 0    heart-rate value format: 0 = uint8, 1 = uint16
                  bit 1    sensor contact detected (meaningful only if bit 2 is set)
                  bit 2    sensor contact feature supported
                  bit 3    energy expended present (uint16, kJ)
                  bit 4    RR intervals present (uint16 each, 1/1024 s)
                  bits 5-7 reserved (ignored)
    then        heart rate (uint8 or uint16, bpm)
    then        energy expended (uint16, kJ), if bit 3
    then        RR intervals, as many uint16 as fit, oldest first, if bit 4

All fields are little-endian. Cases handled on purpose (each is a row in the tests): a packet
with only the flags byte or with a truncated heart-rate or energy field raises
:class:`~hrvcalm.errors.MalformedPacketError`; the RR flag with no values gives no intervals;
1 to 9 intervals; energy present in some frames only; reserved bits set; a spare odd byte at
the end (ignored, counted in ``spare_bytes``); an RR of 0 is passed through as it came
(callers skip it as a bad interval, see :class:`~hrvcalm.core.beatclock.BeatClock`).
RR values are kept exactly in their 1/1024 s units; ``rr_ms`` converts without rounding.
"""

from __future__ import annotations

from dataclasses import dataclass

from hrvcalm.errors import MalformedPacketError
from hrvcalm.events import Contact

HEART_RATE_MEASUREMENT_UUID = "00002a37-0000-1000-8000-00805f9b34fb"

_FLAG_HR_UINT16 = 0x01
_FLAG_CONTACT_DETECTED = 0x02
_FLAG_CONTACT_SUPPORTED = 0x04
_FLAG_ENERGY_PRESENT = 0x08
_FLAG_RR_PRESENT = 0x10

#: RR intervals are transmitted in units of 1/1024 s.
RR_UNITS_PER_S = 1024


@dataclass(frozen=True, slots=True)
class HeartRateMeasurement:
    """One parsed 0x2A37 notification.

    Attributes:
        hr_bpm: Heart rate as the strap computed it, beats per minute.
        contact: Skin contact, if the strap reports it.
        energy_kj: Cumulative energy expended in kJ, if this frame carries it.
        rr_1024: RR intervals in the strap's units of 1/1024 s, oldest first.
        spare_bytes: Bytes left over after the last whole field (0 or 1 in valid packets).
        flags: The raw flags byte.
    """

    hr_bpm: int
    contact: Contact
    energy_kj: int | None
    rr_1024: tuple[int, ...]
    spare_bytes: int = 0
    flags: int = 0

    @property
    def rr_ms(self) -> tuple[float, ...]:
        """RR intervals in milliseconds (exact: value * 1000 / 1024)."""
        return tuple(value * 1000.0 / RR_UNITS_PER_S for value in self.rr_1024)


def _contact_from_flags(flags: int) -> Contact:
    if not flags & _FLAG_CONTACT_SUPPORTED:
        return Contact.UNSUPPORTED
    if flags & _FLAG_CONTACT_DETECTED:
        return Contact.DETECTED
    return Contact.NOT_DETECTED


def parse_heart_rate_measurement(data: bytes | bytearray | memoryview) -> HeartRateMeasurement:
    """Parse one Heart Rate Measurement notification.

    Args:
        data: The characteristic value as received.

    Returns:
        The parsed measurement.

    Raises:
        MalformedPacketError: The packet is empty or a mandatory field is cut short.
    """
    raw = bytes(data)
    if not raw:
        raise MalformedPacketError("heart rate measurement: empty packet")
    flags = raw[0]
    pos = 1
    hr_size = 2 if flags & _FLAG_HR_UINT16 else 1
    if len(raw) < pos + hr_size:
        raise MalformedPacketError(
            f"heart rate measurement: {len(raw)} byte(s), flags 0x{flags:02x} need a "
            f"{8 * hr_size}-bit heart rate value"
        )
    hr_bpm = int.from_bytes(raw[pos : pos + hr_size], "little")
    pos += hr_size

    energy_kj: int | None = None
    if flags & _FLAG_ENERGY_PRESENT:
        if len(raw) < pos + 2:
            raise MalformedPacketError(
                f"heart rate measurement: energy flag set but only {len(raw) - pos} byte(s) left"
            )
        energy_kj = int.from_bytes(raw[pos : pos + 2], "little")
        pos += 2

    rr: tuple[int, ...] = ()
    if flags & _FLAG_RR_PRESENT:
        count = (len(raw) - pos) // 2
        rr = tuple(
            int.from_bytes(raw[pos + 2 * i : pos + 2 * i + 2], "little") for i in range(count)
        )
        pos += 2 * count

    return HeartRateMeasurement(
        hr_bpm=hr_bpm,
        contact=_contact_from_flags(flags),
        energy_kj=energy_kj,
        rr_1024=rr,
        spare_bytes=len(raw) - pos,
        flags=flags,
    )
