"""Core data never reaches the internet zone."""

from ...k8s import dataset_grants, zone_of
from ...rule import NotApplicable, resource_rule


@resource_rule(
    id="GOV-DAT-003",
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
    grants = dataset_grants(obj)
    if grants is None or not obj.tenant:
        raise NotApplicable("not a dataset grant")
    refs = grants[0]
    zone = zone_of(obj, facts)
    if facts.zone_kind(zone) != "internet":
        return
    for ref in refs:
        dataset = facts.datasets.get(ref)
        if dataset is not None and dataset.get("sensitivity") == "core":
            yield f"{obj.describe()} grants core dataset {ref} to {obj.tenant} in internet zone {zone}"
