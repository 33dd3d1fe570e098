"""A tenant publishes exactly the services its request names."""

from ...rule import NotApplicable, as_list, as_map, resource_rule


def ingress_routes(obj):
    """(host, path, backend port) of every route of an Ingress."""
    for rule in as_list(obj.spec.get("rules")):
        rule = as_map(rule)
        host = str(rule.get("host") or "")
        paths = as_list(as_map(rule.get("http")).get("paths"))
        if not paths:
            yield host, "/", None
        for path in paths:
            path = as_map(path)
            port = as_map(as_map(as_map(path.get("backend")).get("service")).get("port")).get("number")
            yield host, str(path.get("path") or "/"), int(float(port)) if port is not None else None


@resource_rule(
    id="GOV-SVC-001",
    title="Ingress routes only the public services the tenant requested",
    clause="govcloud platform standard: public services are requested (services[]) and reviewed",
    severity="high",
    enforcement="mandatory",
    remediation="Add the service (host, path, port) to the tenant request; the stack derives the Ingress from it.",
    kinds=("Ingress",),
    facts=("services", "tenants"),
)
def check(obj, facts):
    tenant = obj.tenant or facts.namespace_owner.get(obj.namespace or "")
    if not tenant:
        raise NotApplicable("not a tenant Ingress")
    requested = {(str(s["host"]), str(s["path"]), int(float(s["port"]))) for s in facts.services.get(tenant, [])}
    for host, path, port in ingress_routes(obj):
        if (host, path, port) not in requested:
            yield f"{obj.describe()} routes {host or '(any host)'}{path} -> port {port}, which tenant {tenant} did not request"
