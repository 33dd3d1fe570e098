"""The cached Debian 12 base image every lab machine boots from.

debootstrap builds it once per package list and customisation (the cache key); every lab
machine then mounts an overlay on top of it, so a warm ``lab up`` costs no image work at all.
Lab hosts have no route to any mirror: every package the playbooks use is baked in here.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import LabError

SUITE = "bookworm"
DEFAULT_CACHE = Path("/var/cache/govcloud/lab")

# What the playbooks need on a host, and what the tests use to read effective state.
PACKAGES = (
    "acct",
    "aide",
    "aide-common",
    "auditd",
    "ca-certificates",
    "chrony",
    "cracklib-runtime",
    "dbus",
    "iproute2",
    "iputils-ping",
    "kmod",
    "libpam-pwquality",
    "libpwquality-tools",
    "logrotate",
    "netcat-openbsd",
    "nftables",
    "openssh-server",
    "openssl",
    "postgresql-15",
    "postgresql-15-pgaudit",
    "postgresql-client-15",
    "procps",
    "python3",
    "python3-apt",
    "rsyslog",
    "sudo",
    "systemd",
    "systemd-sysv",
)

# The account Ansible connects as (key only, password locked). Real hosts get it from their
# provisioning (kickstart, cloud-init); the baseline role keeps its sudo rule in place.
AUTOMATION_ACCOUNT = "govcloud"

# Configures the machine's interfaces from /etc/govcloud-lab/net.conf, written per machine by
# `govcloud lab up`: one "IFACE ADDRESS/PREFIX" line per interface, "ROUTE CIDR GATEWAY"
# lines and an optional "FORWARD 1" (the zone router).
NET_SCRIPT = r"""#!/bin/sh
set -eu
conf=/etc/govcloud-lab/net.conf
ip link set lo up
while read -r kind a b; do
  case "$kind" in
    IFACE) ip link set "$a" up; ip addr replace "$b" dev "$a" ;;
    ROUTE) ip route replace "$a" via "$b" ;;
    FORWARD) echo "$a" > /proc/sys/net/ipv4/ip_forward ;;
  esac
done < "$conf"
"""

NET_UNIT = """[Unit]
Description=govcloud lab: machine addresses and routes
DefaultDependencies=no
Before=network-pre.target
Wants=network-pre.target
ConditionPathExists=/etc/govcloud-lab/net.conf

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/govcloud-lab-net
# On a cgroup v1 host a unit started early in boot sometimes finds its cgroup not yet made
# ("Failed at step CGROUP", status 219): try again instead of leaving the machine offline.
Restart=on-failure
RestartSec=1

[Install]
WantedBy=sysinit.target
"""

# The same boot race hits systemd-user-sessions (then /run/nologin locks every login out).
USER_SESSIONS_RETRY = """[Service]
Restart=on-failure
RestartSec=1
"""
USER_SESSIONS_DROPIN = "etc/systemd/system/systemd-user-sessions.service.d/govcloud-lab-retry.conf"

CUSTOMISE = f"""set -eu
export DEBIAN_FRONTEND=noninteractive
rm -f /etc/ssh/ssh_host_*
: > /etc/machine-id
rm -f /var/lib/dbus/machine-id
useradd --create-home --shell /bin/bash --user-group {AUTOMATION_ACCOUNT}
passwd --lock {AUTOMATION_ACCOUNT} >/dev/null
install -d -m 0700 -o {AUTOMATION_ACCOUNT} -g {AUTOMATION_ACCOUNT} /home/{AUTOMATION_ACCOUNT}/.ssh
printf '%s\\n' '{AUTOMATION_ACCOUNT} ALL=(ALL:ALL) NOPASSWD: ALL' > /etc/sudoers.d/govcloud-automation
chmod 0440 /etc/sudoers.d/govcloud-automation
# The data pool role starts PostgreSQL where it belongs; nothing listens by accident elsewhere.
systemctl disable postgresql.service >/dev/null 2>&1 || true
systemctl mask console-getty.service container-getty@.service >/dev/null 2>&1 || true
# A container shares its host's kernel and cannot audit: auditd would only fail and restart.
# The baseline role enables it on real hosts and installs the rules everywhere.
systemctl disable auditd.service e2scrub_reap.service systemd-pstore.service >/dev/null 2>&1 || true
systemctl disable apt-daily.timer apt-daily-upgrade.timer dailyaidecheck.timer e2scrub_all.timer fstrim.timer >/dev/null 2>&1 || true
printf '# the lab has no resolver; names are in /etc/hosts\n' > /etc/resolv.conf
systemctl enable govcloud-lab-net.service >/dev/null 2>&1
apt-get clean
rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/* /usr/share/info/* /var/log/*.log
find /usr/share/locale -mindepth 1 -maxdepth 1 ! -name 'en*' ! -name 'locale.alias' -exec rm -rf {{}} +
"""

IMAGE_FORMAT = "1"


@dataclass(frozen=True)
class Image:
    key: str
    root: Path  # the rootfs, used read-only as the overlay's lower layer

    @property
    def manifest(self) -> Path:
        return self.root.parent / "manifest.json"


def cache_dir() -> Path:
    return Path(os.environ.get("GOVCLOUD_LAB_CACHE", DEFAULT_CACHE))


def image_key() -> str:
    digest = hashlib.sha256()
    for part in (IMAGE_FORMAT, SUITE, " ".join(PACKAGES), NET_SCRIPT, NET_UNIT, USER_SESSIONS_RETRY, CUSTOMISE):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def cached_image() -> Image | None:
    key = image_key()
    root = cache_dir() / "images" / key / "rootfs"
    image = Image(key, root)
    return image if image.manifest.is_file() else None


def debian_mirror() -> str:
    """The machine's own Debian mirror (lab hosts never reach it; only debootstrap does)."""
    override = os.environ.get("GOVCLOUD_LAB_MIRROR")
    if override:
        return override
    sources = Path("/etc/apt/sources.list.d/debian.sources")
    if sources.is_file():
        for stanza in sources.read_text().split("\n\n"):
            fields = dict(
                line.split(":", 1) for line in stanza.splitlines() if ":" in line and not line.startswith("#")
            )
            suites = fields.get("Suites", "").split()
            if SUITE in suites and "URIs" in fields:
                return fields["URIs"].split()[0].strip()
    legacy = Path("/etc/apt/sources.list")
    if legacy.is_file():
        for line in legacy.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[0] == "deb" and parts[2] == SUITE:
                return parts[1]
    return "http://deb.debian.org/debian"


def ensure_image(log=print) -> Image:
    """The cached image for the current key, built under a lock on first use."""
    existing = cached_image()
    if existing:
        return existing
    if shutil.which("debootstrap") is None:
        raise LabError("debootstrap is not installed (apt-get install debootstrap; `make install` does it)")
    images = cache_dir() / "images"
    images.mkdir(parents=True, exist_ok=True)
    with open(images / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        existing = cached_image()  # built by another process while we waited
        if existing:
            return existing
        return _build(images, log)


def _build(images: Path, log) -> Image:
    key = image_key()
    final = images / key
    staging = images / f".{key}.building"
    if staging.exists():
        shutil.rmtree(staging)
    root = staging / "rootfs"
    root.mkdir(parents=True)
    mirror = debian_mirror()
    log(f"building the lab base image {key} (debootstrap {SUITE}, {len(PACKAGES)} packages; once per machine)")
    started = time.monotonic()
    _run(
        [
            "debootstrap",
            "--variant=minbase",
            f"--include={','.join(PACKAGES)}",
            SUITE,
            str(root),
            mirror,
        ],
        "debootstrap",
    )
    (root / "usr/local/sbin/govcloud-lab-net").write_text(NET_SCRIPT)
    (root / "usr/local/sbin/govcloud-lab-net").chmod(0o755)
    (root / "etc/systemd/system/govcloud-lab-net.service").write_text(NET_UNIT)
    (root / USER_SESSIONS_DROPIN).parent.mkdir(parents=True, exist_ok=True)
    (root / USER_SESSIONS_DROPIN).write_text(USER_SESSIONS_RETRY)
    _run(["chroot", str(root), "/bin/sh", "-c", CUSTOMISE], "image customisation")
    packages = subprocess.run(
        ["chroot", str(root), "dpkg-query", "-W", "-f", "${Package} ${Version}\n"],
        check=True, capture_output=True, text=True,
    ).stdout.splitlines()
    manifest = {
        "key": key,
        "suite": SUITE,
        "mirror": mirror,
        "requested": list(PACKAGES),
        "installed": sorted(packages),
        "built_seconds": round(time.monotonic() - started, 1),
    }
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    if final.exists():
        shutil.rmtree(final)
    staging.rename(final)
    log(f"lab base image {key} built in {manifest['built_seconds']} s")
    return Image(key, final / "rootfs")


def _run(argv: list[str], what: str) -> None:
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise LabError(f"{what} failed (exit {result.returncode}):\n{tail}")
