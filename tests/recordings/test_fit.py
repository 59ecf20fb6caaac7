"""Garmin FIT reader on a fixture written by garmin-fit-sdk's Encoder, and broken variants."""

from __future__ import annotations

import datetime
from pathlib import Path

import numpy as np

from hrvcalm.recordings import detect_format, read_recording
from tests.recordings._broken import FIXTURES, one_line_error, source_ibi_ms

FIT = FIXTURES / "garmin_fit_hrv" / "slowbreathing_hrv.fit"


def test_fit_fixture_gives_every_source_interval_and_the_start_time() -> None:
    recording = read_recording(FIT)
    assert detect_format(FIT) == "fit"
    assert recording.format == "fit"
    np.testing.assert_allclose(recording.rr_ms, source_ibi_ms(), atol=0.5)
    # The two 0xFFFF slots the fixture script writes (messages 10 and 50) are reported.
    assert [(b.line, b.reason) for b in recording.bad_values] == [
        (10, "invalid slot (0xFFFF)"),
        (50, "invalid slot (0xFFFF)"),
    ]
    assert recording.start_time == datetime.datetime(2023, 4, 15, 7, 0, tzinfo=datetime.UTC)


def test_fit_detected_by_content_under_another_name(tmp_path: Path) -> None:
    path = tmp_path / "activity.bin"
    path.write_bytes(FIT.read_bytes())
    assert detect_format(path) == "fit"


def test_truncated_fit(tmp_path: Path) -> None:
    path = tmp_path / "cut.fit"
    path.write_bytes(FIT.read_bytes()[:700])
    assert "damaged FIT file" in one_line_error(path)


def test_fit_with_a_flipped_byte_fails_its_crc(tmp_path: Path) -> None:
    raw = bytearray(FIT.read_bytes())
    raw[400] ^= 0xFF
    path = tmp_path / "flipped.fit"
    path.write_bytes(bytes(raw))
    assert "CRC" in one_line_error(path)


def test_garbage_named_fit(tmp_path: Path) -> None:
    path = tmp_path / "garbage.fit"
    path.write_bytes(bytes(range(256)) * 4)
    assert "not a FIT file" in one_line_error(path)


def test_fit_without_hrv_messages(tmp_path: Path) -> None:
    from garmin_fit_sdk import Encoder, Profile

    encoder = Encoder()
    encoder.write_mesg(
        {
            "mesg_num": Profile["mesg_num"]["FILE_ID"],
            "type": "activity",
            "manufacturer": "garmin",
            "product": 1,
            "time_created": datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC),
        }
    )
    path = tmp_path / "no_hrv.fit"
    path.write_bytes(encoder.close())
    message = one_line_error(path)
    assert "no hrv messages" in message and "file_id" in message
