"""Checks of effective state, one per control: what the host really does, not what a file
was supposed to say. Each returns a ``Finding``: pass/fail and the evidence it read.

A check receives a testinfra host (commands run with sudo) and the host's inventory variables,
which are the expected values (the same ones the roles applied, derived from the model).
Where a container cannot show the live value (kernel.* sysctls, auditd), the check reads
the configuration files instead and says so in its evidence.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
import secrets
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
def _system_admin(v: HostVars) -> str:
    return v["baseline_admins"]["system"]["account"]


def _pam_stack(sh: Shell, debian: str, redhat: str) -> str:
    return sh.file(f"/etc/pam.d/{debian}") or sh.file(f"/etc/pam.d/{redhat}")


def ssh_hardening(sh: Shell, v: HostVars) -> Finding:
    f = Finding()
    conf = _settings(sh.out("sshd -T"), r"\s+")
    for key, wanted in (("permitrootlogin", "no"), ("passwordauthentication", "no"), ("kbdinteractiveauthentication", "no"),
                        ("permitemptypasswords", "no"), ("pubkeyauthentication", "yes"), ("x11forwarding", "no"),
                        ("allowtcpforwarding", "no"), ("permituserenvironment", "no"), ("disableforwarding", "yes"),
                        ("gssapiauthentication", "no"), ("hostbasedauthentication", "no"), ("ignorerhosts", "yes")):
        f.expect(conf.get(key) == wanted, f"sshd -T {key} {conf.get(key)}")
    tries = int(conf.get("maxauthtries", "99"))
    f.expect(tries <= int(v["baseline_ssh_max_auth_tries"]), f"sshd -T maxauthtries {tries} (<= {v['baseline_ssh_max_auth_tries']})")
    sessions, grace = int(conf.get("maxsessions", "99")), int(conf.get("logingracetime", "999"))
    f.expect(sessions <= 10 and 0 < grace <= 60, f"sshd -T maxsessions {sessions} (<= 10), logingracetime {grace} (<= 60)")
    for key in ("ciphers", "macs", "kexalgorithms"):
        weak = sorted(a for a in conf.get(key, "").split(",") if WEAK_SSH.search(a))
        f.expect(bool(conf.get(key)) and not weak, f"sshd -T {key}: {'no weak algorithms' if not weak else 'weak ' + ','.join(weak)}")
    return f


def _candidate(length: int, classes: int) -> str:
    """A random password of that length cycling through that many character classes: never a
    repeat, a sequence or a word, so only length and classes decide whether pwquality takes it."""
    pools = ("ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnopqrstuvwxyz", "23456789", "#%+-=@^_~")[:classes]
    return "".join(secrets.choice(pools[i % len(pools)]) for i in range(length))


def _pwscore(sh: Shell, password: str) -> int:
    return sh.run(f"printf '%s\\n' {shlex.quote(password)} | pwscore")[0]


def password_quality(sh: Shell, v: HostVars) -> Finding:
    f = Finding()
    length, classes = int(v["baseline_password_min_length"]), int(v["baseline_password_min_classes"])
    conf = _settings(sh.file("/etc/security/pwquality.conf"))
    minlen, minclass = int(conf.get("minlen", 0)), int(conf.get("minclass", 0))
    f.expect(minlen >= length, f"pwquality minlen {minlen} (>= {length})")
    f.expect(minclass >= classes, f"pwquality minclass {minclass} (>= {classes})")
    limits = {k: int(conf.get(k, 0) or 0) for k in ("maxrepeat", "maxsequence")}
    f.expect(all(0 < n <= 3 for n in limits.values()) and conf.get("dictcheck") == "1" and "enforce_for_root" in conf,
             f"pwquality maxrepeat {limits['maxrepeat']}, maxsequence {limits['maxsequence']} (<= 3), dictcheck, enforce_for_root")
    defs = _settings(sh.file("/etc/login.defs"), r"\s+")
    f.expect(defs.get("pass_min_len") == str(minlen), f"login.defs PASS_MIN_LEN {defs.get('pass_min_len')} (== pwquality minlen {minlen})")
    stack = _pam_stack(sh, "common-password", "system-auth")
    module = re.search(r"^password\s+\S+\s+pam_pwquality\.so(.*)$", stack, re.M)
    overrides = re.findall(r"\b(minlen|minclass|[dulo]credit)=", module.group(1)) if module else []
    f.expect(module is not None and not overrides, f"PAM password stack calls pam_pwquality{' with overrides ' + ','.join(overrides) if overrides else ' (rules from pwquality.conf only)'}")
    history = int(v["baseline_password_history"])
    if history:
        match = re.search(r"pam_pwhistory\.so.*remember=(\d+)", stack) or re.search(r"remember\s*=\s*(\d+)", sh.file("/etc/security/pwhistory.conf"))
        remembered = int(match.group(1)) if match else 0
        f.expect(remembered >= history, f"pam_pwhistory remember={remembered} (>= {history})")
    # What the PAM module itself decides (pwscore applies pwquality.conf, dictionary included).
    f.expect(_pwscore(sh, _candidate(length - 1, 4)) != 0, f"pwscore refuses a {length - 1}-character password")
    if classes > 1:
        f.expect(_pwscore(sh, _candidate(length + 2, classes - 1)) != 0, f"pwscore refuses a password of {classes - 1} character classes")
    f.expect(_pwscore(sh, _candidate(max(length, 16), 4)) == 0, "pwscore accepts a long random password (the dictionary check works)")
    return f


def password_hashing(sh: Shell, v: HostVars) -> Finding:
    f = Finding()
    wanted = v["baseline_os_password_hash"]
    defs = _settings(sh.file("/etc/login.defs"), r"\s+")
    method, cost = defs.get("encrypt_method", "").upper(), int(defs.get(wanted["cost_key"].lower(), 0) or 0)
    f.expect(method == wanted["method"], f"login.defs ENCRYPT_METHOD {method or 'unset'} (== {wanted['method']})")
    f.expect(cost >= int(wanted["cost"]), f"login.defs {wanted['cost_key']} {cost} (>= {wanted['cost']})")
    stack = _pam_stack(sh, "common-password", "system-auth")
    unix = next((line for line in stack.splitlines() if re.match(r"^password\s.*pam_unix\.so", line)), "")
    rounds = int(m.group(1)) if (m := re.search(r"\brounds=(\d+)", unix)) else 0
    f.expect(re.search(rf"\b{wanted['pam']}\b", unix) is not None and rounds >= int(wanted["cost"]),
             f"PAM pam_unix hashes with {wanted['pam']} rounds={rounds} (>= {wanted['cost']})")
    hashes = [line.split(":")[:2] for line in sh.file("/etc/shadow").splitlines() if line.count(":") > 1]
    usable = [(user, h) for user, h in hashes if h and not h.startswith(("!", "*"))]
    weak = sorted(user for user, h in usable if not h.startswith(("$y$", "$6$", "$gy$")))
    f.expect(not weak, f"stored passwords: {len(usable)} usable, weak hashes: {weak or 'none'}")
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
    auth = _pam_stack(sh, "common-auth", "system-auth")
    f.expect(re.search(r"pam_faillock\.so\s+preauth", auth) is not None and "authfail" in auth,
             "PAM auth stack counts failures (pam_faillock preauth/authfail)")
    return f


def session_timeout(sh: Shell, v: HostVars) -> Finding:
    f = Finding()
    wanted = int(v["baseline_idle_timeout_seconds"])
    rc, out = sh.as_user(_system_admin(v), "bash -lc 'echo TMOUT=$TMOUT; readonly -p | grep -c TMOUT'")
    match = re.search(r"TMOUT=(\d+)\s+(\d+)", out)
    tmout = int(match.group(1)) if match else 0
    f.expect(0 < tmout <= wanted and match is not None and match.group(2) != "0",
             f"login shell TMOUT={tmout}, read-only (<= {wanted})")
    channel = _settings(sh.out("sshd -T"), r"\s+").get("channeltimeout", "")
    f.expect(f"session={wanted}" in channel, f"sshd -T channeltimeout {channel or 'none'}")
    return f


def _umask_of(out: str) -> str:
    found = re.findall(r"^(0[0-7]{3})\s*$", out, re.M)
    return found[-1] if found else out.strip()[-40:]


def umask_default(sh: Shell, v: HostVars) -> Finding:
    f = Finding()
    wanted = v["baseline_umask"].rjust(4, "0")
    admin = _system_admin(v)
    for what, command in (("bash login shell", "bash -lc umask"), ("bash interactive shell", "bash -ic umask"),
                          ("sh login shell", "sh -lc umask")):
        got = _umask_of(sh.as_user(admin, command + " 2>/dev/null")[1])
        f.expect(got == wanted, f"{what}: umask {got} (== {wanted})")
    # A session without a start-up file (su -c, sftp, cron) gets its umask from pam_umask.
    got = _umask_of(sh.run(f"su -s /bin/sh -c umask {shlex.quote(admin)} 2>/dev/null")[1])
    f.expect(got == wanted, f"PAM session (su -c, no start-up file): umask {got} (== {wanted})")
    defs = _settings(sh.file("/etc/login.defs"), r"\s+")
    f.expect(defs.get("umask", "").rjust(4, "0") == wanted, f"login.defs UMASK {defs.get('umask')}")
    loose = []
    for line in sh.out("grep -HE '^[[:space:]]*umask[[:space:]]+[0-7]+' /etc/profile /etc/bash.bashrc /etc/bashrc /etc/profile.d/*.sh 2>/dev/null").splitlines():
        path, _, value = line.partition(":")
        mask = int(value.split()[1], 8)
        if mask & int(wanted, 8) != int(wanted, 8):
            loose.append(f"{path} {value.strip()}")
    f.expect(not loose, f"shell start-up files setting a looser umask: {loose or 'none'}")
    return f


def private_tmp(sh: Shell, v: HostVars) -> Finding:
    f = Finding()
    conf = [line.split() for line in sh.file("/etc/security/namespace.conf").splitlines() if line.strip() and not line.startswith("#")]
    polydirs = {fields[0].rstrip("/") or "/": fields[2] for fields in conf if len(fields) >= 3}
    f.expect(polydirs.get("/tmp", "").startswith("tmpfs") and "/var/tmp" in polydirs,
             f"namespace.conf: /tmp {polydirs.get('/tmp', 'shared')}, /var/tmp {polydirs.get('/var/tmp', 'shared')}")
    stack = _pam_stack(sh, "common-session", "sshd")
    f.expect(re.search(r"^session\s+\S+\s+pam_namespace\.so", stack, re.M) is not None, "PAM session stack calls pam_namespace")
    # The effect: what a user's session writes to /tmp and /var/tmp is not in the shared directories.
    probe = f"govcloud-private-probe-{secrets.token_hex(6)}"
    admin = _system_admin(v)
    rc, _ = sh.run(f"su -s /bin/sh -c {shlex.quote(f'touch /tmp/{probe} /var/tmp/{probe} && ls /tmp/{probe} /var/tmp/{probe}')} "
                   f"{shlex.quote(admin)}")
    f.expect(rc == 0, f"a session of {admin} writes to /tmp and /var/tmp")
    shared = [d for d in ("/tmp", "/var/tmp") if sh.run(f"test -e {d}/{probe}")[0] == 0]
    f.expect(rc == 0 and not shared, f"the session's files are not in the shared {', '.join(shared) or '/tmp or /var/tmp'}"
             if shared else "the session's files are in neither shared /tmp nor shared /var/tmp (private per session, per user)")
    sh.run(f"find /var/tmp /tmp -xdev -name {probe} -delete 2>/dev/null")
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
    return f


def _sudo_listing(sh: Shell, account: str) -> tuple[list[str], list[tuple[str, str]]]:
    """What sudo itself says for an account: its Defaults, and (tag, command) per allowed command."""
    out = sh.out(f"COLUMNS=4000 sudo -n -l -U {shlex.quote(account)}")
    defaults_part = re.search(r"Matching Defaults entries[^\n]*:\n(.*?)(?:\n\s*\n|\nRunas|\nUser )", out, re.S)
    defaults = [d.strip() for d in re.split(r",\s*", " ".join((defaults_part.group(1) if defaults_part else "").split()))]
    commands: list[tuple[str, str]] = []
    entries: list[str] = []  # one per "(runas) ..." line, continuation lines (a wrapped listing) joined
    for line in out.split("may run the following commands", 1)[-1].splitlines()[1:]:
        if line.strip().startswith("("):
            entries.append(line.strip())
        elif line.strip() and entries:
            entries[-1] += " " + line.strip()
    for line in (re.sub(r"^\([^)]*\)\s*", "", e) for e in entries):
        tag = "EXEC"
        for item in re.split(r",\s*", line):
            match = re.match(r"^((?:[A-Z_]+:\s*)+)(.*)$", item.strip())
            if match:
                tags = re.findall(r"([A-Z_]+):", match.group(1))
                tag = next((t for t in reversed(tags) if t in ("NOEXEC", "EXEC")), tag)
                item = match.group(2)
            commands.append((tag, item.strip()))
    return defaults, commands


def sudo_hardening(sh: Shell, v: HostVars) -> Finding:
    f = Finding()
    wanted_timeout = int(v["baseline_sudo_timestamp_timeout"])
    exec_ok = set(v["baseline_sudo_exec_commands"])
    for duty in ("system", "security", "audit"):
        account = v["baseline_admins"][duty]["account"]
        defaults, commands = _sudo_listing(sh, account)
        timeout = next((d.split("=", 1)[1] for d in defaults if d.startswith("timestamp_timeout=")), "")
        f.expect("use_pty" in defaults and any(d.startswith("logfile=") and "/var/log/sudo.log" in d for d in defaults)
                 and timeout.lstrip("-").replace(".", "", 1).isdigit() and 0 <= float(timeout) <= wanted_timeout
                 and "!visiblepw" in defaults and "env_reset" in defaults,
                 f"sudo for {account}: use_pty, logfile=/var/log/sudo.log, timestamp_timeout={timeout or 'default'} (<= {wanted_timeout}), !visiblepw, env_reset")
        may_exec = sorted(c for tag, c in commands if tag != "NOEXEC" and c not in exec_ok)
        f.expect(bool(commands) and not may_exec, f"{account}: {len(commands)} commands, NOEXEC unless allowed to start programs"
                 + (f"; may exec: {may_exec}" if may_exec else ""))
    su_group = v["baseline_su_group"]
    wheel = re.search(rf"^auth\s+required\s+pam_wheel\.so\b.*\bgroup={re.escape(su_group)}\b", sh.file("/etc/pam.d/su"), re.M)
    members = sh.out(f"getent group {shlex.quote(su_group)}").strip().split(":")
    f.expect(wheel is not None and len(members) == 4 and members[3] == "",
             f"su only for members of {su_group} ({'empty' if len(members) == 4 and not members[3] else members[3:] or 'no such group'})"
             if wheel else "su is not restricted by pam_wheel")
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
    keys = ("identity", "privilege", "time-change", "modules", "logins", "session", "perm_mod", "access", "mounts", "delete",
            "system-locale", "cron", "sshd", "audit-config")
    missing = [k for k in keys if f"-k {k}" not in rules]
    f.expect(not missing, f"rules file audits keys {', '.join(keys)}" + (f"; missing {missing}" if missing else ""))
    if v.get("baseline_audit_immutable"):
        f.expect(re.search(r"^-e 2\s*$", rules, re.M) is not None, "rules are immutable until reboot (-e 2)")
    conf = _settings(sh.file("/etc/audit/auditd.conf"))
    f.expect(conf.get("max_log_file_action", "").lower() == "keep_logs", f"auditd.conf max_log_file_action {conf.get('max_log_file_action')} (keep_logs)")
    f.expect(conf.get("disk_full_action", "").lower() in ("single", "halt") and conf.get("admin_space_left_action", "").lower() in ("single", "halt"),
             f"auditd.conf disk_full_action {conf.get('disk_full_action')}, admin_space_left_action {conf.get('admin_space_left_action')} (single or halt)")
    if _in_container(sh):
        f.evidence.append("note: containers cannot audit (shared kernel); rules and auditd.conf checked by file content")
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
    text = sh.file(v.get("baseline_os_logrotate_rsyslog", "/etc/logrotate.d/rsyslog"))
    rotate = int(m.group(1)) if (m := re.search(r"^\s*rotate\s+(\d+)", text, re.M)) else 0
    period = {"daily": 1, "weekly": 7, "monthly": 31}.get(next((p for p in ("daily", "weekly", "monthly") if re.search(rf"^\s*{p}\b", text, re.M)), ""), 0)
    f.expect(rotate * period >= wanted, f"logrotate keeps {rotate} x {period} days (>= {wanted})")
    timer = v.get("baseline_os_logrotate_timer", "logrotate.timer")
    enabled, _ = sh.run(f"systemctl is-enabled {timer}")
    active, _ = sh.run(f"systemctl is-active {timer}")
    f.expect(enabled == 0 and active == 0, f"{timer} {'enabled and active' if enabled == active == 0 else 'not scheduled'}")
    rc, out = sh.run("logrotate --debug /etc/logrotate.conf")
    errors = [line for line in out.splitlines() if line.startswith("error")]
    f.expect(rc == 0 and not errors, f"logrotate --debug: {'configuration valid' if rc == 0 and not errors else errors[:3] or 'exit ' + str(rc)}")
    files = " ".join(shlex.quote(p) for p in v.get("baseline_os_syslog_files", ["/var/log/syslog", "/var/log/auth.log"]))
    mode = sh.out(f"stat -c '%a %U %G %n' {files} 2>/dev/null").split("\n")
    loose = [m for m in mode if m and not re.match(r"^(6[04]0|[46]00) root ", m)]
    f.expect(not loose, f"log files 0640 root: {', '.join(loose) if loose else str(len([m for m in mode if m])) + ' files'}")
    return f


def time_sync(sh: Shell, v: HostVars) -> Finding:
    f = Finding()
    service, config = v["baseline_os_chrony_service"], v["baseline_os_chrony_config"]
    rc, _ = sh.run(f"systemctl is-active {service}")
    f.expect(rc == 0, f"{service} is running")
    conf = sh.file(config)
    servers = sorted(re.findall(r"^\s*(?:server|pool|peer)\s+(\S+)", conf, re.M))
    wanted = sorted(v["baseline_time_servers"] + list(v.get("baseline_time_upstream", [])))
    f.expect(servers == wanted and not re.search(r"^\s*(sourcedir|confdir)\b", conf, re.M),
             f"{config}: time only from {wanted or 'its own clock'} (configured {servers})")
    sources = sh.out("chronyc -n sources")
    if wanted:
        selected = [line.split()[1] for line in sources.splitlines() if line.startswith("^*") and len(line.split()) > 1]
        f.expect(bool(selected) and selected[0] in wanted, f"chronyc sources: synchronised to {selected[0] if selected else 'nothing'}")
    tracking = _settings(sh.out("chronyc -n tracking"), r"\s*:\s*")
    f.expect(tracking.get("leap status") == "Normal", f"chronyc tracking: reference {tracking.get('reference id', '?')}, leap status {tracking.get('leap status', 'unknown')}")
    if v.get("baseline_time_server"):
        port = int(v["baseline_time_port"])
        f.expect(bool(sh.out(f"ss -Hunl sport = :{port}").strip()), f"time host answers NTP on udp/{port}")
        allowed = sorted(re.findall(r"^\s*allow\s+(\S+)", conf, re.M))
        f.expect(allowed == sorted(v["baseline_time_clients"]), f"time host answers {allowed}")
    if _in_container(sh):
        f.evidence.append("note: a container's clock is its host kernel's; chronyd runs with -x (it measures and serves, never sets the clock)")
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
    expected = {s["key"]: str(s["value"]) for s in v.get("baseline_sysctl_kernel", [])} or {"kernel.randomize_va_space": "2", "kernel.kptr_restrict": "2"}
    wrong = sorted(k for k, value in expected.items() if kernel.get(k) != value)
    if _in_container(sh):
        f.expect(not wrong, f"{len(expected)} kernel.* settings written{'; wrong ' + ','.join(wrong) if wrong else ''} "
                            "(read by file: kernel settings are the host kernel's in a container)")
    else:
        values = dict(zip(expected, sh.out("sysctl -n " + " ".join(expected)).split(), strict=False))
        wrong = sorted(k for k, value in expected.items() if values.get(k) != value)
        f.expect(not wrong, f"{len(expected)} kernel.* settings live{'; wrong ' + ','.join(wrong) if wrong else ''}")
    return f


def core_dumps(sh: Shell, v: HostVars) -> Finding:
    f = Finding()
    # stdout only: an SSH connection's banner may come on stderr
    limits = sh.out(f"runuser -u {shlex.quote(_system_admin(v))} -- bash -lc 'ulimit -Hc; ulimit -Sc'").split()[-2:]
    f.expect(limits == ["0", "0"], f"a session's core size limit hard/soft {'/'.join(limits)} (0/0)")
    manager = sh.out("systemctl show --property=DefaultLimitCORE --value").strip()
    f.expect(manager == "0", f"service manager DefaultLimitCORE={manager} (0)")
    coredump = dict(re.findall(r"^\s*(Storage|ProcessSizeMax)\s*=\s*(\S+)", sh.out("systemd-analyze cat-config systemd/coredump.conf"), re.M))
    f.expect(coredump.get("Storage") == "none" and coredump.get("ProcessSizeMax") == "0",
             f"systemd-coredump Storage={coredump.get('Storage')}, ProcessSizeMax={coredump.get('ProcessSizeMax')}")
    written = _settings(sh.file("/etc/sysctl.d/62-govcloud-coredump.conf")).get("fs.suid_dumpable")
    if _in_container(sh):
        f.expect(written == "0", f"fs.suid_dumpable = {written} written (read by file: the kernel is the container host's)")
    else:
        live = sh.out("sysctl -n fs.suid_dumpable").strip()
        f.expect(written == "0" and live == "0", f"fs.suid_dumpable = {live} live, {written} written")
    return f


def kernel_modules(sh: Shell, v: HostVars) -> Finding:
    f = Finding()
    rc, config = sh.run("modprobe --showconfig 2>/dev/null")
    source = "modprobe --showconfig"
    if rc != 0 or not config.strip():
        config, source = sh.out("cat /etc/modprobe.d/*.conf /lib/modprobe.d/*.conf 2>/dev/null"), "modprobe.d files"
    installs = {m.replace("-", "_"): cmd.strip() for m, cmd in re.findall(r"^install\s+(\S+)\s+(.*)$", config, re.M)}
    blacklisted = {m.replace("-", "_") for m in re.findall(r"^blacklist\s+(\S+)", config, re.M)}
    wanted = [m.replace("-", "_") for m in v["baseline_disabled_modules"]]
    loadable = sorted(m for m in wanted if installs.get(m) not in ("/bin/false", "/bin/true", "/usr/bin/false") or m not in blacklisted)
    f.expect(not loadable, f"{source}: {len(wanted) - len(loadable)} of {len(wanted)} modules install /bin/false and are blacklisted"
             + (f"; loadable: {loadable}" if loadable else ""))
    if _in_container(sh):
        f.evidence.append("note: the kernel (and its loaded modules) is the container host's: checked by modprobe configuration")
    else:
        loaded = sorted(set(wanted) & {line.split()[0] for line in sh.file("/proc/modules").splitlines() if line})
        f.expect(not loaded, f"loaded now: {loaded or 'none'}")
    return f


def process_accounting(sh: Shell, v: HostVars) -> Finding:
    f = Finding()
    service, path = v["baseline_os_acct_service"], v["baseline_os_acct_file"]
    rc, _ = sh.run(f"systemctl is-active {service}")
    f.expect(rc == 0, f"{service} is active")
    probe = f"a=$(stat -c %s {path} 2>/dev/null || echo 0); /bin/true; b=$(stat -c %s {path} 2>/dev/null || echo 0); echo $a $b"
    sizes = sh.out(f"sh -c {shlex.quote(probe)}").split()
    grew = len(sizes) == 2 and int(sizes[1]) > int(sizes[0])
    f.expect(grew, f"the kernel records ended processes in {path} ({' -> '.join(sizes)} bytes after one command)")
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
    wanted = " ".join(str(v.get("baseline_banner", "Authorised use only")).split())
    for path in ("/etc/issue", "/etc/issue.net", "/etc/motd"):
        text = sh.file(path)
        leaks = re.findall(r"\\[mrsvlno]|Debian|Ubuntu|openEuler|Kylin|GNU/Linux", text)
        f.expect(wanted in " ".join(text.split()) and not leaks,
                 f"{path} carries the warning{', and shows ' + ','.join(sorted(set(leaks))) if leaks else ', no system details'}")
    modes = sh.out("stat -c '%a %U %n' /etc/issue /etc/issue.net /etc/motd").split("\n")
    f.expect(all(m.startswith("644 root ") for m in modes if m), f"banner files 0644 root: {', '.join(m for m in modes if m)}")
    scripts = [s for s in v.get("baseline_os_motd_scripts", []) if sh.run(f"test -x {shlex.quote(s)}")[0] == 0]
    f.expect(not scripts, f"scripts printing system details after login: {scripts or 'none'}")
    banner = _settings(sh.out("sshd -T"), r"\s+").get("banner")
    f.expect(banner == "/etc/issue.net", f"sshd -T banner {banner}")
    return f


def package_sources(sh: Shell, v: HostVars) -> Finding:
    f = Finding()
    mirrors = v["baseline_package_mirrors"]
    approved = {(m["uri"].rstrip("/"), suite) for m in mirrors for suite in m["suites"]}
    security = {(m["uri"].rstrip("/"), suite) for m in mirrors if m.get("security") for suite in m["suites"]}
    if sh.run("test -x /usr/bin/apt-get")[0] == 0:
        out = sh.out("apt-get update --print-uris 2>&1")
        used = set(re.findall(r"'(\S+?)/dists/(\S+?)/(?:In)?Release'", out))
        f.expect(bool(used) and used <= approved, f"apt fetches from {sorted(used) or 'nothing'}"
                 + (f"; not approved: {sorted(used - approved)}" if used - approved else " (all approved)"))
        f.expect(bool(used & security), f"security updates from {sorted(used & security) or 'no source'}")
        trusted = sh.out("grep -rlisE 'trusted(=|:)[[:space:]]*yes' /etc/apt/sources.list /etc/apt/sources.list.d 2>/dev/null").split()
        config = sh.out("apt-config dump")
        insecure = [k for k in ("Acquire::AllowInsecureRepositories", "Acquire::AllowDowngradeToInsecureRepositories", "APT::Get::AllowUnauthenticated")
                    if f'{k} "false"' not in config]
        f.expect(not trusted and not insecure, f"signatures required (trusted=yes in {trusted or 'no source'}; not refused: {insecure or 'nothing'})")
    else:
        out = sh.out("dnf repolist --enabled -v 2>/dev/null")
        used = set(re.findall(r"^Repo-baseurl\s*:\s*(\S+)", out, re.M))
        allowed = {f"{uri}/{suite}" for uri, suite in approved}
        f.expect(bool(used) and {u.rstrip("/") for u in used} <= allowed, f"dnf repositories {sorted(used)}")
    return f


def file_permissions(sh: Shell, v: HostVars) -> Finding:
    f = Finding()
    entries = v["baseline_os_file_permissions"]
    listing = sh.out("stat -c '%a %U %G %n' " + " ".join(e["path"] for e in entries) + " 2>/dev/null")
    loose, seen = [], 0
    for line in listing.splitlines():
        mode, owner, group, path = line.split(" ", 3)
        entry = next((e for e in entries if fnmatch.fnmatch(path, e["path"])), None)
        if entry is None:
            continue
        seen += 1
        if int(mode, 8) & ~int(entry["mode"], 8) or (owner, group) != (entry["owner"], entry["group"]):
            loose.append(f"{path} {mode} {owner}:{group} (at most {entry['mode']} {entry['owner']}:{entry['group']})")
    f.expect(seen > 0 and not loose, f"{seen} cron, SSH, account and sudo files: " + ("; ".join(loose) if loose else "owner and mode as required"))
    allowed = sorted(line.strip() for line in sh.file("/etc/cron.allow").splitlines() if line.strip())
    denied = sh.run("test -e /etc/cron.deny")[0] == 0
    f.expect(allowed == sorted(v["baseline_cron_users"]) and not denied,
             f"crontab only for {allowed or 'anyone (no cron.allow)'}{' (a cron.deny exists)' if denied else ''}")
    return f


def tmp_mounts(sh: Shell, v: HostVars) -> Finding:
    f = Finding()
    table: dict[str, tuple[str, str]] = {}
    for line in sh.out("findmnt --list --noheadings --output TARGET,FSTYPE,OPTIONS").splitlines():
        parts = line.split()
        if len(parts) == 3:
            table[parts[0]] = (parts[1], parts[2])  # the last mount on a path is the one in effect
    wanted = set(v["baseline_tmp_mount_options"])
    fstab = sh.file("/etc/fstab")
    for mount in v["baseline_tmp_mount_points"]:
        fstype, options = table.get(mount["path"], ("not mounted", ""))
        missing = sorted(wanted - set(options.split(",")))
        f.expect(not missing, f"{mount['path']}: {fstype} {options or ''}" + (f" (missing {','.join(missing)})" if missing else ""))
        f.expect(re.search(rf"^\S+\s+{re.escape(mount['path'])}\s", fstab, re.M) is not None, f"{mount['path']} in /etc/fstab")
    if _in_container(sh):
        f.evidence.append("note: in the lab /var/tmp and /home share the container's root filesystem (no partitions to mount with options)")
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
