"""The session store's interface and the rows it keeps.

Everything outside :mod:`hrvcalm.storage` talks to the store through :class:`SessionStore`
(a :class:`~typing.Protocol`), never through SQL, so that a clinic can later swap the SQLite
file for a PostgreSQL server by writing one more class with these methods.

Times: ``*_unix`` are Unix wall-clock seconds (UTC); ``t_s`` and ``*_t_s`` are seconds on
the session's clock (the source's clock: recording time for a replay, monotonic time since
the strap connected for a live strap), the same clock as the ``t_s`` of the websocket
``beat`` and ``metrics`` messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

#: The patient of a home install, and of every session stored before patients were named
#: (the schema's column default must stay equal to it).
DEFAULT_PATIENT = "me"
#: Why a session ended.
ENDED_REASONS = ("completed", "stopped", "source_ended", "interrupted", "imported")


@dataclass(frozen=True, slots=True)
class NewSession:
    """What is known when a session starts.

    Attributes:
        started_unix: Wall-clock start, Unix seconds.
        source: The source spec (``replay:PATH``, ``sim``, ``ble:...``, ``import:PATH``).
        speed: Playback speed of a replay or simulation (1.0 live; ``None`` for "max").
        app_version: The hrvcalm version that recorded it.
        practice: The guided practice (``paced_breathing``, ``breath_focus``, ``body_scan``).
        planned_s: Planned practice length, s (``None``: open-ended).
        device_name: The strap's or recording's name, if known yet.
        patient: Who practised (:data:`DEFAULT_PATIENT` at home).
    """

    started_unix: float
    source: str
    speed: float | None = 1.0
    app_version: str = ""
    practice: str = "paced_breathing"
    planned_s: float | None = None
    device_name: str | None = None
    patient: str = DEFAULT_PATIENT


@dataclass(frozen=True, slots=True)
class StoredBeat:
    """One beat as recorded: the raw interval, exactly as it arrived, and its flags.

    Attributes:
        t_s: Session time at which the interval ended, s.
        rr_ms: The interval as measured, ms (float64; strap RR are multiples of 1000/1024 ms).
        artifact: Judged an artifact and left out of the metrics.
        gap_before: Beats are missing right before this one.
        corrected_rr_ms: The artifact-corrected interval, ms, if the pipeline produced one.
    """

    t_s: float
    rr_ms: float
    artifact: bool = False
    gap_before: bool = False
    corrected_rr_ms: float | None = None


@dataclass(frozen=True, slots=True)
class MetricsSample:
    """The metrics timeline at one moment: ``t_s`` and the metric keys (``None`` if unknown)."""

    t_s: float
    values: dict[str, Any]


@dataclass(frozen=True, slots=True)
class DeviceEvent:
    """A change of the strap's link, battery or contact.

    Attributes:
        t_s: Session time of the event, s.
        state: ``connecting``, ``connected``, ``lost`` or ``reconnecting``.
        name: Device name.
        battery_pct: Battery level, % (``None`` if not reported).
        contact: Skin contact (``None`` where the strap cannot tell).
    """

    t_s: float
    state: str
    name: str | None = None
    battery_pct: int | None = None
    contact: bool | None = None

    @property
    def is_gap(self) -> bool:
        """A dropped or re-establishing link: beats are missing around this time."""
        return self.state in ("lost", "reconnecting")


@dataclass(frozen=True, slots=True)
class PacerChange:
    """The pacer settings from ``t_s`` on: breaths/min and inhale:exhale ratio."""

    t_s: float
    rate_bpm: float
    inhale_ratio: float


@dataclass(frozen=True, slots=True)
class StoredRating:
    """Pain and stress 0-10 given ``before`` or ``after`` the practice, and a note."""

    when: str
    pain: int | None = None
    stress: int | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """A questionnaire a patient filled in during the course.

    Attributes:
        patient: Who.
        week: Week of the course (0 = before it starts).
        instrument: ``peg`` or ``rmdq`` (see :mod:`hrvcalm.reports.outcomes`).
        items: The answers as given (PEG: three 0-10; RMDQ: 24 yes/no as 1/0).
        score: The questionnaire's score.
        taken_unix: When it was entered, Unix seconds.
    """

    patient: str
    week: int
    instrument: str
    items: tuple[int, ...]
    score: float
    taken_unix: float


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """One stored session with the figures a list or the history page shows.

    Attributes:
        id: The session's number in this store.
        started_unix: Wall-clock start, Unix seconds.
        source: The source spec.
        device_name: The strap's or recording's name.
        practice: The guided practice.
        planned_s: Planned length, s.
        practice_start_t_s: Session time at which the practice timer started, s.
        practice_s: Time practised (the session timer), s.
        end_t_s: Session time of the end (the last beat for an interrupted session), s.
        ended_unix: Wall-clock end, Unix seconds (``None`` while running).
        ended_reason: One of :data:`ENDED_REASONS` (``None`` while running).
        n_beats: Beats stored.
        n_artifacts: Beats flagged as artifacts.
        mean_rmssd_ms: Mean of the RMSSD timeline during the practice, ms.
        mean_coherence: Mean of the coherence timeline during the practice.
        mean_hr_bpm: Mean of the heart-rate timeline during the practice, bpm.
        ratings: ``before``/``after`` ratings given.
        notes: Free text about the session.
        speed: Playback speed (1.0 live).
        app_version: The hrvcalm version that recorded it.
        patient: Who practised.
    """

    id: int
    started_unix: float
    source: str
    device_name: str | None
    practice: str
    planned_s: float | None
    practice_start_t_s: float | None
    practice_s: float | None
    end_t_s: float | None
    ended_unix: float | None
    ended_reason: str | None
    n_beats: int
    n_artifacts: int
    mean_rmssd_ms: float | None
    mean_coherence: float | None
    mean_hr_bpm: float | None
    ratings: dict[str, StoredRating] = field(default_factory=dict)
    notes: str | None = None
    speed: float | None = 1.0
    app_version: str = ""
    patient: str = DEFAULT_PATIENT

    @property
    def minutes_practised(self) -> float:
        """Minutes of practice: the session timer, else the span of the stored beats."""
        if self.practice_s is not None and self.practice_s > 0:
            return self.practice_s / 60.0
        if self.end_t_s is not None:
            return self.end_t_s / 60.0
        return 0.0

    @classmethod
    def from_row(cls, row: Sequence[Any], ratings: dict[str, StoredRating]) -> SessionSummary:
        """A summary from one row of the stores' summary query (the columns in the order of
        the attributes above, ``ratings`` excepted), whatever the engine."""
        r = row
        return cls(
            id=int(r[0]),
            started_unix=float(r[1]),
            source=str(r[2]),
            device_name=r[3],
            practice=str(r[4]),
            planned_s=r[5],
            practice_start_t_s=r[6],
            practice_s=r[7],
            end_t_s=r[8],
            ended_unix=r[9],
            ended_reason=r[10],
            n_beats=int(r[11]),
            n_artifacts=int(r[12]),
            mean_rmssd_ms=r[13],
            mean_coherence=r[14],
            mean_hr_bpm=r[15],
            ratings=ratings,
            notes=r[16],
            speed=r[17],
            app_version=str(r[18] or ""),
            patient=str(r[19]),
        )


class SessionStore(Protocol):
    """Where sessions live. Writes are buffered until :meth:`commit`.

    Call order for a recording: :meth:`create_session`, then any number of ``add_*`` /
    :meth:`update_session` / :meth:`set_rating` calls with :meth:`commit` at least once a
    second, then :meth:`end_session` (which commits).
    """

    def create_session(self, new: NewSession) -> int:
        """Store a new running session (committed at once); returns its id."""

    def update_session(
        self,
        session_id: int,
        *,
        practice: str | None = None,
        planned_s: float | None = None,
        practice_start_t_s: float | None = None,
        practice_s: float | None = None,
        device_name: str | None = None,
        notes: str | None = None,
    ) -> None:
        """Change the session's fields that are given (``None`` leaves a field as it is)."""

    def add_beats(self, session_id: int, beats: Sequence[StoredBeat]) -> None:
        """Append beats, in time order."""

    def add_metrics(self, session_id: int, samples: Sequence[MetricsSample]) -> None:
        """Append points of the metrics timeline."""

    def add_event(self, session_id: int, event: DeviceEvent) -> None:
        """Append a device event."""

    def add_pacer(self, session_id: int, change: PacerChange) -> None:
        """Append a change of the pacer settings."""

    def set_rating(self, session_id: int, rating: StoredRating) -> None:
        """Store a rating (replacing an earlier one given at the same ``when``)."""

    def end_session(
        self, session_id: int, *, reason: str, end_t_s: float | None, ended_unix: float
    ) -> None:
        """Mark the session ended (and commit)."""

    def delete_session(self, session_id: int) -> None:
        """Remove a session and everything recorded in it (and commit)."""

    def commit(self) -> None:
        """Make every write so far durable."""

    def rollback(self) -> None:
        """Abandon the writes since the last commit (after a failed write)."""

    def heartbeat(self, session_id: int, now_unix: float) -> None:
        """Note that the recording process is alive (with the next commit)."""

    def list_sessions(self, patient: str | None = None) -> list[SessionSummary]:
        """Every session (of ``patient`` only, when given), oldest first."""

    def get_session(self, session_id: int) -> SessionSummary:
        """One session (raises :class:`~hrvcalm.errors.UsageError` if there is none)."""

    def beats_of(self, session_id: int) -> list[StoredBeat]:
        """The session's beats in order."""

    def metrics_of(self, session_id: int) -> list[MetricsSample]:
        """The session's metrics timeline in order."""

    def events_of(self, session_id: int) -> list[DeviceEvent]:
        """The session's device events in order."""

    def pacer_of(self, session_id: int) -> list[PacerChange]:
        """The session's pacer settings over time."""

    def set_outcome(self, outcome: Outcome) -> None:
        """Store a questionnaire (replacing the same patient's, week's and instrument's;
        committed at once)."""

    def outcomes_of(self, patient: str) -> list[Outcome]:
        """A patient's questionnaires by instrument and week."""

    def get_setting(self, key: str) -> str | None:
        """A stored preference (e.g. the patient's pacer rate), or ``None``."""

    def set_setting(self, key: str, value: str) -> None:
        """Store a preference (committed at once)."""

    def close(self) -> None:
        """Commit and release the store."""
