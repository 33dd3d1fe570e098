"""What the ledger stores: entries, signed tree heads, their canonical bytes and their checks.

Two formats, told apart by ``ledger.json``'s ``format``:
- ``govcloud-ledger/2`` (every new ledger): entries and log lines are RFC 8785 JSON
  (``govcloud.canonical``), times are ``2026-11-25T10:00:00Z``, and every tree head is a C2SP
  checkpoint (``note``) signed by the log key, the note text itself kept in the log line
  (``{"entry": ..., "checkpoint": "<signed note>"}``).
- ``govcloud-ledger/1``: the JSON tree heads (``TreeHead``) and the compact ``json.dumps``
  encoding of the first release. A migrated ledger (``govcloud ledger migrate``) keeps its
  first ``v1_entries`` lines exactly as they were (so tree heads saved from them still prove
  consistency) and writes format 2 after them.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .. import note as note_format
from .. import signing
from ..canonical import JsonProblem, encode, load_json
from ..canonical import utc_now as utc_now
from . import merkle
from .kinds import KINDS as KINDS

LEDGER_FORMAT_V1 = "govcloud-ledger/1"
LEDGER_FORMAT = "govcloud-ledger/2"
TREE_HEAD_FORMAT = "govcloud-ledger-tree-head/1"
CHECKPOINT_FORMAT = "govcloud-ledger-checkpoint/2"
INCLUSION_FORMAT = "govcloud-ledger-inclusion-proof/1"
CONSISTENCY_FORMAT = "govcloud-ledger-consistency-proof/1"

SUBJECT_KEYS = ("env", "stack", "tenant")
ENTRY_KEYS = {"index", "kind", "subject", "actor", "time", "summary", "evidence", "details"}
MAX_SUMMARY = 500
MAX_ENTRY_BYTES = 64 * 1024

# Signatures and their hash: SM2 signatures go with SM3 trees (GB/T 39786), Ed25519 with SHA-256.
HASH_FOR_SIGNATURE = {signing.ED25519: merkle.SHA256, signing.SM2: merkle.SM3}

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$")


class LedgerError(Exception):
    """Bad input: a missing or foreign directory, a garbage file, the wrong key (exit 2)."""

    exit_code = 2


class LedgerIntegrityError(LedgerError):
    """The ledger itself fails a check; nothing is appended to it (exit 1)."""

    exit_code = 1


def canonical(value: Any) -> bytes:
    """The encoding of format 2 that is hashed and signed: RFC 8785 (``govcloud.canonical``)."""
    return encode(value)


def canonical_v1(value: Any) -> bytes:
    """The encoding of format 1 (sorted keys, no spaces, UTF-8), kept to verify old lines."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def utc_now_v1() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def file_digests(path: Path, hash_algorithm: str) -> dict[str, Any]:
    """sha256 (and sm3 for an SM3 ledger) and size of an evidence file, streamed."""
    sha256 = hashlib.sha256()
    sm3 = _Sm3Stream() if hash_algorithm == merkle.SM3 else None
    size = 0
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha256.update(block)
            if sm3:
                sm3.update(block)
            size += len(block)
    digests: dict[str, Any] = {"sha256": sha256.hexdigest(), "bytes": size}
    if sm3:
        digests["sm3"] = sm3.hexdigest()
    return digests


class _Sm3Stream:
    def __init__(self) -> None:
        from cryptography.hazmat.primitives import hashes

        self._hash = hashes.Hash(hashes.SM3())

    def update(self, data: bytes) -> None:
        self._hash.update(data)

    def hexdigest(self) -> str:
        return self._hash.finalize().hex()


def entry_problems(entry: Any) -> list[str]:
    """Every way ``entry`` departs from the entry format (empty when it is well formed)."""
    if not isinstance(entry, dict):
        return ["an entry must be a JSON object"]
    problems = [f"unknown field {key!r}" for key in sorted(set(entry) - ENTRY_KEYS)]
    problems += [f"missing field {key!r}" for key in sorted(ENTRY_KEYS - {"details"} - set(entry))]
    index = entry.get("index")
    if "index" in entry and (not isinstance(index, int) or isinstance(index, bool) or index < 0):
        problems.append("index: must be a non-negative integer")
    if "kind" in entry and entry["kind"] not in KINDS:
        problems.append(f"kind: {entry['kind']!r} is not one of {', '.join(KINDS)}")
    subject = entry.get("subject")
    if "subject" in entry:
        if not isinstance(subject, dict) or "env" not in subject:
            problems.append("subject: must be an object with at least 'env'")
        else:
            for key, value in sorted(subject.items()):
                if key not in SUBJECT_KEYS:
                    problems.append(f"subject.{key}: unknown; use {', '.join(SUBJECT_KEYS)}")
                elif not isinstance(value, str) or not _NAME.match(value):
                    problems.append(f"subject.{key}: {value!r} is not a name (letters, digits, . _ -)")
    if "actor" in entry and (not isinstance(entry["actor"], str) or not _NAME.match(entry["actor"])):
        problems.append(f"actor: {entry['actor']!r} is not an account name (letters, digits, . _ -)")
    if "time" in entry and (not isinstance(entry["time"], str) or not _TIME.match(entry["time"])):
        problems.append(f"time: {entry['time']!r} is not a UTC time like 2026-01-31T08:00:00.000Z")
    summary = entry.get("summary")
    if "summary" in entry and (
        not isinstance(summary, str) or not summary.strip() or len(summary) > MAX_SUMMARY or any(c in summary for c in "\r\n")
    ):
        problems.append(f"summary: must be one non-empty line of at most {MAX_SUMMARY} characters")
    evidence = entry.get("evidence")
    if "evidence" in entry:
        problems += _evidence_problems(evidence)
    if "details" in entry and not _plain(entry["details"], top=True):
        problems.append("details: must be an object of strings, integers, booleans, null and lists/objects of them")
    return problems


def _evidence_problems(evidence: Any) -> list[str]:
    if not isinstance(evidence, dict):
        return ["evidence: must be an object with path, sha256 and bytes"]
    problems = []
    extra = set(evidence) - {"path", "sha256", "sm3", "bytes"}
    if extra:
        problems.append(f"evidence: unknown {'field' if len(extra) == 1 else 'fields'} {', '.join(sorted(extra))}")
    if not isinstance(evidence.get("path"), str) or not evidence.get("path"):
        problems.append("evidence.path: must be a non-empty string")
    for name in ("sha256", "sm3"):
        if (name == "sha256" or name in evidence) and not (isinstance(evidence.get(name), str) and _HEX64.match(evidence[name])):
            problems.append(f"evidence.{name}: must be 64 lowercase hex digits")
    size = evidence.get("bytes")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        problems.append("evidence.bytes: must be a non-negative integer")
    return problems


def _plain(value: Any, top: bool = False) -> bool:
    """JSON without floats (whose text form is not canonical across encoders)."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if top:
        return False
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return value is None or isinstance(value, (str, bool, int))


@dataclass(frozen=True)
class TreeHead:
    """A signed tree head (RFC 9162 4.10 in spirit): the tree of ``size`` entries has ``root``."""

    log_id: str
    hash: str
    size: int
    root: bytes
    timestamp: str
    key_id: str
    signature: bytes = b""

    def signed_part(self) -> dict[str, Any]:
        return {
            "format": TREE_HEAD_FORMAT,
            "log_id": self.log_id,
            "hash": self.hash,
            "size": self.size,
            "root": self.root.hex(),
            "timestamp": self.timestamp,
            "key_id": self.key_id,
        }

    def message(self) -> bytes:
        return canonical_v1(self.signed_part())

    def as_dict(self) -> dict[str, Any]:
        return {**self.signed_part(), "signature": signing.b64(self.signature)}

    def signed_by(self, keys: dict[str, signing.PublicKey]) -> bool:
        key = keys.get(self.key_id)
        return key is not None and key.verify(self.message(), self.signature)

    @classmethod
    def sign(cls, key: signing.PrivateKey, log_id: str, hash_algorithm: str, size: int, root: bytes, timestamp: str) -> "TreeHead":
        """A format 1 head (tests build old ledgers with it; format 2 ledgers sign checkpoints)."""
        unsigned = cls(log_id, hash_algorithm, size, root, timestamp, key.public_key.key_id)
        return cls(log_id, hash_algorithm, size, root, timestamp, unsigned.key_id, key.sign(unsigned.message()))

    @classmethod
    def from_dict(cls, data: Any, where: str) -> "TreeHead":
        """Parse a tree head; raises LedgerError naming ``where`` and the field at fault."""
        if not isinstance(data, dict):
            raise LedgerError(f"{where}: a tree head must be a JSON object")
        expected = {"format", "log_id", "hash", "size", "root", "timestamp", "key_id", "signature"}
        if set(data) != expected:
            missing, extra = sorted(expected - set(data)), sorted(set(data) - expected)
            raise LedgerError(f"{where}: tree head fields: missing {missing or 'none'}, unknown {extra or 'none'}")
        if data["format"] != TREE_HEAD_FORMAT:
            raise LedgerError(f"{where}: format: expected {TREE_HEAD_FORMAT!r}, not {data['format']!r}")
        if data["hash"] not in merkle.HASH_ALGORITHMS:
            raise LedgerError(f"{where}: hash: {data['hash']!r} is not one of {', '.join(merkle.HASH_ALGORITHMS)}")
        size = data["size"]
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise LedgerError(f"{where}: size: must be a non-negative integer")
        if not isinstance(data["root"], str) or not _HEX64.match(data["root"]):
            raise LedgerError(f"{where}: root: must be 64 lowercase hex digits")
        for name in ("log_id", "timestamp", "key_id", "signature"):
            if not isinstance(data[name], str) or not data[name]:
                raise LedgerError(f"{where}: {name}: must be a non-empty string")
        signature = signing.unb64(data["signature"])
        if not signature:
            raise LedgerError(f"{where}: signature: not base64")
        return cls(data["log_id"], data["hash"], size, bytes.fromhex(data["root"]), data["timestamp"], data["key_id"], signature)


@dataclass(frozen=True)
class SignedCheckpoint:
    """A format 2 tree head: a C2SP checkpoint signed by the log key (key name = origin), and
    any witness cosignatures gathered on it. ``hash`` is the tree's hash (sha256 for an Ed25519
    log, sm3 for an SM2 log): the note does not say it, the log's key type does, and
    ``signed_by`` only accepts a key of the matching type."""

    log_id: str  # the checkpoint origin
    hash: str
    size: int
    root: bytes
    note: bytes  # the whole signed note

    timestamp = None  # checkpoints carry no time of their own; cosignatures do

    @property
    def key_id(self) -> str:
        return ",".join(s.key_id.hex() for s in self.parsed().signatures if s.name == self.log_id) or "-"

    def parsed(self) -> note_format.Note:
        return note_format.parse_note(self.note)

    def log_keys(self, keys: dict[str, signing.PublicKey]) -> list[note_format.NoteKey]:
        return [note_format.NoteKey(self.log_id, key) for key in keys.values() if HASH_FOR_SIGNATURE.get(key.algorithm) == self.hash]

    def signed_by(self, keys: dict[str, signing.PublicKey]) -> bool:
        """Signed by one of ``keys`` as this log, and no known log key's signature fails."""
        good, bad = note_format.verify(self.parsed(), self.log_keys(keys))
        return bool(good) and not bad

    def as_dict(self) -> dict[str, Any]:
        return {"format": CHECKPOINT_FORMAT, "hash": self.hash, "checkpoint": self.note.decode("utf-8")}

    def text(self) -> str:
        return self.note.decode("utf-8")

    def with_note(self, note: note_format.Note) -> "SignedCheckpoint":
        return SignedCheckpoint(self.log_id, self.hash, self.size, self.root, note.to_bytes())

    @classmethod
    def sign(cls, key: signing.PrivateKey, origin: str, hash_algorithm: str, size: int, root: bytes) -> "SignedCheckpoint":
        body = note_format.Checkpoint(origin, size, root).text()
        signed = note_format.Note(body, (note_format.sign(body, origin, key),))
        return cls(origin, hash_algorithm, size, root, signed.to_bytes())

    @classmethod
    def from_note(cls, data: bytes | str, hash_algorithm: str, where: str) -> "SignedCheckpoint":
        if hash_algorithm not in merkle.HASH_ALGORITHMS:
            raise LedgerError(f"{where}: hash: {hash_algorithm!r} is not one of {', '.join(merkle.HASH_ALGORITHMS)}")
        try:
            parsed = note_format.parse_note(data)
            checkpoint = note_format.parse_checkpoint(parsed.text)
        except note_format.NoteError as problem:
            raise LedgerError(f"{where}: not a signed checkpoint: {problem}") from None
        if checkpoint.extensions:
            raise LedgerError(f"{where}: checkpoint extension lines are not used by govcloud ledgers")
        return cls(checkpoint.origin, hash_algorithm, checkpoint.size, checkpoint.root, parsed.to_bytes())

    @classmethod
    def from_dict(cls, data: Any, where: str) -> "SignedCheckpoint":
        if not isinstance(data, dict) or set(data) != {"format", "hash", "checkpoint"} or data["format"] != CHECKPOINT_FORMAT:
            raise LedgerError(f"{where}: a checkpoint must be an object with exactly format ({CHECKPOINT_FORMAT!r}), hash and checkpoint")
        if not isinstance(data["checkpoint"], str) or not isinstance(data["hash"], str):
            raise LedgerError(f"{where}: checkpoint and hash must be strings")
        return cls.from_note(data["checkpoint"], data["hash"], where)


AnyHead = TreeHead | SignedCheckpoint


def head_from_dict(data: Any, where: str) -> AnyHead:
    """A tree head of either format, from its JSON form (proofs, reports)."""
    if isinstance(data, dict) and data.get("format") == CHECKPOINT_FORMAT:
        return SignedCheckpoint.from_dict(data, where)
    return TreeHead.from_dict(data, where)


def load_head_file(path: Path, hash_algorithm: str | None) -> AnyHead:
    """A saved tree head: a checkpoint note (what ``ledger head`` writes) or a format 1 JSON head."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LedgerError(f"{path}: cannot read the tree head ({exc.strerror})") from None
    if data.lstrip()[:1] in (b"{", b"["):
        return head_from_dict(load_json_file(path, "tree head"), str(path))
    if hash_algorithm is None:
        raise LedgerError(f"{path}: a checkpoint note needs the ledger it belongs to")
    return SignedCheckpoint.from_note(data, hash_algorithm, str(path))


def load_json_file(path: Path, what: str) -> Any:
    """A small JSON document given on the command line (a saved tree head, a proof)."""
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise LedgerError(f"{path}: cannot read {what} ({exc.strerror})") from None
    if len(text) > 16 * 1024 * 1024:
        raise LedgerError(f"{path}: too large for {what}")
    try:
        return load_json(text, f"{path}: {what}")
    except JsonProblem as problem:
        raise LedgerError(str(problem)) from None


def hex_list(value: Any, where: str) -> list[bytes]:
    if not isinstance(value, list) or not all(isinstance(v, str) and _HEX64.match(v) for v in value) or len(value) > 128:
        raise LedgerError(f"{where}: must be a list of at most 128 hashes of 64 lowercase hex digits")
    return [bytes.fromhex(v) for v in value]
