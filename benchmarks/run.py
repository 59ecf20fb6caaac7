"""hrvcalm against NeuroKit2, measured side by side in one run (DESIGN.md section 7).

    .venv/bin/python benchmarks/run.py [--record nsr001] [--nk-beats 300] [--nk-windows 150]

(a) Live: ``hrvcalm replay REC --speed max --jsonl`` (every message encoded and written)
    over the whole 24-h record, wall time per beat (with and without the process's start-up,
    measured apart: Python, imports and reading the record), against NeuroKit ``hrv_time`` +
    ``hrv_frequency`` recomputed on the trailing 120 s at every beat (timed on ``--nk-beats``
    beats spread over the record; the per-beat cost does not depend on how many are timed).
    The pipeline alone (no asyncio, no JSON) is timed too, to show where the time goes.
(b) Offline: ``analyze_rr`` over the whole record in 300-s windows every 30 s (every metric)
    against NeuroKit ``hrv_time`` + ``hrv_frequency`` on the same windows (timed on
    ``--nk-windows`` of them spread over the record, then per window).
(c) Peak memory: the maximum resident set of each measured process (``wait4``).

Each side runs in its own child process, the sides alternating, ``--repeat`` times (the best
run of each is kept, which filters out the moments the shared machine was busy); their
memory is measured apart. Ratios, not absolute times, are the
result (the machine is shared and noisy).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECORDINGS = ROOT / "fixtures" / "recordings" / "nsr2db_cliffordlab"


def child(mode: str, record: Path, count: int) -> dict[str, float]:
    """Run ``mode`` in a child process; return its JSON result plus wall time and peak RSS."""
    cmd = [sys.executable, __file__, "--child", mode, "--path", str(record), "--count", str(count)]
    if mode == "replay":
        cmd = [sys.executable, "-m", "hrvcalm", "replay", str(record), "--speed", "max", "--jsonl"]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE if mode != "replay" else subprocess.DEVNULL)
    out = proc.stdout.read() if proc.stdout else b""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"benchmark child {mode} failed with status {status}")
    result: dict[str, float] = json.loads(out) if out.strip() else {}
    result["wall_s"] = wall
    result["peak_rss_mb"] = usage.ru_maxrss / 1024.0
    return result


# ---------------------------------------------------------------- children


def _read(path: str):  # type: ignore[no-untyped-def]
    from hrvcalm.recordings import read_recording

    return read_recording(path)


def _nk():  # type: ignore[no-untyped-def]
    import warnings

    warnings.simplefilter("ignore")
    import neurokit2

    return neurokit2


def run_child(mode: str, path: str, count: int) -> dict[str, float]:
    import numpy as np

    rec = _read(path)
    rr = rec.rr_ms
    t = np.cumsum(rr) / 1000.0
    if mode == "startup":
        return {}
    if mode == "pipeline":
        from hrvcalm.core.pipeline import LivePipeline

        pipeline = LivePipeline()
        start = time.perf_counter()
        for ti, value in zip(t.tolist(), rr.tolist(), strict=True):
            pipeline.push_beat(ti, value)
        pipeline.flush()
        return {"s": time.perf_counter() - start, "beats": float(rr.size)}
    if mode == "nk_live":
        nk = _nk()
        picks = np.linspace(1000, rr.size - 1, count).astype(int)
        start = time.perf_counter()
        for i in picks:
            window = rr[(t > t[i] - 120.0) & (t <= t[i])]
            peaks = nk.intervals_to_peaks(window, sampling_rate=1000)
            nk.hrv_time(peaks, sampling_rate=1000)
            nk.hrv_frequency(peaks, sampling_rate=1000)
        return {"s": time.perf_counter() - start, "beats": float(count)}
    if mode == "offline":
        from hrvcalm.core.analysis import analyze_rr

        start = time.perf_counter()
        analysis = analyze_rr(rr, window_s=300.0, step_s=30.0, labels=rec.labels)
        return {"s": time.perf_counter() - start, "windows": float(len(analysis.windows))}
    if mode == "nk_offline":
        nk = _nk()
        starts = np.arange(0.0, float(t[-1]), 30.0)
        picks = starts[np.linspace(0, starts.size - 1, count).astype(int)]
        start = time.perf_counter()
        for s in picks:
            window = rr[(t >= s) & (t < s + 300.0)]
            if window.size < 30:
                continue
            peaks = nk.intervals_to_peaks(window, sampling_rate=1000)
            nk.hrv_time(peaks, sampling_rate=1000)
            nk.hrv_frequency(peaks, sampling_rate=1000)
        return {
            "s": time.perf_counter() - start,
            "windows": float(count),
            "all": float(starts.size),
        }
    raise SystemExit(f"unknown mode {mode}")


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", default="nsr001", help="nsr2db record (default nsr001)")
    parser.add_argument("--nk-beats", type=int, default=300, help="beats NeuroKit is timed on")
    parser.add_argument("--nk-windows", type=int, default=150, help="windows NeuroKit is timed on")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each side (best kept)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(args.child, args.path, args.count)))
        return

    record = RECORDINGS / f"{args.record}.ecg"
    print(f"record {record.name}; each side in its own process, alternating, best of {args.repeat}")
    startup = child("startup", record, 0)
    runs: dict[str, list[dict[str, float]]] = {}
    plan = [
        ("replay", 0),
        ("nk_live", args.nk_beats),
        ("pipeline", 0),
        ("offline", 0),
        ("nk_offline", args.nk_windows),
    ]
    for _ in range(args.repeat):
        for mode, count in plan:
            runs.setdefault(mode, []).append(child(mode, record, count))

    def best(mode: str) -> dict[str, float]:
        key = "wall_s" if mode == "replay" else "s"
        return min(runs[mode], key=lambda r: r[key])

    replay, nk_live, pipeline = best("replay"), best("nk_live"), best("pipeline")
    offline, nk_off = best("offline"), best("nk_offline")

    beats = pipeline["beats"]
    replay_us = replay["wall_s"] / beats * 1e6
    # Start-up (Python, imports, reading the 24-h annotation file) is paid once, not per beat.
    steady_us = (replay["wall_s"] - startup["wall_s"]) / beats * 1e6
    pipe_us = pipeline["s"] / beats * 1e6
    nk_us = nk_live["s"] / nk_live["beats"] * 1e6
    print("(a) live, per beat")
    print(f"    hrvcalm replay --speed max --jsonl : {replay_us:9.1f} us  ({beats:.0f} beats,")
    print(f"        {replay['wall_s']:.1f} s wall incl. {startup['wall_s']:.1f} s start-up)")
    print(f"    the same without start-up           : {steady_us:9.1f} us")
    print(f"    LivePipeline alone (no I/O, no JSON): {pipe_us:9.1f} us")
    print(
        f"    NeuroKit time+freq on trailing 120 s: {nk_us:9.1f} us  ({nk_live['beats']:.0f} beats)"
    )
    print(f"    ratio NeuroKit / replay             : {nk_us / replay_us:9.0f} x")
    print(f"    ratio NeuroKit / replay w/o start-up: {nk_us / steady_us:9.0f} x   (target 300 x)")
    print(f"    ratio NeuroKit / pipeline alone     : {nk_us / pipe_us:9.0f} x")

    windows = offline["windows"]
    ours_ms = offline["s"] / windows * 1e3
    nk_ms = nk_off["s"] / nk_off["windows"] * 1e3
    print("\n(b) offline, 300-s windows every 30 s over 24 h")
    print(
        f"    hrvcalm analyze_rr (all metrics)    : {offline['s']:9.2f} s  ({windows:.0f} windows,"
    )
    print(f"        {ours_ms:.2f} ms a window incl. artifact classification)")
    print(
        f"    NeuroKit time+freq                  : {nk_ms * windows / 1e3:9.2f} s  (extrapolated"
    )
    print(f"        from {nk_off['windows']:.0f} windows timed: {nk_ms:.1f} ms a window)")
    print(f"    ratio NeuroKit / hrvcalm            : {nk_ms / ours_ms:9.0f} x   (target 50 x)")

    print("\n(c) peak memory (max RSS of the process)")
    print(f"    python + reader start-up            : {startup['peak_rss_mb']:7.0f} MB")
    print(f"    hrvcalm replay (24 h)               : {replay['peak_rss_mb']:7.0f} MB")
    print(f"    hrvcalm offline analysis (24 h)     : {offline['peak_rss_mb']:7.0f} MB")
    print(f"    NeuroKit live recompute             : {nk_live['peak_rss_mb']:7.0f} MB")
    print(f"    NeuroKit offline windows            : {nk_off['peak_rss_mb']:7.0f} MB")


if __name__ == "__main__":
    main()
