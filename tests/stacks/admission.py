"""An offline ValidatingAdmissionPolicy evaluator (cel-python) that follows the API server.

What it does, in the API server's order (k8s.io/apiserver admission/plugin/policy):

1. The request is skipped for the admission-registration kinds themselves.
2. Per policy: ``matchConstraints`` must match (namespaceSelector, objectSelector,
   excludeResourceRules, resourceRules with scope, group, version, operation and
   ``resource/subresource`` as ``rules.go`` matches them: ``pods`` does not match
   ``pods/ephemeralcontainers``, ``pods/*`` and ``*/*`` do).
3. Per binding of the policy: its ``matchResources`` (absent: everything the policy matches).
   A namespaceSelector reads the namespace's labels, or, for a CREATE/UPDATE of a Namespace
   itself, the labels of the *new* object (``namespace/matcher.go``); cluster-scoped objects
   other than namespaces always match. An objectSelector matches the new or the old object.
4. ``matchConditions``: any false skips the policy; otherwise an error applies failurePolicy.
5. ``variables`` in order (each sees the earlier ones), then every validation: false denies
   with its message; an error denies under ``failurePolicy: Fail`` and is ignored under
   ``Ignore``. Only a binding with the ``Deny`` action denies.

CEL variables: ``object`` (null for DELETE), ``oldObject`` (null for CREATE), ``request``
(operation, kind, resource, subResource, name, namespace, userInfo, dryRun), ``params``
(null: no paramKind), ``namespaceObject`` (null for cluster-scoped objects, Namespaces
included), ``variables``. ``authorizer`` is not provided: an expression using it is an error
here, so a policy that needs it cannot pass these tests by accident.

Equality is CEL's heterogeneous equality, as in cel-go and so the API server: values of
different types are unequal rather than an error (``oldObject != null`` on an UPDATE is true;
cel-python alone reports "no such overload" for ``!=`` between a map and null).

Known difference: cel-python's ``has()`` on a variable whose evaluation failed yields false
where the API server reports an error. The tests check that no guardrail variable fails on
any admission case (``variable_errors``).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Any

import celpy
from celpy import celtypes

_ENV = celpy.Environment()
_PROGRAMS: dict[str, Any] = {}

# The kinds a ValidatingAdmissionPolicy never sees (rules.IsExemptAdmissionConfigurationResource).
_EXEMPT_KINDS = {"ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "ValidatingAdmissionPolicy",
                 "ValidatingAdmissionPolicyBinding", "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding"}


@dataclass(frozen=True)
class Request:
    """One admission request, as the API server hands it to the policies."""

    operation: str  # CREATE | UPDATE | DELETE | CONNECT
    group: str
    version: str
    resource: str
    kind: str
    namespace: str  # "" for cluster-scoped objects; a Namespace's own name for Namespace requests
    name: str
    object: dict | None
    old_object: dict | None = None
    subresource: str = ""
    namespace_object: dict | None = None  # the namespace the object is in, as stored
    user: dict = field(default_factory=lambda: {"username": "tenant-admin", "groups": ["system:authenticated"]})


@dataclass
class Verdict:
    """Per policy, the messages of what denied the request (empty: it did not)."""

    denials: dict[str, list[str]]
    evaluated: set[str]
    variable_errors: dict[str, list[str]]

    @property
    def admitted(self) -> bool:
        return not any(self.denials.values())

    @property
    def denied_by(self) -> set[str]:
        return {name for name, messages in self.denials.items() if messages}


def _equal(a: Any, b: Any) -> celtypes.BoolType:
    if a is None or b is None:
        return celtypes.BoolType(a is None and b is None)
    try:
        return celtypes.BoolType(bool(operator.eq(a, b)))
    except TypeError:  # different types: unequal
        return celtypes.BoolType(False)


def _not_equal(a: Any, b: Any) -> celtypes.BoolType:
    return celtypes.BoolType(not _equal(a, b))


_FUNCTIONS = {"_==_": _equal, "_!=_": _not_equal}


def _program(expression: str):
    if expression not in _PROGRAMS:
        _PROGRAMS[expression] = _ENV.program(_ENV.compile(expression), functions=_FUNCTIONS)
    return _PROGRAMS[expression]


def evaluate(expression: str, activation: dict) -> Any:
    """The value of ``expression``, or the CELEvalError it produced (an error is a value)."""
    if "authorizer" in expression:
        return celpy.CELEvalError("authorizer is not available in the offline evaluator")
    try:
        return _program(expression).evaluate(activation)
    except celpy.CELEvalError as exc:
        return exc


def _labels(obj: dict | None) -> dict[str, str]:
    return dict(((obj or {}).get("metadata") or {}).get("labels") or {})


def selector_matches(selector: dict | None, labels: dict[str, str]) -> bool:
    """A metav1.LabelSelector; an empty or absent selector matches everything."""
    if not selector:
        return True
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for requirement in selector.get("matchExpressions") or []:
        key, operator, values = requirement["key"], requirement["operator"], requirement.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def _rule_matches(rule: dict, request: Request) -> bool:
    scope = rule.get("scope", "*")
    is_namespace = (request.group, request.resource) == ("", "namespaces")
    if scope == "Namespaced" and (is_namespace or not request.namespace):
        return False
    if scope == "Cluster" and not (is_namespace or not request.namespace):
        return False
    if not any(op in ("*", request.operation) for op in rule.get("operations", [])):
        return False
    if not any(g in ("*", request.group) for g in rule.get("apiGroups", [])):
        return False
    if not any(v in ("*", request.version) for v in rule.get("apiVersions", [])):
        return False
    for item in rule.get("resources", []):
        resource, _, subresource = item.partition("/")
        if resource in ("*", request.resource) and subresource in ("*", request.subresource):
            return True
    return False


def _namespace_labels_for_selector(request: Request) -> dict[str, str]:
    if request.resource == "namespaces" and not request.subresource and request.operation in ("CREATE", "UPDATE"):
        return _labels(request.object)
    return _labels(request.namespace_object)


def _resources_match(match: dict, request: Request, *, rules_required: bool) -> bool:
    """MatchResources of a policy (rules required) or a binding (absent rules: all)."""
    if request.namespace or request.resource == "namespaces":
        if not selector_matches(match.get("namespaceSelector"), _namespace_labels_for_selector(request)):
            return False
    selector = match.get("objectSelector")
    if selector and not (selector_matches(selector, _labels(request.object)) or selector_matches(selector, _labels(request.old_object))):
        return False
    if any(_rule_matches(rule, request) for rule in match.get("excludeResourceRules") or []):
        return False
    rules = match.get("resourceRules") or []
    if not rules:
        return not rules_required
    return any(_rule_matches(rule, request) for rule in rules)


def _activation(request: Request) -> dict:
    is_namespace_kind = (request.group, request.kind) == ("", "Namespace")
    namespace_object = None if (is_namespace_kind or not request.namespace) else request.namespace_object
    request_map = {
        "uid": "offline",
        "kind": {"group": request.group, "version": request.version, "kind": request.kind},
        "resource": {"group": request.group, "version": request.version, "resource": request.resource},
        "subResource": request.subresource,
        "requestKind": {"group": request.group, "version": request.version, "kind": request.kind},
        "requestResource": {"group": request.group, "version": request.version, "resource": request.resource},
        "requestSubResource": request.subresource,
        "name": request.name,
        "namespace": request.namespace,
        "operation": request.operation,
        "userInfo": request.user,
        "dryRun": False,
    }
    return {
        "object": celpy.json_to_cel(request.object) if request.object is not None else None,
        "oldObject": celpy.json_to_cel(request.old_object) if request.old_object is not None else None,
        "namespaceObject": celpy.json_to_cel(namespace_object) if namespace_object is not None else None,
        "request": celpy.json_to_cel(request_map),
        "params": None,
    }


def _is_true(value: Any) -> bool | None:
    """True/False for a CEL bool; None for an error or a value of another type."""
    if isinstance(value, celtypes.BoolType | bool):
        return bool(value)
    return None


def review(policies: list[dict], bindings: list[dict], request: Request) -> Verdict:
    """What the API server's ValidatingAdmissionPolicy plugin decides for ``request``."""
    verdict = Verdict({}, set(), {})
    if request.kind in _EXEMPT_KINDS:
        return verdict
    for policy in policies:
        spec = policy["spec"]
        name = policy["metadata"]["name"]
        if not _resources_match(spec.get("matchConstraints") or {}, request, rules_required=True):
            continue
        matching = [b for b in bindings if b["spec"]["policyName"] == name
                    and (b["spec"].get("matchResources") is None or _resources_match(b["spec"]["matchResources"], request, rules_required=False))]
        if not matching:
            continue
        fail = spec.get("failurePolicy", "Fail") == "Fail"
        activation = _activation(request)
        messages: list[str] = []
        conditions = [evaluate(c["expression"], {**activation, "variables": celtypes.MapType({})}) for c in spec.get("matchConditions", [])]
        if any(_is_true(c) is False for c in conditions):
            continue
        verdict.evaluated.add(name)
        if any(_is_true(c) is None for c in conditions):
            if fail:
                messages.append("a match condition could not be evaluated (failurePolicy: Fail)")
        else:
            variables: dict = {}
            for variable in spec.get("variables", []):
                value = evaluate(variable["expression"], {**activation, "variables": celtypes.MapType(variables)})
                if isinstance(value, celpy.CELEvalError):
                    verdict.variable_errors.setdefault(name, []).append(f"{variable['name']}: {value}")
                variables[celtypes.StringType(variable["name"])] = value
            activation["variables"] = celtypes.MapType(variables)
            for validation in spec["validations"]:
                outcome = _is_true(evaluate(validation["expression"], activation))
                if outcome is False or (outcome is None and fail):
                    messages.append(validation["message"])
        if any("Deny" in b["spec"].get("validationActions", []) for b in matching):
            verdict.denials[name] = messages
    return verdict
