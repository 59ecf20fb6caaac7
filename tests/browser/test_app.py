"""The patient's app: plain ``hrvcalm`` serves the page, the page chooses the source, sessions
follow one another, and the server stays up when the page is closed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import SERVER_START_TIMEOUT_S, _answers, _free_port
from tests.browser.test_page import text, tid, wait_connected
from tests.browser.test_practice import wait_live, wait_phase
from tests.cli.test_practice_store import listed


@pytest.fixture
def app_url(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes], dict[str, str]]]:
    """``hrvcalm --port P --no-browser --speed 8``: no subcommand, so the app."""
    env = {**os.environ, "HRVCALM_DB": str(tmp_path / "sessions.db")}
    port = _free_port()
    cmd = [sys.executable, "-m", "hrvcalm", "--port", str(port), "--no-browser", "--speed", "8"]
    url = f"http://127.0.0.1:{port}/"
    with tempfile.TemporaryFile() as stderr:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            deadline = time.monotonic() + SERVER_START_TIMEOUT_S
            while not _answers(url):
                if proc.poll() is not None or time.monotonic() > deadline:
                    stderr.seek(0)
                    pytest.fail(f"the app did not start: {stderr.read().decode()}")
                time.sleep(0.2)
            yield url, proc, env
        finally:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=10)


def choose(page: Any, choice: str) -> None:
    page.select_option(tid("source"), choice)


def practise_a_little(page: Any) -> None:
    page.wait_for_function("sel => !document.querySelector(sel).disabled", arg=tid("start"))
    page.locator(tid("start")).click()
    wait_phase(page, "running", 10_000)
    page.wait_for_timeout(3_000)
    page.locator(tid("stop")).click()
    wait_phase(page, "ended", 10_000)
    page.wait_for_selector(tid("summary"), state="visible", timeout=5_000)


def test_the_page_chooses_the_source_and_the_app_stays_up(
    app_url: tuple[str, subprocess.Popen[bytes], dict[str, str]],
    open_page: Any,
    artifacts_dir: Path,
) -> None:
    url, proc, env = app_url
    watched = open_page(url, width=1280, height=800)
    page = watched.page
    wait_connected(page)
    page.wait_for_function(
        "sel => document.querySelector(sel).options.length >= 4", arg=tid("source")
    )
    labels = page.eval_on_selector(tid("source"), "(s) => [...s.options].map((o) => o.value)")
    assert labels == ["", "virtual", "recording", "sim"]
    assert page.locator(tid("start")).is_disabled()  # nothing to practise with yet
    assert text(page, "cue").startswith("Welcome. First choose your strap")
    page.screenshot(path=str(artifacts_dir / "app-choose.png"))

    choose(page, "sim")
    wait_live(page)
    practise_a_little(page)
    page.context.close()  # the patient closes the page ...
    time.sleep(2.0)
    assert proc.poll() is None and _answers(url)  # ... and the app is still there

    page = open_page(url, width=390, height=844).page
    wait_connected(page)
    page.wait_for_selector(tid("summary"), state="visible", timeout=5_000)  # where it was left
    page.locator(tid("new-session")).click()
    wait_phase(page, "ready", 10_000)
    choose(page, "recording")
    page.wait_for_function(
        "sel => document.querySelector(sel).textContent.includes('plays from Start')",
        arg=tid("device-state"),
    )
    practise_a_little(page)
    assert page.locator(tid("hr-trace")).get_attribute("data-points") != "0"

    page.locator(tid("new-session")).click()
    wait_phase(page, "ready", 10_000)
    page.locator(tid("scan")).click()  # no Bluetooth on this machine: it says so
    page.wait_for_function(
        "() => /strap/i.test(document.getElementById('errors').textContent)", timeout=20_000
    )
    proc.terminate()
    proc.wait(timeout=10)
    demo = listed(env, Path(env["HRVCALM_DB"]).with_name("demo.db"))
    assert [s["source"] for s in demo] == ["sim", demo[1]["source"]]
    assert demo[1]["source"].startswith("replay:")
    assert all(s["ended_reason"] == "stopped" for s in demo)
    assert not Path(env["HRVCALM_DB"]).exists() or listed(env) == []  # not the patient's course
