"""The diff report for people: Markdown for a merge-request comment, a self-contained HTML page.

Both are templates (``govcloud/pages/templates/diff.*.j2``) over one view model (``view``).
"""

from __future__ import annotations

from .. import pages
from .report import DiffReport
from .view import view


def to_markdown(report: DiffReport) -> str:
    return pages.markdown_text("diff.md.j2", **view(report)).rstrip() + "\n"


def to_html(report: DiffReport) -> str:
    return pages.html("diff.html.j2", **view(report))
