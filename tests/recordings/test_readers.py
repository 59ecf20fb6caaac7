"""Tests of the recording readers (hrvcalm.recordings) on real fixtures and built-up bad files.

Expected numbers are computed here from the raw files (numpy, a small WFDB decoder) and
checked against the counts and ranges each fixture's PROVENANCE.txt states, never copied
from the reader's own output.
"""

from __future__ import annotations

import codecs
import re
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from hrvcalm.errors import RecordingError
from hrvcalm.recordings import FORMATS, BadValue, Recording, detect_format, read_recording

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures" / "recordings"
SHARED = ROOT.parent / "shared" / "recordings"

IBI = FIXTURES / "polar_h10_ibi_slowbreathing" / "sample_data_ibi.csv"
BARTELS = FIXTURES / "polar_rr_rhenanbartels_hrv"
VOLLMER_HRM = FIXTURES / "polar_hrm_vollmer_hrvtool" / "14121501.hrm"
PVC = FIXTURES / "polar_h10_ecg_detectpvc"
NSR = FIXTURES / "nsr2db_cliffordlab"
MITDB = FIXTURES / "mitdb_100_wfdb"

# WFDB (MIT format) annotation codes of beats: N L R a V F J A S E j / Q e n f r B ?
BEAT_CODES = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 34, 35, 38, 41, 25, 30}
CODE_SYMBOL = {1: "N", 5: "V", 8: "A", 14: "~", 16: "|", 28: "+"}


# --- independent decoders of the raw files -------------------------------------------------


def text_values(path: Path) -> list[tuple[int, str]]:
    """(1-based line, stripped text) of every non-blank line."""
    lines = path.read_bytes().decode("utf-8").splitlines()
    return [(n, s.strip()) for n, s in enumerate(lines, 1) if s.strip()]


def hrm_first_column(path: Path) -> npt.NDArray[np.float64]:
    """First column of the [HRData] block of a Polar HRM file."""
    text = path.read_text(encoding="latin-1")
    block = text.split("[HRData]", 1)[1]
    return np.array([float(line.split()[0]) for line in block.splitlines() if line.strip()])


def decode_mit_annotations(path: Path) -> tuple[npt.NDArray[np.int64], list[int]]:
    """Sample index and code of every annotation in a WFDB (MIT format) annotation file.

    16-bit little-endian words: code in the top 6 bits, time increment in the low 10; code
    59 SKIP carries a 32-bit increment (high word first), 60-62 NUM/SUB/CHN and 63 AUX (low
    bits = byte count) modify the previous annotation; a zero word ends the file. NOTE
    annotations (code 22) at sample 0 are definitions ("## time resolution: 360"), dropped.
    """
    words = np.frombuffer(path.read_bytes(), dtype="<u2")
    t, i = 0, 0
    samples: list[int] = []
    codes: list[int] = []
    while i < words.size:
        word = int(words[i])
        code, low = word >> 10, word & 0x3FF
        if word == 0:
            break
        if code == 59:
            skip = (int(words[i + 1]) << 16) | int(words[i + 2])
            t += skip - (1 << 32) if skip >= 1 << 31 else skip
            i += 3
        elif code in (60, 61, 62):
            i += 1
        elif code == 63:
            i += 1 + (low + 1) // 2
        else:
            t += low
            samples.append(t)
            codes.append(code)
            i += 1
    keep = [k for k, (t, c) in enumerate(zip(samples, codes, strict=True)) if (t, c) != (0, 22)]
    return np.array([samples[k] for k in keep], dtype=np.int64), [codes[k] for k in keep]


def header_fs(path: Path) -> float:
    """Sampling frequency from the record line of a WFDB header."""
    lines = [s for s in path.read_text().splitlines() if s.strip() and not s.startswith("#")]
    return float(lines[0].split()[2])


def assert_one_line_error(exc: pytest.ExceptionInfo[RecordingError], path: Path) -> str:
    """The message names the file and is a single line; return it."""
    message = str(exc.value)
    assert "\n" not in message and "\r" not in message
    assert message.startswith(str(path))
    assert exc.value.path == path
    return message


# --- real fixtures ------------------------------------------------------------------------


FORMAT_TABLE = [
    (IBI, "csv"),
    (BARTELS / "rest_rri.txt", "rr"),
    (BARTELS / "real_rri.txt", "rr"),
    (BARTELS / "08012805.txt", "rr"),
    (BARTELS / "exercise_rri.hrm", "hrm"),
    (BARTELS / "noisy_rri.hrm", "hrm"),
    (BARTELS / "test_file_2.hrm", "hrm"),
    (VOLLMER_HRM, "hrm"),
    (PVC / "polar_h10_rr.csv", "csv"),
    (PVC / "h10_rr.csv", "csv"),
    (PVC / "polar_h10_ecg.csv", "csv"),
    (NSR / "nsr001.ecg", "wfdb"),
    (NSR / "nsr001.hea", "wfdb"),
    (MITDB / "100.atr", "wfdb"),
    (MITDB / "100.qrs", "wfdb"),
    (MITDB / "100.hea", "wfdb"),
    (MITDB / "100.dat", "wfdb"),
]


@pytest.mark.parametrize(("path", "expected"), FORMAT_TABLE, ids=lambda v: getattr(v, "name", v))
def test_detect_format(path: Path, expected: str) -> None:
    assert detect_format(path) == expected


# (file, count, min, max) as PROVENANCE.txt states them, for one-RR-per-line text and HRM.
PLAIN_TABLE = [
    (BARTELS / "rest_rri.txt", 910, 783, 1210),
    (BARTELS / "08012805.txt", 2380, 312, 1243),
]
HRM_TABLE = [
    (VOLLMER_HRM, 19_001, 253, 3496),
    (BARTELS / "exercise_rri.hrm", 4117, 524, 1589),
    (BARTELS / "noisy_rri.hrm", 3581, 522, 1564),
    (BARTELS / "test_file_2.hrm", 4, 750, 815),
]


@pytest.mark.parametrize(("path", "count", "low", "high"), PLAIN_TABLE, ids=lambda v: str(v))
def test_rr_text_fixtures(path: Path, count: int, low: float, high: float) -> None:
    expected = np.loadtxt(path)
    rec = read_recording(path)
    assert rec.format == "rr"
    assert len(rec) == expected.size == count
    np.testing.assert_array_equal(rec.rr_ms, expected)
    assert (rec.rr_ms.min(), rec.rr_ms.max()) == (low, high)
    assert rec.bad_values == ()
    assert rec.arrival_s is None and rec.labels is None


def test_rest_rri_is_a_clean_resting_fixture() -> None:
    rec = read_recording(BARTELS / "rest_rri.txt")
    assert rec.duration_s / 60 == pytest.approx(16.06, abs=0.01)
    rmssd = float(np.sqrt(np.mean(np.diff(rec.rr_ms) ** 2)))
    assert rmssd == pytest.approx(55.1, abs=0.05)


def test_real_rri_skips_the_zero_value_at_its_last_line() -> None:
    path = BARTELS / "real_rri.txt"
    rows = text_values(path)
    assert len(rows) == 772 and rows[-1] == (772, "0")
    rec = read_recording(path)
    assert len(rec) == 771
    np.testing.assert_array_equal(rec.rr_ms, [float(s) for _, s in rows[:-1]])
    assert len(rec.bad_values) == 1
    bad = rec.bad_values[0]
    assert (bad.line, bad.text) == (772, "0")
    assert "positive" in bad.reason


@pytest.mark.parametrize(("path", "count", "low", "high"), HRM_TABLE, ids=lambda v: str(v))
def test_hrm_fixtures(path: Path, count: int, low: float, high: float) -> None:
    expected = hrm_first_column(path)
    rec = read_recording(path)
    assert rec.format == "hrm"
    assert len(rec) == expected.size == count
    np.testing.assert_array_equal(rec.rr_ms, expected)
    assert (rec.rr_ms.min(), rec.rr_ms.max()) == (low, high)
    assert rec.notes["hrm_version"] == "106"


def test_vollmer_hrm_keeps_odd_but_positive_values() -> None:
    rec = read_recording(VOLLMER_HRM)
    assert rec.bad_values == ()
    assert 3496.0 in rec.rr_ms and 253.0 in rec.rr_ms  # artifact correction decides later
    assert float(np.median(rec.rr_ms)) == 418.0
    assert rec.duration_s / 60 == pytest.approx(158.5, abs=0.05)
    assert rec.notes["date"] == "2014-12-15" and rec.notes["monitor"] == "37"


def test_strap_log_without_header_has_arrival_times() -> None:
    raw = np.loadtxt(IBI, delimiter=",")
    rec = read_recording(IBI)
    assert rec.format == "csv"
    assert len(rec) == raw.shape[0] == 620
    np.testing.assert_array_equal(rec.rr_ms, raw[:, 1])
    assert rec.arrival_s is not None
    np.testing.assert_allclose(rec.arrival_s, raw[:, 0] - raw[0, 0], rtol=0, atol=1e-9)
    assert rec.arrival_s[0] == 0.0
    assert float(rec.arrival_s[-1]) == pytest.approx(600.0, abs=0.05)
    assert (rec.rr_ms.min(), rec.rr_ms.max(), float(np.median(rec.rr_ms))) == (817, 1182, 970)
    assert int(np.sum(np.diff(rec.arrival_s) < 0.010)) == 33  # two RR in one notification


@pytest.mark.parametrize(("name", "count"), [("polar_h10_rr.csv", 798), ("h10_rr.csv", 41)])
def test_h10_rr_with_time_ns(name: str, count: int) -> None:
    path = PVC / name
    raw = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.int64)
    rec = read_recording(path)
    assert len(rec) == raw.shape[0] == count
    np.testing.assert_array_equal(rec.rr_ms, raw[:, 1])
    assert rec.arrival_s is not None
    np.testing.assert_allclose(rec.arrival_s, (raw[:, 0] - raw[0, 0]) / 1e9, rtol=0, atol=1e-9)
    if name == "polar_h10_rr.csv":
        assert (rec.rr_ms.min(), rec.rr_ms.max(), float(np.median(rec.rr_ms))) == (375, 1417, 750)
        assert rec.duration_s == pytest.approx(599.4, abs=0.05)


def test_h10_ecg_and_hr_files_are_explained() -> None:
    with pytest.raises(RecordingError, match=r"ECG signal at ~130 Hz.*'ecg_mV'") as exc:
        read_recording(PVC / "polar_h10_ecg.csv")
    assert_one_line_error(exc, PVC / "polar_h10_ecg.csv")
    with pytest.raises(RecordingError, match=r"heart rate \(column 'hr_bpm'\)") as exc:
        read_recording(PVC / "polar_h10_hr.csv")
    assert_one_line_error(exc, PVC / "polar_h10_hr.csv")


@pytest.mark.parametrize(
    ("path", "n_annotations", "n_beats", "counts"),
    [
        (NSR / "nsr001.ecg", 106_835, 106_460, {"N": 106_379, "V": 68, "A": 13, "~": 375}),
        (MITDB / "100.atr", 2_274, 2_273, {"N": 2239, "A": 33, "V": 1, "+": 1}),
        (MITDB / "100.qrs", 2_273, 2_273, {"N": 2273}),
    ],
    ids=lambda v: getattr(v, "name", None),
)
def test_wfdb_annotations(
    path: Path, n_annotations: int, n_beats: int, counts: dict[str, int]
) -> None:
    samples, codes = decode_mit_annotations(path)
    assert len(codes) == n_annotations
    assert Counter(CODE_SYMBOL[c] for c in codes) == counts  # PROVENANCE.txt's label counts
    is_beat = np.array([c in BEAT_CODES for c in codes])
    assert int(is_beat.sum()) == n_beats
    fs = header_fs(path.with_suffix(".hea"))
    rec = read_recording(path)
    assert rec.format == "wfdb"
    assert len(rec) == n_beats - 1
    np.testing.assert_allclose(rec.rr_ms, np.diff(samples[is_beat]) * 1000 / fs, rtol=1e-12)
    assert rec.resolution_ms == pytest.approx(1000 / fs)
    beat_codes = [c for c in codes if c in BEAT_CODES]
    assert rec.labels == tuple(CODE_SYMBOL[c] for c in beat_codes[1:])
    assert rec.notes["fs_hz"] == f"{fs:g}" and rec.notes["annotator"] == path.suffix[1:]
    assert rec.bad_values == ()


def test_nsr001_is_24_hours_at_128_hz() -> None:
    rec = read_recording(NSR / "nsr001.ecg")
    assert rec.resolution_ms == 1000 / 128
    first_beat_s = float(rec.notes["first_beat_s"])  # the record starts before the first beat
    assert (first_beat_s + rec.duration_s) / 3600 == pytest.approx(22.55, abs=0.005)
    assert np.allclose(rec.rr_ms / (1000 / 128), np.round(rec.rr_ms / (1000 / 128)))


def test_mitdb_100_reference_rr_range() -> None:
    rec = read_recording(MITDB / "100.atr")
    assert len(rec) == 2272
    assert (round(rec.rr_ms.min()), round(rec.rr_ms.max())) == (522, 1131)
    assert round(float(np.median(rec.rr_ms))) == 797
    assert rec.notes["non_beat_annotations"] == "+ 1"


@pytest.mark.parametrize("name", ["100.hea", "100.dat"])
def test_signal_record_points_at_its_annotations(name: str) -> None:
    with pytest.raises(RecordingError, match="ECG signal record") as exc:
        read_recording(MITDB / name)
    message = assert_one_line_error(exc, MITDB / name)
    assert f"its beat annotations are in {MITDB / '100.atr'}" in message
    assert "analyze that file" in message


def test_annotation_only_header_points_at_its_annotations() -> None:
    with pytest.raises(RecordingError, match="no signal") as exc:
        read_recording(NSR / "nsr001.hea")
    assert str(NSR / "nsr001.ecg") in assert_one_line_error(exc, NSR / "nsr001.hea")


# --- format override ---------------------------------------------------------------------


def test_format_override() -> None:
    as_csv = read_recording(BARTELS / "rest_rri.txt", format="csv")
    assert as_csv.format == "csv"
    np.testing.assert_array_equal(as_csv.rr_ms, read_recording(BARTELS / "rest_rri.txt").rr_ms)
    assert read_recording(str(VOLLMER_HRM), format="HRM").format == "hrm"
    with pytest.raises(RecordingError, match="format 'csv'") as exc:
        read_recording(IBI, format="rr")
    assert exc.value.line == 1
    with pytest.raises(RecordingError, match="binary"):
        read_recording(MITDB / "100.atr", format="rr")
    with pytest.raises(RecordingError, match="not a Polar HRM file"):
        read_recording(BARTELS / "rest_rri.txt", format="hrm")
    with pytest.raises(RecordingError, match="truncated or garbled"):
        read_recording(BARTELS / "rest_rri.txt", format="wfdb")


def test_unknown_format_lists_the_valid_ones() -> None:
    with pytest.raises(RecordingError) as exc:
        read_recording(IBI, format="edf")
    message = assert_one_line_error(exc, IBI)
    assert "'edf'" in message and all(name in message for name in FORMATS)


def test_content_beats_extension(tmp_path: Path) -> None:
    hrm = tmp_path / "session.txt"
    shutil.copy(BARTELS / "test_file_2.hrm", hrm)
    assert detect_format(hrm) == "hrm"
    two_columns = tmp_path / "log.txt"
    two_columns.write_text("0.5 800\n1.3 810\n2.1 790\n")
    assert detect_format(two_columns) == "csv"
    one_column = tmp_path / "rr.csv"
    one_column.write_text("800\n810\n")
    rec = read_recording(one_column)
    assert rec.format == "csv" and list(rec.rr_ms) == [800, 810]


# --- values, units, encodings -------------------------------------------------------------


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_bad_values_are_skipped_and_reported(tmp_path: Path) -> None:
    good = [str(800 + i) for i in range(46)]
    lines = [*good[:10], "abc", *good[10:20], "nan", *good[20:30], "-3", *good[30:], "70000"]
    rec = read_recording(write(tmp_path / "rr.txt", "\n".join(lines) + "\n"))
    assert len(rec) == 46
    np.testing.assert_array_equal(rec.rr_ms, [float(v) for v in good])
    assert [(b.line, b.text) for b in rec.bad_values] == [
        (11, "abc"),
        (22, "nan"),
        (33, "-3"),
        (50, "70000"),
    ]
    reasons = [b.reason for b in rec.bad_values]
    assert reasons[0] == "not a number" and "finite" in reasons[1]
    assert "positive" in reasons[2] and "60,000" in reasons[3]
    assert all(isinstance(b, BadValue) for b in rec.bad_values)


def test_too_many_bad_values_name_the_first(tmp_path: Path) -> None:
    path = write(tmp_path / "rr.txt", "800\n810\n0\n820\nx\n830\n840\n850\n860\n870\n")
    with pytest.raises(RecordingError, match=r"2 of 10 data lines are bad.*'0'") as exc:
        read_recording(path)
    assert exc.value.line == 3
    assert assert_one_line_error(exc, path).startswith(f"{path}:3: ")


def test_seconds_are_converted(tmp_path: Path) -> None:
    rec = read_recording(write(tmp_path / "rr.txt", "0.812\n0.905\n1.1\n"))
    np.testing.assert_allclose(rec.rr_ms, [812, 905, 1100])
    assert "seconds" in rec.notes["units"]
    csv = read_recording(write(tmp_path / "rr.csv", "t,RR (s)\n0,0.8\n0.8,0.9\n"))
    np.testing.assert_allclose(csv.rr_ms, [800, 900])


@pytest.mark.parametrize(
    ("header", "times", "expected_s"),
    [
        ("time_ns,rr_ms", ["1714920600436237312", "1714920601557875712"], [0, 1.1216384]),
        ("time_ms;RR (ms)", ["1000", "1800"], [0, 0.8]),
        ("ms\tibi", ["1000", "1800"], [0, 0.8]),
        ("arrival_s,rri", ["12.5", "13.25"], [0, 0.75]),
        ("Time,RR", ["2024-05-01T10:00:00", "2024-05-01T10:00:00.800"], [0, 0.8]),
        ("timestamp,nn", ["1714920600436", "1714920601236"], [0, 0.8]),
        ("time;RR", ["00:59:59,5", "01:00:00,3"], [0, 0.8]),
    ],
)
def test_time_columns(
    tmp_path: Path, header: str, times: list[str], expected_s: list[float]
) -> None:
    sep = next(s for s in (";", "\t", ",") if s in header)
    text = header + "\n" + "".join(f"{t}{sep}{800 + i}\n" for i, t in enumerate(times))
    rec = read_recording(write(tmp_path / "log.csv", text))
    np.testing.assert_array_equal(rec.rr_ms, [800, 801])
    assert rec.arrival_s is not None
    np.testing.assert_allclose(rec.arrival_s, expected_s, atol=1e-6)


@pytest.mark.parametrize(
    ("encoding", "prefix", "newline"),
    [
        ("utf-8", b"", "\n"),
        ("utf-8", codecs.BOM_UTF8, "\r\n"),
        ("utf-16-le", codecs.BOM_UTF16_LE, "\r\n"),
        ("utf-16-be", codecs.BOM_UTF16_BE, "\n"),
        ("latin-1", b"", "\r\n"),
    ],
)
def test_text_encodings(tmp_path: Path, encoding: str, prefix: bytes, newline: str) -> None:
    text = newline.join(["Time (s);Intervalle RR (ms)", "0,0;812,5", "0,8;905", "1,7;990"])
    path = tmp_path / "export.csv"
    path.write_bytes(prefix + (text + newline).encode(encoding))
    rec = read_recording(path)
    np.testing.assert_array_equal(rec.rr_ms, [812.5, 905, 990])
    assert rec.arrival_s is not None
    np.testing.assert_allclose(rec.arrival_s, [0, 0.8, 1.7])
    latin = read_recording(write(tmp_path / "dur.txt", "durée RR\n800\n900\n", "latin-1"))
    assert latin.notes["encoding"] == "latin-1" and list(latin.rr_ms) == [800, 900]


def test_sparse_rr_column_of_a_merged_log(tmp_path: Path) -> None:
    text = "time_s,hr_bpm,rr_ms\n0.0,70,\n0.5,70,850\n1.0,71,\n1.4,71,860\n"
    rec = read_recording(write(tmp_path / "merged.csv", text))
    assert list(rec.rr_ms) == [850, 860] and rec.bad_values == ()
    assert rec.arrival_s is not None and list(rec.arrival_s) == [0.5, 1.4]


# --- every error case: one line, names the file (and the line) -----------------------------


ECG_ROWS = "".join(f"{i / 250:.3f},{np.sin(i / 10):.3f}\n" for i in range(300))
HRM_HEAD = "[Params]\nVersion=106\nMonitor=12\nInterval={}\n\n[HRData]\n"
ERROR_TABLE: list[tuple[str, str, bytes, str, int | None]] = [
    ("empty", "e.txt", b"", "is empty", None),
    ("binary", "b.txt", b"800\n\x00\x01\x02\x00\n", "binary", None),
    ("bad utf-16", "u.txt", codecs.BOM_UTF16_LE + b"8\x000", "UTF-16", None),
    ("only text", "t.txt", b"hello\nworld\n", "no numeric values", 2),
    ("only blanks", "n.txt", b"\n  \n# note\n", "no numeric values", None),
    ("all bad", "z.txt", b"0\n0\n", "no valid RR value", 1),
    ("ecg", "e.csv", b"time_s,ecg_mV\n" + ECG_ROWS.encode(), "ECG signal at ~250 Hz", None),
    ("hr", "h.csv", b"time,hr_bpm\n0,60\n1,61\n", "holds heart rate", None),
    ("no rr column", "c.csv", b"a,b,c\n1,2,3\n", "columns seen: 'a', 'b', 'c'", 1),
    ("3 columns", "3.csv", b"\n1,2,3\n4,5,6\n", "3 columns and no header", 2),
    ("bad time", "bt.csv", b"t,rr\n0,800\nx,900\n", "no valid|data lines are bad", 3),
    ("signal csv", "s.csv", b"0,0.1\n1,-0.2\n2,0.3\n3,-0.1\n", "looks like a signal", 2),
    ("hr every 5 s", "5.hrm", HRM_HEAD.format(5).encode() + b"60\n", "every 5 s", 4),
    ("lap times", "l.hrm", HRM_HEAD.format(204).encode() + b"1\n", "intermediate", 4),
    ("no interval", "i.hrm", b"[Params]\nVersion=106\n[HRData]\n800\n", "no Interval", None),
    ("no hrdata", "d.hrm", b"[Params]\nInterval=238\n", r"without an \[HRData\]", None),
    ("empty hrdata", "y.hrm", HRM_HEAD.format(238).encode(), r"empty \[HRData\]", None),
    ("odd wfdb", "r.atr", b"\x01\x04\x02", "truncated or garbled", None),
    ("text named .atr", "w.atr", b"N 800\nN 900\n", "no numeric values", 1),
    ("ishne", "h.ecg", b"ISHNE1.0" + bytes(20), "ISHNE", None),
]


@pytest.mark.parametrize(
    ("name", "content", "fragment", "line"),
    [pytest.param(*row[1:], id=row[0]) for row in ERROR_TABLE],
)
def test_errors(tmp_path: Path, name: str, content: bytes, fragment: str, line: int | None) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(RecordingError) as exc:
        read_recording(path)
    message = assert_one_line_error(exc, path)
    assert re.search(fragment, message), message
    assert exc.value.line == line
    if line is not None:
        assert message.startswith(f"{path}:{line}: ")


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match="no such file") as exc:
        read_recording(tmp_path / "nope.txt")
    assert_one_line_error(exc, tmp_path / "nope.txt")
    with pytest.raises(RecordingError, match="is a directory") as exc:
        read_recording(tmp_path)
    assert_one_line_error(exc, tmp_path)
    with pytest.raises(RecordingError, match="is a directory"):
        detect_format(tmp_path)


def test_unknown_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "blob.bin"
    path.write_bytes(b"\x00\x01\x02\x03\x04\x05\x06")
    with pytest.raises(RecordingError, match="binary file") as exc:
        detect_format(path)
    assert_one_line_error(exc, path)


def copy_record(tmp_path: Path, *names: str) -> None:
    for name in names:
        shutil.copy(MITDB / name, tmp_path / name)


def test_truncated_annotation_file(tmp_path: Path) -> None:
    copy_record(tmp_path, "100.hea")
    path = tmp_path / "100.atr"
    path.write_bytes((MITDB / "100.atr").read_bytes()[:1000])
    with pytest.raises(RecordingError, match="truncated") as exc:
        read_recording(path)
    assert_one_line_error(exc, path)


def test_garbled_annotation_file(tmp_path: Path) -> None:
    copy_record(tmp_path, "100.hea")
    path = tmp_path / "100.atr"
    noise = np.random.default_rng(7).integers(0, 256, size=3000, dtype=np.uint8).tobytes()
    path.write_bytes(noise + b"\x00\x00")
    with pytest.raises(RecordingError, match="garbled") as exc:
        read_recording(path)
    assert_one_line_error(exc, path)


def test_annotation_file_without_header(tmp_path: Path) -> None:
    copy_record(tmp_path, "100.atr")
    path = tmp_path / "100.atr"
    with pytest.raises(RecordingError, match=r"no sampling frequency.*100\.hea") as exc:
        read_recording(path)
    assert_one_line_error(exc, path)


def test_signal_record_without_annotations(tmp_path: Path) -> None:
    copy_record(tmp_path, "100.hea", "100.dat")
    with pytest.raises(RecordingError, match="no beat annotation file") as exc:
        read_recording(tmp_path / "100.dat")
    assert "360 Hz" in assert_one_line_error(exc, tmp_path / "100.dat")


def test_annotations_with_only_rhythm_marks(tmp_path: Path) -> None:
    copy_record(tmp_path, "100.hea")
    path = tmp_path / "100.atr"
    path.write_bytes(np.array([(28 << 10) | 18, (14 << 10) | 5, 0], dtype="<u2").tobytes())
    with pytest.raises(RecordingError, match="0 beat annotation") as exc:
        read_recording(path)
    assert_one_line_error(exc, path)


# --- sweep: every real file either reads or raises RecordingError --------------------------


def sweep_params(folder: Path) -> list[object]:
    if not folder.is_dir():
        reason = f"{folder} is absent (the shared recordings live beside the repository)"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="absent")]
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return [pytest.param(p, id=str(p.relative_to(folder))) for p in files]


@pytest.mark.parametrize("path", [*sweep_params(SHARED), *sweep_params(FIXTURES)])
def test_sweep_reads_or_raises_recording_error(path: Path) -> None:
    try:
        rec = read_recording(path)
    except RecordingError as exc:
        message = str(exc)
        assert "\n" not in message and message.startswith(str(path))
        return
    assert isinstance(rec, Recording) and len(rec) > 0
    assert rec.format in FORMATS and rec.rr_ms.dtype == np.float64
    assert bool(np.all(rec.rr_ms > 0)) and bool(np.all(np.isfinite(rec.rr_ms)))
    if rec.arrival_s is not None:
        assert rec.arrival_s.shape == rec.rr_ms.shape
    if rec.labels is not None:
        assert len(rec.labels) == len(rec)
