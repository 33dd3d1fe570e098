"""Core data never reaches the internet zone."""

from ...k8s import require_grants, zone_of
from ...rule import resource_rule


@resource_rule(
    id="GOV-DAT-003",
    request_field="datasets.consumes",
    title="Core datasets are never reachable from the internet zone",
    clause="中华人民共和国数据安全法 第二十一条 (核心数据 stricter management); GB/T 22239-2019 8.1.2.1",
    severity="critical",
    enforcement="mandatory",
    remediation="Consume core datasets only from e-government extranet or intranet tenants; publish derived, "
    "non-core data for internet-facing services.",
    kinds=("*",),
    facts=("datasets", "zones", "tenants", "clusters"),
)
def check(obj, facts):
    refs = require_grants(obj)[0]
    zone = zone_of(obj, facts)
    if facts.zone_kind(zone) != "internet":
        return
    for ref in refs:
        dataset = facts.datasets.get(ref)
        if dataset is not None and dataset.get("sensitivity") == "core":
            yield f"{obj.describe()} grants core dataset {ref} to {obj.tenant} in internet zone {zone}"
