"""Per-lab secrets: the SSH client key, each machine's host key, the data pool's passwords.

Everything is generated on `lab up` under the lab directory (``.lab/<env>/``, git-ignored,
mode 0700) and removed by `lab down`. Host keys are made here, not on first boot, so the
lab's known_hosts is exact and SSH checks host keys strictly.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ..hosts.datapool import AccessPlan, scram_verifier


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def ed25519_pair(private_path: Path, comment: str) -> str:
    """Creates the key once; returns the public key line."""
    if private_path.exists():
        key = serialization.load_ssh_private_key(private_path.read_bytes(), password=None)
    else:
        key = Ed25519PrivateKey.generate()
        _write_private(
            private_path,
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()),
        )
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    line = f"{public} {comment}\n"
    pub_path = private_path.with_name(private_path.name + ".pub")
    if not pub_path.exists() or pub_path.read_text() != line:
        pub_path.write_text(line)
    return line


def datapool_credentials(path: Path, plan: AccessPlan) -> dict[str, str]:
    """Passwords of the departments' login roles (kept for tests and operators of the lab)."""
    current: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    wanted = {d.role: current.get(d.role) or secrets.token_urlsafe(24) for d in plan.departments}
    if wanted != current:
        _write_private(path, (json.dumps(wanted, indent=2, sort_keys=True) + "\n").encode())
    return wanted


def datapool_extra_vars(path: Path, passwords: dict[str, str]) -> None:
    """What Ansible gets: SCRAM verifiers only. The salt is derived from the password, so the
    verifier is stable and a second converge changes nothing."""
    verifiers = {}
    for role, password in sorted(passwords.items()):
        salt = hashlib.sha256(f"govcloud-lab:{role}:{password}".encode()).digest()[:16]
        verifiers[role] = scram_verifier(password, salt)
    _write_private(path, (json.dumps({"datapool_role_verifiers": verifiers}, indent=2, sort_keys=True) + "\n").encode())
