"""National codes: GB/T 2260 structure, GB 32100 check characters, DNS labels, quantities."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govcloud.model import codes


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110000600037341L", "91440300708461136T"])
def test_published_uscc_examples_are_valid(code: str) -> None:
    # The first is the worked example of GB 32100-2015 itself.
    assert codes.uscc_problem(code) is None


@pytest.mark.parametrize(
    "code, fragment",
    [
        ("91350100M000100Y4", "has 17"),
        ("91350100M000100Y44", "check character is '4' but GB 32100-2015 gives '3'"),
        ("91350100M0001O0Y43", "'O'"),
        ("91350100m000100Y43", "'m'"),
    ],
)
def test_bad_uscc(code: str, fragment: str) -> None:
    assert fragment in codes.uscc_problem(code)


@given(region=st.sampled_from(["430000", "430100", "430121", "110101"]), serial=st.integers(0, 10**9),
       position=st.integers(0, 17), replacement=st.sampled_from(codes.USCC_ALPHABET))
def test_generated_uscc_valid_and_any_single_change_detected(region: str, serial: int, position: int, replacement: str) -> None:
    code = codes.make_uscc(region, serial)
    assert codes.uscc_problem(code) is None
    changed = code[:position] + replacement + code[position + 1 :]
    if changed != code:
        assert codes.uscc_problem(changed) is not None


@pytest.mark.parametrize(
    "code, parent, ok",
    [
        ("430000", None, True),
        ("430100", "430000", True),
        ("430121", "430100", True),
        ("110101", "110000", True),  # a district of a municipality sits under the province
        ("429004", "420000", True),  # a county administered by the province ("90")
        ("430100", "440000", False),
        ("430121", "430600", False),
        ("430121", "430000", False),
        ("430100", None, False),
        ("430000", "430000", False),
    ],
)
def test_region_parent_structure(code: str, parent: str | None, ok: bool) -> None:
    assert (codes.region_parent_problem(code, parent) is None) is ok


@pytest.mark.parametrize("code", ["43010", "4301000", "990000", "43o100"])
def test_bad_region_codes(code: str) -> None:
    assert codes.region_code_problem(code) is not None


@pytest.mark.parametrize("name", ["health", "t-430100-health", "a", "a1-b2"])
def test_dns_labels_ok(name: str) -> None:
    assert codes.dns_label_problem(name) is None


@pytest.mark.parametrize("name", ["Health", "-a", "a-", "1abc", "a_b", "../etc", "a b", "卫健委", "a;rm -rf", "x" * 64, ""])
def test_dns_labels_bad(name: str) -> None:
    assert codes.dns_label_problem(name) is not None


@pytest.mark.parametrize(
    "text, value",
    [("500m", Decimal("0.5")), ("4", Decimal(4)), ("16Gi", Decimal(16 * 2**30)), ("1.5", Decimal("1.5")), ("2k", Decimal(2000)), (8, Decimal(8))],
)
def test_quantities(text, value) -> None:
    assert codes.parse_quantity(text) == value


@pytest.mark.parametrize("text", ["", "4 cores", "16GB", "-1", "1e3", True])
def test_bad_quantities(text) -> None:
    with pytest.raises(ValueError):
        codes.parse_quantity(text)


def test_format_quantity() -> None:
    assert codes.format_quantity(Decimal(20 * 2**40), "memory") == "20Ti"
    assert codes.format_quantity(Decimal(3 * 2**29), "memory") == "1.5Gi"
    assert codes.format_quantity(Decimal("144.0"), "cpu") == "144"
