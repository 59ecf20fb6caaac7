"""DOCSTRING PLACEHOLDER"""

from __future__ import annotations

import math
from typing import NamedTuple

C1 = 0.13
C2 = 0.17
ALPHA = 5.2
QUANTILE_WINDOW = 91
FAST_WINDOW = 31
MEDIAN_HALF = 5
DEFAULT_GUARD = 0.15
FLOOR = 0.15
SUM_TOL = 0.3
SPIKE = 2.0
WARMUP = 30
MIN_RR_MS = 300.0
MAX_RR_MS = 2000.0
#: The interval buffer is trimmed (in blocks) once it holds more than this many beats.
_KEEP = QUANTILE_WINDOW + 2
_TRIM_AT = 256 + _KEEP

#: Artifact classes (``normal`` is not an artifact).
KINDS = ("normal", "ectopic", "missed", "extra", "longshort", "range")


class Classified(NamedTuple):
    """The final classification of one interval (a named tuple: one is made per beat).

    Attributes:
        index: Position of the interval in the stream (0-based).
        rr_ms: The interval as measured, ms.
        kind: One of :data:`KINDS`.
        corrected_rr_ms: Replacement value for display if an artifact, else ``None``.
    """

    index: int  # type: ignore[assignment]  # shadows tuple.index(), which nothing uses
    rr_ms: float
    kind: str
    corrected_rr_ms: float | None = None

    @property
    def artifact(self) -> bool:
        """``True`` unless the beat is normal."""
        return self.kind != "normal"


def _quartile_deviation(values: list[float]) -> float:
    """``(Q3 - Q1) / 2`` of the values that are not NaN, with linear interpolation."""
    s = sorted(v for v in values if v == v)
    if len(s) < 2:
        return 0.0
    return (_quantile(s, 0.75) - _quantile(s, 0.25)) / 2.0


def _quantile(s: list[float], q: float) -> float:
    pos = q * (len(s) - 1)
    lo = int(pos)
    frac = pos - lo
    if frac == 0.0 or lo + 1 >= len(s):
        return s[lo]
    return s[lo] + frac * (s[lo + 1] - s[lo])


def _median3(a: float, b: float, c: float) -> float:
    if a > b:
        a, b = b, a
    return a if c < a else (b if c > b else c)


def _missed_error(rr: float, before: float, after: float, med: float) -> float:
    """How far ``rr`` is from two intervals: from its neighbours' sum and from twice the
    local level (the middle of the neighbours and the local median), the larger."""
    both = before + after
    level = 2.0 * _median3(before, after, med)
    return max(abs(rr - both) / both, abs(rr - level) / level)


def _extra_error(a: float, b: float, before: float, after: float, med: float) -> float:
    """How far ``a + b`` is from one interval (as :func:`_missed_error`); infinite unless
    both are shorter than the local level."""
    mean = 0.5 * (before + after)
    level = _median3(before, after, med)
    if max(a, b) >= max(mean, level):
        return math.inf
    pair = a + b
    return max(abs(pair - mean) / mean, abs(pair - level) / level)


class BeatCorrector:
    """Streaming artifact classifier: push intervals, get final classifications.

    Args:
        lookahead: Beats a suspicious beat waits for before it is classified.
        guard: Relative change (``|dRR|`` or its change, over ``RR[i-1]``) that makes a beat
            suspicious, so that it waits for the look-ahead.
        min_rr_ms: Shortest plausible interval, ms.
        max_rr_ms: Longest plausible interval, ms.

    Every pushed interval comes out exactly once, in order, from :meth:`push` or :meth:`flush`.
    """

    def __init__(
        self,
        lookahead: int = MEDIAN_HALF,
        guard: float = DEFAULT_GUARD,
        min_rr_ms: float = MIN_RR_MS,
        max_rr_ms: float = MAX_RR_MS,
    ) -> None:
        if lookahead < 2:
            raise ValueError("lookahead must be at least 2 beats")
        self.lookahead = lookahead
        self.guard = guard
        self.min_rr_ms = min_rr_ms
        self.max_rr_ms = max_rr_ms
        self._rr: list[float] = []  # as measured
        self._ref: list[float] = []  # as measured, or the corrected value of a missed/extra beat
        self._gap: list[bool] = []  # beats are missing before this one
        self._offset = 0  # stream index of self._rr[0]
        self._next = 0  # stream index of the next beat to classify
        self._dabs: list[float] = []  # |dRR| as learned (NaN: no difference), per beat
        self._learned = 0
        self._partner: dict[int, tuple[str, float]] = {}  # a pair's second beat, decided early
        self._last_normal = False  # the last classified beat was normal

    @property
    def pending(self) -> int:
        """Beats pushed but not yet classified."""
        return self._offset + len(self._rr) - self._next

    def push(self, rr_ms: float, *, gap_before: bool = False) -> list[Classified]:
        """Add one interval; return the beats whose classification became final, in order.

        Args:
            rr_ms: The interval, ms.
            gap_before: Beats are missing before this one: no difference is formed across.
        """
        if self._rr and not gap_before:
            self._dabs.append(abs(rr_ms - self._ref[-1]))
            self._learned += 1
        else:
            self._dabs.append(math.nan)
        self._rr.append(rr_ms)
        self._ref.append(rr_ms)
        self._gap.append(gap_before or len(self._rr) == 1 and self._offset == 0)
        out = self._advance(final=False)
        self._trim()
        return out

    def flush(self) -> list[Classified]:
        """Classify every pending beat with the look-ahead available (end of stream)."""
        return self._advance(final=True)

    def _median_at(self, index: int) -> float:
        """Median of the intervals ``index - 5 .. index + 5`` that have arrived."""
        at = index - self._offset
        s = sorted(self._rr[max(0, at - MEDIAN_HALF) : at + MEDIAN_HALF + 1])
        mid = len(s) // 2
        return s[mid] if len(s) % 2 else 0.5 * (s[mid - 1] + s[mid])

    def _suspicious(self, at: int, rr: float) -> bool:
        """Could this beat be an artifact? Only from the past: a large change or bend."""
        if rr < self.min_rr_ms or rr > self.max_rr_ms:
            return True
        if self._gap[at] or at == 0:
            return False
        prev = self._ref[at - 1]
        d = rr - prev
        limit = self.guard * prev
        if d > limit or d < -limit:
            return True
        if self._gap[at - 1] or at < 2:
            return False
        bend = d - (prev - self._ref[at - 2])
        return bend > limit or bend < -limit

    def _advance(self, *, final: bool) -> list[Classified]:
        out: list[Classified] = []
        last = self._offset + len(self._rr) - 1
        while self._next <= last:
            i = self._next
            at = i - self._offset
            rr = self._rr[at]
            partner = self._partner.pop(i, None)
            if partner is not None:
                c = Classified(i, rr, partner[0], partner[1])
            elif not self._suspicious(at, rr):
                c = Classified(i, rr, "normal")
            elif last - i < self.lookahead and not final:
                break
            else:
                c = self._classify(i, last)
            out.append(c)
            self._last_normal = c.kind == "normal"
            self._next += 1
        return out

    def _comparable(self, i: int, j: int, last: int) -> bool:
        """Beats ``i..j`` have all arrived, with no gap between them."""
        if i < self._offset or j > last:
            return False
        return not any(self._gap[k - self._offset] for k in range(i + 1, j + 1))

    def _classify(self, i: int, last: int) -> Classified:
        at = i - self._offset
        rr = self._rr[at]
        ref = self._ref
        med = self._median_at(i)
        prev = ref[at - 1] if self._comparable(i - 1, i, last) else med
        nxt = ref[at + 1] if self._comparable(i, i + 1, last) else med
        if rr > self.max_rr_ms:
            return self._replaced(i, "range", med, prev, nxt)
        # The structural explanations of this beat and of the next one that pass their own
        # test compete: the one that leaves the smoothest series (least total variation
        # from the previous beat to the third after this one) wins.
        learned = self._learned >= WARMUP
        best: tuple[float, str, int, tuple[float, ...]] | None = None
        for k in (i, i + 1):
            if k > last or (k > i and not self._comparable(i, k, last)):
                continue
            for kind, values in (
                ("missed", self._missed_values(k, last, med)),
                ("extra", self._extra_values(k, last, med)),
                ("ectopic", self._ectopic(k, last) if learned else None),
            ):
                if values is None:
                    continue
                seq = [prev]
                for n in range(i, min(i + 3, last) + 1):
                    if n == k:
                        seq.extend(values)
                    elif not (n == k + 1 and kind != "missed"):
                        seq.append(self._rr[n - self._offset])
                tv = sum(abs(b - a) for a, b in zip(seq, seq[1:]))
                if best is None or tv < best[0]:
                    best = (tv, kind, k, values)
        if best is not None and best[2] == i:
            _, kind, _, values = best
            if kind == "missed":
                return self._replaced(i, "missed", values[0], prev, nxt)
            if kind == "extra":
                pair = values[0]
                self._partner[i + 1] = ("extra", pair)
                ref[at] = ref[at + 1] = pair
                after = ref[at + 2] if at + 2 < len(ref) else pair
                self._relearn(i, (abs(pair - prev), math.nan, abs(after - pair)))
                return Classified(i, rr, "extra", pair)
            first, second = values
            self._partner[i + 1] = ("ectopic", second)
            step = second - first
            self._relearn(i, (abs(first - prev), abs(step), abs(ref[at + 2] - second)))
            return Classified(i, rr, "ectopic", first)
        if best is not None and rr >= self.min_rr_ms:
            return Classified(i, rr, "normal")  # the next beat is the artifact
        if rr < self.min_rr_ms:
            return self._replaced(i, "range", med, prev, nxt)
        if self._learned < WARMUP:
            return Classified(i, rr, "normal")
        # The second beat of a couplet whose first escaped (it changed too little to wait).
        if self._last_normal:
            couplet = self._ectopic(i - 1, last)
            if couplet is not None:
                first, second = couplet
                self._relearn(i, (abs(second - prev), abs(second - first)))
                return Classified(i, rr, "ectopic", second)
        # Long/short: one beat far from both neighbours, in the same direction.
        u = rr - prev
        v = rr - nxt
        th = SPIKE * max(self._threshold(), FLOOR * 0.5 * (prev + nxt))
        if u * v > 0.0 and min(abs(u), abs(v)) > th:
            c = 0.5 * (prev + nxt)
            self._relearn(i, (abs(c - prev), abs(nxt - c)))
            return Classified(i, rr, "longshort", c)
        return Classified(i, rr, "normal")

    def _missed_values(self, k: int, last: int, med: float) -> tuple[float, ...] | None:
        """The two halves if interval ``k`` passes the missed-beat test."""
        if self._missed(k, last, med) < SUM_TOL:
            half = 0.5 * self._rr[k - self._offset]
            return half, half
        return None

    def _extra_values(self, k: int, last: int, med: float) -> tuple[float, ...] | None:
        """The merged interval if intervals ``k``, ``k + 1`` pass the extra-beat test."""
        if self._extra(k, last, med) < SUM_TOL:
            kt = k - self._offset
            return (self._rr[kt] + self._rr[kt + 1],)
        return None

    def _missed(self, k: int, last: int, med: float) -> float:
        """Relative error of "interval ``k`` is two": it against the sum of its neighbours."""
        if k > last:
            return math.inf
        kt = k - self._offset
        before = self._ref[kt - 1] if self._comparable(k - 1, k, last) else med
        after = self._ahead(k + 1, last, med) if self._comparable(k, k + 1, last) else med
        return _missed_error(self._rr[kt], before, after, med)

    def _ahead(self, k: int, last: int, med: float) -> float:
        """Beat ``k`` as a reference for an earlier one: itself, or its true interval if it
        is plainly a missed beat or the first half of an extra one."""
        kt = k - self._offset
        rr = self._rr[kt]
        if k + 1 > last or not self._comparable(k - 1, k + 1, last):
            return rr
        before = self._rr[kt - 1]
        after = self._rr[kt + 1]
        if _missed_error(rr, before, after, med) < SUM_TOL:
            return 0.5 * rr
        if self._comparable(k + 1, k + 2, last):
            if _extra_error(rr, after, before, self._rr[kt + 2], med) < SUM_TOL:
                return rr + after
        return rr

    def _extra(self, k: int, last: int, med: float) -> float:
        """Relative error of "intervals ``k``, ``k + 1`` are one": against their neighbours."""
        if not self._comparable(k, k + 1, last):
            return math.inf
        kt = k - self._offset
        before = self._ref[kt - 1] if self._comparable(k - 1, k, last) else med
        after = self._ahead(k + 2, last, med) if self._comparable(k + 1, k + 2, last) else med
        err = _extra_error(self._rr[kt], self._rr[kt + 1], before, after, med)
        return err if err < SUM_TOL else math.inf

    def _ectopic(self, j: int, last: int) -> tuple[float, float] | None:
        """The corrected couplet ``j, j + 1`` if it passes the ectopic test."""
        if j < self._offset + 1 or not self._comparable(j - 1, j + 2, last):
            return None
        jt = j - self._offset
        left = self._ref[jt - 1]
        right = self._ahead(j + 2, last, self._ref[jt + 2])
        step = (right - left) / 3.0
        a = self._rr[jt] - (left + step)
        b = self._rr[jt + 1] - (left + 2.0 * step)
        if a * b >= 0.0 or abs(a + b) > SUM_TOL * (left + right):
            return None
        size = abs(a) + abs(b)
        th = max(self._threshold(), FLOOR * (left + right))
        if size <= th:
            return None
        d0 = self._rr[jt] - left
        d1 = self._rr[jt + 1] - self._rr[jt]
        d2 = right - self._rr[jt + 1]
        zigzag = d0 * d1 < 0.0 and d1 * d2 < 0.0
        if zigzag or min(abs(a), abs(b)) > C1 * size + C2 * th:
            return left + step, left + 2.0 * step
        return None

    def _threshold(self) -> float:
        """``Th1``: ``alpha`` times the larger quartile deviation of the recent ``|dRR|``."""
        return ALPHA * max(
            _quartile_deviation(self._dabs[-QUANTILE_WINDOW:]),
            _quartile_deviation(self._dabs[-FAST_WINDOW:]),
        )

    def _replaced(self, i: int, kind: str, value: float, prev: float, nxt: float) -> Classified:
        """An artifact whose true interval is ``value``: later beats are compared with it."""
        self._ref[i - self._offset] = value
        self._relearn(i, (abs(value - prev), abs(nxt - value)))
        return Classified(i, self._rr[i - self._offset], kind, value)

    def _relearn(self, i: int, values: tuple[float, ...]) -> None:
        """Replace the learned ``|dRR|`` from beat ``i`` on by the corrected series' ones."""
        at = i - self._offset
        for k, v in enumerate(values):
            if at + k < len(self._dabs) and self._dabs[at + k] == self._dabs[at + k]:
                self._dabs[at + k] = v

    def _trim(self) -> None:
        if len(self._rr) <= _TRIM_AT:
            return
        keep_from = min(self._next - 2 * MEDIAN_HALF - 2, self._offset + len(self._rr) - _KEEP)
        drop = keep_from - self._offset
        if drop > 256:
            del self._rr[:drop]
            del self._ref[:drop]
            del self._gap[:drop]
            del self._dabs[:drop]
            self._offset += drop


def classify_series(
    rr_ms: list[float] | tuple[float, ...],
    gap_before: list[bool] | None = None,
    *,
    guard: float = DEFAULT_GUARD,
) -> list[Classified]:
    """Run :class:`BeatCorrector` over a whole series (offline use, same rules as live)."""
    corrector = BeatCorrector(guard=guard)
    out: list[Classified] = []
    gaps = gap_before if gap_before is not None else [False] * len(rr_ms)
    for rr, gap in zip(rr_ms, gaps, strict=True):
        out.extend(corrector.push(float(rr), gap_before=gap))
    out.extend(corrector.flush())
    return out
