"""A simulated chest strap whose heart follows the breath (respiratory sinus arrhythmia).

Model, per beat (seeded, so a seed always gives the same beats):

    hr(t) = hr_bpm + A(rate) * sin(2 pi t rate / 60)          breathing (RSA)
                   + 1.5 * sin(2 pi 0.1 t + phi)              baroreflex (Mayer) wave, 0.1 Hz
                   + w(t)                                     slow random walk, sd ~1 bpm
    rr = 60000 / hr(t) + e,  e ~ N(0, 4 ms)

The RSA amplitude ``A`` (bpm, half the peak-to-trough swing) is largest when the breathing rate
equals the person's resonance rate (Lehrer et al. 2000), which the option ``resonance`` sets:
``A = rsa * (0.3 + 0.7 / (1 + (rate - resonance)^2))``.

Like a real strap it notifies about once a second, with the intervals of the beats that ended
during the last second (none, one or two, sometimes more), its own heart-rate value and
skin contact. Optional artifacts (``artifacts=0.02`` is 2 % of beats) are missed beats (two
intervals merged), extra beats (one split in two) and ectopic beats (early, then compensating).

Following the pacer (``follow``, on by default): the simulated person breathes at ``breaths``
until the session changes the pacer (the page's rate slider, the resonance assessment), then
at the pacer's rate, starting an in-breath when the pacer does
(:meth:`SimulatedStrap.follow_breathing`). While following, heart rate is modelled against
lung volume, in phase at the resonance rate and shifted by ``atan(rate - resonance)`` radians
otherwise (lagging when breathing faster, leading when slower, as a driven resonator;
Vaschillo et al. 2002)::

    hr(t) = hr_bpm - A(rate) * cos(2 pi (t - t0) rate / 60 - atan(rate - resonance)) + ...

Slow paced breathing entrains the baroreflex oscillation (Vaschillo et al. 2002), so while
following, the spontaneous 0.1 Hz wave is left out and the low-frequency rhythm is the
breath's alone; the resonance assessment then has a known right answer: the step nearest
``resonance``. (Each interval's sine is taken half a mean beat after the interval starts,
at its middle, so that the phase is the modelled one.)
``follow=0`` keeps the fixed ``breaths`` rate whatever the pacer does.

Spec options: ``sim:breaths=6,seed=1,hr=65,rsa=6,resonance=5.5,artifacts=0,minutes=10``.
"""

from __future__ import annotations

import math
import random
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

from hrvcalm.devices.base import FollowsPacer, Source, SourceEvent
from hrvcalm.devices.playback import PlaybackClock
from hrvcalm.events import Contact, DeviceState, DeviceStatus, RRNotification

#: Amplitude of the spontaneous 0.1 Hz baroreflex (Mayer) wave, bpm.
MAYER_BPM = 1.5


@dataclass(frozen=True, slots=True)
class SimulatorSettings:
    """Parameters of the simulated person and strap (see the module docstring)."""

    breaths_bpm: float = 6.0
    seed: int = 0
    hr_bpm: float = 65.0
    rsa_bpm: float = 6.0
    resonance_bpm: float = 5.5
    artifacts: float = 0.0
    minutes: float | None = None
    follow: bool = True

    def __post_init__(self) -> None:
        if not 1.0 <= self.breaths_bpm <= 30.0:
            raise ValueError(f"breaths must be 1-30 per minute, got {self.breaths_bpm:g}")
        if not 30.0 <= self.hr_bpm <= 180.0:
            raise ValueError(f"hr must be 30-180 bpm, got {self.hr_bpm:g}")
        if not 0.0 <= self.artifacts <= 0.5:
            raise ValueError(f"artifacts must be a fraction 0-0.5, got {self.artifacts:g}")
        if self.rsa_bpm < 0:
            raise ValueError("rsa must not be negative")
        if self.minutes is not None and self.minutes <= 0:
            raise ValueError("minutes must be positive")

    @property
    def rsa_amplitude_bpm(self) -> float:
        """Half the peak-to-trough heart-rate swing at this breathing rate, bpm."""
        return self.amplitude_at(self.breaths_bpm)

    def amplitude_at(self, rate_bpm: float) -> float:
        """Half the peak-to-trough heart-rate swing when breathing at ``rate_bpm``, bpm."""
        detune = rate_bpm - self.resonance_bpm
        return self.rsa_bpm * (0.3 + 0.7 / (1.0 + detune * detune))


@dataclass(slots=True)
class Breath:
    """How the simulated person breathes now: ``sin(2 pi rate/60 (t - t0_s) + offset_rad)``."""

    rate_bpm: float
    amplitude_bpm: float
    t0_s: float = 0.0
    offset_rad: float = 0.0
    sample_delay_s: float = 0.0
    mayer_bpm: float = MAYER_BPM


def simulated_beats(
    settings: SimulatorSettings, breath: Breath | None = None
) -> Iterator[tuple[float, float]]:
    """Endless (end time s, rr ms) pairs of the simulated heart, artifacts included.

    Args:
        settings: The simulated person.
        breath: The breathing now; the caller may change it between beats (following the
            pacer). Defaults to ``breaths`` from the settings.
    """
    rng = random.Random(settings.seed)
    mayer_phase = rng.uniform(0, 2 * math.pi)
    walk = 0.0
    t = 0.0
    if breath is None:
        breath = Breath(settings.breaths_bpm, settings.rsa_amplitude_bpm)
    pending: list[float] = []
    while True:
        if pending:
            rr = pending.pop(0)
        else:
            walk = 0.995 * walk + rng.gauss(0.0, 0.1)
            breath_hz = breath.rate_bpm / 60.0
            # a following heart is sampled half a beat on: mid-interval, as the rate it sets
            at = t + breath.sample_delay_s
            hr = (
                settings.hr_bpm
                + breath.amplitude_bpm
                * math.sin(2 * math.pi * breath_hz * (at - breath.t0_s) + breath.offset_rad)
                + breath.mayer_bpm * math.sin(2 * math.pi * 0.1 * t + mayer_phase)
                + walk
            )
            rr = 60_000.0 / hr + rng.gauss(0.0, 4.0)
            if settings.artifacts and rng.random() < settings.artifacts:
                kind = rng.choice(("missed", "extra", "ectopic"))
                if kind == "missed":
                    rr = rr + 60_000.0 / hr
                elif kind == "extra":
                    part = rng.uniform(0.3, 0.6)
                    pending.append(rr * (1.0 - part))
                    rr = rr * part
                else:
                    pending.append(rr * 1.3)
                    rr = rr * 0.7
        t += rr / 1000.0
        yield t, rr


class SimulatedStrap(Source, FollowsPacer):
    """A seeded simulated strap (see the module docstring).

    Args:
        settings: The simulated person and strap.
        speed: 1.0 real time, larger is faster, ``math.inf`` as fast as possible.
    """

    def __init__(self, settings: SimulatorSettings, speed: float = 1.0) -> None:
        self.settings = settings
        self.spec = "sim"
        self.name = f"Simulated strap ({settings.breaths_bpm:g} breaths/min)"
        self._playback = PlaybackClock(speed)
        self._breath = Breath(settings.breaths_bpm, settings.rsa_amplitude_bpm)

    @property
    def speed(self) -> float:
        return self._playback.speed

    def clock_s(self) -> float:
        return self._playback.now_s()

    def follow_breathing(self, rate_bpm: float, at_s: float | None = None) -> None:
        """Breathe at the pacer's ``rate_bpm`` (breaths/min) from now on (if ``follow``).

        Args:
            rate_bpm: The pacer's rate, breaths/min.
            at_s: Session time at which the pacer's in-breath started, s (default: now).
        """
        if not self.settings.follow:
            return
        s = self.settings
        self._breath.rate_bpm = rate_bpm
        self._breath.amplitude_bpm = s.amplitude_at(rate_bpm)
        self._breath.t0_s = self.clock_s() if at_s is None else at_s
        # -cos(x - lag) = sin(x - lag - pi/2): in phase with lung volume at resonance
        self._breath.offset_rad = -0.5 * math.pi - math.atan(rate_bpm - s.resonance_bpm)
        self._breath.sample_delay_s = 30.0 / s.hr_bpm
        self._breath.mayer_bpm = 0.0

    async def events(self) -> AsyncIterator[SourceEvent]:
        rng = random.Random(self.settings.seed + 1)
        end_s = math.inf if self.settings.minutes is None else 60.0 * self.settings.minutes
        yield DeviceStatus(DeviceState.CONNECTING, self.name, at_s=0.0)
        self._playback.start(0.0)
        yield DeviceStatus(
            DeviceState.CONNECTED, self.name, battery_pct=90, contact=Contact.DETECTED, at_s=0.0
        )
        beats = simulated_beats(self.settings, self._breath)
        next_beat = next(beats)
        tick = 1
        while tick <= end_s:
            batch: list[float] = []
            while next_beat[0] <= tick:
                batch.append(next_beat[1])
                next_beat = next(beats)
            arrival = tick + rng.uniform(0.02, 0.08)
            await self._playback.wait_until(arrival)
            hr = round(60_000.0 / batch[-1]) if batch else None
            yield RRNotification(arrival, tuple(batch), hr_bpm=hr, contact=Contact.DETECTED)
            tick += 1
