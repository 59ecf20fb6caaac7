"""The live HRV pipeline: notifications in, beats and metrics out.

    RRNotification --BeatClock--> timed intervals --BeatCorrector (look-ahead)--> Beat
        --SlidingTimeDomain (every beat) + scheduled spectra (every 5 s)
          + RelaxationSignal--> Metrics

One :class:`LivePipeline` serves a live strap, a replay and the tests alike: it never reads a
clock, and every output is a frozen dataclass.

**When a beat comes out.** The artifact classifier
(:class:`~hrvcalm.core.correction.BeatCorrector`) decides most beats at once: a beat whose
change from the previous one is unremarkable is final when it arrives. A *suspicious* beat
(a large change) needs the next five beats before it can be told apart from an ectopic, missed
or extra beat, so it, and every beat after it, waits until those five have arrived. Each beat
is emitted exactly once, in order, with its final ``artifact`` flag, followed by the
:class:`Metrics` after it; on clean data that is immediately, around an artifact about five
beats (~5 s) late. :meth:`LivePipeline.flush` emits what is still waiting at the end of a
stream (a replay's last beats). ``hrvcalm replay --jsonl`` therefore prints the same beats,
flags and order as ``hrvcalm analyze`` classifies (except that analyze also leaves out beats an
annotated WFDB recording labels as non-sinus, which a strap cannot know). The server must call
:meth:`flush` when a source ends, or a replay's last (at most five) beats are not emitted.

**What is computed when.** The time-domain metrics, ``quality``, ``artifacts_pct`` and
``relaxation`` are updated on every beat in O(1) over the last ``window_s`` seconds (60 s).
The frequency-domain metrics (over the last ``spectral_window_s`` = 120 s, Welch on the 4 Hz
cubic spline, or Lomb), coherence (64 s),
breathing rate and resonance amplitude (120 s) are recomputed every ``recompute_s`` seconds of
session time (5 s, McCraty's coherence update interval), the nonlinear metrics every third time
(15 s: DFA alone costs as much as all the spectra); in between, every Metrics carries the last
values. The nonlinear metrics describe the time-domain window (benchmarks/ has the costs).
The spectra obey the minimum spans of :mod:`hrvcalm.core.spectrum`: LF, LF/HF and total power
appear once 120 s of beats are in, VLF never (it needs 300 s; the live span is 120 s).

**The practice.** The session tells the pipeline when the practice starts
(:meth:`LivePipeline.start_practice`): the relaxation signal's baseline is the rest before it
(:mod:`hrvcalm.core.relaxation`), and during a paced practice the pacer's rate
(``pacer_rate_bpm``, and :meth:`LivePipeline.set_pacer_rate` when it changes) is the breathing
rate's prior (:mod:`hrvcalm.core.coherence`). Pass the rate only when the patient is asked to
breathe with the pacer (paced breathing, the resonance assessment), not in a body scan.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from hrvcalm.core.beatclock import BeatClock
from hrvcalm.core.correction import DEFAULT_GUARD, MEDIAN_HALF, BeatCorrector, Classified
from hrvcalm.core.metrics import Scheduled, assemble, spectral_metrics
from hrvcalm.core.nonlinear import nonlinear
from hrvcalm.core.relaxation import BASELINE_S, RelaxationSignal
from hrvcalm.core.spectrum import METHODS, cubic_spline, increasing
from hrvcalm.core.window import SlidingTimeDomain
from hrvcalm.events import Beat, Metrics, RRNotification

#: Default length of the live window, s. One minute holds 6 breaths at the 6/min pacer rate.
LIVE_WINDOW_S = 60.0
#: Default span of the live spectra, s: two cycles of 0.0167 Hz, 6 breaths at 3/min.
SPECTRAL_WINDOW_S = 120.0
#: Default interval between recomputations of the spectral and nonlinear metrics, s.
RECOMPUTE_S = 5.0
#: The nonlinear metrics are refreshed every this many recomputations (every 15 s).
NONLINEAR_EVERY = 3
_GRID_HZ = 4.0


class LivePipeline:
    """Turns a stream of RR notifications into beats and live metrics.

    Args:
        window_s: Length of the sliding time-domain window, s.
        min_beats: Normal beats needed before metrics are reported (``None`` until then).
        baseline_s: Without a rest before the practice, how long the relaxation baseline
            keeps forming after the first value, s.
        psd: ``welch`` or ``lomb`` for the live spectra.
        spectral_window_s: Span of the frequency-domain and breathing analysis, s.
        recompute_s: Session seconds between recomputations of the scheduled metrics.
        lookahead: Beats a suspicious beat waits for before it is classified.
        guard: The classifier's minimum relative change for a suspicious beat.
    """

    def __init__(
        self,
        window_s: float = LIVE_WINDOW_S,
        min_beats: int = 30,
        baseline_s: float = BASELINE_S,
        *,
        psd: str = "welch",
        spectral_window_s: float = SPECTRAL_WINDOW_S,
        recompute_s: float = RECOMPUTE_S,
        lookahead: int = MEDIAN_HALF,
        guard: float = DEFAULT_GUARD,
    ) -> None:
        if psd not in METHODS:
            raise ValueError(f"unknown PSD method {psd!r}")
        self.clock = BeatClock()
        self.corrector = BeatCorrector(lookahead=lookahead, guard=guard)
        self.window = SlidingTimeDomain(window_s=window_s, min_beats=min_beats)
        self.relaxation = RelaxationSignal(baseline_s=baseline_s)
        self.psd = psd
        self.spectral_window_s = spectral_window_s
        self.recompute_s = recompute_s
        self.n_beats = 0
        self.n_artifacts = 0
        self._waiting: deque[tuple[float, float, bool]] = deque()
        self._keep_s = max(window_s, spectral_window_s) + 5.0
        self._t: deque[float] = deque()
        self._rr: deque[float] = deque()
        self._normal: deque[bool] = deque()
        self._gap: deque[bool] = deque()
        self._next_due_s: float | None = None
        self._sched = Scheduled()
        self._recomputes = 0
        self._prior_bpm: float | None = None

    def start_practice(self, t_s: float, pacer_rate_bpm: float | None = None) -> None:
        """The practice starts at ``t_s`` (session clock); ``pacer_rate_bpm`` if the patient
        is to breathe with the pacer (see the module docstring)."""
        self.relaxation.start_practice(t_s)
        self._prior_bpm = pacer_rate_bpm

    def set_pacer_rate(self, rate_bpm: float | None) -> None:
        """The pacer's rate changed during a paced practice (``None``: no longer paced)."""
        self._prior_bpm = rate_bpm

    @property
    def bad_intervals(self) -> int:
        """Intervals of 0 ms or less that arrived and were skipped."""
        return self.clock.bad_intervals

    @property
    def pending(self) -> int:
        """Beats received but not yet emitted (waiting for the classifier's look-ahead)."""
        return len(self._waiting)

    def push_notification(self, notification: RRNotification) -> list[Beat | Metrics]:
        """Process one notification.

        Returns:
            For each beat whose classification became final, its :class:`Beat` followed by
            the :class:`Metrics` after it, in order (see the module docstring for timing).
        """
        out: list[Beat | Metrics] = []
        for placed in self.clock.place(notification.arrival_s, notification.rr_ms):
            out.extend(self.push_beat(placed.t_s, placed.rr_ms, gap_before=placed.gap_before))
        return out

    def push_beat(
        self, t_s: float, rr_ms: float, *, gap_before: bool = False
    ) -> list[Beat | Metrics]:
        """Process one interval whose end time is already known.

        Args:
            t_s: Time the interval ended, s (non-decreasing).
            rr_ms: The interval, ms (positive).
            gap_before: Beats are missing right before this one.

        Returns:
            ``[Beat, Metrics, Beat, Metrics, ...]`` for the beats that became final (often
            just this one; none while a suspicious beat waits; several when it is decided).
        """
        self._waiting.append((t_s, rr_ms, gap_before))
        return self._emit(self.corrector.push(rr_ms, gap_before=gap_before))

    def flush(self) -> list[Beat | Metrics]:
        """Emit every beat still waiting for look-ahead (call at the end of a stream)."""
        return self._emit(self.corrector.flush())

    def _emit(self, decided: list[Classified]) -> list[Beat | Metrics]:
        out: list[Beat | Metrics] = []
        for c in decided:
            t_s, rr_ms, gap_before = self._waiting.popleft()
            artifact = c.artifact
            out.append(Beat(t_s, rr_ms, artifact, gap_before, c.corrected_rr_ms))
            out.append(self._after_beat(t_s, rr_ms, not artifact, gap_before))
        return out

    def _after_beat(self, t_s: float, rr_ms: float, normal: bool, gap_before: bool) -> Metrics:
        self.window.push(t_s, rr_ms, normal=normal, gap_before=gap_before)
        self.n_beats += 1
        self.n_artifacts += not normal
        self._t.append(t_s)
        self._rr.append(rr_ms)
        self._normal.append(normal)
        self._gap.append(gap_before)
        cutoff = t_s - self._keep_s
        while self._t[0] < cutoff:
            self._t.popleft()
            self._rr.popleft()
            self._normal.popleft()
            self._gap.popleft()
        td = self.window.metrics()
        if self._next_due_s is None:
            self._next_due_s = t_s + self.recompute_s
        elif t_s >= self._next_due_s:
            self._next_due_s = t_s + self.recompute_s
            self._sched = self._recompute(t_s) if td.mean_nn_ms is not None else Scheduled()
        br = self._sched.breathing
        relaxation = self.relaxation.update(t_s, br.resonance_bpm, br.coherence)
        return assemble(t_s, td, self._sched, relaxation)

    def _recompute(self, now_s: float) -> Scheduled:
        t = np.fromiter(self._t, dtype=np.float64, count=len(self._t))
        rr = np.fromiter(self._rr, dtype=np.float64, count=len(self._rr))
        normal = np.fromiter(self._normal, dtype=bool, count=len(self._normal))
        gap = np.fromiter(self._gap, dtype=bool, count=len(self._gap))
        in_window = t > now_s - self.window.window_s
        w_normal = normal[in_window]
        pair_ok = w_normal[1:] & w_normal[:-1] & ~gap[in_window][1:]
        spectral = t > now_s - self.spectral_window_s
        t_nn, rr_nn = increasing(t[normal], rr[normal])
        rr_4hz = None
        if t_nn.size >= 8:
            start = max(float(t_nn[0]), now_s - self.spectral_window_s)
            grid = np.arange(start, float(t_nn[-1]), 1.0 / _GRID_HZ)
            if grid.size >= 16:
                rr_4hz = cubic_spline(t_nn, rr_nn, grid)
        freq, br = spectral_metrics(
            t[spectral],
            rr[spectral],
            normal[spectral],
            rr_4hz,
            psd=self.psd,
            prior_bpm=self._prior_bpm,
            live=True,
        )
        # Nonlinear metrics describe the time-domain window, like SDNN and RMSSD; DFA costs
        # as much as all the spectra together, so they are refreshed every third time.
        self._recomputes += 1
        nl = self._sched.nonlinear
        if self._recomputes % NONLINEAR_EVERY == 1 or nl.sd1_ms is None:
            nl = nonlinear(rr[in_window], w_normal, pair_ok)
        return Scheduled(freq, nl, br)
