"""The relaxation signal (0-100) shown to the patient.

**What it measures.** What HRV biofeedback trains: a large, regular heart-rate swing with each
breath. Slow breathing near the person's resonance rate (about 6/min) makes heart rate rise
with every in-breath and fall with every out-breath by far more than at rest (Lehrer,
Vaschillo & Vaschillo 2000, Appl Psychophysiol Biofeedback 25:177; Lehrer & Gevirtz 2014,
Front Psychol 5:756), and makes the heart rhythm a single smooth oscillation (coherence;
McCraty et al. 2009, Integral Review 5:10). Two markers, each against the patient's own rest:

- ``A``, the resonance amplitude: the mean peak-to-trough heart-rate swing per breath, bpm
  (:mod:`hrvcalm.core.coherence`). It does not depend on the breathing rate itself: a 300 ms
  RR swing is the same ``A`` at 3, 6 or 10 breaths/min.
- ``C``, the coherence ratio (0-16, :mod:`hrvcalm.core.coherence`).

::

    z = log2(A / A0) + 0.25 * log2((1 + C) / (1 + C0))      doublings over rest
    relaxation = 100 / (1 + 3^-z)

where ``A0`` and ``C0`` are the rest baseline (geometric means), and ``z`` is smoothed
(below). So 50 is "as at rest", a doubling of the swing per breath (coherence unchanged) reads
75, two doublings 90, three 96.4: the odds ``relaxation / (100 - relaxation)`` triple with
each doubling, the score never reaches 100 and a bigger swing always scores higher (no
ceiling at any swing; halving the swing reads 25). Coherence counts a quarter as much, and
its ratio stops at 16: from a typical resting 0.2 to the 16 of a smooth practice is about
one extra doubling's worth (+24 points at an unchanged swing).

**Why not RMSSD** (the previous version led with it, 40 %): at a fixed heart-rate swing RMSSD
grows with the breathing rate (a 300 ms swing gives 36 ms at 3/min, 69 at 6/min, 109 at
10/min: successive differences are steeper on a faster wave), so an RMSSD-led score rewards
faster breathing and reached 89-100 in any paced breathing, with no headroom. RMSSD is still
shown next to the score; it just does not drive it.

**Smoothing.** The markers are recomputed every 5 s from overlapping 64-s and 120-s spans, so
each new value jumps a little (the old, unsmoothed score moved by a median 1.1-1.5 points at
every 5-s update during steady paced breathing; now 0.01-0.1, benchmarks/shown.py). The
logs of ``A`` and ``1 + C`` are smoothed exponentially on the time axis, ``tau`` = 25 s
(each second of session time moves the smoothed value ``1 - e^(-1/25)`` of the way to the
newest value, however often it is updated), which spans the 20-30 s DESIGN.md asks for.
A marker missing for a while (too few clean beats) holds its smoothed value for up to 30 s;
then the signal is ``None`` until the amplitude is back.

**Baseline** (``A0``, ``C0``): the patient's rest before the practice. The session tells the
pipeline when the practice starts (:meth:`RelaxationSignal.start_practice`); if at least 60 s
of markers came before it, the baseline is the geometric mean of the last (up to) 180 s of
them. Otherwise (a practice started at once, a replay, an import) it is the geometric mean of
the first ``BASELINE_S`` = 150 s of markers (2.5 minutes, the first minutes of the session).
Until the baseline is complete, values are against the baseline as it stands.
"""

from __future__ import annotations

import math
from collections import deque

#: What 50 means, in plain words, for the page.
MEANING_OF_50 = "50 = as relaxed as you were at rest before the practice"
#: Weight of coherence's doublings relative to the amplitude's.
COHERENCE_WEIGHT = 0.25
#: The odds relaxation / (100 - relaxation) are multiplied by this per doubling.
ODDS_PER_DOUBLING = 3.0
#: Smoothing time constant, s.
TAU_S = 25.0
#: How long a missing marker holds its smoothed value, s.
HOLD_S = 30.0
#: Rest needed before the practice for a rest baseline, s; the rest span it averages, s.
MIN_REST_S = 60.0
REST_S = 180.0
#: Without enough rest, the baseline is the first this many seconds of markers.
BASELINE_S = 150.0


def odds_score(z: float) -> float:
    """``100 / (1 + 3^-z)``: 50 at ``z`` = 0, 75 at one doubling, never 0 or 100."""
    return 100.0 / (1.0 + math.pow(ODDS_PER_DOUBLING, -z))


class _Smoothed:
    """Exponential smoothing of one marker's log on the time axis, held when it is missing."""

    def __init__(self) -> None:
        self.value: float | None = None
        self.t_s = 0.0
        self.seen_s = 0.0

    def feed(self, t_s: float, log_value: float | None) -> float | None:
        if log_value is None:
            if self.value is not None and t_s - self.seen_s > HOLD_S:
                self.value = None
            return self.value
        if self.value is None:
            self.value = log_value
        else:
            self.value += (1.0 - math.exp(-max(0.0, t_s - self.t_s) / TAU_S)) * (
                log_value - self.value
            )
        self.t_s = self.seen_s = t_s
        return self.value


class RelaxationSignal:
    """Maps resonance amplitude and coherence to 0-100 against the patient's rest.

    Args:
        baseline_s: Without a rest period, how long after the first marker the baseline
            keeps forming, s.
    """

    def __init__(self, baseline_s: float = BASELINE_S) -> None:
        self.baseline_s = baseline_s
        self._first_t_s: float | None = None
        self._early = [0.0, 0.0, 0, 0]  # sum log A, sum log(1 + C), count A, count C
        self._rest: deque[tuple[float, float, float | None]] = deque()
        self._rest_baseline: tuple[float, float | None] | None = None
        self._started_s: float | None = None
        self._amplitude = _Smoothed()
        self._coherence = _Smoothed()

    # -- the baseline -------------------------------------------------------------------

    def start_practice(self, t_s: float) -> None:
        """The practice starts now: the rest before it becomes the baseline (if long enough)."""
        if self._started_s is not None:
            return
        self._started_s = t_s
        if self._rest and self._rest[-1][0] - self._rest[0][0] >= MIN_REST_S:
            logs_a = [a for _, a, _ in self._rest]
            logs_c = [c for _, _, c in self._rest if c is not None]
            self._rest_baseline = (
                sum(logs_a) / len(logs_a),
                sum(logs_c) / len(logs_c) if logs_c else None,
            )
        self._rest.clear()

    def _baseline(self) -> tuple[float, float | None] | None:
        if self._rest_baseline is not None:
            return self._rest_baseline
        sum_a, sum_c, n_a, n_c = self._early
        if not n_a:
            return None
        return sum_a / n_a, (sum_c / n_c if n_c else None)

    @property
    def baseline(self) -> tuple[float | None, float | None]:
        """The baseline amplitude (bpm) and coherence, ``None`` before the first value."""
        base = self._baseline()
        if base is None:
            return None, None
        a, c = base
        return 2.0**a, (None if c is None else 2.0**c - 1.0)

    def _learn(self, t_s: float, log_a: float, log_c: float | None) -> None:
        if self._first_t_s is None:
            self._first_t_s = t_s
        if t_s - self._first_t_s <= self.baseline_s:
            self._early[0] += log_a
            self._early[2] += 1
            if log_c is not None:
                self._early[1] += log_c
                self._early[3] += 1
        if self._started_s is None:
            self._rest.append((t_s, log_a, log_c))
            while self._rest[0][0] < t_s - REST_S:
                self._rest.popleft()

    # -- the signal ---------------------------------------------------------------------

    def update(
        self, t_s: float, resonance_bpm: float | None, coherence: float | None = None
    ) -> float | None:
        """Feed the latest markers and get the relaxation value.

        Args:
            t_s: Session time, s (non-decreasing).
            resonance_bpm: Current peak-to-trough HR per breath, bpm (``None`` if unknown).
            coherence: Current coherence ratio (``None`` if unknown).

        Returns:
            Relaxation 0-100, or ``None`` before the first amplitude (and after it has been
            missing for more than 30 s).
        """
        log_a = (
            math.log2(resonance_bpm) if resonance_bpm is not None and resonance_bpm > 0 else None
        )
        log_c = math.log2(1.0 + coherence) if coherence is not None and coherence >= 0 else None
        if log_a is not None:
            self._learn(t_s, log_a, log_c)
        a = self._amplitude.feed(t_s, log_a)
        c = self._coherence.feed(t_s, log_c)
        base = self._baseline()
        if a is None or base is None:
            return None
        z = a - base[0]
        if c is not None and base[1] is not None:
            z += COHERENCE_WEIGHT * (c - base[1])
        return odds_score(z)
