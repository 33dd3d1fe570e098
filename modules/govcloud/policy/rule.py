"""What a rule is, and how one becomes a CrossGuard policy.

A rule module defines one (or a tight group of) ``Rule`` with ``resource_rule``/``stack_rule``:
metadata for people (id, title, clause, severity, default enforcement, remediation) plus a
small check function. The check sees plain views of Kubernetes objects (``K8sObject``) and the
model facts it declared (``Facts``); it yields messages and raises ``NotApplicable`` when the
object or stack is not its business, so that "passed" always means "looked and found nothing".
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

from .. import labels
from .facts import FACT_SCHEMAS, Facts, facts_for, reading_for, stack_of

SEVERITIES = ("low", "medium", "high", "critical")
ENFORCEMENTS = ("advisory", "mandatory", "disabled")
STANDARDS = {"DAT": "data", "TEC": "technology", "MGT": "management", "SVC": "services", "SEC": "security"}
# Stricter than the waiver model's ^GOV-[A-Z]{3}-[0-9]{3}$: the middle part names a standard.
RULE_ID_RE = re.compile(r"^GOV-(DAT|TEC|MGT|SVC|SEC)-[0-9]{3}$")
KUBERNETES_PREFIX = "kubernetes:"
ANY_KIND = "*"  # a resource rule that looks at every Kubernetes object


class NotApplicable(Exception):
    """Raised by a check when the object or stack is outside the rule's scope."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _get(mapping: Any, *path: str) -> Any:
    current = mapping
    for key in path:
        if not isinstance(current, Mapping):
            return None
        current = current.get(key)
    return current


def as_list(value: Any) -> Sequence:
    """Lists (or the SDK's read-only list proxies) as a sequence; anything else as empty."""
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return value
    return ()


def as_map(value: Any) -> Mapping:
    return value if isinstance(value, Mapping) else {}


class K8sObject:
    """A Kubernetes object as the engine hands it to a policy: type, URN, camelCase inputs."""

    __slots__ = ("urn", "type", "name", "props", "kind", "metadata", "labels", "annotations", "derived")

    def __init__(self, urn: str, type_: str, name: str, props: Mapping[str, Any]):
        self.urn = urn
        self.type = type_
        self.name = name
        self.props = props
        self.kind = type_.rsplit(":", 1)[-1] if type_.startswith(KUBERNETES_PREFIX) else None
        self.metadata: Mapping = as_map(props.get("metadata"))
        self.labels: Mapping = as_map(self.metadata.get("labels"))
        self.annotations: Mapping = as_map(self.metadata.get("annotations"))
        # What several rules read out of the object the same way (``k8s.peers``), once per view.
        self.derived: dict[str, Any] | None = None

    def get(self, *path: str) -> Any:
        return _get(self.props, *path)

    @property
    def object_name(self) -> str:
        return str(self.metadata.get("name") or self.name)

    @property
    def namespace(self) -> str | None:
        value = self.metadata.get("namespace")
        return str(value) if value else None

    @property
    def tenant(self) -> str | None:
        value = self.labels.get(labels.TENANT)
        return str(value) if value else None

    @property
    def purpose(self) -> str | None:
        value = self.labels.get(labels.PURPOSE)
        return str(value) if value else None

    @property
    def spec(self) -> Mapping:
        return as_map(self.props.get("spec"))

    def describe(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind or self.type} {where}{self.object_name}"


class StackView:
    """Every resource of one stack, for whole-stack rules."""

    def __init__(self, objects: list[K8sObject]):
        self.objects = objects

    def of_kind(self, *kinds: str) -> list[K8sObject]:
        return [o for o in self.objects if o.kind in kinds]

    def in_namespace(self, namespace: str, *kinds: str) -> list[K8sObject]:
        return [o for o in self.objects if o.namespace == namespace and (not kinds or o.kind in kinds)]

    def tenant_namespaces(self) -> list[K8sObject]:
        """The namespaces a tenant's workloads run in (not its edge namespace)."""
        return [o for o in self.of_kind("Namespace") if o.tenant and o.purpose != labels.PURPOSE_EDGE]

    def edge_namespaces(self) -> list[K8sObject]:
        return [o for o in self.of_kind("Namespace") if o.tenant and o.purpose == labels.PURPOSE_EDGE]

    @property
    def tenants(self) -> set[str]:
        return {o.tenant for o in self.objects if o.kind and o.tenant}

    def require_tenant_stack(self) -> str:
        tenants = self.tenants
        if not tenants:
            raise NotApplicable("not a tenant stack (no object carries a tenant label)")
        return sorted(tenants)[0]


_OBJECTS: dict[int, tuple[Any, K8sObject]] = {}  # id(props) -> (props, its view); see _object_of
_OBJECTS_KEPT = 4096


def _object_of(urn: str, type_: str, name: str, props: Mapping[str, Any]) -> K8sObject:
    """The view of a resource, made once for every rule that looks at the same properties object
    (the pack shares one per resource: ``policy/pack.py``); the entry holds ``props`` so its id
    stays unique while cached. Views are read-only, like the properties."""
    hit = _OBJECTS.get(id(props))
    if hit is not None and hit[0] is props and hit[1].urn == urn and hit[1].type == type_ and hit[1].name == name:
        return hit[1]
    obj = K8sObject(urn, type_, name, props)
    if len(_OBJECTS) >= _OBJECTS_KEPT:
        _OBJECTS.clear()
    _OBJECTS[id(props)] = (props, obj)
    return obj


ResourceCheck = Callable[[K8sObject, Facts], Iterable[str]]
StackCheck = Callable[[StackView, Facts], Iterable[tuple[str | None, str]]]


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    clause: str
    severity: str
    enforcement: str
    remediation: str
    scope: str  # "resource" | "stack"
    check: Callable
    kinds: tuple[str, ...] = ()  # Kubernetes kinds a resource rule looks at
    facts: tuple[str, ...] = ()  # model facts the rule reads from its configuration
    # Where a finding is fixed in the inventory: a field of the tenant's request (change.approvals)
    # for tenant stacks, a field of the cluster's entry in platform.yaml (registry) for foundations.
    # Code scanning points there (SARIF); without one, at the request or the cluster entry.
    request_field: str = ""
    cluster_field: str = ""

    def __post_init__(self) -> None:
        problems = []
        if not RULE_ID_RE.match(self.id):
            problems.append(f"id must match {RULE_ID_RE.pattern}")
        if self.severity not in SEVERITIES:
            problems.append(f"severity must be one of {SEVERITIES}")
        if self.enforcement not in ENFORCEMENTS:
            problems.append(f"enforcement must be one of {ENFORCEMENTS}")
        if self.scope not in ("resource", "stack"):
            problems.append("scope must be resource or stack")
        if self.scope == "resource" and not self.kinds:
            problems.append("a resource rule names the kinds it looks at")
        for fact in self.facts:
            if fact not in FACT_SCHEMAS:
                problems.append(f"unknown fact {fact!r}")
        if not (self.title and self.clause and self.remediation):
            problems.append("title, clause and remediation are required")
        if problems:
            raise ValueError(f"rule {self.id}: " + "; ".join(problems))

    @property
    def standard(self) -> str:
        return STANDARDS[self.id.split("-")[1]]

    @property
    def config_schema(self) -> dict[str, Any]:
        return {
            "properties": {name: FACT_SCHEMAS[name] for name in self.facts},
            "required": list(self.facts),
        }

    def metadata(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "standard": self.standard,
            "clause": self.clause,
            "severity": self.severity,
            "enforcement": self.enforcement,
            "remediation": self.remediation,
            "scope": self.scope,
            "kinds": list(self.kinds),
            "facts": list(self.facts),
            **({"request_field": self.request_field} if self.request_field else {}),
            **({"cluster_field": self.cluster_field} if self.cluster_field else {}),
        }

    # -- the CrossGuard side -------------------------------------------------------------
    def policy(self):
        """The pulumi_policy Policy for this rule (imported lazily: the SDK is heavy)."""
        import pulumi_policy as pp

        common: dict[str, Any] = dict(
            name=self.id,
            description=self.title,
            enforcement_level=pp.EnforcementLevel(self.enforcement),
            config_schema=pp.PolicyConfigSchema(**self.config_schema) if self.facts else None,
            display_name=self.title,
            severity=pp.Severity(self.severity),
            framework=pp.PolicyComplianceFramework(name="GB/T 22239-2019 + govcloud platform standards", specification=self.clause),
            tags=[self.standard],
            remediation_steps=self.remediation,
        )
        if self.scope == "resource":
            return pp.ResourceValidationPolicy(validate=self._validate_resource, **common)
        return pp.StackValidationPolicy(validate=self._validate_stack, **common)

    def applies_to(self, resource_type: str, props: Mapping) -> bool:
        if not resource_type.startswith(KUBERNETES_PREFIX):
            return False
        if ANY_KIND in self.kinds:
            # Kubernetes objects, not components (yaml.ConfigFile, helm Charts) nor patches of
            # objects govcloud does not own (NamespacePatch of "default").
            return "apiVersion" in props and "kind" in props and not resource_type.endswith("Patch")
        return resource_type.rsplit(":", 1)[-1] in self.kinds

    @property
    def not_applicable_reason(self) -> str:
        """What a resource rule answers for a resource outside ``applies_to``."""
        return "looks only at Kubernetes objects" if ANY_KIND in self.kinds else f"looks only at {', '.join(self.kinds)}"

    def type_excluded(self, resource_type: str) -> bool:
        """Whether ``applies_to`` is False for every resource of this type, whatever its
        properties (the pack answers such pairs without running the check: ``policy/pack.py``)."""
        if not resource_type.startswith(KUBERNETES_PREFIX):
            return True
        if ANY_KIND in self.kinds:
            return resource_type.endswith("Patch")
        return resource_type.rsplit(":", 1)[-1] not in self.kinds

    def _validate_resource(self, args, report_violation) -> None:
        if not self.applies_to(args.resource_type, args.props):
            args.not_applicable(self.not_applicable_reason)
        obj = _object_of(args.urn, args.resource_type, args.name, args.props)
        try:
            with reading_for(stack_of(args.urn)):
                for message in self.check(obj, facts_for(args.get_config())):
                    report_violation(message, None)
        except NotApplicable as reason:
            args.not_applicable(reason.reason)

    def _validate_stack(self, args, report_violation) -> None:
        view = StackView([_object_of(r.urn, r.resource_type, r.name, r.props) for r in args.resources])
        stacks = {stack_of(o.urn) for o in view.objects}
        try:
            with reading_for(stacks.pop() if len(stacks) == 1 else None):
                for urn, message in self.check(view, facts_for(args.get_config())):
                    report_violation(message, urn)
        except NotApplicable as reason:
            args.not_applicable(reason.reason)


def _rule_decorator(scope: str, **meta: Any) -> Callable[[Callable], Rule]:
    def wrap(check: Callable) -> Rule:
        return Rule(scope=scope, check=check, **meta)

    return wrap


def resource_rule(*, id: str, title: str, clause: str, severity: str, enforcement: str, remediation: str,
                  kinds: tuple[str, ...], facts: tuple[str, ...] = (), request_field: str = "",
                  cluster_field: str = "") -> Callable[[ResourceCheck], Rule]:
    return _rule_decorator("resource", id=id, title=title, clause=clause, severity=severity, enforcement=enforcement,
                           remediation=remediation, kinds=kinds, facts=facts, request_field=request_field,
                           cluster_field=cluster_field)


def stack_rule(*, id: str, title: str, clause: str, severity: str, enforcement: str, remediation: str,
               facts: tuple[str, ...] = (), request_field: str = "", cluster_field: str = "") -> Callable[[StackCheck], Rule]:
    return _rule_decorator("stack", id=id, title=title, clause=clause, severity=severity, enforcement=enforcement,
                           remediation=remediation, facts=facts, request_field=request_field, cluster_field=cluster_field)


def iter_strings(values: Any) -> Iterator[str]:
    for value in as_list(values):
        if isinstance(value, str):
            yield value
