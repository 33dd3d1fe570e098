"""Every published host is served over TLS."""

from ...rule import as_list, as_map, iter_strings, resource_rule

TLS_PROTOCOLS = {"HTTPS", "TLS"}


@resource_rule(
    id="GOV-SVC-003",
    request_field="services",
    title="Public entry points terminate TLS: every Ingress host and every Gateway listener",
    clause="GB/T 22239-2019 8.1.2.2 (通信传输); GB/T 39786-2021 (commercial cryptography for web services)",
    severity="high",
    enforcement="mandatory",
    remediation="Add the host to the Ingress's spec.tls, or make the Gateway listener HTTPS/TLS with a certificate "
    "(SM2 certificates where the client supports them).",
    kinds=("Ingress", "Gateway"),
)
def check(obj, facts):
    if obj.kind == "Gateway":
        for listener in as_list(obj.spec.get("listeners")):
            listener = as_map(listener)
            protocol = str(listener.get("protocol") or "")
            tls = as_map(listener.get("tls"))
            if protocol not in TLS_PROTOCOLS:
                yield f"{obj.describe()} listener {listener.get('name')} speaks {protocol}, not HTTPS/TLS"
            elif tls.get("mode", "Terminate") == "Terminate" and not as_list(tls.get("certificateRefs")):
                yield f"{obj.describe()} listener {listener.get('name')} terminates TLS without a certificate"
        return
    covered = set()
    for entry in as_list(obj.spec.get("tls")):
        entry = as_map(entry)
        if entry.get("secretName"):
            covered |= set(iter_strings(entry.get("hosts")))
    for rule in as_list(obj.spec.get("rules")):
        host = str(as_map(rule).get("host") or "")
        if host and host not in covered:
            yield f"{obj.describe()} serves {host} without TLS"
