"""App text exports (HRV Logger, Elite HRV, Polar Flow RR, Empatica IBI.csv, Kubios type 2)."""

from __future__ import annotations

import datetime
import zipfile
from pathlib import Path

import numpy as np
import pytest

from hrvcalm.recordings import Recording, detect_format, read_recording
from hrvcalm.recordings.text_exports import read_zip_members
from tests.recordings._broken import FIXTURES, one_line_error, source_ibi_ms

APPS = FIXTURES / "app_text_exports"
SOURCE = np.round(source_ibi_ms())


@pytest.mark.parametrize(
    ("name", "format", "start"),
    [
        ("hrv_logger.csv", "hrv-logger", datetime.datetime(2023, 4, 15, 7, 0, 0, 936000)),
        ("2023-04-15 07-00-00.txt", "rr", datetime.datetime(2023, 4, 15, 7, 0, 0)),
        ("polar_flow_rr.txt", "csv", None),
        ("kubios_rr_type2.txt", "csv", None),
    ],
)
def test_export_gives_every_interval(name: str, format: str, start: object) -> None:
    recording = read_recording(APPS / name)
    assert recording.format == format
    np.testing.assert_allclose(recording.rr_ms, SOURCE)
    assert recording.start_time == start


def test_empatica_ibi_keeps_its_gap_and_start_time() -> None:
    path = APPS / "IBI.csv"
    assert detect_format(path) == "empatica-ibi"
    recording = read_recording(path)
    # make_fixture.py leaves out beats 201-210.
    expected = np.delete(SOURCE, np.arange(200, 210))
    np.testing.assert_allclose(recording.rr_ms, expected)
    assert recording.start_time == datetime.datetime(2023, 4, 15, 7, 0, tzinfo=datetime.UTC)
    assert recording.arrival_s is not None
    jump = np.diff(recording.arrival_s)[199]
    assert jump == pytest.approx(SOURCE[200:211].sum() / 1000, abs=1e-3)
    assert recording.notes["gaps"].startswith("1 gaps")


def test_elite_hrv_zip_reads_each_reading() -> None:
    members = read_zip_members(APPS / "elite_hrv_export.zip")
    assert [name for name, _ in members] == ["2023-04-15 07-00-00.txt", "2023-04-16 07-05-00.txt"]
    recordings = [r for _, r in members]
    assert all(isinstance(r, Recording) for r in recordings)
    first, second = (r for r in recordings if isinstance(r, Recording))
    np.testing.assert_allclose(np.concatenate([first.rr_ms, second.rr_ms]), SOURCE)
    assert second.start_time == datetime.datetime(2023, 4, 16, 7, 5, 0)
    assert "holds 2 recordings" in one_line_error(APPS / "elite_hrv_export.zip")


def test_broken_exports(tmp_path: Path) -> None:
    wrong = tmp_path / "IBI.csv"
    wrong.write_text("1681542000.000000, IBI\n0.9;0.9;9\n" + "x,y\n" * 5)
    assert ":2:" in one_line_error(wrong)
    truncated = tmp_path / "cut_IBI.csv"
    truncated.write_text("1681542000.000000, IBI\n")
    one_line_error(truncated)
    header = tmp_path / "header_IBI.csv"
    header.write_text("start, IBI\n0.9,0.9\n")
    assert "not an Empatica IBI.csv" in one_line_error(header, format="empatica-ibi")
    garbage_zip = tmp_path / "export.zip"
    garbage_zip.write_bytes(b"PK\x03\x04" + bytes(range(200)))
    assert "zip" in one_line_error(garbage_zip)
    bad_member = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad_member, "w") as archive:
        archive.writestr("a.txt", "hello\nworld\n")
    assert "a.txt" in one_line_error(bad_member)
    logger = tmp_path / "logger.csv"
    logger.write_text("date,rr,since start\n2023-04-15 07:00:00.936,abc,0\n")
    one_line_error(logger)
