"""Tier 2: the real BlueZ stack in a QEMU guest (about a minute; opt in with HRVCALM_TIER2=1).

The guest (scripts/bluez-vm/) boots Debian's kernel with software emulation, loads hci_vhci,
starts dbus and bluetoothd, and runs tests/bluez/scenario.py: a bumble controller on the vhci
transport, linked to the virtual strap, and our StrapSource on bleak's default BlueZ backend.
Install the guest's packages with scripts/bluez-vm/install-deps.sh (Debian, as root).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.skipif(
    os.environ.get("HRVCALM_TIER2") != "1", reason="tier 2 (QEMU + BlueZ): set HRVCALM_TIER2=1"
)


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    missing = [t for t in ("qemu-system-x86_64", "busybox", "bluetoothctl") if not shutil.which(t)]
    assert not missing, f"install scripts/bluez-vm/install-deps.sh first (missing {missing})"
    out: Path = tmp_path_factory.mktemp("bluez-vm")
    run = subprocess.run(
        [str(REPO / "scripts/bluez-vm/run.sh"), str(out)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    result_file = out / "scenario.json"
    assert result_file.is_file() and result_file.stat().st_size, (
        f"no scenario output\n{run.stdout}\n{run.stderr}\n"
        + (out / "scenario.err").read_text(errors="replace")[-3000:]
        if (out / "scenario.err").exists()
        else run.stderr
    )
    result: dict[str, object] = json.loads(result_file.read_text())
    return result


def test_scan_finds_the_strap_through_bluez(outcome: dict[str, object]) -> None:
    assert "error" not in outcome, outcome.get("error")
    scan = outcome["scan"]
    assert isinstance(scan, list)
    assert [row[:2] for row in scan] == [["Polar H10 V1RTU4L", outcome["address"]]]


def test_connect_notify_drop_reconnect_through_bluez(outcome: dict[str, object]) -> None:
    events = outcome["events"]
    assert isinstance(events, list)
    states = [e["state"] for e in events]
    assert states[:2] == ["connecting", "connected"]
    lost = states.index("lost")
    assert states[lost + 1] == "reconnecting"
    assert "connected" in states[lost + 2 :]
    assert outcome["reconnects"] == 1
    rr = outcome["rr_1024"]
    expected = outcome["expected_1024"]
    assert isinstance(rr, list) and isinstance(expected, list)
    split = next(i for i in range(len(rr)) if rr[i] != expected[i])
    assert split >= 15
    tail = rr[split:]
    assert len(tail) >= 10
    assert any(expected[k : k + len(tail)] == tail for k in range(split, len(expected)))
