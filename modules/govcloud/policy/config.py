"""The pack's configuration for one environment, generated from the model.

One JSON document in the format of ``pulumi preview --policy-pack-config``: for every rule,
``enforcementLevel`` (the rule's default, overridden by ``platform.policy.enforcement``) and the
model facts the rule declared. Written by ``govcloud policy config --env ENV``; ``govcloud check``
feeds the same document to the pack through Configure, so a user with the engine and the check
see the same verdicts.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, Iterable

from ..inventory_io import write_atomic
from ..model import Environment, InputError, Problem
from ..model.loader import PLATFORM_FILE, display_path
from ..model.source import load_yaml_file
from .catalog import rules

CONFIG_FILE = "policy-config.json"


def build_facts(env: Environment) -> dict[str, Any]:
    """Every fact any rule may need, from the model."""
    platform = env.platform
    tenants = env.tenants
    datasets = {
        f"{t.id}/{d.name}": {"publisher": t.id, "sharing": d.sharing, "sensitivity": d.sensitivity}
        for t in tenants
        for d in t.request.datasets.publishes
    }
    return {
        "zones": {z.id: {"kind": z.kind, "cidr": str(z.cidr), "max_level": z.max_level} for z in platform.zones},
        "flows": [
            {"from": f.source, "to": f.destination, "protocol": f.protocol, "ports": list(f.ports), "gateway": f.gateway or ""}
            for f in platform.flows
        ],
        "clusters": {
            c.id: {"zone": c.zone, "registry": c.registry, "kubernetes_version": c.kubernetes_version} for c in platform.clusters
        },
        "templates": {
            str(p.level): {
                "quotas_max": {k: str(v) for k, v in p.tenant_template.quotas.max.model_dump().items()},
                "limits_max": p.tenant_template.limits.max.model_dump(),
                "namespaces_max": p.tenant_template.namespaces_max,
                "pod_security": p.baseline.pod_security,
            }
            for p in platform.levels
        },
        "tenants": {
            t.id: {"level": t.level, "zone": t.zone, "cluster": t.cluster, "namespaces": list(t.namespaces)} for t in tenants
        },
        "administrators": {
            t.id: {role: getattr(t.request.administrators, role).account for role in ("system", "security", "audit")}
            for t in tenants
        },
        "approvals": {t.id: sorted({a.reference for a in t.request.change.approvals}) for t in tenants},
        "services": {t.id: [{"host": s.host, "path": s.path, "port": s.port} for s in t.request.services] for t in tenants},
        "datasets": datasets,
        "consumes": {t.id: {c.dataset: c.approval or "" for c in t.request.datasets.consumes} for t in tenants},
    }


def enforcement_problems(env: Environment) -> list[Problem]:
    """Overrides naming a rule the pack does not have, located in platform.yaml."""
    known = {r.id for r in rules()}
    unknown = sorted(set(env.platform.policy.enforcement) - known)
    if not unknown:
        return []
    path = env.root / PLATFORM_FILE
    doc = load_yaml_file(path, display_path(path))
    return [
        doc.problem(("policy", "enforcement", rule_id), f"{rule_id} is not a rule of the {len(known)}-rule govcloud pack")
        for rule_id in unknown
    ]


def build_config(env: Environment, facts: dict[str, Any] | None = None) -> dict[str, Any]:
    """The policy pack configuration for ``env`` (raises InputError on unknown rule ids);
    ``facts``: ``build_facts(env)`` when the caller has it already."""
    problems = enforcement_problems(env)
    if problems:
        raise InputError(problems)
    facts = facts if facts is not None else build_facts(env)
    overrides = env.platform.policy.enforcement
    config: dict[str, Any] = {}
    for rule in rules():
        entry: dict[str, Any] = {"enforcementLevel": overrides.get(rule.id, rule.enforcement)}
        for name in rule.facts:
            entry[name] = facts[name]
        config[rule.id] = entry
    return config


def engine_exceptions(env: Environment, states: Iterable[Any], today: dt.date) -> dict[str, Any]:
    """The waivers in force on ``today`` as the engine's policy exceptions: each waiver's rule on
    exactly the resources of ``states`` its scope covers (the engine compares URNs exactly). A
    violation an exception covers does not stop ``pulumi preview|up``, as a waived finding does
    not fail ``govcloud check``; the engine reports it with the waiver's id."""
    from ..check.waivers import waiver_state

    states = list(states)
    exceptions: dict[str, Any] = {}
    for waiver in sorted(env.waivers, key=lambda w: w.id):
        if waiver_state(waiver, today) != "in-force":
            continue
        targets = sorted({r.urn for state in states for r in state.resources
                          if waiver.scope.matches(stack=state.stack, tenant=state.tenant, urn=r.urn)})
        if targets:
            exceptions[waiver.id] = {
                "reason": f"{waiver.reason} (waiver {waiver.id}, approved by {waiver.approver}, {waiver.created} to {waiver.expires})",
                "match": [{"policies": [waiver.rule], "targets": targets}],
            }
    return exceptions


def engine_config(env: Environment, states: Iterable[Any], today: dt.date) -> dict[str, Any]:
    """What ``pulumi preview|up --policy-pack-config`` gets from `govcloud deploy`: the pack's
    configuration (``build_config``) and the waivers as policy exceptions (format version 2)."""
    return {"version": 2, "policies": build_config(env), "exceptions": engine_exceptions(env, states, today)}


def canonical(config: dict[str, Any]) -> str:
    return json.dumps(config, sort_keys=True, ensure_ascii=False, indent=1, separators=(",", ": ")) + "\n"


def config_digest(config: dict[str, Any]) -> str:
    """sha256 of the configuration's canonical JSON (RFC 8785, ``govcloud.canonical``)."""
    from ..canonical import digest

    return digest(config)


def config_path(build: Path, env: str) -> Path:
    return build / "policy" / env / CONFIG_FILE


def write_config(config: dict[str, Any], path: Path) -> Path:
    write_atomic(path, canonical(config))
    return path
