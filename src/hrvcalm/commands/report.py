"""``hrvcalm report SESSION --out FILE.html|.pdf``: a stored session as one printable file;
``hrvcalm report --course --patient NAME --out FILE.html``: a patient's whole course.

Wiring only: the content is :func:`hrvcalm.reports.session.session_document`, rendered by
:mod:`hrvcalm.reports.document_html` (one self-contained HTML file, plots embedded) or
:mod:`hrvcalm.reports.pdf` (A4 or Letter pages, matplotlib's own PDF backend), and written by
:func:`hrvcalm.reports.writer.write_report_file`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from hrvcalm.commands.sessions import add_db_option, session_id
from hrvcalm.errors import UsageError


def register(sub: Any) -> None:
    p = sub.add_parser(
        "report", help="a printable report of a stored session, or of a patient's course"
    )
    p.add_argument(
        "session", type=session_id, nargs="?", help="session number (see 'sessions list')"
    )
    p.add_argument("--out", required=True, metavar="FILE", help="FILE.html or FILE.pdf")
    p.add_argument(
        "--paper",
        choices=("a4", "letter"),
        default="a4",
        help="page size of a PDF report (default: a4)",
    )
    p.add_argument("--patient", metavar="NAME", help="with --course: whose course")
    p.add_argument(
        "--course",
        action="store_true",
        help="the patient's whole course: adherence, outcomes against week 0, every session (HTML)",
    )
    add_db_option(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from hrvcalm.reports.document_html import render_html
    from hrvcalm.reports.pdf import render_pdf, unprintable
    from hrvcalm.reports.pdf_layout import PAPERS
    from hrvcalm.reports.session import session_document
    from hrvcalm.reports.writer import write_report_file
    from hrvcalm.storage import open_store, resolve_store, store_exists

    out = Path(args.out)
    if out.suffix.lower() not in (".html", ".htm", ".pdf"):
        raise UsageError(f"{out}: the report is written as .html or .pdf")
    path = resolve_store(args.db)
    if not store_exists(path):
        raise UsageError(f"{path}: no session database yet (record a session first, or --db)")
    if args.course:
        return _run_course(args, path, out)
    if args.session is None:
        raise UsageError("give a session number, or --course --patient NAME")
    with open_store(path) as store:
        doc = session_document(store, store.get_session(args.session))
    if out.suffix.lower() == ".pdf":
        content: str | bytes = render_pdf(doc, PAPERS[args.paper])
        missing = unprintable(doc)
        if missing:
            print(
                f"note: the PDF's font has no glyph for {''.join(missing[:10])!r}; they print "
                "as boxes (the HTML report shows them)",
                file=sys.stderr,
            )
    else:
        content = render_html(doc)
    try:
        write_report_file(out, content)
    except OSError as exc:
        raise UsageError(f"{out}: cannot write: {exc.strerror or exc}") from None
    print(f"wrote {out}")
    return 0


def _run_course(args: argparse.Namespace, path: str | Path, out: Path) -> int:
    from hrvcalm.reports.course import course_html
    from hrvcalm.reports.writer import write_report_file
    from hrvcalm.storage import open_store

    if args.patient is None:
        raise UsageError("--course needs --patient NAME")
    if out.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"{out}: the course report is written as .html")
    with open_store(path) as store:
        sessions = store.list_sessions(patient=args.patient)
        outcomes = store.outcomes_of(args.patient)
    if not sessions and not outcomes:
        raise UsageError(f"{path}: nothing stored for patient {args.patient!r}")
    try:
        write_report_file(out, course_html(args.patient, sessions, outcomes))
    except OSError as exc:
        raise UsageError(f"{out}: cannot write: {exc.strerror or exc}") from None
    print(f"wrote {out}")
    return 0
