"""Field types shared by every inventory document."""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from . import codes


class Strict(BaseModel):
    """Unknown keys are errors; models are immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False)


def _dns_label(value: str) -> str:
    problem = codes.dns_label_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _region_code(value: object) -> object:
    # Unquoted YAML turns 430100 into an int; the code is still the same code.
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str):
        problem = codes.region_code_problem(value)
        if problem:
            raise ValueError(problem)
    return value


def _quantity(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a quantity")
    if isinstance(value, (int, float)):
        value = str(value)
    if isinstance(value, str):
        codes.parse_quantity(value)
    return value


# Single-line text: no control character (C0 and C1, newline and tab included), no line or
# paragraph separator and no bidirectional-override character (a "Trojan Source" line shows one
# thing and means another). Chinese and every other script are fine.
_LINE_BREAKING = "\u0085\u2028\u2029"
_BIDI_CONTROLS = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_NOT_SINGLE_LINE_RE = re.compile(f"[\x00-\x1f\x7f-\x9f{_LINE_BREAKING}{_BIDI_CONTROLS}]")
# Anywhere in an inventory file: the C1 controls, which YAML reads as line breaks (NEL) or takes
# as they are, U+2028/U+2029 (line breaks to YAML 1.1), the bidirectional controls. What the
# file shows would not be what the model reads.
HIDDEN_IN_FILE_RE = re.compile(f"[\x7f-\x9f{_LINE_BREAKING}{_BIDI_CONTROLS}]")
# The same rule for editors (JSON Schema, ECMA-262 syntax).
SINGLE_LINE_PATTERN = "^[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069]*$"


def single_line_problem(value: str) -> str | None:
    """Why ``value`` is not acceptable as one line of text, or None."""
    found = _NOT_SINGLE_LINE_RE.search(value)
    if found is None:
        return None
    return f"control characters (newline and tab included) are not allowed in this single-line field: U+{ord(found.group()):04X} at character {found.start() + 1}"


def _text(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    problem = single_line_problem(value)
    if problem:
        raise ValueError(problem)
    return value


# Gateway API HTTPRoute's CEL rules for a PathPrefix/Exact path (HTTPPathMatch
# x-kubernetes-validations), which the vendored JSON Schemas cannot carry, plus no dot segment
# anywhere: a path that would traverse is refused before anything is rendered.
_PATH_CHARS_RE = re.compile(r"^/[A-Za-z0-9._~/-]*$")


def service_path_problem(value: str) -> str | None:
    if not value.startswith("/"):
        return "must be an absolute path starting with '/'"
    if not _PATH_CHARS_RE.fullmatch(value):
        return "may contain only letters, digits and . _ ~ / - (no percent-encoding, query or fragment)"
    for bad in ("//", "/./", "/../"):
        if bad in value:
            return f"must not contain {bad!r}"
    if value.endswith("/..") or value.endswith("/."):
        return "must not end with '/.' or '/..'"
    return None


def _service_path(value: str) -> str:
    problem = service_path_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _hostname(value: str) -> str:
    # Gateway API hostnames are RFC 1123 names, never IP addresses; a name's last label is
    # never all digits (RFC 3696 2), which also keeps 10.0.0.1 out.
    if value.rsplit(".", 1)[-1].isdigit():
        raise ValueError("must be a DNS name, not an IP address (its last label may not be all digits)")
    return value


def _uscc(value: str) -> str:
    problem = codes.uscc_problem(value)
    if problem:
        raise ValueError(problem)
    return value


@lru_cache(maxsize=1)
def supported_kubernetes_versions() -> tuple[str, ...]:
    """Minor versions whose OpenAPI schemas ship with kubernetes-validate."""
    from kubernetes_validate import utils

    return tuple(dict.fromkeys(utils.major_minor(v) for v in utils.all_versions()))


def _kubernetes_version(value: str) -> str:
    supported = supported_kubernetes_versions()
    if value not in supported:
        raise ValueError(
            f"Kubernetes {value} has no bundled schema; use one of {supported[0]}..{supported[-1]}"
        )
    return value


def _contiguous(numbers: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for number in sorted(numbers):
        if runs and runs[-1][1] == number - 1:
            runs[-1] = (runs[-1][0], number)
        else:
            runs.append((number, number))
    return runs


def _region_schema() -> dict:
    """A GB/T 2260 code for editors: six digits starting with a province prefix, quoted or not."""
    runs = _contiguous([int(p) for p in codes.PROVINCE_PREFIXES])
    prefixes = "|".join(f"{a // 10}[{a % 10}-{b % 10}]" if a != b else str(a) for a, b in runs)
    return {"anyOf": [{"type": "string", "pattern": f"^({prefixes})[0-9]{{4}}$"},
                      *({"type": "integer", "minimum": a * 10000, "maximum": b * 10000 + 9999} for a, b in runs)],
            "description": "GB/T 2260 code"}


_IPV4 = r"(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}"
_IPV4_RE = re.compile(f"^{_IPV4}$")
_CIDR_RE = re.compile(f"^{_IPV4}/(3[0-2]|[12]?[0-9])$")


def _written_as(pattern: re.Pattern, example: str) -> Any:
    """Addresses and networks are text in one spelling (YAML could give a number, and Python
    would take 10.0.0.0 as a /32 or a netmask after the slash)."""
    def check(value: object) -> object:
        if isinstance(value, (IPv4Address, IPv4Network)):  # a model dumped and read again
            return value
        if not isinstance(value, str) or not pattern.fullmatch(value):
            raise ValueError(f"{value!r} is not written like {example}")
        return value
    return check


_DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _date(value: object) -> object:
    """A calendar date is written YYYY-MM-DD (YAML 1.2 keeps it text); a date object is one too."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str) or not _DATE_RE.fullmatch(value):
        raise ValueError(f"{value!r} is not a valid date: write YYYY-MM-DD")
    return value


Date = Annotated[dt.date, BeforeValidator(_date), WithJsonSchema({"type": "string", "format": "date", "pattern": _DATE_RE.pattern})]
IPv4Text = Annotated[IPv4Address, BeforeValidator(_written_as(_IPV4_RE, "172.30.10.10")),
                     WithJsonSchema({"type": "string", "pattern": _IPV4_RE.pattern})]
CidrText = Annotated[IPv4Network, BeforeValidator(_written_as(_CIDR_RE, "172.30.10.0/24")),
                     WithJsonSchema({"type": "string", "pattern": _CIDR_RE.pattern})]
DnsLabel = Annotated[str, AfterValidator(_dns_label),
                     Field(json_schema_extra=lambda schema: schema.update(
                         pattern=codes.DNS_LABEL_RE.pattern, maxLength=min(schema.get("maxLength", codes.DNS_LABEL_MAX), codes.DNS_LABEL_MAX)))]
RegionCode = Annotated[
    str,
    BeforeValidator(_region_code),
    WithJsonSchema(_region_schema()),
]
Quantity = Annotated[
    str,
    BeforeValidator(_quantity),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string", "pattern": codes.QUANTITY_RE.pattern}, {"type": "number", "minimum": 0}],
            "description": "Kubernetes quantity, e.g. 500m, 4, 16Gi",
        }
    ),
]
# Text for editors: one line (SINGLE_LINE_PATTERN) with something besides white space in it.
_NOT_ON_ONE_LINE = SINGLE_LINE_PATTERN[len("^[^"):-len("]*$")]
TEXT_PATTERN = f"^[^{_NOT_ON_ONE_LINE}]*[^\\s{_NOT_ON_ONE_LINE}][^{_NOT_ON_ONE_LINE}]*$"
Text = Annotated[str, Field(min_length=1, max_length=500, json_schema_extra={"pattern": TEXT_PATTERN}), AfterValidator(_text)]
Uscc = Annotated[str, AfterValidator(_uscc), Field(json_schema_extra={"pattern": codes.USCC_RE.pattern})]
# POSIX-safe so that the same id can be an operating-system and a Kubernetes user name.
Account = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_.-]{1,31}$")]
MlpsLevel = Annotated[int, Field(ge=1, le=4, strict=True)]
Port = Annotated[int, Field(ge=1, le=65535, strict=True)]
KubernetesVersion = Annotated[str, Field(pattern=r"^1\.[0-9]+$", json_schema_extra=lambda schema: schema.update(
    enum=list(supported_kubernetes_versions()))), AfterValidator(_kubernetes_version)]
Hostname = Annotated[
    str,
    Field(
        max_length=253,
        pattern=r"^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+$",
        json_schema_extra={"not": {"pattern": r"\.[0-9]+$"}},
    ),
    AfterValidator(_hostname),
]
# The path a public service is published under (an HTTPRoute PathPrefix).
ServicePath = Annotated[
    str,
    # The checks run in _service_path (one clear message each); the schema says the same to editors.
    Field(max_length=200, json_schema_extra={"pattern": _PATH_CHARS_RE.pattern, "not": {"pattern": r"//|/\./|/\.\./|/\.\.?$"}}),
    AfterValidator(_service_path),
]
# registry host[:port][/path], no scheme, no tag: what an image reference starts with.
Registry = Annotated[
    str,
    Field(pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]{1,5})?(/[a-z0-9]([-a-z0-9._]*[a-z0-9])?)*$"),
]

ZoneKind = Literal["egov-extranet", "internet", "egov-intranet", "management", "data"]
ZONE_KINDS: tuple[str, ...] = ("egov-extranet", "internet", "egov-intranet", "management", "data")
TENANT_ZONE_KINDS: tuple[str, ...] = ("egov-extranet", "internet", "egov-intranet")
SharingClass = Literal["unconditional", "conditional", "not-shared"]
Sensitivity = Literal["general", "important", "core"]
HostRole = Literal["cluster-node", "datapool", "gateway", "bastion", "log-collector"]
PodSecurityLevel = Literal["privileged", "baseline", "restricted"]
