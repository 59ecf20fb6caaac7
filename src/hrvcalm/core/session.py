"""Session state: phase, timer and the patient's ratings.

Rules (the whole state machine)::

    ready   --start-->              running     (timer starts at the time given)
    ready   --stop-->               ended       (never started: not practice, not stored)
    running --stop / time is up / source ended-->  ended   (``ended_reason`` says which)
    running --start-->              running     (ignored: already running)
    ended   --start or stop-->      ended       (ignored)
    ended   --renew-->              a new state in ready (:meth:`SessionState.renew`: timer,
                                    ratings and reason cleared; practice and length kept)

Before the start (phase ready) the practice and its planned length may be chosen
(:meth:`SessionState.configure`); once running they are fixed. Ratings (pain and stress,
integers 0-10, and an optional note) can be given "before" and "after" in any phase; a later
rating of the same kind replaces the earlier one. Time is an
argument everywhere: ``now_s`` is seconds on the session's clock (recording time for a replay).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Phase(enum.Enum):
    """Where the session is."""

    READY = "ready"
    RUNNING = "running"
    ENDED = "ended"


RATING_WHEN = ("before", "after")
#: Why a session ended: its length was reached, a page stopped it, the source ran out.
ENDED_REASONS = ("completed", "stopped", "source_ended")
#: The guided practices a session can be (DESIGN.md section 1).
#: ``resonance`` is the resonance-frequency assessment (its length is set by its protocol).
PRACTICES = ("paced_breathing", "breath_focus", "body_scan", "resonance")
DEFAULT_PRACTICE = "paced_breathing"
MAX_NOTE_CHARS = 2000


@dataclass(frozen=True, slots=True)
class Rating:
    """Pain and stress on 0-10 scales (``None`` if not given) and an optional note."""

    pain: int | None = None
    stress: int | None = None
    note: str | None = None

    def __post_init__(self) -> None:
        for name in ("pain", "stress"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10
            ):
                raise ValueError(f"{name} must be a whole number from 0 to 10, got {value!r}")
        if self.note is not None and len(self.note) > MAX_NOTE_CHARS:
            raise ValueError(f"note must be at most {MAX_NOTE_CHARS} characters")


@dataclass
class SessionState:
    """The phase, timer and ratings of one session.

    Args:
        duration_s: Planned length, s; the session ends by itself when it is reached.
    """

    duration_s: float | None = None
    practice: str = DEFAULT_PRACTICE
    phase: Phase = Phase.READY
    started_s: float | None = None
    ended_s: float | None = None
    ended_reason: str | None = None
    ratings: dict[str, Rating] = field(default_factory=dict)

    def configure(self, practice: str | None = None, duration_s: float | None = None) -> None:
        """Choose the practice and planned length (only before the start).

        Raises:
            ValueError: The session has started, or an unknown practice or bad length.
        """
        if self.phase is not Phase.READY:
            raise ValueError("the practice and its length can only be changed before the start")
        if practice is not None:
            if practice not in PRACTICES:
                raise ValueError(
                    f"practice must be one of {', '.join(PRACTICES)}, got {practice!r}"
                )
            self.practice = practice
        if duration_s is not None:
            if not 60.0 <= duration_s <= 4 * 3600.0:
                raise ValueError("the session length must be between 1 and 240 minutes")
            self.duration_s = duration_s

    def start(self, now_s: float) -> bool:
        """Start the session. Returns ``True`` if the phase changed."""
        if self.phase is not Phase.READY:
            return False
        self.phase = Phase.RUNNING
        self.started_s = now_s
        return True

    def stop(self, now_s: float, reason: str = "stopped") -> bool:
        """End the session (``reason``: one of :data:`ENDED_REASONS`).

        Returns ``True`` if the phase changed.
        """
        if reason not in ENDED_REASONS:
            raise ValueError(f"reason must be one of {', '.join(ENDED_REASONS)}, got {reason!r}")
        if self.phase is Phase.ENDED:
            return False
        self.phase = Phase.ENDED
        self.ended_s = now_s
        self.ended_reason = reason
        return True

    @property
    def practised(self) -> bool:
        """The practice started (a session stopped before its start was never practice)."""
        return self.started_s is not None

    def renew(self, default_duration_s: float | None = None) -> SessionState:
        """The next session after this one has ended: in phase ready, with the same practice
        and length (a resonance assessment is a one-off: the next one is paced breathing, of
        ``default_duration_s``).

        Raises:
            ValueError: This session has not ended.
        """
        if self.phase is not Phase.ENDED:
            raise ValueError("a session is still running: stop it before starting a new one")
        if self.practice == "resonance":
            return SessionState(duration_s=default_duration_s)
        return SessionState(duration_s=self.duration_s, practice=self.practice)

    def tick(self, now_s: float) -> bool:
        """Advance the clock; ends the session when its duration is reached.

        Returns ``True`` if the phase changed.
        """
        if (
            self.phase is Phase.RUNNING
            and self.duration_s is not None
            and self.elapsed_s(now_s) >= self.duration_s
        ):
            return self.stop(now_s, "completed")
        return False

    def elapsed_s(self, now_s: float) -> float:
        """Seconds since the start (frozen once ended; 0 before the start)."""
        if self.started_s is None:
            return 0.0
        end = self.ended_s if self.ended_s is not None else now_s
        elapsed = max(0.0, end - self.started_s)
        if self.duration_s is not None:
            elapsed = min(elapsed, self.duration_s)
        return elapsed

    def rate(self, when: str, rating: Rating) -> None:
        """Store a rating given ``before`` or ``after`` the practice."""
        if when not in RATING_WHEN:
            raise ValueError(f"when must be 'before' or 'after', got {when!r}")
        self.ratings[when] = rating
