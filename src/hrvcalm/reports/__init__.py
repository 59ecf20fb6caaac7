"""Reports of an analysis for people: a self-contained HTML file with plots."""
