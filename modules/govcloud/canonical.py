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

import rfc8785

MAX_DEPTH = 128
MAX_NUMBER_DIGITS = 40
_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


class JsonProblem(ValueError):
    """A document that is not acceptable JSON; the message names where and why."""


_ASTRAL = re.compile("[\U00010000-\U0010FFFF]")
_SAFE_INT = 2**53


def encode(value: Any) -> bytes:
    """RFC 8785 bytes of ``value``.

    The ``rfc8785`` package is pure Python; for the values govcloud signs (string keys, strings,
    integers below 2**53, no floats) the C-accelerated ``json.dumps`` with sorted keys and no
    spaces writes exactly the same bytes (same escapes, same integer form, and keys without
    characters beyond U+FFFF sort the same by code point as by UTF-16 unit), so it is used when
    the value holds none of the cases where the two differ (a float, an integer beyond 2**53, a
    key that is not a string, a character beyond U+FFFF); otherwise the package encodes.
    tests/unit/test_canonical.py compares the two on generated values."""
    text = None
    if _plain(value):
        try:
            text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError, RecursionError):
            text = None
    if text is not None and not _ASTRAL.search(text):
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: let the package say so
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


def depth(value: Any) -> int:
    """Nesting depth of a parsed value, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            deepest = max(deepest, level)
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            deepest = max(deepest, level)
            stack.extend((v, level + 1) for v in item)
    return deepest


def load_json(data: bytes | str, where: str, max_depth: int = MAX_DEPTH) -> Any:
    """Parse a JSON document strictly; raises JsonProblem naming ``where``."""
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
    if text.count("[") + text.count("{") > max_depth and depth(value) > max_depth:
        raise JsonProblem(f"{where}: nested more than {max_depth} levels deep")
    return value

