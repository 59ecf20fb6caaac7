"""The live HRV pipeline: notifications in, beats and metrics out.

    RRNotification --BeatClock--> timed intervals --ArtifactScreen--> Beat
                   --SlidingTimeDomain + RelaxationSignal--> Metrics

One :class:`LivePipeline` serves a live strap, a replay and the tests alike: it never reads a
clock, and every output is a frozen dataclass. Metrics are produced after every beat.
"""

from __future__ import annotations

from hrvcalm.core.artifacts import ArtifactScreen
from hrvcalm.core.beatclock import BeatClock
from hrvcalm.core.relaxation import RelaxationSignal
from hrvcalm.core.window import SlidingTimeDomain
from hrvcalm.events import Beat, Metrics, RRNotification

#: Default length of the live window, s. One minute holds 6 breaths at the 6/min pacer rate.
LIVE_WINDOW_S = 60.0


class LivePipeline:
    """Turns a stream of RR notifications into beats and live metrics.

    Args:
        window_s: Length of the sliding metrics window, s.
        min_beats: Normal beats needed before metrics are reported (``None`` until then).
        baseline_s: How long the relaxation baseline keeps forming, s.
    """

    def __init__(
        self, window_s: float = LIVE_WINDOW_S, min_beats: int = 30, baseline_s: float = 60.0
    ) -> None:
        self.clock = BeatClock()
        self.screen = ArtifactScreen()
        self.window = SlidingTimeDomain(window_s=window_s, min_beats=min_beats)
        self.relaxation = RelaxationSignal(baseline_s=baseline_s)
        self.n_beats = 0
        self.n_artifacts = 0

    @property
    def bad_intervals(self) -> int:
        """Intervals of 0 ms or less that arrived and were skipped."""
        return self.clock.bad_intervals

    def push_notification(self, notification: RRNotification) -> list[Beat | Metrics]:
        """Process one notification.

        Returns:
            For each valid interval in it, its :class:`Beat` followed by the
            :class:`Metrics` after that beat.
        """
        out: list[Beat | Metrics] = []
        for placed in self.clock.place(notification.arrival_s, notification.rr_ms):
            beat, metrics = self.push_beat(placed.t_s, placed.rr_ms, gap_before=placed.gap_before)
            out.append(beat)
            out.append(metrics)
        return out

    def push_beat(
        self, t_s: float, rr_ms: float, *, gap_before: bool = False
    ) -> tuple[Beat, Metrics]:
        """Process one interval whose end time is already known.

        Args:
            t_s: Time the interval ended, s (non-decreasing).
            rr_ms: The interval, ms (positive).
            gap_before: Beats are missing right before this one.
        """
        artifact = self.screen.is_artifact(rr_ms, gap_before=gap_before)
        self.window.push(t_s, rr_ms, normal=not artifact, gap_before=gap_before)
        self.n_beats += 1
        self.n_artifacts += artifact
        beat = Beat(t_s=t_s, rr_ms=rr_ms, artifact=artifact, gap_before=gap_before)

        td = self.window.metrics()
        quality = None if td.artifacts_pct is None else 1.0 - td.artifacts_pct / 100.0
        metrics = Metrics(
            t_s=t_s,
            mean_nn_ms=td.mean_nn_ms,
            sdnn_ms=td.sdnn_ms,
            rmssd_ms=td.rmssd_ms,
            pnn50_pct=td.pnn50_pct,
            mean_hr_bpm=td.mean_hr_bpm,
            relaxation=self.relaxation.update(t_s, td.rmssd_ms),
            quality=quality,
            artifacts_pct=td.artifacts_pct,
            n_beats=td.n_beats,
        )
        return beat, metrics
