"""The ``hrvcalm`` command line (DESIGN.md section 4).

Every bad input ends in a one-line ``hrvcalm: error: ...`` on stderr and a non-zero exit
(1 for bad data or devices, 2 for a bad command line), never a traceback. The subcommands
live in :mod:`hrvcalm.commands`, one module each.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Sequence

from hrvcalm import __version__
from hrvcalm.commands import (
    analyze,
    app,
    clinic,
    importing,
    replay,
    report,
    resonance,
    scan,
    session,
    sessions,
)
from hrvcalm.errors import HrvcalmError, UsageError

COMMAND_MODULES = (
    app,
    session,
    resonance,
    replay,
    analyze,
    sessions,
    importing,
    report,
    clinic,
    scan,
)
#: What plain ``hrvcalm`` (or ``hrvcalm --port 9000 ...``) runs: the patient's app.
DEFAULT_COMMAND = "app"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="hrvcalm",
        description="Heart-rate-variability biofeedback for mindfulness practice.",
    )
    parser.add_argument("--version", action="version", version=f"hrvcalm {__version__}")
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="also show what happens on the way (reconnection attempts, connections)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


#: Options of the whole program that may come before the command.
_GLOBAL_FLAGS = ("-v", "--verbose")


def with_default_command(argv: Sequence[str]) -> list[str]:
    """``hrvcalm`` alone, or with only options, means ``hrvcalm app`` (not for ``--help`` and
    ``--version``, which stay the whole program's)."""
    args = list(argv)
    n_global = 0
    while n_global < len(args) and args[n_global] in _GLOBAL_FLAGS:
        n_global += 1
    rest = args[n_global:]
    if not rest or (rest[0].startswith("-") and rest[0] not in ("-h", "--help", "--version")):
        return [*args[:n_global], DEFAULT_COMMAND, *rest]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hrvcalm`` console script."""
    args = build_parser().parse_args(with_default_command(sys.argv[1:] if argv is None else argv))
    logging.basicConfig(level=logging.WARNING, format="hrvcalm: %(message)s")
    # -v shows our own INFO lines (reconnection attempts, connections); libraries stay quiet.
    logging.getLogger("hrvcalm").setLevel(logging.INFO if args.verbose else logging.NOTSET)
    # A service manager's SIGTERM stops a session as cleanly as Ctrl-C: saved and closed.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        code: int = args.handler(args)
        return code
    except UsageError as exc:
        print(f"hrvcalm: error: {exc}", file=sys.stderr)
        return 2
    except HrvcalmError as exc:
        print(f"hrvcalm: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("hrvcalm: stopped", file=sys.stderr)
        return 130
    except BrokenPipeError:
        sys.stderr.close()
        return 0
