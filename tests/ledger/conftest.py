"""Shared fixtures for the ledger tests: keys, evidence files, small ledgers, tampering helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

from govcloud import signing


@pytest.fixture(scope="session")
def key() -> signing.PrivateKey:
    return signing.generate(signing.ED25519)


@pytest.fixture(scope="session")
def other_key() -> signing.PrivateKey:
    return signing.generate(signing.ED25519)


@pytest.fixture
def evidence(tmp_path: Path) -> Path:
    path = tmp_path / "evidence" / "lab.t-430100-health.cert.json"
    path.parent.mkdir()
    path.write_text('{"certificate": "review of lab.t-430100-health"}\n')
    return path
