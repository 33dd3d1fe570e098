"""Every control's check is shown to fail on a broken host: each test breaks one control on one
lab host, asserts that its check of effective state fails, that check mode (the audit mode)
reports the drift without repairing it, and that converging that control's tag alone repairs
it. The checks are not their own oracle: a break is a plain command an attacker or a careless
administrator would run."""

from __future__ import annotations

import time

import pytest

from govcloud.baseline.checks import check_for
from govcloud.baseline.controls import CONTROLS

from .conftest import failures

PG = "/etc/postgresql/15/main"
RELOAD_PG = "systemctl reload postgresql@15-main"


def _delete_rule(chain: str, marker: str) -> str:
    """nft: delete the rule of a chain whose line carries the marker (by its handle)."""
    return (f"nft delete rule inet govcloud {chain} handle "
            f"$(nft -a list chain inet govcloud {chain} | grep -F '{marker}' | sed -n 's/.*# handle \\([0-9]*\\)$/\\1/p' | head -n1)")


# control id -> (host, commands that break it)
BREAKS: dict[str, tuple[str, str]] = {
    "ssh_hardening": ("node-egov-2", "sed -i 's/^MaxAuthTries .*/MaxAuthTries 6/' /etc/ssh/sshd_config"),
    "password_quality": ("node-egov-2", "sed -i 's/^minlen = .*/minlen = 6/' /etc/security/pwquality.conf"),
    "password_ageing": ("node-egov-2", "chage -M 99999 sysadm"),
    "password_hashing": ("node-egov-2", "sed -i 's/^ENCRYPT_METHOD.*/ENCRYPT_METHOD MD5/' /etc/login.defs"),
    "login_lockout": ("node-egov-2", "sed -i 's/^deny = .*/deny = 50/' /etc/security/faillock.conf"),
    "session_timeout": ("node-egov-2", "rm -f /etc/profile.d/govcloud-timeout.sh"),
    "umask_default": ("node-egov-2", "sed -i 's/^umask .*/umask 022/' /etc/profile.d/govcloud-umask.sh"),
    "private_tmp": ("node-egov-2", "sed -i '/pam_namespace/d' /etc/pam.d/common-session"),
    "admin_separation": ("node-egov-2", "echo 'secadm ALL=(root) /usr/bin/systemctl restart *' >> /etc/sudoers.d/govcloud-admins"),
    "sudo_least_privilege": ("node-egov-2", "gpasswd --add sysadm sudo"),
    "sudo_hardening": ("node-egov-2", "sed -i 's/timestamp_timeout=.*/timestamp_timeout=60/' /etc/sudoers.d/govcloud-defaults"),
    "default_accounts": ("node-egov-2", "usermod --shell /bin/bash daemon"),
    "audit_rules": ("node-egov-2", "sed -i '/-k logins/d' /etc/audit/rules.d/60-govcloud-mlps.rules"),
    # the socket too: any message (sudo logs one) would start rsyslog again
    "log_forwarding": ("node-inet-1", "systemctl stop syslog.socket rsyslog.service"),
    "log_retention": ("bastion-1", "chmod 0644 /var/log/auth.log && systemctl disable --now logrotate.timer"),
    "time_sync": ("node-intra-1", "systemctl stop chrony"),
    "sysctl_network": ("gw-internet-1", "sysctl -q -w net.ipv4.conf.all.accept_redirects=1"),
    "core_dumps": ("node-egov-2", "rm -f /etc/security/limits.d/60-govcloud-coredump.conf /etc/systemd/system.conf.d/60-govcloud-coredump.conf"
                                  " && systemctl daemon-reexec"),
    "kernel_modules": ("node-egov-2", "sed -i '/sctp/d' /etc/modprobe.d/60-govcloud-disabled.conf"),
    "process_accounting": ("node-egov-2", "accton off"),
    "minimal_services": ("node-egov-2", "systemctl unmask apt-daily.timer && systemctl start apt-daily.timer"),
    "file_integrity": ("node-egov-1", "rm -f /var/lib/aide/govcloud.db && systemctl disable --now govcloud-aide-check.timer"),
    "login_banner": ("node-egov-2", "printf 'Debian GNU/Linux 12 \\\\n \\\\l\\n' > /etc/issue.net"),
    "package_sources": ("node-egov-2", "echo 'deb [trusted=yes] http://deb.debian.org/debian bookworm main' > /etc/apt/sources.list.d/extra.list"),
    "file_permissions": ("node-egov-2", "chmod 0644 /etc/crontab"),
    "tmp_mounts": ("node-egov-2", "mount -o remount,exec,suid /tmp"),
    "host_firewall": ("node-inet-1", "nft add rule inet govcloud input tcp dport 8080 accept"),
    "management_access": ("node-egov-1", _delete_rule("input", "management access only")),
    "zone_router": ("zone-router", _delete_rule("forward", 'govcloud flow 1"')),
    "tls_required": ("dp-1", f"sed -i \"s/^ssl_min_protocol_version.*/ssl_min_protocol_version = 'TLSv1'/\" {PG}/conf.d/60-govcloud-tls.conf && {RELOAD_PG}"),
    "scram_auth": ("dp-1", f"sed -i \"s/^password_encryption.*/password_encryption = 'md5'/\" {PG}/conf.d/60-govcloud-auth.conf && {RELOAD_PG}"),
    "hba_zones": ("dp-1", f"echo 'hostssl all all 172.30.30.0/24 scram-sha-256' >> {PG}/pg_hba.conf && {RELOAD_PG}"),
    "sharing_grants": ("dp-1", "runuser -u postgres -- psql -X -d datapool -c 'GRANT t_430100_health__health_records__read TO t_430100_hrss'"),
    "read_audit": ("dp-1", f"sed -i \"s/^pgaudit.role.*/pgaudit.role = 'postgres'/\" {PG}/conf.d/60-govcloud-audit.conf && {RELOAD_PG}"),
}

PLAYBOOK = {"baseline": "baseline.yml", "zones": "zones.yml", "datapool": "datapool.yml"}


def _playbook(control) -> str:
    return "integrity.yml" if control.id == "file_integrity" else PLAYBOOK[control.role]


def _finding(lab_session, control, host):
    return check_for(control.id)(lab_session.shell(host), lab_session.hostvars[host])


@pytest.mark.parametrize("control", CONTROLS, ids=lambda c: c.id)
def test_breaking_a_control_fails_its_check_and_its_tag_repairs_it(lab_session, control):
    assert control.id in BREAKS, f"no test breaks {control.id}"
    host, commands = BREAKS[control.id]
    assert _finding(lab_session, control, host).passed, f"{control.id} must hold on {host} before the break"
    broken = lab_session.host(host).run(commands)
    assert broken.rc == 0, f"breaking {control.id} failed: {broken.stderr}"
    try:
        finding = _finding(lab_session, control, host)
        assert not finding.passed, f"{control.id} still passes on a broken {host}: {finding.evidence}"
        audit = lab_session.converge(playbook=_playbook(control), check=True, tags=[control.id], limit=host)
        assert audit.ok, failures(audit)
        assert audit.stats[host]["changed"] >= 1, f"check mode did not report the drift:\n{audit.output[-3000:]}"
        assert not _finding(lab_session, control, host).passed, "check mode repaired the host"
    finally:
        repair = lab_session.converge(playbook=_playbook(control), tags=[control.id], limit=host)
    assert repair.ok, failures(repair)
    assert repair.stats[host]["changed"] >= 1, repair.output[-4000:]
    deadline = time.monotonic() + 30  # a restarted daemon may take a moment (a log connection, a time source)
    while not (finding := _finding(lab_session, control, host)).passed and time.monotonic() < deadline:
        time.sleep(2)
    assert finding.passed, [e for e in finding.evidence if e.startswith("FAIL")]
