"""The one canonical JSON encoding, the one UTC time format, and the one strict JSON reader.

Everything govcloud signs or digests (ledger entries and their records, review certificates and
their statements, desired states, the policy configuration and enforcement) is encoded with
RFC 8785, the JSON Canonicalization Scheme (the ``rfc8785`` package): keys sorted by UTF-16
code units, no whitespace, UTF-8, ECMAScript number and string forms. Any other
implementation of RFC 8785 reproduces the same bytes, so a digest or a signature can be
checked without govcloud.

Times that are signed or digested are UTC with second precision: ``2026-11-25T10:00:00Z``
(``utc``/``parse_utc``).

Documents that come from outside (certificates, proofs, saved checkpoints, state and preview
files) are read with ``load_json``: nesting deeper than ``MAX_DEPTH``, numbers longer than
``MAX_NUMBER_DIGITS`` digits, NaN/Infinity and duplicate object keys are refused with one clear
``JsonProblem`` (never a RecursionError or a ValueError from int conversion).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from typing import Any

import orjson
import rfc8785

MAX_DEPTH = 128
MAX_NUMBER_DIGITS = 40
_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


class JsonProblem(ValueError):
    """A document that is not acceptable JSON; the message names where and why."""


_ASTRAL_UTF8 = re.compile(b"[\xf0-\xf4]")  # the lead byte of a character beyond U+FFFF
_SAFE_INT = 2**53


def encode(value: Any) -> bytes:
    """RFC 8785 bytes of ``value``.

    The ``rfc8785`` package is pure Python; for the values govcloud signs (string keys, strings,
    integers below 2**53, no floats) the C-accelerated ``json.dumps`` with sorted keys and no
    spaces writes exactly the same bytes (same escapes, same integer form, and keys without
    characters beyond U+FFFF sort the same by code point as by UTF-16 unit), so it is used when
    the value holds none of the cases where the two differ (a float, an integer beyond 2**53, a
    key that is not a string, a character beyond U+FFFF); otherwise the package encodes. orjson
    with sorted keys writes the same bytes as that ``json.dumps`` (keys of the Basic Multilingual
    Plane sort the same by UTF-8 bytes) five times faster; a province's policy configuration is
    12 MB. tests/unit/test_canonical.py compares all three on generated values."""
    if _plain(value):
        try:
            data = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        except (TypeError, orjson.JSONEncodeError):
            data = b""  # a lone surrogate, nesting orjson refuses: let the package say so
        if data and not _ASTRAL_UTF8.search(data):
            return data
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError, RecursionError) as exc:
        raise JsonProblem(f"cannot be canonicalised: {exc}") from None


def _plain(value: Any) -> bool:
    """Only strings, booleans, None, integers within 2**53, lists and string-keyed dicts."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        if kind is int:
            if -_SAFE_INT < item < _SAFE_INT:
                continue
            return False
        if kind is dict:
            for key in item:
                if type(key) is not str:
                    return False
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
        else:
            return False
    return True


def digest(value: Any) -> str:
    """``sha256:<hex>`` of the canonical encoding: the one digest of a JSON value."""
    return digest_bytes(encode(value))


def digest_bytes(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def utc(moment: dt.datetime) -> str:
    """The one time format of signed documents: UTC, whole seconds, ``Z``."""
    if moment.tzinfo is None:
        raise ValueError("a signed time needs a time zone")
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_now() -> str:
    return utc(dt.datetime.now(dt.timezone.utc))


def parse_utc(text: Any) -> dt.datetime:
    """The inverse of ``utc``; anything else (another format, a zone offset) is a ValueError."""
    if not isinstance(text, str) or not _TIME.match(text):
        raise ValueError(f"{text!r} is not a UTC time like 2026-11-25T10:00:00Z")
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)


def _number(text: str) -> int | float:
    digits = sum(c.isdigit() for c in text)
    if digits > MAX_NUMBER_DIGITS:
        raise JsonProblem(f"a number of {digits} digits (at most {MAX_NUMBER_DIGITS})")
    if text.lstrip("-").isdigit():
        return int(text)
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise JsonProblem(f"{text} is not a finite number")
    return value


def _constant(name: str) -> Any:
    raise JsonProblem(f"{name} is not JSON")


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise JsonProblem(f"duplicate key {key!r}")
        result[key] = value
    return result


_NOT_CANONICAL = object()


def _canonical_document(data: bytes | str, max_depth: int) -> Any:
    """What ``data`` holds if it is exactly what orjson writes for it with sorted keys (as
    ``encode`` writes plain values), else ``_NOT_CANONICAL``. Such a document has no duplicate
    key (the second would be missing from what is written again); its numbers are ones the strict
    reader takes (orjson reads integers of at most 64 bits, finite floats), with the same values."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _NOT_CANONICAL
    if raw.count(b"[") + raw.count(b"{") > max_depth and deeper_than(value, max_depth):
        return _NOT_CANONICAL  # the strict reader says how deep
    try:
        same = orjson.dumps(value, option=orjson.OPT_SORT_KEYS) == raw
    except (TypeError, orjson.JSONEncodeError):
        return _NOT_CANONICAL
    return value if same else _NOT_CANONICAL


def deeper_than(value: Any, limit: int) -> bool:
    """Whether a parsed value nests more than ``limit`` lists and objects, level by level,
    without recursion (a third of the time of a walk that tracks each item's depth)."""
    level, items = 0, ([value] if type(value) is dict or type(value) is list else [])
    while items:
        level += 1
        if level > limit:
            return True
        children: list[Any] = []
        append = children.append
        for item in items:
            for child in item.values() if type(item) is dict else item:
                kind = type(child)
                if kind is dict or kind is list:
                    append(child)
        items = children
    return False


def load_json(data: bytes | str, where: str, max_depth: int = MAX_DEPTH) -> Any:
    """Parse a JSON document strictly; raises JsonProblem naming ``where``.

    A document written as ``encode`` writes (a rendered state, a certificate) is read by orjson
    and written again: equal bytes leave no duplicate key and no number the strict reader would
    read otherwise (``_canonical_document``). Any other document goes through the strict reader,
    which also words every refusal. A rendered state reads in a third of the time."""
    fast = _canonical_document(data, max_depth)
    return fast if fast is not _NOT_CANONICAL else strict_load_json(data, where, max_depth)


def strict_load_json(data: bytes | str, where: str, max_depth: int = MAX_DEPTH) -> Any:
    """``load_json`` without its fast path for canonical documents."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError:
        raise JsonProblem(f"{where}: not UTF-8 text") from None
    try:
        value = json.loads(text, parse_int=_number, parse_float=_number, parse_constant=_constant,
                           object_pairs_hook=_pairs)
    except JsonProblem as problem:
        raise JsonProblem(f"{where}: {problem}") from None
    except RecursionError:
        raise JsonProblem(f"{where}: nested too deeply") from None
    except ValueError as exc:
        raise JsonProblem(f"{where}: not JSON ({exc})") from None
    if text.count("[") + text.count("{") > max_depth and deeper_than(value, max_depth):
        raise JsonProblem(f"{where}: nested more than {max_depth} levels deep")
    return value

