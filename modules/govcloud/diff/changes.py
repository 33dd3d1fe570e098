"""What changed between two desired states of a stack: resources and fields, secrets redacted.

A resource is identified by its URN, as the engine does. Only in the new state: create; only
in the old: delete; in both with different inputs: update, or replace when a changed field (or
the resource's provider) forces it (``immutable``). Field changes are leaf paths spelled the
way ``pulumi preview`` spells detailed diffs (``spec.hard["requests.cpu"]``,
``spec.egress[2].ports[0].port``) with the old and new values.

Secrets never leave this module in clear: a value is redacted when its path is a recorded
secret path of either side, when it lies under a Kubernetes Secret's ``data``/``stringData``,
or when it is a Pulumi secret (wire marker), whatever the input claims.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from ..state import REDACTED, SECRET_SIG, ResourceState, StackState
from ..state import SECRET_SIG_KEY as SIG_KEY
from . import immutable

OPS = ("delete", "replace", "create", "update")  # the order reports list them in
MISSING = object()
SECRET_KINDS = ("Secret",)
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")

Path = tuple[str | int, ...]


def spell(path: Path) -> str:
    """A leaf path the way Pulumi's detailed diff spells it."""
    out = ""
    for key in path:
        if isinstance(key, int):
            out += f"[{key}]"
        elif _IDENTIFIER.match(key):
            out += f".{key}" if out else key
        else:
            out += '["' + key.replace("\\", "\\\\").replace('"', '\\"') + '"]'
    return out


def render_spelling(path: Path) -> str:
    """The same path as ``govcloud render`` records secret paths (``stringData.password``)."""
    out = ""
    for key in path:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out


@dataclass(frozen=True)
class FieldChange:
    path: str
    old: Any = None  # None with ``added``; values are JSON, secrets redacted
    new: Any = None
    change: str = "update"  # add | delete | update

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"path": self.path, "change": self.change}
        if self.change != "add":
            data["old"] = self.old
        if self.change != "delete":
            data["new"] = self.new
        return data


@dataclass(frozen=True)
class ResourceChange:
    op: str  # create | delete | replace | update
    urn: str
    type: str
    name: str  # the Pulumi resource name (``<namespace>/<name>`` for namespaced objects)
    fields: tuple[FieldChange, ...] = ()
    reasons: tuple[str, ...] = ()  # what forces a replacement
    warnings: tuple[str, ...] = ()
    inputs: dict[str, Any] | None = None  # the whole (redacted) object, for creates and deletes
    cluster: str | None = None  # the provider's resource name (cluster-<id>) for Kubernetes objects

    @property
    def kind(self) -> str:
        if self.type.startswith("pulumi:providers:"):
            return "Provider"
        return self.type.rsplit(":", 1)[-1]

    def sort_key(self) -> tuple:
        return (OPS.index(self.op), self.type, self.name, self.urn)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"op": self.op, "urn": self.urn, "type": self.type, "kind": self.kind, "name": self.name}
        if self.cluster:
            data["cluster"] = self.cluster
        if self.fields:
            data["fields"] = [f.as_dict() for f in self.fields]
        if self.reasons:
            data["replace_reasons"] = list(self.reasons)
        if self.warnings:
            data["warnings"] = list(self.warnings)
        if self.inputs is not None:
            data["inputs"] = self.inputs
        return data


@dataclass(frozen=True)
class StackDiff:
    stack: str
    kind: str  # foundation | tenant
    status: str  # added | removed | changed | unchanged
    tenant: str | None = None
    cluster: str | None = None
    changes: tuple[ResourceChange, ...] = ()
    # Context from the objects themselves: tenant labels and annotations (zone, requester, ...).
    context: dict[str, Any] = field(default_factory=dict)
    # Zone flows its NetworkPolicies open ("opened") or no longer open ("closed"), by flow label.
    flows: dict[str, list[str]] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {op: sum(1 for c in self.changes if c.op == op) for op in OPS}

    @property
    def changed(self) -> bool:
        return bool(self.changes) or self.status in ("added", "removed")

    def as_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "kind": self.kind,
            "status": self.status,
            "tenant": self.tenant,
            "cluster": self.cluster,
            "counts": self.counts(),
            "context": self.context,
            "flows": self.flows,
            "resources": [c.as_dict() for c in self.changes],
        }


# --- values ------------------------------------------------------------------------------------
def _is_secret_marker(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG


def redact(value: Any, secret_paths: Iterable[str] = (), *, secret_kind: bool = False, _path: Path = ()) -> Any:
    """``value`` with every secret replaced by ``REDACTED`` (keys of secret maps stay visible)."""
    prefixes = tuple(secret_paths)
    return _redact(value, prefixes, secret_kind, _path)


def _under(path: Path, prefixes: tuple[str, ...]) -> bool:
    if not prefixes:
        return False
    spelled = render_spelling(path)
    return any(spelled == p or spelled.startswith(p + ".") or spelled.startswith(p + "[") for p in prefixes)


def _secret_data(path: Path, secret_kind: bool) -> bool:
    return secret_kind and len(path) >= 2 and path[0] in ("data", "stringData")


def _redact(value: Any, prefixes: tuple[str, ...], secret_kind: bool, path: Path) -> Any:
    if _is_secret_marker(value):
        inner = value.get("value")
        return _redact_all(inner)
    if isinstance(value, dict):
        return {k: _redact(v, prefixes, secret_kind, path + (k,)) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, prefixes, secret_kind, path + (i,)) for i, v in enumerate(value)]
    if _under(path, prefixes) or _secret_data(path, secret_kind):
        return REDACTED
    return value


def unwrap(value: Any) -> Any:
    """Pulumi secret markers replaced by their values: for comparing, never for showing."""
    if _is_secret_marker(value):
        return unwrap(value.get("value"))
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def value_at(value: Any, path: Path) -> Any:
    for key in path:
        if isinstance(key, int) and isinstance(value, list) and 0 <= key < len(value):
            value = value[key]
        elif isinstance(key, str) and isinstance(value, dict) and key in value:
            value = value[key]
        else:
            return MISSING
    return value


def _redact_all(value: Any) -> Any:
    """Every leaf of a secret value is redacted; the shape of maps stays."""
    if isinstance(value, dict) and not _is_secret_marker(value):
        return {k: _redact_all(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_all(v) for v in value]
    return REDACTED


def leaves(value: Any, path: Path = ()) -> Iterable[tuple[Path, Any]]:
    """Every leaf with its path; empty maps and lists are leaves too."""
    if isinstance(value, dict) and value:
        for key in sorted(value):
            yield from leaves(value[key], path + (key,))
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            yield from leaves(item, path + (index,))
    else:
        yield path, value


def field_changes(old: Any, new: Any, prefix: Path = ()) -> list[tuple[Path, Any, Any]]:
    """(path, old, new) for every leaf that differs; MISSING where a side has no such leaf
    (either value may be MISSING itself)."""
    if old is not MISSING and new is not MISSING and old == new:
        return []
    before = dict(leaves(old, prefix)) if old is not MISSING else {}
    after = dict(leaves(new, prefix)) if new is not MISSING else {}
    out = []
    for path in sorted(set(before) | set(after), key=_path_key):
        a, b = before.get(path, MISSING), after.get(path, MISSING)
        if a is MISSING or b is MISSING or a != b or type(a) is not type(b):
            out.append((path, a, b))
    return out


def _path_key(path: Path) -> tuple:
    return tuple((0, k, "") if isinstance(k, int) else (1, 0, k) for k in path)


def to_field_change(path: Path, old: Any, new: Any) -> FieldChange:
    if old is MISSING:
        return FieldChange(spell(path), None, new, "add")
    if new is MISSING:
        return FieldChange(spell(path), old, None, "delete")
    return FieldChange(spell(path), old, new, "update")


# --- resources ---------------------------------------------------------------------------------
def _secret_kind(resource: ResourceState) -> bool:
    return resource.kind in SECRET_KINDS


def redacted_inputs(resource: ResourceState, extra_paths: Iterable[str] = ()) -> dict[str, Any]:
    return redact(resource.inputs, (*resource.secret_paths, *extra_paths), secret_kind=_secret_kind(resource))


def _cluster_of(resource: ResourceState, providers: dict[str, ResourceState]) -> str | None:
    provider = providers.get(resource.provider or "")
    return provider.name if provider is not None else None


def compare_resources(old: ResourceState, new: ResourceState, old_providers: dict[str, ResourceState],
                      new_providers: dict[str, ResourceState], replaced_providers: set[str]) -> ResourceChange | None:
    """The change from ``old`` to ``new`` (same URN), or None when nothing changes."""
    secret_paths = (*old.secret_paths, *new.secret_paths)
    secret_kind = _secret_kind(old) or _secret_kind(new)
    before = redact(old.inputs, secret_paths, secret_kind=secret_kind)
    after = redact(new.inputs, secret_paths, secret_kind=secret_kind)
    # Compare the values as given (a secret that changed is a change) but show only redacted ones.
    found = [(path, a if a is MISSING else value_at(before, path), b if b is MISSING else value_at(after, path))
             for path, a, b in field_changes(unwrap(old.inputs), unwrap(new.inputs))]
    reasons: list[str] = []
    if (old.provider or None) != (new.provider or None):
        reasons.append(f"provider: {_cluster_of(old, old_providers) or old.provider} -> "
                       f"{_cluster_of(new, new_providers) or new.provider}")
    elif new.provider in replaced_providers:
        reasons.append(f"provider: {_cluster_of(new, new_providers)} is replaced")
    if not found and not reasons:
        return None
    paths = [p for p, _, _ in found]
    if new.custom:
        provider = new_providers.get(new.provider or "")
        reasons += immutable.replace_reasons(new.type, paths, old.inputs, new.inputs,
                                             provider.inputs if provider is not None else None)
    warnings = [f"{f} cannot change in the Kubernetes API: the in-place update will be refused (delete and recreate it)"
                for f in immutable.api_immutable_fields(new.type, paths)] if not reasons else []
    return ResourceChange(
        op="replace" if reasons else "update",
        urn=new.urn, type=new.type, name=new.name,
        fields=tuple(to_field_change(*c) for c in found),
        reasons=tuple(reasons), warnings=tuple(warnings),
        cluster=_cluster_of(new, new_providers),
    )


def _providers(state: StackState | None) -> dict[str, ResourceState]:
    if state is None:
        return {}
    return {r.urn: r for r in state.resources if r.type.startswith("pulumi:providers:")}


IGNORED_TYPES = ("pulumi:pulumi:Stack",)


def diff_states(old: StackState | None, new: StackState | None) -> StackDiff:
    """Every resource change of one stack between two desired states (either may be absent)."""
    present = new or old
    assert present is not None, "diff_states needs at least one state"
    before = {r.urn: r for r in old.resources if r.type not in IGNORED_TYPES} if old else {}
    after = {r.urn: r for r in new.resources if r.type not in IGNORED_TYPES} if new else {}
    old_providers, new_providers = _providers(old), _providers(new)
    replaced_providers = {
        urn for urn, provider in new_providers.items()
        if urn in old_providers and immutable.replace_reasons(provider.type, [], old_providers[urn].inputs, provider.inputs, None)
    }
    changes: list[ResourceChange] = []
    for urn in sorted(set(before) | set(after)):
        a, b = before.get(urn), after.get(urn)
        if a is None:
            assert b is not None
            changes.append(ResourceChange("create", b.urn, b.type, b.name, inputs=redacted_inputs(b),
                                          cluster=_cluster_of(b, new_providers)))
        elif b is None:
            changes.append(ResourceChange("delete", a.urn, a.type, a.name, inputs=redacted_inputs(a),
                                          cluster=_cluster_of(a, old_providers)))
        else:
            change = compare_resources(a, b, old_providers, new_providers, replaced_providers)
            if change is not None:
                changes.append(change)
    status = "added" if old is None else "removed" if new is None else ("changed" if changes else "unchanged")
    return StackDiff(
        stack=present.stack, kind=present.kind, status=status, tenant=present.tenant, cluster=present.cluster,
        changes=tuple(sorted(changes, key=ResourceChange.sort_key)),
        context=stack_context(present),
        flows=flow_changes(_flow_labels(old), _flow_labels(new)),
    )


# --- context from the objects ------------------------------------------------------------------
def stack_context(state: StackState) -> dict[str, Any]:
    """Zone, region, level, department, requester, reason and approvals as the tenant's Namespaces carry them."""
    return objects_context(r.inputs for r in state.resources if r.kind == "Namespace" and r.custom)


def objects_context(namespaces: Iterable[dict[str, Any]]) -> dict[str, Any]:
    from .. import labels

    context: dict[str, Any] = {}
    for inputs in namespaces:
        metadata = inputs.get("metadata") or {}
        found_labels = metadata.get("labels") or {}
        annotations = metadata.get("annotations") or {}
        if (metadata.get("name") or "").startswith("edge-"):
            continue  # edge namespaces live in the internet zone; the tenant's own ones say where it is
        for key, name in ((labels.ZONE, "zone"), (labels.REGION, "region"), (labels.MLPS_LEVEL, "mlps_level"),
                          (labels.CLUSTER, "cluster")):
            if found_labels.get(key) and name not in context:
                context[name] = found_labels[key]
        for key, name in ((labels.DEPARTMENT, "department"), (labels.REQUESTED_BY, "requested_by"),
                          (labels.CHANGE_REASON, "reason")):
            if annotations.get(key) and name not in context:
                context[name] = annotations[key]
        if annotations.get(labels.APPROVAL) and "approvals" not in context:
            context["approvals"] = [{"reference": ref.strip()} for ref in str(annotations[labels.APPROVAL]).split(",") if ref.strip()]
    return context


# --- zone flows --------------------------------------------------------------------------------
def flow_labels(objects: Iterable[dict[str, Any]]) -> set[str]:
    """The zone flows (``from->to proto/ports``) the NetworkPolicies among ``objects`` implement."""
    import json

    from .. import labels

    found: set[str] = set()
    for inputs in objects:
        if inputs.get("kind") != "NetworkPolicy":
            continue
        text = ((inputs.get("metadata") or {}).get("annotations") or {}).get(labels.FLOW_RULES)
        if not text:
            continue
        try:
            rules = json.loads(text)
        except (TypeError, ValueError):
            continue
        for direction in ("ingress", "egress"):
            found |= {str(f) for f in rules.get(direction, []) if "->" in str(f)}
    return found


def _flow_labels(state: StackState | None) -> set[str]:
    return flow_labels(r.inputs for r in state.resources) if state is not None else set()


def flow_changes(before: set[str], after: set[str]) -> dict[str, list[str]]:
    changes = {"opened": sorted(after - before), "closed": sorted(before - after)}
    return {k: v for k, v in changes.items() if v}
