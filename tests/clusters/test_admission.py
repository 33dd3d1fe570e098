"""Every admission case of the offline suite (tests/stacks/admission_cases.py), submitted to the
live API servers as the tenant's administrator would submit it, with verdicts compared to the
offline evaluation of the rendered guardrails (tests/stacks/admission.py): a disagreement
fails and names the case.

Who submits: Pods, workloads and Services go in as the tenant's system administrator (with
their own client certificate), NetworkPolicies as the security administrator, Namespaces as
the platform's deployer. Where RBAC already refuses the system administrator (kinds their
role does not grant, e.g. DaemonSets or ``kubectl debug``), that refusal is checked against the
role, and the guardrail verdict is then taken from the deployer's request: the guardrails must
hold for anyone who can make the request. CREATEs are dry runs; an UPDATE starts from the
case's ``old_object`` created for real and is sent as a merge patch (the API server evaluates
the complete new object) with dryRun; the old object is deleted afterwards.
"""

from __future__ import annotations

import json
import time

import pytest
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import ConflictError, DynamicApiError
from stacks.admission import review
from stacks.admission_cases import ADMITTED, CASES, DENIED, PLACES, Case
from stacks.admission_cases import pod as case_pod
from stacks.test_guardrails_cel import request_of

from govcloud.cluster.access import dynamic as dynamic_client
from govcloud.components.roles import ROLE_RULES

VERBS = {"CREATE": "create", "UPDATE": "patch"}


def merge_patch(old, new):
    """RFC 7386 merge patch turning ``old`` into ``new``."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return new
    patch = {k: None for k in old if k not in new}
    for key, value in new.items():
        if key not in old:
            patch[key] = value
        elif old[key] != value:
            patch[key] = merge_patch(old[key], value)
    return patch


def role_allows(role: str, group: str, resource: str, verb: str) -> bool:
    return any(group in r["apiGroups"] and resource in r["resources"] and verb in r["verbs"] for r in ROLE_RULES[role])


@pytest.fixture(scope="module")
def foundations(rendered):
    from govcloud.state import StackState

    out = {}
    for plane in ("egov-1", "internet-1", "intranet-1"):
        state = StackState.load(rendered / f"lab.cluster-{plane}" / "state.json")
        out[plane] = ([r.inputs for r in state.resources if r.kind == "ValidatingAdmissionPolicy"],
                      [r.inputs for r in state.resources if r.kind == "ValidatingAdmissionPolicyBinding"])
    return out


class Submitter:
    def __init__(self, planes, dynamic):
        self.planes = planes
        self.deployer = dynamic
        self.people: dict[str, DynamicClient] = {}
        self.clients = []

    def person(self, cluster: str, role: str) -> tuple[str, DynamicClient]:
        tenant = self.planes.env.tenant(PLACES[cluster][0])
        account = getattr(tenant.request.administrators, role).account
        key = f"{account}@{self.planes.env.cluster(cluster).kube_context}"
        if key not in self.people:
            api = self.planes.access.client(key)
            self.clients.append(api)
            self.people[key] = dynamic_client(api)
        return account, self.people[key]

    def close(self):
        for api in self.clients:
            api.close()


@pytest.fixture(scope="module")
def submitter(planes, dynamic, applied):
    assert not [e for _, e in applied if e]
    made = Submitter(planes, dynamic)
    _wait_for_guardrails(made)
    yield made
    made.close()


def _wait_for_guardrails(submitter: Submitter) -> None:
    """ValidatingAdmissionPolicies take effect when the API server has loaded them."""
    for cluster in PLACES:
        probe = case_pod(cluster, name="probe")  # meets Pod Security restricted: only a guardrail can deny it
        probe["spec"]["containers"][0]["image"] = "docker.io/library/nginx:1.27"
        case = Case("probe", cluster, "CREATE", probe, DENIED)
        deadline = time.monotonic() + 60
        while True:
            verdict, message = _send(submitter.deployer[cluster], case, probe)
            if verdict == DENIED and "ValidatingAdmissionPolicy" in message:
                break
            assert time.monotonic() < deadline, f"the guardrails of {cluster} never took effect: {verdict} {message}"
            time.sleep(0.5)


def _resource(dyn: DynamicClient, case: Case):
    return dyn.resources.get(api_version=case.object["apiVersion"], kind=case.kind)


def _send(dyn: DynamicClient, case: Case, obj: dict) -> tuple[str, str]:
    """(ADMITTED | DENIED | 'rbac' | 'invalid', message) of one request."""
    resource = _resource(dyn, case)
    namespace = case.namespace if case.resource.namespaced else None
    name = obj["metadata"]["name"]
    try:
        if case.operation == "CREATE":
            resource.create(body=obj, namespace=namespace, dry_run="All")
        else:
            patch = merge_patch(case.old_object, obj)
            target = resource.subresources[case.subresource] if case.subresource else resource
            target.patch(body=patch, name=name, namespace=namespace, content_type="application/merge-patch+json", dry_run="All")
        return ADMITTED, ""
    except ConflictError as error:
        if case.operation == "CREATE" and "already exists" in str(error.body):
            return ADMITTED, "exists (validating admission ran before the existence check)"
        return "invalid", str(error.body)[:400]
    except DynamicApiError as error:
        message = _message(error)
        if error.status == 403 and " cannot " in message and "User " in message:
            return "rbac", message
        if error.status == 403 and "error looking up service account" in message:
            return "invalid", message  # not a verdict: the namespace lacks its service account
        # A ValidatingAdmissionPolicy denies with the validation's reason (default Invalid, 422);
        # Pod Security and ResourceQuota with Forbidden (403).
        if (error.status == 422 and "ValidatingAdmissionPolicy" in message) or error.status == 403:
            return DENIED, message
        return "invalid", f"{error.status}: {message}"


def _message(error: DynamicApiError) -> str:
    try:
        return json.loads(error.body).get("message", "")
    except (TypeError, ValueError):
        return str(error.body)


def _create_old(dyn: DynamicClient, case: Case) -> bool:
    """The object an UPDATE starts from; False if it was already there (a rendered namespace)."""
    resource = _resource(dyn, case)
    try:
        resource.create(body=case.old_object, namespace=case.namespace if case.resource.namespaced else None)
        return True
    except ConflictError:
        return False


def _delete_old(dyn: DynamicClient, case: Case) -> None:
    resource = _resource(dyn, case)
    resource.delete(name=case.old_object["metadata"]["name"], namespace=case.namespace, grace_period_seconds=0,
                    propagation_policy="Background")


def _identity(case: Case) -> str | None:
    if case.kind == "Namespace":
        return None
    return "security" if case.kind == "NetworkPolicy" else "system"


def run_case(submitter: Submitter, case: Case) -> tuple[str, str, str]:
    """Submit one case as the tenant would; (verdict, message, who submitted it)."""
    deployer = submitter.deployer[case.cluster]
    role = _identity(case)
    who, dyn = submitter.person(case.cluster, role) if role else ("the deployer", deployer)
    created = False
    if case.operation == "UPDATE":
        creator = dyn
        if role and not role_allows(role, case.resource.group, case.resource.resource, "create"):
            creator = deployer
        created = _create_old(creator, case)
    try:
        verdict, message = _send(dyn, case, case.object)
        resource = case.resource.resource + (f"/{case.subresource}" if case.subresource else "")
        if verdict == "rbac":
            assert role and not role_allows(role, case.resource.group, resource, VERBS[case.operation]), \
                f"{case.name}: RBAC refused {who} though the {role} role grants it: {message}"
            who = "the deployer (RBAC refuses the tenant's administrator)"
            verdict, message = _send(deployer, case, case.object)
        elif role:
            assert role_allows(role, case.resource.group, resource, VERBS[case.operation]), f"{case.name}: {who} got past RBAC"
    finally:
        if created:
            _delete_old(deployer, case)
    return verdict, message, who


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_live_verdict_agrees_with_the_offline_evaluation(submitter, foundations, case):
    offline = review(*foundations[case.cluster], request_of(case))
    offline_verdict = ADMITTED if offline.admitted else DENIED
    assert offline_verdict == case.expected  # the offline suite's own claim, for the record
    verdict, message, who = run_case(submitter, case)
    assert verdict in (ADMITTED, DENIED), f"{case.name}: the API server did not evaluate admission: {message}"
    assert verdict == offline_verdict, (f"case {case.name!r}: the API server says {verdict} ({message or 'no message'}) as {who}, "
                                        f"the offline evaluation says {offline_verdict} ({sorted(offline.denied_by)})")
    if verdict == DENIED and "ValidatingAdmissionPolicy" in message:
        named = {rail for rail in case.rails if f"'{rail}'" in message}
        assert named, f"case {case.name!r}: denied by a policy the offline suite does not expect: {message}"
