"""``hrvcalm report``: the PDF laid out like the HTML file, from one content model."""

from __future__ import annotations

import itertools
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from hrvcalm.cli import main
from hrvcalm.storage import NewSession, SqliteStore, StoredRating
from tests.reports.conftest import LONG_NOTE, N_BATTERY_EVENTS
from tests.reports.pdftext import Page, read_pdf, visible

A4_PT = (8.27 * 72, 11.69 * 72)
LETTER_PT = (8.5 * 72, 11.0 * 72)
HEADINGS = (
    "Practice session 1",
    "Summary",
    "Ratings (0 = none, 10 = worst imaginable)",
    "Recording",
    "Tachogram (beat-to-beat intervals)",
    "Metrics over time (60 s window)",
    "Pacer rate",
    "Device events",
)
N_EVENTS = 1 + 2 * 2 + N_BATTERY_EVENTS  # connected, two lost/connected pairs, battery


class _Tables(HTMLParser):
    """The rows of every ``<table data-testid=...>``: each row a list of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._name: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._name = dict(attrs).get("data-testid") or ""
            self.tables[self._name] = []
        elif tag == "tr" and self._name is not None:
            self.tables[self._name].append([])
        elif tag in ("th", "td") and self._name is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "td") and self._name is not None and self._cell is not None:
            self.tables[self._name][-1].append("".join(self._cell))
            self._cell = None
        elif tag == "table":
            self._name = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _report(db: Path, out: Path, *extra: str) -> None:
    assert main(["report", "1", "--out", str(out), "--db", str(db), *extra]) == 0


def _pdf(db: Path, tmp_path: Path, *extra: str) -> list[Page]:
    out = tmp_path / "report.pdf"
    _report(db, out, *extra)
    return read_pdf(out.read_bytes())


@pytest.fixture(scope="module")
def pages(busy_db: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Page]:
    """The busy session's PDF report (A4, the default), read back."""
    return _pdf(busy_db, tmp_path_factory.mktemp("pdf"))


@pytest.fixture(scope="module")
def html_tables(
    busy_db: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, list[list[str]]]:
    """The busy session's HTML report's tables."""
    out = tmp_path_factory.mktemp("html") / "report.html"
    _report(busy_db, out)
    parsed = _Tables()
    parsed.feed(out.read_text(encoding="utf-8"))
    return parsed.tables


def _texts(pages: list[Page]) -> list[str]:
    return [run.text for page in pages for run in page.runs]


def _follows(texts: list[str], row: list[str]) -> bool:
    """``row`` appears as consecutive runs in ``texts``."""
    want = [visible(cell) for cell in row]
    return any(texts[i : i + len(want)] == want for i in range(len(texts)))


def test_pdf_pages_are_a4_with_headings_and_ratings(pages: list[Page]) -> None:
    assert len(pages) >= 2
    for page in pages:
        assert (page.width_pt, page.height_pt) == pytest.approx(A4_PT, abs=0.01)
    texts = _texts(pages)
    for heading in HEADINGS:
        assert heading in texts, heading
    assert _follows(texts, ["Pain", "Stress", "Note"])
    assert _follows(texts, ["Before", "7", "8"])
    assert _follows(texts, ["After", "5", "2", "calmer"])
    # The long note is wrapped into several runs between "8" and "After", nothing lost; "$x$"
    # is text, not matplotlib math.
    start = texts.index("Before") + 3
    note_lines = texts[start : texts.index("After", start)]
    assert len(note_lines) >= 3
    assert "".join(note_lines).replace(" ", "") == LONG_NOTE.replace(" ", "")
    assert any("$x$" in line for line in note_lines)
    for number, page in enumerate(pages, start=1):
        assert f"page {number} of {len(pages)}" in page.text


def test_letter_paper(busy_db: Path, tmp_path: Path) -> None:
    pages = _pdf(busy_db, tmp_path, "--paper", "letter")
    assert pages
    for page in pages:
        assert (page.width_pt, page.height_pt) == pytest.approx(LETTER_PT, abs=0.01)


@pytest.mark.parametrize("table", ["summary", "ratings", "events"])
def test_html_and_pdf_carry_the_same_rows(
    pages: list[Page], html_tables: dict[str, list[list[str]]], table: str
) -> None:
    html_rows = html_tables[table]
    texts = _texts(pages)
    assert len(html_rows) >= 3
    for row in html_rows:
        if table == "ratings" and row[0] == "Before":
            row = row[:3]  # the note is wrapped in the PDF (checked above)
        cells = [c for c in row if c] if table != "summary" else row
        assert _follows(texts, cells), row
    if table == "summary":
        labels = [row[0] for row in html_rows]
        assert labels[:3] == ["Date", "Practice", "Time practised"]
        assert "Mean coherence" in labels


def _event_times(page: Page) -> list[str]:
    """The time cells of the device events table on ``page``."""
    texts = [r.text for r in page.runs]
    return [
        t
        for t, state in itertools.pairwise(texts)
        if re.fullmatch(r"\d+\.\d min", t) and state in ("connected", "lost")
    ]


def test_long_table_continues_on_a_new_page_under_its_header(busy_db: Path, tmp_path: Path) -> None:
    pages = _pdf(busy_db, tmp_path)
    with_rows = [p for p in pages if _event_times(p)]
    assert len(with_rows) >= 2
    for page in with_rows:
        texts = [r.text for r in page.runs]
        assert _follows(texts, ["Time", "State", "Battery", "Skin contact"])
    times = [t for p in with_rows for t in _event_times(p)]
    assert len(times) == N_EVENTS
    assert times[-1] == "17.3 min"  # the last battery report, at 1036 s


def test_nothing_runs_into_the_margins(pages: list[Page]) -> None:
    for page in pages:
        body = page.runs[:-2]  # the footer is the last two runs of a page
        for run in body:
            assert 0.7 * 72 <= run.x_pt <= page.width_pt - 0.75 * 72, run
            assert 0.8 * 72 - 4 <= run.y_pt <= page.height_pt - 0.7 * 72, run
        assert page.runs[-2].text == "hrvcalm · practice session 1"
        assert page.runs[-1].text.startswith("page ")


def test_html_report_keeps_its_tables(html_tables: dict[str, list[list[str]]]) -> None:
    tables = html_tables
    assert set(tables) == {"summary", "ratings", "events"}
    assert tables["ratings"][0] == ["", "Pain", "Stress", "Note"]
    assert tables["ratings"][1] == ["Before", "7", "8", LONG_NOTE]
    assert len(tables["events"]) == 1 + N_EVENTS


def _one_session(db: Path, note: str | None) -> None:
    """Session 1: started and stopped at once, nothing recorded but a rating."""
    with SqliteStore(db) as store:
        sid = store.create_session(NewSession(started_unix=1_767_000_000.0, source="sim"))
        store.set_rating(sid, StoredRating("before", 3, None, note))
        store.end_session(sid, reason="stopped", end_t_s=None, ended_unix=1_767_000_001.0)


def test_an_empty_session_still_makes_both_reports(tmp_path: Path) -> None:
    db = tmp_path / "empty.db"
    _one_session(db, None)
    pages = _pdf(db, tmp_path)
    texts = _texts(pages)
    assert "No device events were recorded." in texts
    assert _follows(texts, ["Before", "3", visible("—")])
    assert "No beats were recorded." in texts
    assert "Tachogram (beat-to-beat intervals)" not in texts
    assert "Pacer rate" not in texts and "Metrics over time (60 s window)" not in texts
    out = tmp_path / "report.html"
    _report(db, out)
    assert "No device events were recorded." in out.read_text(encoding="utf-8")


def test_characters_without_a_glyph_are_named_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "cjk.db"
    _one_session(db, "头痛 since Monday")
    _pdf(db, tmp_path)  # no warning per glyph (warnings are errors here)
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "头痛" in err and "HTML" in err
