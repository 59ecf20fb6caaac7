"""Coverage-guided fuzzing of the Polar PMD frame and control-reply parsers with atheris.

    .venv/bin/python fuzz/fuzz_pmd.py -runs=200000

Any exception other than MalformedPacketError is a crash.
"""

import contextlib
import sys

import atheris

with atheris.instrument_imports():
    from hrvcalm.core.pmd import parse_control_response, parse_frame
    from hrvcalm.errors import MalformedPacketError


def test_one_input(data: bytes) -> None:
    for parse in (parse_frame, parse_control_response):
        with contextlib.suppress(MalformedPacketError):
            parse(data)


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
