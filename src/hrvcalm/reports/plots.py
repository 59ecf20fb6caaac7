"""The report's figures, drawn with matplotlib (Agg) and returned as PNG bytes.

- Tachogram: RR against time; artifacts (left out of the metrics) marked in red at their
  measured value, with the corrected value they are shown as in the live view.
- Power spectrum: the whole recording's PSD (ms^2/Hz) with the VLF/LF/HF bands shaded.
- Poincare plot: RR[n+1] against RR[n] for the valid successive pairs, with SD1/SD2.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import numpy.typing as npt
from matplotlib.figure import Figure

from hrvcalm.core.spectrum import HF_HZ, LF_HZ, VLF_HZ, Spectrum

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def tachogram(
    t_s: FloatArray, rr_ms: FloatArray, normal: BoolArray, corrected_rr_ms: FloatArray
) -> bytes:
    """RR (ms) against time, artifacts marked."""
    fig, ax = plt.subplots(figsize=(10, 3.2))
    hours = t_s[-1] > 3 * 3600
    x = t_s / 3600.0 if hours else t_s / 60.0
    ax.plot(x, np.where(normal, rr_ms, np.nan), lw=0.6, color="#1f6f8b", rasterized=True)
    bad = ~normal
    if np.any(bad):
        ax.scatter(x[bad], rr_ms[bad], s=12, color="#c0392b", label="artifact (measured)", zorder=3)
        shown = bad & np.isfinite(corrected_rr_ms)
        ax.scatter(
            x[shown],
            corrected_rr_ms[shown],
            s=12,
            marker="x",
            color="#e67e22",
            label="corrected value",
            zorder=3,
        )
        ax.legend(loc="upper right", fontsize=8)
    ax.set_xlabel("time (h)" if hours else "time (min)")
    ax.set_ylabel("RR (ms)")
    ax.set_title("Tachogram")
    ax.grid(alpha=0.3)
    return _png(fig)


def power_spectrum(spec: Spectrum, method: str) -> bytes:
    """The PSD up to 0.5 Hz with the Task Force bands shaded."""
    fig, ax = plt.subplots(figsize=(6, 3.2))
    mask = spec.freqs_hz <= 0.5
    ax.plot(spec.freqs_hz[mask], spec.psd_ms2_hz[mask], color="#34495e", lw=1)
    for (lo, hi), color, name in (
        (VLF_HZ, "#d5dbdb", "VLF"),
        (LF_HZ, "#aed6f1", "LF"),
        (HF_HZ, "#abebc6", "HF"),
    ):
        ax.axvspan(lo, hi, color=color, alpha=0.5, label=name)
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("PSD (ms²/Hz)")
    ax.set_title(f"Power spectrum ({method})")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _png(fig)


def poincare(
    rr_ms: FloatArray, pair_ok: BoolArray, sd1_ms: float | None, sd2_ms: float | None
) -> bytes:
    """RR[n+1] against RR[n] for valid pairs."""
    fig, ax = plt.subplots(figsize=(4.2, 4.2))
    x = rr_ms[:-1][pair_ok]
    y = rr_ms[1:][pair_ok]
    ax.scatter(x, y, s=2, alpha=0.3, color="#1f6f8b", rasterized=True)
    if x.size:
        lo = float(min(x.min(), y.min()))
        hi = float(max(x.max(), y.max()))
        ax.plot([lo, hi], [lo, hi], color="grey", lw=0.8)
    title = "Poincaré plot"
    if sd1_ms is not None and sd2_ms is not None:
        title += f"  SD1 {sd1_ms:.1f} ms, SD2 {sd2_ms:.1f} ms"
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("RR[n] (ms)")
    ax.set_ylabel("RR[n+1] (ms)")
    ax.set_aspect("equal", adjustable="datalim")
    ax.grid(alpha=0.3)
    return _png(fig)
