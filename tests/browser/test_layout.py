"""The breath stays in view: Start without scrolling, and the whole circle on screen from Start
to the end of a practice, at the sizes patients use (two laptops and a phone).

Each size runs one sped-up practice (a 1-minute session at 6x) and samples the circle's box at
every animation frame, at its largest scale (the shape's layout box: scale 1.0 fills it), from
the click on Start to the end. Screenshots of what the patient sees (the viewport, not the
whole page) go to test-artifacts/layout-WxH-{start,lead-in,mid,end}.png.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_page import tid, wait_connected
from tests.browser.test_practice import StartServer, wait_live

SIZES = [(1280, 800), (1366, 768), (390, 844)]

# Samples, every frame until the session has ended: the circle's full-size box, the lead-in
# words and where the heart-rate value is, from the first frame after the click on Start.
SAMPLE_UNTIL_ENDED = """() => {
    window.__samples = [];
    const shape = document.querySelector('[data-testid="pacer"]');
    const words = document.getElementById('pacer-words');
    const hr = document.querySelector('[data-testid="hr"]');
    const frame = () => {
        const r = shape.getBoundingClientRect();
        const cx = (r.left + r.right) / 2, cy = (r.top + r.bottom) / 2;
        const half = shape.offsetWidth / 2, halfH = shape.offsetHeight / 2;
        const w = words.getBoundingClientRect();
        const h = hr.getBoundingClientRect();
        window.__samples.push({
            t: performance.now(),
            phase: document.body.dataset.phase,
            view: document.body.dataset.view,
            box: [cx - half, cy - halfH, cx + half, cy + halfH],
            words: words.textContent,
            wordsBox: [w.left, w.top, w.right, w.bottom],
            hrBox: [h.left, h.top, h.right, h.bottom],
            vw: window.innerWidth,
            vh: window.innerHeight,
        });
        if (document.body.dataset.phase !== 'ended') requestAnimationFrame(frame);
    };
    const start = document.querySelector('[data-testid="start"]');
    start.addEventListener('click', () => requestAnimationFrame(frame), {once: true});
}"""


def inside(box: list[float], vw: float, vh: float) -> bool:
    left, top, right, bottom = box
    return left >= -0.5 and top >= -0.5 and right <= vw + 0.5 and bottom <= vh + 0.5


def start_is_visible(page: Any) -> bool:
    """Start lies within the viewport, unscrolled, and nothing covers its centre."""
    return bool(
        page.eval_on_selector(
            tid("start"),
            """(el) => {
                const r = el.getBoundingClientRect();
                if (window.scrollY !== 0) return false;
                if (r.top < 0 || r.left < 0 || r.bottom > innerHeight || r.right > innerWidth) {
                    return false;
                }
                const x = (r.left + r.right) / 2, y = (r.top + r.bottom) / 2;
                const hit = document.elementFromPoint(x, y);
                return hit === el || el.contains(hit);
            }""",
        )
    )


@pytest.mark.parametrize(("width", "height"), SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_the_circle_stays_in_view_from_start_to_end(
    start_server: StartServer, open_page: Any, artifacts_dir: Path, width: int, height: int
) -> None:
    server = start_server("--minutes", "1", speed="6")
    watched = open_page(server.url, width=width, height=height)
    page = watched.page
    wait_connected(page)
    wait_live(page)
    page.wait_for_function("sel => !document.querySelector(sel).disabled", arg=tid("start"))
    name = f"layout-{width}x{height}"
    page.screenshot(path=str(artifacts_dir / f"{name}-start.png"))
    assert start_is_visible(page), "Start is not on the first screen"

    page.evaluate(SAMPLE_UNTIL_ENDED)
    page.locator(tid("start")).click()
    page.wait_for_function(
        "() => document.getElementById('pacer-words').textContent.startsWith('Settle in')"
    )
    page.screenshot(path=str(artifacts_dir / f"{name}-lead-in.png"))
    page.wait_for_function("() => document.body.dataset.phase === 'running'", timeout=10_000)
    page.wait_for_timeout(4_000)
    page.screenshot(path=str(artifacts_dir / f"{name}-mid.png"))
    page.wait_for_function("() => document.body.dataset.phase === 'ended'", timeout=30_000)
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts_dir / f"{name}-end.png"))

    samples: list[dict[str, Any]] = page.evaluate("window.__samples")
    practice = [s for s in samples if s["phase"] != "ended"]
    assert len(practice) > 100, len(practice)
    outside = [s for s in practice if not inside(s["box"], s["vw"], s["vh"])]
    assert outside == [], f"the circle left the screen: {outside[:3]}"
    # The lead-in was on screen, right under the circle.
    lead_in = [s for s in practice if s["words"].startswith("Settle in")]
    assert lead_in, "no lead-in seen"
    assert all(inside(s["wordsBox"], s["vw"], s["vh"]) for s in lead_in), lead_in[:3]
    # The live heart rate is on screen too: beside the circle (laptop) or below it (phone).
    running = [s for s in practice if s["phase"] == "running"]
    assert running
    assert all(inside(s["hrBox"], s["vw"], s["vh"]) for s in running), running[-1]
    last = running[-1]
    if width >= 1000:
        assert last["hrBox"][0] >= last["box"][2], "live values are not beside the circle"
    else:
        assert last["hrBox"][1] >= last["box"][3], "live values are not below the circle"
    assert watched.console_errors == []
