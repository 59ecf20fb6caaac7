"""An ending that tells how it went, then a new session without restarting anything.

One ``hrvcalm session`` (simulated strap, 1-minute sessions at 8x): a first practice on a
laptop-sized window with pain and stress before and after, its summary, New session, a second
practice on a phone-sized window; both are stored apart, and ``sessions show`` prints the
same summary the page showed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.browser.test_page import text, tid, wait_connected
from tests.browser.test_practice import StartServer, wait_live, wait_phase


def summary_rows(page: Any) -> dict[str, list[str]]:
    rows = page.eval_on_selector_all(
        "#summary-rows tr",
        """(trs) => trs.map((tr) => [
            tr.querySelector('th').firstChild.textContent,
            ...[...tr.querySelectorAll('td')].map((td) => td.textContent),
        ])""",
    )
    return {row[0]: row[1:] for row in rows}


def practise(page: Any) -> None:
    page.wait_for_function("sel => !document.querySelector(sel).disabled", arg=tid("start"))
    page.locator(tid("start")).click()
    wait_phase(page, "running", 10_000)
    wait_phase(page, "ended", 30_000)
    page.wait_for_selector(tid("summary"), state="visible", timeout=5_000)


def test_summary_then_a_new_session_both_stored(
    start_server: StartServer, open_page: Any, artifacts_dir: Path, tmp_path: Path
) -> None:
    db = tmp_path / "two.db"
    server = start_server("--minutes", "1", "--db", str(db), speed="8")
    watched = open_page(server.url, width=1280, height=800)
    page = watched.page
    wait_connected(page)
    wait_live(page)
    page.select_option(tid("pain-before"), "6")
    page.select_option(tid("stress-before"), "5")
    page.wait_for_function(
        "sel => document.querySelector(sel).textContent === 'Saved.'", arg=tid("saved-before")
    )
    practise(page)

    summary = page.locator(tid("summary"))
    assert text(page, "summary").startswith("How it went")
    assert "You practised 1 min of paced breathing." in summary.inner_text()
    rows = summary_rows(page)
    assert list(rows) == ["Heart rate", "Variability (RMSSD)", "Relaxation", "Pain", "Stress"]
    assert all(v.isdigit() for v in rows["Heart rate"]), rows
    assert rows["Pain"] == ["6", "—"] and rows["Stress"] == ["5", "—"]
    zones = page.locator("#zones-text").inner_text()
    assert zones.startswith("low ") and " · medium " in zones and " · high " in zones
    assert page.locator("#summary-next .tip").count() >= 1
    assert page.locator(tid("new-session")).is_visible()
    assert not page.locator(tid("start")).is_visible()

    # The after-ratings reach the summary.
    page.select_option(tid("pain-after"), "4")
    page.select_option(tid("stress-after"), "3")
    page.locator(tid("save-after")).click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('#summary-rows td')].map((td) => td.textContent)"
        ".slice(6).join(',') === '6,4,5,3'"
    )
    page.screenshot(path=str(artifacts_dir / "ending-1280x800.png"))

    # A new session, on a phone this time, without restarting anything.
    page.locator(tid("new-session")).click()
    wait_phase(page, "ready", 10_000)
    page.set_viewport_size({"width": 390, "height": 844})
    assert not summary.is_visible()
    assert page.locator(tid("start")).is_visible()
    assert page.locator(tid("pain-before")).input_value() == ""
    assert text(page, "timer") == "00:00"
    practise(page)
    assert summary_rows(page)["Pain"] == ["—", "—"]
    page.screenshot(path=str(artifacts_dir / "ending-390x844.png"))
    page.screenshot(path=str(artifacts_dir / "ending-390x844-full.png"), full_page=True)
    assert watched.console_errors == []
    page.context.close()
    server.stop()

    def cli(*args: str) -> Any:
        out = subprocess.run(
            [sys.executable, "-m", "hrvcalm", "sessions", *args, "--db", str(db)],
            capture_output=True,
            text=True,
            check=True,
        )
        return json.loads(out.stdout) if "--json" in args else out.stdout

    first, second = cli("list", "--json")
    assert (first["ended_reason"], second["ended_reason"]) == ("completed", "completed")
    assert first["ratings"] == {
        "before": {"pain": 6, "stress": 5, "note": None},
        "after": {"pain": 4, "stress": 3, "note": None},
    }
    assert second["ratings"] == {}
    assert first["minutes_practised"] == second["minutes_practised"] == 1.0
    shown = cli("show", str(first["id"]), "--json")
    assert shown["summary"]["ratings"]["after"] == {"pain": 4, "stress": 3}
    assert shown["summary"]["minutes"] == 1.0
    printed = cli("show", str(first["id"]))
    assert "how it went 1:00 practised (completed)" in printed
    assert "next time" in printed
