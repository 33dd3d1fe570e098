"""Markdown that shows user text as text: nothing a request, a waiver or a message contains can
add a heading, a link, emphasis, a table cell or raw HTML to a report.

``escape`` is what the Markdown templates apply to every value they print (the environment's
``finalize``: escaping by default, like HTML autoescaping); values already made safe are
``MarkdownText`` and pass unchanged: ``code`` spans, ``cells`` of a table row, and the
template's own output.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

# Line breaks of every kind (a newline in a text field would start a new block: a heading, a
# list, a table row) and the other control characters become one space.
_BREAKS = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")
# Inline Markdown: escapes, code, emphasis, links and images, strikethrough, math.
_INLINE = re.compile(r"([\\`*_\[\]~$])")
# What would start a block when the value opens a line or a list item.
_BLOCK_START = re.compile(r"^(\s*)([#+\-=>]|\d+[.)])")
_LEADING_SPACES = re.compile(r"^ {2,}")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


class MarkdownText(str):
    """Markdown that is safe as it is: printed without escaping."""


def one_line(value: Any) -> str:
    return _BREAKS.sub(" ", "" if value is None else str(value))


def escape(value: Any) -> MarkdownText:
    """``value`` as literal text on one line: Markdown punctuation backslash-escaped, HTML as
    character references (a Markdown renderer shows ``<script>`` as text, runs nothing)."""
    if isinstance(value, MarkdownText):
        return value
    # Four leading spaces at the start of a line open an indented code block (``    #`` is code,
    # not text); a renderer shows a run of spaces as one anyway (and none at a line's start).
    text = _LEADING_SPACES.sub(" ", one_line(value))
    text = _INLINE.sub(r"\\\1", text)
    text = "".join(_HTML.get(c, c) for c in text)
    text = _BLOCK_START.sub(lambda m: m.group(1) + "\\" + m.group(2) if not m.group(2)[0].isdigit()
                            else m.group(1) + m.group(2)[:-1] + "\\" + m.group(2)[-1], text)
    return MarkdownText(text)


def code(value: Any) -> MarkdownText:
    """A code span: shown verbatim (no Markdown, no HTML inside), on one line; a backtick in the
    value is shown as a look-alike, since a code span cannot hold its own delimiter reliably."""
    text = one_line(value).replace("`", "ˋ")
    return MarkdownText(f"`{text}`" if text.strip() else "` `")


def cells(values: Iterable[Any]) -> MarkdownText:
    """One table row: each cell escaped (unless already Markdown), ``|`` escaped in every cell,
    code spans included (GitHub-flavoured tables split on a bare ``|`` even inside code)."""
    row = [str(escape(v)).replace("|", "\\|") for v in values]
    return MarkdownText("| " + " | ".join(row) + " |")


def join(values: Iterable[Any], separator: str = ", ") -> MarkdownText:
    """Values joined, each escaped unless already Markdown."""
    return MarkdownText(separator.join(escape(v) for v in values))


def finalize(value: Any) -> Any:
    """Jinja's ``finalize`` for Markdown templates: every printed value is escaped unless safe."""
    if value is None:
        return ""
    return escape(value)
