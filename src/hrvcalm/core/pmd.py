"""Parser for Polar Measurement Data (PMD): the Polar H10's ECG and accelerometer streams.

The PMD service (``FB005C80-...``) has a control point (write + indicate) and a data
characteristic (notify). Layouts follow Polar's BLE SDK documentation (``polar-ble-sdk``,
``technical_documentation/Polar_Measurement_Data_Specification.pdf``) and DESIGN.md section 5::

    control point write    op (1 get settings, 2 start, 3 stop), measurement type, settings
                           settings: setting type, count, uint16 values (LE)
    control point reply    0xF0, op, measurement type, status (0 = success), more, params
    data notification      measurement type (0 ECG, 2 ACC), uint64 timestamp (ns, LE; the
                           last sample's time), frame type (bit 7: compressed), samples
    ECG frame type 0       3-byte signed samples, microvolts, 130 Hz: 73 in a 229-byte frame
    ACC frame type 1       3 x int16 (x, y, z) per sample, milli-g

Cases handled on purpose (each is a row in the tests): an empty or short frame, a reply that
does not start with 0xF0 or is cut short raise :class:`~hrvcalm.errors.MalformedPacketError`;
a non-zero reply status is data (``PmdControlResponse.ok`` is ``False``); unknown measurement
or frame types and compressed frames give a :class:`PmdFrame` with no samples and
``supported = False`` (callers count and skip them); bytes after the last whole sample are
ignored and counted in ``spare_bytes``. Sans-I/O: bytes in, frozen dataclasses out.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from hrvcalm.errors import MalformedPacketError

PMD_SERVICE_UUID = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
PMD_CONTROL_POINT_UUID = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
PMD_DATA_UUID = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"

#: ECG sample rate of the Polar H10, Hz.
ECG_SAMPLE_RATE_HZ = 130
#: Header bytes of a data frame: type (1) + timestamp (8) + frame type (1).
FRAME_HEADER_BYTES = 10
#: First byte of every control point reply.
CONTROL_REPLY = 0xF0
_COMPRESSED = 0x80


class MeasurementType(enum.IntEnum):
    """PMD measurement types."""

    ECG = 0
    PPG = 1
    ACC = 2


class ControlOp(enum.IntEnum):
    """Control point operations."""

    GET_SETTINGS = 1
    START = 2
    STOP = 3


@dataclass(frozen=True, slots=True)
class PmdControlResponse:
    """A reply on the PMD control point.

    Attributes:
        op: The operation replied to (1 settings, 2 start, 3 stop).
        measurement_type: The measurement type replied to.
        status: 0 on success; Polar error codes otherwise (e.g. 5 already in state).
        more: Whether more reply frames follow.
        params: Remaining bytes (settings for a GET_SETTINGS reply).
    """

    op: int
    measurement_type: int
    status: int
    more: bool
    params: bytes

    @property
    def ok(self) -> bool:
        """``True`` if the operation succeeded."""
        return self.status == 0


@dataclass(frozen=True, slots=True)
class PmdFrame:
    """One PMD data notification.

    Attributes:
        measurement_type: 0 ECG, 2 ACC, others unknown.
        timestamp_ns: The sensor's time of the last sample, ns.
        frame_type: Raw frame type byte (bit 7: compressed).
        samples: ECG in microvolts, or ACC (x, y, z) in milli-g; empty when unsupported.
        supported: ``False`` for unknown types and compressed frames (no samples decoded).
        spare_bytes: Bytes left after the last whole sample.
    """

    measurement_type: int
    timestamp_ns: int
    frame_type: int
    samples: tuple[int, ...] | tuple[tuple[int, int, int], ...]
    supported: bool = True
    spare_bytes: int = 0


def start_command(
    measurement: MeasurementType = MeasurementType.ECG,
    sample_rate_hz: int = ECG_SAMPLE_RATE_HZ,
    resolution_bits: int = 14,
    range_g: int | None = None,
) -> bytes:
    """The control point write that starts a stream (ECG: 130 Hz, 14 bit by default)."""
    out = bytearray([ControlOp.START, measurement])
    out += bytes([0x00, 0x01]) + sample_rate_hz.to_bytes(2, "little")
    out += bytes([0x01, 0x01]) + resolution_bits.to_bytes(2, "little")
    if range_g is not None:
        out += bytes([0x02, 0x01]) + range_g.to_bytes(2, "little")
    return bytes(out)


def stop_command(measurement: MeasurementType = MeasurementType.ECG) -> bytes:
    """The control point write that stops a stream."""
    return bytes([ControlOp.STOP, measurement])


def parse_control_response(data: bytes | bytearray | memoryview) -> PmdControlResponse:
    """Parse a control point reply.

    Raises:
        MalformedPacketError: Not a reply (first byte not 0xF0) or shorter than 4 bytes.
    """
    raw = bytes(data)
    if not raw or raw[0] != CONTROL_REPLY:
        first = f"0x{raw[0]:02x}" if raw else "nothing"
        raise MalformedPacketError(f"PMD control reply: starts with {first}, expected 0xf0")
    if len(raw) < 4:
        raise MalformedPacketError(f"PMD control reply: {len(raw)} byte(s), need at least 4")
    return PmdControlResponse(
        op=raw[1],
        measurement_type=raw[2],
        status=raw[3],
        more=len(raw) > 4 and raw[4] != 0,
        params=raw[5:],
    )


def parse_frame(data: bytes | bytearray | memoryview) -> PmdFrame:
    """Parse one PMD data notification.

    Raises:
        MalformedPacketError: Shorter than the 10-byte header.
    """
    raw = bytes(data)
    if len(raw) < FRAME_HEADER_BYTES:
        raise MalformedPacketError(
            f"PMD frame: {len(raw)} byte(s), shorter than the {FRAME_HEADER_BYTES}-byte header"
        )
    kind = raw[0]
    timestamp_ns = int.from_bytes(raw[1:9], "little")
    frame_type = raw[9]
    body = raw[FRAME_HEADER_BYTES:]
    if frame_type & _COMPRESSED:
        return PmdFrame(kind, timestamp_ns, frame_type, (), supported=False)
    if kind == MeasurementType.ECG and frame_type == 0:
        n = len(body) // 3
        ecg = tuple(
            int.from_bytes(body[3 * i : 3 * i + 3], "little", signed=True) for i in range(n)
        )
        return PmdFrame(kind, timestamp_ns, frame_type, ecg, spare_bytes=len(body) - 3 * n)
    if kind == MeasurementType.ACC and frame_type == 1:
        n = len(body) // 6
        acc = tuple(
            (
                int.from_bytes(body[6 * i : 6 * i + 2], "little", signed=True),
                int.from_bytes(body[6 * i + 2 : 6 * i + 4], "little", signed=True),
                int.from_bytes(body[6 * i + 4 : 6 * i + 6], "little", signed=True),
            )
            for i in range(n)
        )
        return PmdFrame(kind, timestamp_ns, frame_type, acc, spare_bytes=len(body) - 6 * n)
    return PmdFrame(kind, timestamp_ns, frame_type, (), supported=False)


def encode_ecg_frame(samples_uv: tuple[int, ...] | list[int], timestamp_ns: int) -> bytes:
    """Build an ECG data frame (type 0, frame type 0), as a Polar H10 sends it.

    Used by the virtual strap; values are clipped to the 24-bit signed range.
    """
    out = bytearray([MeasurementType.ECG]) + timestamp_ns.to_bytes(8, "little") + b"\x00"
    for value in samples_uv:
        clipped = max(-(1 << 23), min((1 << 23) - 1, int(value)))
        out += clipped.to_bytes(3, "little", signed=True)
    return bytes(out)


def control_reply(op: int, measurement_type: int, status: int = 0) -> bytes:
    """Build a control point reply (used by the virtual strap)."""
    return bytes([CONTROL_REPLY, op, measurement_type, status, 0])
