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
import threading
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
    Sockets.forget(namespace)
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


def join(namespace: str) -> None:
    """Move the calling thread (only it: setns is per thread) into the namespace."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(NETNS_DIR / namespace, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns")
    finally:
        os.close(fd)


def _identity(namespace: str) -> tuple[int, int]:
    try:
        stat = (NETNS_DIR / namespace).stat()
    except OSError:
        return (0, 0)
    return (stat.st_dev, stat.st_ino)


def command(namespace: str, argv: list[str]) -> list[str]:
    """The argv that runs ``argv`` inside the namespace (as ``ip netns exec`` does, without
    its private mount namespace): what a program that talks to the lab runs under."""
    return ["nsenter", f"--net={NETNS_DIR / namespace}", "--", *argv]


class Sockets:
    """Sockets that belong to the lab's namespace, usable from any thread.

    A socket's network namespace is fixed when it is created: one worker thread that joined
    the namespace creates them, and the caller connects and uses them in its own thread. HTTP
    clients (the ``kubernetes`` client's urllib3 pools, see ``govcloud.cluster.access``) open
    their connections through ``create_connection`` and need nothing else.
    """

    _shared: dict[str, "Sockets"] = {}
    _lock = threading.Lock()

    def __init__(self, namespace: str):
        if not exists(namespace):
            raise LabError(f"network namespace {namespace} does not exist: is the lab up?")
        self.namespace = namespace
        self.identity = _identity(namespace)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"netns-{namespace}",
                                        initializer=join, initargs=(namespace,))

    @classmethod
    def of(cls, namespace: str) -> "Sockets":
        """The shared socket maker of a namespace; a namespace deleted and made again (same
        name, new namespace) gets a new one, and the old worker leaves the old namespace."""
        with cls._lock:
            current = cls._shared.get(namespace)
            if current is None or current.identity != _identity(namespace):
                if current is not None:
                    current.close()
                cls._shared[namespace] = cls(namespace)
            return cls._shared[namespace]

    @classmethod
    def forget(cls, namespace: str) -> None:
        """Stop the worker of a namespace about to be deleted (a thread inside keeps it alive)."""
        with cls._lock:
            current = cls._shared.pop(namespace, None)
        if current is not None:
            current.close()

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def new_socket(self, family: int = socket.AF_INET, kind: int = socket.SOCK_STREAM, proto: int = 0) -> socket.socket:
        return self._pool.submit(socket.socket, family, kind, proto).result()

    def create_connection(self, address: tuple[str, int], timeout: float | None = None,
                          socket_options: list | None = None) -> socket.socket:
        """``socket.create_connection`` with the socket made in the namespace."""
        host, port = address
        error: OSError | None = None
        for family, kind, proto, _, sockaddr in socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM):
            sock = self.new_socket(family, kind, proto)
            try:
                for option in socket_options or ():
                    sock.setsockopt(*option)
                if timeout is not None:
                    sock.settimeout(timeout)
                sock.connect(sockaddr)
                return sock
            except OSError as exc:
                error = exc
                sock.close()
        raise error or OSError(f"cannot resolve {host}")


class Prober:
    """TCP connections from the lab's namespace (the control node's point of view)."""

    def __init__(self, namespace: str, workers: int = 16):
        self.namespace = namespace
        self._pool = ThreadPoolExecutor(max_workers=workers, initializer=join, initargs=(namespace,))

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
