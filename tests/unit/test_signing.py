"""Signing: both algorithms sign and verify, reject tampering and wrong keys, and SM2
interoperates with OpenSSL in both directions (the domestic path is real, not a format of our own)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from govcloud import signing

MESSAGE = "审查证书 tree head 2026-11-25".encode()


@pytest.mark.parametrize("algorithm", signing.ALGORITHMS)
def test_sign_verify_and_reject(algorithm: str) -> None:
    key = signing.generate(algorithm)
    signature = key.sign(MESSAGE)
    assert key.public_key.verify(MESSAGE, signature)
    assert not key.public_key.verify(MESSAGE + b"!", signature)
    flipped = bytes([signature[0] ^ 1]) + signature[1:]
    assert not key.public_key.verify(MESSAGE, flipped)
    assert not key.public_key.verify(MESSAGE, b"")
    other = signing.generate(algorithm)
    assert not other.public_key.verify(MESSAGE, signature)
    assert key.public_key.key_id.startswith(algorithm + ":")


@pytest.mark.parametrize("algorithm", signing.ALGORITHMS)
def test_pem_round_trip(algorithm: str, tmp_path: Path) -> None:
    key = signing.generate(algorithm)
    (tmp_path / "k.key").write_text(key.to_pem())
    (tmp_path / "k.pub.pem").write_text(key.public_key.to_pem())
    loaded = signing.load_private_key(str(tmp_path / "k.key"))
    assert loaded.public_key == key.public_key
    assert signing.load_public_key(tmp_path / "k.pub.pem") == key.public_key
    assert set(signing.load_trusted_keys(tmp_path)) == {key.public_key.key_id}


def test_private_key_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    key = signing.generate()
    monkeypatch.setenv("GOVCLOUD_TEST_KEY", key.to_pem())
    assert signing.load_private_key("env:GOVCLOUD_TEST_KEY").public_key == key.public_key
    monkeypatch.delenv("GOVCLOUD_TEST_KEY")
    with pytest.raises(signing.KeyProblem, match="GOVCLOUD_TEST_KEY is not set"):
        signing.load_private_key("env:GOVCLOUD_TEST_KEY")


@pytest.mark.parametrize("content", [b"", b"not a key", b"-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----\n"])
def test_garbage_keys_are_clean_errors(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.key"
    path.write_bytes(content)
    with pytest.raises(signing.KeyProblem, match="bad.key"):
        signing.load_private_key(str(path))


def test_sm2_nonce_is_fresh_per_signature() -> None:
    # Two signatures of the same message must differ: a repeated SM2 nonce reveals the private key.
    key = signing.generate(signing.SM2)
    assert key.sign(MESSAGE) != key.sign(MESSAGE)


openssl = shutil.which("openssl")


@pytest.mark.skipif(openssl is None, reason="openssl command not installed")
def test_sm2_interoperates_with_openssl(tmp_path: Path) -> None:
    ours = signing.generate(signing.SM2)
    (tmp_path / "pub.pem").write_text(ours.public_key.to_pem())
    (tmp_path / "msg").write_bytes(MESSAGE)
    (tmp_path / "sig").write_bytes(ours.sign(MESSAGE))
    verify = subprocess.run(
        [openssl, "pkeyutl", "-verify", "-in", "msg", "-rawin", "-digest", "sm3", "-pubin", "-inkey", "pub.pem",
         "-sigfile", "sig", "-pkeyopt", "distid:1234567812345678"],
        cwd=tmp_path, capture_output=True, text=True,
    )
    assert "Signature Verified Successfully" in verify.stdout, verify.stderr

    subprocess.run([openssl, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:SM2", "-out", "o.key"],
                   cwd=tmp_path, check=True, capture_output=True)
    subprocess.run([openssl, "pkeyutl", "-sign", "-in", "msg", "-rawin", "-digest", "sm3", "-inkey", "o.key",
                    "-out", "osig", "-pkeyopt", "distid:1234567812345678"], cwd=tmp_path, check=True, capture_output=True)
    theirs = signing.load_private_key(str(tmp_path / "o.key"))
    assert theirs.algorithm == signing.SM2
    assert theirs.public_key.verify(MESSAGE, (tmp_path / "osig").read_bytes())
