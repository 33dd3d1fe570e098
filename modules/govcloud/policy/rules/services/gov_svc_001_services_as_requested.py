"""A tenant publishes exactly the services its request names."""

from ...k8s import ROUTE_KINDS, owner_of, route_paths
from ...rule import NotApplicable, resource_rule


@resource_rule(
    id="GOV-SVC-001",
    request_field="services",
    title="Routes publish only the public services the tenant requested",
    clause="govcloud platform standard: public services are requested (services[]) and reviewed",
    severity="high",
    enforcement="mandatory",
    remediation="Add the service (host, path, port) to the tenant request; the stack derives the routes from it.",
    kinds=ROUTE_KINDS,
    facts=("services", "tenants"),
)
def check(obj, facts):
    tenant = owner_of(obj, facts)
    if not tenant:
        raise NotApplicable("not a tenant route")
    requested = {(str(s["host"]), str(s["path"])) for s in facts.services.get(tenant, [])}
    for host, path in route_paths(obj):
        if (host, path) not in requested:
            yield f"{obj.describe()} routes {host or '(any host)'}{path}, which tenant {tenant} did not request"
