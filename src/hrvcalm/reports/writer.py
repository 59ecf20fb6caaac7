"""Where every report file is written: one function, so how reports land on disk is one
decision (encoding, and later the file's permissions)."""

from __future__ import annotations

from pathlib import Path


def write_report_file(path: Path, content: str | bytes) -> None:
    """Write a report (text as UTF-8, or bytes as they are) to ``path``, replacing it.

    Raises:
        OSError: The file cannot be written (callers turn it into a one-line message).
    """
    data = content.encode("utf-8") if isinstance(content, str) else content
    path.write_bytes(data)
