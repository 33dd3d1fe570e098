"""The ledger directory: append under a lock, recover from crashes, read, prove.

Files in ``DIR``:
- ``ledger.json``: format, log id (the checkpoints' origin), hash algorithm (sha256 | sm3),
  signature algorithm, key id and public key of the signer, creation time, and for a migrated
  ledger ``v1_entries`` (how many lines are format 1). Written once (and once more by migrate).
- ``log.jsonl``: the log. One line per entry, RFC 8785 JSON ``{"entry": {...}, "checkpoint":
  "<signed note>"}``; the leaf is the canonical bytes of ``entry``; ``checkpoint`` is the C2SP
  checkpoint of the tree *including* this entry, signed by the log key (only on the last line
  of a batch). Format 1 lines carry a JSON ``head`` instead (see ``records``).
- ``cosigned/<size>.note``: checkpoints with the witnesses' cosignatures (``witness``); a
  checkpoint whose cosigners are all on a larger one is removed. The line that carries a head is
  the commit point of an append: it is written with the entries in one ``write`` and made
  durable with one ``fsync``. A signed head on every append makes each line commit to every
  line before it, which is what a per-entry hash chain would give, and more: ``verify`` finds
  the first head whose root no longer matches and so names the entry that changed.
- ``tree/level-NN.bin``: the hashes of every perfect subtree, 32 bytes each, level 0 being the
  leaf hashes; ``tree/offsets.bin``: the byte offset of each line (8 bytes big-endian). Both
  are a cache derived from the log, written before the log line, checked against the last
  signed head on open and rebuilt from the log when they do not match. With them an append
  reads O(log n) hashes (the frontier) and a proof reads O(log n) nodes.
- ``.lock``: ``fcntl.flock``: exclusive for appends, shared for readers.

Recovery (on every open for appending, under the exclusive lock): bytes after the last line
that carries a head (a partial line, or whole lines of an interrupted batch) were never
committed and are cut off; longer cache files are cut to the committed size; a cache that is
shorter or does not reproduce the last head's root is rebuilt from the log.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import note as note_format
from .. import signing
from ..canonical import JsonProblem, load_json
from ..text import plural
from . import merkle
from .records import (
    CONSISTENCY_FORMAT,
    HASH_FOR_SIGNATURE,
    INCLUSION_FORMAT,
    LEDGER_FORMAT,
    LEDGER_FORMAT_V1,
    MAX_ENTRY_BYTES,
    AnyHead,
    LedgerError,
    LedgerIntegrityError,
    SignedCheckpoint,
    TreeHead,
    canonical,
    canonical_v1,
    entry_problems,
    file_digests,
    utc_now,
)

META = "ledger.json"
LOG = "log.jsonl"
TREE = "tree"
LOCK = ".lock"
COSIGNED = "cosigned"
KEY_ENV = "GOVCLOUD_LEDGER_KEY"
_OFFSET = 8
_HASH = merkle.DIGEST_SIZE


@dataclass(frozen=True)
class Meta:
    log_id: str
    hash: str
    signature_algorithm: str
    key_id: str
    public_key: signing.PublicKey
    created: str
    format: str = LEDGER_FORMAT
    v1_entries: int = 0  # lines written in format 1 before a migration (all of them for a format 1 ledger)

    @property
    def origin(self) -> str:
        return self.log_id

    def is_v1(self, index: int) -> bool:
        """Whether the line at ``index`` is in format 1."""
        return self.format == LEDGER_FORMAT_V1 or index < self.v1_entries

    def leaf_bytes(self, index: int, entry: dict[str, Any]) -> bytes:
        return canonical_v1(entry) if self.is_v1(index) else canonical(entry)

    def line_bytes(self, index: int, record: dict[str, Any]) -> bytes:
        return canonical_v1(record) if self.is_v1(index) else canonical(record)

    def log_key(self) -> note_format.NoteKey:
        """The key checkpoints are signed with, as a note verifier."""
        return note_format.NoteKey(self.log_id, self.public_key)

    def head_of(self, record: dict[str, Any], where: str) -> AnyHead | None:
        """The tree head a log line carries, if any, in the line's format."""
        if "checkpoint" in record:
            if not isinstance(record["checkpoint"], str):
                raise LedgerError(f"{where}: checkpoint: must be a string (a signed note)")
            return SignedCheckpoint.from_note(record["checkpoint"], self.hash, where)
        if "head" in record:
            return TreeHead.from_dict(record["head"], where)
        return None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "format": self.format,
            "log_id": self.log_id,
            "hash": self.hash,
            "signature_algorithm": self.signature_algorithm,
            "key_id": self.key_id,
            "public_key": self.public_key.to_pem(),
            "created": self.created,
        }
        if self.format == LEDGER_FORMAT:
            data["v1_entries"] = self.v1_entries
        return data


def load_meta(directory: Path) -> Meta:
    if not directory.is_dir():
        raise LedgerError(f"{directory}: no such ledger directory")
    path = directory / META
    if not path.is_file():
        raise LedgerError(f"{directory}: not a ledger ({META} is missing)")
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise LedgerError(f"{path}: not a ledger description ({exc})") from None
    if not isinstance(data, dict) or data.get("format") not in (LEDGER_FORMAT, LEDGER_FORMAT_V1):
        raise LedgerError(f"{path}: format: expected {LEDGER_FORMAT!r} (or {LEDGER_FORMAT_V1!r})")
    v1_entries = data.get("v1_entries", 0)
    if data["format"] == LEDGER_FORMAT and (not isinstance(v1_entries, int) or isinstance(v1_entries, bool) or v1_entries < 0):
        raise LedgerError(f"{path}: v1_entries: must be a non-negative integer")
    if data["format"] == LEDGER_FORMAT and not note_format.valid_name(data.get("log_id") or ""):
        raise LedgerError(f"{path}: log_id: a checkpoint origin without spaces or '+'")
    for name in ("log_id", "hash", "signature_algorithm", "key_id", "public_key", "created"):
        if not isinstance(data.get(name), str) or not data[name]:
            raise LedgerError(f"{path}: {name}: missing or not a string")
    if data["hash"] not in merkle.HASH_ALGORITHMS:
        raise LedgerError(f"{path}: hash: {data['hash']!r} is not one of {', '.join(merkle.HASH_ALGORITHMS)}")
    try:
        public = signing.parse_public_pem(data["public_key"].encode(), f"{path}: public_key")
    except signing.KeyProblem as problem:
        raise LedgerError(str(problem)) from None
    if public.key_id != data["key_id"] or public.algorithm != data["signature_algorithm"]:
        raise LedgerError(f"{path}: key_id/signature_algorithm do not match public_key")
    return Meta(data["log_id"], data["hash"], data["signature_algorithm"], data["key_id"], public, data["created"],
                data["format"], v1_entries if data["format"] == LEDGER_FORMAT else 0)


@dataclass(frozen=True)
class Record:
    """One thing to append; ``Ledger.append`` takes the same fields as arguments."""

    kind: str
    subject: dict[str, str]
    evidence_path: Path
    actor: str
    summary: str
    details: dict[str, Any] | None = None
    time: str | None = None


@dataclass(frozen=True)
class Receipt:
    index: int
    leaf_hash: bytes
    head: AnyHead

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "leaf_hash": self.leaf_hash.hex(), "tree_head": self.head.as_dict()}


@dataclass
class Tail:
    """Where the committed log ends, read from the end of the file."""

    committed_bytes: int
    head: AnyHead | None
    uncommitted_lines: int
    partial_bytes: int


def scan_tail(fd: int, file_size: int, where: str, meta: "Meta") -> Tail:
    """Find the last complete line carrying a tree head, reading backwards from the end."""
    window = 1 << 18
    while True:
        start = max(0, file_size - window)
        data = os.pread(fd, file_size - start, start)
        last_newline = data.rfind(b"\n")
        partial = len(data) - last_newline - 1
        # Before the first newline of a window that does not start the file is a cut line.
        body_start = 0 if start == 0 else data.find(b"\n") + 1 if b"\n" in data else len(data)
        if last_newline >= 0 and body_start <= last_newline:
            lines = data[body_start : last_newline + 1].split(b"\n")[:-1]
            end = start + last_newline + 1
            for count, line in enumerate(reversed(lines)):
                record = _parse_line(line, where)
                head = meta.head_of(record, f"{where}: tree head")
                if head is not None:
                    return Tail(end, head, count, partial)
                end -= len(line) + 1
        if start == 0:
            return Tail(0, None, data.count(b"\n"), partial if last_newline >= 0 else len(data))
        window *= 4


def _parse_line(line: bytes, where: str) -> dict[str, Any]:
    try:
        record = load_json(line, where)
    except JsonProblem:
        record = None
    if not isinstance(record, dict) or not isinstance(record.get("entry"), dict) or not (
        set(record) <= {"entry", "head"} or set(record) <= {"entry", "checkpoint"}
    ):
        raise LedgerIntegrityError(f"{where}: a complete line near the end is not a ledger record; run `govcloud ledger verify`")
    return record


class _Cache:
    """The level files and the line offsets (see the module docstring)."""

    def __init__(self, directory: Path, writable: bool):
        self.directory = directory / TREE
        self.writable = writable
        self._fds: dict[str, int] = {}

    def _fd(self, name: str) -> int | None:
        if name not in self._fds:
            path = self.directory / name
            try:
                self._fds[name] = os.open(path, os.O_RDWR | os.O_CREAT if self.writable else os.O_RDONLY, 0o644)
            except FileNotFoundError:
                return None
        return self._fds[name]

    @staticmethod
    def level_name(level: int) -> str:
        return f"level-{level:02d}.bin"

    def count(self, name: str, width: int) -> int:
        fd = self._fd(name)
        return 0 if fd is None else os.fstat(fd).st_size // width

    def read(self, name: str, index: int, width: int) -> bytes:
        fd = self._fd(name)
        data = b"" if fd is None else os.pread(fd, width, index * width)
        if len(data) != width:
            raise LedgerIntegrityError(f"{self.directory / name}: entry {index} missing")
        return data

    def write(self, name: str, index: int, value: bytes) -> None:
        fd = self._fd(name)
        assert fd is not None
        os.pwrite(fd, value, index * len(value))

    def node(self, level: int, index: int) -> bytes:
        return self.read(self.level_name(level), index, _HASH)

    def offset(self, index: int) -> int:
        return int.from_bytes(self.read("offsets.bin", index, _OFFSET), "big")

    def complete_for(self, size: int) -> bool:
        if self.count("offsets.bin", _OFFSET) < size:
            return False
        return all(self.count(self.level_name(k), _HASH) >= size >> k for k in range(size.bit_length()))

    def cut_to(self, size: int) -> None:
        """Drop what an interrupted append wrote beyond ``size`` entries."""
        targets = {"offsets.bin": size * _OFFSET}
        for path in self.directory.glob("level-*.bin"):
            level = int(path.stem.split("-")[1])
            targets[path.name] = (size >> level) * _HASH
        for name, length in targets.items():
            fd = self._fd(name)
            if fd is not None and os.fstat(fd).st_size > length:
                os.ftruncate(fd, length)

    def frontier(self, hasher: merkle.Hasher, size: int) -> merkle.Frontier:
        roots = {k: self.node(k, (size >> k) - 1) for k in range(size.bit_length()) if size >> k & 1}
        return merkle.Frontier(hasher, size, roots)

    def replace(self, levels: list[list[bytes]], offsets: list[int]) -> None:
        self.close()
        self.directory.mkdir(exist_ok=True)
        for path in self.directory.glob("*.bin"):
            path.unlink()
        for level, hashes in enumerate(levels):
            (self.directory / self.level_name(level)).write_bytes(b"".join(hashes))
        (self.directory / "offsets.bin").write_bytes(b"".join(o.to_bytes(_OFFSET, "big") for o in offsets))

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()


@dataclass
class _State:
    size: int
    log_bytes: int
    head: AnyHead | None
    frontier: merkle.Frontier
    stamp: tuple[int, int, int]


class Ledger:
    """An evidence ledger in ``directory``; see the package docstring for the API."""

    def __init__(self, directory: Path | str, key: signing.PrivateKey | None = None):
        self.directory = Path(directory)
        self.key = key
        self._state: _State | None = None
        self._cache: _Cache | None = None
        self._meta: Meta | None = None
        self.discarded: str | None = None  # set when an append cut off an interrupted append

    def close(self) -> None:
        """Release the files an appending ledger keeps open between appends."""
        if self._cache is not None:
            self._cache.close()
        self._cache = None
        self._state = None

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @classmethod
    def for_appending(cls, directory: Path | str, key_source: str | None = None) -> "Ledger":
        """A ledger to append to, its key from ``key_source`` (a PEM path or ``env:NAME``) or
        else from ``$GOVCLOUD_LEDGER_KEY``: what a command given ``--ledger DIR`` calls."""
        source = key_source or os.environ.get(KEY_ENV)
        if not source:
            raise LedgerError(f"appending to {directory} needs the ledger's signing key: --ledger-key FILE or ${KEY_ENV}")
        try:
            key = signing.load_private_key(source)
        except signing.KeyProblem as problem:
            raise LedgerError(str(problem)) from None
        return cls(directory, key)

    # --- creating -----------------------------------------------------------------------
    @classmethod
    def create(cls, directory: Path | str, key: signing.PrivateKey, log_id: str | None = None) -> "Ledger":
        """Start a ledger signed by ``key``: SHA-256 trees for Ed25519, SM3 trees for SM2.
        Safe against a concurrent create: exactly one ``ledger.json`` wins."""
        directory = Path(directory)
        if directory.exists() and not directory.is_dir():
            raise LedgerError(f"{directory}: exists and is not a directory")
        if directory.is_dir() and (directory / META).exists():
            raise LedgerError(f"{directory}: a ledger already exists here")
        if directory.is_dir() and any(p.name not in (LOG, TREE, LOCK) and not p.name.startswith(f".{META}") for p in directory.iterdir()):
            raise LedgerError(f"{directory}: not empty and not a ledger; choose an empty or new directory")
        if log_id is not None and not note_format.valid_name(log_id):
            raise LedgerError(f"origin {log_id!r}: a name without spaces or '+' (e.g. hunan.gov.cn/govcloud/evidence)")
        meta = Meta(
            log_id=log_id or f"govcloud.local/ledger/{uuid.uuid4().hex[:16]}",
            hash=HASH_FOR_SIGNATURE[key.algorithm],
            signature_algorithm=key.algorithm,
            key_id=key.public_key.key_id,
            public_key=key.public_key,
            created=utc_now(),
        )
        (directory / TREE).mkdir(parents=True, exist_ok=True)
        for name in (LOG, LOCK):
            os.close(os.open(directory / name, os.O_WRONLY | os.O_CREAT, 0o644))
        temporary = directory / f".{META}.{os.getpid()}"
        temporary.write_bytes(json.dumps(meta.as_dict(), indent=2, sort_keys=True).encode() + b"\n")
        os.chmod(temporary, 0o644)
        try:
            os.link(temporary, directory / META)
        except FileExistsError:
            pass  # another process created it first; its key must be ours too (checked on open)
        finally:
            temporary.unlink()
        _fsync_directory(directory)
        return cls(directory, key)

    # --- appending ------------------------------------------------------------------------
    def append(
        self,
        kind: str,
        subject: dict[str, str],
        evidence_path: Path | str,
        actor: str,
        summary: str,
        *,
        details: dict[str, Any] | None = None,
        time: str | None = None,
    ) -> Receipt:
        """Record one piece of evidence; returns its index and the new signed tree head."""
        return self.append_many([Record(kind, subject, Path(evidence_path), actor, summary, details, time)])[0]

    def append_many(self, records: Iterable[Record]) -> list[Receipt]:
        """Append several entries under one lock and one fsync, with one tree head at the end."""
        if self.key is None:
            raise LedgerError("appending needs the ledger's private signing key")
        records = list(records)
        if not records:
            return []
        if not (self.directory / META).exists():
            try:
                Ledger.create(self.directory, self.key)
            except LedgerError:
                if not (self.directory / META).exists():
                    raise
                # else another process created it a moment ago: append to it
        if self._meta is None:
            self._meta = load_meta(self.directory)  # written once at creation: read it once
        meta = self._meta
        if meta.format == LEDGER_FORMAT_V1:
            raise LedgerError(f"{self.directory}: a format 1 ledger (JSON tree heads); run `govcloud ledger migrate --ledger "
                              f"{self.directory} --ledger-key KEY` once to continue it with C2SP checkpoints")
        if meta.key_id != self.key.public_key.key_id:
            raise LedgerError(
                f"{self.directory}: wrong key: this ledger's tree heads are signed by {meta.key_id}, the key given is {self.key.public_key.key_id}"
            )
        entries = [self._entry(record, meta.hash) for record in records]
        hasher = merkle.Hasher(meta.hash)
        with self.locked(exclusive=True), _open_log(self.directory, writable=True) as log_fd:
            if self._cache is None:
                self._cache = _Cache(self.directory, writable=True)
            cache = self._cache
            try:
                state = self._recover(meta, hasher, log_fd, cache)
                receipts, chunks, position = [], [], state.log_bytes
                for number, entry in enumerate(entries):
                    index = state.size
                    entry["index"] = index
                    leaf_hash = hasher.leaf(meta.leaf_bytes(index, entry))
                    for level, node_index, node in state.frontier.append(leaf_hash):
                        cache.write(_Cache.level_name(level), node_index, node)
                    cache.write("offsets.bin", index, position.to_bytes(_OFFSET, "big"))
                    record: dict[str, Any] = {"entry": entry}
                    head = None
                    if number == len(entries) - 1:
                        head = SignedCheckpoint.sign(self.key, meta.log_id, meta.hash, index + 1, state.frontier.root())
                        record["checkpoint"] = head.text()
                    line = meta.line_bytes(index, record) + b"\n"
                    chunks.append(line)
                    position += len(line)
                    state.size += 1
                    receipts.append((index, leaf_hash, head))
                _write_all(log_fd, b"".join(chunks))
                os.fsync(log_fd)
            except BaseException:
                self.close()  # whatever was half-written is cut off by the next recovery
                raise
            assert head is not None
            state.log_bytes, state.head = position, head
            state.stamp = _stamp(log_fd)
            self._state = state
        return [Receipt(index, leaf, head) for index, leaf, _ in receipts]

    def _entry(self, record: Record, hash_algorithm: str) -> dict[str, Any]:
        path = Path(record.evidence_path)
        if not path.is_file():
            raise LedgerError(f"{path}: evidence file not found")
        entry: dict[str, Any] = {
            "index": 0,
            "kind": record.kind,
            "subject": dict(record.subject),
            "actor": record.actor,
            "time": record.time or utc_now(),
            "summary": record.summary,
            "evidence": {"path": path.as_posix(), **file_digests(path, hash_algorithm)},
        }
        if record.details is not None:
            entry["details"] = record.details
        problems = entry_problems(entry)
        if not problems and len(canonical(entry)) > MAX_ENTRY_BYTES:
            problems = [f"the entry is larger than {MAX_ENTRY_BYTES} bytes; keep details small and put the rest in the evidence file"]
        if problems:
            raise LedgerError("cannot append: " + "; ".join(problems))
        return entry

    def _recover(self, meta: Meta, hasher: merkle.Hasher, log_fd: int, cache: _Cache) -> _State:
        """The committed state, after cutting off whatever an interrupted append left."""
        stamp = _stamp(log_fd)
        if self._state is not None and self._state.stamp == stamp and cache.complete_for(self._state.size):
            return self._state  # nobody appended since our last append: no need to re-read
        cache.close()  # reopen by name: another process may have rebuilt the files
        where = str(self.directory / LOG)
        size_on_disk = os.fstat(log_fd).st_size
        tail = scan_tail(log_fd, size_on_disk, where, meta)
        if tail.committed_bytes < size_on_disk:
            os.ftruncate(log_fd, tail.committed_bytes)
            os.fsync(log_fd)
            self.discarded = (
                f"discarded what an interrupted append left after entry {tail.head.size - 1 if tail.head else -1}: "
                f"{plural(tail.uncommitted_lines, 'uncommitted line')}, {plural(tail.partial_bytes, 'byte')} of an incomplete line"
            )
        head = tail.head
        size = head.size if head else 0
        if head is not None:
            self._check_own_head(head, meta, where)
        cache.cut_to(size)
        frontier = None
        if cache.complete_for(size):
            frontier = cache.frontier(hasher, size)
            if head is not None and frontier.root() != head.root:
                frontier = None
        if frontier is None:
            frontier = self._rebuild(meta, hasher, log_fd, tail.committed_bytes, cache, where)
            if frontier.size != size or (head is not None and frontier.root() != head.root):
                raise LedgerIntegrityError(
                    f"{where}: the entries no longer hash to the last signed tree head (size {size}); run `govcloud ledger verify`"
                )
        return _State(size, tail.committed_bytes, head, frontier, _stamp(log_fd))

    def _check_own_head(self, head: AnyHead, meta: Meta, where: str) -> None:
        if head.log_id != meta.log_id or head.hash != meta.hash or not head.signed_by({meta.key_id: meta.public_key}):
            raise LedgerIntegrityError(f"{where}: the last tree head is not signed by this ledger's key; run `govcloud ledger verify`")

    @staticmethod
    def _rebuild(meta: Meta, hasher: merkle.Hasher, log_fd: int, committed_bytes: int, cache: _Cache, where: str) -> merkle.Frontier:
        leaves, offsets = _leaf_hashes(meta, hasher, log_fd, committed_bytes, where)
        cache.replace(merkle.build_levels(hasher, leaves), offsets)
        frontier = merkle.Frontier(hasher)
        for leaf in leaves:
            frontier.append(leaf)
        return frontier

    # --- format 1 -> 2 ---------------------------------------------------------------------
    def migrate(self) -> Receipt:
        """Continue a format 1 ledger in format 2: its lines stay as they are (``v1_entries``),
        ``ledger.json`` says so, and an entry of kind ``migration`` records it, pointing at
        ``migrations/format-1-to-2.json`` (the old description and its last tree head). The
        Merkle tree is the same tree: heads saved before prove consistency with checkpoints after."""
        if self.key is None:
            raise LedgerError("migrating needs the ledger's private signing key")
        meta = load_meta(self.directory)
        if meta.format != LEDGER_FORMAT_V1:
            raise LedgerError(f"{self.directory}: already in {LEDGER_FORMAT}")
        if meta.key_id != self.key.public_key.key_id:
            raise LedgerError(f"{self.directory}: wrong key: this ledger is signed by {meta.key_id}, not {self.key.public_key.key_id}")
        if not note_format.valid_name(meta.log_id):
            raise LedgerError(f"{self.directory}: log id {meta.log_id!r} cannot be a checkpoint origin (spaces or '+')")
        hasher = merkle.Hasher(meta.hash)
        record_path = self.directory / "migrations" / "format-1-to-2.json"
        with self.locked(exclusive=True), _open_log(self.directory, writable=True) as log_fd:
            cache = _Cache(self.directory, writable=True)
            try:
                state = self._recover(meta, hasher, log_fd, cache)
            finally:
                cache.close()
            upgraded = Meta(meta.log_id, meta.hash, meta.signature_algorithm, meta.key_id, meta.public_key, meta.created,
                            LEDGER_FORMAT, state.size)
            record_path.parent.mkdir(exist_ok=True)
            record = {"from": meta.as_dict(), "to": upgraded.as_dict(), "v1_entries": state.size, "migrated_at": utc_now(),
                      "last_v1_tree_head": state.head.as_dict() if state.head else None}
            _write_durably(record_path, json.dumps(record, indent=2, sort_keys=True).encode() + b"\n")
            _write_durably(self.directory / META, json.dumps(upgraded.as_dict(), indent=2, sort_keys=True).encode() + b"\n")
        self.close()
        self._meta = None
        return self.append("migration", {"env": "ledger"}, record_path, actor="govcloud",
                           summary=f"ledger format 1 -> 2: entries 0..{state.size - 1} keep their format 1 lines and tree heads; "
                                   f"from entry {state.size} on RFC 8785 entries and C2SP checkpoints",
                           details={"v1_entries": state.size})

    # --- witnesses' cosignatures --------------------------------------------------------------
    def cosigned(self) -> list[SignedCheckpoint]:
        """The checkpoints witnesses cosigned, smallest first (cosignatures not checked here)."""
        meta = load_meta(self.directory)
        found = []
        for path in sorted((self.directory / COSIGNED).glob("*.note")):
            try:
                found.append(SignedCheckpoint.from_note(path.read_bytes(), meta.hash, str(path)))
            except (OSError, LedgerError):
                continue  # a damaged file counts as no cosignature; verify reports the quorum missing
        return sorted(found, key=lambda c: c.size)

    def add_cosignatures(self, checkpoint: SignedCheckpoint, signatures: list[note_format.Signature]) -> SignedCheckpoint:
        """Keep ``signatures`` (checked by the caller against the witnesses' keys) with the log's
        checkpoint of that size; a checkpoint whose cosigners all cosigned a larger one goes."""
        meta = load_meta(self.directory)
        directory = self.directory / COSIGNED
        with self.locked(exclusive=True):
            with _open_log(self.directory) as log_fd:
                view = _ReadView(self.directory, meta, merkle.Hasher(meta.hash), log_fd, use_cache=True)
                try:
                    own = view.head_at(checkpoint.size)
                finally:
                    view.close()
            if not isinstance(own, SignedCheckpoint) or own.parsed().text != checkpoint.parsed().text:
                raise LedgerIntegrityError(f"the checkpoint of size {checkpoint.size} is not the one this log signed")
            directory.mkdir(exist_ok=True)
            path = directory / f"{checkpoint.size:020d}.note"
            current = own.parsed()
            if path.exists():
                try:
                    current = note_format.parse_note(path.read_bytes())
                except (OSError, note_format.NoteError):
                    pass
            merged = own.with_note(current.with_signatures(signatures))
            _write_durably(path, merged.note)
            signers = {s.name for s in merged.parsed().signatures if s.name != meta.log_id}
            for older in directory.glob("*.note"):
                if older.name < path.name:
                    try:
                        names = {s.name for s in note_format.parse_note(older.read_bytes()).signatures if s.name != meta.log_id}
                    except (OSError, note_format.NoteError):
                        continue
                    if names <= signers:
                        older.unlink()
        return merged

    def witness_request(self, old_size: int, checkpoint: SignedCheckpoint | None = None) -> bytes:
        """A tlog-witness add-checkpoint request: ``old_size``, the consistency proof from it
        to ``checkpoint`` (default: the latest), a blank line, the checkpoint."""
        from .witness import make_request

        def make(view: _ReadView) -> dict[str, Any] | None:
            head = checkpoint or view.head_at(None)
            if not isinstance(head, SignedCheckpoint):
                raise LedgerError(f"{self.directory}: the tree head of size {head.size} is not a checkpoint (format 1)")
            if not 0 <= old_size <= head.size:
                raise LedgerError(f"no consistency proof from size {old_size} to size {head.size}")
            proof = merkle.consistency_proof(view.subtree, old_size, head.size) if 0 < old_size < head.size else []
            if old_size and not merkle.verify_consistency(view.hasher, old_size, head.size, view.subtree(0, old_size), head.root, proof):
                return None
            body = note_format.Note(head.parsed().text, tuple(s for s in head.parsed().signatures if s.name == head.log_id))
            return {"request": make_request(old_size, proof, body.to_bytes())}

        return self._read(make, f"the log does not prove consistency from size {old_size}")["request"]

    # --- reading --------------------------------------------------------------------------
    def meta(self) -> Meta:
        return load_meta(self.directory)

    def head(self) -> AnyHead:
        """The latest signed tree head (a checkpoint in format 2)."""
        meta = load_meta(self.directory)
        with self.locked(exclusive=False), _open_log(self.directory) as log_fd:
            head = scan_tail(log_fd, os.fstat(log_fd).st_size, str(self.directory / LOG), meta).head
        if head is None:
            raise LedgerError(f"{self.directory}: the ledger is empty (no signed tree head yet)")
        if head.log_id != meta.log_id:
            raise LedgerIntegrityError(f"{self.directory / LOG}: the last tree head belongs to another log ({head.log_id})")
        return head

    def entries(self) -> Iterator[dict[str, Any]]:
        """Every committed entry, in order (entries of an interrupted append are left out)."""
        meta = load_meta(self.directory)
        with self.locked(exclusive=False), _open_log(self.directory) as log_fd:
            tail = scan_tail(log_fd, os.fstat(log_fd).st_size, str(self.directory / LOG), meta)
            for _, line in _lines(log_fd, tail.committed_bytes):
                yield _parse_line(line, str(self.directory / LOG))["entry"]

    def prove(self, index: int, size: int | None = None) -> dict[str, Any]:
        """An inclusion proof of entry ``index`` against the signed head of ``size`` entries
        (default: the largest checkpoint witnesses cosigned that holds the entry, with its
        cosignatures, else the latest), checkable offline with ``check_inclusion``."""
        cosigned = self._cosigned_covering(index + 1) if size is None else None
        if cosigned is not None:
            size = cosigned.size

        def make(view: _ReadView) -> dict[str, Any] | None:
            head = view.head_at(size)
            if not 0 <= index < head.size:
                raise LedgerError(f"entry {index} is not in the tree of size {head.size} (entries 0..{head.size - 1})")
            entry = view.entry(index)
            path = merkle.inclusion_path(view.subtree, index, head.size)
            if not merkle.verify_inclusion(view.hasher, view.hasher.leaf(view.meta.leaf_bytes(index, entry)), index, head.size, path, head.root):
                return None
            return {
                "format": INCLUSION_FORMAT,
                "leaf_index": index,
                "entry": entry,
                "audit_path": [h.hex() for h in path],
                "tree_head": _with_cosignatures(head, cosigned).as_dict(),
            }

        return self._read(make, f"entry {index} does not prove against its signed tree head")

    def _cosigned_covering(self, size: int) -> SignedCheckpoint | None:
        found = [c for c in self.cosigned() if c.size >= size]
        return found[-1] if found else None

    def consistency(self, old: AnyHead) -> dict[str, Any]:
        """A consistency proof from ``old`` (a head an auditor saved) to the latest head."""
        meta = load_meta(self.directory)
        if old.log_id != meta.log_id or old.hash != meta.hash:
            raise LedgerError(f"the saved tree head belongs to log {old.log_id} ({old.hash}), not to {meta.log_id} ({meta.hash})")

        cosigned = self._cosigned_covering(max(old.size, 1))

        def make(view: _ReadView) -> dict[str, Any] | None:
            new = _with_cosignatures(view.head_at(cosigned.size if cosigned else None), cosigned)
            if old.size > new.size:
                raise LedgerIntegrityError(
                    f"the log holds {new.size} entries, fewer than the {old.size} of the saved tree head: it was truncated or rolled back"
                )
            proof = merkle.consistency_proof(view.subtree, old.size, new.size) if 0 < old.size < new.size else []
            if not merkle.verify_consistency(view.hasher, old.size, new.size, old.root, new.root, proof):
                return None
            return {"format": CONSISTENCY_FORMAT, "old_head": old.as_dict(), "new_head": new.as_dict(), "proof": [h.hex() for h in proof]}

        return self._read(make, f"the log is not consistent with the saved tree head of size {old.size}: the first {old.size} entries were changed")

    def _read(self, make, failure: str) -> dict[str, Any]:
        """Run ``make`` on the cache; when its result does not check out, once more on the log
        itself (the cache may be damaged); if that fails too, the log is at fault."""
        meta = load_meta(self.directory)
        hasher = merkle.Hasher(meta.hash)
        with self.locked(exclusive=False), _open_log(self.directory) as log_fd:
            for use_cache in (True, False):
                view = _ReadView(self.directory, meta, hasher, log_fd, use_cache)
                try:
                    result = make(view)
                finally:
                    view.close()
                if result is not None:
                    return result
        raise LedgerIntegrityError(f"{failure}; run `govcloud ledger verify`")

    @contextlib.contextmanager
    def locked(self, exclusive: bool) -> Iterator[None]:
        path = self.directory / LOCK
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644) if exclusive else os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            if exclusive:
                raise LedgerError(f"{self.directory}: no such ledger directory") from None
            yield  # a read-only copy without its lock file: nobody appends to it
            return
        except PermissionError:
            if exclusive:
                raise LedgerError(f"{path}: cannot open the lock file for writing (read-only ledger?)") from None
            yield
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)  # closing releases the lock


def _with_cosignatures(head: AnyHead, cosigned: SignedCheckpoint | None) -> AnyHead:
    """The log's own checkpoint, with the cosignatures kept for it when they are for exactly it."""
    if cosigned is None or not isinstance(head, SignedCheckpoint) or cosigned.size != head.size or cosigned.root != head.root:
        return head
    return cosigned


class _ReadView:
    """Reads for proofs: heads, entries and subtree hashes from the cache when it matches the
    signed head, from the log itself otherwise (a reader never repairs the cache)."""

    def __init__(self, directory: Path, meta: Meta, hasher: merkle.Hasher, log_fd: int, use_cache: bool = True):
        self.where = str(directory / LOG)
        self.meta, self.hasher, self.log_fd = meta, hasher, log_fd
        self.tail = scan_tail(log_fd, os.fstat(log_fd).st_size, self.where, meta)
        if self.tail.head is None:
            raise LedgerError(f"{directory}: the ledger is empty (no signed tree head yet)")
        self.cache = _Cache(directory, writable=False)
        size = self.tail.head.size
        usable = use_cache and self.cache.complete_for(size) and self.cache.frontier(hasher, size).root() == self.tail.head.root
        if usable:
            self.subtree = merkle.subtree_from(hasher, self.cache.node)
            self._offset = self.cache.offset
        else:
            leaves, offsets = _leaf_hashes(meta, hasher, log_fd, self.tail.committed_bytes, self.where)
            self.subtree = merkle.memory_subtree(hasher, leaves)
            self._offset = offsets.__getitem__  # type: ignore[assignment]  # list[int]: int -> int

    def line(self, index: int) -> dict[str, Any]:
        start = self._offset(index)
        data = os.pread(self.log_fd, 2 * MAX_ENTRY_BYTES + 4096, start)
        record = _parse_line(data.split(b"\n", 1)[0], self.where)
        if record["entry"].get("index") != index:
            raise LedgerIntegrityError(f"{self.where}: the line of entry {index} records index {record['entry'].get('index')}; run `govcloud ledger verify`")
        return record

    def entry(self, index: int) -> dict[str, Any]:
        return self.line(index)["entry"]

    def head_at(self, size: int | None) -> AnyHead:
        head: AnyHead | None
        latest = self.tail.head
        assert latest is not None
        if size is None or size == latest.size:
            head = latest
        else:
            if not 0 < size < latest.size:
                raise LedgerError(f"no tree head of size {size}: the log holds {latest.size} entries")
            head = self.meta.head_of(self.line(size - 1), f"{self.where}: tree head of size {size}")
            if head is None:
                raise LedgerError(f"no tree head of size {size}: entry {size - 1} was appended in a batch that ended later")
        if head.log_id != self.meta.log_id or head.hash != self.meta.hash or head.size != (size or latest.size):
            raise LedgerIntegrityError(f"{self.where}: the tree head of size {size or latest.size} does not belong to this log; run `govcloud ledger verify`")
        return head

    def close(self) -> None:
        self.cache.close()


def _lines(fd: int, end: int, block: int = 1 << 20) -> Iterator[tuple[int, bytes]]:
    """(offset, line without newline) of every complete line in the first ``end`` bytes."""
    position, pending, pending_start = 0, b"", 0
    while position < end:
        data = os.pread(fd, min(block, end - position), position)
        if not data:
            break
        position += len(data)
        pending += data
        start = 0
        while True:
            newline = pending.find(b"\n", start)
            if newline < 0:
                break
            yield pending_start + start, pending[start:newline]
            start = newline + 1
        pending_start += start
        pending = pending[start:]


def _leaf_hashes(meta: Meta, hasher: merkle.Hasher, fd: int, end: int, where: str) -> tuple[list[bytes], list[int]]:
    leaves: list[bytes] = []
    offsets: list[int] = []
    for offset, line in _lines(fd, end):
        leaves.append(hasher.leaf(meta.leaf_bytes(len(leaves), _parse_line(line, where)["entry"])))
        offsets.append(offset)
    return leaves, offsets


@contextlib.contextmanager
def _open_log(directory: Path, writable: bool = False) -> Iterator[int]:
    path = directory / LOG
    if not (directory / META).is_file():
        load_meta(directory)  # raises the clear error
    try:
        fd = os.open(path, os.O_RDWR | os.O_APPEND if writable else os.O_RDONLY)
    except FileNotFoundError:
        raise LedgerError(f"{path}: the ledger's log is missing") from None
    except OSError as exc:
        raise LedgerError(f"{path}: cannot open ({exc.strerror})") from None
    try:
        yield fd
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _stamp(fd: int) -> tuple[int, int, int]:
    status = os.fstat(fd)
    return (status.st_ino, status.st_size, status.st_mtime_ns)


def _write_durably(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that a crash leaves the old or the new file, never a mix."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        _write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, path)
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
