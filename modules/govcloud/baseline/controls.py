"""The controls govcloud enforces on hosts, one entry per control (GB/T 22239-2019 level 3).

The id is the tag of the control's tasks in its role and ``<role>_<id>`` the toggle that
turns it off; ``tests/unit/test_controls_catalogue.py`` keeps roles and this list in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

HostVars = dict[str, Any]


def _always(hostvars: HostVars) -> bool:
    return True


@dataclass(frozen=True)
class Control:
    id: str
    role: str
    clause: str
    title: str
    applies: Callable[[HostVars], bool] = _always

    @property
    def toggle(self) -> str:
        return f"{self.role}_{self.id}"

    def enabled(self, hostvars: HostVars) -> bool:
        return bool(hostvars.get(self.toggle, True)) and self.applies(hostvars)


def _is_router(hostvars: HostVars) -> bool:
    return bool(hostvars.get("zones_router"))


def _is_datapool(hostvars: HostVars) -> bool:
    return "datapool_database" in hostvars


CONTROLS: tuple[Control, ...] = (
    Control("ssh_hardening", "baseline", "8.1.4.1 b, c",
            "SSH: key login only, no root login, strong ciphers/MACs/kex, limited auth tries, banner"),
    Control("password_quality", "baseline", "8.1.4.1 a", "Password complexity (pwquality) and history"),
    Control("password_ageing", "baseline", "8.1.4.1 a", "Password ageing (maximum, minimum, warning)"),
    Control("login_lockout", "baseline", "8.1.4.1 b", "Lockout after failed logins (pam_faillock)"),
    Control("session_timeout", "baseline", "8.1.4.1 b", "Idle sessions end (shell TMOUT, SSH channel timeout)"),
    Control("umask_default", "baseline", "8.1.4.2 d", "Default umask of new files"),
    Control("admin_separation", "baseline", "8.1.4.2 d",
            "System, security and audit administrators with separated sudo rights; audit read-only on logs"),
    Control("sudo_least_privilege", "baseline", "8.1.4.2 d", "Least-privilege sudo: no blanket rules, pty, own log"),
    Control("default_accounts", "baseline", "8.1.4.2 b, c",
            "Default accounts: root locked, no empty passwords, one UID 0, system accounts without shell"),
    Control("audit_rules", "baseline", "8.1.4.3 a, b", "Audit rules for identity, privilege, time and module events"),
    Control("log_forwarding", "baseline", "8.1.4.3 c", "Logs forwarded to the management zone's collector",
            lambda v: bool(v.get("baseline_log_forwarding")) or bool(v.get("baseline_log_collector"))),
    Control("log_retention", "baseline", "8.1.4.3 c", "Logs kept for the retention period (>= 180 days), mode 0640"),
    Control("sysctl_network", "baseline", "8.1.4.4", "Network stack hardening (net.* live, kernel.* by file)"),
    Control("minimal_services", "baseline", "8.1.4.4 a, b", "Unused services off; nothing listens on unexpected ports"),
    Control("file_integrity", "baseline", "8.1.4.4 f", "File integrity baseline (AIDE) initialised and checked daily",
            lambda v: bool(v.get("baseline_file_integrity"))),
    Control("login_banner", "baseline", "8.1.4.1", "Warning banner before login (local and SSH)"),
    Control("host_firewall", "zones", "8.1.3.2 a, c, d",
            "nftables: default deny in and out, exactly the flows of the matrix for the host's zone and role"),
    Control("management_access", "zones", "8.1.4.4 c", "SSH only from the management zones"),
    Control("zone_router", "zones", "8.1.3.1 a, 8.1.3.2 a", "Zone router forwards exactly the flow matrix", _is_router),
    Control("tls_required", "datapool", "8.1.4.8 a", "Data pool: TLS 1.2+ required, plain connections refused", _is_datapool),
    Control("scram_auth", "datapool", "8.1.4.1 a", "Data pool: scram-sha-256 only; departments hold verifiers", _is_datapool),
    Control("hba_zones", "datapool", "8.1.4.4 c, 8.1.3.2",
            "Data pool: each department only from its own zone, and only zones with a flow", _is_datapool),
    Control("sharing_grants", "datapool", "8.1.4.2 f",
            "Data pool: read-only grants exactly for approved consumers; nothing on not-shared datasets", _is_datapool),
    Control("read_audit", "datapool", "8.1.4.3 a", "Data pool: pgaudit logs reads of conditional and core datasets",
            _is_datapool),
)

ROLES = ("baseline", "zones", "datapool")
