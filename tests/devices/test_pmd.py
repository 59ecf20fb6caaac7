"""Polar PMD frames, table-driven: every case of DESIGN.md section 5 (sans-I/O, no loop).

Expected values are written out by hand from the frame layout in Polar's BLE SDK
documentation, not produced by our encoder.
"""

from __future__ import annotations

import pytest

from hrvcalm.core import pmd
from hrvcalm.errors import MalformedPacketError

TS = (1_000_000_123).to_bytes(8, "little")
ECG_HEADER = b"\x00" + TS + b"\x00"


def test_ecg_frame_of_73_samples_is_229_bytes() -> None:
    body = b"".join(v.to_bytes(3, "little", signed=True) for v in range(-36, 37))
    frame = pmd.parse_frame(ECG_HEADER + body)
    assert len(ECG_HEADER + body) == 229
    assert frame.measurement_type == 0
    assert frame.timestamp_ns == 1_000_000_123
    assert frame.samples == tuple(range(-36, 37))
    assert frame.supported and frame.spare_bytes == 0


FRAME_CASES = [
    # label, bytes, samples, supported, spare bytes
    ("one positive sample", ECG_HEADER + b"\x10\x00\x00", (16,), True, 0),
    ("negative 24-bit", ECG_HEADER + b"\xff\xff\xff\x00\x00\x80", (-1, -(1 << 23)), True, 0),
    ("largest 24-bit", ECG_HEADER + b"\xff\xff\x7f", ((1 << 23) - 1,), True, 0),
    ("header only", ECG_HEADER, (), True, 0),
    ("partial sample", ECG_HEADER + b"\x01\x00\x00\x02\x00", (1,), True, 2),
    ("compressed ECG", b"\x00" + TS + b"\x80" + b"\x01\x02\x03", (), False, 0),
    ("unknown frame type", b"\x00" + TS + b"\x05" + b"\x01\x02\x03", (), False, 0),
    ("unknown measurement", b"\x09" + TS + b"\x00" + b"\x01\x02\x03", (), False, 0),
    ("ppg not decoded", b"\x01" + TS + b"\x00" + b"\x01\x02\x03", (), False, 0),
    (
        "acc 16-bit",
        b"\x02" + TS + b"\x01" + b"\x01\x00\xff\xff\xe8\x03" + b"\x00",
        ((1, -1, 1000),),
        True,
        1,
    ),
    ("compressed acc", b"\x02" + TS + b"\x81" + b"\x00" * 12, (), False, 0),
]


@pytest.mark.parametrize(("label", "data", "samples", "supported", "spare"), FRAME_CASES)
def test_frames(
    label: str, data: bytes, samples: tuple[object, ...], supported: bool, spare: int
) -> None:
    frame = pmd.parse_frame(data)
    assert frame.samples == samples, label
    assert frame.supported is supported, label
    assert frame.spare_bytes == spare, label


@pytest.mark.parametrize("data", [b"", b"\x00", ECG_HEADER[:9]])
def test_short_frames_are_malformed(data: bytes) -> None:
    with pytest.raises(MalformedPacketError, match="PMD frame"):
        pmd.parse_frame(data)


REPLY_CASES = [
    # label, bytes, op, type, status, ok, more, params
    ("start ok", b"\xf0\x02\x00\x00\x00", 2, 0, 0, True, False, b""),
    ("already started", b"\xf0\x02\x00\x06\x00", 2, 0, 6, False, False, b""),
    ("stop ok, no more byte", b"\xf0\x03\x00\x00", 3, 0, 0, True, False, b""),
    (
        "settings with params",
        b"\xf0\x01\x00\x00\x00\x00\x01\x82\x00",
        1,
        0,
        0,
        True,
        False,
        b"\x00\x01\x82\x00",
    ),
    ("more frames follow", b"\xf0\x01\x02\x00\x01\x00", 1, 2, 0, True, True, b"\x00"),
]


@pytest.mark.parametrize(
    ("label", "data", "op", "kind", "status", "ok", "more", "params"), REPLY_CASES
)
def test_control_replies(
    label: str, data: bytes, op: int, kind: int, status: int, ok: bool, more: bool, params: bytes
) -> None:
    reply = pmd.parse_control_response(data)
    assert (reply.op, reply.measurement_type, reply.status) == (op, kind, status), label
    assert (reply.ok, reply.more, reply.params) == (ok, more, params), label


@pytest.mark.parametrize("data", [b"", b"\x02\x00\x00\x00", b"\x0f\x05", b"\xf0\x02\x00"])
def test_malformed_replies(data: bytes) -> None:
    with pytest.raises(MalformedPacketError, match="PMD control reply"):
        pmd.parse_control_response(data)


def test_commands() -> None:
    # ECG at 130 Hz, 14-bit: the request Polar's SDK sends (sample rate 0x0082, resolution 0x000E).
    assert pmd.start_command() == bytes.fromhex("02 00 00 01 82 00 01 01 0e 00")
    assert pmd.stop_command() == b"\x03\x00"
