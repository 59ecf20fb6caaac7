"""A :class:`~hrvcalm.reports.document.Document` as one self-contained HTML file.

Plots are embedded as base64 PNG (``data:`` URIs) and the style sheet is inline, so the file
makes no request anywhere and can be printed, mailed or archived as it is.
"""

from __future__ import annotations

import base64
import html

from hrvcalm.reports import style
from hrvcalm.reports.document import (
    PLOT_WIDTH_IN,
    Block,
    Document,
    Heading,
    Paragraph,
    Plot,
    Table,
    place_panels,
)

PLOT_DPI = 150.0
"""Resolution of the embedded plots: 6.77 in at 150 dpi is about 1000 px wide."""

_CSS = f"""
body {{ font-family: system-ui, sans-serif; color: {style.INK}; max-width: 52rem; margin: 2rem auto;
  padding: 0 1rem; line-height: 1.45; }}
h1 {{ font-size: 1.4rem; margin-bottom: .2rem; }} h2 {{ font-size: 1.1rem; margin-top: 1.6rem; }}
table {{ border-collapse: collapse; }} th, td {{ text-align: left; padding: .25rem .9rem .25rem 0;
  border-bottom: 1px solid {style.RULE}; vertical-align: top; }}
figure {{ margin: 1rem 0; break-inside: avoid; }} img {{ width: 100%; }}
figcaption {{ font-weight: 600; margin-bottom: .3rem; }} .muted {{ color: #56666c; }}
.notes {{ white-space: pre-wrap; }}
@media print {{ body {{ margin: 0; }} h2 {{ break-after: avoid; }} }}
"""


def render_html(doc: Document) -> str:
    """The whole HTML file."""
    esc = html.escape
    with style.context():
        body = "\n".join(_block(block) for block in doc.blocks)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{esc(doc.title)}</title>
<style>{_CSS}</style></head><body>
<h1>{esc(doc.title)}</h1>
<p class="muted">{esc(doc.subtitle)}</p>
{body}
</body></html>
"""


def _block(block: Block) -> str:
    esc = html.escape
    match block:
        case Heading(text):
            return f"<h2>{esc(text)}</h2>"
        case Paragraph(text, kind):
            return f'<p class="{kind}">{esc(text)}</p>'
        case Table():
            return _table(block)
        case Plot():
            return (
                f"<figure><figcaption>{esc(block.caption)}</figcaption>"
                f'<img alt="{esc(block.caption)}" src="data:image/png;base64,{_plot_png(block)}">'
                "</figure>"
            )


def _table(table: Table) -> str:
    esc = html.escape
    if not table.rows:
        return f'<p class="muted" data-testid="{esc(table.name)}">{esc(table.empty)}</p>'
    head = ""
    if table.header is not None:
        head = "<tr>" + "".join(f"<th>{esc(c)}</th>" for c in table.header) + "</tr>\n"
    rows = []
    for row in table.rows:
        cells = [
            f"<th>{esc(c)}</th>" if k == 0 and table.row_headings else f"<td>{esc(c)}</td>"
            for k, c in enumerate(row)
        ]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table data-testid="{esc(table.name)}">{head}{"".join(rows)}</table>'


def _plot_png(plot: Plot) -> str:
    fig = style.figure(PLOT_WIDTH_IN, plot.height_in, dpi=PLOT_DPI)
    plot.draw(place_panels(fig, plot, left_in=0.0, bottom_in=0.0, width_in=PLOT_WIDTH_IN))
    return base64.b64encode(style.png(fig)).decode("ascii")
