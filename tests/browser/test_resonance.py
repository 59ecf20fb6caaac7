"""The "Find your breathing rate" practice in a real browser, run from the page.

A shortened protocol (``HRVCALM_RESONANCE_STEP_S=90``: five 90-s steps, 7.5 minutes of
session time) on a simulated person whose resonance rate is 5/min, at 40x speed: the whole
assessment takes about 15 s of wall time.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import ServerProcess
from tests.browser.test_page import text, tid, wait_connected
from tests.browser.test_practice import wait_phase

StartServer = Callable[..., ServerProcess]

# Records every new text of the step line.
WATCH_STEPS = """(el) => {
    window.__steps = [el.textContent];
    new MutationObserver(() => {
        if (window.__steps.at(-1) !== el.textContent) window.__steps.push(el.textContent);
    }).observe(el, {childList: true, characterData: true, subtree: true});
}"""


def test_resonance_practice_shows_steps_and_the_result(
    start_server: StartServer,
    open_page: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    artifacts_dir: Path,
) -> None:
    monkeypatch.setenv("HRVCALM_RESONANCE_STEP_S", "90")
    db = tmp_path / "r.db"
    server = start_server("--db", str(db), source="sim:seed=3,resonance=5.0", speed="40")
    watched = open_page(server.url)
    page = watched.page
    wait_connected(page)

    page.locator('input[name="practice"][value="resonance"]').check()
    page.wait_for_function(
        "sel => document.querySelector(sel).textContent.startsWith('Find your breathing rate')",
        arg=tid("cue"),
    )
    assert not page.locator(tid("minutes")).is_visible()  # the protocol fixes the length
    # The length the server runs, from its hello (the page used to show a built-in 10:00).
    assert text(page, "remaining") == "07:30 left"
    hint = page.locator("#resonance-hint").inner_text()
    assert hint.startswith("About 7.5 minutes: 1.5 minutes at each"), hint
    page.eval_on_selector(tid("resonance-step"), WATCH_STEPS)
    page.locator(tid("start")).click()
    wait_phase(page, "running", 10_000)
    page.wait_for_function(
        "sel => document.querySelector(sel).textContent.startsWith('Step 2 of 5')",
        arg=tid("resonance-step"),
        timeout=10_000,
    )
    assert page.locator(tid("resonance")).is_visible()
    assert not page.locator(tid("rate")).is_visible()  # the server sets the pace
    assert not page.locator(tid("ratio")).is_visible()
    current = page.locator('#resonance-steps li[data-state="current"]').inner_text()
    assert current == "6.0 breaths/min"
    assert page.locator(tid("pacer")).get_attribute("data-rate") == "6"
    page.screenshot(path=str(artifacts_dir / "resonance-mid.png"), full_page=True)

    wait_phase(page, "ended", 30_000)
    page.wait_for_function(
        "sel => !document.querySelector(sel).hidden", arg=tid("resonance-result")
    )
    steps: list[str] = page.evaluate("window.__steps")
    shown = [s for s in steps if s.startswith("Step")]
    assert shown == [
        "Step 1 of 5 · 6.5 breaths/min",
        "Step 2 of 5 · 6.0 breaths/min",
        "Step 3 of 5 · 5.5 breaths/min",
        "Step 4 of 5 · 5.0 breaths/min",
        "Step 5 of 5 · 4.5 breaths/min",
    ]
    assert text(page, "resonance-chosen") == (
        "Your breathing rate: 5.0 breaths/min. Your next sessions start at this pace."
    )
    rows = page.locator(f"{tid('resonance-table')} tbody tr")
    assert rows.count() == 5
    chosen = page.locator(f"{tid('resonance-table')} tbody tr.chosen td").first.inner_text()
    assert chosen == "5.0 breaths/min"
    page.wait_for_function(
        "sel => document.querySelector(sel).textContent.includes('rate is 5.0 breaths/min.')",
        arg=tid("cue"),
        timeout=5_000,
    )
    page.screenshot(path=str(artifacts_dir / "resonance-end.png"), full_page=True)
    assert watched.console_errors == []

    api = urllib.request.Request(server.url + "api/sessions", headers={"X-Hrvcalm": "1"})
    with urllib.request.urlopen(api, timeout=5) as response:
        stored = json.load(response)
    assert float(stored["pacer_rate_bpm"]) == 5.0
