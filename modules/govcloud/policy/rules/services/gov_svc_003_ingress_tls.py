"""Every published host is served over TLS."""

from ...rule import as_list, as_map, iter_strings, resource_rule


@resource_rule(
    id="GOV-SVC-003",
    title="Every Ingress host is covered by TLS",
    clause="GB/T 22239-2019 8.1.2.2 (通信传输); GB/T 39786-2021 (commercial cryptography for web services)",
    severity="high",
    enforcement="mandatory",
    remediation="Add the host to spec.tls with a certificate secret (SM2 certificates where the client supports them).",
    kinds=("Ingress",),
)
def check(obj, facts):
    covered = set()
    for entry in as_list(obj.spec.get("tls")):
        entry = as_map(entry)
        if entry.get("secretName"):
            covered |= set(iter_strings(entry.get("hosts")))
    for rule in as_list(obj.spec.get("rules")):
        host = str(as_map(rule).get("host") or "")
        if host and host not in covered:
            yield f"{obj.describe()} serves {host} without TLS"
