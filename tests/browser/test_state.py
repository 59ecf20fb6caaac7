"""The page's pure state module (web/state.js), tested in the browser in milliseconds.

Each test imports ``/state.js`` from the served web root into Debian's chromium, feeds
``reduce`` a sequence of server messages and page intents with the page clock given
explicitly (``now.ms``), and asserts the resulting state and the effects it asks for. No
server process, no websocket, no waiting on wall-clock time.
"""

from __future__ import annotations

import functools
import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

WEB = Path(__file__).resolve().parents[2] / "web"
#: A whole scenario runs in the page; it must stay far below the page's own timers (250 ms).
SCENARIO_BUDGET_MS = 200.0

# A harness defined in the page: `run(steps)` reduces each step ([message, now_ms]) in turn and
# returns what the assertions need (JSON: the state's own fields plus the selectors' answers).
HARNESS = """
async ([steps, prefs]) => {
  const m = await import("/state.js");
  const t0 = performance.now();
  let s = m.initialState(prefs ?? {practice: "paced_breathing", minutes: 5, voice: "tone"},
                         {ms: 0, unixS: 1000});
  const trail = [];
  for (const [message, ms] of steps) {
    s = m.reduce(s, message, {ms, unixS: 1000 + ms / 1000});
    trail.push({
      effects: s.effects, phase: s.session.phase, view: m.viewOf(s), signal: m.signalText(s),
      zone: m.zoneOf(s), elapsed: m.elapsedS(s), cue: m.cueText(s), ratings: s.ratings,
      errors: s.errors.map((e) => e.text), online: s.online, device: s.device, hr: s.hrBpm,
      summary: s.summary, lengths: s.lengthsMin, resonanceMinutes: s.resonanceMinutes,
      choice: s.choice, guide: m.guideOn(s), planned: m.plannedS(s), metrics: s.metrics,
      rate: m.shownRateBpm(s), live: m.readingsLive(s),
    });
  }
  return {trail, ms: performance.now() - t0};
}
"""

HELLO = {"type": "hello", "protocol": 1, "app": "hrvcalm", "version": "0", "source": "sim",
         "speed": 4, "practice_lengths_min": [5, 10, 15, 20], "resonance_minutes": 10}  # fmt: skip
OPEN = {"type": "page/connection", "status": "open"}


def ready(**fields: Any) -> dict[str, Any]:
    msg = {"type": "session", "phase": "ready", "practice": "paced_breathing", "elapsed_s": 0,
           "duration_s": 300, "ended_reason": None, "ratings": {}}  # fmt: skip
    msg.update(fields)
    return msg


def sends(step: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["send"] for e in step["effects"] if "send" in e]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def web_root() -> Iterator[str]:
    """The web directory served over HTTP on a free local port (ES modules need HTTP)."""
    handler = functools.partial(_Quiet, directory=str(WEB))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def run(browser: Any, web_root: str) -> Iterator[Any]:
    """Run a scenario of steps ``(message, now_ms)`` through ``reduce``; returns the trail."""
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(web_root + "history.css")  # any page of the web root: same origin for import()

    def run_(steps: list[tuple[dict[str, Any], float]], prefs: Any = None) -> list[Any]:
        started = time.perf_counter()
        out = page.evaluate(HARNESS, [steps, prefs])
        assert not errors, errors
        assert out["ms"] < SCENARIO_BUDGET_MS, f"{out['ms']:.1f} ms in the page"
        assert time.perf_counter() - started < 5.0
        return list(out["trail"])

    yield run_
    context.close()


def test_hello_brings_the_lengths_and_the_protocol(run: Any) -> None:
    other = {**HELLO, "practice_lengths_min": [3, 6], "resonance_minutes": 2.5}
    trail = run([(OPEN, 1), (other, 2), (ready(duration_s=None), 3)])
    assert trail[1]["lengths"] == [3, 6]
    assert trail[1]["resonanceMinutes"] == 2.5
    assert trail[1]["choice"]["minutes"] == 3  # the stored 5 is not offered: the first length
    assert {"traceReset": True} in trail[1]["effects"]
    assert trail[1]["errors"] == []
    assert sends(trail[2]) == [{"type": "configure", "practice": "paced_breathing", "minutes": 3}]
    choose = {"type": "page/choose", "practice": "resonance"}
    resonance = run([(OPEN, 1), (other, 2), (ready(duration_s=None), 3), (choose, 4)])
    assert resonance[-1]["planned"] == 150  # 2.5 min, from the hello
    assert sends(resonance[-1]) == [{"type": "configure", "practice": "resonance", "minutes": 2.5}]
    wrong = run([({**HELLO, "protocol": 2}, 1)])
    assert wrong[0]["errors"] == ["This page speaks protocol 1, the server 2: please reload."]


def test_another_source_makes_what_was_known_stale(run: Any) -> None:
    trail = run([
        (OPEN, 0), (HELLO, 1),
        ({"type": "device", "state": "connected", "name": "H10", "contact": True}, 2),
        ({"type": "beat", "t_s": 1, "hr_bpm": 61.4, "artifact": False}, 3),
        ({"type": "metrics", "t_s": 1, "rmssd_ms": 40.0, "coherence": 2.0}, 4),
        ({**HELLO, "source": "ble:AA"}, 5),
    ])  # fmt: skip
    assert trail[3]["hr"] == 61.4 and trail[4]["zone"] == "medium"
    assert trail[5]["hr"] is None and trail[5]["metrics"] == {} and trail[5]["zone"] is None
    assert trail[5]["device"]["text"] == "waiting for the strap…"
    assert trail[5]["device"]["stateName"] == "unknown"


def test_artifact_beats_do_not_move_the_heart_rate_once_shown(run: Any) -> None:
    trail = run([
        ({"type": "beat", "t_s": 1, "hr_bpm": 90, "artifact": True}, 1),
        ({"type": "beat", "t_s": 2, "hr_bpm": 60, "artifact": False}, 2),
        ({"type": "beat", "t_s": 3, "hr_bpm": 140, "artifact": True}, 3),
    ])  # fmt: skip
    assert [step["hr"] for step in trail] == [90, 60, 60]


def test_device_lost_reconnecting_and_no_beats(run: Any) -> None:
    connected = {"type": "device", "state": "connected", "name": "H10", "contact": True}
    tick = {"type": "page/tick"}
    trail = run([
        (OPEN, 0), (HELLO, 1), (ready(), 2), (connected, 3),
        ({"type": "beat", "t_s": 1, "hr_bpm": 60, "artifact": False}, 1000),
        (tick, 9000),  # 8.0 s after the beat: not yet
        (tick, 9001),  # more than 8 s without a beat
        ({"type": "device", "state": "lost", "contact": None}, 9002),
        ({"type": "device", "state": "reconnecting", "contact": None}, 9003),
        ({**connected, "contact": False}, 9004),
        ({"type": "page/connection", "status": "reconnecting"}, 9005),
    ])  # fmt: skip
    assert trail[4]["signal"] == "" and trail[4]["live"]
    assert trail[5]["signal"] == ""
    assert trail[6]["signal"].startswith("Signal lost: no heartbeats") and not trail[6]["live"]
    assert trail[7]["signal"].startswith("Signal lost. The strap is out of reach")
    assert trail[8]["signal"] == trail[7]["signal"]
    assert trail[9]["signal"].startswith("No skin contact")
    last = trail[10]
    assert not last["online"] and last["signal"] == ""  # the banner says it instead
    assert last["device"]["text"] == "waiting for hrvcalm…"


def test_session_phases_from_setup_to_a_fresh_session(run: Any) -> None:
    running = ready(phase="running", elapsed_s=10)
    ended = ready(phase="ended", elapsed_s=120, ended_reason="stopped")
    summary = {"type": "summary", "practice": "paced_breathing", "minutes": 2}
    trail = run([
        (OPEN, 0), (HELLO, 1), (ready(), 2),
        ({"type": "page/start"}, 100),
        ({"type": "page/tick"}, 1100),
        ({"type": "page/lead-in-over"}, 3100),
        ({"type": "page/tick"}, 3200),
        (running, 3300),
        ({"type": "page/tick"}, 5300),  # 2 s of page clock at speed 4: 8 s of session
        ({"type": "metrics", "t_s": 20, "coherence": 0.5, "coherence_zone": "high"}, 5400),
        (ended, 6000), (summary, 6001),
        ({"type": "page/new-session"}, 7000),
        (ready(), 7100),
    ])  # fmt: skip
    assert trail[2]["view"] == "setup" and trail[2]["cue"].startswith("Paced breathing:")
    assert [e for e in trail[3]["effects"] if "leadInMs" in e] == [{"leadInMs": 3000}]
    assert trail[3]["view"] == "practice" and trail[3]["phase"] == "ready"
    assert trail[3]["cue"] == "Get comfortable. The guide begins with an in-breath."
    assert sends(trail[5]) == [
        {"type": "set_pacer", "rate_bpm": 6, "inhale_ratio": 1},
        {"type": "start"},
    ]
    assert trail[6]["view"] == "practice"  # waiting for the server's answer
    assert trail[7]["phase"] == "running" and trail[7]["elapsed"] == 10
    assert {"say": trail[7]["cue"]} in trail[7]["effects"] and trail[7]["cue"] != ""
    assert trail[8]["elapsed"] == pytest.approx(18.0)
    assert trail[9]["zone"] == "high"  # the server's zone wins over the ratio's
    assert trail[10]["view"] == "end" and trail[10]["signal"] == ""
    assert {"bell": True} in trail[10]["effects"]
    assert {"say": "The session has ended."} in trail[10]["effects"]
    assert not trail[10]["guide"]
    assert trail[11]["summary"] == summary
    assert sends(trail[12]) == [{"type": "new_session"}]
    fresh = trail[13]
    assert fresh["view"] == "setup" and fresh["summary"] is None and fresh["metrics"] == {}


def test_without_an_answer_the_start_falls_back_to_setup(run: Any) -> None:
    trail = run([
        (OPEN, 0), (HELLO, 1), (ready(), 2),
        ({"type": "page/start"}, 10), ({"type": "page/lead-in-over"}, 3010),
        ({"type": "page/tick"}, 6009), ({"type": "page/tick"}, 6010),
    ])  # fmt: skip
    assert [step["view"] for step in trail[3:]] == ["practice", "practice", "practice", "setup"]


def test_the_servers_length_wins_over_the_stored_one(run: Any) -> None:
    trail = run([(OPEN, 0), (HELLO, 1), (ready(duration_s=900), 2)])
    assert trail[2]["choice"] == {"practice": "paced_breathing", "minutes": 15}
    assert sends(trail[2]) == []


def test_offline_actions_say_so_and_send_nothing(run: Any) -> None:
    trail = run([(HELLO, 1), (ready(), 2), ({"type": "page/start"}, 3), ({"type": "page/stop"}, 4)])
    assert trail[2]["view"] == "setup" and trail[2]["effects"] == []
    assert trail[3]["errors"][-1] == "Not connected to hrvcalm yet; please try again in a moment."
    assert sends(trail[3]) == []


def test_a_late_echo_does_not_undo_the_patients_choice(run: Any) -> None:
    """Pain then stress chosen quickly; the echo of the first arrives after the second was sent."""

    def pick(field: str, value: int, ms: float) -> list[tuple[dict[str, Any], float]]:
        intent = {"type": "page/rating-input", "when": "before", "field": field, "value": value}
        return [(intent, ms), ({"type": "page/rating-send", "when": "before"}, ms)]

    first = {"pain": 5, "stress": None, "note": None}
    both = {"pain": 5, "stress": 7, "note": None}
    trail = run([
        (OPEN, 0), (HELLO, 1), (ready(), 2),
        *pick("pain", 5, 10), *pick("stress", 7, 20),
        (ready(ratings={"before": first}), 30),  # the late echo of the first
        (ready(ratings={"before": both}), 40),  # the echo of the second
        (ready(ratings={"before": {"pain": 2, "stress": 7, "note": None}}), 50),  # another page
    ])  # fmt: skip
    assert sends(trail[4]) == [{"type": "rating", "when": "before", **first}]
    assert sends(trail[6]) == [{"type": "rating", "when": "before", **both}]
    late = trail[7]["ratings"]["before"]
    assert late["values"] == both and not late["saved"]
    confirmed = trail[8]["ratings"]["before"]
    assert confirmed["values"] == both and confirmed["saved"]
    assert trail[9]["ratings"]["before"]["values"]["pain"] == 2  # confirmed: the server's again


def test_an_unconfirmed_rating_is_sent_again_on_reconnect(run: Any) -> None:
    trail = run([
        (OPEN, 0), (HELLO, 1), (ready(), 2),
        ({"type": "page/rating-input", "when": "after", "field": "note", "value": " calm "}, 3),
        ({"type": "page/rating-send", "when": "after"}, 4),
        ({"type": "page/connection", "status": "reconnecting"}, 5),
        (OPEN, 6),
    ])  # fmt: skip
    rating = {"type": "rating", "when": "after", "pain": None, "stress": None, "note": "calm"}
    assert sends(trail[4]) == [rating]
    assert sends(trail[6]) == [rating]


def test_typed_text_survives_an_echo_until_it_is_sent(run: Any) -> None:
    trail = run([
        (OPEN, 0), (HELLO, 1), (ready(), 2),
        ({"type": "page/rating-input", "when": "before", "field": "note", "value": "half a"}, 3),
        (ready(ratings={"before": {"pain": 4, "stress": None, "note": None}}), 4),
    ])  # fmt: skip
    values = trail[4]["ratings"]["before"]["values"]
    assert values == {"pain": 4, "stress": None, "note": "half a"}


def test_the_slider_shows_the_patients_rate_until_the_server_answers(run: Any) -> None:
    pacer = {"type": "pacer", "rate_bpm": 6.0, "inhale_ratio": 1.0, "t0_s": 1.0}
    trail = run([
        (OPEN, 0), (pacer, 1),
        ({"type": "page/rate-drag"}, 2), ({"type": "page/rate-input", "rate_bpm": 5.0}, 3),
        ({**pacer, "rate_bpm": 6.5}, 4),  # another page's change while dragging
        ({"type": "page/rate-change", "rate_bpm": 5.0}, 5),
        ({**pacer, "rate_bpm": 5.0}, 6),
    ])  # fmt: skip
    assert [step["rate"] for step in trail[1:]] == [6.0, 6.0, 5.0, 5.0, 5.0, 5.0]
    assert sends(trail[5]) == [{"type": "set_pacer", "rate_bpm": 5.0}]
