"""Wording shared by every output: counts with the right plural (``1 stack``, ``2 stacks``)."""

from __future__ import annotations


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 stack``, ``2 stacks``, ``0 stacks``: never ``stack(s)``."""
    return f"{count} {word if count == 1 else (many or word + 's')}"
