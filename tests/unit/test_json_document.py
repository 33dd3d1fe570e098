"""`json_document` writes exactly what the standard library writes with the same options: reports
and their digests in the ledger do not change with the encoder."""

from __future__ import annotations

import json

from budget import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from govcloud.text import json_document

TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]))
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: "e-0" not in repr(f)) | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=30,
)


@settings(max_examples=examples(500), deadline=None)
@given(VALUES)
def test_the_same_bytes_as_the_standard_library(value) -> None:
    assert json_document(value) == json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def test_chinese_and_control_characters() -> None:
    value = {"理由": "文旅网站\u2028二级\t定级", "b": [], "a": {}}
    assert json_document(value) == json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def test_a_small_float_is_the_same_number_in_a_shorter_exponent() -> None:
    assert json_document([1.5e-07]) == "[\n  1.5e-7\n]\n" and json.loads(json_document([1.5e-07])) == [1.5e-07]
