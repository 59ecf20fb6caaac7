"""The shared plots: one tachogram for every report, plots sized to the page's width."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hrvcalm.cli import main
from hrvcalm.reports import plots, style
from hrvcalm.reports.document import PANEL_LEFT_IN, PANEL_RIGHT_IN
from hrvcalm.reports.pdf import page_figures
from hrvcalm.reports.pdf_layout import A4, LETTER, MARGIN_X_IN, Paper
from hrvcalm.reports.session import session_document
from hrvcalm.storage import SqliteStore
from tests.conftest import FIXTURES

NOISY = FIXTURES / "polar_rr_rhenanbartels_hrv" / "noisy_rri.hrm"


def test_one_tachogram_draws_both_reports(
    busy_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[dict[str, Any]] = []
    original = plots.tachogram

    def spy(*args: Any, **kwargs: Any) -> None:
        calls.append(kwargs)
        original(*args, **kwargs)

    monkeypatch.setattr(plots, "tachogram", spy)
    assert main(["analyze", str(NOISY), "--report", str(tmp_path / "a.html")]) == 0
    assert len(calls) == 1
    assert main(["report", "1", "--out", str(tmp_path / "s.html"), "--db", str(busy_db)]) == 0
    assert main(["report", "1", "--out", str(tmp_path / "s.pdf"), "--db", str(busy_db)]) == 0
    assert len(calls) == 3
    assert calls[1]["practice_start_t_s"] == 60.0
    assert calls[1]["link_lost_t_s"] == [300.0, 720.0]


def test_tachogram_breaks_at_gaps_and_marks_what_it_leaves_out() -> None:
    t_s = np.arange(1.0, 21.0)
    rr_ms = np.full(20, 1000.0)
    artifact = np.zeros(20, dtype=bool)
    artifact[[4, 12]] = True
    rr_ms[artifact] = 1700.0
    corrected = np.where(artifact, 1000.0, np.nan)
    gap_before = np.zeros(20, dtype=bool)
    gap_before[8] = True
    with style.context():
        fig = style.figure(6.0, 2.5)
        ax = fig.add_subplot()
        plots.tachogram(
            ax,
            t_s,
            rr_ms,
            artifact,
            corrected_rr_ms=corrected,
            gap_before=gap_before,
            link_lost_t_s=[7.5],
            practice_start_t_s=3.0,
            end_t_s=20.0,
        )
        style.png(fig)
    line = ax.get_lines()[0]
    y = np.asarray(line.get_ydata(), dtype=float)
    assert np.isnan(y).sum() == 3  # two artifacts and one gap break the line
    assert np.nanmax(y) == 1000.0  # the artifacts are not joined into the line
    legend = ax.get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == [
        "RR interval",
        "artifact (measured)",
        "corrected value",
        "gap",
        "link lost",
        "practice starts",
    ]
    assert ax.get_xlim() == (0.0, 20.0 / 60.0)


@pytest.mark.parametrize("paper", [A4, LETTER])
def test_plots_span_the_page_width(busy_db: Path, paper: Paper) -> None:
    with SqliteStore(busy_db) as store:
        doc = session_document(store, store.get_session(1))
    with style.context():
        figures = page_figures(doc, paper)
    axes = [ax for fig in figures for ax in fig.axes]
    assert len(axes) == 1 + 3 + 1  # tachogram, three timelines, pacer
    for ax in axes:
        x0, _, x1, _ = ax.get_position().extents
        assert x0 * paper.width_in == pytest.approx(MARGIN_X_IN + PANEL_LEFT_IN)
        assert x1 * paper.width_in == pytest.approx(paper.width_in - MARGIN_X_IN - PANEL_RIGHT_IN)
