"""The resonance-frequency assessment run inside a live session, and where its result goes.

:class:`ResonanceRunner` drives the protocol of :mod:`hrvcalm.core.resonance`: when a session
whose practice is ``resonance`` starts, it sets the pacer to each rate in turn (through a
callback given by :class:`~hrvcalm.server.app.LiveSession`), keeps the beats, publishes
``resonance`` progress messages and, when the session ends, scores the steps and publishes
the result. :class:`ResonanceSaver` is a session observer that stores a complete result:
the chosen rate as the ``pacer_rate_bpm`` setting (the next session's default pacer rate),
the step table as the session's notes and the whole result as JSON in the
``resonance_assessment`` setting.

Message (server to page), ``type: "resonance"``:

- ``state: "running"``: ``step`` (1-based), ``steps``, ``rate_bpm``, ``step_elapsed_s``,
  ``step_s``, ``rates_bpm``;
- ``state: "done"``: ``steps`` (one object per step with the criteria of
  :class:`~hrvcalm.core.resonance.StepScore`, or ``null`` when a step had too little clean
  data), ``rates_bpm`` and ``chosen_rate_bpm``;
- ``state: "stopped"``: ended before the last step finished; ``steps`` as far as scored,
  ``chosen_rate_bpm`` is ``null`` and nothing is stored.

For tests and demonstrations the environment variable ``HRVCALM_RESONANCE_STEP_S`` (10-600)
shortens every step of the protocols that sessions create (``hrvcalm resonance`` also has a
hidden ``--step-seconds``); steps shorter than about 60 s leave too few breaths to score.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Callable
from dataclasses import asdict
from typing import Any, Protocol

from hrvcalm.core.pacer import PacerSettings
from hrvcalm.core.resonance import Assessment, StepScore, choose, score_step
from hrvcalm.core.resonance import Protocol as StepProtocol
from hrvcalm.errors import UsageError
from hrvcalm.events import Beat

Message = dict[str, Any]
log = logging.getLogger(__name__)

#: The stored setting holding the patient's pacer rate (breaths/min).
RATE_SETTING = "pacer_rate_bpm"
#: The stored setting holding the last complete assessment (JSON).
RESULT_SETTING = "resonance_assessment"
#: Environment variable shortening the steps (tests and demonstrations only), s.
STEP_ENV = "HRVCALM_RESONANCE_STEP_S"


def default_protocol() -> StepProtocol:
    """The standard protocol, with steps of ``$HRVCALM_RESONANCE_STEP_S`` seconds if set.

    Raises:
        UsageError: The variable is set but not a number of seconds from 10 to 600.
    """
    text = os.environ.get(STEP_ENV)
    if not text:
        return StepProtocol()
    try:
        return StepProtocol(step_s=float(text))
    except ValueError:
        raise UsageError(
            f"{STEP_ENV} must be a number of seconds from 10 to 600, got {text!r}"
        ) from None


def _clean(value: float | int | None, digits: int) -> float | int | None:
    if value is None or isinstance(value, int):
        return value
    return round(value, digits) if math.isfinite(value) else None


def step_json(score: StepScore | None) -> Message | None:
    """One step's criteria as JSON-ready values."""
    if score is None:
        return None
    out: Message = {}
    for key, value in asdict(score).items():
        out[key] = _clean(value, 4)
    return out


def result_message(assessment: Assessment, complete: bool) -> Message:
    """The ``resonance`` message with every step's score and the chosen rate."""
    return {
        "type": "resonance",
        "state": "done" if complete else "stopped",
        "rates_bpm": list(assessment.rates_bpm),
        "steps": [step_json(s) for s in assessment.steps],
        "chosen_rate_bpm": assessment.chosen_rate_bpm if complete else None,
    }


class ResonanceRunner:
    """Runs the stepped protocol inside one live session.

    Args:
        protocol: Rates and step length (shorter steps only for tests and demonstrations).
    """

    def __init__(self, protocol: StepProtocol | None = None) -> None:
        self.protocol = protocol or default_protocol()
        self.active = False
        self.result: Assessment | None = None
        self._set_rate: Callable[[float], PacerSettings] = _no_pacer
        self._publish: Callable[[Message], None] = _no_publish
        self._started_s = 0.0
        self._step = -1
        self._pacers: list[tuple[float, PacerSettings]] = []
        self._beats: list[tuple[float, float, bool]] = []

    def start(
        self,
        now_s: float,
        set_rate: Callable[[float], PacerSettings],
        publish: Callable[[Message], None],
    ) -> None:
        """Begin the protocol at session time ``now_s``.

        Args:
            now_s: Session time, s.
            set_rate: Sets the pacer to a rate (breaths/min) and returns its settings.
            publish: Publishes a message to the pages and observers.
        """
        self.active = True
        self._set_rate, self._publish = set_rate, publish
        self._started_s = now_s
        self.advance(now_s)

    def on_beat(self, beat: Beat) -> None:
        """Keep a beat of the running protocol."""
        if self.active:
            self._beats.append((beat.t_s, beat.rr_ms, beat.artifact))

    def advance(self, now_s: float, *, report: bool = False) -> None:
        """Move the pacer to the step due at ``now_s``; publish progress on a change or if
        ``report``."""
        if not self.active:
            return
        step = self.protocol.step_at(now_s - self._started_s)
        if step is None:
            return
        changed = step != self._step
        if changed:
            self._step = step
            pacer = self._set_rate(self.protocol.rates_bpm[step])
            self._pacers.append((now_s, pacer))
        if changed or report:
            self._publish(self.progress(now_s))

    def progress(self, now_s: float) -> Message:
        """The ``resonance`` progress message."""
        step_start = self._pacers[-1][0] if self._pacers else now_s
        return {
            "type": "resonance",
            "state": "running",
            "step": self._step + 1,
            "steps": len(self.protocol.rates_bpm),
            "rate_bpm": self.protocol.rates_bpm[max(0, self._step)],
            "step_elapsed_s": round(max(0.0, now_s - step_start), 1),
            "step_s": self.protocol.step_s,
            "rates_bpm": list(self.protocol.rates_bpm),
        }

    def finish(self, now_s: float) -> Assessment | None:
        """Score the steps (the session ended at ``now_s``) and publish the result."""
        if not self.active:
            return None
        self.active = False
        rates = self.protocol.rates_bpm
        complete = len(self._pacers) == len(rates) and (
            now_s - self._pacers[-1][0] >= self.protocol.step_s - 1.5
        )
        t = [b[0] for b in self._beats]
        rr = [b[1] for b in self._beats]
        art = [b[2] for b in self._beats]
        scores: list[StepScore | None] = []
        for k, (set_s, pacer) in enumerate(self._pacers):
            end = self._pacers[k + 1][0] if k + 1 < len(self._pacers) else now_s
            # the pacer's t0 on the session clock is the moment it was set
            local = PacerSettings(pacer.rate_bpm, pacer.inhale_ratio, t0_s=set_s)
            scores.append(score_step(t, rr, art, local, set_s + self.protocol.settle_s, end))
        scores.extend([None] * (len(rates) - len(scores)))
        assessment = choose(rates, scores)
        if not complete:
            assessment = Assessment(assessment.rates_bpm, assessment.steps, None)
        self.result = assessment
        self._publish(result_message(assessment, complete))
        return assessment


def _no_pacer(rate_bpm: float) -> PacerSettings:
    return PacerSettings(rate_bpm=rate_bpm)


def _no_publish(message: Message) -> None:
    """Before :meth:`ResonanceRunner.start` nothing is published."""


def steps_table(message: Message) -> str:
    """A readable table of a ``resonance`` result message: one row per step."""
    head = (
        f"{'rate/min':>8} {'phase deg':>9} {'sync':>5} {'peak-trough bpm':>15} "
        f"{'LF ms2':>8} {'LF peak ms2/Hz':>14} {'smooth':>6} {'LF peaks':>8} {'rank sum':>8}"
    )
    lines = [head]
    chosen = message.get("chosen_rate_bpm")
    for rate, step in zip(message["rates_bpm"], message["steps"], strict=True):
        mark = " <- chosen" if chosen is not None and rate == chosen else ""
        if step is None:
            lines.append(f"{rate:>8g}   too little clean data{mark}")
            continue
        lines.append(
            f"{rate:>8g} {step['phase_deg']:>9.0f} {step['synchrony']:>5.2f} "
            f"{step['peak_trough_bpm']:>15.1f} {step['lf_ms2']:>8.0f} "
            f"{step['lf_peak_ms2_hz']:>14.0f} {step['smoothness']:>6.2f} "
            f"{step['n_lf_peaks']:>8d} {step['rank_sum']:>8.1f}{mark}"
        )
    if chosen is None:
        why = "no step had enough clean beats" if message.get("state") == "done" else "stopped"
        lines.append(f"no rate chosen: {why}")
    else:
        lines.append(f"resonance breathing rate: {chosen:g} breaths/min")
    return "\n".join(lines)


class _Store(Protocol):
    def get_setting(self, key: str) -> str | None: ...

    def set_setting(self, key: str, value: str) -> None: ...

    def update_session(self, session_id: int, *, notes: str | None = None) -> None: ...


class _Recorder(Protocol):
    session_id: int | None


class ResonanceSaver:
    """Session observer storing a complete assessment (see the module docstring).

    Args:
        store: The session store.
        recorder: The session's recorder (for the session id), if the session is recorded.
    """

    def __init__(self, store: _Store, recorder: _Recorder | None = None) -> None:
        self.store = store
        self.recorder = recorder
        self.saved_rate_bpm: float | None = None

    def on_message(self, message: Message) -> None:
        """Store a ``resonance`` message with ``state: "done"`` and a chosen rate."""
        if message.get("type") != "resonance" or message.get("state") != "done":
            return
        rate = message.get("chosen_rate_bpm")
        if rate is None:
            return
        self.store.set_setting(RATE_SETTING, f"{float(rate):g}")
        self.store.set_setting(RESULT_SETTING, json.dumps(message, separators=(",", ":")))
        self.saved_rate_bpm = float(rate)
        if self.recorder is not None and self.recorder.session_id is not None:
            notes = "Resonance-frequency assessment\n" + steps_table(message)
            self.store.update_session(self.recorder.session_id, notes=notes)

    def flush(self) -> None:
        """Settings are committed as they are set."""


def stored_rate_bpm(store: _Store) -> float | None:
    """The patient's stored pacer rate (breaths/min), or ``None`` if none or not valid.

    A value that is not a rate the pacer accepts (3-10 breaths/min) is ignored with a warning.
    """
    text = store.get_setting(RATE_SETTING)
    if text is None:
        return None
    try:
        return PacerSettings(rate_bpm=float(text)).rate_bpm
    except ValueError:
        log.warning("ignoring the stored pacer rate %r: not 3-10 breaths/min", text)
        return None
