"""The PDF's text wrapping: every line fits, nothing is lost, newlines are kept."""

from __future__ import annotations

from hrvcalm.reports.typeset import BODY, text_width_in, wrap
from tests.reports.conftest import LONG_NOTE


def test_wrap_fits_the_width_and_keeps_every_character() -> None:
    width_in = 2.0
    lines = wrap(LONG_NOTE, width_in, BODY)
    assert len(lines) >= 8
    for line in lines:
        assert text_width_in(line, BODY) <= width_in + 1e-6, line
    assert "".join(lines).replace(" ", "") == LONG_NOTE.replace(" ", "")
    # Words move whole to the next line; only a word wider than the line is cut.
    words = LONG_NOTE.split()
    longest = max(words, key=len)
    cut = [word for line in lines for word in line.split() if word not in words]
    assert len(cut) >= 2
    assert all(piece in longest for piece in cut)


def test_wrap_keeps_newlines_and_short_text() -> None:
    assert wrap("First line.\nSecond line.", 6.0, BODY) == ["First line.", "Second line."]
    assert wrap("", 6.0, BODY) == [""]
    assert wrap("7", 0.05, BODY) == ["7"]  # one character always goes somewhere
