"""C2SP signed notes, transparency-log checkpoints and witness cosignatures.

The formats, exactly as C2SP specifies them (c2sp.org/signed-note, c2sp.org/tlog-checkpoint,
c2sp.org/tlog-cosignature), so that any implementation of those texts checks govcloud's tree
heads and cosignatures:

- a **note** is UTF-8 text ending in a newline, a blank line, then one or more signature lines
  ``— <key name> base64(4-byte key ID || signature)``; no control characters but newline;
- a **checkpoint** is a note whose text is ``<origin>\\n<tree size>\\n<base64 root hash>\\n``;
  the ledger signs it with the key name equal to the origin;
- a **cosignature** is a signature line whose signature is ``u64 timestamp || signature`` over
  ``cosignature/v1\\ntime <timestamp>\\n`` followed by the checkpoint text.

Key IDs are ``SHA-256(key name || 0x0A || signature type || public key)[:4]``. Signature types:

======================  ==========================================  ==========================
use                     signature type                              public key encoding
======================  ==========================================  ==========================
log, Ed25519            ``0x01`` (signed-note)                      32 bytes (RFC 8032)
witness, Ed25519        ``0x04`` (tlog-cosignature)                 32 bytes (RFC 8032)
log, SM2/SM3            ``0xff`` || ``govcloud.gov.cn/sm2-sm3``     65 bytes, uncompressed point
witness, SM2/SM3        ``0xff`` || ``govcloud.gov.cn/sm2-sm3-cosignature``  65 bytes, uncompressed
======================  ==========================================  ==========================

The SM2 types are govcloud's own, under the ``0xff`` byte that signed-note reserves for
signature types without an assigned identifier ("followed by a longer identifier that is
unlikely to collide"). Their signatures are DER-encoded SM2 signatures (GB/T 32918, SM3
digest, default distinguishing ID) over the same message as the Ed25519 type; an SM2 ledger's
checkpoints carry the root of an SM3 Merkle tree (RFC 6962's construction with SM3), which is
what the origin's ledger says it is. Verifiers that know only the C2SP types ignore these
lines, as the note format requires for unknown keys.

Verifier keys (``vkey``, as in golang.org/x/mod/sumdb/note): ``<name>+<8 hex key ID>+<base64(type
|| public key)>``: what the model records for each witness and ledger.
"""

from __future__ import annotations

import base64
import hashlib
import re
import struct
from dataclasses import dataclass

from . import signing

ED25519_NOTE = b"\x01"
ED25519_COSIGNATURE = b"\x04"
SM2_NOTE = b"\xff" + b"govcloud.gov.cn/sm2-sm3"
SM2_COSIGNATURE = b"\xff" + b"govcloud.gov.cn/sm2-sm3-cosignature"
COSIGNATURE_HEADER = b"cosignature/v1\n"

MAX_NOTE_BYTES = 1 << 20
MAX_SIGNATURES = 100
_DASH = "\u2014 "
_SIZE = re.compile(r"^(0|[1-9][0-9]{0,19})$")
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f]")


class NoteError(ValueError):
    """A note, checkpoint or key that does not follow the format; the message says why."""


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def strict_b64(text: str, what: str) -> bytes:
    data = signing.unb64(text)
    if not data:
        raise NoteError(f"{what}: not canonical base64")
    return data


def valid_name(name: str) -> bool:
    return bool(name) and not any(c.isspace() or c == "+" for c in name) and name.isprintable()


@dataclass(frozen=True)
class NoteKey:
    """A verifier: a key name, a public key and whether it makes cosignatures (witness) or
    plain note signatures (log)."""

    name: str
    public: signing.PublicKey
    cosigner: bool = False

    def __post_init__(self) -> None:
        if not valid_name(self.name):
            raise NoteError(f"key name {self.name!r}: must be non-empty without spaces or '+'")

    @property
    def type(self) -> bytes:
        if self.public.algorithm == signing.ED25519:
            return ED25519_COSIGNATURE if self.cosigner else ED25519_NOTE
        return SM2_COSIGNATURE if self.cosigner else SM2_NOTE

    @property
    def key_material(self) -> bytes:
        return self.public.raw if self.public.algorithm == signing.ED25519 else b"\x04" + self.public.raw

    @property
    def key_id(self) -> bytes:
        return hashlib.sha256(self.name.encode() + b"\n" + self.type + self.key_material).digest()[:4]

    @property
    def vkey(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{b64(self.type + self.key_material)}"

    def verify(self, text: bytes, signature: bytes) -> tuple[bool, int | None]:
        """(valid, cosignature timestamp) of ``signature`` (without the key ID) over note ``text``."""
        if not self.cosigner:
            return self.public.verify(text, signature), None
        if len(signature) < 8:
            return False, None
        (timestamp,) = struct.unpack(">Q", signature[:8])
        if timestamp > 2**63 - 1:
            return False, None
        return self.public.verify(cosigned_message(text, timestamp), signature[8:]), timestamp


def parse_vkey(text: str, cosigner: bool | None = None) -> NoteKey:
    """A NoteKey from its vkey; ``cosigner`` None takes the role from the signature type."""
    name, _, rest = text.partition("+")
    hex_id, _, encoded = rest.partition("+")
    if not name or not re.fullmatch(r"[0-9a-f]{8}", hex_id) or not encoded:
        raise NoteError(f"{text!r}: not a verifier key <name>+<8 hex digits>+<base64 key>")
    data = strict_b64(encoded, "verifier key")
    for kind, is_cosigner, algorithm, length in ((ED25519_NOTE, False, signing.ED25519, 32),
                                                 (ED25519_COSIGNATURE, True, signing.ED25519, 32),
                                                 (SM2_NOTE, False, signing.SM2, 65),
                                                 (SM2_COSIGNATURE, True, signing.SM2, 65)):
        if data.startswith(kind) and len(data) == len(kind) + length:
            material = data[len(kind):]
            if algorithm == signing.SM2 and material[:1] != b"\x04":
                continue
            key = NoteKey(name, signing.PublicKey(algorithm, material if algorithm == signing.ED25519 else material[1:]), is_cosigner)
            if cosigner is not None and cosigner != is_cosigner:
                raise NoteError(f"{name}: a {'log' if is_cosigner else 'witness'} key where a "
                                f"{'witness' if cosigner else 'log'} key was expected")
            if key.key_id.hex() != hex_id:
                raise NoteError(f"{name}: the key ID {hex_id} does not match the key")
            return key
    raise NoteError(f"{name}: unknown signature type or key length in the verifier key")


def cosigned_message(text: bytes, timestamp: int) -> bytes:
    return COSIGNATURE_HEADER + f"time {timestamp}\n".encode() + text


# --- notes -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Signature:
    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        return f"{_DASH}{self.name} {b64(self.key_id + self.signature)}\n"


@dataclass(frozen=True)
class Note:
    text: bytes  # the signed text, final newline included
    signatures: tuple[Signature, ...]

    def to_bytes(self) -> bytes:
        return self.text + b"\n" + "".join(s.line() for s in self.signatures).encode()

    def with_signatures(self, extra: list[Signature]) -> "Note":
        seen = {(s.name, s.key_id) for s in self.signatures}
        return Note(self.text, self.signatures + tuple(s for s in extra if (s.name, s.key_id) not in seen))


def parse_note(data: bytes | str) -> Note:
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > MAX_NOTE_BYTES:
        raise NoteError("the note is too large")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise NoteError("a note must be UTF-8") from None
    if _CONTROL.search(text):
        raise NoteError("a note must not contain control characters other than newline")
    if not text.endswith("\n"):
        raise NoteError("a note must end with a newline")
    split = text.rfind("\n\n")
    if split < 0:
        raise NoteError("a note needs a blank line between its text and its signatures")
    body, block = text[: split + 1], text[split + 2 :]
    lines = block.split("\n")[:-1]
    if not lines:
        raise NoteError("a note needs at least one signature")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"a note may carry at most {MAX_SIGNATURES} signatures")
    signatures = []
    for line in lines:
        if not line.startswith(_DASH):
            raise NoteError(f"signature line {line[:40]!r}: must start with an em dash and a space")
        name, sep, encoded = line[len(_DASH):].partition(" ")
        if not sep or not valid_name(name) or " " in encoded:
            raise NoteError(f"signature line {line[:40]!r}: expected '— <key name> <base64>'")
        raw = strict_b64(encoded, f"signature of {name}")
        if len(raw) < 5:
            raise NoteError(f"signature of {name}: too short")
        signatures.append(Signature(name, raw[:4], raw[4:]))
    return Note(body.encode("utf-8"), tuple(signatures))


def sign(text: bytes, name: str, key: signing.PrivateKey, *, cosign_at: int | None = None) -> Signature:
    """A note signature (log) or, with ``cosign_at`` (POSIX seconds), a timestamped cosignature."""
    note_key = NoteKey(name, key.public_key, cosigner=cosign_at is not None)
    if cosign_at is None:
        return Signature(name, note_key.key_id, key.sign(text))
    return Signature(name, note_key.key_id, struct.pack(">Q", cosign_at) + key.sign(cosigned_message(text, cosign_at)))


@dataclass(frozen=True)
class Verified:
    key: NoteKey
    timestamp: int | None


def verify(note: Note, keys: list[NoteKey]) -> tuple[list[Verified], list[str]]:
    """Signatures of known keys that verify, and a problem for each known key whose signature
    does not; signatures of unknown keys (another name or key ID) are ignored, as the note
    format requires."""
    by_id = {(k.name, k.key_id): k for k in keys}
    good, bad = [], []
    for signature in note.signatures:
        key = by_id.get((signature.name, signature.key_id))
        if key is None:
            continue
        valid, timestamp = key.verify(note.text, signature.signature)
        if valid:
            good.append(Verified(key, timestamp))
        else:
            bad.append(f"the signature of {signature.name} ({signature.key_id.hex()}) does not verify")
    return good, bad


# --- checkpoints --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> bytes:
        lines = [self.origin, str(self.size), b64(self.root), *self.extensions]
        return ("\n".join(lines) + "\n").encode("utf-8")


def parse_checkpoint(text: bytes) -> Checkpoint:
    lines = text.decode("utf-8").split("\n")
    if lines[-1] != "" or len(lines) < 4:
        raise NoteError("a checkpoint has at least three lines: origin, tree size, root hash")
    origin, size, root, *extensions = lines[:-1]
    if not origin:
        raise NoteError("checkpoint origin: empty")
    if not _SIZE.match(size) or int(size) > 2**63 - 1:
        raise NoteError(f"checkpoint tree size {size[:30]!r}: not a decimal number without leading zeros")
    digest = strict_b64(root, "checkpoint root hash")
    if len(digest) != 32:
        raise NoteError("checkpoint root hash: not 32 bytes")
    if any(not line for line in extensions):
        raise NoteError("checkpoint extension lines must not be empty")
    return Checkpoint(origin, int(size), digest, tuple(extensions))
