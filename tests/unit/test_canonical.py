"""The one canonical encoding is RFC 8785 whichever path writes it, and the strict reader refuses
what would crash or mislead (deep nesting, huge numbers, NaN, duplicate keys)."""

from __future__ import annotations

import datetime as dt

import pytest
import rfc8785
from budget import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from govcloud import canonical

KEYS = st.text(max_size=6) | st.sampled_from(["a", "b", "\U0001f600", "\ufb01", "\x7f", "é", "A", "\u2028"])
SCALARS = (st.none() | st.booleans() | st.integers(-(2**60), 2**60) | st.text(max_size=12)
           | st.floats(allow_nan=False, allow_infinity=False, width=64) | st.sampled_from(["\x00\x1f\"\\\b\f\n\r\t", "\ud800x"]))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4), max_leaves=20)


@settings(max_examples=examples(600), deadline=None)
@given(VALUES)
def test_encode_is_rfc_8785(value):
    try:
        expected = rfc8785.dumps(value)
    except Exception:  # noqa: BLE001 - what the package refuses, encode refuses too
        with pytest.raises(canonical.JsonProblem):
            canonical.encode(value)
        return
    assert canonical.encode(value) == expected


def test_non_string_keys_are_refused_as_rfc_8785_does():
    for value in ({1: "a"}, {"a": [{None: 1}]}):
        with pytest.raises(canonical.JsonProblem):
            canonical.encode(value)


def test_one_utc_format():
    moment = dt.datetime(2026, 11, 25, 18, 0, 1, 999, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert canonical.utc(moment) == "2026-11-25T10:00:01Z"
    assert canonical.parse_utc("2026-11-25T10:00:01Z") == moment.replace(microsecond=0)
    for text in ("2026-11-25T10:00:01+00:00", "2026-11-25T10:00:01.000Z", "2026-11-25 10:00:01Z", 7):
        with pytest.raises(ValueError):
            canonical.parse_utc(text)


@pytest.mark.parametrize("text,message", [
    (b"[" * 100_000, "nested too deeply"),
    (b"[" * 200 + b"]" * 200, "nested more than 128 levels"),
    (b'{"a": ' + b"9" * 5000 + b"}", "5000 digits"),
    (b'{"a": 1e999999}', "not a finite number"),
    (b"[NaN]", "NaN is not JSON"),
    (b'{"a": 1, "a": 2}', "duplicate key 'a'"),
    (b"\xff", "not UTF-8"),
    (b"{", "not JSON"),
])
def test_the_strict_reader_refuses_cleanly(text, message):
    with pytest.raises(canonical.JsonProblem, match=message):
        canonical.load_json(text, "doc")


PLAIN = st.recursive(st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=12),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4), max_leaves=20)


@settings(max_examples=examples(600), deadline=None)
@given(PLAIN)
def test_a_canonical_document_is_read_by_the_fast_path_as_the_strict_reader_reads_it(value):
    try:
        data = canonical.encode(value)
    except canonical.JsonProblem:
        return  # a lone surrogate: nothing canonical to read
    fast = canonical._canonical_document(data, canonical.MAX_DEPTH)
    if any(byte >= 0xF0 for byte in data):  # beyond U+FFFF, RFC 8785 may order keys otherwise than orjson
        assert fast is canonical._NOT_CANONICAL or fast == value
    else:
        assert fast == value  # the fast path took it
    assert canonical.load_json(data, "doc") == canonical.strict_load_json(data, "doc") == value


def _variants(value) -> list[bytes]:
    """``value`` written other ways than canonical: spaced, unsorted, with a key twice, as text
    with escapes, with a float or a long number spliced in."""
    import json

    import orjson

    try:  # as orjson writes it: read by the fast path, floats and all
        out = [orjson.dumps(value, option=orjson.OPT_SORT_KEYS)]
    except (TypeError, orjson.JSONEncodeError):
        out = []
    out += [json.dumps(value).encode(), json.dumps(value, ensure_ascii=True, separators=(",", ":")).encode(),
           json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogatepass")]
    if isinstance(value, dict) and value:
        key, item = next(iter(value.items()))
        twice = json.dumps(key) + ":" + json.dumps(item)
        out.append(("{" + twice + "," + json.dumps(value, sort_keys=True, separators=(",", ":"))[1:]).encode("utf-8", "surrogatepass"))
    out += [b'{"a":1.0}', b'{"a":' + b"1" * 41 + b"}", b"[1e400]", b'{"a":1,"a":1}', b'{"b":1,"a":2}', b"[" * 129 + b"]" * 129,
            b"[" * 128 + b"]" * 128, b'{"a":18446744073709551615}', b"[-9223372036854775808]"]
    return out


@settings(max_examples=examples(400), deadline=None)
@given(VALUES)
def test_any_document_is_read_by_load_json_exactly_as_by_the_strict_reader(value):
    for data in _variants(value):
        try:
            strict = canonical.strict_load_json(data, "doc")
        except canonical.JsonProblem as problem:
            with pytest.raises(canonical.JsonProblem) as caught:
                canonical.load_json(data, "doc")
            assert str(caught.value) == str(problem)
            continue
        got = canonical.load_json(data, "doc")
        assert got == strict and type(got) is type(strict)
