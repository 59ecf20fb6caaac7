"""An analysis whose windows would not fit in memory is refused at once, with the reason."""

from __future__ import annotations

import pytest

from hrvcalm.cli import main
from tests.conftest import FIXTURES

REST = FIXTURES / "polar_rr_rhenanbartels_hrv" / "rest_rri.txt"


def test_absurd_window_counts_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(REST), "--window", "30", "--step", "0.001"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "windows; at most 100,000" in err[0] and "--step" in err[0]
    assert main(["analyze", str(REST), "--window", "30", "--step", "5", "--json"]) == 0
