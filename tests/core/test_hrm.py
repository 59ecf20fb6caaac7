"""Heart Rate Measurement (0x2A37) parser: every case of DESIGN.md section 5."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hrvcalm.core.hrm import HeartRateMeasurement, parse_heart_rate_measurement
from hrvcalm.errors import MalformedPacketError
from hrvcalm.events import Contact

U = Contact.UNSUPPORTED

# (name, packet, hr_bpm, contact, energy_kj, rr_1024, spare_bytes)
VALID = [
    ("uint8 hr only", b"\x00\x48", 72, U, None, (), 0),
    ("uint16 hr", b"\x01\x2c\x01", 300, U, None, (), 0),
    ("contact supported, detected", b"\x06\x48", 72, Contact.DETECTED, None, (), 0),
    ("contact supported, not detected", b"\x04\x48", 72, Contact.NOT_DETECTED, None, (), 0),
    ("contact bit without support bit", b"\x02\x48", 72, U, None, (), 0),
    ("energy present", b"\x08\x48\x10\x27", 72, U, 10000, (), 0),
    ("rr flag with no values", b"\x10\x48", 72, U, None, (), 0),
    ("one rr", b"\x10\x48\x00\x04", 72, U, None, (1024,), 0),
    ("two rr", b"\x10\x48\xff\x03\x01\x04", 72, U, None, (1023, 1025), 0),
    (
        "nine rr fill a 20-byte packet",
        b"\x10\x48" + struct.pack("<9H", *range(700, 709)),
        72,
        U,
        None,
        tuple(range(700, 709)),
        0,
    ),
    ("energy and rr", b"\x18\x48\x05\x00\x00\x04", 72, U, 5, (1024,), 0),
    ("uint16 hr, energy and rr", b"\x19\x48\x00\x05\x00\x00\x04", 72, U, 5, (1024,), 0),
    ("reserved bits set", b"\xf0\x48\x00\x04", 72, U, None, (1024,), 0),
    ("spare odd byte after rr", b"\x10\x48\x00\x04\x07", 72, U, None, (1024,), 1),
    ("rr of zero passed through", b"\x10\x48\x00\x00\x00\x04", 72, U, None, (0, 1024), 0),
    ("bytes after hr without rr flag", b"\x00\x48\x00", 72, U, None, (), 1),
    ("hr of zero (no contact yet)", b"\x16\x00", 0, Contact.DETECTED, None, (), 0),
]


@pytest.mark.parametrize(
    ("packet", "hr", "contact", "energy", "rr", "spare"),
    [case[1:] for case in VALID],
    ids=[case[0] for case in VALID],
)
def test_valid_packets(
    packet: bytes,
    hr: int,
    contact: Contact,
    energy: int | None,
    rr: tuple[int, ...],
    spare: int,
) -> None:
    m = parse_heart_rate_measurement(packet)
    assert (m.hr_bpm, m.contact, m.energy_kj, m.rr_1024, m.spare_bytes) == (
        hr,
        contact,
        energy,
        rr,
        spare,
    )


MALFORMED = [
    ("empty", b""),
    ("flags only, uint8 hr missing", b"\x10"),
    ("uint16 hr cut short", b"\x01\x48"),
    ("energy cut short", b"\x08\x48\x10"),
    ("energy missing entirely", b"\x18\x48"),
]


@pytest.mark.parametrize("packet", [c[1] for c in MALFORMED], ids=[c[0] for c in MALFORMED])
def test_malformed_packets_raise_our_error(packet: bytes) -> None:
    with pytest.raises(MalformedPacketError, match="heart rate measurement"):
        parse_heart_rate_measurement(packet)


def test_rr_converted_exactly_not_rounded() -> None:
    m = parse_heart_rate_measurement(b"\x10\x48\xff\x03\x01\x00")
    assert m.rr_ms == (1023 * 1000 / 1024, 1000 / 1024)
    assert m.rr_ms[0] == 999.0234375


@given(st.binary(max_size=40))
def test_any_bytes_parse_or_raise_our_error(packet: bytes) -> None:
    try:
        m = parse_heart_rate_measurement(packet)
    except MalformedPacketError:
        return
    assert isinstance(m, HeartRateMeasurement)
    assert m.spare_bytes in (0, 1) or not m.flags & 0x10


@given(
    hr=st.integers(0, 0xFFFF),
    energy=st.none() | st.integers(0, 0xFFFF),
    rr=st.lists(st.integers(0, 0xFFFF), max_size=9),
    contact=st.sampled_from([0x00, 0x04, 0x06]),
    reserved=st.integers(0, 7),
)
def test_round_trip_of_encoded_fields(
    hr: int, energy: int | None, rr: list[int], contact: int, reserved: int
) -> None:
    flags = contact | (reserved << 5) | 0x01 | 0x10
    body = struct.pack("<H", hr)
    if energy is not None:
        flags |= 0x08
        body += struct.pack("<H", energy)
    body += struct.pack(f"<{len(rr)}H", *rr)
    m = parse_heart_rate_measurement(bytes([flags]) + body)
    assert (m.hr_bpm, m.energy_kj, m.rr_1024, m.spare_bytes) == (hr, energy, tuple(rr), 0)
