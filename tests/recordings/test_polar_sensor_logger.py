"""Polar Sensor Logger exports (RR, HR, ECG, PPI) and broken variants."""

from __future__ import annotations

import datetime
from pathlib import Path

import numpy as np

from hrvcalm.recordings import detect_format, read_recording
from tests.recordings._broken import FIXTURES, one_line_error, source_ibi_ms

PSL = FIXTURES / "polar_sensor_logger"
PVC = FIXTURES / "polar_h10_ecg_detectpvc"
RR = PSL / "Polar_H10_A1B2C3D4_20240430_033233_RR.txt"
HR = PSL / "Polar_H10_A1B2C3D4_20240430_033233_HR.txt"
ECG = PSL / "Polar_H10_A1B2C3D4_20240430_033233_ECG.txt"
PPI = PSL / "Polar_Sense_E5F6A7B8_20231114_221320_PPI.txt"


def device_rr_ms() -> list[float]:
    return [float(line.split(",")[1]) for line in (PVC / "h10_rr.csv").read_text().split()[1:]]


def test_rr_file() -> None:
    recording = read_recording(RR)
    assert detect_format(RR) == "polar-sensor-logger"
    assert recording.rr_ms.tolist() == device_rr_ms()
    assert recording.start_time == datetime.datetime(2024, 4, 30, 3, 32, 34, 430000)
    assert recording.arrival_s is not None and recording.arrival_s[0] == 0.0
    assert np.all(np.diff(recording.arrival_s) > 0)


def test_rr_file_with_columns_in_another_order(tmp_path: Path) -> None:
    lines = RR.read_text().splitlines()
    swapped = ["RR-interval [ms];Phone timestamp"] + [
        ";".join(reversed(line.split(";"))) for line in lines[1:]
    ]
    # The phone clock must lead for detection; with --format the order does not matter.
    path = tmp_path / "swapped.txt"
    path.write_text("\n".join(swapped) + "\n")
    message = one_line_error(path, format="polar-sensor-logger")
    assert "Phone timestamp" in message


def test_hr_file_with_trailing_rr_fields() -> None:
    recording = read_recording(HR)
    assert recording.rr_ms.tolist() == device_rr_ms()
    assert recording.notes["stream"] == "Polar Sensor Logger HR"


def test_hr_file_without_rr_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "hr_only.txt"
    path.write_text(
        "Phone timestamp;HR [bpm];HRV [ms];Breathing interval [rpm];\n"
        "2024-04-30T03:32:34.868;61;;;\n2024-04-30T03:32:35.868;62;;;\n"
    )
    assert "heart rate only" in one_line_error(path)


def test_ecg_file_goes_through_the_r_peak_detector() -> None:
    recording = read_recording(ECG)
    assert "R peaks detected in the ECG" in recording.notes["rr_source"]
    assert recording.resolution_ms is not None and 7.6 < recording.resolution_ms < 7.8
    device = np.array(device_rr_ms())
    # 40 s of ECG with PVCs: the detector's beats span what the strap reported.
    assert abs(len(recording) - device.size) <= 3
    assert abs(recording.duration_s - device.sum() / 1000) < 2.5
    assert abs(np.median(recording.rr_ms) - np.median(device)) < 20


def test_ppi_flags_become_artifact_labels() -> None:
    recording = read_recording(PPI)
    np.testing.assert_allclose(recording.rr_ms, np.round(source_ibi_ms()))
    assert recording.labels is not None
    flagged = [i + 1 for i, s in enumerate(recording.labels) if s == "Q"]
    # make_fixture.py: blocker on rows 101-105, no skin contact on rows 301-310.
    assert flagged == [*range(101, 106), *range(301, 311)]


def test_ppi_box_layout_by_name(tmp_path: Path) -> None:
    path = tmp_path / "box_PPI.txt"
    path.write_text(
        "Phone timestamp;sensor timestamp [ns];HR [bpm];PP-interval [ms];error estimate [ms];"
        "blocker;skin contact;skin contact supported\n"
        "2026-08-04T23:00:57.020;0;60;1000;5;0;1;1\n"
        "2026-08-04T23:00:58.020;0;61;990;5;1;1;1\n"
        "2026-08-04T23:00:59.020;0;62;980;5;0;0;1\n"
        "2026-08-04T23:01:00.020;0;62;970;5;0;0;0\n"
    )
    recording = read_recording(path)
    assert recording.rr_ms.tolist() == [1000, 990, 980, 970]
    assert recording.labels == ("N", "Q", "Q", "N")


def test_truncated_rr_file_keeps_whole_lines(tmp_path: Path) -> None:
    raw = RR.read_bytes()
    path = tmp_path / "cut_RR.txt"
    path.write_bytes(raw[: len(raw) // 2 + 7])  # ends inside a line
    recording = read_recording(path)
    assert 0 < len(recording) < len(device_rr_ms())


def test_wrong_header_and_garbage(tmp_path: Path) -> None:
    path = tmp_path / "wrong_RR.txt"
    path.write_text("Phone timestamp;RR-interval [ms]\n" + "2024-04-30T03:32:34.430;abc\n" * 5)
    message = one_line_error(path)
    assert ":2:" in message or "line 2" in message
    garbage = tmp_path / "garbage_ECG.txt"
    garbage.write_bytes(b"\x00\x01\x02\xff" * 100)
    one_line_error(garbage, format="polar-sensor-logger")
    acc = tmp_path / "acc_ACC.txt"
    acc.write_text(
        "Phone timestamp;sensor timestamp [ns];X [mg];Y [mg];Z [mg]\n"
        "2024-01-01T00:00:00.000;1;2;3;4\n"
    )
    assert "without beat intervals" in one_line_error(acc)
