"""National codes and identifiers the model relies on.

- GB/T 2260 administrative division codes (six digits: province, prefecture, county).
- GB 32100-2015 unified social credit codes (18 characters with a check character).
- DNS labels (RFC 1035 form, which Kubernetes accepts for every object kind).
- Kubernetes resource quantities ("500m", "16Gi"), compared exactly with Decimal.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache

# First two digits of GB/T 2260 codes: provinces, autonomous regions, municipalities, SARs.
PROVINCE_PREFIXES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 "
    "50 51 52 53 54 61 62 63 64 65 71 81 82".split()
)
# Municipalities directly under the central government: their districts sit under the province.
MUNICIPALITY_PREFIXES = frozenset({"11", "12", "31", "50"})
# "90" in the prefecture digits: county-level units administered directly by the province.
PROVINCE_ADMINISTERED = "90"

REGION_CODE_RE = re.compile(r"^[0-9]{6}$")


def region_level(code: str) -> str:
    """``province``, ``city`` or ``county`` from the structure of a valid code."""
    if code[2:] == "0000":
        return "province"
    if code[4:] == "00":
        return "city"
    return "county"


def region_code_problem(code: str) -> str | None:
    if not REGION_CODE_RE.fullmatch(code):  # fullmatch: '$' alone lets a trailing newline through
        return f"{code!r} is not a six-digit GB/T 2260 code"
    if code[:2] not in PROVINCE_PREFIXES:
        return f"{code!r} does not start with a GB/T 2260 province prefix"
    return None


def region_parent_problem(code: str, parent: str | None) -> str | None:
    """Does the code's structure agree with its declared parent?"""
    level = region_level(code)
    if level == "province":
        return None if parent is None else f"province {code} cannot have a parent"
    if parent is None:
        return f"{level} {code} needs a parent region"
    parent_level = region_level(parent)
    if level == "city":
        if parent_level == "province" and parent[:2] == code[:2]:
            return None
        return f"city {code} must sit under its province {code[:2]}0000, not {parent}"
    # county
    if parent_level == "city" and parent[:4] == code[:4]:
        return None
    if (
        parent_level == "province"
        and parent[:2] == code[:2]
        and (code[2:4] == PROVINCE_ADMINISTERED or code[:2] in MUNICIPALITY_PREFIXES)
    ):
        return None
    return f"county {code} must sit under its city {code[:4]}00, not {parent}"


# GB 32100-2015: 31 characters (no I, O, S, V, Z) and fixed weights for positions 1-17.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
USCC_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")


_USCC_VALUE = {ch: value for value, ch in enumerate(USCC_ALPHABET)}


def uscc_check_character(first17: str) -> str:
    value = _USCC_VALUE
    total = sum(value[ch] * w for ch, w in zip(first17, USCC_WEIGHTS, strict=False))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_problem(code: str) -> str | None:
    if len(code) != 18:
        return f"a unified social credit code has 18 characters, this one has {len(code)}"
    if not USCC_RE.fullmatch(code):
        bad = sorted({ch for ch in code if ch not in USCC_ALPHABET})
        return f"characters {''.join(bad)!r} are not allowed in a unified social credit code"
    expected = uscc_check_character(code[:17])
    if code[17] != expected:
        return f"check character is {code[17]!r} but GB 32100-2015 gives {expected!r}"
    return None


DNS_LABEL_RE = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
DNS_LABEL_MAX = 63


def dns_label_problem(value: str, what: str = "name") -> str | None:
    if len(value) > DNS_LABEL_MAX:
        return f"{what} {value!r} is longer than {DNS_LABEL_MAX} characters"
    if not DNS_LABEL_RE.fullmatch(value):
        return (
            f"{what} {value!r} is not a DNS label: lower-case letters, digits and '-', "
            "starting with a letter and ending with a letter or digit"
        )
    return None


_SUFFIXES = {
    "": Decimal(1),
    "m": Decimal("0.001"),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
}
QUANTITY_RE = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|P|Ki|Mi|Gi|Ti|Pi)?$")


def parse_quantity(value: str | int | float) -> Decimal:
    """A Kubernetes quantity as an exact Decimal (cores for cpu, bytes for memory)."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a quantity")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{value!r} is not a quantity")
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    return _parse_quantity_text(value)


@lru_cache(maxsize=4096)
def _parse_quantity_text(value: str) -> Decimal:
    # Quotas repeat the same few strings thousands of times across a province.
    match = QUANTITY_RE.fullmatch(value)
    if not match:
        raise ValueError(f"{value!r} is not a Kubernetes quantity such as 500m, 4, 16Gi")
    try:
        return Decimal(match.group(1)) * _SUFFIXES[match.group(2) or ""]
    except InvalidOperation as exc:  # pragma: no cover - the regex already guards this
        raise ValueError(f"{value!r} is not a quantity") from exc


def format_quantity(amount: Decimal, kind: str) -> str:
    """Human form used in messages and tables: cores, GiB, or a plain count."""
    if kind in ("memory", "storage"):
        for unit in ("Ti", "Gi", "Mi", "Ki"):
            value = amount / _SUFFIXES[unit]
            if abs(value) >= 1:
                return f"{value.normalize():f}{unit}" if value == value.to_integral() else f"{value:.1f}{unit}"
        return f"{int(amount)}"
    if kind == "cpu":
        return f"{amount.normalize():f}"
    return f"{int(amount)}"


# GB 11714 organization code: 8 characters and a check character (weights 3,7,9,10,5,8,4,2).
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_VALUES = {ch: i for i, ch in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")}


def organization_code(body: str) -> str:
    """GB 11714 code with its check character, for an 8-character body."""
    total = sum(_ORG_VALUES[ch] * w for ch, w in zip(body, _ORG_WEIGHTS, strict=False))
    check = 11 - total % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def make_uscc(region: str, serial: int, authority: str = "11") -> str:
    """A well-formed unified social credit code for a government body ("11": organ of state).

    Used by scaffolding and the synthetic inventory generator; real requests carry the
    department's own code, which validation checks but never invents.
    """
    org = organization_code(f"{serial % 10**8:08d}")
    first17 = f"{authority}{region}{org}"
    return first17 + uscc_check_character(first17)
