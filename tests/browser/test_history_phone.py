"""The history page on a phone, and its way back to the practice page.

- The sessions table is wider than a phone: it scrolls sideways, and says so.
- ``hrvcalm history`` runs no practice: its "Practice" link opens a page that says so once,
  instead of reconnecting forever.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.browser.test_history import CourseSession, history_url  # noqa: F401 - a fixture


def test_table_scrolls_sideways_with_a_cue_and_practice_link_does_not_retry(
    history_url: tuple[str, list[CourseSession]],  # noqa: F811
    open_page: Any,
    artifacts_dir: Path,
) -> None:
    url, _ = history_url
    watched = open_page(url, width=390, height=844)
    page = watched.page
    page.wait_for_selector('#history[data-state="ready"]', timeout=10_000)
    wrap = page.locator("#table-wrap")
    wrap.scroll_into_view_if_needed()
    assert page.evaluate("() => document.documentElement.scrollWidth <= innerWidth")
    widths = wrap.evaluate("(el) => [el.scrollWidth, el.clientWidth]")
    assert widths[0] > widths[1], widths  # the table is wider than the phone...
    cue = page.locator('[data-testid="table-cue"]')
    assert cue.is_visible() and "sideways" in cue.inner_text()  # ... and says so
    assert wrap.get_attribute("data-more") == "right"
    page.screenshot(path=str(artifacts_dir / "history-phone-table.png"))
    wrap.evaluate(
        "(el) => { el.scrollLeft = el.scrollWidth; el.dispatchEvent(new Event('scroll')); }"
    )
    page.wait_for_function("() => document.getElementById('table-wrap').dataset.more === ''")

    page.locator("nav a", has_text="Practice").click()
    page.wait_for_url("**/")
    banner = page.locator("#server-banner")
    banner.wait_for(state="visible", timeout=10_000)
    page.wait_for_function(
        "() => document.getElementById('server-banner').textContent.includes('No practice')"
    )
    page.wait_for_timeout(4_000)  # a retrying page would have tried 3 more times by now
    sockets = [u for u in watched.websockets if u.endswith("/ws")]
    assert len(sockets) == 1, sockets
    assert "No practice is running" in banner.inner_text()
    assert page.locator('[data-testid="start"]').is_disabled()
    page.screenshot(path=str(artifacts_dir / "history-practice-link.png"))
