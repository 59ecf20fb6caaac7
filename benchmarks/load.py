"""Load benchmark of the clinic server: N relays stream beats, N pages watch, one machine.

Starts ``hrvcalm serve`` in its own process (pinned to CPU 0), then in a client process
(pinned to CPU 1) N relays (each replaying a
real recording's intervals at one beat a second, one RR per frame, as a strap does) and one
watching page per session (a websocket client on ``/ws?session=ID``). For every beat it
measures the time from the relay sending the frame to the page receiving the beat, and it
samples the server process's CPU and memory from /proc.

    .venv/bin/python benchmarks/load.py               # N = 10 100 500 1000, 20 s each
    .venv/bin/python benchmarks/load.py --sessions 50 --seconds 10

Everything stays on 127.0.0.1. Prints a Markdown table (copy it into docs/clinic.md).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from websockets.asyncio.client import ClientConnection, connect

REPO = Path(__file__).resolve().parents[1]
RECORDING = REPO / "fixtures/recordings/polar_rr_rhenanbartels_hrv/rest_rri.txt"
TOKEN = "load-benchmark-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def proc_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class Stream:
    """One relay and its watching page."""

    sent_at: list[float] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    held: list[bool] = field(default_factory=list)
    received: int = 0


async def run_relay(
    port: int,
    rr: list[float],
    stream: Stream,
    sid_ready: asyncio.Future[str],
    stop: asyncio.Event,
    offset_s: float,
) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with connect(
        f"ws://127.0.0.1:{port}/ingest", additional_headers=headers, open_timeout=60
    ) as ws:
        await ws.send(
            json.dumps(
                {"type": "relay_hello", "protocol": 1, "name": "load", "source": "benchmark"}
            )
        )
        sid_ready.set_result(json.loads(await ws.recv())["session"])
        await asyncio.sleep(offset_s)  # spread the relays over the second
        t = 0.0
        loop = asyncio.get_running_loop()
        start = loop.time()
        i = 0
        while not stop.is_set():
            value = rr[i % len(rr)]
            t += value / 1000.0
            frame = json.dumps(
                {
                    "type": "rr",
                    "arrival_s": t,
                    "rr_ms": [value],
                    "hr_bpm": round(60000 / value),
                    "contact": True,
                }
            )
            stream.sent_at.append(time.perf_counter())
            await ws.send(frame)
            i += 1
            # one beat a second of wall time
            delay = start + i * 1.0 - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
        await ws.send('{"type":"end"}')


async def run_page(port: int, sid: str, stream: Stream, stop: asyncio.Event) -> None:
    async with connect(
        f"ws://127.0.0.1:{port}/ws?session={sid}", open_timeout=60, close_timeout=1, max_queue=None
    ) as ws:
        with contextlib.suppress(asyncio.CancelledError):
            await watch(ws, stream, stop)


async def watch(ws: ClientConnection, stream: Stream, stop: asyncio.Event) -> None:
    async for text in ws:
        if stop.is_set():
            return
        if '"type":"beat"' not in text:
            continue
        now = time.perf_counter()
        k = stream.received
        stream.received += 1
        if k < len(stream.sent_at):
            stream.latencies_ms.append(1000.0 * (now - stream.sent_at[k]))
            # held back by the artifact look-ahead: a suspicious beat waits for the next five
            # beats, so it reaches the page only after later frames were sent
            stream.held.append(k + HELD_AFTER < len(stream.sent_at))


async def client_share(
    port: int, n: int, seconds: float, rr: list[float], first: int
) -> list[float]:
    """Run ``n`` relay+page pairs for a warm-up plus ``seconds``; return latencies in ms."""
    stop = asyncio.Event()
    streams = [Stream() for _ in range(n)]
    futures: list[asyncio.Future[str]] = [
        asyncio.get_running_loop().create_future() for _ in range(n)
    ]
    relays = []
    for i in range(n):
        relays.append(
            asyncio.create_task(
                run_relay(
                    port, rr, streams[i], futures[i], stop, offset_s=((first + i) % 1000) / 1000.0
                )
            )
        )
        if i % 50 == 49:
            await asyncio.sleep(0.05)
    sids = await asyncio.gather(*futures)
    pages = [
        asyncio.create_task(run_page(port, sid, s, stop))
        for sid, s in zip(sids, streams, strict=True)
    ]
    await asyncio.sleep(WARMUP_S)  # every page connected and receiving
    for s in streams:
        s.latencies_ms.clear()
        s.held.clear()
    await asyncio.sleep(seconds)
    stop.set()
    for task in pages:
        task.cancel()
    await asyncio.gather(*relays, *pages, return_exceptions=True)
    return [-x if h else x for s in streams for x, h in zip(s.latencies_ms, s.held, strict=True)]


def _worker(args: tuple[int, int, float, list[float], int]) -> list[float]:
    if PIN_CPUS:
        os.sched_setaffinity(0, {1})  # the load generator stays off the server's core
    return asyncio.run(client_share(*args))


WARMUP_S = 5.0
#: Server on CPU 0, load generator on CPU 1, so that neither measures the other's stalls.
PIN_CPUS = (os.cpu_count() or 1) >= 2 and shutil.which("taskset") is not None
#: A beat that reaches its page after the next frame (1 s later) was sent was held back by the
#: pipeline's artifact look-ahead (by design), not delayed by the server.
HELD_AFTER = 1


def one_level(
    port: int, pid: int, n: int, seconds: float, rr: list[float], workers: int
) -> dict[str, float]:
    """Spread ``n`` sessions over ``workers`` client processes and measure the server."""
    import multiprocessing

    shares = [n // workers + (1 if i < n % workers else 0) for i in range(workers)]
    firsts = [sum(shares[:i]) for i in range(workers)]
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        result = pool.map_async(
            _worker, [(port, k, seconds, rr, f) for k, f in zip(shares, firsts, strict=True) if k]
        )
        time.sleep(WARMUP_S + 2.0 + n / 500)  # connect + warm-up, then measure the server
        cpu0, t0 = proc_cpu_s(pid), time.perf_counter()
        rss = []
        while time.perf_counter() - t0 < seconds - 1.0:
            time.sleep(1.0)
            rss.append(proc_rss_mb(pid))
        cpu1, t1 = proc_cpu_s(pid), time.perf_counter()
        signed = np.array([x for part in result.get(timeout=600) for x in part])
    lat = np.abs(signed)  # held beats come back negated
    prompt = signed[signed >= 0]
    return {
        "sessions": n,
        "beats_per_s": lat.size / seconds,
        "p50_ms": float(np.percentile(prompt, 50)),
        "p99_ms": float(np.percentile(prompt, 99)),
        "max_ms": float(np.max(prompt)),
        "held_pct": 100.0 * float(np.count_nonzero(signed < 0)) / max(1, signed.size),
        "all_p99_ms": float(np.percentile(lat, 99)),
        "server_cpu_pct": 100.0 * (cpu1 - cpu0) / (t1 - t0),
        "server_rss_mb": statistics.median(rss) if rss else float("nan"),
    }


def main(levels: list[int], seconds: float, workers: int) -> None:
    rr = [float(v) for v in np.loadtxt(RECORDING)]
    port = free_port()
    pin = ["taskset", "-c", "0"] if PIN_CPUS else []
    server = subprocess.Popen(
        [
            *pin,
            sys.executable,
            "-m",
            "hrvcalm",
            "serve",
            "--port",
            str(port),
            "--token",
            TOKEN,
            "--no-store",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(100):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            time.sleep(0.1)
        idle = proc_rss_mb(server.pid)
        print(
            f"server pid {server.pid}, idle RSS {idle:.0f} MB; {os.cpu_count()} cores; "
            f"{workers} client process(es); "
            f"{'server on CPU 0, clients on CPU 1; ' if PIN_CPUS else ''}{seconds:g} s per level; "
            "one beat per second per session\n"
        )
        print(
            "| sessions | beats/s to pages | p50 ms | p99 ms | max ms | held by look-ahead "
            "| p99 all beats ms | server CPU % | server RSS MB |"
        )
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for n in levels:
            r = one_level(port, server.pid, n, seconds, rr, workers)
            print(
                f"| {r['sessions']} | {r['beats_per_s']:.0f} | {r['p50_ms']:.1f} | "
                f"{r['p99_ms']:.1f} | {r['max_ms']:.0f} | {r['held_pct']:.1f} % | "
                f"{r['all_p99_ms']:.0f} | {r['server_cpu_pct']:.0f} | "
                f"{r['server_rss_mb']:.0f} |",
                flush=True,
            )
            time.sleep(2.0)
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, nargs="*", default=[10, 100, 500, 1000])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=1, help="client processes")
    args = parser.parse_args()
    main(args.sessions, args.seconds, args.workers)
