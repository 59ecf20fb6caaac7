"""The relaxation signal (0-100) shown to the patient, first version.

Vagally mediated HRV rises during the relaxation response; RMSSD is its most robust short-term
time-domain index (Shaffer & Ginsberg 2017, Front Public Health 5:258), and it is roughly
log-normally distributed, so changes are judged as ratios. The signal compares the current
RMSSD with the patient's own baseline from the start of the session:

    relaxation = clip(50 + 25 * log2(rmssd / baseline_rmssd), 0, 100)

50 means "as at the start", each doubling of RMSSD adds 25 points (4x the baseline reads
100), each halving takes 25 away. The baseline is the geometric mean of the RMSSD values
reported during the first ``baseline_s`` seconds after metrics become available; during that
time the baseline is still forming and the value is computed against it as it stands.

Comparing a person with themselves avoids the large differences in resting RMSSD between
people (age, fitness, medication). Coherence and resonance amplitude join this signal when the
frequency-domain engine provides them.
"""

from __future__ import annotations

import math


class RelaxationSignal:
    """Maps RMSSD to 0-100 against the session's own baseline.

    Args:
        baseline_s: How long after the first valid RMSSD the baseline keeps forming, s.
    """

    def __init__(self, baseline_s: float = 60.0) -> None:
        self.baseline_s = baseline_s
        self._first_t_s: float | None = None
        self._log_sum = 0.0
        self._count = 0

    @property
    def baseline_rmssd_ms(self) -> float | None:
        """The baseline RMSSD in ms, or ``None`` before the first value."""
        if self._count == 0:
            return None
        return math.exp(self._log_sum / self._count)

    def update(self, t_s: float, rmssd_ms: float | None) -> float | None:
        """Feed the latest RMSSD and get the relaxation value.

        Args:
            t_s: Session time, s.
            rmssd_ms: Current RMSSD in ms, or ``None`` while it cannot be computed.

        Returns:
            Relaxation 0-100, or ``None`` while RMSSD is unavailable.
        """
        if rmssd_ms is None or rmssd_ms <= 0:
            return None
        if self._first_t_s is None:
            self._first_t_s = t_s
        if t_s - self._first_t_s <= self.baseline_s:
            self._log_sum += math.log(rmssd_ms)
            self._count += 1
        baseline = self.baseline_rmssd_ms
        assert baseline is not None
        value = 50.0 + 25.0 * math.log2(rmssd_ms / baseline)
        return min(100.0, max(0.0, value))
