"""Shared test helpers: where the fixtures and ../shared recordings are."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures" / "recordings"
SHARED_RECORDINGS = REPO.parent / "shared" / "recordings"


def load_rr_column(path: Path) -> npt.NDArray[np.float64]:
    """RR values read with plain numpy (independent of our readers): last column, ms."""
    data = np.loadtxt(path, delimiter="," if path.suffix == ".csv" else None, ndmin=2)
    return np.asarray(data[:, -1], dtype=np.float64)


@pytest.fixture(autouse=True)
def private_session_db(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Every test (and every process it starts) stores sessions in a throwaway database,
    never in the user's own ``~/.local/share/hrvcalm/sessions.db``."""
    path = tmp_path_factory.mktemp("db") / "sessions.db"
    monkeypatch.setenv("HRVCALM_DB", str(path))
    monkeypatch.delenv("HRVCALM_STORE", raising=False)  # never a clinic's server either
    return path


@pytest.fixture
def rest_rr() -> npt.NDArray[np.float64]:
    """910 resting RR intervals from a Polar chest strap (rest_rri.txt), ms."""
    return load_rr_column(FIXTURES / "polar_rr_rhenanbartels_hrv" / "rest_rri.txt")


@pytest.fixture
def slow_breathing_rr() -> npt.NDArray[np.float64]:
    """620 RR intervals from a Polar H10 during slow breathing (the demo recording), ms."""
    return load_rr_column(FIXTURES / "polar_h10_ibi_slowbreathing" / "sample_data_ibi.csv")


#: Test folders whose tests get a marker, so a tier can be chosen or left out with ``-m``
#: (``-m "not browser and not bluez"`` runs the fast tiers only).
_FOLDER_MARKERS = {"browser": "browser", "bluez": "bluez", "validation": "slow"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        folder = item.path.relative_to(REPO / "tests").parts[0]
        marker = _FOLDER_MARKERS.get(folder)
        if marker is not None:
            item.add_marker(marker)
