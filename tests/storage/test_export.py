"""``hrvcalm sessions`` on a replayed session: export round trips, list, show, errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from hrvcalm.cli import main
from tests.storage.conftest import REST


def _analyze(path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    assert main(["analyze", str(path), "--json", "--window", "120"]) == 0
    doc: dict[str, object] = json.loads(capsys.readouterr().out)
    return doc


def test_rr_export_equals_the_replayed_recording(
    replayed_db: Path,
    tmp_path: Path,
    rest_rr: npt.NDArray[np.float64],
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "export.txt"
    assert (
        main(
            [
                "sessions",
                "export",
                "1",
                "--format",
                "rr",
                "--db",
                str(replayed_db),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    exported = np.loadtxt(out)
    assert exported.dtype == np.float64
    np.testing.assert_array_equal(exported, rest_rr)
    # The export analyzes exactly as the original file does.
    original, again = _analyze(REST, capsys), _analyze(out, capsys)
    assert again["summary"] == original["summary"]
    assert again["windows"] == original["windows"]
    assert again["n_beats"] == original["n_beats"] == rest_rr.size


def test_csv_and_json_exports_hold_every_beat(
    replayed_db: Path, rest_rr: npt.NDArray[np.float64], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sessions", "export", "1", "--format", "csv", "--db", str(replayed_db)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "t_s,rr_ms,artifact,gap_before,corrected_rr_ms"
    rr = np.array([float(line.split(",")[1]) for line in lines[1:]])
    np.testing.assert_array_equal(rr, rest_rr)
    t = np.array([float(line.split(",")[0]) for line in lines[1:]])
    np.testing.assert_allclose(t, np.cumsum(rest_rr) / 1000.0, atol=1e-3)

    assert main(["sessions", "export", "1", "--format", "json", "--db", str(replayed_db)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [b["rr_ms"] for b in doc["beats"]] == rest_rr.tolist()
    assert doc["n_beats"] == rest_rr.size
    assert doc["ended_reason"] == "source_ended"  # the recording ran out
    # Thinned metrics timeline: at most one point per second of session time.
    t_metrics = np.array([m["t_s"] for m in doc["metrics"]])
    assert np.all(np.diff(t_metrics[:-1]) >= 1.0)
    assert len(doc["metrics"]) > 0.8 * (t[-1] - t[0]) / 1.5
    assert t_metrics[-1] == pytest.approx(t[-1], abs=1e-3)


def test_list_and_show(replayed_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sessions", "list", "--db", str(replayed_db), "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["id"] == 1 and listed["n_beats"] == 910
    assert listed["source"] == f"replay:{REST}"
    assert main(["sessions", "show", "1", "--db", str(replayed_db), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["n_beats"] == 910
    assert [e["state"] for e in shown["device_events"]] == ["connecting", "connected"]
    assert shown["ratings"] == {}
    assert shown["pacer"][0]["rate_bpm"] == 6.0
    assert main(["sessions", "list", "--db", str(replayed_db)]) == 0
    table = capsys.readouterr().out
    assert "910" in table and "paced_breathing" in table
    assert main(["sessions", "show", "1", "--db", str(replayed_db)]) == 0
    assert "910 (" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["sessions", "show", "7"], 2, "no session 7"),
        (["sessions", "export", "7", "--format", "rr"], 2, "no session 7"),
        (["report", "7", "--out", "x.html"], 2, "no session 7"),
        (["report", "1", "--out", "x.docx"], 2, "written as .html or .pdf"),
    ],
)
def test_bad_requests_give_one_line(
    replayed_db: Path,
    argv: list[str],
    code: int,
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main([*argv, "--db", str(replayed_db)]) == code
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_missing_database_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sessions", "show", "1", "--db", str(tmp_path / "none.db")]) == 2
    err = capsys.readouterr().err
    assert "no session database yet" in err and err.count("\n") == 1
    assert not (tmp_path / "none.db").exists()


def test_bad_session_number_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["sessions", "show", "abc"])
    assert exit_info.value.code == 2
    assert "a session is a whole number, got 'abc'" in capsys.readouterr().err


def test_strap_intervals_in_1024ths_are_stored_exactly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ticks = np.random.default_rng(5).integers(900, 1100, size=120)
    rr = ticks * (1000.0 / 1024.0)  # what a Heart Rate Measurement strap sends
    source = tmp_path / "strap.txt"
    source.write_text("".join(f"{float(v)!r}\n" for v in rr))
    db = tmp_path / "s.db"
    argv = ["session", "--source", f"replay:{source}", "--speed", "max", "--autostart"]
    assert main([*argv, "--no-browser", "--port", "0", "--db", str(db)]) == 0
    assert main(["sessions", "export", "1", "--format", "rr", "--db", str(db)]) == 0
    exported = np.array([float(v) for v in capsys.readouterr().out.split()])
    np.testing.assert_array_equal(exported, rr)
