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


_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _text(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    if _CONTROL_RE.search(value):
        raise ValueError("control characters are not allowed")
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
Text = Annotated[str, Field(min_length=1, max_length=500), AfterValidator(_text)]
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
    ),
]
UrlPath = Annotated[str, Field(max_length=200, pattern=r"^/[A-Za-z0-9._~/-]*$")]
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
