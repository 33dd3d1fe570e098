"""Wording shared by every output: counts with the right plural (``1 stack``, ``2 stacks``), and
text that Rich prints as text."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from rich.console import Console
from rich.segment import Segment
from rich.text import Text


def json_document(value: Any) -> str:
    """A report as JSON for people and diffs: keys sorted, two-space indent, UTF-8 text as it is,
    a final newline; byte for byte what ``json.dumps(value, ensure_ascii=False, indent=2,
    sort_keys=True) + "\\n"`` writes (but for a float's negative exponent, written without its
    leading zero: 1.5e-7, not 1.5e-07; the same number), about eight times faster on a province's
    report (orjson: the standard library's encoder falls back to pure Python whenever it indents)."""
    return json_bytes(value).decode("utf-8")


def json_bytes(value: Any) -> bytes:
    """``json_document`` as the UTF-8 bytes a file gets: a province's report is over 100 MB, and
    decoding it to text only to encode it again took most of a second."""
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 stack``, ``2 stacks``, ``0 stacks``: never ``stack(s)``."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


# --- Rich: text printed is text ---------------------------------------------------------------
# Keys, slugs, paths, key ids, ledger summaries and messages quoting them come from files and
# users: '[/x]' in one of them must print as written (Rich would raise MarkupError) and '[a-z]'
# must not vanish as a style tag. govcloud's consoles therefore take no markup and no emoji
# codes from plain strings; the styling govcloud adds is explicit (``styled``) and escapes the
# values it is given. A table cell or a line that is a plain string can only ever print as text.
# What reaches the terminal as text is shown, never obeyed: C0 controls (ESC sequences, bell,
# carriage return) become their Unicode control pictures, C1 controls and bidirectional
# overrides the replacement character. One character for one, so Rich's spans and column
# widths stay right. Newlines and tabs are layout and stay.
_SHOWN = {code: 0x2400 + code for code in range(0x20) if code not in (0x09, 0x0A)}
_SHOWN[0x7F] = 0x2421
_SHOWN.update({code: 0xFFFD for code in [*range(0x80, 0xA0), 0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]})


def printable(value: str) -> str:
    """``value`` with every control character replaced by a visible one (see ``_SHOWN``)."""
    return value.translate(_SHOWN)


class PlainConsole(Console):
    """A Rich console that prints strings as they are: no markup, no :emoji: codes, no
    highlighting, and no terminal control sequence from any text it renders (the console's
    own cursor and style codes are not text and are kept)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(markup=False, emoji=False, highlight=False, **options)

    def render(self, renderable: Any, options: Any = None) -> Iterable[Segment]:
        for segment in super().render(renderable, options):
            yield segment if segment.control else Segment(printable(segment.text), segment.style, segment.control)


def plain_console(**options: Any) -> Console:
    return PlainConsole(**options)


def styled(template: str, *values: object) -> Text:
    """govcloud's own Rich markup ``template`` with ``{}`` fields filled by ``values`` as text:
    ``styled("[green]✓[/] wrote {}", path)``. Literal braces in the template are written ``{{ }}``.

    The template's markup is parsed with a private-use character standing for each value, which
    is then replaced by the value's text under the styles in force there: a value is never parsed
    (escaping is not enough: Rich's escape() is only exact before a tag or at the end)."""
    marks = [chr(_FIRST_MARK + i) for i in range(len(values))]
    parsed = Text.from_markup(template.format(*marks), emoji=False)
    offsets = sorted({i for i, ch in enumerate(parsed.plain) if ch in marks} | {i + 1 for i, ch in enumerate(parsed.plain) if ch in marks})
    result = Text(style=parsed.style, justify=parsed.justify, no_wrap=parsed.no_wrap, end=parsed.end)
    for piece in parsed.divide(offsets):
        if len(piece.plain) == 1 and piece.plain in marks:
            value = str(values[marks.index(piece.plain)])
            replaced = Text(value)
            for span in piece.spans:
                replaced.stylize(span.style, 0, len(value))
            result.append_text(replaced)
        else:
            result.append_text(piece)
    return result


_FIRST_MARK = 0xF0000  # Supplementary Private Use Area-A: never in a template
