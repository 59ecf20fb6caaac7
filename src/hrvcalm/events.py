"""Frozen, slotted value types passed between the layers.

Sources produce :class:`RRNotification` and :class:`DeviceStatus`; the core turns
notifications into :class:`Beat` and :class:`Metrics`. Nothing here does I/O.
Units are in the names: ``_ms`` milliseconds, ``_s`` seconds, ``_bpm`` per minute.
"""

from __future__ import annotations

import dataclasses
import enum
import operator
from dataclasses import dataclass
from typing import Any


class Contact(enum.Enum):
    """Skin contact as a strap reports it in the 0x2A37 flags (bits 1-2)."""

    UNSUPPORTED = "unsupported"  # bit 2 clear: the strap does not report contact
    NOT_DETECTED = "not_detected"  # bit 2 set, bit 1 clear
    DETECTED = "detected"  # bits 2 and 1 set

    def as_json(self) -> bool | None:
        """``True``/``False`` for reported contact, ``None`` where the strap cannot tell."""
        if self is Contact.UNSUPPORTED:
            return None
        return self is Contact.DETECTED


class DeviceState(enum.Enum):
    """The link state shown on the page (the ``device`` message's ``state``)."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    LOST = "lost"
    RECONNECTING = "reconnecting"


@dataclass(frozen=True, slots=True)
class RRNotification:
    """One notification from a strap (or one replayed batch): the beats that ended before it.

    Attributes:
        arrival_s: When the notification arrived, in seconds on the source's clock (monotonic
            for a live strap, recording time for a replay).
        rr_ms: Beat-to-beat intervals carried by the notification, oldest first, in ms.
        hr_bpm: The strap's own heart-rate value, if it sent one.
        contact: Skin contact as reported.
    """

    arrival_s: float
    rr_ms: tuple[float, ...]
    hr_bpm: int | None = None
    contact: Contact = Contact.UNSUPPORTED


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    """A change of link state, battery or contact, from a source."""

    state: DeviceState
    name: str
    battery_pct: int | None = None
    contact: Contact = Contact.UNSUPPORTED
    at_s: float | None = None


@dataclass(frozen=True, slots=True)
class Beat:
    """One cleaned beat interval.

    Attributes:
        t_s: Session time at which the interval ended, in seconds.
        rr_ms: The interval, in ms, as measured (never altered here).
        artifact: ``True`` if the interval was judged an artifact and left out of the metrics.
        gap_before: ``True`` if beats are missing right before this one (dropped link,
            lost notifications), so it must not be differenced with the previous beat.
        corrected_rr_ms: For an artifact, the value that replaces it in plots (the local
            median; half the interval for a missed beat), else ``None``.
    """

    t_s: float
    rr_ms: float
    artifact: bool = False
    gap_before: bool = False
    corrected_rr_ms: float | None = None

    @property
    def hr_bpm(self) -> float:
        """Instantaneous heart rate of this interval, in beats per minute."""
        return 60_000.0 / self.rr_ms


#: Every metric key of the JSON, websocket and analyze contracts, in display order.
METRIC_KEYS: tuple[str, ...] = (
    "mean_nn_ms",
    "sdnn_ms",
    "rmssd_ms",
    "pnn50_pct",
    "mean_hr_bpm",
    "vlf_ms2",
    "lf_ms2",
    "hf_ms2",
    "lf_hf",
    "total_power_ms2",
    "lf_peak_hz",
    "hf_peak_hz",
    "sd1_ms",
    "sd2_ms",
    "dfa_alpha1",
    "stress_index",
    "coherence",
    "resp_rate_bpm",
    "relaxation",
    "quality",
    "artifacts_pct",
    "n_beats",
)

#: Reads the :data:`METRIC_KEYS` fields of a :class:`Metrics` into a tuple, in one C call.
_METRIC_VALUES = operator.attrgetter(*METRIC_KEYS)


@dataclass(frozen=True, slots=True)
class Metrics:
    """HRV metrics of one window. A metric that cannot be computed yet is ``None``.

    Attributes:
        t_s: Session time of the window's end (the last beat), in seconds.
    """

    t_s: float
    mean_nn_ms: float | None = None
    sdnn_ms: float | None = None
    rmssd_ms: float | None = None
    pnn50_pct: float | None = None
    mean_hr_bpm: float | None = None
    vlf_ms2: float | None = None
    lf_ms2: float | None = None
    hf_ms2: float | None = None
    lf_hf: float | None = None
    total_power_ms2: float | None = None
    lf_peak_hz: float | None = None
    hf_peak_hz: float | None = None
    sd1_ms: float | None = None
    sd2_ms: float | None = None
    dfa_alpha1: float | None = None
    stress_index: float | None = None
    coherence: float | None = None
    resp_rate_bpm: float | None = None
    relaxation: float | None = None
    quality: float | None = None
    artifacts_pct: float | None = None
    n_beats: int = 0

    def metric_values(self) -> tuple[Any, ...]:
        """The values of the metric keys (without ``t_s``), in contract order."""
        values: tuple[Any, ...] = _METRIC_VALUES(self)
        return values

    def metric_dict(self) -> dict[str, Any]:
        """The metric keys (without ``t_s``) and their values, in contract order."""
        return dict(zip(METRIC_KEYS, self.metric_values(), strict=True))

    def replace(self, **changes: Any) -> Metrics:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)
