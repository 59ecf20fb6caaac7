"""The relaxation signal (0-100) shown to the patient.

It combines three markers of the relaxation response, each compared with the patient's own
baseline from the start of the session, as a log2 ratio (a doubling counts as much whatever
the person's resting level):

- ``r_rmssd = log2(rmssd / baseline_rmssd)``: RMSSD, the most robust short-term index of vagal
  activity (Shaffer & Ginsberg 2017, Front Public Health 5:258); roughly log-normal, hence the
  ratio.
- ``r_amp = log2(amplitude / baseline_amplitude)``: resonance amplitude, the peak-to-trough
  heart-rate swing per breath, which slow breathing near the resonance frequency (about 6/min)
  maximises (Lehrer, Vaschillo & Vaschillo 2000; Lehrer & Gevirtz 2014, Front Psychol 5:756):
  it is what HRV biofeedback trains.
- ``r_coh = log2((1 + coherence) / (1 + baseline_coherence))``: HeartMath coherence (McCraty et
  al. 2009), high when the heart rhythm becomes a single smooth oscillation. The ``1 +`` keeps
  the ratio finite near zero, where coherence is mostly noise.

``relaxation = clip(50 + 25 * (0.4 r_rmssd + 0.3 r_amp + 0.3 r_coh), 0, 100)``, the weights
renormalised over the markers available (RMSSD alone during the first minute, before the
64-s coherence window fills). 50 means "as at the start"; a doubling of all three adds 25.

Why this shape: each marker alone misleads. RMSSD also rises with a single deep sigh; the
amplitude rises with any large breath; coherence is high for any regular rhythm, even a small
one. Together they move when the patient's breathing becomes slow, regular and deep, the
physiological target of the practice. Comparing a person with themselves avoids the large
between-person differences in resting HRV (age, fitness, medication, chronic pain).
Each baseline is the geometric mean of the marker's values during the first ``baseline_s``
seconds after it became available; until then the value is computed against the baseline as
it stands.
"""

from __future__ import annotations

import math

WEIGHTS = {"rmssd": 0.4, "amplitude": 0.3, "coherence": 0.3}
POINTS_PER_DOUBLING = 25.0


class _Baseline:
    def __init__(self, baseline_s: float) -> None:
        self.baseline_s = baseline_s
        self.first_t_s: float | None = None
        self.log_sum = 0.0
        self.count = 0

    def feed(self, t_s: float, log_value: float) -> float:
        if self.first_t_s is None:
            self.first_t_s = t_s
        if t_s - self.first_t_s <= self.baseline_s:
            self.log_sum += log_value
            self.count += 1
        return log_value - self.log_sum / self.count


class RelaxationSignal:
    """Maps RMSSD, resonance amplitude and coherence to 0-100 against the session's baseline.

    Args:
        baseline_s: How long after each marker's first value its baseline keeps forming, s.
    """

    def __init__(self, baseline_s: float = 60.0) -> None:
        self.baseline_s = baseline_s
        self._baselines = {key: _Baseline(baseline_s) for key in WEIGHTS}

    @property
    def baseline_rmssd_ms(self) -> float | None:
        """The baseline RMSSD in ms, or ``None`` before the first value."""
        b = self._baselines["rmssd"]
        return 2.0 ** (b.log_sum / b.count) if b.count else None

    def update(
        self,
        t_s: float,
        rmssd_ms: float | None,
        *,
        resonance_bpm: float | None = None,
        coherence: float | None = None,
    ) -> float | None:
        """Feed the latest markers and get the relaxation value.

        Args:
            t_s: Session time, s.
            rmssd_ms: Current RMSSD, ms (``None`` while not computable).
            resonance_bpm: Current peak-to-trough HR per breath, bpm.
            coherence: Current coherence ratio.

        Returns:
            Relaxation 0-100, or ``None`` while RMSSD is unavailable.
        """
        if rmssd_ms is None or rmssd_ms <= 0:
            return None
        logs = {"rmssd": math.log2(rmssd_ms)}
        if resonance_bpm is not None and resonance_bpm > 0:
            logs["amplitude"] = math.log2(resonance_bpm)
        if coherence is not None and coherence >= 0:
            logs["coherence"] = math.log2(1.0 + coherence)
        score = 0.0
        weight = 0.0
        for key, log_value in logs.items():
            score += WEIGHTS[key] * self._baselines[key].feed(t_s, log_value)
            weight += WEIGHTS[key]
        value = 50.0 + POINTS_PER_DOUBLING * score / weight
        return min(100.0, max(0.0, value))
