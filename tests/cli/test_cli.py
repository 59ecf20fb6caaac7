"""The command line as a user meets it: real processes, real files, messages read back."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import FIXTURES, SHARED_RECORDINGS

DEMO = FIXTURES / "polar_h10_ibi_slowbreathing" / "sample_data_ibi.csv"


def hrvcalm(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    return subprocess.run(
        [sys.executable, "-m", "hrvcalm", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("hrvcalm: error: ")
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_replay_jsonl_prints_beats_and_metrics_equal_to_the_recording() -> None:
    result = hrvcalm("replay", str(DEMO), "--speed", "max", "--jsonl")
    assert result.returncode == 0, result.stderr
    messages = [json.loads(line) for line in result.stdout.splitlines()]
    kinds = [m["type"] for m in messages]
    assert kinds[0] == "hello" and "device" in kinds and "metrics" in kinds
    beats = [m for m in messages if m["type"] == "beat"]
    rr = np.loadtxt(DEMO, delimiter=",")[:, 1]
    assert [b["rr_ms"] for b in beats] == pytest.approx(list(rr))
    # beat times increase and track the cumulative sum of RR to within the logger's jitter
    t = np.array([b["t_s"] for b in beats])
    assert np.all(np.diff(t) > 0)
    assert np.max(np.abs(t - np.cumsum(rr) / 1000.0)) < 1.5
    metrics = [m for m in messages if m["type"] == "metrics"]
    assert metrics[0]["rmssd_ms"] is None and metrics[-1]["rmssd_ms"] > 0
    assert messages[-1] == {**messages[-1], "type": "session", "phase": "ended"}


def test_analyze_json_follows_the_contract() -> None:
    result = hrvcalm("analyze", str(FIXTURES / "polar_rr_rhenanbartels_hrv/rest_rri.txt"), "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert set(doc) >= {"source", "n_beats", "summary", "windows"}
    assert doc["n_beats"] == 910
    assert [w["start_s"] for w in doc["windows"]] == [0.0, 300.0, 600.0, 900.0]
    for key in ("mean_nn_ms", "sdnn_ms", "rmssd_ms", "pnn50_pct", "mean_hr_bpm", "n_beats"):
        assert key in doc["summary"]


def _shared_files() -> list[Path]:
    if not SHARED_RECORDINGS.is_dir():
        return []
    return sorted(p for p in SHARED_RECORDINGS.rglob("*") if p.is_file())


@pytest.mark.skipif(
    not SHARED_RECORDINGS.is_dir(), reason="../shared/recordings is not beside the repo"
)
@pytest.mark.parametrize("path", _shared_files(), ids=lambda p: p.name)
def test_analyze_every_shared_file_analyzes_or_says_why_not(path: Path) -> None:
    result = hrvcalm("analyze", str(path), "--json")
    if result.returncode == 0:
        doc = json.loads(result.stdout)
        assert doc["n_beats"] > 0
    else:
        assert_one_line_error(result, path.name)


BROKEN = {
    "empty.txt": b"",
    "binary.bin": bytes(range(256)) * 4,
    "words.txt": b"hello\nworld\nthis is not\na recording\n",
    "negative.txt": b"-800\n-900\n-1000\n-950\n",
    "nan.txt": b"nan\nnan\nnan\n",
    "huge.txt": b"1e300\n2e300\n3e300\n",
    "latin1_header.csv": "temps;intervalle RR é\n0,5;abc\n".encode("latin-1"),
    "no_rr_column.csv": b"time,speed\n1,2\n2,3\n3,4\n",
    "truncated.atr": b"\x00\x01\x02",
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_recordings_get_one_line_naming_the_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(BROKEN[name])
    assert_one_line_error(hrvcalm("analyze", str(path)), name)
    assert_one_line_error(hrvcalm("replay", str(path), "--speed", "max"), name)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    assert_one_line_error(hrvcalm("analyze", str(tmp_path / "nope.txt")), "nope.txt")
    assert_one_line_error(hrvcalm("analyze", str(tmp_path)), str(tmp_path))


def test_bad_value_inside_a_good_file_is_reported_not_fatal() -> None:
    result = hrvcalm("analyze", str(FIXTURES / "polar_rr_rhenanbartels_hrv/real_rri.txt"))
    assert result.returncode == 0, result.stderr
    assert "skipped line 772: '0'" in result.stdout


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("session", "--source", "bogus:1", "--no-browser"), "unknown source"),
        (("session", "--source", "sim:breaths=abc", "--no-browser"), "not a number"),
        (("session", "--source", "sim:colour=blue", "--no-browser"), "unknown sim option"),
        (("session", "--source", "replay:", "--no-browser"), "replay needs a file"),
    ],
)
def test_bad_source_specs(args: tuple[str, ...], fragment: str) -> None:
    assert_one_line_error(hrvcalm(*args), fragment)


def test_bad_speed_is_a_usage_error() -> None:
    result = hrvcalm("replay", str(DEMO), "--speed", "-2")
    assert result.returncode == 2 and "speed must be a positive number" in result.stderr


def test_port_in_use_is_a_clear_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = hrvcalm("session", "--source", "sim", "--no-browser", "--port", str(port))
    assert_one_line_error(result, f"127.0.0.1:{port}", "--port")
