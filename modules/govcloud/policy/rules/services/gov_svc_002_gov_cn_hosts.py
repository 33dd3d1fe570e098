"""Government services are published under gov.cn."""

from ...rule import as_list, as_map, resource_rule


@resource_rule(
    id="GOV-SVC-002",
    title="Public service host names are under .gov.cn",
    clause="政府网站发展指引 (国办发〔2017〕47号): 政府网站使用 gov.cn 域名",
    severity="medium",
    enforcement="mandatory",
    remediation="Publish the service under the department's gov.cn domain.",
    kinds=("Ingress",),
)
def check(obj, facts):
    for rule in as_list(obj.spec.get("rules")):
        host = str(as_map(rule).get("host") or "")
        if not host:
            yield f"{obj.describe()} has a rule without host: it would answer for any name"
        elif not host.endswith(".gov.cn"):
            yield f"{obj.describe()} publishes {host}, which is not under gov.cn"
