"""How a session went: a pure function over the session's metrics timeline.

:func:`summarize` takes the timeline of one session (one :class:`Sample` about every second,
as the live session keeps it and as the store keeps it) with the practice's start and end on
the same clock, and returns a :class:`Summary`: minutes practised; heart rate, RMSSD and
relaxation at the start and at the end; the time spent in each coherence zone; the pain and
stress ratings before and after; the breathing rate next to the pacer's; and what to try next
time. The live session sends it as the ``summary`` message at the end (and again when the
"after" ratings arrive); ``hrvcalm sessions show`` computes the same from the stored timeline.
A live session feeds the samples one by one into a :class:`SummaryBuilder`, whose memory stays
bounded however long the session (the first and last minute, counters for the rest);
:func:`summarize` is the same builder over a whole timeline.

Rules:

1. "At the start" is the mean of each value over the first :data:`EDGE_S` seconds of the
   practice in which it is known (a metric is unknown until its window has filled, so a
   session whose beats begin at Start has its first values about half a minute in). "At the
   end" is the mean over the last :data:`EDGE_S` seconds of the practice. A value never known
   during the practice is ``None``.
2. Time in a zone: each sample's zone holds until the next sample, at most :data:`MAX_HOLD_S`
   (a gap in the signal counts in no zone). The zone is the sample's ``coherence_zone`` when
   the pipeline sent one, else the zone of the coherence ratio by the pipeline's own rule
   (:func:`hrvcalm.core.coherence.coherence_zone`; the page falls back on the same limits).
3. Breathing rate: the median of the measured rate over the practice (to 0.1 breaths/min).
4. What to try next: a few plain suggestions from fixed rules (:func:`suggestions`), always at
   least one. They never judge the patient: a session that was short, or restless, still
   counts, and the evidence for these practices in back pain is modest (DESIGN.md section 5).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from hrvcalm.core.coherence import ZONES, coherence_zone

#: Seconds at each end of the practice over which "at the start" and "at the end" are averaged.
EDGE_S = 60.0
#: Longest time one sample's coherence zone is held, s (longer: a gap, counted in no zone).
MAX_HOLD_S = 5.0
#: Session lengths the page offers, minutes.
LENGTHS_MIN = (5, 10, 15, 20)
#: The slowest and fastest pacer rates, breaths/min.
PACER_RANGE_BPM = (3.0, 10.0)
#: Breathing this far from the pacer's rate, breaths/min, is "not with the circle".
RATE_TOLERANCE_BPM = 1.0


class Sample(NamedTuple):
    """The metrics at one moment (``None``: not known yet). A tuple of numbers, so a session
    can keep one a second without the garbage collector tracking them."""

    t_s: float
    mean_hr_bpm: float | None = None
    rmssd_ms: float | None = None
    relaxation: float | None = None
    coherence: float | None = None
    coherence_zone: str | None = None
    resp_rate_bpm: float | None = None

    @classmethod
    def from_values(cls, t_s: float, values: Mapping[str, Any]) -> Sample:
        """From a ``metrics`` message or a stored timeline row."""

        def number(key: str) -> float | None:
            value = values.get(key)
            if isinstance(value, bool) or not isinstance(value, int | float):
                return None
            return float(value) if math.isfinite(value) else None

        zone = values.get("coherence_zone")
        return cls(
            t_s=float(t_s),
            mean_hr_bpm=number("mean_hr_bpm"),
            rmssd_ms=number("rmssd_ms"),
            relaxation=number("relaxation"),
            coherence=number("coherence"),
            coherence_zone=zone if zone in ZONES else None,
            resp_rate_bpm=number("resp_rate_bpm"),
        )


@dataclass(frozen=True, slots=True)
class Ratings:
    """Pain and stress 0-10 before and after (``None``: not given)."""

    pain_before: int | None = None
    pain_after: int | None = None
    stress_before: int | None = None
    stress_after: int | None = None


@dataclass(frozen=True, slots=True)
class Summary:
    """How one session went (units in the names; ``None``: not known)."""

    practice: str
    minutes: float
    planned_minutes: float | None
    completed: bool
    ended_reason: str | None
    start: dict[str, float | None]
    end: dict[str, float | None]
    zones_s: dict[str, float]
    ratings: Ratings
    pacer_rate_bpm: float | None
    resp_rate_bpm: float | None
    next: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The ``summary`` message's fields (without ``type``), numbers rounded for display."""

        def r(value: float | None, digits: int) -> float | None:
            return None if value is None else round(value, digits)

        def values(side: dict[str, float | None]) -> dict[str, float | None]:
            return {
                "mean_hr_bpm": r(side["mean_hr_bpm"], 1),
                "rmssd_ms": r(side["rmssd_ms"], 1),
                "relaxation": r(side["relaxation"], 0),
            }

        ratings = self.ratings
        return {
            "practice": self.practice,
            "minutes": round(self.minutes, 2),
            "planned_minutes": r(self.planned_minutes, 2),
            "completed": self.completed,
            "ended_reason": self.ended_reason,
            "start": values(self.start),
            "end": values(self.end),
            "zones_s": {zone: round(s, 1) for zone, s in self.zones_s.items()},
            "ratings": {
                "before": {"pain": ratings.pain_before, "stress": ratings.stress_before},
                "after": {"pain": ratings.pain_after, "stress": ratings.stress_after},
            },
            "pacer_rate_bpm": self.pacer_rate_bpm,
            "resp_rate_bpm": r(self.resp_rate_bpm, 1),
            "next": list(self.next),
        }


def zone_of(sample: Sample) -> str | None:
    """The sample's coherence zone (rule 2), ``None`` while coherence is unknown."""
    if sample.coherence_zone is not None:
        return sample.coherence_zone
    if sample.coherence is None:
        return None
    return coherence_zone(sample.coherence)


class SummaryBuilder:
    """Takes the practice's samples one at a time, in time order, in bounded memory.

    Call order: :meth:`add` for each sample from the practice's start on, then
    :meth:`summary` (as often as wanted: it changes nothing).
    """

    KEYS = ("mean_hr_bpm", "rmssd_ms", "relaxation")

    def __init__(self) -> None:
        self._first: dict[str, list[float]] = {k: [] for k in self.KEYS}
        self._first_t: dict[str, float] = {}
        self._last: deque[Sample] = deque()
        self._zones = dict.fromkeys(ZONES, 0.0)
        self._previous: Sample | None = None
        self._rates: Counter[int] = Counter()  # breaths/min in tenths

    def add(self, sample: Sample) -> None:
        """One more sample (later than the previous one)."""
        previous = self._previous
        if previous is not None:
            zone = zone_of(previous)
            if zone is not None:
                self._zones[zone] += max(0.0, min(sample.t_s - previous.t_s, MAX_HOLD_S))
        self._previous = sample
        for key in self.KEYS:
            value = getattr(sample, key)
            if value is None:
                continue
            first = self._first_t.setdefault(key, sample.t_s)
            if sample.t_s <= first + EDGE_S:
                self._first[key].append(value)
        self._last.append(sample)
        while self._last and self._last[0].t_s < sample.t_s - 2 * EDGE_S:
            self._last.popleft()  # twice the edge: the last known value may be older
        if sample.resp_rate_bpm is not None:
            self._rates[round(sample.resp_rate_bpm * 10)] += 1

    def _end_mean(self, key: str) -> float | None:
        known = [s for s in self._last if getattr(s, key) is not None]
        if not known:
            return None
        edge = known[-1].t_s - EDGE_S
        return statistics.fmean(getattr(s, key) for s in known if s.t_s >= edge)

    def _median_rate(self) -> float | None:
        total = sum(self._rates.values())
        if total == 0:
            return None
        values = sorted(self._rates.elements())
        return statistics.median(values) / 10.0

    def summary(
        self,
        *,
        practice: str,
        start_t_s: float,
        end_t_s: float,
        planned_s: float | None = None,
        ended_reason: str | None = None,
        ratings: Ratings = Ratings(),
        pacer_rate_bpm: float | None = None,
        guided: bool = True,
    ) -> Summary:
        """The summary so far (arguments as :func:`summarize`)."""
        zones = dict(self._zones)
        last = self._previous
        if last is not None and (zone := zone_of(last)) is not None:
            zones[zone] += max(0.0, min(end_t_s - last.t_s, MAX_HOLD_S))
        minutes = max(0.0, end_t_s - start_t_s) / 60.0
        planned_min = None if planned_s is None else planned_s / 60.0
        completed = ended_reason == "completed" or (
            planned_min is not None and minutes >= planned_min - 0.05 / 60.0
        )
        summary = Summary(
            practice=practice,
            minutes=minutes,
            planned_minutes=planned_min,
            completed=completed,
            ended_reason=ended_reason,
            start={k: statistics.fmean(v) if (v := self._first[k]) else None for k in self.KEYS},
            end={k: self._end_mean(k) for k in self.KEYS},
            zones_s=zones,
            ratings=ratings,
            pacer_rate_bpm=pacer_rate_bpm if guided else None,
            resp_rate_bpm=self._median_rate(),
        )
        return replace(summary, next=suggestions(summary))


def time_in_zones(samples: Sequence[Sample], end_t_s: float) -> dict[str, float]:
    """Seconds in each coherence zone (rule 2)."""
    builder = SummaryBuilder()
    for sample in samples:
        builder.add(sample)
    return builder.summary(practice="", start_t_s=0.0, end_t_s=end_t_s).zones_s


def summarize(
    samples: Iterable[Sample],
    *,
    practice: str,
    start_t_s: float,
    end_t_s: float,
    planned_s: float | None = None,
    ended_reason: str | None = None,
    ratings: Ratings = Ratings(),
    pacer_rate_bpm: float | None = None,
    guided: bool = True,
) -> Summary:
    """Summarise one session.

    Args:
        samples: The metrics timeline, in time order (samples outside the practice, from
            ``start_t_s`` to ``end_t_s``, are left out).
        practice: The practice (``paced_breathing``, ``breath_focus``, ``body_scan``,
            ``resonance``).
        start_t_s: When the practice started, session s.
        end_t_s: When it ended, session s.
        planned_s: The planned length, s (``None``: open-ended).
        ended_reason: ``completed``, ``stopped``, ``source_ended`` (or ``None``).
        ratings: Pain and stress before and after.
        pacer_rate_bpm: The pacer's rate at the end, breaths/min.
        guided: The breathing circle was shown (paced breathing, or a practice with the guide
            switched on).
    """
    builder = SummaryBuilder()
    for sample in samples:
        if start_t_s <= sample.t_s <= end_t_s:
            builder.add(sample)
    return builder.summary(
        practice=practice,
        start_t_s=start_t_s,
        end_t_s=end_t_s,
        planned_s=planned_s,
        ended_reason=ended_reason,
        ratings=ratings,
        pacer_rate_bpm=pacer_rate_bpm,
        guided=guided,
    )


def next_length_min(minutes: float, completed: bool) -> int:
    """The length to suggest next: one step up from a completed session, up to 20 minutes;
    the nearest offered length at or below what was practised otherwise (at least 5)."""
    if completed:
        longer = [m for m in LENGTHS_MIN if m > round(minutes)]
        return longer[0] if longer else LENGTHS_MIN[-1]
    shorter = [m for m in LENGTHS_MIN if m <= minutes + 0.5]
    return shorter[-1] if shorter else LENGTHS_MIN[0]


def suggestions(s: Summary) -> list[str]:
    """What to try next time (rule 4)."""
    out: list[str] = []
    if s.ended_reason == "source_ended" and not s.completed:
        out.append("The recording ended before the planned length; that is why it stopped early.")
    elif not s.completed and s.planned_minutes is not None and s.minutes >= 1.0:
        length = next_length_min(s.minutes, completed=False)
        out.append(
            f"Stopping early is fine. Next time you could choose {length} minutes, a length "
            "you can finish comfortably."
        )
    elif s.completed and s.practice != "resonance" and s.planned_minutes is not None:
        length = next_length_min(s.planned_minutes, completed=True)
        if length > round(s.planned_minutes):
            out.append(f"When it feels right, try {length} minutes next time.")
    if s.pacer_rate_bpm is not None and s.resp_rate_bpm is not None:
        gap = s.resp_rate_bpm - s.pacer_rate_bpm
        if gap > RATE_TOLERANCE_BPM:
            slower = max(PACER_RANGE_BPM[0], s.pacer_rate_bpm - 0.5)
            out.append(
                f"Your breathing ran faster than the circle ({s.resp_rate_bpm:.1f} against "
                f"{s.pacer_rate_bpm:.1f} a minute). Breathe less deeply rather than harder, or "
                f"set the pace to {slower:.1f} if {s.pacer_rate_bpm:.1f} felt strained."
            )
        elif gap < -RATE_TOLERANCE_BPM:
            out.append(
                f"You breathed more slowly than the circle ({s.resp_rate_bpm:.1f} against "
                f"{s.pacer_rate_bpm:.1f} a minute). Follow it a little more closely, or slow "
                "the pace to match what felt natural."
            )
    zoned = sum(s.zones_s.values())
    if zoned >= 60.0:
        if s.zones_s["low"] / zoned > 0.5:
            tip = (
                "Coherence stayed mostly low. A slow, even, effortless breath lets the heart's "
                "wave grow"
            )
            if s.practice != "resonance":
                tip += "; 'Find your breathing rate' once can show the pace that suits you"
            out.append(tip + ".")
        elif s.zones_s["high"] / zoned >= 0.5:
            out.append("Much of the time was in high coherence: keep this pace.")
    r = s.ratings
    if r.pain_before is not None and r.pain_after is not None and r.pain_after > r.pain_before:
        out.append(
            "Pain was higher afterwards. Next time choose a position that rests the back "
            "(lying down with the knees supported, for example); if it keeps happening, tell "
            "your clinician."
        )
    if not out:
        out.append(
            "Practise again tomorrow, at about the same time: short regular sessions help more "
            "than occasional long ones."
        )
    return out
