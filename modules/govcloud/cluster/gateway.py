"""The Gateway API CRDs the control planes serve, from the Go module ``sigs.k8s.io/gateway-api``.

The release is pinned once, in ``tools/go/gateway-api/go.mod`` (with its module hash in
``go.sum``); the module's zip, served by the Go module proxy, carries the CRDs under
``config/crd/standard/``. `govcloud cluster up` installs exactly these, and the schemas
`govcloud render` validates Gateway API manifests against
(``govcloud/render/schemas/gateway.networking.k8s.io/``) are generated from the same CRDs
(``scripts/vendor-gateway-schemas``), so render and cluster agree field for field.
"""

from __future__ import annotations

import json
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from ..toolchain.build import ToolchainError, go_binary, go_environment
from ..toolchain.components import TOOLS_DIR, pinned_version

MODULE = "sigs.k8s.io/gateway-api"
BUILD_MODULE = TOOLS_DIR / "gateway-api"
CHANNEL = "standard"
# The kinds govcloud renders, with the vendored schema file each one gets.
RENDERED_KINDS = ("Gateway", "HTTPRoute", "BackendTLSPolicy")


def version() -> str:
    return pinned_version(BUILD_MODULE / "go.mod", MODULE)


@cache
def module_dir() -> Path:
    """The pinned module, downloaded once into the Go module cache and checked against go.sum."""
    env = go_environment()
    env["GOFLAGS"] = env["GOFLAGS"].replace("-mod=readonly", "").strip()
    result = subprocess.run([go_binary(), "mod", "download", "-json", MODULE], cwd=BUILD_MODULE, env=env,
                            capture_output=True, text=True)
    try:
        info = json.loads(result.stdout)
    except json.JSONDecodeError:
        info = {}
    if result.returncode != 0 or "Dir" not in info:
        reason = info.get("Error") or result.stderr.strip() or result.stdout.strip()
        raise ToolchainError(f"cannot download {MODULE} {version()}: {reason[:300]}")
    return Path(info["Dir"])


def crds() -> list[dict[str, Any]]:
    """The CRDs of the pinned release's standard channel, sorted by name."""
    folder = module_dir() / "config" / "crd" / CHANNEL
    found = []
    for path in sorted(folder.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if document and document.get("kind") == "CustomResourceDefinition":
                found.append(document)
    if not found:
        raise ToolchainError(f"{MODULE} {version()} has no CRDs under config/crd/{CHANNEL}")
    return sorted(found, key=lambda d: d["metadata"]["name"])


def served_schema(crd: dict[str, Any], api_version: str) -> dict[str, Any]:
    """The openAPIV3Schema of one served version of a CRD."""
    for entry in crd["spec"]["versions"]:
        if entry["name"] == api_version and entry.get("served"):
            return entry["schema"]["openAPIV3Schema"]
    raise LookupError(f"{crd['metadata']['name']} does not serve {api_version}")


def json_schema(node: Any) -> Any:
    """A CRD's structural schema as strict JSON Schema: unknown fields are errors (as the API
    server's field validation makes them), ``nullable`` and int-or-string spelled out;
    descriptions and ``x-kubernetes-*`` extensions (CEL rules, list types: enforced by the API
    server) left out."""
    if isinstance(node, list):
        return [json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "description" or key.startswith("x-kubernetes-") or key == "nullable":
            continue
        if key in ("properties", "patternProperties"):
            out[key] = {name: json_schema(child) for name, child in value.items()}
        else:
            out[key] = json_schema(value)
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if node.get("nullable") and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    if "properties" in out and "additionalProperties" not in out and not node.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    return out


def vendored_schemas() -> dict[str, dict[str, Any]]:
    """File name -> schema for every kind govcloud renders (``<kind>_<version>.json``)."""
    by_kind = {crd["spec"]["names"]["kind"]: crd for crd in crds()}
    files = {}
    for kind in RENDERED_KINDS:
        crd = by_kind[kind]
        storage = next(v["name"] for v in crd["spec"]["versions"] if v.get("storage"))
        schema = json_schema(served_schema(crd, storage))
        schema.get("properties", {}).pop("metadata", None)  # render checks metadata as ObjectMeta
        files[f"{kind.lower()}_{storage}.json"] = schema
    return files
