"""``hrvcalm analyze PATH...`` on several files or folders: one table, every core busy.

Each file is read and analysed in its own worker process
(:class:`concurrent.futures.ProcessPoolExecutor`, one worker per core). A file that cannot be
read is listed with the reason instead of stopping the run. Exit code: 0 if at least one file
was analysed, 1 if none was.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hrvcalm.errors import HrvcalmError, UsageError

#: Suffixes never taken from a folder: WFDB signal files and headers (their annotation file
#: beside them is the recording), documentation and scripts.
SKIPPED_SUFFIXES = frozenset({".hea", ".dat", ".md", ".py", ".html", ".pdf", ".png", ".npy"})


@dataclass(frozen=True, slots=True)
class Settings:
    """What every worker needs: the analysis settings and the output shape."""

    format: str | None
    window_s: float
    step_s: float
    psd: str
    correction: bool
    per_window: bool


def expand(paths: list[str]) -> list[Path]:
    """Files named and files under folders named (recursive, sorted, hidden ones skipped).

    Raises:
        UsageError: A path that does not exist.
    """
    files: list[Path] = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            for found in sorted(path.rglob("*")):
                hidden = any(p.startswith(".") for p in found.relative_to(path).parts)
                if found.is_file() and not hidden and found.suffix.lower() not in SKIPPED_SUFFIXES:
                    files.append(found)
        elif path.exists():
            files.append(path)
        else:
            raise UsageError(f"{text}: no such file or folder")
    return files


def analyse_file(path: Path, settings: Settings) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows of one file (a zip gives one per member) and the reasons of what failed.

    Runs in a worker process: everything it returns is plain data.
    """
    from hrvcalm.recordings import Recording, detect_format, read_recording
    from hrvcalm.recordings.text_exports import read_zip_members

    rows: list[dict[str, Any]] = []
    failures: list[str] = []
    try:
        name = settings.format or detect_format(path)
        recordings: list[Recording | HrvcalmError]
        if name == "zip":
            recordings = [r for _, r in read_zip_members(path)]
        else:
            recordings = [read_recording(path, format=settings.format)]
    except HrvcalmError as exc:
        return [], [str(exc)]
    for item in recordings:
        if isinstance(item, HrvcalmError):
            failures.append(str(item))
            continue
        try:
            rows.extend(_rows(item, settings))
        except HrvcalmError as exc:
            failures.append(str(exc))
        except (ValueError, FloatingPointError) as exc:
            failures.append(f"{item.path}: analysis failed: {exc}")
    return rows, failures


def _rows(recording: Any, settings: Settings) -> list[dict[str, Any]]:
    from hrvcalm.analyze_output import batch_rows
    from hrvcalm.core.analysis import analyze_rr

    if len(recording) < 2:
        raise HrvcalmError(
            f"{recording.path}: only {len(recording)} interval(s): too short to analyze"
        )
    analysis = analyze_rr(
        recording.rr_ms,
        window_s=settings.window_s,
        step_s=settings.step_s,
        correction=settings.correction,
        psd=settings.psd,
        labels=recording.labels,
    )
    return batch_rows(recording, analysis, per_window=settings.per_window)


def run_batch(paths: list[str], settings: Settings, csv_path: str | None, as_json: bool) -> int:
    """Analyse every file, print (or write) one table, list the failures; the exit code."""
    files = expand(paths)
    if not files:
        raise UsageError(f"no files found in {', '.join(paths)}")
    if csv_path is not None and not Path(csv_path).parent.is_dir():
        raise UsageError(f"--csv {csv_path}: folder {Path(csv_path).parent} does not exist")
    rows: list[dict[str, Any]] = []
    failures: list[str] = []
    for file_rows, file_failures in _map(files, settings):
        rows.extend(file_rows)
        failures.extend(file_failures)
    if as_json:
        document = {
            "settings": {
                "window_s": settings.window_s,
                "step_s": settings.step_s,
                "psd": settings.psd,
                "correction": settings.correction,
                "per_window": settings.per_window,
            },
            "n_files": len(files),
            "rows": rows,
            "failed": failures,
        }
        print(json.dumps(document, allow_nan=False))
    elif csv_path is None:
        print(_text_table(rows))
    if csv_path is not None:
        try:
            Path(csv_path).write_text(_csv_text(rows), encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--csv {csv_path}: cannot write: {exc.strerror}") from None
        if not as_json:
            print(f"{len(rows)} rows written to {csv_path}")
    analysed = len({row["path"] for row in rows})
    if not as_json:
        print(
            f"{analysed} recording(s) analysed, {len(failures)} could not be read", file=sys.stderr
        )
        for reason in failures:
            print(f"  could not read: {reason}", file=sys.stderr)
    return 0 if analysed else 1


def _map(files: list[Path], settings: Settings) -> Iterator[tuple[list[dict[str, Any]], list[str]]]:
    """Results in file order; one worker per core (in process for a single file)."""
    workers = min(len(files), os.cpu_count() or 1)
    if workers <= 1:
        for path in files:
            yield analyse_file(path, settings)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(analyse_file, files, [settings] * len(files))


def _csv_text(rows: list[dict[str, Any]]) -> str:
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return out.getvalue()


def _text_table(rows: list[dict[str, Any]]) -> str:
    from hrvcalm.analyze_output import batch_table

    return batch_table(rows)
