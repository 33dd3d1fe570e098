"""``govcloud keys``: signing keys for review certificates and ledger tree heads."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from .. import signing
from ..files import read_regular, write_output
from .common import console, fail

keys_app = typer.Typer(help="Signing keys (Ed25519 by default, SM2/SM3 as the domestic option).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")


@keys_app.command("generate")
def generate(
    out: Path = typer.Argument(..., help="Path prefix: writes PREFIX.key (mode 0600) and PREFIX.pub.pem."),
    algorithm: str = typer.Option(signing.ED25519, "--algorithm", "-a", help="ed25519 or sm2-sm3."),
) -> None:
    """Generate a key pair. Keep the private key out of git; publish the .pub.pem to the trust store."""
    if algorithm not in signing.ALGORITHMS:
        fail(f"--algorithm must be one of {', '.join(signing.ALGORITHMS)}, not {algorithm!r}")
    private_path, public_path = Path(f"{out}.key"), Path(f"{out}.pub.pem")
    for path in (private_path, public_path):
        if path.exists() or path.is_symlink():
            fail(f"{path} already exists; refusing to overwrite a key")
    key = signing.generate(algorithm)
    private_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key.to_pem())
    write_output(public_path, key.public_key.to_pem())
    console.print(f"wrote {private_path} (private, 0600) and {public_path}; key id {key.public_key.key_id}")


@keys_app.command("show")
def show(path: Path = typer.Argument(..., help="A public or private key PEM.")) -> None:
    """Print the algorithm and key id of a key (never the key material)."""
    try:
        data = read_regular(path, 1 << 20)
    except OSError as error:
        fail(f"{path}: {error.strerror or error}")
    try:
        key = signing.parse_public_pem(data, str(path)) if b"PUBLIC KEY" in data else signing.parse_private_pem(data, str(path)).public_key
    except signing.KeyProblem as problem:
        fail(str(problem))
    console.print(f"{key.algorithm} {key.key_id}")
