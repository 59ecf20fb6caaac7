"""A :class:`~hrvcalm.reports.document.Document` as PDF pages, with matplotlib only.

Each page is one matplotlib figure the size of the paper (A4: 8.27 x 11.69 in; or Letter)
holding the items :func:`~hrvcalm.reports.pdf_layout.layout_pages` placed, plots drawn at
the page's content width, saved with matplotlib's own PDF backend. Text is TrueType with a
ToUnicode map, so a viewer can select and search it.
"""

from __future__ import annotations

import io
import warnings
from typing import TYPE_CHECKING

from hrvcalm.reports import style
from hrvcalm.reports.document import Document, Heading, Paragraph, Plot, Table, place_panels
from hrvcalm.reports.pdf_layout import A4, Paper, PlotItem, RuleItem, TextItem, layout_pages
from hrvcalm.reports.typeset import NO_LIGATURES, missing_glyphs

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PAGE_DPI = 200.0
"""Resolution of the few rasterized parts (lines of more than 5000 beats)."""


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
                case TextItem(x_in, baseline_in, text, font, align):
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
                        fontfeatures=NO_LIGATURES,
                    )
                case RuleItem(x0_in, x1_in, y_in):
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
                case PlotItem(plot, x_in, top_in, width_in):
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
    with style.context(), warnings.catch_warnings():
        # One "Glyph ... missing" warning per character and draw would flood the terminal;
        # the caller learns of them once, from :func:`unprintable`.
        warnings.filterwarnings("ignore", r"Glyph \d+ .* missing from font", UserWarning)
        with PdfPages(buffer, metadata=metadata) as pdf:
            for fig in page_figures(doc, paper):
                pdf.savefig(fig)
    return buffer.getvalue()


def unprintable(doc: Document) -> list[str]:
    """The characters of ``doc`` the PDF's font has no glyph for (they print as boxes; the
    HTML report, drawn by the browser with the system's fonts, shows them)."""
    texts = [doc.title, doc.subtitle, doc.footer]
    for block in doc.blocks:
        match block:
            case Heading(text) | Paragraph(text):
                texts.append(text)
            case Table():
                texts += [block.empty, *(block.header or ())]
                texts += [cell for row in block.rows for cell in row]
            case Plot(caption):
                texts.append(caption)
    return missing_glyphs(texts)
