"""From what the program registered to the desired state (``StackState``) and its manifests.

Wire values become plain JSON: integral numbers are ints again, resource references become
their URN, and every secret value is replaced by ``state.REDACTED`` with its path recorded.
Unknown values cannot occur in a render (nothing is a preview) and fail the stack.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..state import REDACTED, ResourceState, StackState
from .runtime import RESOURCE_SIG, SECRET_SIG, SIG_KEY, UNKNOWN, RenderedProgram, RenderError

KUBERNETES_PREFIX = "kubernetes:"
PROVIDER_TYPE = "pulumi:providers:kubernetes"


@dataclass
class Manifest:
    urn: str
    cluster_context: str | None
    redacted: dict[str, Any]
    plain: dict[str, Any]  # secrets in clear: validated in memory, never written


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def clean(value: Any, path: str, secrets: list[str], *, redact: bool) -> Any:
    """Plain JSON for a wire value; secrets redacted (leaf by leaf) when ``redact``."""
    if isinstance(value, dict):
        sig = value.get(SIG_KEY)
        if sig == SECRET_SIG:
            return _secret(value.get("value"), path, secrets, redact=redact)
        if sig == RESOURCE_SIG:
            return value.get("urn")
        if sig is not None:
            raise RenderError(f"{path}: unsupported value kind {sig}")
        return {k: clean(v, _join(path, k), secrets, redact=redact) for k, v in value.items()}
    if isinstance(value, list):
        return [clean(v, _join(path, i), secrets, redact=redact) for i, v in enumerate(value)]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if value == UNKNOWN:
        raise RenderError(f"{path}: value unknown at render time")
    return value


def _secret(value: Any, path: str, secrets: list[str], *, redact: bool) -> Any:
    # Keep the shape (keys of a secret map stay visible) so that redacted manifests stay valid.
    if isinstance(value, dict) and SIG_KEY not in value:
        return {k: _secret(v, _join(path, k), secrets, redact=redact) for k, v in value.items()}
    if isinstance(value, list):
        return [_secret(v, _join(path, i), secrets, redact=redact) for i, v in enumerate(value)]
    secrets.append(path)
    return REDACTED if redact else clean(value, path, [], redact=False)


def build(rendered: RenderedProgram, *, env: str, kind: str, cluster: str, kubernetes_version: str,
          tenant: str | None, project: str) -> tuple[StackState, list[Manifest]]:
    resources: list[ResourceState] = []
    manifests: list[Manifest] = []
    contexts: dict[str | None, Any] = {r.urn: r.inputs.get("context") for r in rendered.registrations if r.type == PROVIDER_TYPE}
    for reg in rendered.registrations:
        secrets: list[str] = []
        inputs = clean(reg.inputs, "", secrets, redact=True)
        resources.append(ResourceState(
            urn=reg.urn, type=reg.type, name=reg.name, custom=reg.custom, parent=reg.parent,
            dependencies=reg.dependencies, provider=reg.provider, inputs=inputs, secret_paths=tuple(sorted(secrets)),
        ))
        if reg.custom and reg.type.startswith(KUBERNETES_PREFIX):
            plain = clean(reg.inputs, "", [], redact=False) if secrets else inputs
            manifests.append(Manifest(reg.urn, contexts.get(reg.provider), inputs, plain))
    outputs = {key: (REDACTED if key in rendered.secret_outputs else clean(value, key, [], redact=True))
               for key, value in rendered.outputs.items()}
    state = StackState(stack=rendered.stack, env=env, kind=kind, cluster=cluster, kubernetes_version=kubernetes_version,
                       tenant=tenant, project=project, resources=tuple(resources), outputs=outputs)
    manifests.sort(key=lambda m: m.urn)
    return state, manifests
