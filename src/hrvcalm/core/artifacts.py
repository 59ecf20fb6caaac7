"""Beat-by-beat artifact screening (first stage).

A beat is marked as an artifact, and left out of the metrics, when

1. its interval lies outside the physiological range ``[min_rr_ms, max_rr_ms]``
   (300-2000 ms by default: 30-200 bpm), or
2. it differs by more than ``max_change`` (20 % by default) from the last accepted interval.

Rule 2 is the PhysioNet Cardiovascular Signal Toolbox's "drop beats changing more than 20 %"
preprocessing (Vest et al. 2018, Physiol Meas 39:105004), compared with the last *accepted*
beat rather than the previous one, so that one artifact cannot make the next normal beat look
wrong. (A median over several beats would lag and flag real respiratory sinus arrhythmia:
during slow breathing RR swings by 30 % within four beats.) After ``reset_after`` rejections
in a row the heart rate has really changed (standing up), and the reference restarts.
It needs no look-ahead and costs O(1) per beat.

The full Lipponen & Tarvainen (2019) classification (ectopic, missed, extra, long/short beats)
with correction will replace this screening; the interface stays the same.
"""

from __future__ import annotations


class ArtifactScreen:
    """Classifies each incoming interval as normal or artifact.

    Args:
        min_rr_ms: Shortest plausible interval, ms.
        max_rr_ms: Longest plausible interval, ms.
        max_change: Largest accepted relative change from the last accepted interval.
        reset_after: Rejections in a row after which the reference restarts.
    """

    def __init__(
        self,
        min_rr_ms: float = 300.0,
        max_rr_ms: float = 2000.0,
        max_change: float = 0.20,
        reset_after: int = 5,
    ) -> None:
        self.min_rr_ms = min_rr_ms
        self.max_rr_ms = max_rr_ms
        self.max_change = max_change
        self.reset_after = reset_after
        self._reference: float | None = None
        self._rejected_in_row = 0

    def is_artifact(self, rr_ms: float, *, gap_before: bool = False) -> bool:
        """Classify one interval (call once per beat, in order).

        Args:
            rr_ms: The interval in ms.
            gap_before: Beats are missing before this one: the reference restarts, since
                the heart rate may have changed during the gap.

        Returns:
            ``True`` if the interval is an artifact.
        """
        if gap_before:
            self._reference = None
        if not self.min_rr_ms <= rr_ms <= self.max_rr_ms:
            return True
        reference = self._reference
        if reference is not None and abs(rr_ms - reference) > self.max_change * reference:
            self._rejected_in_row += 1
            if self._rejected_in_row >= self.reset_after:
                self._reference = rr_ms
                self._rejected_in_row = 0
            return True
        self._rejected_in_row = 0
        self._reference = rr_ms
        return False
