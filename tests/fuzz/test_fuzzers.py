"""Byte parsers and readers never fail with anything but our own typed errors.

The atheris harnesses in fuzz/ run coverage-guided for a bounded number of inputs on every
CI run (run them longer by hand: ``.venv/bin/python fuzz/fuzz_hrm.py -max_total_time=600``).
The readers are fuzzed with hypothesis: random bytes and mangled real recordings.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hrvcalm.errors import RecordingError
from hrvcalm.recordings import FORMATS, read_recording
from tests.conftest import FIXTURES, REPO

HARNESSES = sorted((REPO / "fuzz").glob("fuzz_*.py"))
RUNS = 30_000


@pytest.mark.parametrize("harness", HARNESSES, ids=lambda p: p.stem)
def test_atheris_harness_finds_no_crash(harness: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(harness), f"-runs={RUNS}", "-seed=1", f"-artifact_prefix={tmp_path}/"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"Done {RUNS} runs" in result.stderr


SEEDS = [
    FIXTURES / "polar_rr_rhenanbartels_hrv" / "rest_rri.txt",
    FIXTURES / "polar_h10_ibi_slowbreathing" / "sample_data_ibi.csv",
    FIXTURES / "polar_rr_rhenanbartels_hrv" / "test_file_2.hrm",
    FIXTURES / "polar_h10_ecg_detectpvc" / "h10_rr.csv",
]


def _read_or_our_error(path: Path, fmt: str | None) -> None:
    try:
        recording = read_recording(path, format=fmt)
    except RecordingError as exc:
        assert str(path.name) in str(exc)
        assert "\n" not in str(exc)
        return
    assert len(recording) > 0
    assert (recording.rr_ms > 0).all()


_fuzz = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_fuzz
@given(data=st.binary(max_size=2000), fmt=st.sampled_from([None, *FORMATS]))
def test_random_bytes(tmp_path: Path, data: bytes, fmt: str | None) -> None:
    path = tmp_path / "random.txt"
    path.write_bytes(data)
    _read_or_our_error(path, fmt)


@_fuzz
@given(
    seed=st.sampled_from(SEEDS),
    cut=st.integers(0, 5000),
    junk=st.binary(max_size=40),
    where=st.integers(0, 5000),
    fmt=st.sampled_from([None, *FORMATS]),
)
def test_mangled_real_recordings(
    tmp_path: Path, seed: Path, cut: int, junk: bytes, where: int, fmt: str | None
) -> None:
    original = seed.read_bytes()
    mangled = original[:where] + junk + original[where:]
    mangled = mangled[: max(0, len(mangled) - cut)]
    path = tmp_path / seed.name
    path.write_bytes(mangled)
    _read_or_our_error(path, fmt)


@_fuzz
@given(lines=st.lists(st.text(alphabet="0123456789.,;-eE naN\t", max_size=12), max_size=50))
def test_numeric_looking_text(tmp_path: Path, lines: list[str]) -> None:
    path = tmp_path / "numbers.csv"
    path.write_text("\n".join(lines))
    _read_or_our_error(path, None)
