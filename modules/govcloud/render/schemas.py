"""Strict OpenAPI validation of rendered manifests, per Kubernetes version, validators cached.

Every manifest is checked by jsonschema-rs (compiled, about 500 times faster than the pure
Python validator, which matters at 50,000 objects); only a manifest that fails is checked again
by python-jsonschema, whose errors name the field in a stable wording.

Built-in kinds use the strict schemas bundled with kubernetes-validate (unknown fields are
errors). Gateway API kinds are CRDs that kubernetes-validate does not carry: their schemas are
vendored under ``schemas/gateway.networking.k8s.io/`` (see the NOTICE there for source and
version) and their ``metadata`` is checked against the same version's strict ObjectMeta. A
manifest whose kind has no schema is an error, never silently accepted.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs
from kubernetes_validate import utils as kv
from referencing import Registry, Resource

CRD_SCHEMAS = Path(__file__).parent / "schemas"
OBJECT_META = "https://kubernetes.io/api/_definitions.json#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
MAX_ERRORS = 5
_API_VERSION_RE = re.compile(r"^([^./]*)(?:\.[^/]*)?/")


def bundled_version(kubernetes_version: str) -> str:
    """The newest bundled schema version not newer than the cluster's (as kubernetes-validate picks)."""
    wanted = tuple(int(p) for p in kv.major_minor(kubernetes_version).split("."))
    candidates = [v for v in kv.all_versions() if tuple(int(p) for p in kv.major_minor(v).split(".")) <= wanted]
    if not candidates:
        raise ValueError(f"no bundled Kubernetes schema for {kubernetes_version}")
    return candidates[-1]


def _schema_file(api_version: str, kind: str) -> str:
    # rbac.authorization.k8s.io/v1 -> rbac-v1, v1 -> v1 (kubernetes-validate's file naming)
    group_version = _API_VERSION_RE.sub(r"\1-", api_version)
    return f"{kind.lower()}-{group_version}.json"


@cache
def _registry(version: str) -> Registry:
    definitions = kv.schema_contents(f"kubernetes-json-schema/v{version}-local-strict/_definitions.json", version)
    return Resource.from_contents(definitions) @ Registry()


@cache
def _fast_registry(version: str) -> jsonschema_rs.Registry:
    definitions = kv.schema_contents(f"kubernetes-json-schema/v{version}-local-strict/_definitions.json", version)
    return jsonschema_rs.Registry([(definitions["$id"], definitions)])


@cache
def _crd_schema(api_version: str, kind: str) -> dict[str, Any] | None:
    group, _, version = api_version.rpartition("/")
    path = CRD_SCHEMAS / group / f"{kind.lower()}_{version}.json"
    if not group or not path.is_file():
        return None
    schema = json.loads(path.read_text(encoding="utf-8"))
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://kubernetes.io/api/crd/{group}/{kind.lower()}/{version}"
    schema.setdefault("properties", {})["metadata"] = {"$ref": OBJECT_META}
    schema["additionalProperties"] = False  # strict at the top level too, like the built-in strict schemas
    return schema


@cache
def _schema(kubernetes_version: str, api_version: str, kind: str) -> tuple[str, dict[str, Any]]:
    version = bundled_version(kubernetes_version)
    try:
        schema = kv.schema_contents(f"kubernetes-json-schema/v{version}-local-strict/{_schema_file(api_version, kind)}", version)
    except FileNotFoundError:
        schema = _crd_schema(api_version, kind)
        if schema is None:
            raise LookupError(f"no schema for {api_version} {kind}") from None
    return version, schema


@cache
def validator_for(kubernetes_version: str, api_version: str, kind: str) -> jsonschema.protocols.Validator:
    """The python-jsonschema validator: precise error reports."""
    version, schema = _schema(kubernetes_version, api_version, kind)
    return jsonschema.Draft202012Validator(schema, registry=_registry(version))


@cache
def fast_validator_for(kubernetes_version: str, api_version: str, kind: str):
    """The jsonschema-rs validator of the same schema: the fast yes/no."""
    version, schema = _schema(kubernetes_version, api_version, kind)
    return jsonschema_rs.validator_for(schema, registry=_fast_registry(version))


def _where(error: jsonschema.ValidationError) -> str:
    path = ""
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(object)"


def manifest_errors(manifest: dict[str, Any], kubernetes_version: str) -> list[str]:
    """Problems with one manifest, each ``field: message``; empty when it is valid."""
    api_version, kind = manifest.get("apiVersion"), manifest.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return ["(object): apiVersion and kind are required"]
    try:
        fast = fast_validator_for(kubernetes_version, api_version, kind)
    except LookupError as exc:
        return [f"(object): {exc}"]
    if fast.is_valid(manifest):
        return []
    validator = validator_for(kubernetes_version, api_version, kind)
    errors = sorted(validator.iter_errors(manifest), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    if not errors:  # the two implementations disagree: never pass a manifest one of them rejects
        return [f"(object): rejected by jsonschema-rs: {next(iter(fast.iter_errors(manifest)))}"]
    return [f"{_where(e)}: {e.message}" for e in errors[:MAX_ERRORS]]
