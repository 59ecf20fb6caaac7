"""Reader for PhysioNet WFDB beat-annotation files (``100.atr``, ``nsr001.ecg``, ``100.qrs``).

An annotation file ``RECORD.ANNOTATOR`` lists labelled sample indices; its sampling frequency
is in the header ``RECORD.hea`` beside it (Moody, "WFDB Applications Guide"; read here with
``wfdb.rdann``, wfdb-python, Xie et al. 2023). RR is the difference between consecutive
*beat* annotations divided by the sampling frequency: beat symbols are ``N L R B A a J S V r
F e j n E / f Q ?`` (the WFDB ``isqrs`` set); rhythm, noise and artifact marks such as ``+ ~
|`` are ignored. The timing resolution is one sample, ``1000 / fs`` ms (~7.8 ms at 128 Hz).

``RECORD.hea`` and ``RECORD.dat`` are a signal record (ECG samples), not beats: reading them
raises a RecordingError that names the annotation file beside them, if there is one.
"""

from __future__ import annotations

import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from hrvcalm.errors import RecordingError
from hrvcalm.recordings._common import (
    MAX_BAD_FRACTION,
    MAX_RR_MS,
    check_file,
    looks_binary,
    one_line,
    read_bytes,
)
from hrvcalm.recordings.base import BadValue, Recording

BEAT_SYMBOLS = frozenset("NLRBAaJSVrFejnE/fQ?")
"""WFDB annotation symbols that mark a heartbeat (QRS complex)."""

ANNOTATION_EXTENSIONS = (
    "atr",  # reference (cardiologist-reviewed) annotations: preferred
    "ecg",
    "ann",
    "ari",
    "man",
    "qrs",
    "gqrs",
    "wqrs",
    "sqrs",
    "jqrs",
    "pu",
    "pu0",
    "pu1",
    "all",
)
"""Usual annotator names of beat-annotation files, the reference ones first."""

SIGNAL_EXTENSIONS = frozenset({"hea", "dat"})
"""Extensions of a WFDB signal record: the header and the samples."""

DEFAULT_FS_HZ = 250.0
"""Sampling frequency a WFDB header implies when it states none (WFDB ``header(5)``)."""


def read_wfdb_annotations(path: Path) -> Recording:
    """Read RR intervals from a WFDB beat-annotation file.

    Args:
        path: The annotation file, e.g. ``100.atr``; the header ``100.hea`` beside it gives
            the sampling frequency (else a frequency stored in the annotation file is used).

    Returns:
        The recording: ``rr_ms`` in ms, ``labels`` the symbol of the beat ending each
        interval, ``resolution_ms`` = 1000 / fs, notes with fs, annotator and beat counts.
        ``BadValue.line`` is the 1-based annotation index of the beat ending the interval.

    Raises:
        RecordingError: A signal record (``.hea``/``.dat``), a truncated or garbled file, no
            sampling frequency, fewer than two beats, or too many bad intervals.
    """
    check_file(path)
    extension = path.suffix[1:]
    if extension.lower() in SIGNAL_EXTENSIONS:
        raise signal_record_error(path)
    if not extension:
        raise RecordingError(
            path, "has no extension: a WFDB annotation file is named RECORD.ANNOTATOR (100.atr)"
        )
    raw = read_bytes(path)
    if raw.startswith(b"ISHNE1.0"):
        raise RecordingError(path, "is an ISHNE Holter ECG file, not WFDB beat annotations")
    if len(raw) % 2 or not raw.endswith(b"\x00\x00"):
        raise RecordingError(
            path, "is not a complete WFDB annotation file (truncated or garbled: no end marker)"
        )
    base = path.parent / path.name[: -len(path.suffix)]
    samples, symbols, ann_fs, caught = _rdann(path, base, extension)
    header = _sibling(base, "hea")
    info = header_info(header) if header.is_file() else None
    notes: dict[str, str] = {"annotator": extension}
    if info is not None:
        fs = info[1]
        notes["fs_source"] = header.name
    elif ann_fs:
        fs = ann_fs
        notes["fs_source"] = "annotation file"
    else:
        raise RecordingError(
            path, f"has no sampling frequency: its header {header.name} is missing beside it"
        )
    is_beat = np.fromiter((s in BEAT_SYMBOLS for s in symbols), dtype=bool, count=len(symbols))
    beat_index = np.flatnonzero(is_beat)
    if beat_index.size < 2:
        raise RecordingError(
            path,
            f"has {beat_index.size} beat annotation(s) among {len(symbols)} annotations; "
            "two beats are needed for an interval",
        )
    rr_ms = np.diff(samples[beat_index]).astype(np.float64) * (1000.0 / fs)
    end_index = beat_index[1:]
    bad_mask = (rr_ms <= 0) | (rr_ms > MAX_RR_MS)
    bad = tuple(
        BadValue(
            int(end_index[i]) + 1,
            f"{symbols[end_index[i]]}@{samples[end_index[i]]}",
            "RR must be positive" if rr_ms[i] <= 0 else f"RR above {MAX_RR_MS:,.0f} ms (a gap)",
        )
        for i in np.flatnonzero(bad_mask)
    )
    if bad and (len(bad) == rr_ms.size or len(bad) > MAX_BAD_FRACTION * rr_ms.size):
        raise RecordingError(
            path,
            f"{len(bad)} of {rr_ms.size} beat intervals are bad (garbled?); first: "
            f"{bad[0].text}: {bad[0].reason}",
            bad[0].line,
        )
    keep = ~bad_mask
    non_beats = Counter(s for s, b in zip(symbols, is_beat, strict=True) if not b)
    notes["fs_hz"] = f"{fs:g}"
    notes["beats"] = str(beat_index.size)
    notes["first_beat_s"] = f"{samples[beat_index[0]] / fs:.3f}"
    if non_beats:
        notes["non_beat_annotations"] = ", ".join(f"{s} {n}" for s, n in non_beats.most_common())
    if info is not None and info[2]:
        notes["header_comments"] = " | ".join(info[2])
    if caught:
        notes["wfdb_warnings"] = " | ".join(caught)
    return Recording(
        path=path,
        format="wfdb",
        rr_ms=rr_ms[keep],
        labels=tuple(symbols[i] for i in end_index[keep]),
        bad_values=bad,
        resolution_ms=1000.0 / fs,
        notes=notes,
    )


def import_wfdb() -> Any:
    """Import ``wfdb`` (lazily: it pulls in pandas) without its known import-time warning.

    wfdb 4.3 passes ``inplace=`` to ``DataFrame.set_index`` at import, which pandas 3.1
    deprecates (PDEP-8). Only that warning, raised from wfdb's own modules, is silenced; every
    other warning still reaches the caller (and fails a run with ``-W error``).
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="The inplace keyword", category=DeprecationWarning, module="wfdb"
        )
        import wfdb

    return wfdb


def _rdann(
    path: Path, base: Path, extension: str
) -> tuple[np.ndarray[tuple[int], np.dtype[np.int64]], list[str], float | None, list[str]]:
    """Call ``wfdb.rdann``; return sample indices, symbols, stored fs and warnings raised."""
    wfdb = import_wfdb()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            ann = wfdb.rdann(str(base), extension)
            samples = np.asarray(ann.sample, dtype=np.int64).reshape(-1)
            symbols = list(ann.symbol)
            ann_fs = float(ann.fs) if ann.fs else None
        except Exception as exc:
            raise RecordingError(
                path, f"is not a readable WFDB annotation file (garbled?): {one_line(str(exc))}"
            ) from exc
    messages = [one_line(str(w.message)) for w in caught]
    if len(symbols) != samples.size or not all(isinstance(s, str) for s in symbols):
        raise RecordingError(path, "is not a WFDB annotation file (garbled: unknown codes)")
    if samples.size > 1 and bool(np.any(np.diff(samples) < 0)):
        raise RecordingError(path, "is not a WFDB annotation file (garbled: time goes backwards)")
    return samples, symbols, ann_fs, messages


def _sibling(base: Path, extension: str) -> Path:
    """``RECORD.extension`` beside ``RECORD`` (safe for record names containing dots)."""
    return base.parent / f"{base.name}.{extension}"


def header_info(header: Path) -> tuple[int, float, list[str]] | None:
    """Number of signals, sampling frequency (Hz) and comments of a WFDB header; ``None`` if
    it cannot be read.

    The record line is ``NAME[/SEGMENTS] N_SIGNALS [FS[/COUNTER[(BASE)]] [N_SAMPLES ...]]``.
    """
    try:
        text = header.read_text(encoding="latin-1")
    except OSError:
        return None
    comments: list[str] = []
    record: list[str] | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            comment = stripped.lstrip("#").strip()
            if comment and record is not None:
                comments.append(comment)
        elif stripped and record is None:
            record = stripped.split()
    if record is None or len(record) < 2:
        return None
    try:
        n_signals = int(record[1])
        fs = float(record[2].split("/")[0].split("(")[0]) if len(record) > 2 else DEFAULT_FS_HZ
    except ValueError:
        return None
    if n_signals < 0 or not fs > 0:
        return None
    return n_signals, fs, comments


def looks_like_annotations(candidate: Path) -> bool:
    """Cheap check: a binary file of even size ending with the WFDB end-of-file word."""
    try:
        with candidate.open("rb") as handle:
            head = handle.read(4096)
            size = candidate.stat().st_size
            handle.seek(max(size - 2, 0))
            tail = handle.read(2)
    except OSError:
        return False
    return size >= 4 and size % 2 == 0 and tail == b"\x00\x00" and looks_binary(head)


def annotation_files(base: Path) -> list[Path]:
    """Beat-annotation files of record ``base`` lying beside it, reference ones first."""
    found = [_sibling(base, e) for e in ANNOTATION_EXTENSIONS]
    found = [p for p in found if p.is_file() and looks_like_annotations(p)]
    prefix = f"{base.name}."
    try:
        others = sorted(p for p in base.parent.iterdir() if p.name.startswith(prefix))
    except OSError:
        others = []
    for candidate in others:
        suffix = candidate.name[len(prefix) :]
        if not suffix or "." in suffix or suffix.lower() in SIGNAL_EXTENSIONS:
            continue
        if candidate in found:
            continue
        if candidate.is_file() and looks_like_annotations(candidate):
            found.append(candidate)
    return found


def signal_record_error(path: Path) -> RecordingError:
    """The error for a ``.hea`` / ``.dat`` path: a signal record, pointing at its beats."""
    base = path.parent / path.name[: -len(path.suffix)]
    header = _sibling(base, "hea")
    info = header_info(header) if header.is_file() else None
    if info is not None and info[0] == 0:
        what = "is a WFDB record header with no signal, not beat intervals"
    elif info is not None:
        what = (
            f"is an ECG signal record ({info[0]} channel{'s' if info[0] > 1 else ''} at "
            f"{info[1]:g} Hz), not beat intervals"
        )
    else:
        what = "is an ECG signal record, not beat intervals"
    found = annotation_files(base)
    if not found:
        return RecordingError(
            path, f"{what}; no beat annotation file (.atr, .qrs ...) lies beside it"
        )
    also = f" (also: {', '.join(p.name for p in found[1:])})" if len(found) > 1 else ""
    return RecordingError(
        path, f"{what}; its beat annotations are in {found[0]}{also} - analyze that file"
    )
