"""Witnesses: bureaus that cosign a ledger's checkpoints after checking it only grew.

A witness (a city or county big data bureau, the provincial audit office) holds its own key and
its own state: for each log it witnesses, the last checkpoint it cosigned. It follows the
``add-checkpoint`` exchange of C2SP tlog-witness, with files instead of HTTP:

- the **request** is ``old <size>\\n``, the consistency proof from that size (one base64 hash a
  line), a blank line, then the checkpoint (``Ledger.witness_request``);
- the witness checks the log's signature against the key it was given for that origin, that
  ``old`` is the size it last cosigned (else a *conflict* naming its size), that the proof
  shows the new tree extends the old one (else *unprocessable*: a fork), that the tree is not
  smaller (*bad request*) and, for the same size, that the root is the same (*conflict*: a fork);
- the **response** is its cosignature line(s) (C2SP tlog-cosignature), which the log keeps
  with the checkpoint (``Ledger.add_cosignatures``).

Checking ``old`` and recording the new checkpoint happen under an exclusive lock of the log's
state file, and the state is replaced durably (write, fsync, rename, fsync the directory)
before the cosignature is returned: two requests for the same log never interleave, and a crash
leaves the old or the new state. A witness whose state was rolled back (restored from an old
copy) answers a conflict with a size smaller than one it cosigned before: the log, which holds
that cosignature, says so (``WitnessRolledBack``).
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import note as note_format
from .. import signing
from . import merkle
from .records import HASH_FOR_SIGNATURE, LedgerError, SignedCheckpoint

MAX_PROOF_LINES = 63
STATE_FORMAT = "govcloud-witness-state/1"


class WitnessRefusal(Exception):
    """The witness does not cosign; ``status`` is the tlog-witness HTTP status it stands for
    (404 unknown log, 403 bad signature, 400 smaller tree / bad request, 409 conflict, 422 the
    proof does not verify) and ``size`` the witness's own size on a conflict."""

    def __init__(self, status: int, reason: str, size: int | None = None):
        super().__init__(reason)
        self.status, self.reason, self.size = status, reason, size


class WitnessRolledBack(LedgerError):
    """A witness reports a smaller tree than one it cosigned before."""

    exit_code = 1


@dataclass(frozen=True)
class WitnessPolicy:
    """Which cosignatures a checkpoint needs: ``quorum`` of ``witnesses`` (cosigner keys)."""

    witnesses: tuple[note_format.NoteKey, ...]
    quorum: int

    def cosigners(self, checkpoint: SignedCheckpoint) -> list[str]:
        good, _ = note_format.verify(checkpoint.parsed(), list(self.witnesses))
        return sorted({v.key.name for v in good})

    def accepts(self, checkpoint: SignedCheckpoint, trusted: dict[str, signing.PublicKey] | None) -> bool:
        """The log's own signature (with a key of ``trusted``; None: not checked here) and a quorum of cosignatures."""
        if trusted is not None and not checkpoint.signed_by(trusted):
            return False
        return len(self.cosigners(checkpoint)) >= self.quorum


# --- the request and the response -----------------------------------------------------------------
def make_request(old_size: int, proof: list[bytes], checkpoint: bytes) -> bytes:
    lines = [f"old {old_size}"] + [base64.b64encode(h).decode() for h in proof]
    return ("\n".join(lines) + "\n\n").encode() + checkpoint


def parse_request(data: bytes) -> tuple[int, list[bytes], bytes]:
    head, sep, checkpoint = data.partition(b"\n\n")
    if not sep:
        raise WitnessRefusal(400, "the request needs an 'old' line, the proof, a blank line and the checkpoint")
    lines = head.decode("utf-8", "replace").split("\n")
    first = lines[0]
    if not first.startswith("old ") or not note_format._SIZE.match(first[4:]):
        raise WitnessRefusal(400, "the request must start with 'old <size>' (decimal, no leading zeros)")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise WitnessRefusal(400, f"more than {MAX_PROOF_LINES} consistency proof lines")
    proof = []
    for line in lines[1:]:
        digest = signing.unb64(line)
        if len(digest) != merkle.DIGEST_SIZE:
            raise WitnessRefusal(400, f"consistency proof line {line[:60]!r}: not a base64 hash")
        proof.append(digest)
    return int(first[4:]), proof, checkpoint


# --- the witness -----------------------------------------------------------------------------------
class Witness:
    """A witness named ``name`` (its cosignature key name) with ``key``, its state in
    ``state_dir``, witnessing the logs of ``logs`` (origin -> the log's public key)."""

    def __init__(self, state_dir: Path | str, name: str, key: signing.PrivateKey, logs: dict[str, signing.PublicKey],
                 clock: Callable[[], float] = time.time):
        self.state_dir = Path(state_dir)
        self.name, self.key, self.logs, self.clock = name, key, dict(logs), clock
        self.note_key = note_format.NoteKey(name, key.public_key, cosigner=True)

    @property
    def vkey(self) -> str:
        return self.note_key.vkey

    def _paths(self, origin: str) -> tuple[Path, Path]:
        stem = hashlib.sha256(origin.encode()).hexdigest()[:32]
        return self.state_dir / f"{stem}.json", self.state_dir / f"{stem}.lock"

    def state(self, origin: str) -> dict[str, Any] | None:
        """What the witness last cosigned for ``origin`` (None: never)."""
        path, _ = self._paths(origin)
        try:
            data = json.loads(path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise LedgerError(f"{path}: the witness state is unreadable ({exc}); restore it from the log's cosignatures") from None
        if not isinstance(data, dict) or data.get("format") != STATE_FORMAT or data.get("origin") != origin:
            raise LedgerError(f"{path}: not this witness's state for {origin}")
        return data

    @contextlib.contextmanager
    def _locked(self, origin: str) -> Iterator[None]:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        _, lock = self._paths(origin)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def add_checkpoint(self, request: bytes) -> bytes:
        """Check a request and return the cosignature line; raises WitnessRefusal with the reason."""
        old, proof, checkpoint_bytes = parse_request(request)
        try:
            parsed = note_format.parse_note(checkpoint_bytes)
            checkpoint = note_format.parse_checkpoint(parsed.text)
        except note_format.NoteError as problem:
            raise WitnessRefusal(400, f"not a checkpoint: {problem}") from None
        log_key = self.logs.get(checkpoint.origin)
        if log_key is None:
            raise WitnessRefusal(404, f"unknown log {checkpoint.origin!r}: this witness does not witness it")
        good, bad = note_format.verify(parsed, [note_format.NoteKey(checkpoint.origin, log_key)])
        if not good or bad:
            raise WitnessRefusal(403, f"the checkpoint of size {checkpoint.size} is not signed by the key of {checkpoint.origin}")
        if old > checkpoint.size:
            raise WitnessRefusal(400, f"a smaller tree: the checkpoint has size {checkpoint.size}, below the size {old} "
                                      "it claims to extend (a rollback)")
        hasher = merkle.Hasher(HASH_FOR_SIGNATURE[log_key.algorithm])
        with self._locked(checkpoint.origin):
            state = self.state(checkpoint.origin)
            size = state["size"] if state else 0
            if old != size:
                detail = (f"a smaller tree: it already cosigned size {size}" if checkpoint.size < size else
                          f"it last cosigned size {size}, not {old}")
                raise WitnessRefusal(409, f"conflict: {detail}", size)
            root = base64.b64decode(state["root"]) if state else b""
            if old == checkpoint.size and state is not None:
                if root != checkpoint.root:
                    raise WitnessRefusal(409, f"a fork: another tree of the same size {size} with a different root was cosigned", size)
                if proof:
                    raise WitnessRefusal(422, "the proof must be empty between checkpoints of the same size")
            elif old == 0:
                if proof:
                    raise WitnessRefusal(422, "the proof must be empty from size 0")
            elif not merkle.verify_consistency(hasher, old, checkpoint.size, root, checkpoint.root, proof):
                raise WitnessRefusal(422, f"the consistency proof from size {old} to {checkpoint.size} does not verify: "
                                          "the checkpoint is not an extension of what this witness cosigned (a fork)")
            timestamp = int(self.clock())
            line = note_format.sign(parsed.text, self.name, self.key, cosign_at=timestamp)
            self._save(checkpoint.origin, {"format": STATE_FORMAT, "origin": checkpoint.origin, "size": checkpoint.size,
                                           "root": base64.b64encode(checkpoint.root).decode(),
                                           "checkpoint": parsed.text.decode("utf-8"), "cosigned_at": timestamp})
        return line.line().encode()

    def _save(self, origin: str, state: dict[str, Any]) -> None:
        from .store import _write_durably

        path, _ = self._paths(origin)
        _write_durably(path, json.dumps(state, indent=2, sort_keys=True).encode() + b"\n")


# --- the log's side --------------------------------------------------------------------------------
def parse_response(data: bytes, witness: note_format.NoteKey, checkpoint: SignedCheckpoint) -> list[note_format.Signature]:
    """The cosignatures of ``witness`` in a response, each checked; raises LedgerError otherwise."""
    lines = data.decode("utf-8", "replace").splitlines(keepends=True)
    if not lines or any(not line.startswith("\u2014 ") for line in lines):
        raise LedgerError(f"the response of {witness.name} is not cosignature lines")
    try:
        signatures = note_format.parse_note(checkpoint.parsed().text + b"\n" + data).signatures
    except note_format.NoteError as problem:
        raise LedgerError(f"the response of {witness.name}: {problem}") from None
    note = note_format.Note(checkpoint.parsed().text, signatures)
    good, bad = note_format.verify(note, [witness])
    if bad or not good:
        raise LedgerError(f"the cosignature of {witness.name} does not verify with its key")
    return [s for s in signatures if (s.name, s.key_id) == (witness.name, witness.key_id)]


def cosigned_size(ledger, witness: note_format.NoteKey) -> int:
    """The largest size ``witness`` has cosigned according to the log's own records."""
    for checkpoint in reversed(ledger.cosigned()):
        good, _ = note_format.verify(checkpoint.parsed(), [witness])
        if good:
            return checkpoint.size
    return 0


def witness_latest(ledger, witness: note_format.NoteKey, submit: Callable[[bytes], bytes]) -> SignedCheckpoint:
    """Have ``witness`` cosign the ledger's latest checkpoint through ``submit`` (the witness's
    add-checkpoint), starting from the size the log knows it cosigned; keep the cosignature."""
    head = ledger.head()
    if not isinstance(head, SignedCheckpoint):
        raise LedgerError(f"{ledger.directory}: the latest tree head is not a checkpoint; run `govcloud ledger migrate`")
    known = cosigned_size(ledger, witness)
    old = known
    for _ in range(3):
        try:
            response = submit(ledger.witness_request(old, head))
            break
        except WitnessRefusal as refusal:
            if refusal.status != 409 or refusal.size is None:
                raise
            if refusal.size < known:
                raise WitnessRolledBack(f"witness {witness.name} reports size {refusal.size}, but it cosigned size {known} "
                                        "of this log before: its state was rolled back") from None
            if refusal.size > head.size:
                raise
            old = refusal.size  # it moved on (another submission): ask again from where it is
    else:
        raise LedgerError(f"witness {witness.name} kept answering conflicts")
    return ledger.add_cosignatures(head, parse_response(response, witness, head))


# --- from the model --------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelLedger:
    """What the model says about one ledger: its key and who must cosign."""

    origin: str
    log_key: note_format.NoteKey
    policy: WitnessPolicy
    witness_ids: dict[str, str]  # witness key name -> witness id in the model

    @property
    def trusted(self) -> dict[str, signing.PublicKey]:
        return {self.log_key.public.key_id: self.log_key.public}


def model_ledger(env, origin: str) -> ModelLedger:
    """The ``evidence.ledgers`` entry of ``env`` (a loaded, validated Environment) for ``origin``."""
    evidence = env.platform.evidence
    for ledger in evidence.ledgers:
        if ledger.origin == origin:
            witnesses = {w.id: w for w in evidence.witnesses}
            keys = [note_format.parse_vkey(witnesses[w].key, cosigner=True) for w in ledger.witnesses]
            return ModelLedger(origin, note_format.parse_vkey(ledger.key, cosigner=False), WitnessPolicy(tuple(keys), ledger.quorum),
                               {k.name: w for k, w in zip(keys, ledger.witnesses, strict=True)})
    known = ", ".join(sorted(entry.origin for entry in evidence.ledgers)) or "none"
    raise LedgerError(f"environment {env.name}: no evidence.ledgers entry for origin {origin} (known: {known})")


def model_witness(env, witness_id: str) -> tuple[str, dict[str, signing.PublicKey]]:
    """The key name of witness ``witness_id`` and the logs it witnesses (origin -> log key)."""
    evidence = env.platform.evidence
    found = [w for w in evidence.witnesses if w.id == witness_id]
    if not found:
        known = ", ".join(sorted(w.id for w in evidence.witnesses)) or "none"
        raise LedgerError(f"environment {env.name}: no witness {witness_id} in evidence.witnesses (known: {known})")
    name = note_format.parse_vkey(found[0].key, cosigner=True).name
    logs = {entry.origin: note_format.parse_vkey(entry.key, cosigner=False).public for entry in evidence.ledgers if witness_id in entry.witnesses}
    return name, logs
