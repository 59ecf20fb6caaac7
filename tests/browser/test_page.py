"""The breath-pacing page in a real browser, against a real ``hrvcalm session`` server.

Run with ``python -m pytest tests/browser -q``; needs ``/usr/bin/chromium``.
"""

from __future__ import annotations

import itertools
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

# DESIGN.md section 4: the page hooks browser tests rely on.
TEST_IDS = (
    "pacer", "hr", "rmssd", "coherence", "relaxation", "timer", "device-state",
    "start", "stop", "rate", "pain-before", "pain-after", "stress-before", "stress-after",
)  # fmt: skip

LOCAL_HOST = "127.0.0.1"


def tid(test_id: str) -> str:
    return f'[data-testid="{test_id}"]'


def wait_connected(page: Any) -> None:
    """Until the server's hello has been applied (the protocol line is filled in)."""
    page.wait_for_function(
        "() => /^\\d/.test(document.getElementById('protocol').textContent)", timeout=10_000
    )


def set_rate(page: Any, rate_bpm: float) -> None:
    """Move the rate slider as a user would (input events, then change) and wait for the
    server's ``pacer`` broadcast to come back with that rate."""
    page.eval_on_selector(
        tid("rate"),
        """(el, value) => {
            el.value = String(value);
            el.dispatchEvent(new Event('input', {bubbles: true}));
            el.dispatchEvent(new Event('change', {bubbles: true}));
        }""",
        rate_bpm,
    )
    wait_rate(page, rate_bpm)


def wait_rate(page: Any, rate_bpm: float) -> None:
    page.wait_for_function(
        "([sel, rate]) => Number(document.querySelector(sel).dataset.rate) === rate",
        arg=[tid("pacer"), rate_bpm],
        timeout=10_000,
    )


def text(page: Any, test_id: str) -> str:
    return str(page.locator(tid(test_id)).inner_text()).strip()


def test_page_loads_without_errors_or_outside_requests(server_url: str, open_page: Any) -> None:
    watched = open_page(server_url)
    wait_connected(watched.page)
    watched.page.wait_for_timeout(2000)  # let beats, metrics and the pacer loop run a while

    assert watched.console_errors == []
    assert watched.requests, "no request recorded at all"
    outside = [
        url
        for url in watched.requests + watched.websockets
        if not url.startswith("data:") and urlparse(url).hostname != LOCAL_HOST
    ]
    assert outside == []
    assert [urlparse(url).path for url in watched.websockets] == ["/ws"]


def test_all_design_hooks_exist(server_url: str, open_page: Any) -> None:
    page = open_page(server_url).page
    wait_connected(page)
    missing = [test_id for test_id in TEST_IDS if page.locator(tid(test_id)).count() != 1]
    assert missing == []
    rate = page.locator(tid("rate"))
    assert [rate.get_attribute(a) for a in ("type", "min", "max", "step")] == [
        "range", "3", "10", "0.5",
    ]  # fmt: skip
    assert page.locator(tid("pacer")).get_attribute("data-phase") in {"inhale", "exhale"}
    assert 0.5 <= float(page.locator(tid("pacer")).get_attribute("data-scale") or "nan") <= 1.0


def upward_crossings(samples: list[list[float]], level: float) -> list[float]:
    """Times (s) at which the scale rises through `level`, linearly interpolated."""
    times = []
    for (t0, s0), (t1, s1) in itertools.pairwise(samples):
        if s0 < level <= s1:
            times.append(t0 + (level - s0) / (s1 - s0) * (t1 - t0))
    return times


def test_pacer_follows_rate_10_with_a_6_second_cycle(server_url: str, open_page: Any) -> None:
    page = open_page(server_url).page
    wait_connected(page)
    set_rate(page, 10)
    assert page.locator("#rate-value").inner_text() == "10.0 breaths/min"

    samples = page.eval_on_selector(
        tid("pacer"),
        """async (el) => {
            const out = [];
            const start = performance.now();
            while (performance.now() - start < 13000) {
                const m = getComputedStyle(el).transform.match(/^matrix\\(([^,]+)/);
                out.push([performance.now() / 1000, Number(el.dataset.scale),
                          el.dataset.phase, m ? Number(m[1]) : NaN]);
                await new Promise((resolve) => setTimeout(resolve, 100));
            }
            return out;
        }""",
    )
    assert len(samples) >= 100
    scales = [s[1] for s in samples]
    assert 0.49 <= min(scales) <= 0.53, min(scales)
    assert 0.97 <= max(scales) <= 1.01, max(scales)
    assert {s[2] for s in samples} == {"inhale", "exhale"}
    # The shape is really drawn at that scale (CSS transform), not just labelled.
    assert all(abs(s[3] - s[1]) < 0.05 for s in samples), samples[:5]

    crossings = upward_crossings([[s[0], s[1]] for s in samples], 0.75)
    assert len(crossings) >= 2, crossings
    periods = [b - a for a, b in itertools.pairwise(crossings)]
    assert all(abs(p - 6.0) <= 0.3 for p in periods), periods


def test_live_values_arrive_and_change(
    server_url: str, open_page: Any, artifacts_dir: Path
) -> None:
    page = open_page(server_url).page
    wait_connected(page)
    start = page.locator(tid("start"))
    if start.is_enabled():
        start.click()
    page.wait_for_function(
        "sel => !document.querySelector(sel).disabled", arg=tid("stop"), timeout=10_000
    )
    assert start.is_disabled()

    page.wait_for_function(
        "sel => /^\\d+$/.test(document.querySelector(sel).textContent.trim())",
        arg=tid("hr"),
        timeout=20_000,
    )
    page.wait_for_function(
        "sel => /^\\d+\\.\\d$/.test(document.querySelector(sel).textContent.trim())",
        arg=tid("rmssd"),
        timeout=20_000,
    )
    assert 30 <= int(text(page, "hr")) <= 200
    assert 0 < float(text(page, "rmssd")) < 500
    assert page.locator(tid("device-state")).get_attribute("data-state") == "connected"

    seen_hr = {text(page, "hr")}
    first_timer = text(page, "timer")
    assert re.fullmatch(r"\d\d:\d\d", first_timer)
    deadline = time.monotonic() + 15
    while (len(seen_hr) < 2 or text(page, "timer") == first_timer) and time.monotonic() < deadline:
        page.wait_for_timeout(250)
        seen_hr.add(text(page, "hr"))
    assert len(seen_hr) >= 2, f"heart rate stayed at {seen_hr}"
    assert text(page, "timer") != first_timer, "session timer did not advance"

    page.screenshot(path=str(artifacts_dir / "page.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(artifacts_dir / "page-phone.png"), full_page=True)


def test_second_page_shows_the_same_pacer(server_url: str, open_page: Any) -> None:
    first = open_page(server_url).page
    wait_connected(first)
    set_rate(first, 4.5)

    second = open_page(server_url).page
    wait_connected(second)
    wait_rate(second, 4.5)
    assert second.locator(tid("rate")).input_value() == "4.5"
    assert second.locator("#rate-value").inner_text() == "4.5 breaths/min"

    # Both pages breathe in step (same t0 from the server), and follow each other's changes.
    scales = [p.locator(tid("pacer")).get_attribute("data-scale") for p in (first, second)]
    assert abs(float(scales[0] or "nan") - float(scales[1] or "nan")) < 0.05, scales
    set_rate(second, 8)
    wait_rate(first, 8)


def test_ratings_reach_the_server_and_other_pages(server_url: str, open_page: Any) -> None:
    first = open_page(server_url).page
    wait_connected(first)
    assert first.locator(tid("pain-before")).is_visible()
    first.select_option(tid("pain-before"), "3")
    first.select_option(tid("stress-before"), "7")

    # The server keeps the ratings and sends them with the session state to every page.
    second = open_page(server_url).page
    wait_connected(second)
    second.wait_for_function(
        "([p, s]) => document.querySelector(p).value === '3'"
        " && document.querySelector(s).value === '7'",
        arg=[tid("pain-before"), tid("stress-before")],
        timeout=5_000,
    )
    assert second.locator(tid("pain-after")).input_value() == ""
