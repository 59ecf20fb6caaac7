"""``hrvcalm report``: a self-contained HTML (and PDF) report of a stored session."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from hrvcalm.cli import main
from hrvcalm.storage import SqliteStore, StoredRating
from tests.reports.pdftext import read_pdf


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "img":
            self.images.append(values.get("src") or "")
        for key in ("href", "src"):
            if values.get(key) and tag != "img":
                self.links.append(values[key] or "")


def test_html_report_is_self_contained(replayed_db: Path, tmp_path: Path) -> None:
    with SqliteStore(replayed_db) as store:
        store.set_rating(1, StoredRating("before", 6, 7, "stiff after the drive"))
        store.set_rating(1, StoredRating("after", 4, 3))
        store.commit()
    out = tmp_path / "report.html"
    assert main(["report", "1", "--out", str(out), "--db", str(replayed_db)]) == 0
    text = out.read_text()
    parsed = _Collect()
    parsed.feed(text)
    assert parsed.links == []  # nothing fetched from anywhere
    assert len(parsed.images) == 3  # tachogram, metrics over time, pacer
    for src in parsed.images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(b"\x89PNG")
    assert "stiff after the drive" in text
    assert re.search(r"<th>Before</th><td>6</td><td>7</td>", text)
    assert re.search(r"<th>After</th><td>4</td><td>3</td>", text)
    assert "<td>910 (" in text
    assert "http://" not in text and "https://" not in text


def test_pdf_report(replayed_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.pdf"
    assert main(["report", "1", "--out", str(out), "--db", str(replayed_db)]) == 0
    data = out.read_bytes()
    assert (
        data.startswith(b"%PDF") and data.count(b"/Type /Page\n") + data.count(b"/Type /Page ") >= 1
    )
    pages = read_pdf(data)
    assert all((p.width_pt, p.height_pt) == pytest.approx((595.44, 841.68)) for p in pages)
    texts = [run.text for page in pages for run in page.runs]
    assert "Ratings (0 = none, 10 = worst imaginable)" in texts
    assert "Tachogram (beat-to-beat intervals)" in texts


def test_report_to_an_unwritable_place_is_one_line(
    replayed_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "1", "--out", "/nonexistent/dir/r.html", "--db", str(replayed_db)]) == 2
    err = capsys.readouterr().err
    assert "cannot write" in err and err.count("\n") == 1
