"""One look for every report figure: the palette, the matplotlib settings, figures and PNGs.

Every plot of every report (the ``analyze`` report and the session report, HTML and PDF) is
drawn inside :func:`context` on a figure made by :func:`figure`, so a change of colour or
font size here changes them all. Figures are plain :class:`matplotlib.figure.Figure` objects
(no pyplot state, nothing to close); PNG and PDF come from matplotlib's own Agg and PDF
backends.
"""

from __future__ import annotations

import io
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.typing import RcKeyType

INK = "#2d3a3f"
"""Text, axes and the heart-rate line."""
ACCENT = "#467d76"
"""The RR and RMSSD lines."""
BAD = "#c0705f"
"""Artifacts and a lost link."""
CORRECTED = "#d49a3a"
"""The corrected value an artifact is shown as."""
MUTED = "#8a979b"
"""Gaps, secondary text."""
EXHALE = "#7f8fbb"
"""Coherence and the pacer."""
RULE = "#e3ddd3"
"""Grid lines and table rules."""
SHADES = {"VLF": "#e6e2da", "LF": "#cfe0f0", "HF": "#cfe8d6"}
"""The spectrum's frequency bands."""

FONT_PT = 8.5
"""Tick and label size in every plot, points."""

RC: dict[RcKeyType, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": FONT_PT,
    "text.color": INK,
    "axes.labelcolor": INK,
    "axes.edgecolor": INK,
    "axes.linewidth": 0.7,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "axes.titlesize": FONT_PT + 1,
    "axes.titleweight": "bold",
    "grid.color": RULE,
    "grid.linewidth": 0.8,
    "xtick.color": INK,
    "ytick.color": INK,
    "legend.fontsize": FONT_PT - 1,
    "legend.frameon": False,
    # TrueType text (with a ToUnicode map): a viewer can select and search the PDF's words.
    "pdf.fonttype": 42,
    "svg.fonttype": "none",
}


def context() -> AbstractContextManager[None]:
    """The report settings, for as long as figures are drawn and saved.

    Tick labels are created lazily at draw time, so saving must happen inside it too.
    """
    import matplotlib

    return matplotlib.rc_context(RC)


def figure(
    width_in: float,
    height_in: float,
    *,
    dpi: float = 150.0,
    layout: Literal["constrained"] | None = None,
) -> Figure:
    """A new figure (not registered with pyplot: nothing to close)."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width_in, height_in), dpi=dpi, layout=layout)


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes, at the figure's own size and dpi."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def time_scale(end_t_s: float) -> tuple[float, str]:
    """The time axis for a span: seconds per unit and its label (minutes; hours past 3 h)."""
    if end_t_s > 3 * 3600.0:
        return 3600.0, "time, h"
    return 60.0, "time, min"
