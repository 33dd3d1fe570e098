"""Checkpoints (C2SP tlog-checkpoint in signed-note), witnesses (tlog-witness, tlog-cosignature),
the quorum the model asks for, and the migration of format 1 ledgers.

The checkpoints and cosignatures are checked here by a verifier written in this file from the
C2SP texts (signed-note, tlog-checkpoint, tlog-cosignature), using only hashlib, base64,
rfc8785 and the cryptography package: not govcloud's own note code."""

from __future__ import annotations

import base64
import hashlib
import json
import multiprocessing
import shutil
import struct
from pathlib import Path

import pytest
import rfc8785
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from govcloud import note, signing
from govcloud.ledger import Ledger, LedgerError, ProofFailed, SignedCheckpoint, TreeHead, audit, check_inclusion, verify_ledger
from govcloud.ledger import witness as witnessing
from govcloud.ledger.records import canonical_v1
from govcloud.model import InputError, load_environment

from ledger_helpers import fill, govcloud, trusted, write_key_files

REPO = Path(__file__).resolve().parents[2]
ORIGIN = "hunan.gov.cn/govcloud/lab/evidence"


# --- an independent verifier, from the C2SP texts ----------------------------------------------
class C2spVerifier:
    """signed-note + tlog-checkpoint + tlog-cosignature (Ed25519 types 0x01 and 0x04) as the
    specifications describe them."""

    def __init__(self, log_name: str, log_key: bytes, witnesses: dict[str, bytes] | None = None):
        self.log = (log_name, hashlib.sha256(log_name.encode() + b"\n" + b"\x01" + log_key).digest()[:4], log_key)
        self.witnesses = {name: hashlib.sha256(name.encode() + b"\n" + b"\x04" + key).digest()[:4] + key
                          for name, key in (witnesses or {}).items()}

    @staticmethod
    def split(note_bytes: bytes) -> tuple[bytes, list[tuple[str, bytes]]]:
        text = note_bytes.decode("utf-8")  # MUST be valid UTF-8
        assert not any(ord(c) < 0x20 and c != "\n" for c in text)  # no control characters but newline
        body, block = text[: text.rindex("\n\n") + 1], text[text.rindex("\n\n") + 2:]
        lines = []
        for line in block.split("\n")[:-1]:
            assert line.startswith("\u2014 ")  # em dash, space
            name, encoded = line[2:].split(" ")
            raw = base64.b64decode(encoded, validate=True)
            assert base64.b64encode(raw).decode() == encoded
            lines.append((name, raw))
        return body.encode(), lines

    def checkpoint(self, note_bytes: bytes) -> tuple[str, int, bytes, list[str]]:
        """(origin, size, root, names of witnesses whose cosignatures verify); raises on failure."""
        body, lines = self.split(note_bytes)
        name, key_id, key = self.log
        verified = False
        cosigners = []
        for line_name, raw in lines:
            if (line_name, raw[:4]) == (name, key_id):
                Ed25519PublicKey.from_public_bytes(key).verify(raw[4:], body)
                verified = True
            elif line_name in self.witnesses and raw[:4] == self.witnesses[line_name][:4]:
                timestamp = struct.unpack(">Q", raw[4:12])[0]
                message = b"cosignature/v1\n" + b"time %d\n" % timestamp + body
                Ed25519PublicKey.from_public_bytes(self.witnesses[line_name][4:]).verify(raw[12:], message)
                cosigners.append(line_name)
            # else: an unknown key, ignored
        assert verified, "no signature of the log's key"
        origin, size, root, *rest = body.decode().split("\n")
        assert rest == [""] and origin and (size == "0" or not size.startswith("0"))
        return origin, int(size), base64.b64decode(root, validate=True), cosigners


def rfc6962_root(leaves: list[bytes]) -> bytes:
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + rfc6962_root(leaves[:k]) + rfc6962_root(leaves[k:])).digest()


def entries_of(directory: Path) -> list[dict]:
    return [json.loads(line)["entry"] for line in (directory / "log.jsonl").read_bytes().splitlines()]


# --- fixtures -----------------------------------------------------------------------------------------
@pytest.fixture
def log(tmp_path: Path, key: signing.PrivateKey, evidence: Path) -> Ledger:
    Ledger.create(tmp_path / "ledger", key, log_id=ORIGIN)
    fill(tmp_path / "ledger", key, evidence, 5)
    return Ledger(tmp_path / "ledger")


def make_witnesses(tmp_path: Path, key: signing.PrivateKey, count: int = 3, algorithm: str = signing.ED25519):
    return [witnessing.Witness(tmp_path / f"witness-{i}", f"w{i}.hunan.gov.cn/witness", signing.generate(algorithm),
                               {ORIGIN: key.public_key}) for i in range(count)]


def cosign(ledger: Ledger, witness: witnessing.Witness) -> SignedCheckpoint:
    return witnessing.witness_latest(ledger, witness.note_key, witness.add_checkpoint)


def policy(witnesses, quorum: int) -> witnessing.WitnessPolicy:
    return witnessing.WitnessPolicy(tuple(w.note_key for w in witnesses), quorum)


# --- checkpoints -----------------------------------------------------------------------------------
def test_checkpoints_verify_with_an_independent_c2sp_verifier(log: Ledger, key, tmp_path: Path) -> None:
    witnesses = make_witnesses(tmp_path, key)
    for witness in witnesses:
        cosign(log, witness)
    verifier = C2spVerifier(ORIGIN, key.public_key.raw, {w.name: w.key.public_key.raw for w in witnesses})
    head = log.head()
    origin, size, root, cosigners = verifier.checkpoint(head.note)
    leaves = [rfc8785.dumps(entry) for entry in entries_of(log.directory)]
    assert (origin, size, root, cosigners) == (ORIGIN, 5, rfc6962_root(leaves), [])
    cosigned = log.cosigned()[-1]
    assert verifier.checkpoint(cosigned.note)[3] == [w.name for w in witnesses]
    # every line of the log carries its own checkpoint: each verifies and commits to the entries so far
    for count, line in enumerate((log.directory / "log.jsonl").read_bytes().splitlines(), start=1):
        assert verifier.checkpoint(json.loads(line)["checkpoint"].encode())[1:3] == (count, rfc6962_root(leaves[:count]))
    # what `ledger head` prints is exactly that note
    assert govcloud("ledger", "head", "--ledger", log.directory).stdout.encode() == cosigned.note


def test_the_independent_verifier_refuses_an_altered_checkpoint(log: Ledger, key) -> None:
    verifier = C2spVerifier(ORIGIN, key.public_key.raw)
    text = log.head().text()
    altered = text.replace("\n5\n", "\n6\n", 1)
    with pytest.raises(Exception):  # noqa: B017  # the independent verifier fails however its check fails
        verifier.checkpoint(altered.encode())
    other = C2spVerifier(ORIGIN, signing.generate().public_key.raw)
    with pytest.raises(AssertionError, match="no signature of the log's key"):
        other.checkpoint(text.encode())


def test_sm2_checkpoints_use_govcloud_signature_types(tmp_path: Path, evidence: Path) -> None:
    from tongsuopy.crypto import hashes as sm_hashes
    from tongsuopy.crypto.asymciphers import ec as sm_ec

    key = signing.generate(signing.SM2)
    Ledger.create(tmp_path / "sm2", key, log_id=ORIGIN)
    fill(tmp_path / "sm2", key, evidence, 3)
    log = Ledger(tmp_path / "sm2")
    head = log.head()
    assert head.hash == "sm3" and head.signed_by(trusted(key))
    # the documented type: 0xff || "govcloud.gov.cn/sm2-sm3", the key as an uncompressed point
    point = b"\x04" + key.public_key.raw
    key_id = hashlib.sha256(ORIGIN.encode() + b"\n" + b"\xffgovcloud.gov.cn/sm2-sm3" + point).digest()[:4]
    body, lines = C2spVerifier.split(head.note)
    [(name, raw)] = lines
    assert name == ORIGIN and raw[:4] == key_id
    sm_ec.EllipticCurvePublicKey.from_encoded_point(sm_ec.SM2(), point).verify(raw[4:], body, sm_ec.ECDSA(sm_hashes.SM3()))
    # an SM2 witness cosigns with the documented cosignature type, and a C2SP verifier that only
    # knows Ed25519 ignores these lines (unknown keys), as the note format requires
    [witness] = make_witnesses(tmp_path, key, 1, signing.SM2)
    cosigned = cosign(log, witness)
    assert policy([witness], 1).accepts(cosigned, trusted(key))
    with pytest.raises(AssertionError, match="no signature of the log's key"):
        C2spVerifier(ORIGIN, signing.generate().public_key.raw).checkpoint(cosigned.note)


def test_vkeys_round_trip_and_name_their_role(key) -> None:
    log_key = note.NoteKey(ORIGIN, key.public_key)
    parsed = note.parse_vkey(log_key.vkey)
    assert parsed == log_key and not parsed.cosigner
    with pytest.raises(note.NoteError, match="where a witness key was expected"):
        note.parse_vkey(log_key.vkey, cosigner=True)
    name, key_id, data = log_key.vkey.split("+", 2)
    with pytest.raises(note.NoteError, match="does not match"):
        note.parse_vkey(f"{name}+{'0' * 8}+{data}")


# --- witnesses -----------------------------------------------------------------------------------------
def test_witnesses_cosign_a_growing_log_and_verify_accepts_a_quorum(log: Ledger, key, evidence: Path, tmp_path: Path) -> None:
    witnesses = make_witnesses(tmp_path, key)
    for witness in witnesses[:2]:
        cosign(log, witness)
    fill(log.directory, key, evidence, 4, start=5)
    for witness in witnesses:
        assert cosign(log, witness).size == 9  # from 5 (with a consistency proof) and from 0
    report = verify_ledger(log.directory, trusted(key), witnesses=policy(witnesses, 2))
    assert report.ok and report.witnessed["size"] == 9 and len(report.witnessed["cosigners"]) == 3
    # the size-5 checkpoint was cosigned by two witnesses who both cosigned 9: it is no longer kept
    assert [c.size for c in log.cosigned()] == [9]
    proof = log.prove(2)
    assert check_inclusion(proof, trusted(key), witnesses=policy(witnesses, 3))["index"] == 2


def test_a_quorum_short_by_one_fails(log: Ledger, key, tmp_path: Path) -> None:
    witnesses = make_witnesses(tmp_path, key)
    cosign(log, witnesses[0])
    report = verify_ledger(log.directory, trusted(key), witnesses=policy(witnesses, 2))
    assert not report.ok and any("quorum of 2 valid cosignatures" in p.message for p in report.problems)
    with pytest.raises(ProofFailed, match="1 valid cosignature"):
        check_inclusion(log.prove(1), trusted(key), witnesses=policy(witnesses, 2))
    assert verify_ledger(log.directory, trusted(key), witnesses=policy(witnesses, 1)).ok


def test_a_forked_log_is_refused_by_every_honest_witness_and_fails_verification(log: Ledger, key, evidence: Path, tmp_path: Path) -> None:
    witnesses = make_witnesses(tmp_path, key)
    for witness in witnesses:
        cosign(log, witness)
    # The key holder signs another history under the same origin: same size, different tree.
    fork_dir = tmp_path / "fork"
    Ledger.create(fork_dir, key, log_id=ORIGIN)
    fill(fork_dir, key, evidence, 5, start=100)
    fork = Ledger(fork_dir)
    assert fork.head().size == log.head().size and fork.head().root != log.head().root
    for witness in witnesses:
        with pytest.raises(witnessing.WitnessRefusal) as refused:
            witness.add_checkpoint(fork.witness_request(5))
        assert refused.value.status == 409 and "a fork" in refused.value.reason
    # ... and a longer fork does not prove consistent with what they cosigned
    fill(fork_dir, key, evidence, 3, start=200)
    for witness in witnesses:
        with pytest.raises(witnessing.WitnessRefusal) as refused:
            witness.add_checkpoint(fork.witness_request(5))
        assert refused.value.status == 422 and "fork" in refused.value.reason
    assert not fork.cosigned()
    report = verify_ledger(fork_dir, trusted(key), witnesses=policy(witnesses, 2))
    assert not report.ok
    # cosignatures copied over from the honest log do not help the fork: their root is not its root
    shutil.copytree(log.directory / "cosigned", fork_dir / "cosigned")
    found = [p.message for p in verify_ledger(fork_dir, trusted(key), witnesses=policy(witnesses, 2)).problems]
    assert any("a fork" in m for m in found)


def test_a_smaller_tree_a_bad_signature_and_an_unknown_log_are_refused(log: Ledger, key, other_key, evidence: Path, tmp_path: Path) -> None:
    [witness] = make_witnesses(tmp_path, key, 1)
    small = log.witness_request(0)
    fill(log.directory, key, evidence, 2, start=5)
    cosign(log, witness)
    with pytest.raises(witnessing.WitnessRefusal) as refused:
        witness.add_checkpoint(small.replace(b"old 0", b"old 7", 1))
    assert refused.value.status == 400 and "smaller tree" in refused.value.reason
    with pytest.raises(witnessing.WitnessRefusal) as refused:
        witness.add_checkpoint(small)  # old 0: a conflict naming the size it cosigned
    assert refused.value.status == 409 and refused.value.size == 7 and "smaller tree" in refused.value.reason
    forged_dir = tmp_path / "forged"
    Ledger.create(forged_dir, other_key, log_id=ORIGIN)
    fill(forged_dir, other_key, evidence, 9)
    with pytest.raises(witnessing.WitnessRefusal) as refused:
        witness.add_checkpoint(Ledger(forged_dir).witness_request(7))
    assert refused.value.status == 403 and "not signed by the key" in refused.value.reason
    stranger = tmp_path / "stranger"
    fill(stranger, key, evidence, 1)
    with pytest.raises(witnessing.WitnessRefusal) as refused:
        witness.add_checkpoint(Ledger(stranger).witness_request(0))
    assert refused.value.status == 404
    assert witness.state(ORIGIN)["size"] == 7  # nothing refused changed the witness's state


def test_a_rolled_back_witness_state_is_detected(log: Ledger, key, evidence: Path, tmp_path: Path) -> None:
    [witness] = make_witnesses(tmp_path, key, 1)
    cosign(log, witness)
    saved = tmp_path / "state-backup"
    shutil.copytree(witness.state_dir, saved)
    fill(log.directory, key, evidence, 2, start=5)
    cosign(log, witness)
    shutil.rmtree(witness.state_dir)
    shutil.copytree(saved, witness.state_dir)  # restored from an old backup: it forgot size 7
    fill(log.directory, key, evidence, 1, start=7)
    with pytest.raises(witnessing.WitnessRolledBack, match="reports size 5, but it cosigned size 7"):
        cosign(log, witness)


def _witness_in_child(args) -> int:
    directory, state, witness_key_pem, log_public_pem = args
    witness = witnessing.Witness(state, "w.hunan.gov.cn/witness", signing.parse_private_pem(witness_key_pem.encode(), "k"),
                                 {ORIGIN: signing.parse_public_pem(log_public_pem.encode(), "p")})
    return witnessing.witness_latest(Ledger(directory), witness.note_key, witness.add_checkpoint).size


def test_concurrent_witnessing_of_the_same_checkpoint_is_safe(log: Ledger, key, tmp_path: Path) -> None:
    witness_key = signing.generate()
    args = (str(log.directory), str(tmp_path / "state"), witness_key.to_pem(), key.public_key.to_pem())
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        sizes = pool.map(_witness_in_child, [args] * 8)
    assert sizes == [5] * 8
    witness = witnessing.Witness(tmp_path / "state", "w.hunan.gov.cn/witness", witness_key, {ORIGIN: key.public_key})
    assert witness.state(ORIGIN)["size"] == 5
    [cosigned] = log.cosigned()
    assert policy([witness], 1).cosigners(cosigned) == ["w.hunan.gov.cn/witness"]


def test_witness_state_survives_a_crash_while_saving(log: Ledger, key, evidence: Path, tmp_path: Path, monkeypatch) -> None:
    [witness] = make_witnesses(tmp_path, key, 1)
    cosign(log, witness)
    fill(log.directory, key, evidence, 1, start=5)

    def crash(*_args):
        raise OSError("power lost")

    monkeypatch.setattr("govcloud.ledger.store.os.replace", crash)
    with pytest.raises(OSError):
        cosign(log, witness)
    monkeypatch.undo()
    assert witness.state(ORIGIN)["size"] == 5  # the old state, whole
    assert cosign(log, witness).size == 6


# --- the model: which bureaus witness which ledgers --------------------------------------------------
def model_inventory(root: Path, key: signing.PrivateKey, witnesses, quorum: int = 2, ledger_key=None) -> Path:
    inventories = root / "inventories"
    shutil.copytree(REPO / "inventories" / "lab", inventories / "lab")
    platform = inventories / "lab" / "platform.yaml"
    data = yaml.safe_load(platform.read_text(encoding="utf-8"))
    data["evidence"] = {
        "witnesses": [{"id": f"bureau-{i}", "name": f"湖南省第{i}见证局", "region": "430000", "key": w.vkey} for i, w in enumerate(witnesses)],
        "ledgers": [{"origin": ORIGIN, "key": note.NoteKey(ORIGIN, (ledger_key or key).public_key).vkey,
                     "witnesses": [f"bureau-{i}" for i in range(len(witnesses))], "quorum": quorum}],
    }
    platform.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return inventories


def test_model_names_witnesses_and_quorum(tmp_path: Path, key) -> None:
    witnesses = make_witnesses(tmp_path, key)
    env = load_environment("lab", model_inventory(tmp_path, key, witnesses))
    model = witnessing.model_ledger(env, ORIGIN)
    assert model.policy.quorum == 2 and [k.name for k in model.policy.witnesses] == [w.name for w in witnesses]
    assert witnessing.model_witness(env, "bureau-1") == (witnesses[1].name, {ORIGIN: key.public_key})


@pytest.mark.parametrize("change,field,message", [
    (lambda e: e["ledgers"][0].update(quorum=4), "evidence.ledgers[0].quorum", "cannot be met by 3"),
    (lambda e: e["ledgers"][0]["witnesses"].append("bureau-9"), "evidence.ledgers[0].witnesses[3]", "not defined"),
    (lambda e: e["witnesses"][0].update(key=e["ledgers"][0]["key"]), "evidence.witnesses[0].key", "witness key was expected"),
    (lambda e: e["ledgers"][0].update(origin="other.gov.cn/log"), "evidence.ledgers[0].key", "not the ledger's origin"),
    (lambda e: e["witnesses"][1].update(region="439999"), "evidence.witnesses[1].region", "not defined"),
])
def test_model_refuses_bad_evidence_settings(tmp_path: Path, key, change, field, message) -> None:
    inventories = model_inventory(tmp_path, key, make_witnesses(tmp_path, key))
    platform = inventories / "lab" / "platform.yaml"
    data = yaml.safe_load(platform.read_text(encoding="utf-8"))
    change(data["evidence"])
    platform.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(InputError) as error:
        load_environment("lab", inventories)
    assert any(p.field == field and message in p.message for p in error.value.problems), error.value.problems


def test_commands_witness_verify_and_check_proofs_with_the_models_quorum(tmp_path: Path, key, evidence: Path) -> None:
    keys = tmp_path / "keys"
    witness_keys = [signing.generate() for _ in range(3)]
    for i, witness_key in enumerate(witness_keys):
        write_key_files(keys, witness_key, f"bureau-{i}")
    vkeys = [govcloud("ledger", "witness-key", keys / f"bureau-{i}.pub.pem", "--name", f"w{i}.hunan.gov.cn/witness").stdout.strip()
             for i in range(3)]
    witnesses = [witnessing.Witness(tmp_path, note.parse_vkey(v).name, k, {}) for v, k in zip(vkeys, witness_keys, strict=True)]
    inventories = model_inventory(tmp_path, key, witnesses)
    private, public = write_key_files(keys, key)
    ledger = tmp_path / "ledger"
    Ledger.create(ledger, key, log_id=ORIGIN)
    fill(ledger, key, evidence, 3)
    common = ("--inventories", inventories)
    verify = govcloud(*common, "ledger", "verify", "--ledger", ledger, "--env", "lab")
    assert verify.returncode == 1 and "quorum of 2" in verify.stdout
    result = govcloud(*common, "ledger", "witness", "--ledger", ledger, "--key", keys / "bureau-0.key", "--state", tmp_path / "s0",
                      "--env", "lab", "--witness", "bureau-0")
    assert result.returncode == 0 and "cosigned checkpoint of size 3" in result.stdout, result.stderr
    (tmp_path / "proof.json").write_text(govcloud("ledger", "prove", "1", "--ledger", ledger).stdout)
    short = govcloud(*common, "ledger", "check-proof", tmp_path / "proof.json", "--env", "lab")
    assert short.returncode == 1 and "fewer than the quorum of 2" in short.stderr
    # the second bureau works elsewhere: a request file in, a response file out
    (tmp_path / "request.txt").write_text(govcloud("ledger", "request", "--ledger", ledger).stdout)
    response = govcloud(*common, "ledger", "witness", tmp_path / "request.txt", "--key", keys / "bureau-1.key",
                        "--state", tmp_path / "s1", "--env", "lab", "--witness", "bureau-1", "--out", tmp_path / "response.txt")
    assert response.returncode == 0, response.stderr
    kept = govcloud(*common, "ledger", "cosign", tmp_path / "response.txt", "--ledger", ledger, "--env", "lab", "--witness", "bureau-1")
    assert kept.returncode == 0, kept.stderr
    verify = govcloud(*common, "ledger", "verify", "--ledger", ledger, "--env", "lab")
    assert verify.returncode == 0 and "cosigned by w0.hunan.gov.cn/witness, w1.hunan.gov.cn/witness" in verify.stdout, verify.stdout
    (tmp_path / "proof.json").write_text(govcloud("ledger", "prove", "1", "--ledger", ledger).stdout)
    assert govcloud(*common, "ledger", "check-proof", tmp_path / "proof.json", "--env", "lab").returncode == 0
    # a bad signature is refused with its reason, and the state is untouched
    forged = tmp_path / "forged"
    fill(forged, signing.generate(), evidence, 1)
    (tmp_path / "forged.txt").write_text(govcloud("ledger", "request", "--ledger", forged).stdout.replace(
        json.loads((forged / "ledger.json").read_text())["log_id"], ORIGIN))
    refused = govcloud(*common, "ledger", "witness", tmp_path / "forged.txt", "--key", keys / "bureau-1.key",
                       "--state", tmp_path / "s1", "--env", "lab", "--witness", "bureau-1")
    assert refused.returncode == 1 and "refused (403)" in refused.stderr
    # the posture data shows each witness's latest cosigned size and flags the one behind
    from govcloud.posture.collect import ledger_head

    fill(ledger, key, evidence, 1, start=10)
    head = ledger_head(ledger, load_environment("lab", inventories))
    rows = {r["id"]: (r["cosigned_size"], r["fallen_behind"]) for r in head["witnesses"]["rows"]}
    assert rows == {"bureau-0": (3, True), "bureau-1": (3, True), "bureau-2": (0, True)}
    assert head["witnesses"]["witnessed_size"] == 3


# --- format 1 ledgers ---------------------------------------------------------------------------------
def write_format_1_ledger(directory: Path, key: signing.PrivateKey, evidence: Path, count: int) -> None:
    """A ledger exactly as the first release wrote it (JSON tree heads, json.dumps lines)."""
    from govcloud.ledger import merkle

    directory.mkdir(parents=True)
    meta = {"format": "govcloud-ledger/1", "log_id": "govcloud-0123456789abcdef", "hash": "sha256", "signature_algorithm": "ed25519",
            "key_id": key.public_key.key_id, "public_key": key.public_key.to_pem(), "created": "2026-01-01T00:00:00.000Z"}
    (directory / "ledger.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    (directory / "tree").mkdir()
    (directory / ".lock").write_bytes(b"")
    hasher = merkle.Hasher()
    frontier = merkle.Frontier(hasher)
    digest = hashlib.sha256(evidence.read_bytes()).hexdigest()
    lines = []
    for i in range(count):
        entry = {"index": i, "kind": "check", "subject": {"env": "lab"}, "actor": "li-ming", "time": f"2026-01-01T00:00:0{i % 10}.000Z",
                 "summary": f"old entry {i} 审计", "evidence": {"path": str(evidence), "sha256": digest, "bytes": evidence.stat().st_size}}
        frontier.append(hasher.leaf(canonical_v1(entry)))
        head = TreeHead.sign(key, meta["log_id"], "sha256", i + 1, frontier.root(), f"2026-01-01T00:00:0{i % 10}.000Z")
        lines.append(canonical_v1({"entry": entry, "head": head.as_dict()}) + b"\n")
    (directory / "log.jsonl").write_bytes(b"".join(lines))


def test_format_1_ledgers_still_verify_and_migrate_with_a_record(tmp_path: Path, key, evidence: Path) -> None:
    directory = tmp_path / "old"
    write_format_1_ledger(directory, key, evidence, 4)
    assert verify_ledger(directory, trusted(key)).ok
    saved = Ledger(directory).head()
    assert isinstance(saved, TreeHead)
    with pytest.raises(LedgerError, match="run `govcloud ledger migrate"):
        fill(directory, key, evidence, 1)
    private, public = write_key_files(tmp_path / "keys", key)
    result = govcloud("ledger", "migrate", "--ledger", directory, "--ledger-key", private)
    assert result.returncode == 0, result.stderr
    fill(directory, key, evidence, 2, start=10)
    report = verify_ledger(directory, trusted(key), since=saved)
    assert report.ok and report.size == 7, report.problems
    entries = list(Ledger(directory).entries())
    assert entries[4]["kind"] == "migration" and entries[4]["details"] == {"v1_entries": 4}
    assert json.loads((directory / "ledger.json").read_text())["v1_entries"] == 4
    # a head saved before the migration proves the log only grew since
    proof = Ledger(directory).consistency(saved)
    audit.check_consistency(proof, trusted(key))
    # entries written in format 1 still prove against a checkpoint
    assert check_inclusion(Ledger(directory).prove(1), trusted(key))["summary"] == "old entry 1 审计"
    # and a byte changed in an old line is still caught
    lines = (directory / "log.jsonl").read_bytes().splitlines(keepends=True)
    lines[2] = lines[2].replace(b"old entry 2", b"new entry 2")
    (directory / "log.jsonl").write_bytes(b"".join(lines))
    assert not verify_ledger(directory, trusted(key)).ok


def test_proofs_with_unknown_keys_are_refused(log: Ledger, key) -> None:
    proof = log.prove(1)
    with pytest.raises(LedgerError, match=r"unknown \['note'\]"):
        check_inclusion({**proof, "note": "harmless?"}, trusted(key))
    consistency = log.consistency(log.head())
    with pytest.raises(LedgerError, match=r"missing \['proof'\]"):
        audit.check_consistency({k: v for k, v in consistency.items() if k != "proof"}, trusted(key))
    with pytest.raises(LedgerError, match="exactly format"):
        check_inclusion({**proof, "tree_head": {**proof["tree_head"], "cosigners": []}}, trusted(key))
