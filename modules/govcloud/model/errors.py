"""Validation problems: every one names the file, the line and the field.

All loaders collect problems instead of stopping at the first one, so a user fixes a
request in one round trip. The CLI turns an ``InputError`` into a readable list and exit
status 2; nothing else in govcloud prints tracebacks for bad input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the input."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field or '(file)'}: {self.message}"

    def as_dict(self) -> dict:
        return {"file": self.file, "line": self.line, "field": self.field, "message": self.message}


class InputError(Exception):
    """Raised with every problem found; never partially applied."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = sorted(set(problems))
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass
class ProblemCollector:
    """Accumulates problems across files; ``raise_if_any`` ends a validation phase."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, file: str | Path, line: int, field_path: str, message: str) -> None:
        self.problems.append(Problem(str(file), line, field_path, message))

    def extend(self, problems: Iterable[Problem]) -> None:
        self.problems.extend(problems)

    def raise_if_any(self) -> None:
        if self.problems:
            raise InputError(self.problems)

    def __bool__(self) -> bool:
        return bool(self.problems)


def field_path(loc: Iterable[object]) -> str:
    """Render a location tuple as ``quotas.cpu`` / ``zones[2].cidr``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out
