"""Where every report file is written: one function, so how reports land on disk is one
decision: UTF-8 text, and a new file readable by its owner only (0600, whatever the umask;
see :mod:`hrvcalm.storage.files` and docs/security.md)."""

from __future__ import annotations

from pathlib import Path

from hrvcalm.storage.files import open_private


def write_report_file(path: Path, content: str | bytes) -> None:
    """Write a report (text as UTF-8, or bytes as they are) to ``path``, replacing it.

    A new file is created 0600 (it holds health data); an existing one keeps its mode.

    Raises:
        OSError: The file cannot be written (callers turn it into a one-line message).
    """
    data = content.encode("utf-8") if isinstance(content, str) else content
    with open_private(path, "wb") as handle:
        handle.write(data)
