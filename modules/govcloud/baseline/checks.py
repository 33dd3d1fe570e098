"""Checks of effective state, one per control: what the host really does, not what a file
was supposed to say. Each returns a ``Finding``: pass/fail and the evidence it read.

A check receives a testinfra host (commands run with sudo) and the host's inventory variables,
which are the expected values (the same ones the roles applied, derived from the model).
Where a container cannot show the live value (kernel.* sysctls, auditd), the check reads
the configuration files instead and says so in its evidence.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from dataclasses import dataclass, field
from typing import Any, Callable

HostVars = dict[str, Any]

WEAK_SSH = re.compile(r"(cbc|3des|arcfour|blowfish|cast128|hmac-md5|hmac-sha1|umac-64|group1-|group14-sha1|group-exchange-sha1|ssh-dss)")


@dataclass
class Finding:
    passed: bool = True
    evidence: list[str] = field(default_factory=list)

    def expect(self, condition: bool, evidence: str) -> None:
        """Record what was read; any false expectation fails the control."""
        self.evidence.append(("ok: " if condition else "FAIL: ") + evidence)
        self.passed = self.passed and bool(condition)


class Shell:
    """Commands on one host (as root through sudo), output as text."""

    def __init__(self, host):
        self.host = host
        self._cache: dict[str, tuple[int, str, str]] = {}

    def _result(self, command: str) -> tuple[int, str, str]:
        # Checks of one verification share reads (sshd -T, nft list ruleset): read once.
        if command not in self._cache:
            result = self.host.run(command)
            self._cache[command] = (result.rc, result.stdout or "", result.stderr or "")
        return self._cache[command]

    def run(self, command: str) -> tuple[int, str]:
        rc, out, err = self._result(command)
        return rc, out + err

    def out(self, command: str) -> str:
        return self._result(command)[1]

    def file(self, path: str) -> str:
        rc, text = self.run(f"cat {shlex.quote(path)}")
        return text if rc == 0 else ""

    def as_user(self, user: str, command: str) -> tuple[int, str]:
        return self.run(f"runuser -u {shlex.quote(user)} -- {command}")


def _settings(text: str, separator: str = r"\s*=\s*|\s+") -> dict[str, str]:
    values = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = re.split(separator, line, maxsplit=1)
        values[parts[0].lower()] = parts[1].strip() if len(parts) > 1 else ""
    return values


def _in_container(sh: Shell) -> bool:
    return sh.out("systemd-detect-virt --container 2>/dev/null").strip() not in ("", "none")


# -- baseline --------------------------------------------------------------------------------
def ssh_hardening(sh: Shell, v: HostVars) -> Finding:
    f = Finding()
    conf = _settings(sh.out("sshd -T"), r"\s+")
    for key, wanted in (("permitrootlogin", "no"), ("passwordauthentication", "no"), ("kbdinteractiveauthentication", "no"),
                        ("permitemptypasswords", "no"), ("pubkeyauthentication", "yes"), ("x11forwarding", "no"),
                        ("allowtcpforwarding", "no"), ("permituserenvironment", "no")):
        f.expect(conf.get(key) == wanted, f"sshd -T {key} {conf.get(key)}")
    tries = int(conf.get("maxauthtries", "99"))
    f.expect(tries <= int(v["baseline_ssh_max_auth_tries"]), f"sshd -T maxauthtries {tries} (<= {v['baseline_ssh_max_auth_tries']})")
    for key in ("ciphers", "macs", "kexalgorithms"):
        weak = sorted(a for a in conf.get(key, "").split(",") if WEAK_SSH.search(a))
        f.expect(bool(conf.get(key)) and not weak, f"sshd -T {key}: {'no weak algorithms' if not weak else 'weak ' + ','.join(weak)}")
    return f


def password_quality(sh: Shell, v: HostVars) -> Finding:
    f = Finding()
    conf = _settings(sh.file("/etc/security/pwquality.conf"))
    minlen, minclass = int(conf.get("minlen", 0)), int(conf.get("minclass", 0))
    f.expect(minlen >= int(v["baseline_password_min_length"]), f"pwquality minlen {minlen} (>= {v['baseline_password_min_length']})")
    f.expect(minclass >= int(v["baseline_password_min_classes"]), f"pwquality minclass {minclass} (>= {v['baseline_password_min_classes']})")
    stack = sh.file("/etc/pam.d/common-password") or sh.file("/etc/pam.d/system-auth")
    f.expect("pam_pwquality.so" in stack, "PAM password stack calls pam_pwquality")
    history = int(v["baseline_password_history"])
    if history:
        match = re.search(r"pam_pwhistory\.so.*remember=(\d+)", stack) or re.search(r"remember\s*=\s*(\d+)", sh.file("/etc/security/pwhistory.conf"))
        remembered = int(match.group(1)) if match else 0
        f.expect(remembered >= history, f"pam_pwhistory remember={remembered} (>= {history})")
    return f


def password_ageing(sh: Shell, v: HostVars) -> Finding:
    f = Finding()
    defs = _settings(sh.file("/etc/login.defs"), r"\s+")
    f.expect(int(defs.get("pass_max_days", 99999)) <= int(v["baseline_password_max_age_days"]),
             f"login.defs PASS_MAX_DAYS {defs.get('pass_max_days')} (<= {v['baseline_password_max_age_days']})")
    f.expect(int(defs.get("pass_min_days", 0)) >= int(v["baseline_password_min_age_days"]),
             f"login.defs PASS_MIN_DAYS {defs.get('pass_min_days')} (>= {v['baseline_password_min_age_days']})")
    uids = {line.split(":")[0]: int(line.split(":")[2]) for line in sh.file("/etc/passwd").splitlines() if line.count(":") >= 6}
    for line in sh.file("/etc/shadow").splitlines():
        fields = line.split(":")
        if len(fields) < 6 or not 1000 <= uids.get(fields[0], 0) < 60000:
            continue
        maximum = int(fields[4] or 99999)
        f.expect(maximum <= int(v["baseline_password_max_age_days"]), f"{fields[0]}: password maximum age {maximum} days")
    return f


def login_lockout(sh: Shell, v: HostVars) -> Finding:
    f = Finding()
    conf = _settings(sh.file("/etc/security/faillock.conf"))
    deny, unlock = int(conf.get("deny", 0) or 0), int(conf.get("unlock_time", 0) or 0)
    f.expect(0 < deny <= int(v["baseline_lockout_attempts"]), f"faillock deny {deny} (<= {v['baseline_lockout_attempts']})")
    f.expect(unlock >= int(v["baseline_lockout_unlock_seconds"]) or unlock == 0 and deny > 0,
             f"faillock unlock_time {unlock} s (>= {v['baseline_lockout_unlock_seconds']})")
    auth = sh.file("/etc/pam.d/common-auth") or sh.file("/etc/pam.d/system-auth")
    f.expect(re.search(r"pam_faillock\.so\s+preauth", auth) is not None and "authfail" in auth,
             "PAM auth stack counts failures (pam_faillock preauth/authfail)")
    return f


def session_timeout(sh: Shell, v: HostVars) -> Finding:
    f = Finding()
    wanted = int(v["baseline_idle_timeout_seconds"])
    rc, out = sh.as_user(v["baseline_admins"]["system"]["account"], "bash -lc 'echo TMOUT=$TMOUT; readonly -p | grep -c TMOUT'")
    match = re.search(r"TMOUT=(\d+)\s+(\d+)", out)
    tmout = int(match.group(1)) if match else 0
    f.expect(0 < tmout <= wanted and match is not None and match.group(2) != "0",
             f"login shell TMOUT={tmout}, read-only (<= {wanted})")
    channel = _settings(sh.out("sshd -T"), r"\s+").get("channeltimeout", "")
    f.expect(f"session={wanted}" in channel, f"sshd -T channeltimeout {channel or 'none'}")
    return f


def umask_default(sh: Shell, v: HostVars) -> Finding:
    f = Finding()
    wanted = v["baseline_umask"].rjust(4, "0")
    rc, out = sh.as_user(v["baseline_admins"]["system"]["account"], "bash -lc umask")
    f.expect(out.strip() == wanted, f"login shell umask {out.strip()} (== {wanted})")
    defs = _settings(sh.file("/etc/login.defs"), r"\s+")
    f.expect(defs.get("umask", "").rjust(4, "0") == wanted, f"login.defs UMASK {defs.get('umask')}")
    return f


def admin_separation(sh: Shell, v: HostVars) -> Finding:
    f = Finding()
    system, security, audit = (v["baseline_admins"][d]["account"] for d in ("system", "security", "audit"))
    f.expect(len({system, security, audit}) == 3, f"three different administrators: {system}, {security}, {audit}")
    for account in (system, security, audit):
        rc, _ = sh.run(f"id {account}")
        f.expect(rc == 0, f"administrator {account} exists")
    rc, _ = sh.run(f"sudo -n -l -U {system} /usr/sbin/nft list ruleset")
    f.expect(rc != 0, f"system administrator {system} may not touch the firewall")
    rc, _ = sh.run(f"sudo -n -l -U {security} /usr/bin/systemctl restart ssh")
    f.expect(rc != 0, f"security administrator {security} may not manage services")
    rc, _ = sh.run(f"sudo -n -l -U {security} /usr/sbin/nft list ruleset")
    f.expect(rc == 0, f"security administrator {security} may read the firewall")
    rc, _ = sh.run(f"sudo -n -l -U {audit} /usr/sbin/aureport --summary")
    f.expect(rc == 0, f"audit administrator {audit} may run aureport")
    rc, _ = sh.run(f"sudo -n -l -U {audit} /usr/bin/passwd root")
    f.expect(rc != 0, f"audit administrator {audit} may not change passwords")
    log = "/var/log/auth.log"
    readable, _ = sh.as_user(audit, f"test -r {log}")
    writable, _ = sh.as_user(audit, f"test -w {log}")
    f.expect(readable == 0 and writable != 0, f"audit administrator reads {log} and cannot write it")
    return f


def sudo_least_privilege(sh: Shell, v: HostVars) -> Finding:
    f = Finding()
    for account in (a["account"] for a in v["baseline_admins"].values()):
        out = sh.out(f"sudo -n -l -U {account}")
        blanket = re.search(r"\)\s*(NOPASSWD:\s*)?ALL\s*$", out, re.M) is not None
        f.expect(not blanket, f"{account} has no blanket sudo rule")
    group = sh.out("getent group sudo wheel").strip().splitlines()
    members = [m for line in group for m in line.split(":")[3].split(",") if m]
    f.expect(not members, f"administrators' group members: {members or 'none'}")
    defaults = sh.file("/etc/sudoers.d/govcloud-defaults")
    f.expect("use_pty" in defaults and "logfile" in defaults, "sudo runs in a pty and logs to /var/log/sudo.log")
    return f


def default_accounts(sh: Shell, v: HostVars) -> Finding:
    f = Finding()
    status = sh.out("passwd -S root").split()
    f.expect(len(status) > 1 and status[1] == "L", f"root password {'locked' if len(status) > 1 and status[1] == 'L' else 'usable'}")
    empty = [line.split(":")[0] for line in sh.file("/etc/shadow").splitlines() if line.count(":") > 1 and line.split(":")[1] == ""]
    f.expect(not empty, f"accounts with an empty password: {empty or 'none'}")
    passwd = [line.split(":") for line in sh.file("/etc/passwd").splitlines() if line.count(":") >= 6]
    uid0 = [p[0] for p in passwd if p[2] == "0"]
    f.expect(uid0 == ["root"], f"UID 0 accounts: {uid0}")
    shells = [p[0] for p in passwd if 0 < int(p[2]) < 1000 and p[0] not in v["baseline_system_accounts_with_shell"]
              and not p[6].endswith(("nologin", "false"))]
    f.expect(not shells, f"system accounts with a login shell: {shells or 'none'}")
    return f


def audit_rules(sh: Shell, v: HostVars) -> Finding:
    f = Finding()
    rules = sh.file("/etc/audit/rules.d/60-govcloud-mlps.rules")
    for key in ("identity", "privilege", "time-change", "modules", "logins"):
        f.expect(f"-k {key}" in rules, f"rules file audits key {key}")
    if _in_container(sh):
        f.evidence.append("note: containers cannot audit (shared kernel); rules checked by file content")
    else:
        active = sh.out("auditctl -l")
        f.expect("key=identity" in active, "auditd has the rules loaded")
    return f


def log_forwarding(sh: Shell, v: HostVars) -> Finding:
    f = Finding()
    rc, _ = sh.run("systemctl is-active rsyslog")
    f.expect(rc == 0, "rsyslog is running")
    port = int(v["baseline_log_port"])
    if v.get("baseline_log_collector"):
        listening = sh.out(f"ss -Htln sport = :{port}")
        f.expect(str(port) in listening, f"collector listens on tcp/{port}")
        return f
    for collector in v["baseline_log_collectors"]:
        established = sh.out(f"ss -Htn state established dst {collector} dport = :{port}")
        f.expect(bool(established.strip()), f"established connection to collector {collector}:{port}")
    return f


def log_retention(sh: Shell, v: HostVars) -> Finding:
    f = Finding()
    wanted = int(v["baseline_log_retention_days"])
    text = sh.file("/etc/logrotate.d/rsyslog")
    rotate = int(m.group(1)) if (m := re.search(r"^\s*rotate\s+(\d+)", text, re.M)) else 0
    period = {"daily": 1, "weekly": 7, "monthly": 31}.get(next((p for p in ("daily", "weekly", "monthly") if re.search(rf"^\s*{p}\b", text, re.M)), ""), 0)
    f.expect(rotate * period >= wanted, f"logrotate keeps {rotate} x {period} days (>= {wanted})")
    mode = sh.out("stat -c '%a %U %G' /var/log/syslog /var/log/auth.log 2>/dev/null").split("\n")
    loose = [m for m in mode if m and not re.match(r"^(6[04]0) root ", m)]
    f.expect(not loose, f"log files: {', '.join(m for m in mode if m)}")
    return f


def sysctl_network(sh: Shell, v: HostVars) -> Finding:
    f = Finding()
    net = {"net.ipv4.ip_forward": "1" if v.get("baseline_ip_forward") else "0", "net.ipv4.conf.all.accept_redirects": "0",
           "net.ipv4.conf.all.send_redirects": "0", "net.ipv4.conf.all.accept_source_route": "0",
           "net.ipv4.conf.all.rp_filter": "1", "net.ipv4.tcp_syncookies": "1", "net.ipv4.conf.all.log_martians": "1"}
    live = sh.out("sysctl -n " + " ".join(net)).split()
    for (key, wanted), value in zip(net.items(), live, strict=False):
        f.expect(value == wanted, f"live {key} = {value} (== {wanted})")
    kernel = _settings(sh.file("/etc/sysctl.d/61-govcloud-kernel.conf"))
    f.expect(kernel.get("kernel.randomize_va_space") == "2" and kernel.get("kernel.kptr_restrict") == "2",
             "kernel.* hardening written (read by file: kernel settings are the host kernel's in a container)")
    return f


def minimal_services(sh: Shell, v: HostVars) -> Finding:
    f = Finding()
    ports = set()
    for line in sh.out("ss -Htuln").splitlines():
        local = line.split()[4]
        if re.match(r"^(127\.|\[::1\]|::1)", local):
            continue
        ports.add(int(local.rsplit(":", 1)[1]))
    expected = set(v["baseline_listening_ports"])
    f.expect(ports <= expected, f"listening ports {sorted(ports)} (allowed {sorted(expected)})")
    active = sh.out("systemctl list-units --no-legend --plain --state=active avahi-daemon.service cups.service rpcbind.service "
                    "nfs-server.service rsync.service telnet.socket vsftpd.service apt-daily.timer").strip()
    f.expect(not active, f"unused services active: {active or 'none'}")
    return f


def file_integrity(sh: Shell, v: HostVars) -> Finding:
    f = Finding()
    rc, _ = sh.run("test -s /var/lib/aide/govcloud.db")
    f.expect(rc == 0, "AIDE database initialised")
    rc, _ = sh.run("systemctl is-enabled govcloud-aide-check.timer")
    f.expect(rc == 0, "daily AIDE check enabled")
    binary = "/usr/bin/aide" if sh.run("test -x /usr/bin/aide")[0] == 0 else "/usr/sbin/aide"
    rc, out = sh.run(f"{binary} --config /etc/aide/govcloud.conf --check")
    changed = [line.split()[-1] for line in out.splitlines() if re.match(r"^[fdl][ +=<>.!:a-zA-Z]*:\s", line) and line.split()]
    f.expect(rc == 0, f"aide --check: {'no changes' if rc == 0 else 'exit ' + str(rc) + ' ' + ','.join(changed[:5])}")
    return f


def login_banner(sh: Shell, v: HostVars) -> Finding:
    f = Finding()
    for path in ("/etc/issue", "/etc/issue.net"):
        f.expect("Authorised use only" in sh.file(path), f"{path} carries the warning")
    banner = _settings(sh.out("sshd -T"), r"\s+").get("banner")
    f.expect(banner == "/etc/issue.net", f"sshd -T banner {banner}")
    return f


# -- zones -----------------------------------------------------------------------------------
def _ruleset(sh: Shell) -> str:
    return sh.out("nft list ruleset")


def _chain(ruleset: str, name: str) -> str:
    match = re.search(rf"chain {name} \{{(.*?)\n\t\}}", ruleset, re.S)
    return match.group(1) if match else ""


def _set(values: list) -> str:
    """How nft prints a set of one or more values."""
    return str(values[0]) if len(values) == 1 else "{ " + ", ".join(str(x) for x in values) + " }"


def _has_rule(chain: str, *fragments: str) -> bool:
    return any(all(fragment in line + " " for fragment in fragments) for line in chain.splitlines())


def host_firewall(sh: Shell, v: HostVars) -> Finding:
    f = Finding()
    rules = _ruleset(sh)
    for chain in ("input", "forward", "output"):
        body = _chain(rules, chain)
        f.expect("policy drop" in body, f"chain {chain}: policy drop")
    base = {'iifname "lo" accept', 'oifname "lo" accept', "ct state established,related accept"}
    for chain in ("input", "output", "forward"):
        stray = [line.strip() for line in _chain(rules, chain).splitlines()
                 if re.search(r"\baccept\b", line) and line.strip() not in base and 'comment "govcloud' not in line]
        f.expect(not stray, f"chain {chain}: accept rules not derived from the flows: {stray or 'none'}")
    accepts = {c: len(re.findall(r"\bgovcloud (in|out) \d+", _chain(rules, c))) for c in ("input", "output")}
    f.expect(accepts["input"] == len(v["zones_input_rules"]), f"input accepts {accepts['input']} flow rules (expected {len(v['zones_input_rules'])})")
    f.expect(accepts["output"] == len(v["zones_output_rules"]), f"output accepts {accepts['output']} flow rules (expected {len(v['zones_output_rules'])})")
    for kind, chain, direction in (("zones_input_rules", "input", "saddr"), ("zones_output_rules", "output", "daddr")):
        for rule in v[kind]:
            present = _has_rule(_chain(rules, chain), f"ip {direction} {_set(rule['peers'])} ", f"dport {_set(rule['ports'])} ")
            f.expect(present, f"{chain}: {rule['comment'].split(':')[0]} ({','.join(rule['peers'])} {rule['protocol']}/{','.join(map(str, rule['ports']))})")
    return f


def management_access(sh: Shell, v: HostVars) -> Finding:
    f = Finding()
    networks = v["zones_management_networks"]
    guard = f"tcp dport {v.get('zones_ssh_port', 22)} ip saddr != {_set(networks)}"
    f.expect(guard in _chain(_ruleset(sh), "input"), f"input refuses SSH unless from {', '.join(networks)}")
    conf = _settings(sh.out("sshd -T"), r"\s+")
    f.expect(all(n in conf.get("allowusers", "") for n in networks), f"sshd -T allowusers {conf.get('allowusers', 'any')}")
    return f


def zone_router(sh: Shell, v: HostVars) -> Finding:
    f = Finding()
    forward = _chain(_ruleset(sh), "forward")
    count = len(re.findall(r"govcloud flow \d+", forward))
    f.expect(count == len(v["zones_forward_rules"]), f"forward accepts {count} flows (matrix has {len(v['zones_forward_rules'])})")
    for rule in v["zones_forward_rules"]:
        f.expect(_has_rule(forward, f"ip saddr {_set(rule['sources'])} ", f"ip daddr {_set(rule['destinations'])} ",
                           f"dport {_set(rule['ports'])} "), f"forward: {rule['comment'].split(':')[0]}")
    f.expect(sh.out("sysctl -n net.ipv4.ip_forward").strip() == "1", "router forwards (net.ipv4.ip_forward = 1)")
    return f


# -- datapool --------------------------------------------------------------------------------
def _sql(sh: Shell, v: HostVars, query: str, database: str | None = None) -> str:
    db = database or v["datapool_database"]
    return sh.out(f"runuser -u postgres -- psql -X -At -d {shlex.quote(db)} -c {shlex.quote(query)}").strip()


def tls_required(sh: Shell, v: HostVars) -> Finding:
    f = Finding()
    settings = _sql(sh, v, "SELECT name || '=' || setting FROM pg_settings WHERE name IN ('ssl', 'ssl_min_protocol_version') ORDER BY name").splitlines()
    f.expect("ssl=on" in settings, "ssl = on")
    f.expect(any(s in settings for s in ("ssl_min_protocol_version=TLSv1.2", "ssl_min_protocol_version=TLSv1.3")), f"{settings[-1] if settings else 'ssl_min_protocol_version unknown'}")
    rules = _sql(sh, v, "SELECT type || ' ' || auth_method FROM pg_hba_file_rules WHERE type LIKE 'host%'").splitlines()
    f.expect("hostnossl reject" in rules and not any(r.startswith("host ") and not r.endswith("reject") for r in rules),
             "pg_hba: non-TLS connections rejected; only hostssl admits")
    return f


def scram_auth(sh: Shell, v: HostVars) -> Finding:
    f = Finding()
    f.expect(_sql(sh, v, "SHOW password_encryption") == "scram-sha-256", "password_encryption = scram-sha-256")
    methods = set(_sql(sh, v, "SELECT DISTINCT auth_method FROM pg_hba_file_rules WHERE type = 'hostssl'").splitlines())
    f.expect(methods <= {"scram-sha-256"} and bool(methods), f"hostssl methods {sorted(methods)}")
    roles = [d["role"] for d in v["datapool_departments"]]
    stored = _sql(sh, v, "SELECT rolname || ' ' || coalesce(left(rolpassword, 14), 'none') FROM pg_authid WHERE rolname = ANY(ARRAY["
                  + ",".join("'" + r + "'" for r in roles) + "]::text[]) ORDER BY 1").splitlines()
    f.expect(len(stored) == len(roles) and all(s.endswith("SCRAM-SHA-256$") for s in stored),
             f"{len(stored)} department roles hold SCRAM verifiers (of {len(roles)})")
    return f


def hba_zones(sh: Shell, v: HostVars) -> Finding:
    f = Finding()
    actual = set(_sql(sh, v, "SELECT user_name[1] || ' ' || address || '/' || netmask FROM pg_hba_file_rules WHERE type = 'hostssl'").splitlines())
    expected = set()
    for department in v["datapool_departments"]:
        for network in department["networks"]:
            expected.add(f"{department['role']} {network.split('/')[0]}/{_netmask(network)}")
    f.expect(actual == expected, f"hostssl entries {len(actual)} == derived from the zones' flows {len(expected)}")
    missing = sorted(expected - actual)
    extra = sorted(actual - expected)
    if missing or extra:
        f.evidence.append(f"missing {missing}, unexpected {extra}")
    return f


def _netmask(network: str) -> str:
    return str(ipaddress.ip_network(network).netmask)


def sharing_grants(sh: Shell, v: HostVars) -> Finding:
    f = Finding()
    memberships = set(_sql(sh, v, "SELECT r.rolname || ' ' || u.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
                                  "JOIN pg_roles u ON u.oid = m.member WHERE shobj_description(r.oid, 'pg_authid') LIKE 'govcloud read role %'").splitlines())
    expected = {f"{g['read_role']} {g['consumer']}" for g in v["datapool_dataset_grants"]}
    f.expect(memberships == expected, f"read-role memberships {len(memberships)} == approved consumers {len(expected)}")
    for ds in v["datapool_datasets"]:
        others = _sql(sh, v, f"SELECT count(*) FROM pg_namespace n, aclexplode(n.nspacl) a WHERE n.nspname = '{ds['schema']}' "
                             f"AND a.grantee <> n.nspowner")
        allowed = 0 if ds["read_role"] is None else 1
        f.expect(others.isdigit() and int(others) <= allowed,
                 f"{ds['ref']} ({ds['sharing']}): {others} non-owner grants on its schema (<= {allowed})")
    return f


def read_audit(sh: Shell, v: HostVars) -> Finding:
    f = Finding()
    preload = _sql(sh, v, "SHOW shared_preload_libraries")
    f.expect("pgaudit" in preload, f"shared_preload_libraries = {preload}")
    f.expect(_sql(sh, v, "SHOW pgaudit.role") == v["datapool_auditor_role"], f"pgaudit.role = {v['datapool_auditor_role']}")
    audited = [d for d in v["datapool_datasets"] if d["audited"]]
    for ds in audited:
        count = _sql(sh, v, f"SELECT count(*) FROM pg_default_acl a, aclexplode(a.defaclacl) e WHERE a.defaclnamespace = "
                            f"(SELECT oid FROM pg_namespace WHERE nspname = '{ds['schema']}') AND e.grantee = "
                            f"(SELECT oid FROM pg_roles WHERE rolname = '{v['datapool_auditor_role']}')")
        f.expect(count == "1", f"reads of {ds['ref']} ({ds['sharing']}, {ds['sensitivity']}) are audited")
    return f


def check_for(control_id: str) -> Callable[[Shell, HostVars], Finding]:
    """The check of a control: the function named after its id (every control has one)."""
    check = globals().get(control_id)
    if not callable(check):
        raise KeyError(f"control {control_id} has no check")
    return check
