"""Setting text for the PDF pages: text styles, widths from the font's own metrics, and
line wrapping.

Widths come from matplotlib's unhinted glyph metrics (:class:`matplotlib.textpath.TextToPath`),
which is how its PDF backend places glyphs, so a wrapped line fits the width it was wrapped
to on paper.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING

from hrvcalm.reports import style

if TYPE_CHECKING:
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

MUTED_TEXT = "#56666c"
"""Secondary text (subtitle, remarks, footer)."""
NO_LIGATURES = ("-liga",)
"""Font features for page text: each character its own glyph ("ff" is not one), so a PDF
viewer's search and copy find the words of a note as they were typed."""


@dataclass(frozen=True, slots=True)
class TextStyle:
    """Size (points), weight and colour of a kind of text."""

    size_pt: float
    bold: bool = False
    color: str = style.INK

    @property
    def line_in(self) -> float:
        """Line height, inches."""
        return 1.4 * self.size_pt / 72.0

    @property
    def ascent_in(self) -> float:
        """From the top of a line to its baseline, inches."""
        return 1.05 * self.size_pt / 72.0


TITLE = TextStyle(16.0, bold=True)
SUBTITLE = TextStyle(9.0, color=MUTED_TEXT)
HEADING = TextStyle(12.0, bold=True)
BODY = TextStyle(9.5)
BODY_BOLD = TextStyle(9.5, bold=True)
SMALL = TextStyle(8.5, color=MUTED_TEXT)
FOOTER = TextStyle(8.0, color=MUTED_TEXT)


@cache
def _measure() -> TextToPath:
    from matplotlib.textpath import TextToPath

    return TextToPath()  # unhinted glyph metrics in points, as the PDF backend places them


def font_properties(text_style: TextStyle) -> FontProperties:
    """The matplotlib font of a text style (the family of every report figure)."""
    from matplotlib.font_manager import FontProperties

    return FontProperties(
        family=style.RC["font.family"],
        size=text_style.size_pt,
        weight="bold" if text_style.bold else "normal",
    )


@lru_cache(maxsize=4096)
def text_width_in(text: str, text_style: TextStyle) -> float:
    """Width of one line of ``text`` set in ``text_style``, inches."""
    if not text:
        return 0.0
    prop = font_properties(text_style)
    width_pt, _, _ = _measure().get_text_width_height_descent(text, prop, ismath=False)
    return float(width_pt) / 72.0


def wrap(text: str, width_in: float, text_style: TextStyle) -> list[str]:
    """``text`` broken into lines no wider than ``width_in``: at spaces, and inside a word
    only when the word alone is too wide (after its last hyphen that fits, else wherever it
    must). A newline in ``text`` starts a new line."""

    def fits(line: str) -> bool:
        return text_width_in(line, text_style) <= width_in + 1e-6

    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split(" "):
            trial = f"{current} {word}" if current else word
            if fits(trial):
                current = trial
                continue
            if current:
                lines.append(current)
            while len(word) > 1 and not fits(word):
                cut = len(word) - 1
                while cut > 1 and not fits(word[:cut]):
                    cut -= 1
                hyphen = word.rfind("-", 0, cut)
                if hyphen > 0:
                    cut = hyphen + 1  # after a hyphen, as a browser breaks it
                lines.append(word[:cut])
                word = word[cut:]
            current = word
        lines.append(current)
    return lines


def missing_glyphs(texts: list[str]) -> list[str]:
    """The characters of ``texts`` the report font has no glyph for (they print as boxes),
    in order of first appearance; whitespace is not counted."""
    from matplotlib.font_manager import findfont, get_font

    charmap = get_font(findfont(font_properties(BODY))).get_charmap()
    seen: dict[str, None] = {}
    for text in texts:
        for c in text:
            if not c.isspace() and ord(c) not in charmap:
                seen.setdefault(c)
    return list(seen)
