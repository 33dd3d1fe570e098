"""Keys and signatures for review certificates and ledger tree heads.

Two algorithms:
- ``ed25519`` (default): the ``cryptography`` library; keys in PKCS#8 / SubjectPublicKeyInfo PEM.
- ``sm2-sm3`` (GB/T 32918 with GB/T 32905, the domestic option for GB/T 39786-2021 level 3):
  the signature arithmetic comes from ``gmssl``; keys are the same standard PEM structures with
  the SM2 curve OID (1.2.156.10197.1.301), so keys made by ``openssl genpkey -algorithm EC
  -pkeyopt ec_paramgen_curve:SM2`` load here, and signatures are DER (r, s) with the default
  distinguishing id, which ``openssl pkeyutl -verify -rawin -digest sm3`` accepts.

gmssl draws its signing nonce from ``random`` (not a CSPRNG); a predictable nonce reveals the
private key, so we always pass our own nonce from ``secrets``.

Private keys come from a file or an environment variable (``env:NAME`` holding the PEM), are
never generated into the repository, and never printed.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

ED25519 = "ed25519"
SM2 = "sm2-sm3"
ALGORITHMS = (ED25519, SM2)

_SM2_N = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123", 16)
_SM2_G = (
    "32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7"
    "bc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0"
)
_OID_EC_PUBLIC_KEY = "1.2.840.10045.2.1"
_OID_SM2 = "1.2.156.10197.1.301"


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
        return _pem("PUBLIC KEY", _sm2_spki(self.raw))


@dataclass(frozen=True)
class PrivateKey:
    algorithm: str
    raw: bytes = field(repr=False)  # 32-byte scalar / seed
    public_key: PublicKey

    def sign(self, message: bytes) -> bytes:
        if self.algorithm == ED25519:
            return ed25519.Ed25519PrivateKey.from_private_bytes(self.raw).sign(message)
        return _sm2_sign(self.raw, self.public_key.raw, message)

    def to_pem(self) -> str:
        if self.algorithm == ED25519:
            key = ed25519.Ed25519PrivateKey.from_private_bytes(self.raw)
            return key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ).decode()
        return _pem("PRIVATE KEY", _sm2_pkcs8(self.raw, self.public_key.raw))


def generate(algorithm: str = ED25519) -> PrivateKey:
    if algorithm == ED25519:
        key = ed25519.Ed25519PrivateKey.generate()
        raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
        public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return PrivateKey(ED25519, raw, PublicKey(ED25519, public))
    if algorithm == SM2:
        d = secrets.randbelow(_SM2_N - 2) + 1
        return PrivateKey(SM2, d.to_bytes(32, "big"), PublicKey(SM2, _sm2_public(d)))
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
        data = path.read_bytes()
    except OSError as exc:
        raise KeyProblem(f"{source}: cannot read key file ({exc.strerror})") from None
    return parse_private_pem(data, source)


def load_public_key(path: Path) -> PublicKey:
    try:
        data = path.read_bytes()
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


def parse_private_pem(data: bytes, where: str) -> PrivateKey:
    der = _unpem(data, "PRIVATE KEY", where)
    algorithm_oids, inner = _pkcs8_parts(der, where)
    if algorithm_oids[0] == _OID_EC_PUBLIC_KEY and algorithm_oids[1:] == [_OID_SM2]:
        d = _sm2_private_scalar(inner, where)
        return PrivateKey(SM2, d.to_bytes(32, "big"), PublicKey(SM2, _sm2_public(d)))
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
    der = _unpem(data, "PUBLIC KEY", where)
    from Cryptodome.Util.asn1 import DerBitString, DerObjectId, DerSequence

    try:
        seq = DerSequence().decode(der)
        algorithm = DerSequence().decode(seq[0])
        oids = [DerObjectId().decode(algorithm[i]).value for i in range(len(algorithm))]
        if oids == [_OID_EC_PUBLIC_KEY, _OID_SM2]:
            point = DerBitString().decode(seq[1]).value
            if len(point) != 65 or point[0] != 4:
                raise KeyProblem(f"{where}: SM2 public key must be an uncompressed point")
            return PublicKey(SM2, point[1:])
    except (ValueError, IndexError, TypeError):
        pass
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise KeyProblem(f"{where}: not a usable public key ({exc})") from None
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise KeyProblem(f"{where}: only Ed25519 and SM2 keys are accepted")
    return PublicKey(ED25519, key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        return b""


# --- PEM / DER plumbing ------------------------------------------------------------------
def _pem(label: str, der: bytes) -> str:
    body = base64.encodebytes(der).decode("ascii").replace("\n", "")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"


def _unpem(data: bytes, label: str, where: str) -> bytes:
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise KeyProblem(f"{where}: not a PEM file") from None
    begin, end = f"-----BEGIN {label}-----", f"-----END {label}-----"
    if begin not in text or end not in text:
        raise KeyProblem(f"{where}: expected a PEM block '{label}'")
    body = text.split(begin, 1)[1].split(end, 1)[0]
    try:
        return base64.b64decode("".join(body.split()), validate=True)
    except ValueError:
        raise KeyProblem(f"{where}: PEM body is not base64") from None


def _pkcs8_parts(der: bytes, where: str) -> tuple[list[str], bytes]:
    from Cryptodome.Util.asn1 import DerObjectId, DerOctetString, DerSequence

    try:
        seq = DerSequence().decode(der)
        algorithm = DerSequence().decode(seq[1])
        oids = [DerObjectId().decode(algorithm[i]).value for i in range(len(algorithm))]
        inner = DerOctetString().decode(seq[2]).payload
        return oids, inner
    except (ValueError, IndexError, TypeError):
        raise KeyProblem(f"{where}: not a PKCS#8 private key") from None


def _sm2_private_scalar(inner: bytes, where: str) -> int:
    from Cryptodome.Util.asn1 import DerOctetString, DerSequence

    try:
        ec_key = DerSequence().decode(inner, nr_elements=None)
        d = int.from_bytes(DerOctetString().decode(ec_key[1]).payload, "big")
    except (ValueError, IndexError, TypeError):
        raise KeyProblem(f"{where}: malformed SM2 private key") from None
    if not 1 <= d < _SM2_N - 1:
        raise KeyProblem(f"{where}: SM2 private key out of range")
    return d


def _sm2_spki(point: bytes) -> bytes:
    from Cryptodome.Util.asn1 import DerBitString, DerObjectId, DerSequence

    algorithm = DerSequence([DerObjectId(_OID_EC_PUBLIC_KEY), DerObjectId(_OID_SM2)])
    return DerSequence([algorithm, DerBitString(b"\x04" + point)]).encode()


def _sm2_pkcs8(scalar: bytes, point: bytes) -> bytes:
    from Cryptodome.Util.asn1 import DerBitString, DerInteger, DerObjectId, DerOctetString, DerSequence

    ec_private = DerSequence([DerInteger(1), DerOctetString(scalar)])
    ec_private.append(b"\xa1" + _der_len(len(DerBitString(b"\x04" + point).encode())) + DerBitString(b"\x04" + point).encode())
    algorithm = DerSequence([DerObjectId(_OID_EC_PUBLIC_KEY), DerObjectId(_OID_SM2)])
    return DerSequence([DerInteger(0), algorithm, DerOctetString(ec_private.encode())]).encode()


def _der_len(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


# --- SM2 through gmssl -----------------------------------------------------------------------
def _crypt(private_hex: str, public: bytes):
    from gmssl import sm2

    return sm2.CryptSM2(private_key=private_hex, public_key=public.hex(), asn1=True)


def _sm2_public(d: int) -> bytes:
    point = _crypt(f"{d:064x}", b"\x00" * 64)._kg(d, _SM2_G)
    return bytes.fromhex(point)


def _sm2_sign(scalar: bytes, public: bytes, message: bytes) -> bytes:
    crypt = _crypt(scalar.hex(), public)
    while True:
        nonce = f"{secrets.randbelow(_SM2_N - 1) + 1:064x}"
        signature = crypt.sign_with_sm3(message, nonce)
        if signature:
            return bytes.fromhex(signature)


def _sm2_verify(public: bytes, message: bytes, signature: bytes) -> bool:
    from Cryptodome.Util.asn1 import DerSequence

    try:
        r, s = DerSequence().decode(signature, nr_elements=2, only_ints_expected=True)
    except (ValueError, TypeError, IndexError):
        return False
    if not (1 <= r < _SM2_N and 1 <= s < _SM2_N) or len(public) != 64:
        return False
    try:
        return bool(_crypt("00", public).verify_with_sm3(signature.hex(), message))
    except (ValueError, TypeError, IndexError):
        return False
