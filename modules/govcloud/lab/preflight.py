"""What the lab needs from this machine, checked before anything is created."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .errors import LabError

TOOLS = {
    "systemd-nspawn": "systemd-container",
    "debootstrap": "debootstrap",
    "ip": "iproute2",
    "nft": "nftables",
    "nc": "netcat-openbsd",
    "ssh": "openssh-client",
    "mount": "mount",
}


def check() -> None:
    check_root()
    missing = sorted(f"{tool} (Debian package {package})" for tool, package in TOOLS.items() if shutil.which(tool) is None)
    if missing:
        raise LabError(f"missing tools: {', '.join(missing)}; `make install` installs them")
    filesystems = Path("/proc/filesystems").read_text()
    if "overlay" not in filesystems.split():
        raise LabError("the kernel has no overlay filesystem (CONFIG_OVERLAY_FS): lab machines cannot share the base image")
    if not Path("/proc/self/ns/net").exists():
        raise LabError("the kernel has no network namespaces (CONFIG_NET_NS)")


def check_root() -> None:
    if os.geteuid() != 0:
        raise LabError("govcloud lab needs root (network namespaces, overlay mounts, bridges): run it as root")
