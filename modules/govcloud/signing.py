"""Keys and signatures for review certificates and ledger tree heads.

Two algorithms:
- ``ed25519`` (default): the ``cryptography`` library; keys in PKCS#8 / SubjectPublicKeyInfo PEM.
- ``sm2-sm3`` (GB/T 32918 with GB/T 32905, the domestic option for GB/T 39786-2021 level 3):
  ``tongsuopy``, the Python binding of Tongsuo (the OpenSSL fork maintained for the Chinese
  commercial algorithms). Keys are standard PEM with the SM2 curve OID, so keys made by
  ``openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:SM2`` load here; signatures are DER
  (r, s) over SM3 with the default distinguishing id, which ``openssl pkeyutl -verify -rawin
  -digest sm3`` accepts. (gmssl, the pure-Python alternative, signs ~100x slower and draws its
  nonce from ``random``.)

Private keys come from a file or an environment variable (``env:NAME`` holding the PEM), are
never generated into the repository, and never printed.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from tongsuopy.crypto import hashes as sm_hashes
from tongsuopy.crypto import serialization as sm_serialization
from tongsuopy.crypto.asymciphers import ec as sm_ec
from tongsuopy.crypto.exceptions import InternalError as SmInternalError
from tongsuopy.crypto.exceptions import InvalidSignature as SmInvalidSignature

from .files import read_regular

ED25519 = "ed25519"
SM2 = "sm2-sm3"
ALGORITHMS = (ED25519, SM2)
# A PEM key is well under a kilobyte; anything this large is not one.
MAX_KEY_FILE = 64 * 1024



class KeyProblem(ValueError):
    """A key that cannot be used; the message says which and why (never the key itself)."""


@dataclass(frozen=True)
class PublicKey:
    algorithm: str
    raw: bytes  # ed25519: 32 bytes; sm2: 64 bytes x || y

    @property
    def key_id(self) -> str:
        return f"{self.algorithm}:{hashlib.sha256(self.raw).hexdigest()[:16]}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        if self.algorithm == ED25519:
            try:
                ed25519.Ed25519PublicKey.from_public_bytes(self.raw).verify(signature, message)
                return True
            except (InvalidSignature, ValueError):
                return False
        return _sm2_verify(self.raw, message, signature)

    def to_pem(self) -> str:
        if self.algorithm == ED25519:
            key = ed25519.Ed25519PublicKey.from_public_bytes(self.raw)
            return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        return _sm2_public_key(self.raw).public_bytes(
            sm_serialization.Encoding.PEM, sm_serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()


@dataclass(frozen=True)
class PrivateKey:
    algorithm: str
    raw: bytes = field(repr=False)  # 32-byte scalar / seed
    public_key: PublicKey

    def sign(self, message: bytes) -> bytes:
        if self.algorithm == ED25519:
            return ed25519.Ed25519PrivateKey.from_private_bytes(self.raw).sign(message)
        return _sm2_private_key(self.raw).sign(message, sm_ec.ECDSA(sm_hashes.SM3()))

    def to_pem(self) -> str:
        if self.algorithm == ED25519:
            key = ed25519.Ed25519PrivateKey.from_private_bytes(self.raw)
            return key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ).decode()
        return _sm2_private_key(self.raw).private_bytes(
            sm_serialization.Encoding.PEM, sm_serialization.PrivateFormat.PKCS8, sm_serialization.NoEncryption()
        ).decode()


def generate(algorithm: str = ED25519) -> PrivateKey:
    if algorithm == ED25519:
        key = ed25519.Ed25519PrivateKey.generate()
        raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
        public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return PrivateKey(ED25519, raw, PublicKey(ED25519, public))
    if algorithm == SM2:
        return _from_sm2(sm_ec.generate_private_key(sm_ec.SM2()))
    raise KeyProblem(f"unknown algorithm {algorithm!r}; use one of {', '.join(ALGORITHMS)}")


def load_private_key(source: str) -> PrivateKey:
    """``source`` is a PEM file path or ``env:NAME`` (an environment variable holding the PEM)."""
    if source.startswith("env:"):
        name = source[4:]
        text = os.environ.get(name)
        if not text:
            raise KeyProblem(f"environment variable {name} is not set or empty")
        return parse_private_pem(text.encode(), f"${name}")
    path = Path(source)
    try:
        data = read_regular(path, MAX_KEY_FILE)  # a regular file: a FIFO would block forever
    except OSError as exc:
        raise KeyProblem(f"{source}: cannot read key file ({exc.strerror})") from None
    return parse_private_pem(data, source)


def load_public_key(path: Path) -> PublicKey:
    try:
        data = read_regular(path, MAX_KEY_FILE)
    except OSError as exc:
        raise KeyProblem(f"{path}: cannot read key file ({exc.strerror})") from None
    return parse_public_pem(data, str(path))


def load_trusted_keys(directory: Path) -> dict[str, PublicKey]:
    """Every ``*.pem`` public key in ``directory``, by key id."""
    if not directory.is_dir():
        raise KeyProblem(f"{directory}: no such directory of trusted public keys")
    keys = {}
    for path in sorted(directory.glob("*.pem")):
        key = load_public_key(path)
        keys[key.key_id] = key
    return keys


def _require_pem(data: bytes, label: str, where: str) -> None:
    if f"-----BEGIN {label}-----".encode() not in data and b"-----BEGIN EC PRIVATE KEY-----" not in data:
        raise KeyProblem(f"{where}: expected a PEM block '{label}'")


def parse_private_pem(data: bytes, where: str) -> PrivateKey:
    _require_pem(data, "PRIVATE KEY", where)
    sm2_key = _try(lambda: sm_serialization.load_pem_private_key(data, password=None))
    if isinstance(sm2_key, sm_ec.EllipticCurvePrivateKey) and sm2_key.curve.name == sm_ec.SM2.name:
        return _from_sm2(sm2_key)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise KeyProblem(f"{where}: not a usable private key ({exc})") from None
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise KeyProblem(f"{where}: only Ed25519 and SM2 keys are accepted")
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return PrivateKey(ED25519, raw, PublicKey(ED25519, public))


def parse_public_pem(data: bytes, where: str) -> PublicKey:
    _require_pem(data, "PUBLIC KEY", where)
    sm2_key = _try(lambda: sm_serialization.load_pem_public_key(data))
    if isinstance(sm2_key, sm_ec.EllipticCurvePublicKey) and sm2_key.curve.name == sm_ec.SM2.name:
        return PublicKey(SM2, _sm2_point(sm2_key))
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise KeyProblem(f"{where}: not a usable public key ({exc})") from None
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise KeyProblem(f"{where}: only Ed25519 and SM2 keys are accepted")
    return PublicKey(ED25519, key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: object) -> bytes:
    """Strict decoding: only the one canonical base64 form of some bytes is accepted (padding
    bits zero, padding present, no other characters), so no two texts decode to the same
    signature; anything else gives b"" (never a valid signature)."""
    if not isinstance(text, str):
        return b""
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        return b""
    return data if b64(data) == text else b""


# --- SM2 through tongsuopy ----------------------------------------------------------------
def _try(load):
    try:
        return load()
    except Exception:  # noqa: BLE001 - any failure means "not an SM2 key"; the Ed25519 path reports
        return None


def _sm2_point(key: "sm_ec.EllipticCurvePublicKey") -> bytes:
    return key.public_bytes(sm_serialization.Encoding.X962, sm_serialization.PublicFormat.UncompressedPoint)[1:]


def _from_sm2(key: "sm_ec.EllipticCurvePrivateKey") -> PrivateKey:
    scalar = key.private_numbers().private_value.to_bytes(32, "big")
    return PrivateKey(SM2, scalar, PublicKey(SM2, _sm2_point(key.public_key())))


def _sm2_private_key(scalar: bytes) -> "sm_ec.EllipticCurvePrivateKey":
    return sm_ec.derive_private_key(int.from_bytes(scalar, "big"), sm_ec.SM2())


def _sm2_public_key(point: bytes) -> "sm_ec.EllipticCurvePublicKey":
    return sm_ec.EllipticCurvePublicKey.from_encoded_point(sm_ec.SM2(), b"\x04" + point)


def _sm2_verify(public: bytes, message: bytes, signature: bytes) -> bool:
    if len(public) != 64:
        return False
    try:
        _sm2_public_key(public).verify(signature, message, sm_ec.ECDSA(sm_hashes.SM3()))
        return True
    except (SmInvalidSignature, SmInternalError, ValueError, TypeError):
        # Malformed DER surfaces as Tongsuo's InternalError: still just "not valid".
        return False
