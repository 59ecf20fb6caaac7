"""Beat sources and the factory that opens one from a spec string.

Specs (DESIGN.md section 4): ``replay:PATH``, ``sim`` or ``sim:key=value,...``,
``ble:auto``, ``ble:ADDRESS``, ``ble:NAME`` (options after a comma: ``ecg=1``) and
``ble-virtual:PATH[,drop_at=S,drop_for=S,ecg=1]``. Modules are imported lazily, as bleak picks its
backend, so that opening a replay never imports Bluetooth (and only ``ble-virtual`` imports
bumble).
"""

from __future__ import annotations

import math
from dataclasses import fields
from typing import Any

from hrvcalm.devices.base import Source, SourceEvent
from hrvcalm.errors import UsageError

__all__ = ["Source", "SourceEvent", "open_source", "parse_options"]

_SIM_KEYS = {
    "breaths": "breaths_bpm",
    "seed": "seed",
    "hr": "hr_bpm",
    "rsa": "rsa_bpm",
    "resonance": "resonance_bpm",
    "artifacts": "artifacts",
    "minutes": "minutes",
    "follow": "follow",
}


def parse_options(text: str) -> dict[str, str]:
    """Parse ``key=value,key=value`` into a dict (keys lower-cased)."""
    options: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise UsageError(f"option {part!r} is not of the form key=value")
        options[key.strip().lower()] = value.strip()
    return options


def _simulator(options_text: str, speed: float) -> Source:
    from hrvcalm.devices.simulator import SimulatedStrap, SimulatorSettings

    types = {f.name: f.type for f in fields(SimulatorSettings)}
    kwargs: dict[str, Any] = {}
    for key, value in parse_options(options_text).items():
        if key not in _SIM_KEYS:
            raise UsageError(
                f"unknown sim option {key!r}; known options: {', '.join(sorted(_SIM_KEYS))}"
            )
        name = _SIM_KEYS[key]
        try:
            if types[name] == "bool":
                if value not in ("0", "1"):
                    raise ValueError
                kwargs[name] = value == "1"
            else:
                kwargs[name] = int(value) if types[name] == "int" else float(value)
        except ValueError:
            what = "0 or 1" if types[name] == "bool" else "a number"
            raise UsageError(f"sim option {key}={value!r} is not {what}") from None
    try:
        settings = SimulatorSettings(**kwargs)
    except ValueError as exc:
        raise UsageError(f"sim: {exc}") from None
    return SimulatedStrap(settings, speed=speed)


def _replay(path: str, speed: float, format: str | None) -> Source:
    from hrvcalm.devices.replay import ReplaySource
    from hrvcalm.recordings import read_recording

    if not path:
        raise UsageError("replay needs a file: replay:PATH")
    return ReplaySource(read_recording(path, format=format), speed=speed)


def _float_option(kind: str, key: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise UsageError(f"{kind} option {key}={value!r} is not a number") from None
    if not number >= 0:
        raise UsageError(f"{kind} option {key}={value!r} must be 0 or more")
    return number


def _ble(rest: str, speed: float) -> Source:
    from hrvcalm.devices.ble import StrapSource

    target, _, options_text = rest.partition(",")
    options = parse_options(options_text)
    unknown = set(options) - {"ecg"}
    if unknown:
        raise UsageError(f"unknown ble option {sorted(unknown)[0]!r}; known options: ecg")
    if options.get("ecg", "0") not in ("0", "1"):
        raise UsageError("ble option ecg must be 0 or 1")
    if options.get("ecg") == "1":
        from hrvcalm.devices.polar import PolarEcgSource

        return PolarEcgSource(target.strip() or "auto", spec=f"ble:{rest}")
    return StrapSource(target.strip() or "auto", spec=f"ble:{rest}")


def _ble_virtual(rest: str, speed: float, format: str | None) -> Source:
    from hrvcalm.recordings import read_recording

    path, _, options_text = rest.partition(",")
    path = path.strip()
    if not path:
        raise UsageError("ble-virtual needs a recording: ble-virtual:PATH[,drop_at=S]")
    options = parse_options(options_text)
    known = {"drop_at", "drop_for", "ecg", "target"}
    unknown = set(options) - known
    if unknown:
        raise UsageError(
            f"unknown ble-virtual option {sorted(unknown)[0]!r}; "
            f"known options: {', '.join(sorted(known))}"
        )
    drop_at = options.get("drop_at")
    drop_at_s = None if drop_at is None else _float_option("ble-virtual", "drop_at", drop_at)
    drop_for_s = _float_option("ble-virtual", "drop_for", options.get("drop_for", "10"))
    if math.isinf(speed):
        raise UsageError("ble-virtual plays in real time or faster, not --speed max")
    if options.get("ecg", "0") not in ("0", "1"):
        raise UsageError("ble-virtual option ecg must be 0 or 1")
    recording = read_recording(path, format=format)
    from hrvcalm.devices.virtual import VirtualPolarEcgSource, VirtualStrapSource

    cls = VirtualPolarEcgSource if options.get("ecg") == "1" else VirtualStrapSource
    return cls(
        [float(v) for v in recording.rr_ms],
        spec=f"ble-virtual:{rest}",
        speed=speed,
        drop_at_s=drop_at_s,
        drop_for_s=drop_for_s,
        target=options.get("target", "auto"),
    )


def open_source(spec: str, *, speed: float = 1.0, format: str | None = None) -> Source:
    """Open the source a spec names.

    Args:
        spec: ``replay:PATH``, ``sim[:options]``, ``ble:TARGET[,ecg=1]`` or
            ``ble-virtual:PATH[,drop_at=S,drop_for=S]``.
        speed: Playback speed for replay and sim (``math.inf``: as fast as possible).
        format: Recording format override for ``replay:`` and ``ble-virtual:``.

    Raises:
        UsageError: Unknown or malformed spec.
        RecordingError: The replay file cannot be read.
    """
    kind, _, rest = spec.partition(":")
    kind = kind.strip().lower()
    if kind == "replay":
        return _replay(rest.strip(), speed, format)
    if kind == "sim":
        return _simulator(rest, speed)
    if kind == "ble":
        return _ble(rest, speed)
    if kind == "ble-virtual":
        return _ble_virtual(rest, speed, format)
    raise UsageError(
        f"unknown source {spec!r}; use ble:auto, ble:ADDRESS, ble:NAME, ble-virtual:PATH, "
        "replay:PATH or sim[:breaths=6,seed=1]"
    )
