"""Numbers with meaning: coherence as a zone, the breathing rate next to the pacer's, what 50
means for relaxation, and every value explained in plain words one tap (or key) away.

On a touch phone (390x844, touch events) against a simulated strap breathing at 6/min, 8x.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.browser.test_page import text, tid, wait_connected
from tests.browser.test_practice import StartServer, wait_live

EXPLAINED = ("hr", "rmssd", "coherence-zone", "relaxation", "breathing-rate")


def test_values_have_zones_rates_and_plain_words(
    start_server: StartServer, browser: Any, artifacts_dir: Path
) -> None:
    server = start_server(speed="8")
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True
    )
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(server.url)
        wait_connected(page)
        wait_live(page)
        page.locator(tid("start")).tap()
        page.wait_for_function("() => document.body.dataset.phase === 'running'", timeout=10_000)
        assert text(page, "sound") == "Sound off"  # Start never switches the sound on

        # Coherence shows a zone, not a bare ratio.
        page.wait_for_function(
            "sel => ['low', 'medium', 'high'].includes(document.querySelector(sel).textContent)",
            arg=tid("coherence-zone"),
            timeout=30_000,
        )
        # The measured breathing rate beside the pacer's (the simulated strap breathes at 6).
        page.wait_for_function(
            "sel => document.querySelector(sel).textContent.startsWith('you: ')",
            arg=tid("breathing-rate"),
            timeout=40_000,
        )
        rate = text(page, "breathing-rate")
        found = re.fullmatch(r"you: (\d+\.\d) / pacer: (\d+\.\d) per minute", rate)
        assert found, rate
        assert abs(float(found[1]) - 6.0) < 1.0 and found[2] == "6.0", rate

        # What 50 means is written out, not hidden.
        relaxation_card = page.locator(".reading", has=page.locator(tid("relaxation")))
        assert (
            "50 = as relaxed as you were at rest before the practice"
            in relaxation_card.inner_text()
        )

        # Every value explained one tap away (a <details>, not a hover tooltip).
        for hook in EXPLAINED:
            card = page.locator(".reading", has=page.locator(tid(hook)))
            details = card.locator("details.explain")
            assert details.count() == 1, hook
            assert details.get_attribute("open") is None
            details.locator("summary").tap()
            assert details.get_attribute("open") is not None, hook
            words = details.locator("p").inner_text()
            assert details.locator("p").is_visible() and len(words) > 60, (hook, words)
        page.locator(tid("hr")).scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts_dir / "meaning-phone.png"), full_page=True)
        # ... and from the keyboard.
        summary = page.locator(".reading", has=page.locator(tid("rmssd"))).locator("summary")
        summary.focus()
        page.keyboard.press("Enter")
        assert summary.locator("xpath=..").get_attribute("open") is None  # closed again
        assert errors == []
    finally:
        context.close()


def test_zone_and_rate_wording_without_the_server(server_url: str, open_page: Any) -> None:
    """The page's own fallback zones (docs/protocol.md) and the rate's wording."""
    page = open_page(server_url).page
    wait_connected(page)
    result = page.evaluate(
        """async () => {
            const f = await import('/format.js');
            return {
                zones: [0, 0.89, 0.9, 3.9, 4.0, 12, null]
                    .map((c) => f.coherenceZone({coherence: c})),
                sent: f.coherenceZone({coherence: 0.1, coherence_zone: 'high'}),
                rates: [
                    f.breathingRateText(5.8, 6.0), f.breathingRateText(null, 6.0),
                    f.breathingRateText(11.94, null),
                ],
                relax: [50, 58, 70, 30, null].map(f.relaxationWords),
            };
        }"""
    )
    assert result["zones"] == ["low", "low", "medium", "medium", "high", "high", None]
    assert result["sent"] == "high"
    assert result["rates"] == ["you: 5.8 / pacer: 6.0 per minute", "—", "you: 11.9 per minute"]
    assert result["relax"][0] == "about as relaxed as at rest"
    assert result["relax"][2] == "more relaxed than at rest"
    assert result["relax"][3] == "less relaxed than at rest"
    assert result["relax"][4] == ""
