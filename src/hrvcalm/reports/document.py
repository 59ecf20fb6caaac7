"""A report's content, once, for every renderer: a title and a flat list of blocks.

:mod:`hrvcalm.reports.document_html` renders a :class:`Document` as one self-contained HTML
file and :mod:`hrvcalm.reports.pdf` as A4 (or Letter) PDF pages, so the two carry the same
headings, tables, plots and captions by construction. A :class:`Plot` is a drawing function
and a height: both renderers give it axes of the same size (the PDF page's content width,
:data:`PLOT_WIDTH_IN`) laid out by :func:`place_panels`, so the plot looks the same in both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

PLOT_WIDTH_IN = 6.77
"""Width of a plot, inches: A4's 8.27 in less two 0.75 in margins."""

PANEL_LEFT_IN = 0.72
"""Room left of a plot's axes for tick labels and the y label, inches."""
PANEL_RIGHT_IN = 0.12
"""Room right of the axes, inches."""
PANEL_TOP_IN = 0.26
"""Room above the top axes (for a legend laid above it), inches."""
PANEL_BOTTOM_IN = 0.42
"""Room below the bottom axes for tick labels and the time label, inches."""
PANEL_GAP_IN = 0.12
"""Room between stacked panels, inches."""


@dataclass(frozen=True, slots=True)
class Heading:
    """A section heading."""

    text: str


@dataclass(frozen=True, slots=True)
class Paragraph:
    """Running text; wrapped by the renderer.

    Attributes:
        text: The text (a newline starts a new line).
        kind: ``body``, ``muted`` (a small grey remark) or ``notes`` (free text entered by
            the user).
    """

    text: str
    kind: str = "body"


@dataclass(frozen=True, slots=True)
class Table:
    """A table of text cells.

    Attributes:
        name: What the table holds (HTML ``data-testid``).
        header: The column headings, or ``None`` for a table of label/value rows.
        rows: The cells, row by row, as strings (every row as long as the header).
        row_headings: The first cell of each row labels the row.
        empty: Shown instead of the table when there are no rows.
    """

    name: str
    header: tuple[str, ...] | None
    rows: tuple[tuple[str, ...], ...]
    row_headings: bool = True
    empty: str = "none"


@dataclass(frozen=True, slots=True)
class Plot:
    """A figure with a caption.

    Attributes:
        caption: Shown above the plot (and the HTML image's ``alt``).
        height_in: Height of the whole plot, inches (its width is the page's content width).
        draw: Draws the plot onto ``panels`` axes, top to bottom, sharing the x axis.
        panels: Number of stacked axes.
    """

    caption: str
    height_in: float
    draw: Callable[[Sequence[Axes]], None]
    panels: int = 1


Block = Heading | Paragraph | Table | Plot


@dataclass(frozen=True, slots=True)
class Document:
    """A whole report.

    Attributes:
        title: The report's title (HTML ``h1``, the top of the PDF's first page).
        subtitle: One line under the title.
        blocks: The content, in reading order.
        footer: A line at the foot of every PDF page (with the page number).
    """

    title: str
    subtitle: str
    blocks: tuple[Block, ...]
    footer: str = ""


def place_panels(
    fig: Figure, plot: Plot, *, left_in: float, bottom_in: float, width_in: float
) -> list[Axes]:
    """Add a plot's axes to ``fig`` in the box at (``left_in``, ``bottom_in``), inches.

    Both renderers lay plots out with this, the HTML one on a figure the size of the plot
    and the PDF one on a whole page, so margins and panel heights are the same in both.

    Returns:
        The axes, top to bottom; they share the x axis and only the bottom one shows its
        tick labels.
    """
    fig_w_in, fig_h_in = fig.get_size_inches()
    inner_w = width_in - PANEL_LEFT_IN - PANEL_RIGHT_IN
    inner_h = plot.height_in - PANEL_TOP_IN - PANEL_BOTTOM_IN
    panel_h = (inner_h - PANEL_GAP_IN * (plot.panels - 1)) / plot.panels
    axes: list[Axes] = []
    for k in range(plot.panels):
        top_in = bottom_in + plot.height_in - PANEL_TOP_IN - k * (panel_h + PANEL_GAP_IN)
        rect = (
            (left_in + PANEL_LEFT_IN) / fig_w_in,
            (top_in - panel_h) / fig_h_in,
            inner_w / fig_w_in,
            panel_h / fig_h_in,
        )
        ax = fig.add_axes(rect)
        if axes:
            ax.sharex(axes[0])
        axes.append(ax)
    for ax in axes[:-1]:
        ax.tick_params(labelbottom=False)
    return axes
