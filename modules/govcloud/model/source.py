"""Reading inventory YAML safely, keeping the line of every field.

PyYAML's libyaml composer builds the node tree (fast enough for 4,000 files); we then walk
it ourselves so that we can refuse what a declarative inventory never needs and what
attackers like: anchors and aliases (the "billion laughs" bomb), custom tags, duplicate
keys, non-string keys, oversized or non-UTF-8 files, and absurd nesting.
"""

from __future__ import annotations

import errno
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..files import read_regular
from .errors import InputError, Problem, field_path
from .types import HIDDEN_IN_FILE_RE

_Loader: type[yaml.BaseLoader] | type[yaml.CBaseLoader]
try:  # libyaml composes ~10x faster; the pure-Python composer behaves the same.
    _Loader = yaml.CBaseLoader
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _Loader = yaml.BaseLoader

MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 32
MAX_NODES = 100_000

_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
# Plain scalars are typed by the YAML 1.2 core schema: "no", "on", "0755" and "1:30" stay
# strings (YAML 1.1's surprises), dates stay strings for the model to parse.
_NULLS = {"", "~", "null", "Null", "NULL"}
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT_RE = re.compile(r"[-+]?[0-9]+")
_FLOAT_RE = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
# No inventory number needs more; Python refuses to convert more than 4,300 digits anyway.
MAX_NUMBER_DIGITS = 100


def _plain_scalar(value: str) -> Any:
    """The YAML 1.2 core-schema value of a plain scalar; ValueError for a number out of range."""
    if value in _NULLS:
        return None
    if value in _BOOLS:
        return _BOOLS[value]
    if _INT_RE.fullmatch(value) or _FLOAT_RE.fullmatch(value):
        digits = sum(c.isdigit() for c in value)
        if digits > MAX_NUMBER_DIGITS:
            raise ValueError(f"a number of {digits} digits is out of range (at most {MAX_NUMBER_DIGITS}); quote it if it is text")
        if _INT_RE.fullmatch(value):
            return int(value)
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"the number {value} is out of range")
        return number
    return value


@dataclass(frozen=True)
class SourceDocument:
    """A parsed YAML document plus where each field came from.

    ``lines`` may be None for a document whose data came from the inventory cache: it is
    rebuilt from ``raw`` the first time a problem has to name a line.
    """

    path: str
    data: Any
    lines: dict[tuple, int] | None
    raw: bytes

    def line_of(self, loc: tuple) -> int:
        if self.lines is None:
            object.__setattr__(self, "lines", load_yaml_bytes(self.path, self.raw).lines)
        """The line of ``loc`` or of its nearest ancestor that exists in the file."""
        assert self.lines is not None
        loc = tuple(loc)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get((), 1)

    def problem(self, loc: tuple, message: str) -> Problem:
        return Problem(self.path, self.line_of(loc), field_path(loc), message)


# What the YAML reader refuses outright (YAML 1.1 "printable": no C0 control but tab and line
# ends, no DEL, no C1 control but NEL, no surrogates, no U+FFFE/U+FFFF).
_NOT_YAML_RE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _fail(path: str, line: int, fld: str, message: str) -> InputError:
    return InputError([Problem(path, line, fld, message)])


def decode(path: str, raw: bytes) -> str:
    """Strict UTF-8 with the line of the first bad byte in the error."""
    if len(raw) > MAX_FILE_BYTES:
        raise _fail(path, 0, "", f"file is {len(raw)} bytes; the limit is {MAX_FILE_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise _fail(path, line, "", f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    refused = _NOT_YAML_RE.search(text)
    if refused is not None:  # the YAML reader's own refusal names an offset only
        raise _fail(path, text.count("\n", 0, refused.start()) + 1, "", _hidden_message(text, refused.start()))
    return text


def load_yaml_bytes(path: str, raw: bytes) -> SourceDocument:
    text = decode(path, raw)
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        raise _fail(path, line, "", f"YAML syntax error: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise _fail(path, 0, "", f"YAML error: {exc}") from None
    if node is None:
        return SourceDocument(path, None, {(): 1}, raw)
    walker = _Walker(path, text)
    data = walker.walk(node, (), 0)
    if walker.problems:
        raise InputError(walker.problems)
    hidden = HIDDEN_IN_FILE_RE.search(text)  # outside every value: a comment
    if hidden is not None:
        raise _fail(path, text.count("\n", 0, hidden.start()) + 1, "", _hidden_message(text, hidden.start()))
    return SourceDocument(path, data, walker.lines, raw)


def _hidden_message(text: str, at: int) -> str:
    column = at - (text.rfind("\n", 0, at) + 1) + 1
    return (f"U+{ord(text[at]):04X} at column {column}: control, line-separator and bidirectional-control characters "
            "are not allowed in an inventory file, not even in quotes (YAML reads a raw U+0085, U+2028 or U+2029 as a "
            "line break); write an escape such as \"\\u2028\" if a value really needs one")


def read_file(path: Path, shown: str) -> bytes:
    """The file's bytes, refusing oversized and non-regular files (a FIFO would block forever)
    before reading them."""
    try:
        return read_regular(path, MAX_FILE_BYTES)
    except OSError as exc:
        message = exc.strerror or str(exc)
        if exc.errno not in (errno.EINVAL, errno.EFBIG):
            message = f"cannot read file: {message}"
        raise _fail(shown, 0, "", message) from None


def load_yaml_file(path: Path, display: str | None = None) -> SourceDocument:
    shown = display or str(path)
    return load_yaml_bytes(shown, read_file(path, shown))


class _Walker:
    def __init__(self, path: str, text: str):
        self.path = path
        self.text = text
        self.lines: dict[tuple, int] = {}
        self.problems: list[Problem] = []
        self.seen: set[int] = set()
        self.count = 0

    def _problem(self, node: yaml.Node, loc: tuple, message: str) -> None:
        self.problems.append(Problem(self.path, node.start_mark.line + 1, field_path(loc), message))

    def _hidden(self, node: yaml.Node, loc: tuple) -> bool:
        """A character in the scalar's source that YAML reads as something else, or that hides text."""
        found = HIDDEN_IN_FILE_RE.search(self.text, node.start_mark.index, node.end_mark.index)
        if found is None:
            return False
        self.problems.append(Problem(self.path, self.text.count("\n", 0, found.start()) + 1, field_path(loc),
                                     _hidden_message(self.text, found.start())))
        return True

    def walk(self, node: yaml.Node, loc: tuple, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            if self.count == MAX_NODES + 1:
                self._problem(node, loc, f"document has more than {MAX_NODES} values")
            return None
        if id(node) in self.seen:
            # An alias shares the anchor's node (and its line): report where it is used instead.
            line = next((self.lines[loc[:i]] for i in range(len(loc), -1, -1) if loc[:i] in self.lines), 0)
            self.problems.append(Problem(self.path, line, field_path(loc), "YAML anchors and aliases are not allowed; write the value out"))
            return None
        self.seen.add(id(node))
        if depth > MAX_DEPTH:
            self._problem(node, loc, f"nesting deeper than {MAX_DEPTH} levels")
            return None
        self.lines.setdefault(loc, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, loc, depth)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ:
                self._problem(node, loc, f"YAML tags are not allowed ({node.tag})")
                return None
            return [self.walk(item, loc + (i,), depth + 1) for i, item in enumerate(node.value)]
        if node.tag != _STR:
            self._problem(node, loc, f"YAML tags are not allowed ({node.tag})")
            return None
        if self._hidden(node, loc):
            return None
        if node.style:  # type: ignore[attr-defined]  # a ScalarNode
            return node.value
        try:
            return _plain_scalar(node.value)
        except ValueError as exc:
            self._problem(node, loc, str(exc))
            return None

    def _mapping(self, node: yaml.MappingNode, loc: tuple, depth: int) -> dict:
        if node.tag != _MAP:
            self._problem(node, loc, f"YAML tags are not allowed ({node.tag})")
            return {}
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _STR:
                self._problem(key_node, loc, "mapping keys must be plain strings")
                continue
            if self._hidden(key_node, loc):
                continue
            if key_node.value == "<<" and not key_node.style:
                self._problem(key_node, loc, "YAML merge keys (<<) are not allowed")
                continue
            key = key_node.value
            if key in out:
                first = self.lines.get(loc + (key,), 0)
                self._problem(key_node, loc + (key,), f"duplicate key {key!r} (first defined on line {first})")
                continue
            self.lines[loc + (key,)] = key_node.start_mark.line + 1
            out[key] = self.walk(value_node, loc + (key,), depth + 1)
        return out
