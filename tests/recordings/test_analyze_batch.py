"""``hrvcalm analyze PATH...``: a folder with one bad file, one table, failures listed."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.recordings._broken import FIXTURES

APPS = FIXTURES / "app_text_exports"
FIT = FIXTURES / "garmin_fit_hrv" / "slowbreathing_hrv.fit"


def hrvcalm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hrvcalm", *args], capture_output=True, text=True, timeout=300
    )


def folder(tmp_path: Path) -> Path:
    root = tmp_path / "recordings"
    (root / "sub").mkdir(parents=True)
    shutil.copy(APPS / "IBI.csv", root / "IBI.csv")
    shutil.copy(APPS / "elite_hrv_export.zip", root / "sub" / "elite.zip")
    shutil.copy(FIT, root / "watch.fit")
    (root / "broken.fit").write_bytes(b"not a fit file at all\x00\x01")
    return root


def test_folder_with_a_bad_file_gives_one_json_table_and_lists_the_failure(
    tmp_path: Path,
) -> None:
    result = hrvcalm("analyze", str(folder(tmp_path)), "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    names = [Path(row["path"]).name for row in document["rows"]]
    assert names == [
        "IBI.csv",
        "elite.zip!2023-04-15 07-00-00.txt",
        "elite.zip!2023-04-16 07-05-00.txt",
        "watch.fit",
    ]
    assert [row["n_intervals"] for row in document["rows"]] == [610, 310, 310, 620]
    assert document["rows"][3]["start_time"] == "2023-04-15T07:00:00+00:00"
    assert len(document["failed"]) == 1
    assert document["failed"][0].startswith(str(tmp_path / "recordings" / "broken.fit"))
    assert "\n" not in document["failed"][0]


def test_csv_per_window_and_exit_code_when_nothing_reads(tmp_path: Path) -> None:
    out = tmp_path / "table.csv"
    result = hrvcalm(
        "analyze", str(FIT), str(APPS / "IBI.csv"), "--window", "120", "--csv", str(out)
    )
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(out.read_text().splitlines()))
    fit_rows = [r for r in rows if r["path"].endswith(".fit")]
    # 620 intervals, 601.6 s: windows start at 0, 120, ..., 600 (the last one 1.6 s long).
    assert [float(r["start_s"]) for r in fit_rows] == [0, 120, 240, 360, 480, 600]
    assert all(r["rmssd_ms"] for r in fit_rows[:5]) and not fit_rows[5]["rmssd_ms"]
    bad = tmp_path / "bad.txt"
    bad.write_text("hello\n")
    result = hrvcalm("analyze", str(bad), str(tmp_path / "bad.txt"), "--json")
    assert result.returncode == 1
    assert len(json.loads(result.stdout)["failed"]) == 2
