"""The lab's certificates and keys for its control planes, made with ``cryptography``.

Two CAs per lab: one for the Kubernetes API (server certificates, client identities) and one
for etcd only, so no API client certificate can ever talk to etcd. ECDSA P-256 throughout.
Everything lives under ``.lab/<env>/clusters/pki/`` (git-ignored); private keys are 0600 in
0700 directories and never leave the lab directory. A file is made once and reused while it
still says what is wanted (subject, names, issuer); anything else is made again.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = dt.timedelta(days=365)
CA_VALIDITY = dt.timedelta(days=3650)


def write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    path.chmod(0o600)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _name(common_name: str, organizations: tuple[str, ...] = ()) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in organizations]
    return x509.Name(attributes + [x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


@dataclass(frozen=True)
class Pair:
    cert: Path
    key: Path


class Authority:
    """A CA whose certificate and key are files; issues server and client certificates."""

    def __init__(self, directory: Path, name: str, common_name: str):
        self.pair = Pair(directory / f"{name}.crt", directory / f"{name}.key")
        if not (self.pair.cert.exists() and self.pair.key.exists()):
            key = ec.generate_private_key(ec.SECP256R1())
            now = dt.datetime.now(dt.timezone.utc)
            cert = (
                x509.CertificateBuilder()
                .subject_name(_name(common_name)).issuer_name(_name(common_name))
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + CA_VALIDITY)
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                             key_encipherment=False, data_encipherment=False, key_agreement=False,
                                             encipher_only=False, decipher_only=False), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .sign(key, hashes.SHA256())
            )
            write_private(self.pair.key, _key_pem(key))
            self.pair.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self.cert = x509.load_pem_x509_certificate(self.pair.cert.read_bytes())
        loaded = serialization.load_pem_private_key(self.pair.key.read_bytes(), password=None)
        if not isinstance(loaded, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{self.pair.key}: not an EC key (remove the lab's clusters/pki to make a new CA)")
        self._key = loaded

    def issue(self, pair: Pair, common_name: str, *, organizations: tuple[str, ...] = (), server: bool = False,
              client: bool = False, dns: tuple[str, ...] = (), ips: tuple[str, ...] = ()) -> Pair:
        """Make (or keep) a certificate for exactly this subject and these names."""
        subject = _name(common_name, organizations)
        names = [x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
        if self._current(pair, subject, names):
            return pair
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.timezone.utc)
        usages = ([ExtendedKeyUsageOID.SERVER_AUTH] if server else []) + ([ExtendedKeyUsageOID.CLIENT_AUTH] if client else [])
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject).issuer_name(self.cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=False, key_cert_sign=False, crl_sign=False,
                                         content_commitment=False, data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()), critical=False)
        )
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        cert = builder.sign(self._key, hashes.SHA256())
        write_private(pair.key, _key_pem(key))
        pair.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return pair

    def _current(self, pair: Pair, subject: x509.Name, names: list) -> bool:
        if not (pair.cert.exists() and pair.key.exists()):
            return False
        try:
            cert = x509.load_pem_x509_certificate(pair.cert.read_bytes())
            key = serialization.load_pem_private_key(pair.key.read_bytes(), password=None)
        except ValueError:
            return False
        try:
            present = list(cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
        except x509.ExtensionNotFound:
            present = []
        fresh = cert.not_valid_after_utc > dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)
        return (cert.subject == subject and cert.issuer == self.cert.subject and fresh
                and sorted(map(str, present)) == sorted(map(str, names))
                and _spki(key.public_key()) == _spki(cert.public_key()))


def _spki(public_key) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def signing_key(path: Path) -> Path:
    """The service-account token signing key (ES256); its public half next to it."""
    public = path.with_suffix(".pub")
    if not path.exists():
        key = ec.generate_private_key(ec.SECP256R1())
        write_private(path, _key_pem(key))
        public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                         serialization.PublicFormat.SubjectPublicKeyInfo))
    return public


def encryption_config(path: Path) -> Path:
    """Encryption at rest of Secrets in etcd (secretbox, a 32-byte key made once)."""
    if not path.exists():
        key = base64.b64encode(secrets.token_bytes(32)).decode()
        text = (
            "apiVersion: apiserver.config.k8s.io/v1\n"
            "kind: EncryptionConfiguration\n"
            "resources:\n"
            "  - resources: [secrets]\n"
            "    providers:\n"
            "      - secretbox:\n"
            "          keys:\n"
            f"            - {{name: lab-1, secret: {key}}}\n"
            "      - identity: {}\n"
        )
        write_private(path, text.encode())
    return path
