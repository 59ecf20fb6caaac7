"""``hrvcalm replay PATH``: the live pipeline on a recording, without a server."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from hrvcalm.commands import parse_speed, print_message


def register(sub: Any) -> None:
    p = sub.add_parser("replay", help="run the live pipeline on a recording")
    p.add_argument("path", help="recording file")
    p.add_argument("--speed", type=parse_speed, default=1.0, help="factor, or 'max'")
    p.add_argument("--jsonl", action="store_true", help="print every websocket message")
    p.add_argument("--format", help="override format detection (rr, csv, hrm, wfdb)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_replay(args.path, args.speed, args.jsonl, args.format))


async def _replay(path: str, speed: float, jsonl: bool, format: str | None) -> int:
    from hrvcalm.devices import open_source
    from hrvcalm.server.app import LiveSession

    source = open_source(f"replay:{path}", speed=speed, format=format)
    live = LiveSession(source, on_message=print_message if jsonl else None, autostart=True)
    await live.run(port=None)
    if not jsonl:
        print(
            f"{source.name}: {live.n_beats} beats, {live.pipeline.n_artifacts} artifacts, "
            f"{live.pipeline.bad_intervals} bad intervals skipped"
        )
        if live.last_metrics is not None:
            for key, value in live.last_metrics.metric_dict().items():
                if value is not None:
                    shown = f"{value:.2f}" if isinstance(value, float) else str(value)
                    print(f"  {key:<16} {shown}")
    return 0
