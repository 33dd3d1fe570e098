"""Connections to the data pool verify the server's certificate."""

import re

from ...k8s import WORKLOAD_KINDS, containers, pod_spec
from ...rule import as_list, as_map, resource_rule

VERIFYING = {"verify-full", "verify-ca"}
SSLMODE_RE = re.compile(r"sslmode\s*=\s*([a-z-]+)", re.I)
POSTGRES_URI_RE = re.compile(r"postgres(ql)?://", re.I)
CONNECTION_KEYS = {"PGHOST", "PGHOSTADDR", "PGSERVICE"}


def _setting_problems(where: str, key: str, value) -> list[str]:
    text = value if isinstance(value, str) else ""
    if key.upper() in ("PGSSLMODE", "SSLMODE") and text not in VERIFYING:
        return [f"{where} {key}={text or '(empty)'}; use verify-full"]
    mode = SSLMODE_RE.search(text)
    if mode and mode.group(1).lower() not in VERIFYING:
        return [f"{where} {key} connects with sslmode={mode.group(1)}; use verify-full"]
    if POSTGRES_URI_RE.search(text) and not mode:
        return [f"{where} {key} is a PostgreSQL URI without sslmode (libpq then does not verify the server); add sslmode=verify-full"]
    return []


@resource_rule(
    id="GOV-DAT-001",
    title="Data pool connections verify TLS (sslmode=verify-full)",
    clause="GB/T 22239-2019 8.1.2.2 (通信传输: integrity and confidentiality in transit); GB/T 39786-2021 (commercial cryptography)",
    severity="high",
    enforcement="mandatory",
    remediation="Set sslmode=verify-full (PGSSLMODE) with the platform CA as root certificate in every data pool connection setting.",
    kinds=("ConfigMap",) + WORKLOAD_KINDS,
)
def check(obj, facts):
    found: list[str] = []
    if obj.kind == "ConfigMap":
        data = as_map(obj.props.get("data"))
        for key, value in sorted(data.items()):
            found += _setting_problems(obj.describe(), str(key), value)
        keys = {str(k).upper() for k in data}
        connection = bool(keys & CONNECTION_KEYS)
        if connection and not keys & {"PGSSLMODE", "SSLMODE"} and not any(SSLMODE_RE.search(str(v)) for v in data.values()):
            found.append(f"{obj.describe()} configures a PostgreSQL connection ({', '.join(sorted(keys & CONNECTION_KEYS))}) without sslmode; set PGSSLMODE=verify-full")
    else:
        for container in containers(pod_spec(obj)):
            for env in as_list(container.get("env")):
                env = as_map(env)
                if "value" in env:
                    found += _setting_problems(f"{obj.describe()} container {container.get('name')}", str(env.get("name")), env.get("value"))
    yield from found
