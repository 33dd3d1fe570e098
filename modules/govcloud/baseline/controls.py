"""The controls govcloud enforces on hosts, one entry per control (GB/T 22239-2019 level 3, with
what CIS Debian Linux 12 Level 2 and ANSSI BP-028 enhanced expect where it can be automated).

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
    # What the recognised Linux benchmarks call the same requirement (CIS Debian Linux 12 L2,
    # ANSSI BP-028 enhanced), for auditors who map one to the other.
    references: tuple[str, ...] = ()
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
            "SSH: key login only, no root login, strong ciphers/MACs/kex, limited auth tries and sessions, no forwarding",
            ("CIS Debian 12: SSH server configuration", "ANSSI BP-028: OpenSSH")),
    Control("password_quality", "baseline", "8.1.4.1 a",
            "Password complexity (pwquality, the same length in login.defs) and history",
            ("CIS Debian 12: password quality, history", "ANSSI BP-028: password policy")),
    Control("password_ageing", "baseline", "8.1.4.1 a", "Password ageing (maximum, minimum, warning)",
            ("CIS Debian 12: shadow password suite parameters",)),
    Control("password_hashing", "baseline", "8.1.4.1 a, 8.1.4.8 b",
            "Passwords stored with a strong, slow hash (yescrypt or SHA-512 with rounds) in login.defs and PAM",
            ("CIS Debian 12: strong password hashing algorithm", "ANSSI BP-028: protect stored passwords")),
    Control("login_lockout", "baseline", "8.1.4.1 b", "Lockout after failed logins (pam_faillock)",
            ("CIS Debian 12: pam_faillock",)),
    Control("session_timeout", "baseline", "8.1.4.1 b", "Idle sessions end (shell TMOUT, SSH channel timeout)",
            ("CIS Debian 12: shell timeout",)),
    Control("umask_default", "baseline", "8.1.4.2 d",
            "Default umask in login.defs, every shell start-up file and the PAM session (pam_umask)",
            ("CIS Debian 12: default user umask", "ANSSI BP-028: umask")),
    Control("private_tmp", "baseline", "8.1.4.2 d, 8.1.4.9",
            "A private /tmp per session and /var/tmp per user (pam_namespace)",
            ("ANSSI BP-028: temporary directories dedicated to each account",)),
    Control("admin_separation", "baseline", "8.1.4.2 d",
            "System, security and audit administrators with separated sudo rights; audit read-only on logs"),
    Control("sudo_least_privilege", "baseline", "8.1.4.2 d", "Least-privilege sudo: no blanket rules, empty administrators' group"),
    Control("sudo_hardening", "baseline", "8.1.4.2 d, 8.1.4.3 a",
            "sudo in a pty, its own log, short credential cache, NOEXEC for administrators' commands; su only for an empty group",
            ("CIS Debian 12: sudo (use_pty, logfile, timeout), access to su", "ANSSI BP-028: sudo (noexec)")),
    Control("default_accounts", "baseline", "8.1.4.2 b, c",
            "Default accounts: root locked, no empty passwords, one UID 0, system accounts without shell"),
    Control("audit_rules", "baseline", "8.1.4.3 a, b, d",
            "Audit rules (identity, privilege, time, modules, logins, permissions, access, mounts) and auditd keeping its logs",
            ("CIS Debian 12: auditd rules and data retention",)),
    Control("log_forwarding", "baseline", "8.1.4.3 c", "Logs forwarded to the management zone's collector",
            applies=lambda v: bool(v.get("baseline_log_forwarding")) or bool(v.get("baseline_log_collector"))),
    Control("log_retention", "baseline", "8.1.4.3 c",
            "Logs kept for the retention period (>= 180 days) by an active, valid log rotation; files 0640",
            ("CIS Debian 12: logrotate, log file access",)),
    Control("time_sync", "baseline", "8.1.4.3 b, 8.1.5.4",
            "Clock synchronised with the management zone's time hosts only (chrony)",
            ("CIS Debian 12: time synchronization (chrony, authorized servers)",)),
    Control("sysctl_network", "baseline", "8.1.4.4", "Network stack hardening (net.* live, kernel.* by file)",
            ("CIS Debian 12: network kernel parameters", "ANSSI BP-028: kernel sysctl")),
    Control("core_dumps", "baseline", "8.1.4.8, 8.1.4.9",
            "No core dumps: limits, fs.suid_dumpable, systemd-coredump and the service manager's default",
            ("CIS Debian 12: core dumps restricted",)),
    Control("kernel_modules", "baseline", "8.1.4.4 a",
            "Uncommon network protocols, USB/FireWire storage and unused filesystems cannot be loaded",
            ("CIS Debian 12: filesystem kernel modules, uncommon network protocols, usb-storage",
             "ANSSI BP-028: kernel modules")),
    Control("process_accounting", "baseline", "8.1.4.3 a",
            "Process accounting on: the kernel records every process that ends (acct)",
            ("ANSSI BP-028: process accounting",)),
    Control("minimal_services", "baseline", "8.1.4.4 a, b", "Unused services off; nothing listens on unexpected ports"),
    Control("file_integrity", "baseline", "8.1.4.4 f", "File integrity baseline (AIDE) initialised and checked daily",
            applies=lambda v: bool(v.get("baseline_file_integrity"))),
    Control("login_banner", "baseline", "8.1.4.1",
            "Warning banner on every login surface (console, network, after login, SSH), no system details",
            ("CIS Debian 12: warning banners",)),
    Control("package_sources", "baseline", "8.1.4.4 d, 8.1.10.5",
            "Packages only from the approved mirrors, with security updates; unsigned sources refused",
            ("CIS Debian 12: package manager repositories, GPG keys",),
            applies=lambda v: bool(v.get("baseline_package_mirrors"))),
    Control("file_permissions", "baseline", "8.1.4.2 a",
            "Restrictive owner and mode of cron, SSH, account and sudo files; crontab only for allowed accounts",
            ("CIS Debian 12: system file permissions, cron, SSH keys",)),
    Control("tmp_mounts", "baseline", "8.1.4.4",
            "/tmp and /dev/shm mounted nodev, nosuid, noexec",
            ("CIS Debian 12: /tmp and /dev/shm mount options", "ANSSI BP-028: partitioning")),
    Control("host_firewall", "zones", "8.1.3.2 a, c, d",
            "nftables: default deny in and out, exactly the flows of the matrix for the host's zone and role"),
    Control("management_access", "zones", "8.1.4.4 c", "SSH only from the management zones"),
    Control("zone_router", "zones", "8.1.3.1 a, 8.1.3.2 a", "Zone router forwards exactly the flow matrix", applies=_is_router),
    Control("tls_required", "datapool", "8.1.4.8 a", "Data pool: TLS 1.2+ required, plain connections refused", applies=_is_datapool),
    Control("scram_auth", "datapool", "8.1.4.1 a", "Data pool: scram-sha-256 only; departments hold verifiers",
            applies=_is_datapool),
    Control("hba_zones", "datapool", "8.1.4.4 c, 8.1.3.2",
            "Data pool: each department only from its own zone, and only zones with a flow", applies=_is_datapool),
    Control("sharing_grants", "datapool", "8.1.4.2 f",
            "Data pool: read-only grants exactly for approved consumers; nothing on not-shared datasets", applies=_is_datapool),
    Control("read_audit", "datapool", "8.1.4.3 a", "Data pool: pgaudit logs reads of conditional and core datasets",
            applies=_is_datapool),
)

ROLES = ("baseline", "zones", "datapool")
