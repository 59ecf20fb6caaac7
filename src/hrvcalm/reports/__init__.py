"""Reports for people: HTML files and printable PDF pages, drawn with matplotlib only.

- :mod:`~hrvcalm.reports.html`: the ``analyze`` report of a recording (one HTML file);
- :mod:`~hrvcalm.reports.session`: the report of a stored session, as a
  :class:`~hrvcalm.reports.document.Document` (the content model);
- :mod:`~hrvcalm.reports.document_html` and :mod:`~hrvcalm.reports.pdf` (with
  :mod:`~hrvcalm.reports.pdf_layout` and :mod:`~hrvcalm.reports.typeset`): a document as
  HTML and as A4/Letter PDF pages;
- :mod:`~hrvcalm.reports.plots`: every report's plots (one tachogram for all);
- :mod:`~hrvcalm.reports.style`: their one look;
- :mod:`~hrvcalm.reports.writer`: where every report file is written.
"""
