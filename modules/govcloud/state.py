"""The desired state of one stack: what render writes and check, review and diff read.

One file per stack, ``build/render/<env>/<stack>/state.json``: every resource the Pulumi
program registers (URN, type, name, parent, dependencies, inputs as the engine sees them,
camelCase) with secret values replaced by ``REDACTED``. The file is the document's RFC 8785
canonical JSON (``govcloud.canonical``; resources sorted by URN), so the digest of the file is
the digest of the document, any other implementation of RFC 8785 reproduces it, and a review
certificate binds exactly it. ``legacy_digest`` is the digest certificates of format 1 bound
(sha256 of the indented JSON the first release wrote).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from .canonical import encode

FORMAT = "govcloud.state/v1"
REDACTED = "[secret]"
# The engine's wire markers for special values (sdk/go/common/resource/sig; the Python SDK's
# ``pulumi.runtime.rpc._special_*``): a secret is ``{SECRET_SIG_KEY: SECRET_SIG, "value": ...}``
# (``"ciphertext"`` in plans and state), a resource reference ``{SECRET_SIG_KEY: RESOURCE_SIG, "urn": ...}``.
SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
STATE_FILE = "state.json"
MANIFESTS_FILE = "manifests.yaml"
# The input files (and their sha256) the state was rendered from: model.inputs.render_inputs.
INPUTS_FILE = "inputs.json"
INPUTS_FORMAT = "govcloud.render-inputs/v1"


@dataclass(frozen=True)
class ResourceState:
    urn: str
    type: str
    name: str
    custom: bool
    parent: str | None = None
    dependencies: tuple[str, ...] = ()
    provider: str | None = None
    inputs: dict[str, Any] = field(default_factory=dict)
    # Dotted paths (e.g. "stringData.password") whose values were secrets and are redacted.
    secret_paths: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "custom": self.custom,
            "parent": self.parent,
            "dependencies": list(self.dependencies),
            "provider": self.provider,
            "inputs": self.inputs,
            "secret_paths": list(self.secret_paths),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ResourceState":
        return cls(
            urn=data["urn"],
            type=data["type"],
            name=data["name"],
            custom=bool(data["custom"]),
            parent=data.get("parent"),
            dependencies=tuple(data.get("dependencies", ())),
            provider=data.get("provider"),
            inputs=data.get("inputs", {}),
            secret_paths=tuple(data.get("secret_paths", ())),
        )

    @property
    def kind(self) -> str | None:
        """Kubernetes kind for kubernetes:* resources (``kubernetes:core/v1:Namespace`` -> Namespace)."""
        return self.type.rsplit(":", 1)[-1] if self.type.startswith("kubernetes:") else None


# The outputs the SDK's Secret class asks the engine to keep secret (what KubeObject asks too).
SECRET_OUTPUTS = ("data", "stringData")


def checked_inputs(type_: str, inputs: dict[str, Any], secret_paths: Iterable[str]) -> tuple[dict[str, Any], set[str]]:
    """A registration's inputs as the provider's Check returns them, with their secret paths:
    what update plans record and what the engine sends the policy pack. The provider normalises
    a Secret as the API server would (pulumi-kubernetes ``clients.Normalize``): ``stringData``
    folded into ``data``, base64-encoded, overriding a ``data`` key of the same name; ``data`` is
    then a secret as a whole when any of the two was. Other kinds pass as registered (the stacks
    register manifests already in the form the typed round trip gives; the engine tests compare
    what the pack receives from both)."""
    secrets = set(secret_paths)
    if type_ != "kubernetes:core/v1:Secret" or not inputs.get("stringData"):
        return inputs, secrets
    checked = {k: v for k, v in inputs.items() if k != "stringData"}
    secret = any(p == key or p.startswith((f"{key}.", f"{key}[")) for p in secrets for key in ("data", "stringData"))
    if secret:
        checked["data"] = REDACTED
    else:
        encoded = {k: base64.b64encode(str(v).encode()).decode() for k, v in inputs["stringData"].items()}
        checked["data"] = {**(inputs.get("data") or {}), **encoded}
    kept = {p for p in secrets if not (p in ("data", "stringData") or p.startswith(("data.", "data[", "stringData.", "stringData[")))}
    return checked, kept | ({"data"} if secret else set())


@dataclass(frozen=True)
class StackState:
    stack: str
    env: str
    kind: str  # "foundation" | "tenant"
    cluster: str
    kubernetes_version: str
    tenant: str | None = None
    project: str = "govcloud"
    resources: tuple[ResourceState, ...] = ()
    outputs: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "project": self.project,
            "stack": self.stack,
            "env": self.env,
            "kind": self.kind,
            "cluster": self.cluster,
            "tenant": self.tenant,
            "kubernetes_version": self.kubernetes_version,
            "resources": [r.as_dict() for r in sorted(self.resources, key=lambda r: r.urn)],
            "outputs": self.outputs,
        }

    def to_json(self) -> str:
        """The file's text: the canonical JSON of the document (RFC 8785)."""
        return encode(self.as_dict()).decode("utf-8")

    def digest(self) -> str:
        """sha256 of the canonical JSON: what a review certificate binds."""
        return digest_of(self.to_json())

    def legacy_digest(self) -> str:
        """What a format 1 review certificate bound: sha256 of the indented JSON of the first release."""
        return digest_of(json.dumps(self.as_dict(), sort_keys=True, ensure_ascii=False, indent=2, separators=(",", ": ")) + "\n")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "StackState":
        if data.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} document (format={data.get('format')!r})")
        return cls(
            stack=data["stack"],
            env=data["env"],
            kind=data["kind"],
            cluster=data["cluster"],
            kubernetes_version=data["kubernetes_version"],
            tenant=data.get("tenant"),
            project=data.get("project", "govcloud"),
            resources=tuple(ResourceState.from_dict(r) for r in data.get("resources", ())),
            outputs=data.get("outputs", {}),
        )

    @classmethod
    def load(cls, path: Path) -> "StackState":
        from .canonical import load_json
        from .files import read_regular

        return cls.from_dict(load_json(read_regular(path), str(path)))

    def save(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / STATE_FILE
        path.write_text(self.to_json(), encoding="utf-8")
        return path

    def by_urn(self) -> dict[str, ResourceState]:
        return {r.urn: r for r in self.resources}

    def kubernetes_objects(self) -> Iterator[ResourceState]:
        return (r for r in self.resources if r.custom and r.kind is not None)


def digest_of(canonical_json: str | bytes) -> str:
    """The digest of a state's canonical JSON text (``StackState.to_json()``), or of its UTF-8
    bytes as a file holds them (the same digest, without decoding and encoding a province)."""
    raw = canonical_json.encode("utf-8") if isinstance(canonical_json, str) else canonical_json
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def render_dir(build: Path, env: str) -> Path:
    return build / "render" / env


def stack_dir(build: Path, env: str, stack: str) -> Path:
    return render_dir(build, env) / stack
