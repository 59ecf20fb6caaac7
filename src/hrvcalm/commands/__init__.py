"""One module per ``hrvcalm`` subcommand.

Each module defines ``register(subparsers)``, which adds its parser and sets ``run`` as the
parser's ``handler`` default; ``run(args) -> int`` returns the exit code. Modules import their
heavy dependencies inside ``run`` so that ``hrvcalm --help`` stays fast.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import sys
from collections.abc import Callable
from typing import Any

DEFAULT_PORT = 8765


def parse_speed(text: str) -> float:
    """``max`` (as fast as possible) or a positive factor."""
    if text.strip().lower() == "max":
        return math.inf
    return positive_number(text, what="speed must be a positive number or 'max'")


def positive_number(text: str, what: str = "expected a positive number") -> float:
    """A finite number greater than zero."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{what}, got {text!r}") from None
    if not value > 0 or math.isinf(value):
        raise argparse.ArgumentTypeError(f"{what}, got {text!r}")
    return value


def port_number(text: str) -> int:
    """A TCP port, 0-65535 (0: any free port)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number 0-65535, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number 0-65535, got {text!r}")
    return value


_flush_pending = False
#: ``hrvcalm.server.messages.encode``, imported on the first message (``--help`` stays fast).
_encode: Callable[[dict[str, Any]], str] | None = None


#: Set once the reader of stdout has gone (``--jsonl | head``).
_stdout_closed = False


def _reader_gone() -> BrokenPipeError:
    """Stdout's reader has gone: send what is still buffered nowhere (so that the exit does
    not complain either) and say so to the caller, which ends the run quietly."""
    global _stdout_closed
    _stdout_closed = True
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    return BrokenPipeError("stdout was closed")


def _flush_stdout() -> None:
    global _flush_pending
    _flush_pending = False
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _reader_gone()  # the next message raises, where the session can stop


def print_message(message: dict[str, Any]) -> None:
    """Print one websocket message as a JSON line (``--jsonl``).

    Lines are flushed as soon as the event loop is idle (after the current batch of
    messages), not one by one: a reader of the pipe sees every message without delay, and a
    replay at ``--speed max`` does not pay a system call per line.

    Raises:
        BrokenPipeError: The reader has gone (``--jsonl | head``); the live session lets this
            one through its observers, and ``hrvcalm`` exits quietly with status 0.
    """
    global _flush_pending, _encode
    if _encode is None:
        from hrvcalm.server.messages import encode

        _encode = encode
    if _stdout_closed:
        raise BrokenPipeError("stdout was closed")
    try:
        sys.stdout.write(_encode(message) + "\n")
    except BrokenPipeError:
        raise _reader_gone() from None
    if _flush_pending:
        return
    try:
        asyncio.get_running_loop().call_soon(_flush_stdout)
        _flush_pending = True
    except RuntimeError:  # no event loop: flush at once
        sys.stdout.flush()
