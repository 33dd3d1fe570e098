"""The ledger API: appending, reading, proofs through the level files, bad input."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from govcloud import signing
from govcloud.ledger import (
    Ledger,
    LedgerError,
    LedgerIntegrityError,
    ProofFailed,
    Record,
    TreeHead,
    check_consistency,
    check_evidence_file,
    check_inclusion,
    merkle,
    verify_ledger,
)

from ledger_helpers import fill, log_lines, trusted


def test_append_records_what_happened(tmp_path: Path, key: signing.PrivateKey, evidence: Path) -> None:
    with Ledger(tmp_path / "ledger", key) as ledger:
        receipt = ledger.append(
            "certificate",
            {"env": "lab", "stack": "lab.t-430100-health", "tenant": "t-430100-health"},
            evidence,
            actor="zhang-wei",
            summary="review certificate: 0 blocking findings",
            details={"state_digest": "sha256:abc", "findings": 0, "waived": ["rule-1"]},
            time="2026-01-31T08:00:00.000Z",
        )
    assert (receipt.index, receipt.head.size) == (0, 1)
    [entry] = list(Ledger(tmp_path / "ledger").entries())
    assert entry == {
        "index": 0,
        "kind": "certificate",
        "subject": {"env": "lab", "stack": "lab.t-430100-health", "tenant": "t-430100-health"},
        "actor": "zhang-wei",
        "time": "2026-01-31T08:00:00.000Z",
        "summary": "review certificate: 0 blocking findings",
        "evidence": {
            "path": evidence.as_posix(),
            "sha256": __import__("hashlib").sha256(evidence.read_bytes()).hexdigest(),
            "bytes": evidence.stat().st_size,
        },
        "details": {"state_digest": "sha256:abc", "findings": 0, "waived": ["rule-1"]},
    }
    # The leaf is the canonical entry: its hash is the root of a one-entry tree.
    leaf = merkle.Hasher().leaf(json.dumps(entry, sort_keys=True, separators=(",", ":")).encode())
    assert receipt.leaf_hash == leaf == receipt.head.root
    meta = json.loads((tmp_path / "ledger" / "ledger.json").read_text())
    assert (meta["hash"], meta["signature_algorithm"], meta["key_id"]) == ("sha256", "ed25519", key.public_key.key_id)


def test_heads_and_proofs_for_every_size(tmp_path: Path, key: signing.PrivateKey, evidence: Path) -> None:
    directory = tmp_path / "ledger"
    heads = []
    with Ledger(directory, key) as ledger:
        for i in range(13):
            heads.append(ledger.append("check", {"env": "lab"}, evidence, "li-ming", f"check {i}").head)
    reader = Ledger(directory)
    keys = trusted(key)
    for size in range(1, 14):
        for index in range(size):
            proof = reader.prove(index, size=size)
            assert proof["tree_head"] == heads[size - 1].as_dict()
            assert check_inclusion(proof, keys)["summary"] == f"check {index}"
    for old in heads:
        proof = reader.consistency(old)
        assert check_consistency(proof, keys)[1].size == 13


def test_sm2_ledger_uses_sm3_and_verifies(tmp_path: Path, evidence: Path) -> None:
    sm2 = signing.generate(signing.SM2)
    fill(tmp_path / "ledger", sm2, evidence, 3)
    meta = json.loads((tmp_path / "ledger" / "ledger.json").read_text())
    assert (meta["hash"], meta["signature_algorithm"]) == ("sm3", "sm2-sm3")
    entry = next(iter(Ledger(tmp_path / "ledger").entries()))
    assert len(entry["evidence"]["sm3"]) == 64
    report = verify_ledger(tmp_path / "ledger", trusted(sm2))
    assert report.ok and report.size == 3 and report.hash == "sm3"
    proof = Ledger(tmp_path / "ledger").prove(1)
    assert check_inclusion(proof, trusted(sm2))["index"] == 1
    # An SM3 tree's root is not the SHA-256 tree's root over the same entries.
    leaves = [merkle.Hasher("sha256").leaf(json.dumps(e, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()) for e in Ledger(tmp_path / "ledger").entries()]
    assert merkle.root_of(merkle.Hasher("sha256"), leaves) != report.head.root


def test_batch_append_signs_one_head(tmp_path: Path, key: signing.PrivateKey, evidence: Path) -> None:
    with Ledger(tmp_path / "ledger", key) as ledger:
        receipts = ledger.append_many(Record("waiver", {"env": "lab"}, evidence, "li-ming", f"waiver {i}") for i in range(5))
    assert [r.index for r in receipts] == [0, 1, 2, 3, 4] and {r.head.size for r in receipts} == {5}
    lines = [json.loads(line) for line in log_lines(tmp_path / "ledger")]
    assert ["checkpoint" in r for r in lines] == [False, False, False, False, True]
    with pytest.raises(LedgerError, match="batch"):
        Ledger(tmp_path / "ledger").prove(0, size=3)
    assert verify_ledger(tmp_path / "ledger", trusted(key)).ok


def test_proof_checks_reject_forgeries(tmp_path: Path, key: signing.PrivateKey, other_key: signing.PrivateKey, evidence: Path) -> None:
    fill(tmp_path / "ledger", key, evidence, 6)
    proof = Ledger(tmp_path / "ledger").prove(2)
    keys = trusted(key)
    forged = json.loads(json.dumps(proof))
    forged["entry"]["summary"] = "approved by the minister"
    with pytest.raises(ProofFailed, match="not in the tree"):
        check_inclusion(forged, keys)
    moved = json.loads(json.dumps(proof))
    moved["leaf_index"] = 3
    with pytest.raises(ProofFailed):
        check_inclusion(moved, keys)
    with pytest.raises(ProofFailed, match="not signed by a trusted key"):
        check_inclusion(proof, trusted(other_key))
    for garbage in ({}, {"format": "govcloud-ledger-inclusion-proof/1"}, {**proof, "audit_path": ["zz"]}):
        with pytest.raises(LedgerError):
            check_inclusion(garbage, keys)
    check_evidence_file(proof["entry"], evidence)
    other = tmp_path / "other.json"
    other.write_text("{}")
    with pytest.raises(ProofFailed, match="not the digest"):
        check_evidence_file(proof["entry"], other)


def test_level_files_give_proofs_without_reading_the_log(tmp_path: Path, key: signing.PrivateKey, evidence: Path) -> None:
    directory = tmp_path / "ledger"
    fill(directory, key, evidence, 37)
    sizes = {p.name: p.stat().st_size for p in (directory / "tree").iterdir()}
    assert sizes["level-00.bin"] == 37 * 32 and sizes["level-05.bin"] == 1 * 32 and sizes["offsets.bin"] == 37 * 8
    # Proof generation reads the cache: a cache lying about a node the proof needs is caught by
    # the self-check, and the reader falls back to the log itself.
    level3 = directory / "tree" / "level-03.bin"
    data = bytearray(level3.read_bytes())
    data[0] ^= 0xFF  # node (3, 0): needed to prove entry 9 (its sibling subtree)
    level3.write_bytes(bytes(data))
    proof = Ledger(directory).prove(9)
    assert check_inclusion(proof, trusted(key))["index"] == 9


def test_cache_is_rebuilt_when_lost_or_damaged(tmp_path: Path, key: signing.PrivateKey, evidence: Path) -> None:
    directory = tmp_path / "ledger"
    fill(directory, key, evidence, 9)
    for path in (directory / "tree").iterdir():
        path.unlink()
    assert check_inclusion(Ledger(directory).prove(4), trusted(key))["index"] == 4  # from the log
    fill(directory, key, evidence, 1, start=9)  # the append rebuilds the cache
    assert (directory / "tree" / "level-00.bin").stat().st_size == 10 * 32
    level0 = directory / "tree" / "level-00.bin"
    level0.write_bytes(b"\x00" * 32 + level0.read_bytes()[32:])  # damage: wrong leaf 0
    (directory / "tree" / "level-03.bin").write_bytes(b"\x11" * 32)  # damage on the frontier
    fill(directory, key, evidence, 1, start=10)
    assert verify_ledger(directory, trusted(key)).ok
    assert Ledger(directory).prove(0)["audit_path"] == [h.hex() for h in merkle.inclusion_path(_memory(directory), 0, 11)]


def _memory(directory: Path) -> merkle.Subtree:
    hasher = merkle.Hasher()
    leaves = [hasher.leaf(json.dumps(e, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()) for e in Ledger(directory).entries()]
    return merkle.memory_subtree(hasher, leaves)


def test_append_refuses_a_log_whose_entries_were_edited(tmp_path: Path, key: signing.PrivateKey, evidence: Path) -> None:
    directory = tmp_path / "ledger"
    fill(directory, key, evidence, 4)
    for path in (directory / "tree").iterdir():
        path.unlink()  # force the rebuild from the log
    lines = log_lines(directory)
    lines[1] = lines[1].replace(b"evidence number 1", b"evidence number X")
    (directory / "log.jsonl").write_bytes(b"".join(lines))
    before = (directory / "log.jsonl").read_bytes()
    with pytest.raises(LedgerIntegrityError, match="no longer hash"):
        fill(directory, key, evidence, 1, start=4)
    assert (directory / "log.jsonl").read_bytes() == before  # nothing half-applied


@pytest.mark.parametrize(
    "change,message",
    [
        (dict(kind="approval"), "kind"),
        (dict(subject={"stack": "x"}), "subject"),
        (dict(subject={"env": "lab", "zone": "data"}), "subject.zone"),
        (dict(actor="zhang wei"), "actor"),
        (dict(summary=""), "summary"),
        (dict(summary="two\nlines"), "summary"),
        (dict(summary="x" * 501), "summary"),
        (dict(details={"ratio": 0.5}), "details"),
        (dict(time="yesterday"), "time"),
    ],
)
def test_bad_entries_are_refused_with_the_field(
    tmp_path: Path, key: signing.PrivateKey, evidence: Path, change: dict, message: str
) -> None:
    fields = dict(kind="review", subject={"env": "lab"}, evidence_path=evidence, actor="li-ming", summary="ok")
    fields.update(change)
    ledger = Ledger(tmp_path / "ledger", key)
    with pytest.raises(LedgerError, match=message) as error:
        ledger.append(**fields)
    assert error.value.exit_code == 2
    assert not (tmp_path / "ledger" / "log.jsonl").exists() or (tmp_path / "ledger" / "log.jsonl").read_bytes() == b""


def test_bad_directories_and_keys(tmp_path: Path, key: signing.PrivateKey, other_key: signing.PrivateKey, evidence: Path) -> None:
    with pytest.raises(LedgerError, match="no such ledger directory"):
        Ledger(tmp_path / "missing").head()
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "notes.txt").write_text("hello")
    with pytest.raises(LedgerError, match="not a ledger"):
        verify_ledger(tmp_path / "plain")
    with pytest.raises(LedgerError, match="not empty and not a ledger"):
        Ledger(tmp_path / "plain", key).append("review", {"env": "lab"}, evidence, "li-ming", "x")
    fill(tmp_path / "ledger", key, evidence, 2)
    with pytest.raises(LedgerError, match="wrong key"):
        Ledger(tmp_path / "ledger", other_key).append("review", {"env": "lab"}, evidence, "li-ming", "x")
    with pytest.raises(LedgerError, match="evidence file not found"):
        Ledger(tmp_path / "ledger", key).append("review", {"env": "lab"}, tmp_path / "nope.json", "li-ming", "x")
    (tmp_path / "ledger" / "ledger.json").write_text("{garbage")
    with pytest.raises(LedgerError, match="not a ledger description"):
        verify_ledger(tmp_path / "ledger")
    empty = Ledger.create(tmp_path / "empty", key)
    with pytest.raises(LedgerError, match="empty"):
        empty.head()
    assert verify_ledger(tmp_path / "empty").size == 0
    with pytest.raises(LedgerError, match="already exists"):
        Ledger.create(tmp_path / "empty", key)


def test_saved_head_of_another_log_is_refused(tmp_path: Path, key: signing.PrivateKey, evidence: Path) -> None:
    fill(tmp_path / "a", key, evidence, 2)
    fill(tmp_path / "b", key, evidence, 2)
    head_a = Ledger(tmp_path / "a").head()
    with pytest.raises(LedgerError, match="belongs to log"):
        Ledger(tmp_path / "b").consistency(head_a)
    with pytest.raises(LedgerError, match="belongs to log"):
        verify_ledger(tmp_path / "b", trusted(key), since=head_a)
    unsigned = TreeHead(head_a.log_id, head_a.hash, head_a.size, head_a.root, head_a.timestamp, head_a.key_id, b"x" * 64)
    with pytest.raises(LedgerError, match="not signed by a trusted key"):
        verify_ledger(tmp_path / "a", trusted(key), since=unsigned)


def test_read_only_copy_can_be_audited(tmp_path: Path, key: signing.PrivateKey, evidence: Path) -> None:
    directory = tmp_path / "ledger"
    fill(directory, key, evidence, 5)
    os.unlink(directory / ".lock")
    for path in [directory, *directory.rglob("*")]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        assert verify_ledger(directory, trusted(key)).ok
        assert check_inclusion(Ledger(directory).prove(3), trusted(key))["index"] == 3
    finally:
        for path in [directory, *directory.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
