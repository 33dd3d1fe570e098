"""Helpers shared by the ledger tests (fixtures live in conftest.py)."""

from __future__ import annotations

import os
from pathlib import Path

from govcloud import signing
from govcloud.canonical import encode
from govcloud.ledger import Ledger

import forkserver
from forkserver import Result


def fill(directory: Path, key: signing.PrivateKey, evidence: Path, count: int, start: int = 0) -> Ledger:
    """``count`` single appends (each with its own signed tree head)."""
    ledger = Ledger(directory, key)
    kinds = ["tenant-request", "check", "review", "certificate", "waiver", "deploy", "diff"]
    for i in range(start, start + count):
        ledger.append(
            kinds[i % len(kinds)],
            {"env": "lab", "tenant": f"t-4301{i:02d}-dept"},
            evidence,
            actor="zhang-wei",
            summary=f"evidence number {i}",
        )
    ledger.close()
    return ledger


def log_lines(directory: Path) -> list[bytes]:
    return (directory / "log.jsonl").read_bytes().splitlines(keepends=True)


def write_lines(directory: Path, lines: list[bytes]) -> None:
    (directory / "log.jsonl").write_bytes(b"".join(lines))


def canonical_line(record: dict) -> bytes:
    """A format 2 log line: RFC 8785 JSON and a newline."""
    return encode(record) + b"\n"


def trusted(key: signing.PrivateKey) -> dict[str, signing.PublicKey]:
    return {key.public_key.key_id: key.public_key}


def write_key_files(directory: Path, key: signing.PrivateKey, name: str = "ledger") -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    private, public = directory / f"{name}.key", directory / f"{name}.pub.pem"
    private.write_text(key.to_pem())
    os.chmod(private, 0o600)
    public.write_text(key.public_key.to_pem())
    return private, public


def govcloud(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> Result:
    """The command line as an auditor runs it (each command its own process, tests/forkserver.py)."""
    return forkserver.govcloud(*args, cwd=cwd or os.getcwd(), env={"PATH": "/usr/bin:/bin", "COLUMNS": "200", **(env or {})})
