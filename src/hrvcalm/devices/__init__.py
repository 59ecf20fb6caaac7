"""Beat sources and the factory that opens one from a spec string.

Specs (DESIGN.md section 4): ``replay:PATH``, ``sim`` or ``sim:key=value,...``. Modules are
imported lazily, as bleak picks its backend, so that opening a replay never imports Bluetooth.
Bluetooth specs (``ble:...``, ``ble-virtual:...``) are recognised and refused with a clear
message until the strap reader lands.
"""

from __future__ import annotations

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
            kwargs[name] = int(value) if types[name] == "int" else float(value)
        except ValueError:
            raise UsageError(f"sim option {key}={value!r} is not a number") from None
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


def open_source(spec: str, *, speed: float = 1.0, format: str | None = None) -> Source:
    """Open the source a spec names.

    Args:
        spec: ``replay:PATH`` or ``sim[:options]``.
        speed: Playback speed for replay and sim (``math.inf``: as fast as possible).
        format: Recording format override for ``replay:``.

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
    if kind in ("ble", "ble-virtual"):
        raise UsageError(
            f"{kind}: Bluetooth straps are not supported in this version yet; "
            "use replay:PATH or sim"
        )
    raise UsageError(f"unknown source {spec!r}; use replay:PATH or sim[:breaths=6,seed=1]")
