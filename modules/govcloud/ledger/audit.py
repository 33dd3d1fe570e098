"""What an auditor runs: the full verification of a ledger and the offline proof checks.

``verify_ledger`` reads the log once (linear time) and trusts nothing derived: it recomputes
every leaf hash and the root at every signed tree head, checks every signature against keys
the auditor trusts, and names the entry at fault:
- an edited entry: the first tree head whose root no longer matches was signed over the entry
  just before it (every append signs a head), so that entry changed;
- a reordered, inserted or removed entry: its line records another index than its position,
  and the roots stop matching at that position;
- a truncated log: fewer entries than a signed tree head covers, or (when the last lines were
  cut together with their heads) fewer than a tree head the auditor saved (``since``);
- a bad signature, a head of another log or hash, a head that does not follow its entry.
A last line cut short or entries after the last head are what an interrupted append leaves;
they were never committed, are reported as notes, and do not fail verification.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import signing
from ..canonical import JsonProblem, load_json
from ..text import plural
from . import merkle
from .records import (
    CONSISTENCY_FORMAT,
    INCLUSION_FORMAT,
    AnyHead,
    LedgerError,
    SignedCheckpoint,
    TreeHead,
    entry_problems,
    file_digests,
    head_from_dict,
    hex_list,
)
from .store import LOG, Ledger, Meta, _lines, load_meta
from .witness import WitnessPolicy

MAX_LISTED = 1000


@dataclass
class Finding:
    """One problem: ``entry`` is the index (position in the log) it concerns, when there is one."""

    message: str
    entry: int | None = None
    line: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"entry": self.entry, "line": self.line, "message": self.message}


@dataclass
class Report:
    log_id: str = ""
    hash: str = ""
    size: int = 0
    heads: int = 0
    head: AnyHead | None = None
    witnessed: dict[str, Any] | None = None  # the checkpoint with a quorum of cosignatures, when witnesses are required
    problems: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unlisted: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems and not self.unlisted

    def problem(self, message: str, entry: int | None = None, line: int | None = None) -> None:
        if len(self.problems) < MAX_LISTED:
            self.problems.append(Finding(message, entry, line))
        else:
            self.unlisted += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "log_id": self.log_id,
            "hash": self.hash,
            "size": self.size,
            "tree_heads": self.heads,
            "tree_head": self.head.as_dict() if self.head else None,
            "witnessed": self.witnessed,
            "problems": [p.as_dict() for p in self.problems],
            "problems_not_listed": self.unlisted,
            "notes": self.notes,
        }


def verify_ledger(
    directory: Path,
    trusted: dict[str, signing.PublicKey] | None = None,
    since: AnyHead | None = None,
    evidence_root: Path | None = None,
    witnesses: WitnessPolicy | None = None,
) -> Report:
    """Check everything; ``trusted`` None means the ledger's own key (noted in the report).
    With ``witnesses``, the log must also have a checkpoint carrying its own signature and a
    quorum of valid cosignatures, whose root is the log's root at that size."""
    meta = load_meta(directory)
    report = Report(log_id=meta.log_id, hash=meta.hash)
    if trusted is None:
        trusted = {meta.key_id: meta.public_key}
        report.notes.append(
            f"signatures checked against the public key stored in the ledger ({meta.key_id}); "
            "pass --key or --trusted-keys to check them against a key you hold"
        )
    elif meta.key_id not in trusted:
        raise LedgerError(f"{directory}: wrong key: this ledger is signed by {meta.key_id}, not by {', '.join(sorted(trusted)) or 'any key given'}")
    if since is not None:
        _check_saved_head(since, meta, trusted)
    with Ledger(directory).locked(exclusive=False):  # a consistent view: no append half-way through
        candidates = []
        if witnesses is not None:
            candidates = [c for c in Ledger(directory).cosigned() if witnesses.accepts(c, trusted)]
        verifier = _Verifier(directory, meta, trusted, since, evidence_root, report)
        verifier.wanted = {c.size: c for c in candidates}
        verifier.run()
    if witnesses is not None:
        _judge_witnessed(report, verifier.roots, candidates, witnesses)
    return report


def _judge_witnessed(report: Report, roots: dict[int, bytes], candidates: list[SignedCheckpoint], witnesses: WitnessPolicy) -> None:
    matching = [c for c in candidates if roots.get(c.size) == c.root and c.size <= report.size]
    for checkpoint in candidates:
        if checkpoint.size in roots and roots[checkpoint.size] != checkpoint.root:
            report.problem(f"the witnessed checkpoint of size {checkpoint.size} has another root than this log at that size: "
                           "the witnesses saw a different history (a fork)")
        elif checkpoint.size > report.size:
            report.problem(f"witnesses cosigned a checkpoint of size {checkpoint.size}, larger than the log ({report.size} entries): "
                           "the log was truncated or rolled back")
    if not matching:
        report.problem(f"no checkpoint of this log carries a quorum of {witnesses.quorum} valid cosignatures "
                       f"from {', '.join(w.name for w in witnesses.witnesses)}")
        return
    best = matching[-1]
    names = witnesses.cosigners(best)
    report.witnessed = {"size": best.size, "cosigners": names, "quorum": witnesses.quorum, "checkpoint": best.text()}
    if best.size < report.size:
        report.notes.append(f"entries {best.size}..{report.size - 1} are signed by the log but not yet cosigned by a quorum of witnesses")


def _check_saved_head(head: AnyHead, meta: Meta, trusted: dict[str, signing.PublicKey]) -> None:
    if head.log_id != meta.log_id or head.hash != meta.hash:
        raise LedgerError(f"the saved tree head belongs to log {head.log_id} ({head.hash}), not to {meta.log_id} ({meta.hash})")
    if not head.signed_by(trusted):
        raise LedgerError(f"the saved tree head (size {head.size}) is not signed by a trusted key")


class _Verifier:
    def __init__(self, directory: Path, meta: Meta, trusted, since, evidence_root, report: Report):
        self.directory, self.meta, self.trusted = directory, meta, trusted
        self.since, self.evidence_root, self.report = since, evidence_root, report
        self.hasher = merkle.Hasher(meta.hash)
        self.frontier = merkle.Frontier(self.hasher)
        self.where = directory / LOG
        self.last_head_size = 0  # size of the last head seen (entries after it are uncommitted)
        self.committed_at = 0  # entries before the last head: what verify vouches for
        self.root_broken = False
        self.last_timestamp = ""
        self.since_checked = since is None or since.size == 0
        self.wanted: dict[int, SignedCheckpoint] = {}
        self.roots: dict[int, bytes] = {}

    def run(self) -> None:
        try:
            fd = os.open(self.where, os.O_RDONLY)
        except OSError as exc:
            raise LedgerError(f"{self.where}: cannot open the ledger's log ({exc.strerror})") from None
        try:
            end = os.fstat(fd).st_size
            position = 0
            for position, (_offset, line) in enumerate(_lines(fd, end)):
                self._line(position, line)
            count = self.frontier.size
            consumed = _consumed(fd, end)
        finally:
            os.close(fd)
        self._finish(count, end - consumed)

    def _line(self, position: int, line: bytes) -> None:
        report, line_number = self.report, position + 1
        try:
            record = load_json(line, "line")
        except JsonProblem:
            record = None
        v1 = self.meta.is_v1(position)
        if not isinstance(record, dict) or not isinstance(record.get("entry"), dict) or not set(record) <= (
            {"entry", "head"} if v1 else {"entry", "checkpoint"}
        ):
            report.problem("not a ledger record (edited or corrupted line)", position, line_number)
            self.frontier.append(self.hasher.leaf(line))
            self._broken(position)
            return
        entry = record["entry"]
        if self.meta.line_bytes(position, record) != line:
            report.problem("the line is not in canonical form: it was edited after it was written", position, line_number)
        for problem in entry_problems(entry):
            report.problem(f"malformed entry: {problem}", position, line_number)
        index = entry.get("index")
        if index != position:
            report.problem(
                f"records index {index} at position {position}: entries were removed, inserted or reordered here", position, line_number
            )
        self.frontier.append(self.hasher.leaf(self.meta.leaf_bytes(position, entry)))
        if position + 1 in self.wanted:
            self.roots[position + 1] = self.frontier.root()
        if self.evidence_root is not None:
            self._evidence(entry, position, line_number)
        if "head" in record or "checkpoint" in record:
            self._head(record, position, line_number)

    def _head(self, record: dict[str, Any], position: int, line_number: int) -> None:
        report = self.report
        size = position + 1
        try:
            head = self.meta.head_of(record, "tree head")
            assert head is not None
        except LedgerError as error:
            report.problem(f"malformed tree head ({error})", position, line_number)
            self._broken(position)
            return
        report.heads += 1
        if head.log_id != self.meta.log_id or head.hash != self.meta.hash:
            report.problem(f"tree head of log {head.log_id} ({head.hash}), not of this log {self.meta.log_id} ({self.meta.hash})", position, line_number)
        if head.size != size:
            report.problem(f"tree head says size {head.size} but follows entry {position} (size {size})", position, line_number)
        if isinstance(head, TreeHead):
            if head.key_id not in self.trusted:
                report.problem(f"tree head of size {head.size} is signed by an untrusted key {head.key_id}", position, line_number)
            elif not head.signed_by(self.trusted):
                report.problem(f"tree head of size {head.size}: bad signature", position, line_number)
            if head.timestamp < self.last_timestamp:
                report.notes.append(f"tree head of size {size} is timestamped before the previous one ({head.timestamp} < {self.last_timestamp})")
            self.last_timestamp = max(self.last_timestamp, head.timestamp)
        elif not head.signed_by(self.trusted):
            report.problem(f"checkpoint of size {head.size}: not signed by a trusted log key as {head.log_id} (bad or missing signature)",
                           position, line_number)
        if not self.root_broken and head.root != self.frontier.root():
            first = self.last_head_size
            which = f"entry {first}" if first == position else f"an entry among {first}..{position}"
            report.problem(
                f"{which} differs from what the tree head of size {size} signed (edited, inserted, removed or reordered)", first, first + 1
            )
            self._broken(first)
        if self.since is not None and self.since.size == size:
            self.since_checked = True
            if self.since.root != self.frontier.root():
                report.problem(f"the log's first {size} entries no longer hash to the tree head you saved (size {size}): the log was rewritten", None)
        self.last_head_size = size
        self.committed_at = size
        report.head = head

    def _broken(self, position: int) -> None:
        if not self.root_broken:
            self.root_broken = True
            self.report.notes.append(f"later tree heads cannot match either once entry {position} differs; the first difference is reported")

    def _evidence(self, entry: dict[str, Any], position: int, line_number: int) -> None:
        evidence = entry.get("evidence")
        if not isinstance(evidence, dict) or not isinstance(evidence.get("path"), str):
            return
        path = self.evidence_root / evidence["path"]
        if not path.is_file():
            self.report.problem(f"evidence file {evidence['path']} is missing", position, line_number)
            return
        if file_digests(path, self.meta.hash).get("sha256") != evidence.get("sha256"):
            self.report.problem(f"evidence file {evidence['path']} changed since it was recorded (sha256 differs)", position, line_number)

    def _finish(self, count: int, partial_bytes: int) -> None:
        report = self.report
        report.size = self.committed_at
        uncommitted = count - self.committed_at
        if uncommitted > 0:
            report.notes.append(
                f"{uncommitted} entr{'y' if uncommitted == 1 else 'ies'} after the last signed tree head "
                f"(from {self.committed_at}) were never committed (an interrupted append) and are ignored; the next append removes them"
            )
        if partial_bytes:
            report.notes.append(
                f"the last line ({partial_bytes} bytes, entry {count}) is incomplete: an interrupted append (ignored; the next append removes it) "
                "or a truncation: compare with a tree head you saved (--since)"
            )
        if self.since is not None and not self.since_checked:
            if self.since.size > self.committed_at:
                report.problem(
                    f"the log holds {self.committed_at} committed entries, fewer than the {self.since.size} of the tree head you saved: truncated or rolled back"
                )
            else:
                report.problem(f"the log has no tree head of size {self.since.size}, which you saved: it was rewritten")
        if count == 0 and not partial_bytes:
            report.notes.append("the ledger is empty")


def _consumed(fd: int, end: int) -> int:
    """Bytes up to and including the last newline."""
    if end == 0:
        return 0
    block = 1 << 16
    position = end
    while position > 0:
        start = max(0, position - block)
        data = os.pread(fd, position - start, start)
        newline = data.rfind(b"\n")
        if newline >= 0:
            return start + newline + 1
        position = start
    return 0


# --- offline checks: a proof file and trusted keys, no ledger needed ------------------------
def _require_quorum(head: AnyHead, witnesses: WitnessPolicy | None, trusted, where: str) -> None:
    if witnesses is None:
        return
    if not isinstance(head, SignedCheckpoint):
        raise ProofFailed(f"{where}: a format 1 tree head carries no cosignatures; witnesses require a checkpoint")
    cosigners = witnesses.cosigners(head)
    if len(cosigners) < witnesses.quorum:
        raise ProofFailed(f"{where}: the checkpoint of size {head.size} carries {plural(len(cosigners), 'valid cosignature')} "
                          f"({', '.join(cosigners) or 'none'}), fewer than the quorum of {witnesses.quorum}")


def _exact_keys(document: dict[str, Any], expected: set[str], where: str) -> None:
    if set(document) != expected:
        missing, unknown = sorted(expected - set(document)), sorted(set(document) - expected)
        raise LedgerError(f"{where}: proof fields: missing {missing or 'none'}, unknown {unknown or 'none'}")


def check_inclusion(proof: Any, trusted: dict[str, signing.PublicKey], where: str = "proof",
                    witnesses: WitnessPolicy | None = None) -> dict[str, Any]:
    """Check an inclusion proof made by ``Ledger.prove``; returns the proven entry.
    Raises LedgerError for a malformed document, ProofFailed for a proof that does not hold."""
    if not isinstance(proof, dict) or proof.get("format") != INCLUSION_FORMAT:
        raise LedgerError(f"{where}: not an inclusion proof (format {INCLUSION_FORMAT!r} expected)")
    _exact_keys(proof, {"format", "leaf_index", "entry", "audit_path", "tree_head"}, where)
    head = head_from_dict(proof.get("tree_head"), f"{where}: tree_head")
    path = hex_list(proof.get("audit_path"), f"{where}: audit_path")
    index, entry = proof.get("leaf_index"), proof.get("entry")
    if not isinstance(index, int) or isinstance(index, bool) or not isinstance(entry, dict):
        raise LedgerError(f"{where}: leaf_index must be an integer and entry an object")
    if not head.signed_by(trusted):
        raise ProofFailed(f"{where}: the tree head (size {head.size}, key {head.key_id}) is not signed by a trusted key")
    _require_quorum(head, witnesses, trusted, f"{where}: tree_head")
    if entry.get("index") != index:
        raise ProofFailed(f"{where}: the entry records index {entry.get('index')}, the proof is for {index}")
    hasher = merkle.Hasher(head.hash)
    if not any(merkle.verify_inclusion(hasher, hasher.leaf(encode(entry)), index, head.size, path, head.root)
               for encode in _leaf_encodings(head)):
        raise ProofFailed(f"{where}: entry {index} is not in the tree of size {head.size} with root {head.root.hex()}")
    return entry


def _leaf_encodings(head: AnyHead):
    """Entries proven against a format 1 head were written in format 1; those proven against a
    checkpoint may be either (a migrated ledger keeps its first lines as they were). Both
    encodings are injective, so an entry proves only as itself whichever of them matches."""
    from .records import canonical, canonical_v1

    return (canonical_v1,) if isinstance(head, TreeHead) else (canonical, canonical_v1)


def check_consistency(proof: Any, trusted: dict[str, signing.PublicKey], where: str = "proof",
                      witnesses: WitnessPolicy | None = None) -> tuple[AnyHead, AnyHead]:
    """Check a consistency proof made by ``Ledger.consistency``: the newer tree extends the older."""
    if not isinstance(proof, dict) or proof.get("format") != CONSISTENCY_FORMAT:
        raise LedgerError(f"{where}: not a consistency proof (format {CONSISTENCY_FORMAT!r} expected)")
    _exact_keys(proof, {"format", "old_head", "new_head", "proof"}, where)
    old = head_from_dict(proof.get("old_head"), f"{where}: old_head")
    new = head_from_dict(proof.get("new_head"), f"{where}: new_head")
    path = hex_list(proof.get("proof"), f"{where}: proof")
    for name, head in (("old", old), ("new", new)):
        if not head.signed_by(trusted):
            raise ProofFailed(f"{where}: the {name} tree head (size {head.size}, key {head.key_id}) is not signed by a trusted key")
    _require_quorum(new, witnesses, trusted, f"{where}: new_head")
    if old.log_id != new.log_id or old.hash != new.hash:
        raise ProofFailed(f"{where}: the two tree heads belong to different logs")
    if not merkle.verify_consistency(merkle.Hasher(new.hash), old.size, new.size, old.root, new.root, path):
        raise ProofFailed(f"{where}: the tree of size {new.size} does not extend the tree of size {old.size}")
    return old, new


def check_evidence_file(entry: dict[str, Any], path: Path) -> None:
    """The file an auditor holds is the evidence the proven entry points at."""
    try:
        digest = file_digests(path, merkle.SHA256)["sha256"]
    except OSError as exc:
        raise LedgerError(f"{path}: cannot read the evidence file ({exc.strerror})") from None
    recorded = (entry.get("evidence") or {}).get("sha256")
    if digest != recorded:
        raise ProofFailed(f"{path}: sha256 {digest} is not the digest the entry records ({recorded})")


class ProofFailed(Exception):
    """A well-formed proof that does not hold (exit 1)."""
