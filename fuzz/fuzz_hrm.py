"""Coverage-guided fuzzing of the Heart Rate Measurement (0x2A37) parser with atheris.

    .venv/bin/python fuzz/fuzz_hrm.py -runs=200000        # or -max_total_time=600

Any exception other than MalformedPacketError, or a parsed value breaking an invariant,
is a crash that atheris reports with the input that caused it.
"""

import sys

import atheris

with atheris.instrument_imports():
    from hrvcalm.core.hrm import parse_heart_rate_measurement
    from hrvcalm.errors import MalformedPacketError


def test_one_input(data: bytes) -> None:
    try:
        m = parse_heart_rate_measurement(data)
    except MalformedPacketError:
        return
    assert 0 <= m.hr_bpm <= 0xFFFF
    assert all(0 <= v <= 0xFFFF for v in m.rr_1024)
    assert len(m.rr_1024) <= max(0, (len(data) - 2) // 2)
    assert m.spare_bytes >= 0
    assert len(m.rr_ms) == len(m.rr_1024)


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
