"""What the patient is shown, measured on synthetic physiology with known truth (issue 11).

    .venv/bin/python benchmarks/shown.py [--seeds 6]

Prints, as JSON:

(a) the relaxation score after three minutes of rest (15/min, shallow RSA, Mayer wave) and
    six of paced breathing with the same 300 ms RR swing at 3, 6 and 10 breaths/min; at
    6/min with swings of 150-600 ms; and a doubled swing over a baseline of the same breathing
    (median of the last three minutes), with the jitter between 5-s updates (median absolute
    change, points);
(b) coherence of pure RR sines (50 ms) at 0.05-0.20 Hz;
(c) the breathing rate in 2-minute windows: at rest (15/min beside a 0.1 Hz Mayer wave: share
    of windows with a wrong rate, off by more than 10 %, and with none), during irregular slow
    breathing (30 % breath-to-breath variation) and during paced 6/min breathing (largest
    error, breaths/min).

Only the public API that every version since the first has is used (plus
``LivePipeline.start_practice`` where it exists), so the same script measures any commit:
``PYTHONPATH=OTHER/src python benchmarks/shown.py``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.physiology import REST, Heart, Person, heart

from hrvcalm.core.coherence import breathing_rate, coherence
from hrvcalm.core.pipeline import LivePipeline
from hrvcalm.core.spectrum import resample
from hrvcalm.events import Metrics

REST_S = 180.0
PRACTICE_S = 360.0


def session(rest: Person, practice: Person) -> list[Metrics]:
    """Rest, then the practice, through the live pipeline (told when the practice starts)."""
    a = heart(rest, REST_S)
    b = heart(practice, PRACTICE_S, start_s=float(a.t_s[-1]))
    pipeline = LivePipeline()
    out: list[Metrics] = []
    started = False
    times = np.concatenate([a.t_s, b.t_s])
    for t, rr in zip(times, np.concatenate([a.rr_ms, b.rr_ms]), strict=True):
        if not started and t >= a.t_s[-1] and hasattr(pipeline, "start_practice"):
            pipeline.start_practice(float(a.t_s[-1]))
            started = True
        out += [m for m in pipeline.push_beat(float(t), float(rr)) if isinstance(m, Metrics)]
    return out


def score_and_jitter(metrics: list[Metrics], from_s: float) -> tuple[float, float]:
    """Median relaxation after ``from_s`` and the median change between 5-s samples."""
    late = [m for m in metrics if m.t_s >= from_s and m.relaxation is not None]
    values = [m.relaxation for m in late if m.relaxation is not None]
    samples: list[float] = []
    next_t = late[0].t_s
    for m in late:
        if m.t_s >= next_t and m.relaxation is not None:
            samples.append(m.relaxation)
            next_t = m.t_s + 5.0
    jitter = float(np.median(np.abs(np.diff(samples))))
    return round(float(np.median(values)), 1), round(jitter, 2)


#: A calmer rest than REST (a 150 ms RSA swing at 12/min), so that the old score is not
#: already at 100 during the practice.
CALM = Person(
    rate_bpm=12.0, swing_ms=150.0, cv=0.15, depth_cv=0.2, mayer_ms=30.0, walk_ms=15.0, noise_ms=6.0
)


def relaxation(seeds: int) -> dict[str, object]:
    end = REST_S + PRACTICE_S
    by_rate: dict[str, object] = {}
    for rest_name, rest in (("after rest", REST), ("after a calm rest", CALM)):
        for rate in (3.0, 6.0, 10.0):
            runs = [
                score_and_jitter(
                    session(
                        Person(**{**rest.__dict__, "seed": s}),
                        Person(rate_bpm=rate, swing_ms=300.0, cv=0.1, depth_cv=0.1, seed=100 + s),
                    ),
                    end - 180.0,
                )
                for s in range(seeds)
            ]
            by_rate[f"{rest_name}, {rate:g}/min"] = {
                "score": round(float(np.median([r[0] for r in runs])), 1),
                "jitter_points": round(float(np.median([r[1] for r in runs])), 2),
            }
    by_swing = {}
    for swing in (150.0, 300.0, 450.0, 600.0):
        scores = [
            score_and_jitter(
                session(
                    Person(**{**REST.__dict__, "seed": s}),
                    Person(rate_bpm=6.0, swing_ms=swing, cv=0.1, depth_cv=0.1, seed=200 + s),
                ),
                end - 180.0,
            )[0]
            for s in range(seeds)
        ]
        by_swing[f"{swing:g} ms"] = round(float(np.median(scores)), 1)
    doubled_runs = [
        score_and_jitter(
            session(
                Person(rate_bpm=6.0, swing_ms=150.0, cv=0.1, depth_cv=0.1, seed=300 + s),
                Person(rate_bpm=6.0, swing_ms=300.0, cv=0.1, depth_cv=0.1, seed=400 + s),
            ),
            end - 180.0,
        )
        for s in range(seeds)
    ]
    return {
        "equal 300 ms swing": by_rate,
        "6/min after rest, by swing": by_swing,
        "6/min, swing doubled over a 6/min baseline": {
            "score": round(float(np.median([r[0] for r in doubled_runs])), 1),
            "jitter_points": round(float(np.median([r[1] for r in doubled_runs])), 2),
        },
    }


def sine_coherence() -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for f in np.arange(0.05, 0.2001, 0.01):
        rr: list[float] = []
        t = 0.0
        while t < 80.0:
            rr.append(1000.0 + 50.0 * math.sin(2 * math.pi * f * t))
            t += rr[-1] / 1000.0
        values = np.asarray(rr)
        _, rr_4hz = resample(np.cumsum(values) / 1000.0, values)
        c = coherence(rr_4hz)
        out[f"{f:.2f} Hz"] = None if c is None else round(c, 2)
    present = [v for v in out.values() if v is not None]
    out["spread_pct"] = round(100 * (max(present) - min(present)) / float(np.mean(present)), 1)
    return out


def windows(h: Heart, span_s: float = 120.0) -> list[tuple[float, float | None]]:
    """(true rate, estimate) of consecutive 2-minute windows."""
    out = []
    lo = float(h.t_s[0])
    while lo + span_s <= float(h.t_s[-1]):
        keep = (h.t_s >= lo) & (h.t_s < lo + span_s)
        _, rr_4hz = resample(h.t_s[keep], h.rr_ms[keep])
        out.append((h.rate_between(lo, lo + span_s), breathing_rate(rr_4hz)))
        lo += span_s
    return out


def rates(seeds: int) -> dict[str, object]:
    rest = [
        w
        for s in range(seeds)
        for w in windows(heart(Person(**{**REST.__dict__, "seed": s}), 1200.0))
    ]
    wrong = sum(r is not None and abs(r - t) > 0.1 * t for t, r in rest)
    none = sum(r is None for _, r in rest)
    out: dict[str, object] = {
        "rest 15/min + Mayer": {
            "windows": len(rest),
            "wrong_pct": round(100 * wrong / len(rest), 1),
            "none_pct": round(100 * none / len(rest), 1),
            "median_reported": round(float(np.median([r for _, r in rest if r is not None])), 2)
            if none < len(rest)
            else None,
        }
    }
    for name, person in (
        (
            "irregular 6/min (cv 0.3)",
            Person(
                rate_bpm=6.0,
                swing_ms=200.0,
                cv=0.3,
                depth_cv=0.3,
                mayer_ms=20.0,
                walk_ms=15.0,
                noise_ms=6.0,
            ),
        ),
        (
            "irregular 4.5/min (cv 0.3)",
            Person(
                rate_bpm=4.5,
                swing_ms=200.0,
                cv=0.3,
                depth_cv=0.3,
                mayer_ms=20.0,
                walk_ms=15.0,
                noise_ms=6.0,
            ),
        ),
        (
            "irregular 8/min (cv 0.3)",
            Person(
                rate_bpm=8.0,
                swing_ms=150.0,
                cv=0.3,
                depth_cv=0.3,
                mayer_ms=20.0,
                walk_ms=15.0,
                noise_ms=6.0,
            ),
        ),
        ("paced 6/min", Person(rate_bpm=6.0, swing_ms=250.0, cv=0.03, depth_cv=0.1, walk_ms=10.0)),
    ):
        ws = [
            w
            for s in range(seeds)
            for w in windows(heart(Person(**{**person.__dict__, "seed": 500 + s}), 720.0))
        ]
        errors = [abs(r - t) for t, r in ws if r is not None]
        out[name] = {
            "windows": len(ws),
            "none_pct": round(100 * sum(r is None for _, r in ws) / len(ws), 1),
            "max_error_bpm": round(max(errors), 2) if errors else None,
            "within_0.75_pct": round(100 * sum(e <= 0.75 for e in errors) / len(ws), 1),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--only", choices=("relaxation", "coherence", "rates"))
    args = parser.parse_args()
    result: dict[str, object] = {}
    if args.only in (None, "coherence"):
        result["coherence of pure sines"] = sine_coherence()
    if args.only in (None, "rates"):
        result["breathing rate, 2-min windows"] = rates(args.seeds)
    if args.only in (None, "relaxation"):
        result["relaxation"] = relaxation(args.seeds)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
