"""The rendered desired state as Kubernetes objects per cluster, and server-side apply of them.

Until `govcloud deploy` drives the Pulumi engine against the control planes, tests and
benchmarks put what render produced onto them with this: every object of every stack's
``state.json``, to the cluster its provider points at, by server-side apply (the same patch
type the Pulumi provider uses with ``enableServerSideApply``). Secret values are redacted in
the render; ``fill`` gives each redacted path a value (tests make random ones). Not a command:
deploying goes through review and `govcloud deploy`.
"""

from __future__ import annotations

import copy
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from ..state import REDACTED, STATE_FILE, StackState

FIELD_MANAGER = "govcloud"
# Namespaces and cluster-wide objects first (objects in a namespace need it; guardrails should
# exist before what they guard), then everything in namespaces.
_FIRST = ("Namespace", "CustomResourceDefinition", "ClusterRole", "PriorityClass", "ValidatingAdmissionPolicy",
          "ValidatingAdmissionPolicyBinding")


@dataclass(frozen=True)
class DesiredObject:
    stack: str
    cluster: str
    urn: str
    manifest: dict[str, Any]
    secret_paths: tuple[str, ...]

    @property
    def kind(self) -> str:
        return self.manifest["kind"]

    @property
    def namespace(self) -> str | None:
        return self.manifest["metadata"].get("namespace")

    @property
    def name(self) -> str:
        return self.manifest["metadata"]["name"]

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        """(cluster, apiVersion, kind, namespace, name): one object on one cluster."""
        return (self.cluster, self.manifest["apiVersion"], self.kind, self.namespace or "", self.name)

    @property
    def label(self) -> str:
        return f"{self.kind} {self.namespace + '/' if self.namespace else ''}{self.name}"


def desired_objects(render_dir: Path, stacks: Iterable[str] | None = None) -> list[DesiredObject]:
    """Every Kubernetes object of the rendered stacks under ``render_dir`` (``<stack>/state.json``)."""
    from ..components.program import cluster_of_provider

    wanted = set(stacks) if stacks is not None else None
    found = []
    for state_file in sorted(render_dir.glob(f"*/{STATE_FILE}")):
        if wanted is not None and state_file.parent.name not in wanted:
            continue
        state = StackState.load(state_file)
        for resource in state.resources:
            if resource.kind is None or not resource.custom or resource.provider is None:
                continue
            found.append(DesiredObject(state.stack, cluster_of_provider(resource.provider), resource.urn,
                                       resource.inputs, resource.secret_paths))
    return found


def server_side_apply(dynamic, manifest: dict[str, Any], field_manager: str = FIELD_MANAGER, dry_run: bool = False,
                      resource=None):
    """Server-side apply of one manifest with a DynamicClient (or a resource it resolved); force:
    the manager owns what it declares. Unknown or duplicate fields are errors, not warnings (as
    render's strict schemas)."""
    if resource is None:
        resource = dynamic.resources.get(api_version=manifest["apiVersion"], kind=manifest["kind"])
    meta = manifest["metadata"]
    kwargs: dict[str, Any] = {"dry_run": "All"} if dry_run else {}
    return resource.server_side_apply(body=manifest, name=meta["name"], namespace=meta.get("namespace"),
                                      field_manager=field_manager, force_conflicts=True,
                                      query_params=[("fieldValidation", "Strict")], **kwargs)


def apply_order(objects: Iterable[DesiredObject]) -> list[DesiredObject]:
    rank = {kind: index for index, kind in enumerate(_FIRST)}
    return sorted(objects, key=lambda o: (rank.get(o.kind, len(_FIRST)), o.key))


def fill(obj: DesiredObject, value: Callable[[DesiredObject, str], str]) -> dict[str, Any]:
    """The manifest with every redacted secret path given ``value(obj, path)``."""
    manifest = copy.deepcopy(obj.manifest)
    for path in obj.secret_paths:
        *parents, leaf = path.split(".")
        node = manifest
        for part in parents:
            node = node[part]
        if node.get(leaf) == REDACTED:
            node[leaf] = value(obj, path)
    return manifest


class Applier:
    """Server-side apply to the control planes, one DynamicClient per cluster."""

    def __init__(self, clients: dict[str, Any], field_manager: str = FIELD_MANAGER):
        from .access import dynamic

        self.field_manager = field_manager
        self.dynamic = {cluster: dynamic(api) for cluster, api in clients.items()}
        self._resources: dict[tuple[str, str, str], Any] = {}

    def resource(self, cluster: str, api_version: str, kind: str):
        key = (cluster, api_version, kind)
        if key not in self._resources:
            self._resources[key] = self.dynamic[cluster].resources.get(api_version=api_version, kind=kind)
        return self._resources[key]

    def apply(self, cluster: str, manifest: dict[str, Any], dry_run: bool = False) -> dict[str, Any]:
        resource = self.resource(cluster, manifest["apiVersion"], manifest["kind"])
        return server_side_apply(self.dynamic[cluster], manifest, self.field_manager, dry_run, resource=resource).to_dict()

    def apply_all(self, objects: Iterable[DesiredObject], value: Callable[[DesiredObject, str], str],
                  workers: int = 8) -> list[tuple[DesiredObject, str | None]]:
        """Apply in order (namespaces and cluster-wide objects first); returns (object, error or None)."""
        ordered = apply_order(objects)
        first = [o for o in ordered if o.kind in _FIRST]
        rest = [o for o in ordered if o.kind not in _FIRST]

        def one(obj: DesiredObject) -> tuple[DesiredObject, str | None]:
            try:
                self.apply(obj.cluster, fill(obj, value))
                return obj, None
            except Exception as exc:  # reported per object, with the API server's reason
                return obj, _reason(exc)

        results = [one(o) for o in first]
        for obj in rest:  # discovery from this thread only
            try:
                self.resource(obj.cluster, obj.manifest["apiVersion"], obj.kind)
            except Exception:  # an unknown kind: reported by its apply below
                pass
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results += list(pool.map(one, rest))
        return results


def _reason(exc: Exception) -> str:
    import json

    body = getattr(exc, "body", None)
    if body:
        try:
            return json.loads(body).get("message", str(body))[:500]
        except (ValueError, AttributeError):
            return str(body)[:500]
    return f"{type(exc).__name__}: {exc}"[:500]
