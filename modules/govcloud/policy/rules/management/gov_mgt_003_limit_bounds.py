"""Container defaults and maxima stay within the level template."""

from ...k8s import quantity, tenant_template
from ...rule import NotApplicable, as_list, as_map, resource_rule


@resource_rule(
    id="GOV-MGT-003",
    request_field="limits",
    title="LimitRange sets container defaults and maxima within the level template",
    clause="govcloud platform standard: tenant templates per MLPS level; GB/T 22239-2019 8.2.4 (云计算 资源控制)",
    severity="medium",
    enforcement="mandatory",
    remediation="Give the LimitRange a Container item with default, defaultRequest and max for cpu and memory, "
    "max at most levels[].tenant_template.limits.max.",
    kinds=("LimitRange",),
    facts=("templates", "tenants"),
)
def check(obj, facts):
    if not obj.tenant:
        raise NotApplicable("not a tenant limit range")
    level, template = tenant_template(obj, facts)
    if template is None:
        yield f"{obj.describe()}: no template for MLPS level {level}"
        return
    bounds = as_map(template.get("limits_max"))
    items = [as_map(i) for i in as_list(obj.spec.get("limits")) if as_map(i).get("type") == "Container"]
    if not items:
        yield f"{obj.describe()} has no limits item of type Container"
        return
    for item in items:
        for resource in ("cpu", "memory"):
            bound = quantity(bounds.get(resource))
            values = {part: quantity(as_map(item.get(part)).get(resource)) for part in ("defaultRequest", "default", "max")}
            for part, value in values.items():
                if value is None:
                    yield f"{obj.describe()} sets no {part}.{resource}"
                elif bound is not None and value > bound:
                    yield f"{obj.describe()} {part}.{resource}={as_map(item.get(part)).get(resource)} exceeds the level-{level} maximum {bounds.get(resource)}"
            if values["defaultRequest"] is not None and values["default"] is not None and values["defaultRequest"] > values["default"]:
                yield f"{obj.describe()} defaultRequest.{resource} is above default.{resource}"
