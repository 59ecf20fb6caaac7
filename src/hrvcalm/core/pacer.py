"""Breath pacer settings and phase: the one definition the page mirrors in ``web/pacer.js``.

A breath cycle lasts ``60 / rate_bpm`` seconds and starts with the in-breath. ``inhale_ratio``
is the I:E ratio, inhale duration over exhale duration: 1.0 is 1:1, 0.5 is 1:2. So the
in-breath takes ``ratio / (1 + ratio)`` of the cycle. ``t0_s`` is the Unix time (s) at which a
cycle started; every page computes the phase from it, so several pages breathe in step.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_RATE_BPM = 3.0
MAX_RATE_BPM = 10.0
MIN_INHALE_RATIO = 0.5
MAX_INHALE_RATIO = 1.0
DEFAULT_RATE_BPM = 6.0
DEFAULT_INHALE_RATIO = 1.0


@dataclass(frozen=True, slots=True)
class PacerSettings:
    """Validated pacer settings.

    Attributes:
        rate_bpm: Breaths per minute, 3-10.
        inhale_ratio: Inhale:exhale ratio, 0.5 (1:2) to 1.0 (1:1).
        t0_s: Unix time at which a breath cycle started, s.
    """

    rate_bpm: float = DEFAULT_RATE_BPM
    inhale_ratio: float = DEFAULT_INHALE_RATIO
    t0_s: float = 0.0

    def __post_init__(self) -> None:
        if not MIN_RATE_BPM <= self.rate_bpm <= MAX_RATE_BPM:
            raise ValueError(
                f"rate_bpm must be between {MIN_RATE_BPM:g} and {MAX_RATE_BPM:g} breaths/min,"
                f" got {self.rate_bpm:g}"
            )
        if not MIN_INHALE_RATIO <= self.inhale_ratio <= MAX_INHALE_RATIO:
            raise ValueError(
                f"inhale_ratio must be between {MIN_INHALE_RATIO:g} (1:2) and "
                f"{MAX_INHALE_RATIO:g} (1:1), got {self.inhale_ratio:g}"
            )

    @property
    def cycle_s(self) -> float:
        """Length of one breath, s."""
        return 60.0 / self.rate_bpm

    @property
    def inhale_s(self) -> float:
        """Length of the in-breath, s."""
        return self.cycle_s * self.inhale_ratio / (1.0 + self.inhale_ratio)

    def phase_at(self, unix_s: float) -> tuple[str, float]:
        """The breath phase at a given time.

        Returns:
            ``("inhale" | "exhale", fraction of that phase elapsed, 0-1)``.
        """
        position = (unix_s - self.t0_s) % self.cycle_s
        if position < self.inhale_s:
            return "inhale", position / self.inhale_s
        return "exhale", (position - self.inhale_s) / (self.cycle_s - self.inhale_s)
