"""Government services are published under gov.cn."""

from ...k8s import ROUTE_KINDS, route_hosts
from ...rule import resource_rule


@resource_rule(
    id="GOV-SVC-002",
    request_field="services",
    title="Public service host names are under .gov.cn",
    clause="政府网站发展指引 (国办发〔2017〕47号): 政府网站使用 gov.cn 域名",
    severity="medium",
    enforcement="mandatory",
    remediation="Publish the service under the department's gov.cn domain.",
    kinds=ROUTE_KINDS,
)
def check(obj, facts):
    for host in route_hosts(obj):
        if not host:
            yield f"{obj.describe()} has a route without host: it would answer for any name"
        elif not host.endswith(".gov.cn"):
            yield f"{obj.describe()} publishes {host}, which is not under gov.cn"
