"""The reports' plots, each drawn onto axes it is given (sized and saved by the caller).

- :func:`tachogram`: RR against time, for the ``analyze`` report and the session report
  alike. Clean beats are a line; artifacts (left out of the metrics) are marked at their
  measured value, with the corrected value they are shown as in the live view; the line is
  broken at artifacts and at gaps (missing beats), and a lost link and the start of the
  practice are marked.
- :func:`timelines`: metrics over time, one panel each (RMSSD, heart rate, coherence).
- :func:`pacer_rate`: the pacer's breathing rate over the session (a step line).
- :func:`power_spectrum`: a PSD (ms^2/Hz) with the VLF/LF/HF bands of the Task Force (1996).
- :func:`poincare`: RR[n+1] against RR[n] for the valid successive pairs, with SD1/SD2.

The look (colours, fonts) comes from :mod:`hrvcalm.reports.style`; draw inside
:func:`hrvcalm.reports.style.context`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from hrvcalm.reports.style import ACCENT, BAD, CORRECTED, EXHALE, INK, MUTED, SHADES, time_scale

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from hrvcalm.core.spectrum import Spectrum

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

RASTERIZE_ABOVE = 5000
"""Lines and scatters with more points than this are rasterized (a 24 h Holter's PDF stays
small); fewer stay vectors, sharp at any zoom."""


def tachogram(
    ax: Axes,
    t_s: FloatArray,
    rr_ms: FloatArray,
    artifact: BoolArray,
    *,
    corrected_rr_ms: FloatArray | None = None,
    gap_before: BoolArray | None = None,
    link_lost_t_s: Sequence[float] = (),
    practice_start_t_s: float | None = None,
    end_t_s: float | None = None,
) -> None:
    """RR against time: the one tachogram of every report.

    Args:
        ax: Where to draw.
        t_s: Time at which each interval ended, s.
        rr_ms: The intervals as measured, ms.
        artifact: Beats judged artifacts (drawn as points, not joined by the line).
        corrected_rr_ms: The corrected value of each beat, ms (``NaN`` where there is none);
            drawn for artifacts only.
        gap_before: Beats are missing right before this one (the line breaks there and a
            dashed line marks it).
        link_lost_t_s: Times the strap's link dropped, s (dotted lines).
        practice_start_t_s: When the practice timer started, s (a dash-dot line; not drawn at
            0, where the axis starts anyway).
        end_t_s: The right end of the time axis, s (default: the last beat).
    """
    end = float(end_t_s if end_t_s is not None else (t_s[-1] if t_s.size else 1.0))
    unit_s, label = time_scale(end)
    x = t_s / unit_s
    y = np.where(artifact, np.nan, rr_ms)
    gaps = np.flatnonzero(gap_before) if gap_before is not None else np.array([], dtype=np.intp)
    gaps = gaps[gaps > 0]
    line_x = np.insert(x, gaps, np.nan)
    line_y = np.insert(y, gaps, np.nan)
    many = t_s.size > RASTERIZE_ABOVE
    ax.plot(line_x, line_y, color=ACCENT, linewidth=0.8, label="RR interval", rasterized=many)
    if np.any(artifact):
        ax.scatter(
            x[artifact],
            rr_ms[artifact],
            s=10,
            color=BAD,
            zorder=3,
            label="artifact (measured)",
            rasterized=many,
        )
        if corrected_rr_ms is not None:
            shown = artifact & np.isfinite(corrected_rr_ms)
            if np.any(shown):
                ax.scatter(
                    x[shown],
                    corrected_rr_ms[shown],
                    s=12,
                    marker="x",
                    linewidths=0.9,
                    color=CORRECTED,
                    zorder=3,
                    label="corrected value",
                    rasterized=many,
                )
    for k, i in enumerate(gaps):
        ax.axvline(
            x[i], color=MUTED, linestyle="--", linewidth=0.9, label="gap" if k == 0 else None
        )
    for k, t in enumerate(link_lost_t_s):
        ax.axvline(
            t / unit_s,
            color=BAD,
            linestyle=":",
            linewidth=1.1,
            label="link lost" if k == 0 else None,
        )
    if practice_start_t_s:
        ax.axvline(
            practice_start_t_s / unit_s,
            color=INK,
            linestyle="-.",
            linewidth=0.9,
            label="practice starts",
        )
    ax.set_xlim(0.0, end / unit_s)
    ax.set_xlabel(label)
    ax.set_ylabel("RR interval, ms")
    handles, labels = ax.get_legend_handles_labels()
    if len(handles) > 1:
        ax.legend(handles, labels, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=len(handles))


def timelines(
    axes: Sequence[Axes],
    t_s: FloatArray,
    series: Sequence[tuple[str, FloatArray, str]],
    *,
    end_t_s: float,
) -> None:
    """Metrics over time, one panel per series, sharing the time axis.

    Args:
        axes: One axes per series, top to bottom (the last one carries the time label).
        t_s: Time of each sample, s.
        series: Label (with unit), values (``NaN`` where unknown) and colour of each panel.
        end_t_s: The right end of the time axis, s.
    """
    unit_s, label = time_scale(end_t_s)
    for ax, (name, values, color) in zip(axes, series, strict=True):
        ax.plot(t_s / unit_s, values, color=color, linewidth=1.3)
        ax.set_ylabel(name)
        ax.set_xlim(0.0, end_t_s / unit_s)
    axes[-1].set_xlabel(label)


def pacer_rate(ax: Axes, t_s: FloatArray, rate_bpm: FloatArray, *, end_t_s: float) -> None:
    """The pacer's rate from each change on, to the end of the session.

    Args:
        ax: Where to draw.
        t_s: Time of each change, s.
        rate_bpm: Breaths per minute from that time on.
        end_t_s: The end of the session, s.
    """
    unit_s, label = time_scale(end_t_s)
    times = np.append(t_s, end_t_s) / unit_s
    rates = np.append(rate_bpm, rate_bpm[-1])
    ax.step(times, rates, where="post", color=EXHALE, linewidth=1.6)
    ax.set_ylim(float(rates.min()) - 1.0, float(rates.max()) + 1.0)
    ax.set_xlim(0.0, end_t_s / unit_s)
    ax.set_xlabel(label)
    ax.set_ylabel("breaths/min")


def power_spectrum(ax: Axes, spec: Spectrum, method: str) -> None:
    """The PSD up to 0.5 Hz with the Task Force bands shaded."""
    from hrvcalm.core.spectrum import HF_HZ, LF_HZ, VLF_HZ

    mask = spec.freqs_hz <= 0.5
    ax.plot(spec.freqs_hz[mask], spec.psd_ms2_hz[mask], color=INK, linewidth=1.0)
    for (lo, hi), name in ((VLF_HZ, "VLF"), (LF_HZ, "LF"), (HF_HZ, "HF")):
        ax.axvspan(lo, hi, color=SHADES[name], label=name, zorder=0)
    ax.set_xlabel("frequency, Hz")
    ax.set_ylabel("PSD, ms²/Hz")
    ax.set_title(f"Power spectrum ({method})", loc="left")
    ax.legend()


def poincare(
    ax: Axes, rr_ms: FloatArray, pair_ok: BoolArray, sd1_ms: float | None, sd2_ms: float | None
) -> None:
    """RR[n+1] against RR[n] for valid pairs, with the identity line."""
    x = rr_ms[:-1][pair_ok]
    y = rr_ms[1:][pair_ok]
    ax.scatter(x, y, s=2, alpha=0.3, color=ACCENT, rasterized=x.size > RASTERIZE_ABOVE)
    if x.size:
        lo = float(min(x.min(), y.min()))
        hi = float(max(x.max(), y.max()))
        ax.plot([lo, hi], [lo, hi], color=MUTED, linewidth=0.8)
    title = "Poincaré plot"
    if sd1_ms is not None and sd2_ms is not None:
        title += f"  SD1 {sd1_ms:.1f} ms, SD2 {sd2_ms:.1f} ms"
    ax.set_title(title, loc="left")
    ax.set_xlabel("RR[n], ms")
    ax.set_ylabel("RR[n+1], ms")
    ax.set_aspect("equal", adjustable="datalim")
    ax.grid(axis="both")
