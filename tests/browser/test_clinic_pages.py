"""The clinician's journey in a real browser: relays stream named patients to ``hrvcalm
serve``; the watch page of a session shows its beats."""

from __future__ import annotations

import re
from typing import Any

from tests.browser.clinic_servers import Clinic, clinic  # noqa: F401 - fixture

BEAT_TIMEOUT_MS = 20_000


def test_watch_page_shows_the_relayed_heart_rate(clinic: Clinic, open_page: Any) -> None:  # noqa: F811
    clinic.relay("Ann B.")
    (row,) = clinic.wait_for_sessions(1)
    assert row["patient"] == "Ann B."
    watched = open_page(clinic.url.rstrip("/") + row["watch_path"])
    page = watched.page
    page.wait_for_function(
        "() => /^\\d+$/.test(document.querySelector('[data-testid=hr]').textContent.trim())",
        timeout=BEAT_TIMEOUT_MS,
    )
    first_hr = int(page.get_by_test_id("hr").text_content())
    assert 40 <= first_hr <= 120
    # the page follows the live session: the timer runs
    timer = page.get_by_test_id("timer").text_content()
    page.wait_for_function(
        "(t) => document.querySelector('[data-testid=timer]').textContent !== t",
        arg=timer,
        timeout=BEAT_TIMEOUT_MS,
    )
    assert any(
        re.search(rf"/ws\?session={re.escape(row['session'])}$", u) for u in watched.websockets
    )
    assert watched.console_errors == []
