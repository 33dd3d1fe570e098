"""Field types shared by every inventory document."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Annotated, Literal

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

    return tuple(utils.major_minor(v) for v in utils.all_versions())


def _kubernetes_version(value: str) -> str:
    supported = supported_kubernetes_versions()
    if value not in supported:
        raise ValueError(
            f"Kubernetes {value} has no bundled schema; use one of {supported[0]}..{supported[-1]}"
        )
    return value


DnsLabel = Annotated[str, AfterValidator(_dns_label)]
RegionCode = Annotated[
    str,
    BeforeValidator(_region_code),
    WithJsonSchema({"type": ["string", "integer"], "pattern": r"^[0-9]{6}$", "description": "GB/T 2260 code"}),
]
Quantity = Annotated[
    str,
    BeforeValidator(_quantity),
    WithJsonSchema(
        {
            "type": ["string", "integer", "number"],
            "pattern": codes.QUANTITY_RE.pattern,
            "description": "Kubernetes quantity, e.g. 500m, 4, 16Gi",
        }
    ),
]
Text = Annotated[str, Field(min_length=1, max_length=500, json_schema_extra={"pattern": SINGLE_LINE_PATTERN}), AfterValidator(_text)]
Uscc = Annotated[str, AfterValidator(_uscc), Field(pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$")]
# POSIX-safe so that the same id can be an operating-system and a Kubernetes user name.
Account = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_.-]{1,31}$")]
MlpsLevel = Annotated[int, Field(ge=1, le=4, strict=True)]
Port = Annotated[int, Field(ge=1, le=65535, strict=True)]
KubernetesVersion = Annotated[str, Field(pattern=r"^1\.[0-9]+$"), AfterValidator(_kubernetes_version)]
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
