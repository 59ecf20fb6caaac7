"""The practice page in a real browser: practices, cues, sound, ratings, reconnection, layout.

Each test starts its own ``hrvcalm session`` (simulated strap or a virtual Bluetooth strap
replaying a real recording) and drives Debian's chromium through Playwright.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import ServerProcess
from tests.browser.test_page import set_rate, text, tid, wait_connected

RECORDING = (
    Path(__file__).resolve().parents[2]
    / "fixtures/recordings/polar_h10_ibi_slowbreathing/sample_data_ibi.csv"
)

StartServer = Callable[..., ServerProcess]

# Records every change of the shape's data-phase, with the time it happened (ms).
WATCH_PHASES = """(el) => {
    window.__phases = [[performance.now(), el.dataset.phase]];
    new MutationObserver(() => {
        if (window.__phases.at(-1)[1] !== el.dataset.phase) {
            window.__phases.push([performance.now(), el.dataset.phase]);
        }
    }).observe(el, {attributes: true, attributeFilter: ['data-phase']});
}"""

# Records every new cue text.
WATCH_CUES = """(el) => {
    window.__cues = [el.textContent];
    new MutationObserver(() => {
        if (window.__cues.at(-1) !== el.textContent) window.__cues.push(el.textContent);
    }).observe(el, {childList: true, characterData: true, subtree: true});
}"""


def wait_phase(page: Any, phase: str, timeout_ms: int = 15_000) -> None:
    page.wait_for_function(
        "phase => document.body.dataset.phase === phase", arg=phase, timeout=timeout_ms
    )


def wait_live(page: Any) -> None:
    """Until the heart rate shows a number."""
    page.wait_for_function(
        "sel => /^\\d+$/.test(document.querySelector(sel).textContent.trim())",
        arg=tid("hr"),
        timeout=20_000,
    )


def phase_durations(transitions: list[list[Any]]) -> dict[str, list[float]]:
    """Durations (s) of the complete inhale and exhale phases between recorded transitions."""
    out: dict[str, list[float]] = {"inhale": [], "exhale": []}
    for (t0, phase), (t1, _) in itertools.pairwise(transitions[1:]):
        out[phase].append((t1 - t0) / 1000)
    return out


def test_inhale_exhale_ratio_1_to_2_is_honoured(server_url: str, open_page: Any) -> None:
    page = open_page(server_url).page
    wait_connected(page)
    set_rate(page, 10)  # a 6 s breath
    page.select_option(tid("ratio"), "1:2")
    page.wait_for_function(
        "sel => Number(document.querySelector(sel).dataset.inhaleRatio) === 0.5",
        arg=tid("pacer"),
        timeout=10_000,
    )
    page.eval_on_selector(tid("pacer"), WATCH_PHASES)
    page.wait_for_timeout(13_500)
    durations = phase_durations(page.evaluate("window.__phases"))
    assert len(durations["inhale"]) >= 1 and len(durations["exhale"]) >= 1, durations
    # 6 s breath at 1:2 -> 2 s in, 4 s out (one frame of slack either way, plus timer jitter).
    assert all(abs(d - 2.0) <= 0.15 for d in durations["inhale"]), durations
    assert all(abs(d - 4.0) <= 0.15 for d in durations["exhale"]), durations


def test_sound_cues_follow_each_turn_of_the_breath(server_url: str, open_page: Any) -> None:
    page = open_page(server_url).page
    wait_connected(page)
    set_rate(page, 10)
    sound = page.locator(tid("sound"))
    assert sound.get_attribute("aria-pressed") == "false"  # no sound before a user gesture
    sound.click()
    page.wait_for_function(
        "sel => document.querySelector(sel).getAttribute('aria-pressed') === 'true'",
        arg=tid("sound"),
    )
    page.eval_on_selector(tid("pacer"), WATCH_PHASES)
    page.eval_on_selector(
        tid("sound"),
        """(el) => {
            window.__cues = [];
            new MutationObserver(() => window.__cues.push(performance.now()))
                .observe(el, {attributes: true, attributeFilter: ['data-cues']});
        }""",
    )
    start_ms = page.evaluate("performance.now()")
    page.wait_for_timeout(13_000)
    phases, cues, end_ms = page.evaluate("[window.__phases, window.__cues, performance.now()]")
    turns = [t for t, _ in phases[1:]]
    assert len(turns) >= 4, turns

    def inside(times: list[float]) -> list[float]:  # away from the window's edges
        return [t for t in times if start_ms + 200 < t < end_ms - 200]

    # One cue at each turn of the breath, on time (within a frame or two), and no others.
    assert all(any(abs(c - t) < 60 for c in cues) for t in inside(turns)), (turns, cues)
    assert all(any(abs(c - t) < 60 for t in turns) for c in inside(cues)), (turns, cues)
    sound.press("Enter")  # off again, from the keyboard
    page.wait_for_function(
        "sel => document.querySelector(sel).getAttribute('aria-pressed') === 'false'",
        arg=tid("sound"),
    )


def test_hr_trace_draws_the_recent_beats(server_url: str, open_page: Any) -> None:
    page = open_page(server_url).page
    wait_connected(page)
    wait_live(page)
    page.wait_for_function(
        "sel => Number(document.querySelector(sel).dataset.points) >= 20",
        arg=tid("hr-trace"),
        timeout=20_000,
    )
    # The canvas really has ink on it, not just a counter.
    inked = page.eval_on_selector(
        tid("hr-trace"),
        """(c) => {
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n += 1;
            return n;
        }""",
    )
    assert inked > 500, inked
    # A fresh page gets the server's recent beats at once and draws them immediately.
    second = open_page(server_url).page
    wait_connected(second)
    second.wait_for_function(
        "sel => Number(document.querySelector(sel).dataset.points) >= 20",
        arg=tid("hr-trace"),
        timeout=2_000,
    )


def test_body_scan_cues_ratings_and_note_round_trip(
    start_server: StartServer, open_page: Any, artifacts_dir: Path
) -> None:
    server = start_server("--minutes", "1", speed="6")  # a 60 s session in 10 s
    watched = open_page(server.url)
    page = watched.page
    wait_connected(page)
    wait_live(page)
    assert text(page, "remaining") == "01:00 left"
    page.locator('input[name="practice"][value="body_scan"]').check()
    page.wait_for_function(
        "sel => document.querySelector(sel).textContent.startsWith('Body scan')", arg=tid("cue")
    )
    page.select_option(tid("pain-before"), "6")
    page.select_option(tid("stress-before"), "4")
    page.fill(tid("note-before"), "Stiff after the long drive.")
    page.locator(tid("note-before")).blur()
    page.wait_for_function(
        "sel => document.querySelector(sel).textContent === 'Saved.'", arg=tid("saved-before")
    )
    page.screenshot(path=str(artifacts_dir / "practice-start.png"), full_page=True)

    page.eval_on_selector(tid("cue"), WATCH_CUES)
    page.locator(tid("start")).click()
    assert page.locator(tid("start")).is_disabled()
    wait_phase(page, "running", 10_000)
    page.wait_for_timeout(3_000)
    page.screenshot(path=str(artifacts_dir / "practice-mid.png"), full_page=True)
    wait_phase(page, "ended", 20_000)

    cues: list[str] = page.evaluate("window.__cues")
    body = [c for c in cues if c and not c.startswith(("Body scan:", "Get comfortable"))]
    assert len(body) >= 12, body  # the scan moved on many times in one minute
    toes = next(i for i, c in enumerate(body) if "toes" in c)
    back = next(i for i, c in enumerate(body) if "lower back" in c)
    head = next(i for i, c in enumerate(body) if "top of the head" in c)
    assert toes < back < head, body
    assert "kindness" in body[back] and "nothing to fix" in body[back]

    assert text(page, "cue").startswith("Well done.")
    after = page.locator(tid("pain-after"))
    assert after.is_visible()
    assert not page.locator(tid("pain-before")).is_visible()
    page.select_option(tid("pain-after"), "4")
    page.select_option(tid("stress-after"), "2")
    page.fill(tid("note-after"), "Back eased a little; mind wandered a lot.")
    page.locator(tid("save-after")).click()
    page.wait_for_function(
        "sel => document.querySelector(sel).textContent === 'Saved.'", arg=tid("saved-after")
    )
    page.screenshot(path=str(artifacts_dir / "practice-end.png"), full_page=True)
    assert watched.console_errors == []

    # The server holds them: a fresh page shows all six values.
    fresh = open_page(server.url).page
    wait_connected(fresh)
    fresh.wait_for_function(
        "sel => document.querySelector(sel).value !== ''", arg=tid("note-after")
    )
    values = {
        t: fresh.locator(tid(t)).input_value()
        for t in ("pain-before", "stress-before", "note-before", "pain-after", "stress-after")
    }
    assert values == {
        "pain-before": "6",
        "stress-before": "4",
        "note-before": "Stiff after the long drive.",
        "pain-after": "4",
        "stress-after": "2",
    }
    assert fresh.locator(tid("note-after")).input_value() == (
        "Back eased a little; mind wandered a lot."
    )
    assert fresh.evaluate("document.body.dataset.practice") == "body_scan"


def test_page_reconnects_after_a_server_restart(
    start_server: StartServer, open_page: Any, artifacts_dir: Path
) -> None:
    server = start_server("--autostart")
    page = open_page(server.url).page
    wait_connected(page)
    wait_live(page)

    server.stop(kill=True)
    page.wait_for_selector("#server-banner", state="visible", timeout=5_000)
    assert page.locator(tid("device-state")).get_attribute("data-state") == "unknown"
    page.evaluate("document.getElementById('hr').textContent = 'x'")  # to see it refilled

    server.start()  # a new process on the same port
    page.wait_for_selector("#server-banner", state="hidden", timeout=15_000)
    wait_live(page)
    assert page.locator(tid("device-state")).get_attribute("data-state") == "connected"
    wait_phase(page, "running")
    page.wait_for_function(
        "sel => Number(document.querySelector(sel).dataset.points) >= 3",
        arg=tid("hr-trace"),
        timeout=10_000,
    )
    page.screenshot(path=str(artifacts_dir / "practice-after-restart.png"), full_page=True)


def test_signal_lost_is_shown_and_clears(
    start_server: StartServer, open_page: Any, artifacts_dir: Path
) -> None:
    server = start_server(
        "--autostart", source=f"ble-virtual:{RECORDING},drop_at=12,drop_for=30", speed="4"
    )
    page = open_page(server.url).page
    wait_connected(page)
    page.wait_for_function(
        "sel => /battery \\d+%/.test(document.querySelector(sel).textContent)",
        arg=tid("device-state"),
        timeout=15_000,
    )
    page.wait_for_selector(tid("signal"), state="visible", timeout=15_000)
    assert "Signal lost" in text(page, "signal")
    assert page.locator(tid("device-state")).get_attribute("data-state") in {
        "lost",
        "reconnecting",
    }
    assert "stale" in (page.locator("#readings").get_attribute("class") or "")
    page.screenshot(path=str(artifacts_dir / "practice-signal-lost.png"), full_page=True)
    page.wait_for_selector(tid("signal"), state="hidden", timeout=20_000)
    assert page.locator(tid("device-state")).get_attribute("data-state") == "connected"


def test_every_control_is_reachable_from_the_keyboard(server_url: str, open_page: Any) -> None:
    page = open_page(server_url).page
    wait_connected(page)
    page.wait_for_function("sel => !document.querySelector(sel).disabled", arg=tid("start"))
    reached: set[str] = set()
    rings: dict[str, str] = {}
    for _ in range(40):
        page.keyboard.press("Tab")
        key, ring = page.evaluate(
            """() => {
                const a = document.activeElement;
                const key = a.dataset.testid || a.name || a.id || a.tagName;
                return [key, getComputedStyle(a).outlineStyle];
            }"""
        )
        reached.add(key)
        rings[key] = ring
    wanted = {
        "rate", "ratio", "sound", "sound-voice", "speech", "practice", "minutes",
        "pain-before", "stress-before", "note-before", "start", "A",
    }  # fmt: skip
    assert wanted <= reached, wanted - reached
    assert all(rings[k] not in ("none", "") for k in wanted), rings

    page.focus(tid("speech"))
    page.keyboard.press("Space")  # spoken guidance is off until asked for
    assert page.locator(tid("speech")).get_attribute("aria-pressed") == "true"
    page.keyboard.press("Space")
    assert page.locator(tid("speech")).get_attribute("aria-pressed") == "false"

    page.focus(tid("rate"))
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "sel => Number(document.querySelector(sel).dataset.rate) === 6.5", arg=tid("pacer")
    )
    page.focus(tid("start"))
    page.keyboard.press("Enter")
    wait_phase(page, "running", 10_000)


def test_phone_size_has_no_horizontal_scroll(
    server_url: str, open_page: Any, artifacts_dir: Path
) -> None:
    page = open_page(server_url, width=390, height=844).page
    wait_connected(page)
    wait_live(page)
    overflow = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    assert page.evaluate(overflow) <= 0
    page.screenshot(path=str(artifacts_dir / "practice-phone-ready.png"), full_page=True)
    page.locator(tid("start")).click()
    wait_phase(page, "running", 10_000)
    assert page.evaluate(overflow) <= 0
    page.screenshot(path=str(artifacts_dir / "practice-phone-running.png"), full_page=True)


def test_reduced_motion_glows_instead_of_moving(server_url: str, browser: Any) -> None:
    context = browser.new_context(reduced_motion="reduce")
    try:
        page = context.new_page()
        page.goto(server_url)
        wait_connected(page)
        samples = page.eval_on_selector(
            tid("pacer"),
            """async (el) => {
                const out = [];
                for (let i = 0; i < 30; i += 1) {
                    const style = getComputedStyle(el);
                    out.push([style.transform, Number(style.opacity)]);
                    await new Promise((r) => setTimeout(r, 200));
                }
                return out;
            }""",
        )
    finally:
        context.close()
    assert {s[0] for s in samples} == {"none"}
    opacities = [s[1] for s in samples]
    assert max(opacities) - min(opacities) > 0.2, opacities


def _store_cli_exists() -> bool:
    result = subprocess.run(
        [sys.executable, "-m", "hrvcalm", "sessions", "--help"], capture_output=True, check=False
    )
    return result.returncode == 0


@pytest.mark.skipif(not _store_cli_exists(), reason="store not integrated yet")
def test_ratings_reach_the_store(start_server: StartServer, open_page: Any, tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    server = start_server("--db", str(db), "--minutes", "1", speed="8")
    page = open_page(server.url).page
    wait_connected(page)
    page.select_option(tid("pain-before"), "5")
    page.select_option(tid("stress-before"), "7")
    page.fill(tid("note-before"), "before note")
    page.locator(tid("note-before")).blur()
    page.locator(tid("start")).click()
    wait_phase(page, "ended", 30_000)
    page.select_option(tid("pain-after"), "3")
    page.select_option(tid("stress-after"), "4")
    page.fill(tid("note-after"), "after note")
    page.locator(tid("save-after")).click()
    page.wait_for_function(
        "sel => document.querySelector(sel).textContent === 'Saved.'", arg=tid("saved-after")
    )
    page.context.close()
    assert server.stop() is not None

    def cli(*args: str) -> Any:
        out = subprocess.run(
            [sys.executable, "-m", "hrvcalm", "sessions", *args, "--db", str(db), "--json"],
            capture_output=True,
            text=True,
            check=True,
        )
        return json.loads(out.stdout)

    listed = cli("list")
    rows = listed["sessions"] if isinstance(listed, dict) else listed
    assert len(rows) == 1
    shown = cli("show", str(rows[0]["id"]))
    ratings = shown["ratings"]
    if isinstance(ratings, list):
        ratings = {r["when"]: r for r in ratings}
    assert (ratings["before"]["pain"], ratings["before"]["stress"]) == (5, 7)
    assert ratings["before"]["note"] == "before note"
    assert (ratings["after"]["pain"], ratings["after"]["stress"]) == (3, 4)
    assert ratings["after"]["note"] == "after note"
    assert shown["practice"] == "paced_breathing"


def test_a_late_echo_does_not_undo_the_patients_choice(server_url: str, browser: Any) -> None:
    """Pain then stress, chosen quickly: the server's echo of the first must not blank the second.

    Every server message is held back while the patient chooses, then let through one at a time;
    after each, the fields must still show what the patient chose.
    """
    held: list[str | bytes] = []
    routes: list[Any] = []
    context = browser.new_context()
    try:
        page = context.new_page()

        def route(ws: Any) -> None:
            routes.append(ws)
            ws.connect_to_server().on_message(
                lambda message: held.append(message) if len(routes) > 1 else ws.send(message)
            )

        page.route_web_socket("**/ws", route)
        page.goto(server_url)
        wait_connected(page)
        routes.append(None)  # from now on, hold the server's messages back
        page.select_option(tid("pain-before"), "5")
        page.select_option(tid("stress-before"), "7")
        page.wait_for_timeout(1500)  # both ratings reach the server; its answers are held
        echoes = [m for m in held if isinstance(m, str) and '"ratings"' in m]
        assert len(echoes) >= 2, "the server answers each rating with its session state"
        shown = []
        while held:
            routes[0].send(held.pop(0))
            page.wait_for_timeout(20)
            shown.append(
                page.evaluate(
                    "sels => sels.map((sel) => document.querySelector(sel).value)",
                    [tid("pain-before"), tid("stress-before")],
                )
            )
        routes.pop()  # let the rest through
        page.wait_for_function(
            "sel => document.querySelector(sel).textContent === 'Saved.'", arg=tid("saved-before")
        )
    finally:
        context.close()
    assert shown and all(pair == ["5", "7"] for pair in shown), shown
