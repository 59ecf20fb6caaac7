"""``hrvcalm analyze`` end to end: JSON keys, PSD choice, HTML report, errors."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from hrvcalm.events import METRIC_KEYS
from tests.conftest import FIXTURES

SLOW = FIXTURES / "polar_h10_ibi_slowbreathing" / "sample_data_ibi.csv"
NOISY = FIXTURES / "polar_rr_rhenanbartels_hrv" / "noisy_rri.hrm"


def hrvcalm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hrvcalm", *args], capture_output=True, text=True, timeout=60
    )


def test_json_has_every_metric_key() -> None:
    done = hrvcalm("analyze", str(SLOW), "--window", "120", "--step", "60", "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert set(METRIC_KEYS) <= set(doc["summary"])
    assert doc["source"]["settings"]["psd"] == "welch"
    assert len(doc["windows"]) == 11
    for window in doc["windows"][:9]:
        assert set(METRIC_KEYS) <= set(window)
        assert window["lf_ms2"] is not None and window["resp_rate_bpm"] is not None


def test_lomb_and_no_correction() -> None:
    welch = json.loads(hrvcalm("analyze", str(NOISY), "--json").stdout)
    lomb = json.loads(hrvcalm("analyze", str(NOISY), "--json", "--psd", "lomb").stdout)
    raw = json.loads(hrvcalm("analyze", str(NOISY), "--json", "--no-correction").stdout)
    assert welch["summary"]["lf_hf"] != lomb["summary"]["lf_hf"]
    assert welch["n_artifacts"] > 0 and raw["n_artifacts"] == 0
    assert raw["summary"]["rmssd_ms"] > welch["summary"]["rmssd_ms"]


def test_report_is_self_contained(tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    done = hrvcalm("analyze", str(NOISY), "--report", str(report))
    assert done.returncode == 0, done.stderr
    text = report.read_text(encoding="utf-8")
    assert len(re.findall(r'src="data:image/png;base64,', text)) == 3
    assert not re.search(r'(src|href)="(https?:)?//', text)
    assert "rmssd_ms" in text


def test_report_bad_folder_is_one_line_error(tmp_path: Path) -> None:
    done = hrvcalm("analyze", str(SLOW), "--report", str(tmp_path / "nope" / "r.html"))
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "nope" in done.stderr


def test_bad_psd_is_rejected() -> None:
    done = hrvcalm("analyze", str(SLOW), "--psd", "fft")
    assert done.returncode != 0 and "Traceback" not in done.stderr
