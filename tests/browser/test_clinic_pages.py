"""The clinician's journey in a real browser: relays stream named patients to ``hrvcalm
serve``; the watch page of a session shows its beats."""

from __future__ import annotations

import asyncio
import contextlib
import queue
import re
import threading
from pathlib import Path
from typing import Any

from hrvcalm.devices import open_source
from hrvcalm.server.clinic import ClinicServer
from hrvcalm.server.relay import Relay
from hrvcalm.storage import SqliteStore
from tests.browser.clinic_servers import TOKEN, Clinic, clinic  # noqa: F401 - fixture
from tests.conftest import FIXTURES

BEAT_TIMEOUT_MS = 20_000
#: 15 minutes of resting RR: at 200x the relay's session ends after about 5 s.
SHORT = FIXTURES / "polar_rr_rhenanbartels_hrv" / "rest_rri.txt"


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


def test_dashboard_shows_every_patient_live(
    clinic: Clinic,  # noqa: F811
    open_page: Any,
    artifacts_dir: Path,
) -> None:
    """Two named patients practising, one whose short recording has ended: two live tiles,
    sorted by patient, filterable, each opening its watch page; the ended session below."""
    clinic.relay("Carl D.")
    clinic.relay("Ann B.", source="sim:seed=2,breaths=6")
    clinic.relay("Eve F.", source=f"replay:{SHORT}", speed="200")
    watched = open_page(clinic.url, width=1280, height=820)
    page = watched.page
    tiles = page.get_by_test_id("tile")
    page.wait_for_function(
        """() => {
          const tiles = [...document.querySelectorAll('[data-testid=tile]')];
          return tiles.length === 2 && tiles.every(
            (t) => /^\\d+$/.test(t.querySelector('[data-testid=tile-hr]').textContent));
        }""",
        timeout=BEAT_TIMEOUT_MS,
    )
    assert tiles.evaluate_all("ts => ts.map(t => t.dataset.patient)") == ["Ann B.", "Carl D."]
    # live: the heart rate and the elapsed time of a tile change
    elapsed = tiles.nth(0).get_by_test_id("tile-elapsed").text_content()
    page.wait_for_function(
        "(e) => document.querySelector('[data-testid=tile-elapsed]').textContent !== e",
        arg=elapsed,
        timeout=BEAT_TIMEOUT_MS,
    )
    assert tiles.nth(0).get_by_test_id("tile-strap").text_content() == "strap connected"
    assert tiles.nth(0).get_by_test_id("tile-signal").text_content() == "live"
    # the short recording ended: stored, listed under "Ended today"
    ended = page.get_by_test_id("ended-row")
    ended.first.wait_for(timeout=BEAT_TIMEOUT_MS)
    assert ended.count() == 1
    assert ended.first.locator("td").first.text_content() == "Eve F."
    page.wait_for_function(
        "() => document.querySelector('[data-testid=tile-relaxation]').textContent !== '—'"
        " || document.querySelector('[data-testid=tile-zone]').textContent !== '—'",
        timeout=BEAT_TIMEOUT_MS,
    )
    page.screenshot(path=str(artifacts_dir / "clinic-dashboard.png"), full_page=True)
    # the filter keeps the matching patients only
    page.get_by_test_id("filter").fill("carl")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=tile]').length === 1")
    assert tiles.first.get_attribute("data-patient") == "Carl D."
    # a tile opens the watch page of its session
    tiles.first.get_by_test_id("tile-link").click()
    page.wait_for_url(re.compile(r"/\?session="))
    page.wait_for_function(
        "() => /^\\d+$/.test(document.querySelector('[data-testid=hr]').textContent.trim())",
        timeout=BEAT_TIMEOUT_MS,
    )
    assert watched.console_errors == []
    # every session is stored with its patient
    with SqliteStore(clinic.db, recover=False) as store:
        patients = {s.patient for s in store.list_sessions()}
    assert patients == {"Ann B.", "Carl D.", "Eve F."}


def test_watch_page_beyond_loopback_works_with_the_token_cookie(open_page: Any) -> None:
    """With pages protected (a server beyond loopback), the page opened once with ?token=
    gets the cookie its websocket then carries; without it, 401 (also for /ws)."""
    ready: queue.Queue[tuple[int, str]] = queue.Queue()
    stop_holder: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    async def serve_and_relay() -> None:
        server = ClinicServer(TOKEN, protect_pages=True)
        stop = asyncio.Event()
        stop_holder.append((asyncio.get_running_loop(), stop))
        bound: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(server.run(port=0, serve_ready=bound.set_result, stop=stop))
        port = await bound
        relay = Relay(open_source("sim:seed=3", speed=4), f"ws://127.0.0.1:{port}/ingest", TOKEN)
        relaying = asyncio.create_task(relay.run())
        while not relay.session_ids:
            await asyncio.sleep(0.05)
        ready.put((port, relay.session_ids[0]))
        await stop.wait()
        relaying.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await relaying
        await task

    thread = threading.Thread(target=asyncio.run, args=(serve_and_relay(),), daemon=True)
    thread.start()
    try:
        port, sid = ready.get(timeout=20)
        base = f"http://127.0.0.1:{port}/?session={sid}"
        refused = open_page(base)
        assert "access token required" in refused.page.content()
        watched = open_page(f"{base}&token={TOKEN}")
        watched.page.wait_for_function(
            "() => /^\\d+$/.test(document.querySelector('[data-testid=hr]').textContent.trim())",
            timeout=BEAT_TIMEOUT_MS,
        )
        assert watched.websockets == [f"ws://127.0.0.1:{port}/ws?session={sid}"]
        assert watched.console_errors == []
    finally:
        if stop_holder:
            loop, stop = stop_holder[0]
            loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=30)
