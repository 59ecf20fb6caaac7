"""Where everything of a :class:`~hrvcalm.reports.document.Document` goes on PDF pages.

The document is laid out top to bottom like the HTML file: the title, then each block at
the page's content width. Text is wrapped to the width; a table that does not fit continues
on the next page under its repeated header; a heading is never left alone at the foot of a
page; a plot moves whole (with its caption) to the next page. Every page gets the document's
footer and "page i of n". The result is a list of pages of placed items, in inches from the
page's top left, for :mod:`hrvcalm.reports.pdf` to draw.
"""

from __future__ import annotations

from dataclasses import dataclass

from hrvcalm.reports.document import Block, Document, Heading, Paragraph, Plot, Table
from hrvcalm.reports.typeset import (
    BODY,
    BODY_BOLD,
    FOOTER,
    HEADING,
    SMALL,
    SUBTITLE,
    TITLE,
    TextStyle,
    text_width_in,
    wrap,
)


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
"""Top margin, inches."""
MARGIN_BOTTOM_IN = 0.8
"""Bottom margin (the footer sits in it), inches."""
FOOTER_FROM_BOTTOM_IN = 0.45
"""The footer's baseline above the paper's bottom edge, inches."""
CELL_PAD_X_IN = 0.15
"""Room right of each table cell's text, inches."""
CELL_PAD_Y_IN = 0.035
"""Room above and below each table cell's text, inches."""
SPACE_AFTER_IN = 0.12
"""Room after a paragraph, table or plot, inches."""
SPACE_BEFORE_HEADING_IN = 0.2
"""Room above a heading (not at the top of a page), inches."""


@dataclass(frozen=True, slots=True)
class TextItem:
    """One line of text; ``baseline_in`` from the page's top, ``x_in`` where ``align`` is."""

    x_in: float
    baseline_in: float
    text: str
    font: TextStyle
    align: str = "left"


@dataclass(frozen=True, slots=True)
class RuleItem:
    """A table rule from ``x0_in`` to ``x1_in``, ``y_in`` from the page's top."""

    x0_in: float
    x1_in: float
    y_in: float


@dataclass(frozen=True, slots=True)
class PlotItem:
    """A plot whose top left corner is at (``x_in``, ``top_in``), ``width_in`` wide."""

    plot: Plot
    x_in: float
    top_in: float
    width_in: float


Item = TextItem | RuleItem | PlotItem


class _Layout:
    """Places items on pages from the top down; ``y_in`` is the cursor from the page top."""

    def __init__(self, paper: Paper) -> None:
        self.paper = paper
        self.pages: list[list[Item]] = [[]]
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

    def lines(self, lines: list[str], font: TextStyle, x_in: float = MARGIN_X_IN) -> None:
        """Lines of text, each on this page if it fits, else on the next."""
        for line in lines:
            self.make_room(font.line_in)
            self.pages[-1].append(TextItem(x_in, self.y_in + font.ascent_in, line, font))
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


def _font_of(paragraph: Paragraph) -> TextStyle:
    return SMALL if paragraph.kind == "muted" else BODY


def _cell_fonts(table: Table, *, header: bool) -> list[TextStyle]:
    n = len(table.header) if table.header is not None else len(table.rows[0])
    if header:
        return [BODY_BOLD] * n
    return [BODY_BOLD if k == 0 and table.row_headings else BODY for k in range(n)]


def _column_widths(table: Table, width_in: float) -> list[float]:
    """Each column as wide as its widest cell; if the table is then too wide, its widest
    column gives way (and wraps), and if that is not enough every column shrinks."""
    rows: list[tuple[tuple[str, ...], list[TextStyle]]] = [
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


def _cell_lines(
    row: tuple[str, ...], widths: list[float], fonts: list[TextStyle]
) -> list[list[str]]:
    return [
        wrap(cell, max(w - CELL_PAD_X_IN, 0.2), font)
        for cell, w, font in zip(row, widths, fonts, strict=True)
    ]


def _row_height(row: tuple[str, ...], widths: list[float], fonts: list[TextStyle]) -> float:
    cells = _cell_lines(row, widths, fonts)
    return (
        max(len(lines) * font.line_in for lines, font in zip(cells, fonts, strict=True))
        + 2 * CELL_PAD_Y_IN
    )


def _place_row(
    layout: _Layout, row: tuple[str, ...], widths: list[float], fonts: list[TextStyle]
) -> None:
    cells = _cell_lines(row, widths, fonts)
    top = layout.y_in + CELL_PAD_Y_IN
    x = MARGIN_X_IN
    for lines, w, font in zip(cells, widths, fonts, strict=True):
        for k, line in enumerate(lines):
            if line:
                baseline = top + k * font.line_in + font.ascent_in
                layout.pages[-1].append(TextItem(x, baseline, line, font))
        x += w
    layout.y_in += _row_height(row, widths, fonts)
    layout.pages[-1].append(RuleItem(MARGIN_X_IN, MARGIN_X_IN + sum(widths), layout.y_in))


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
            layout.pages[-1].append(PlotItem(block, MARGIN_X_IN, layout.y_in, layout.width_in))
            layout.y_in += block.height_in + SPACE_AFTER_IN


def layout_pages(doc: Document, paper: Paper = A4) -> list[list[Item]]:
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
        page.append(TextItem(MARGIN_X_IN, foot, doc.footer, FOOTER))
        label = f"page {number} of {len(layout.pages)}"
        page.append(TextItem(paper.width_in - MARGIN_X_IN, foot, label, FOOTER, align="right"))
    return layout.pages
