"""The Ansible inventory of an environment, derived from its model and nothing else.

Each host's variables come from its zone, role and level profile (``env.host_level(host)``),
the flow matrix (``firewall.py``) and the tenant requests (``datapool.py``). The inventory
plugin ``playbooks/inventory_plugins/govcloud.py`` hands this to Ansible; ``govcloud baseline
verify`` reads the same variables as the expected state, so what is applied and what is
checked cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..model import Environment
from ..model.platform import Baseline, Host
from . import datapool, firewall


@dataclass
class Inventory:
    hostvars: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: dict[str, list[str]] = field(default_factory=dict)

    def add(self, host: str, variables: dict[str, Any], groups: list[str]) -> None:
        self.hostvars[host] = variables
        for group in groups:
            self.groups.setdefault(group, []).append(host)


def group_name(*parts: str) -> str:
    return "_".join(p.replace("-", "_") for p in parts)


def baseline_vars(level: int, baseline: Baseline) -> dict[str, Any]:
    """The baseline role's variables for one MLPS level profile."""
    pw, lock = baseline.password, baseline.lockout
    return {
        "baseline_mlps_level": level,
        "baseline_password_min_length": pw.min_length,
        "baseline_password_min_classes": pw.min_classes,
        "baseline_password_max_age_days": pw.max_age_days,
        "baseline_password_min_age_days": pw.min_age_days,
        "baseline_password_warn_age_days": pw.warn_age_days,
        "baseline_password_history": pw.history,
        "baseline_lockout_attempts": lock.attempts,
        "baseline_lockout_unlock_seconds": lock.unlock_seconds,
        "baseline_idle_timeout_seconds": baseline.idle_timeout_seconds,
        "baseline_ssh_max_auth_tries": baseline.ssh_max_auth_tries,
        "baseline_umask": baseline.umask.rjust(3, "0")[-3:],
        "baseline_log_retention_days": baseline.log_retention_days,
        # The level decides whether these controls apply at all.
        "baseline_log_forwarding": baseline.remote_logging,
        "baseline_file_integrity": baseline.integrity_checking,
    }


def _common(env: Environment, level: int) -> dict[str, Any]:
    return {
        "govcloud_env": env.name,
        **baseline_vars(level, env.level(level).baseline),
        "baseline_log_collectors": [str(h.address) for h in firewall.log_collectors(env)],
        "baseline_log_port": firewall.log_port(env),
        "baseline_time_port": firewall.time_port(env),
        "baseline_management_networks": list(firewall.management_networks(env)),
        "zones_management_networks": list(firewall.management_networks(env)),
        "zones_ssh_port": firewall.SSH_PORT,
    }


def host_vars(env: Environment, host: Host) -> dict[str, Any]:
    level = env.host_level(host)
    variables = {
        "ansible_host": str(host.address),
        **_common(env, level),
        "govcloud_zone": host.zone,
        "govcloud_role": host.role,
        "govcloud_cluster": host.cluster,
        "govcloud_os": host.os.model_dump(),
        "baseline_log_collector": host.role == "log-collector",
        "baseline_time_servers": [str(h.address) for h in firewall.log_collectors(env) if h != host],
        "baseline_time_server": host.role == "log-collector",
        "baseline_time_clients": list(firewall.time_clients(env)) if host.role == "log-collector" else [],
        "baseline_package_mirrors": package_sources(env, host),
        "baseline_listening_ports": firewall.listening_ports(env, host),
        "baseline_ip_forward": False,
        "zones_router": False,
        "zones_input_rules": [r.as_dict() for r in firewall.host_input(env, host)],
        "zones_output_rules": [r.as_dict() for r in firewall.host_output(env, host)],
    }
    if host.name in env.platform.datapool.hosts:
        variables.update(datapool_vars(env, host))
    return variables


def router_vars(env: Environment) -> dict[str, Any]:
    """The zone router: between every zone, hardened to the highest level any zone admits."""
    management = env.zones_of_kind("management")[0]
    level = max(z.max_level for z in env.platform.zones)
    return {
        "ansible_host": str(firewall.router_address(management)),
        **_common(env, level),
        "govcloud_zone": None,
        "govcloud_role": firewall.ZONE_ROUTER,
        "govcloud_cluster": None,
        "govcloud_router_addresses": {z.id: str(firewall.router_address(z)) for z in env.platform.zones},
        "baseline_log_collector": False,
        "baseline_time_servers": [str(h.address) for h in firewall.log_collectors(env)],
        "baseline_time_server": False,
        "baseline_time_clients": [],
        "baseline_package_mirrors": package_sources(env, _router_os(env)),
        "baseline_listening_ports": [firewall.SSH_PORT],
        "baseline_ip_forward": True,
        "zones_router": True,
        "zones_input_rules": [r.as_dict() for r in firewall.router_input(env)],
        "zones_output_rules": [r.as_dict() for r in _router_output(env)],
        "zones_forward_rules": [r.as_dict() for r in firewall.router_forward(env)],
    }


def package_sources(env: Environment, host: Host | None) -> list[dict[str, Any]]:
    """The approved mirrors for the host's distribution release (empty: the control does not apply)."""
    if host is None:
        return []
    return [s.model_dump() for s in env.platform.package_sources
            if (s.distribution, s.version) == (host.os.distribution, host.os.version)]


def _router_os(env: Environment) -> Host | None:
    """The zone router runs the release of the management zone's hosts (the lab boots one image)."""
    management = firewall.log_collectors(env)
    return management[0] if management else None


def _router_output(env: Environment) -> list[firewall.Rule]:
    collectors = tuple(str(h.address) for h in firewall.log_collectors(env))
    if not collectors:
        return []
    return [firewall.Rule(collectors, "tcp", (firewall.log_port(env),), "log forwarding"),
            firewall.Rule(collectors, "udp", (firewall.time_port(env),), "time synchronisation")]


def datapool_vars(env: Environment, host: Host) -> dict[str, Any]:
    pool = env.platform.datapool
    plan = datapool.access_plan(env)
    return {
        "datapool_id": pool.id,
        "datapool_version": pool.version,
        "datapool_port": pool.port,
        "datapool_database": pool.database,
        "datapool_listen_address": str(host.address),
        "datapool_auditor_role": datapool.AUDITOR_ROLE,
        "datapool_departments": [
            {"tenant": d.tenant, "role": d.role, "zone": d.zone, "networks": list(d.networks)} for d in plan.departments
        ],
        "datapool_datasets": [
            {
                "ref": d.ref,
                "schema": d.schema,
                "owner": d.owner,
                "sharing": d.sharing,
                "sensitivity": d.sensitivity,
                "read_role": d.read_role,
                "audited": d.audited,
            }
            for d in plan.datasets
        ],
        "datapool_dataset_grants": [
            {"dataset": g.dataset, "consumer": g.consumer, "read_role": g.read_role, "approval": g.approval}
            for g in plan.grants
        ],
    }


def build_inventory(env: Environment, connection: dict[str, Any] | None = None) -> Inventory:
    """Every model host plus the zone router; ``connection`` vars (user, keys) apply to all."""
    inventory = Inventory()
    extra = dict(connection or {})
    for host in sorted(env.platform.hosts, key=lambda h: h.name):
        groups = [
            "govcloud_hosts",
            group_name("zone", host.zone),
            group_name("role", host.role),
            group_name("level", str(env.host_level(host))),
        ]
        if host.name in env.platform.datapool.hosts:
            groups.append("datapool")
        inventory.add(host.name, {**host_vars(env, host), **extra}, groups)
    inventory.add(firewall.ZONE_ROUTER, {**router_vars(env), **extra}, ["zone_routers"])
    return inventory
