"""Read the live objects and build the drift report (``govcloud.drift/v1``).

Live objects are listed once per kind per cluster (all namespaces, paged), never fetched one
by one, so a province of thousands of objects costs a few list calls per cluster. Objects in
tenant namespaces that no stack declares are reported for the kinds only the platform writes
there (RBAC, network policies, quotas, limit ranges, service accounts, routes): tenants run
their own workloads, and those are theirs, not drift.
"""

from __future__ import annotations

import datetime as dt
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Iterable

from .. import labels
from ..cluster.apply import DesiredObject
from ..text import json_document
from .compare import Drift, object_changes

FORMAT = "govcloud.drift/v1"
PAGE = 500
# Kinds only the platform writes in tenant namespaces (no tenant role may create them, or, for
# NetworkPolicy, every one the security administrator adds opens traffic and is worth seeing).
GOVERNED_KINDS: tuple[tuple[str, str], ...] = (
    ("rbac.authorization.k8s.io/v1", "Role"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
    ("v1", "ResourceQuota"),
    ("v1", "LimitRange"),
    ("v1", "ServiceAccount"),
    ("gateway.networking.k8s.io/v1", "HTTPRoute"),
)
# What Kubernetes itself creates in every namespace.
GENERATED = {("ServiceAccount", "default")}
# Field managers that apply the desired state (the Pulumi provider, govcloud's own apply):
# other managers of a drifted object are named in the report.
DEPLOY_MANAGERS = ("pulumi-kubernetes", "govcloud")


@dataclass
class DriftReport:
    env: str
    stacks: list[str]
    clusters: dict[str, dict[str, Any]]
    drift: Drift
    objects: int
    generated_at: str = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))

    @property
    def drifted(self) -> bool:
        return self.drift.drifted

    def summary(self) -> dict[str, Any]:
        d = self.drift
        return {"objects": self.objects, "in_sync": d.in_sync, "missing": len(d.missing), "changed": len(d.changed),
                "unmanaged": len(d.unmanaged), "drift": self.drifted}

    def as_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "env": self.env, "generated_at": self.generated_at, "stacks": sorted(self.stacks),
                "clusters": self.clusters, "summary": self.summary(), "missing": self.drift.missing,
                "changed": self.drift.changed, "unmanaged": self.drift.unmanaged}

    def to_json(self) -> str:
        return json_document(self.as_dict())


def resolve(dynamic, api_version: str, kind: str):
    """The served resource of a kind, or None if the cluster does not serve it."""
    from kubernetes.dynamic.exceptions import ResourceNotFoundError

    try:
        return dynamic.resources.get(api_version=api_version, kind=kind)
    except ResourceNotFoundError:
        return None


def list_live(resource) -> dict[tuple[str, str], dict[str, Any]]:
    """Every object of a resolved resource on its cluster, keyed by (namespace, name)."""
    if resource is None:
        return {}
    found: dict[tuple[str, str], dict[str, Any]] = {}
    token = None
    while True:
        response = resource.get(limit=PAGE, _continue=token, serialize=False)
        page = json.loads(response.data)
        for item in page.get("items") or []:
            meta = item["metadata"]
            found[(meta.get("namespace", ""), meta["name"])] = item
        token = (page.get("metadata") or {}).get("continue")
        if not token:
            return found


def _managers(live: dict[str, Any]) -> list[dict[str, str]]:
    out = []
    for entry in live.get("metadata", {}).get("managedFields") or []:
        manager = entry.get("manager", "")
        if manager.startswith(DEPLOY_MANAGERS):
            continue
        out.append({"manager": manager, "operation": entry.get("operation", ""), "time": entry.get("time", "")})
    return sorted(out, key=lambda m: (m["time"], m["manager"]))


def _ref(cluster: str, api_version: str, kind: str, namespace: str, name: str) -> dict[str, str]:
    return {"cluster": cluster, "apiVersion": api_version, "kind": kind, "namespace": namespace, "name": name}


def compute(env_name: str, desired: list[DesiredObject], dynamic: dict[str, Any], stacks: Iterable[str],
            whole_environment: bool, workers: int = 8) -> DriftReport:
    """``dynamic``: a DynamicClient per cluster id. ``whole_environment``: also count live
    namespaces labelled as tenants' that no rendered stack declares (an unknown tenant)."""
    kinds_by_cluster: dict[str, set[tuple[str, str]]] = {c: set(GOVERNED_KINDS) | {("v1", "Namespace")} for c in dynamic}
    for obj in desired:
        kinds_by_cluster.setdefault(obj.cluster, set()).add((obj.manifest["apiVersion"], obj.kind))
    jobs = [(c, av, k) for c, kinds in sorted(kinds_by_cluster.items()) if c in dynamic for av, k in sorted(kinds)]
    resources = [resolve(dynamic[c], av, k) for c, av, k in jobs]  # discovery from this thread only
    with ThreadPoolExecutor(max_workers=workers) as pool:
        listed = dict(zip(jobs, pool.map(list_live, resources), strict=True))

    drift = Drift()
    declared: set[tuple[str, str, str, str]] = set()
    tenant_namespaces: dict[str, set[str]] = {c: set() for c in dynamic}
    for obj in sorted(desired, key=lambda o: (o.stack, o.key)):
        namespace = obj.namespace or ""
        declared.add((obj.cluster, obj.kind, namespace, obj.name))
        if obj.kind == "Namespace" and labels.TENANT in (obj.manifest["metadata"].get("labels") or {}):
            tenant_namespaces.setdefault(obj.cluster, set()).add(obj.name)
        ref = {"stack": obj.stack, **_ref(obj.cluster, obj.manifest["apiVersion"], obj.kind, namespace, obj.name)}
        if obj.cluster not in dynamic:
            drift.missing.append({**ref, "reason": f"cluster {obj.cluster} is not reachable"})
            continue
        live = listed[(obj.cluster, obj.manifest["apiVersion"], obj.kind)].get((namespace, obj.name))
        if live is None:
            drift.missing.append(ref)
            continue
        changes = object_changes(obj.manifest, live, obj.secret_paths)
        if changes:
            drift.changed.append({**ref, "fields": [c.as_dict() for c in changes], "managers": _managers(live)})
        else:
            drift.in_sync += 1
    if whole_environment:
        for cluster in sorted(dynamic):
            for (_, name), ns in sorted(listed[(cluster, "v1", "Namespace")].items()):
                if labels.TENANT in (ns["metadata"].get("labels") or {}):
                    tenant_namespaces[cluster].add(name)
                    if (cluster, "Namespace", "", name) not in declared:
                        drift.unmanaged.append({**_ref(cluster, "v1", "Namespace", "", name), "managers": _managers(ns)})
    for cluster in sorted(dynamic):
        for api_version, kind in GOVERNED_KINDS:
            for (namespace, name), live in sorted(listed.get((cluster, api_version, kind), {}).items()):
                if namespace not in tenant_namespaces[cluster] or (kind, name) in GENERATED:
                    continue
                if (cluster, kind, namespace, name) not in declared:
                    drift.unmanaged.append({**_ref(cluster, api_version, kind, namespace, name), "managers": _managers(live)})
    return DriftReport(env_name, sorted(set(stacks)), {}, drift, len(desired))


def run(env, inventories, planes, stacks: list[str] | None = None, render_dir=None, jobs: int | None = None) -> DriftReport:
    """Render the desired state (or read ``render_dir``), read the live clusters through the
    lab's namespace as the deployer, and compare. Raises ``DriftInputError`` on bad input."""
    import tempfile
    from pathlib import Path

    from ..cluster.apply import desired_objects
    from ..render import pipeline

    names = [s.name for s in env.stacks]
    for stack in stacks or ():
        if stack not in names:
            raise DriftInputError(f"--stack {stack}: not a stack of environment {env.name} (`govcloud stacks list`)")
    selected = list(stacks) if stacks else names
    with tempfile.TemporaryDirectory(prefix="govcloud-drift-") as scratch:
        if render_dir is None:
            out = Path(scratch)
            results = pipeline.render(env, inventories, out, only=list(stacks) if stacks else None, jobs=jobs)
            errors = [e for r in results for e in r.errors]
            if errors:
                raise DriftInputError(f"the desired state does not render: {errors[0]}")
        else:
            out = Path(render_dir)
            missing = [s for s in selected if not (out / s / "state.json").is_file()]
            if missing:
                raise DriftInputError(f"--from-render {out}: no state.json for {', '.join(missing[:5])}")
        desired = desired_objects(out, selected)
    clusters = sorted({o.cluster for o in desired} | ({c.id for c in env.platform.clusters} if not stacks else set()))
    status = {p.id: p for p in planes.planes}
    if not planes.kubeconfig.is_file():
        raise DriftInputError(f"no kubeconfig at {planes.kubeconfig}: the control planes of {env.name} are not up "
                              f"(`govcloud cluster up --env {env.name}`)")
    clients = {}
    try:
        from ..cluster.access import dynamic as dynamic_client

        dynamic = {}
        for cluster in clusters:
            try:
                clients[cluster] = planes.access.client(env.cluster(cluster).kube_context)
                dynamic[cluster] = dynamic_client(clients[cluster])
            except Exception as exc:  # unreachable, refused, bad credentials: one line naming the cluster
                raise DriftInputError(f"cannot read cluster {cluster} ({status[cluster].server if cluster in status else '?'}): "
                                      f"{str(exc).splitlines()[0][:200]}") from None
        report = compute(env.name, desired, dynamic, selected, whole_environment=not stacks)
    finally:
        for api in clients.values():
            api.close()
    report.clusters = {c: {"server": status[c].server, "kube_context": status[c].cluster.kube_context} for c in clusters if c in status}
    return report


class DriftInputError(Exception):
    """Bad input to drift (unknown stack, a render that fails, no control planes): exit 2."""
