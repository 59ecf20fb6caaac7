"""A :class:`~hrvcalm.reports.document.Document` as PDF pages, with matplotlib only.

Each page is one matplotlib figure the size of the paper (A4: 8.27 x 11.69 in; or Letter),
saved with matplotlib's PDF backend; text is TrueType (selectable and searchable). The
document is laid out top to bottom like the HTML file: the title, then each block at the
page's content width; text is wrapped to the width (measured with the font's own metrics),
a table that does not fit continues on the next page under its repeated header, a heading
is never left alone at the foot of a page, and a plot (with its caption) moves whole to the
next page. Every page carries the document's footer and "page i of n".
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING

from hrvcalm.reports import style
from hrvcalm.reports.document import (
    Block,
    Document,
    Heading,
    Paragraph,
    Plot,
    Table,
    place_panels,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath


@dataclass(frozen=True, slots=True)
class Paper:
    """A paper size, inches."""

    name: str
    width_in: float
    height_in: float


A4 = Paper("a4", 8.27, 11.69)
LETTER = Paper("letter", 8.5, 11.0)
PAPERS = {p.name: p for p in (A4, LETTER)}

MARGIN_X_IN = 0.75
"""Left and right margin, inches (A4's content width is then the plots' 6.77 in)."""
MARGIN_TOP_IN = 0.7
MARGIN_BOTTOM_IN = 0.8
FOOTER_FROM_BOTTOM_IN = 0.45
PAGE_DPI = 200.0
"""Resolution of the few rasterized parts (lines of more than 5000 beats)."""

_MUTED_TEXT = "#56666c"
_NO_LIGATURES = ("-liga",)
"""Each character its own glyph ("ff" is not one), so a viewer's search and copy find the
words of a note as they were typed."""


@dataclass(frozen=True, slots=True)
class _Font:
    size_pt: float
    bold: bool = False
    color: str = style.INK

    @property
    def line_in(self) -> float:
        """Line height, inches."""
        return 1.4 * self.size_pt / 72.0


TITLE = _Font(16.0, bold=True)
SUBTITLE = _Font(9.0, color=_MUTED_TEXT)
HEADING = _Font(12.0, bold=True)
BODY = _Font(9.5)
BODY_BOLD = _Font(9.5, bold=True)
SMALL = _Font(8.5, color=_MUTED_TEXT)
FOOTER = _Font(8.0, color=_MUTED_TEXT)

CELL_PAD_X_IN = 0.15
"""Room right of each table cell's text, inches."""
CELL_PAD_Y_IN = 0.035
"""Room above and below each table cell's text, inches."""
SPACE_AFTER_IN = 0.12
"""Room after a paragraph, table or plot, inches."""
SPACE_BEFORE_HEADING_IN = 0.2


@dataclass(frozen=True, slots=True)
class _Text:
    x_in: float
    baseline_in: float  # from the top of the page
    text: str
    font: _Font
    align: str = "left"


@dataclass(frozen=True, slots=True)
class _Rule:
    x0_in: float
    x1_in: float
    y_in: float  # from the top of the page


@dataclass(frozen=True, slots=True)
class _Figure:
    plot: Plot
    x_in: float
    top_in: float
    width_in: float


_Item = _Text | _Rule | _Figure


# -- measuring and wrapping ---------------------------------------------------------------


@cache
def _measure() -> TextToPath:
    from matplotlib.textpath import TextToPath

    return TextToPath()  # unhinted glyph metrics in points, as the PDF backend places them


def _prop(font: _Font) -> FontProperties:
    from matplotlib.font_manager import FontProperties

    return FontProperties(
        family=style.RC["font.family"], size=font.size_pt, weight="bold" if font.bold else "normal"
    )


@lru_cache(maxsize=4096)
def text_width_in(text: str, font: _Font) -> float:
    """Width of one line of ``text`` set in ``font``, inches."""
    if not text:
        return 0.0
    width_pt, _, _ = _measure().get_text_width_height_descent(text, _prop(font), ismath=False)
    return float(width_pt) / 72.0


def wrap(text: str, width_in: float, font: _Font) -> list[str]:
    """``text`` broken into lines no wider than ``width_in``: at spaces, and inside a word
    only when the word alone is too wide (after its last hyphen that fits, else wherever it
    must). A newline in ``text`` starts a new line."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split(" "):
            trial = f"{current} {word}" if current else word
            if text_width_in(trial, font) <= width_in + 1e-6:
                current = trial
                continue
            if current:
                lines.append(current)
            while len(word) > 1 and text_width_in(word, font) > width_in + 1e-6:
                cut = len(word) - 1
                while cut > 1 and text_width_in(word[:cut], font) > width_in + 1e-6:
                    cut -= 1
                hyphen = word.rfind("-", 0, cut)
                if hyphen > 0:
                    cut = hyphen + 1  # after a hyphen, as a browser breaks it
                lines.append(word[:cut])
                word = word[cut:]
            current = word
        lines.append(current)
    return lines


# -- layout -------------------------------------------------------------------------------


class _Layout:
    """Places items on pages from the top down; ``y_in`` is the cursor from the page top."""

    def __init__(self, paper: Paper) -> None:
        self.paper = paper
        self.pages: list[list[_Item]] = [[]]
        self.y_in = MARGIN_TOP_IN
        self.width_in = paper.width_in - 2 * MARGIN_X_IN

    @property
    def room_in(self) -> float:
        return self.paper.height_in - MARGIN_BOTTOM_IN - self.y_in

    @property
    def at_top(self) -> bool:
        return self.y_in <= MARGIN_TOP_IN

    def new_page(self) -> None:
        self.pages.append([])
        self.y_in = MARGIN_TOP_IN

    def make_room(self, height_in: float) -> None:
        """A new page unless ``height_in`` fits here (or this page is still empty)."""
        if height_in > self.room_in + 1e-9 and not self.at_top:
            self.new_page()

    def lines(self, lines: list[str], font: _Font, x_in: float = MARGIN_X_IN) -> None:
        """Lines of text, each on this page if it fits, else on the next."""
        for line in lines:
            self.make_room(font.line_in)
            self.pages[-1].append(_Text(x_in, self.y_in + 1.05 * font.size_pt / 72.0, line, font))
            self.y_in += font.line_in


def _first_unit_in(block: Block, width_in: float) -> float:
    """The least height of ``block`` that must follow its heading on the same page."""
    match block:
        case Heading():
            return HEADING.line_in
        case Paragraph():
            return _font_of(block).line_in * 2
        case Table():
            if not block.rows:
                return SMALL.line_in
            widths = _column_widths(block, width_in)
            first = _row_height(block.rows[0], widths, _cell_fonts(block, header=False))
            if block.header is not None:
                first += _row_height(block.header, widths, _cell_fonts(block, header=True))
            return first
        case Plot():
            return BODY.line_in + block.height_in


def _font_of(paragraph: Paragraph) -> _Font:
    return SMALL if paragraph.kind == "muted" else BODY


def _cell_fonts(table: Table, *, header: bool) -> list[_Font]:
    n = len(table.header) if table.header is not None else len(table.rows[0])
    if header:
        return [BODY_BOLD] * n
    return [BODY_BOLD if k == 0 and table.row_headings else BODY for k in range(n)]


def _column_widths(table: Table, width_in: float) -> list[float]:
    """Each column as wide as its widest cell; if the table is then too wide, its widest
    column gives way (and wraps), and if that is not enough every column shrinks."""
    rows: list[tuple[tuple[str, ...], list[_Font]]] = [
        (row, _cell_fonts(table, header=False)) for row in table.rows
    ]
    if table.header is not None:
        rows.append((table.header, _cell_fonts(table, header=True)))
    n = len(rows[0][0])
    natural = [
        max(
            max(text_width_in(line, fonts[k]) for line in row[k].split("\n")) for row, fonts in rows
        )
        + CELL_PAD_X_IN
        for k in range(n)
    ]
    total = sum(natural)
    if total <= width_in:
        return natural
    widest = max(range(n), key=lambda k: natural[k])
    others = total - natural[widest]
    if width_in - others >= 1.0:
        natural[widest] = width_in - others
        return natural
    return [w * width_in / total for w in natural]


def _cell_lines(row: tuple[str, ...], widths: list[float], fonts: list[_Font]) -> list[list[str]]:
    return [
        wrap(cell, max(w - CELL_PAD_X_IN, 0.2), font)
        for cell, w, font in zip(row, widths, fonts, strict=True)
    ]


def _row_height(row: tuple[str, ...], widths: list[float], fonts: list[_Font]) -> float:
    cells = _cell_lines(row, widths, fonts)
    return (
        max(len(lines) * font.line_in for lines, font in zip(cells, fonts, strict=True))
        + 2 * CELL_PAD_Y_IN
    )


def _place_row(
    layout: _Layout, row: tuple[str, ...], widths: list[float], fonts: list[_Font]
) -> None:
    cells = _cell_lines(row, widths, fonts)
    top = layout.y_in + CELL_PAD_Y_IN
    x = MARGIN_X_IN
    for lines, w, font in zip(cells, widths, fonts, strict=True):
        for k, line in enumerate(lines):
            if line:
                baseline = top + k * font.line_in + 1.05 * font.size_pt / 72.0
                layout.pages[-1].append(_Text(x, baseline, line, font))
        x += w
    layout.y_in += _row_height(row, widths, fonts)
    layout.pages[-1].append(_Rule(MARGIN_X_IN, MARGIN_X_IN + sum(widths), layout.y_in))


def _place_table(layout: _Layout, table: Table) -> None:
    if not table.rows:
        layout.lines(wrap(table.empty, layout.width_in, SMALL), SMALL)
        return
    widths = _column_widths(table, layout.width_in)
    head_fonts = _cell_fonts(table, header=True)
    fonts = _cell_fonts(table, header=False)
    head_in = 0.0 if table.header is None else _row_height(table.header, widths, head_fonts)
    for k, row in enumerate(table.rows):
        height = _row_height(row, widths, fonts)
        if k == 0 or height > layout.room_in:
            layout.make_room(head_in + height)
            if table.header is not None:
                _place_row(layout, table.header, widths, head_fonts)
        _place_row(layout, row, widths, fonts)


def _place(layout: _Layout, block: Block, following: Block | None) -> None:
    match block:
        case Heading(text):
            lines = wrap(text, layout.width_in, HEADING)
            needed = SPACE_BEFORE_HEADING_IN + len(lines) * HEADING.line_in
            if following is not None:
                needed += _first_unit_in(following, layout.width_in)
            layout.make_room(needed)
            if not layout.at_top:
                layout.y_in += SPACE_BEFORE_HEADING_IN
            layout.lines(lines, HEADING)
            layout.y_in += 0.04
        case Paragraph(text):
            font = _font_of(block)
            layout.lines(wrap(text, layout.width_in, font), font)
            layout.y_in += SPACE_AFTER_IN
        case Table():
            _place_table(layout, block)
            layout.y_in += SPACE_AFTER_IN
        case Plot(caption):
            caption_lines = wrap(caption, layout.width_in, BODY_BOLD)
            layout.make_room(len(caption_lines) * BODY_BOLD.line_in + block.height_in)
            layout.lines(caption_lines, BODY_BOLD)
            layout.pages[-1].append(_Figure(block, MARGIN_X_IN, layout.y_in, layout.width_in))
            layout.y_in += block.height_in + SPACE_AFTER_IN


def layout_pages(doc: Document, paper: Paper = A4) -> list[list[_Item]]:
    """Where everything goes: a list of pages, each a list of placed items."""
    layout = _Layout(paper)
    layout.lines(wrap(doc.title, layout.width_in, TITLE), TITLE)
    if doc.subtitle:
        layout.lines(wrap(doc.subtitle, layout.width_in, SUBTITLE), SUBTITLE)
    for k, block in enumerate(doc.blocks):
        following = doc.blocks[k + 1] if k + 1 < len(doc.blocks) else None
        _place(layout, block, following)
    for number, page in enumerate(layout.pages, start=1):
        foot = paper.height_in - FOOTER_FROM_BOTTOM_IN
        page.append(_Text(MARGIN_X_IN, foot, doc.footer, FOOTER))
        label = f"page {number} of {len(layout.pages)}"
        page.append(_Text(paper.width_in - MARGIN_X_IN, foot, label, FOOTER, align="right"))
    return layout.pages


# -- drawing ------------------------------------------------------------------------------


def page_figures(doc: Document, paper: Paper = A4) -> list[Figure]:
    """The pages as matplotlib figures of the paper's size (draw and save them inside
    :func:`hrvcalm.reports.style.context`)."""
    from matplotlib.lines import Line2D

    figures = []
    w, h = paper.width_in, paper.height_in
    for items in layout_pages(doc, paper):
        fig = style.figure(w, h, dpi=PAGE_DPI)
        for item in items:
            match item:
                case _Text(x_in, baseline_in, text, font, align):
                    fig.text(
                        x_in / w,
                        1.0 - baseline_in / h,
                        text,
                        fontsize=font.size_pt,
                        fontweight="bold" if font.bold else "normal",
                        color=font.color,
                        ha=align,
                        va="baseline",
                        parse_math=False,
                        fontfeatures=_NO_LIGATURES,
                    )
                case _Rule(x0_in, x1_in, y_in):
                    y = 1.0 - y_in / h
                    fig.add_artist(
                        Line2D(
                            [x0_in / w, x1_in / w],
                            [y, y],
                            transform=fig.transFigure,
                            color=style.RULE,
                            linewidth=0.75,
                        )
                    )
                case _Figure(plot, x_in, top_in, width_in):
                    bottom_in = h - top_in - plot.height_in
                    plot.draw(
                        place_panels(
                            fig, plot, left_in=x_in, bottom_in=bottom_in, width_in=width_in
                        )
                    )
        figures.append(fig)
    return figures


def render_pdf(doc: Document, paper: Paper = A4) -> bytes:
    """The whole PDF file."""
    from matplotlib.backends.backend_pdf import PdfPages

    buffer = io.BytesIO()
    metadata = {"Title": doc.title, "Creator": "hrvcalm"}
    with style.context(), PdfPages(buffer, metadata=metadata) as pdf:
        for fig in page_figures(doc, paper):
            pdf.savefig(fig)
    return buffer.getvalue()
