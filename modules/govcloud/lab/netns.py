"""The lab's network namespace: bridges, veths and probes that never touch the machine's own.

Commands run with ``ip -n NS`` or ``ip netns exec NS``; TCP probes run in a worker thread that
has joined the namespace (``setns`` changes only the calling thread), so `status` and the
readiness checks open real connections from the control node without a single route in the
machine's own namespace.
"""

from __future__ import annotations

import ctypes
import os
import socket
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .errors import LabError

CLONE_NEWNET = 0x40000000
NETNS_DIR = Path("/run/netns")


def exists(namespace: str) -> bool:
    return (NETNS_DIR / namespace).exists()


def ip(namespace: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(["ip", "-n", namespace, *args], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise LabError(f"ip {' '.join(args)} in {namespace} failed: {result.stderr.strip()}")
    return result


def execute(namespace: str, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(["ip", "netns", "exec", namespace, *argv], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise LabError(f"{' '.join(argv)} in {namespace} failed: {result.stderr.strip()}")
    return result


def links(namespace: str) -> set[str]:
    result = ip(namespace, "-o", "link", "show", check=False)
    names = set()
    for line in result.stdout.splitlines():
        # "3: gcbr0: <BROADCAST,...>" or "5: gch0@gcm0: <...>"
        names.add(line.split(":", 2)[1].strip().split("@")[0])
    return names


def create(namespace: str) -> None:
    result = subprocess.run(["ip", "netns", "add", namespace], capture_output=True, text=True)
    if result.returncode != 0 and not exists(namespace):
        raise LabError(f"cannot create network namespace {namespace}: {result.stderr.strip()} (kernel without CONFIG_NET_NS?)")
    ip(namespace, "link", "set", "lo", "up")


def delete(namespace: str) -> None:
    if exists(namespace):
        subprocess.run(["ip", "netns", "delete", namespace], capture_output=True, text=True)


def pids(namespace: str) -> list[int]:
    if not exists(namespace):
        return []
    result = subprocess.run(["ip", "netns", "pids", namespace], capture_output=True, text=True)
    return [int(p) for p in result.stdout.split()]


def ensure_bridge(namespace: str, name: str) -> None:
    if name not in links(namespace):
        result = ip(namespace, "link", "add", name, "type", "bridge", check=False)
        if result.returncode != 0:
            raise LabError(f"cannot create bridge {name}: {result.stderr.strip()} (kernel without bridge support?)")
    ip(namespace, "link", "set", name, "up")


class Prober:
    """TCP connections from the lab's namespace (the control node's point of view)."""

    def __init__(self, namespace: str, workers: int = 16):
        self.namespace = namespace
        self._pool = ThreadPoolExecutor(max_workers=workers, initializer=self._join)

    def _join(self) -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open(NETNS_DIR / self.namespace, os.O_RDONLY)
        try:
            if libc.setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns")
        finally:
            os.close(fd)

    @staticmethod
    def _banner(address: str, port: int, timeout: float) -> str | None:
        try:
            with socket.create_connection((address, port), timeout=timeout) as sock:
                sock.settimeout(timeout)
                return sock.recv(64).decode(errors="replace")
        except OSError:
            return None

    def ssh_banners(self, addresses: list[str], timeout: float = 1.0) -> dict[str, str | None]:
        futures = {a: self._pool.submit(self._banner, a, 22, timeout) for a in addresses}
        return {a: f.result() for a, f in futures.items()}

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def __enter__(self) -> "Prober":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
