"""A virtual chest strap: a bumble GATT server replaying a recording over the emulated link.

It serves what a Polar H10 serves and what the app reads: the Heart Rate Service (0x180D:
measurement 0x2A37 notify, body sensor location 0x2A38 = chest), the Battery Service (0x180F:
level 0x2A19 read + notify) and Polar's PMD service (ECG start/stop on the control point,
130 Hz ECG frames of 73 samples on the data characteristic).

Notifications are realistic: once a second of recording time (scaled by ``speed``) the strap
sends the RR intervals, in 1/1024 s, of the beats that ended during that second (one or two
at rest), with the contact bits set and the energy field in every tenth notification, as
Polar straps do. Playback starts when the first client subscribes to 0x2A37 and runs on
regardless of the link from then on: beats that end while nobody is connected are lost,
exactly as with a real strap. The ECG is synthetic (a Gaussian QRS at every beat's end),
so an R-peak detector can be checked against the strap's own RR.

``drop_at_s`` makes the strap vanish (link dropped, no advertising) at that recording time
for ``drop_for_s`` seconds (``math.inf``: for good).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import math
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from bumble import att, gatt
from bumble.core import AdvertisingData
from bumble.device import Connection, Device

from hrvcalm.core import pmd
from hrvcalm.devices.playback import PlaybackClock
from hrvcalm.devices.virtual.air import VirtualAir

#: Advertising interval of the virtual strap, ms (short, so tests connect fast).
ADVERTISING_INTERVAL_MS = 50
#: A notification carries the beats of this much recording time, s.
NOTIFY_PERIOD_S = 1.0
#: Every this many notifications carries the energy-expended field.
ENERGY_EVERY = 10
#: ECG samples per PMD frame (229 bytes).
ECG_SAMPLES_PER_FRAME = 73

_CHEST = 1


@dataclass(frozen=True, slots=True)
class ScheduledNotification:
    """One 0x2A37 notification of the replay: when it is sent and the RR it carries."""

    t_s: float
    rr_1024: tuple[int, ...]


def rr_to_1024(rr_ms: Sequence[float]) -> list[int]:
    """RR intervals in ms rounded to the strap's 1/1024 s units."""
    return [round(float(v) * 1.024) for v in rr_ms]


def schedule(
    rr_1024: Sequence[int], period_s: float = NOTIFY_PERIOD_S
) -> list[ScheduledNotification]:
    """Group beats into notifications: every ``period_s``, the beats that ended in that period.

    Time 0 is the start of the first interval; beat ``i`` ends at the cumulative sum of the
    intervals up to ``i``. Periods with no beat end give a notification with no RR.
    """
    out: list[ScheduledNotification] = []
    t_end = 0.0
    i = 0
    k = 1
    while i < len(rr_1024):
        tick = k * period_s
        batch: list[int] = []
        while i < len(rr_1024) and t_end + rr_1024[i] / 1024.0 <= tick:
            t_end += rr_1024[i] / 1024.0
            batch.append(rr_1024[i])
            i += 1
        out.append(ScheduledNotification(tick, tuple(batch)))
        k += 1
    return out


def encode_hrm(rr_1024: Sequence[int], hr_bpm: int, energy_kj: int | None = None) -> bytes:
    """A 0x2A37 value: uint8 HR, contact supported and detected, optional energy, RR."""
    flags = 0x06 | (0x10 if rr_1024 else 0) | (0x08 if energy_kj is not None else 0)
    out = bytearray([flags, max(0, min(255, hr_bpm))])
    if energy_kj is not None:
        out += energy_kj.to_bytes(2, "little")
    for value in rr_1024:
        out += int(value).to_bytes(2, "little")
    return bytes(out)


def synthetic_ecg_uv(beat_times_s: Sequence[float], t_s: float) -> int:
    """A synthetic ECG value at ``t_s``: Q, R, S and T waves around each beat time, in µV."""
    total = 0.0
    for beat in beat_times_s:
        d = t_s - beat
        if -0.1 < d < 0.45:
            total += 1200.0 * math.exp(-0.5 * (d / 0.012) ** 2)
            total -= 150.0 * math.exp(-0.5 * ((d + 0.03) / 0.01) ** 2)
            total -= 250.0 * math.exp(-0.5 * ((d - 0.03) / 0.012) ** 2)
            total += 300.0 * math.exp(-0.5 * ((d - 0.25) / 0.04) ** 2)
    return round(total)


class VirtualStrap:
    """A strap on a :class:`VirtualAir` replaying RR intervals.

    Args:
        air: The emulated radio.
        rr_ms: The recording's RR intervals, ms (rounded to 1/1024 s on the air).
        name: Advertised name.
        address: Random static address.
        speed: Playback speed (1.0 real time).
        drop_at_s: Recording time at which the strap vanishes, s (``None``: never).
        drop_for_s: How long it stays away, s of recording time (``math.inf``: for good).
        battery_pct: Initial battery level; it drops by 1 every ``battery_step_s``.
        battery_step_s: Recording seconds per 1% of battery.
        play: Replay the recording (``False``: a test sends notifications itself).
    """

    def __init__(
        self,
        air: VirtualAir,
        rr_ms: Sequence[float],
        *,
        name: str = "Polar H10 V1RTU4L",
        address: str | None = None,
        speed: float = 1.0,
        drop_at_s: float | None = None,
        drop_for_s: float = 10.0,
        battery_pct: int = 87,
        battery_step_s: float = 120.0,
        play: bool = True,
    ) -> None:
        self.air = air
        self.name = name
        self.rr_1024 = rr_to_1024(rr_ms)
        self.notifications = schedule(self.rr_1024)
        self.playback = PlaybackClock(speed)
        self.drop_at_s = drop_at_s
        self.drop_for_s = drop_for_s
        self.battery_pct = battery_pct
        self._battery0 = battery_pct
        self.battery_step_s = battery_step_s
        self.play = play
        self.device: Device = air.new_device(name, address)
        self.address = str(self.device.random_address).removesuffix("/P")
        self.sent: list[ScheduledNotification] = []
        self.finished = asyncio.Event()
        self.ecg_streaming = False
        self.pmd_replies: list[bytes] = []
        self._started = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._present = False
        self._beat_times_s: list[float] = []
        t = 0.0
        for value in self.rr_1024:
            t += value / 1024.0
            self._beat_times_s.append(t)
        self._build_services()

    # -- GATT ------------------------------------------------------------------------------

    def _build_services(self) -> None:
        props = gatt.Characteristic.Properties
        perms = gatt.Characteristic.Permissions
        self.hrm: gatt.Characteristic[bytes] = gatt.Characteristic(
            gatt.GATT_HEART_RATE_MEASUREMENT_CHARACTERISTIC, props.NOTIFY, perms.READABLE, b""
        )
        self.hrm.on(self.hrm.EVENT_SUBSCRIPTION, self._on_hrm_subscription)
        self.location: gatt.Characteristic[bytes] = gatt.Characteristic(
            gatt.GATT_BODY_SENSOR_LOCATION_CHARACTERISTIC,
            props.READ,
            gatt.Characteristic.READABLE,
            bytes([_CHEST]),
        )
        self.battery: gatt.Characteristic[bytes] = gatt.Characteristic(
            gatt.GATT_BATTERY_LEVEL_CHARACTERISTIC,
            props.READ | props.NOTIFY,
            gatt.Characteristic.READABLE,
            gatt.CharacteristicValue(read=lambda _c: bytes([self.battery_pct])),
        )
        self.pmd_control: gatt.Characteristic[bytes] = gatt.Characteristic(
            pmd.PMD_CONTROL_POINT_UUID,
            props.READ | props.WRITE | props.INDICATE,
            gatt.Characteristic.READABLE | gatt.Characteristic.WRITEABLE,
            gatt.CharacteristicValue(
                read=lambda _c: bytes([0x0F, 0x05]), write=self._on_pmd_control
            ),
        )
        self.pmd_data: gatt.Characteristic[bytes] = gatt.Characteristic(
            pmd.PMD_DATA_UUID, props.NOTIFY, perms.READABLE, b""
        )
        self.device.add_services(
            [
                gatt.Service(gatt.GATT_HEART_RATE_SERVICE, [self.hrm, self.location]),
                gatt.Service(gatt.GATT_BATTERY_SERVICE, [self.battery]),
                gatt.Service(pmd.PMD_SERVICE_UUID, [self.pmd_control, self.pmd_data]),
            ]
        )
        self.device.advertising_data = bytes(
            AdvertisingData(
                [
                    (AdvertisingData.COMPLETE_LOCAL_NAME, self.name.encode()),
                    (
                        AdvertisingData.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
                        bytes([0x0D, 0x18]),
                    ),
                ]
            )
        )

    def _on_hrm_subscription(self, _bearer: object, notify: bool, _indicate: bool) -> None:
        if notify and not self._started.is_set():
            self._started.set()

    def _on_pmd_control(self, connection: Connection, value: bytes) -> None:
        if not value:
            raise att.ATT_Error(att.ErrorCode.INVALID_ATTRIBUTE_LENGTH)
        if len(value) >= 2 and value[1] == pmd.MeasurementType.ECG:
            if value[0] == pmd.ControlOp.START:
                status = 0x06 if self.ecg_streaming else 0  # 6: already in state
                self.ecg_streaming = True
            elif value[0] == pmd.ControlOp.STOP:
                status = 0
                self.ecg_streaming = False
            else:
                status = 0x01  # invalid op code
            reply = pmd.control_reply(value[0], value[1], status)
        else:
            reply = pmd.control_reply(
                value[0] if value else 0, value[1] if len(value) > 1 else 0, 3
            )
        self.pmd_replies.append(reply)
        self._spawn(self._indicate(connection, reply))

    async def _indicate(self, connection: Connection, reply: bytes) -> None:
        with contextlib.suppress(Exception):
            await self.device.indicate_subscriber(connection, self.pmd_control, reply)

    # -- life cycle ------------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        self._tasks.append(asyncio.create_task(coro))

    async def start(self) -> None:
        """Power on and advertise; playback starts with the first 0x2A37 subscription."""
        await self.device.power_on()
        await self.appear()
        if self.play:
            self._tasks.append(asyncio.create_task(self._play()))

    async def appear(self) -> None:
        """Come (back) into range: advertise again."""
        self._present = True
        await self.device.start_advertising(
            auto_restart=True,
            advertising_interval_min=ADVERTISING_INTERVAL_MS,
            advertising_interval_max=ADVERTISING_INTERVAL_MS,
        )

    async def vanish(self) -> None:
        """Go out of range: stop advertising and drop every link."""
        self._present = False
        self.ecg_streaming = False
        with contextlib.suppress(Exception):
            await self.device.stop_advertising()
        for connection in list(self.device.connections.values()):
            with contextlib.suppress(Exception):
                await connection.disconnect()

    async def stop(self) -> None:
        """Stop playback and power off."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        await self.vanish()
        with contextlib.suppress(Exception):
            await self.device.power_off()

    def clock_s(self) -> float:
        """The strap's recording time, s (0 until playback starts)."""
        return self.playback.now_s()

    # -- playback --------------------------------------------------------------------------

    async def _play(self) -> None:
        await self._started.wait()
        self.playback.start(0.0)
        self._tasks.append(asyncio.create_task(self._play_ecg()))
        back_at = math.inf
        dropped = False
        for k, note in enumerate(self.notifications):
            if self.drop_at_s is not None and not dropped and note.t_s > self.drop_at_s:
                await self.playback.wait_until(self.drop_at_s)
                dropped = True
                back_at = self.drop_at_s + self.drop_for_s
                await self.vanish()
            if not self._present and note.t_s >= back_at:
                await self.playback.wait_until(back_at)
                await self.appear()
            await self.playback.wait_until(note.t_s)
            self._update_battery(note.t_s)
            if not self._present:
                continue
            hr = round(60.0 * 1024 / note.rr_1024[-1]) if note.rr_1024 else self._last_hr()
            energy = int(note.t_s // 10) if k % ENERGY_EVERY == 0 else None
            await self.send_hrm(encode_hrm(note.rr_1024, hr, energy), note)
        await self.playback.wait_until(self.notifications[-1].t_s + NOTIFY_PERIOD_S / 2)
        self.finished.set()

    def _last_hr(self) -> int:
        for note in reversed(self.sent):
            if note.rr_1024:
                return round(60.0 * 1024 / note.rr_1024[-1])
        return 60

    def _update_battery(self, t_s: float) -> None:
        if self.battery_step_s <= 0:
            return
        level = min(self.battery_pct, max(1, self._battery0 - int(t_s // self.battery_step_s)))
        if level != self.battery_pct:
            self.battery_pct = level
            self._spawn(self._notify(self.battery, bytes([level])))

    async def set_battery(self, level: int) -> None:
        """Change the battery level and notify subscribers."""
        self.battery_pct = level
        await self._notify(self.battery, bytes([level]))

    async def _notify(self, characteristic: gatt.Characteristic[bytes], value: bytes) -> None:
        with contextlib.suppress(Exception):
            await self.device.notify_subscribers(characteristic, value)

    async def send_hrm(self, value: bytes, note: ScheduledNotification | None = None) -> None:
        """Notify 0x2A37 subscribers (tests use this to inject raw, even malformed, values)."""
        if not self.device.connections:
            return
        await self._notify(self.hrm, value)
        if note is not None:
            self.sent.append(note)

    async def send_pmd(self, value: bytes) -> None:
        """Notify PMD data subscribers (tests inject malformed frames through this)."""
        await self._notify(self.pmd_data, value)

    async def _play_ecg(self) -> None:
        period_s = ECG_SAMPLES_PER_FRAME / pmd.ECG_SAMPLE_RATE_HZ
        end_s = self._beat_times_s[-1] if self._beat_times_s else 0.0
        frame = 0
        while (frame + 1) * period_s <= end_s:
            t_last = (frame + 1) * period_s
            await self.playback.wait_until(t_last)
            if self.ecg_streaming and self._present:
                first = frame * ECG_SAMPLES_PER_FRAME
                times = [
                    (first + j + 1) / pmd.ECG_SAMPLE_RATE_HZ for j in range(ECG_SAMPLES_PER_FRAME)
                ]
                near = self._beats_between(times[0] - 0.5, times[-1] + 0.15)
                samples = [synthetic_ecg_uv(near, t) for t in times]
                await self.send_pmd(pmd.encode_ecg_frame(samples, round(t_last * 1e9)))
            frame += 1

    def _beats_between(self, start_s: float, end_s: float) -> list[float]:
        lo = bisect.bisect_left(self._beat_times_s, start_s)
        hi = bisect.bisect_right(self._beat_times_s, end_s)
        return self._beat_times_s[lo:hi]
