"""Hostile certificates, proofs, saved heads, previews and states (issue 12): byte-exact
signatures, unknown keys, wrong JSON types, deep nesting and huge numbers are refused with one
clear line (exit 2 where the document is not one), never a traceback."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
from test_policy_review import NOW, Workspace

from govcloud import review, signing
from govcloud.canonical import encode
from govcloud.ledger import Ledger

import forkserver
from forkserver import Result
from policy_helpers import PACK

NESTED = b"[" * 100_000
HUGE = "9" * 5000


def govcloud(*args, cwd: Path | None = None) -> Result:
    return forkserver.govcloud(*args, cwd=cwd or os.getcwd(), env={"PATH": "/usr/bin:/bin", "COLUMNS": "200"}, timeout=120)


def one_clean_line(result: Result, code: int = 2) -> str:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and "Error:" not in result.stderr.replace("error:", ""), result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def certified(tmp_path_factory):
    workspace = Workspace(tmp_path_factory.mktemp("hostile"))
    workspace.key("sec-liwei")
    workspace.issue()
    return workspace


def write_variant(workspace: Workspace, name: str, change=None, statement_change=None) -> Path:
    """The certificate with its DSSE envelope (``change``) or its in-toto statement
    (``statement_change``, the payload re-encoded) altered, written in canonical form."""
    envelope = json.loads(workspace.cert_file().read_text(encoding="utf-8"))
    if statement_change is not None:
        statement = json.loads(base64.b64decode(envelope["payload"]))
        statement_change(statement)
        envelope["payload"] = base64.b64encode(encode(statement)).decode()
    if change is not None:
        change(envelope)
    path = workspace.root / f"{name}.cert.json"
    path.write_bytes(encode(envelope) + b"\n")
    return path


def verify(workspace: Workspace, path: Path) -> Result:
    return govcloud("--inventories", workspace.inventories, "review", "verify", path, "--trust-store", workspace.trust,
                    "--build", workspace.build, "--pack", PACK, "--now", "2026-11-26T00:00:00Z")


def other_padding(value: str) -> str:
    """The same bytes in a non-canonical base64 text: padding bits set (``...3DA==`` -> ``...3DB==``)."""
    stripped = value.rstrip("=")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = alphabet.index(stripped[-1])
    altered = stripped[:-1] + alphabet[last ^ 1] + value[len(stripped):]
    assert altered != value
    return altered


def test_base64_is_decoded_strictly():
    data = bytes(range(64))
    text = signing.b64(data)
    assert signing.unb64(text) == data
    assert signing.unb64(other_padding(text)) == b""
    assert signing.unb64(text.rstrip("=")) == b"" and signing.unb64(text + "\n") == b"" and signing.unb64(5) == b""


def test_signature_with_other_padding_bits_is_refused(certified):
    path = write_variant(certified, "padding", lambda d: d["signatures"][0].update(sig=other_padding(d["signatures"][0]["sig"])))
    document, problems = review.read_certificate(path)
    assert not problems
    problems = review.verify_document(document, review.load_trust_store(certified.trust), {"sec-liwei"}, NOW)
    assert any("signature does not match" in p for p in problems)
    result = verify(certified, path)
    assert result.returncode == 1 and "signature does not match" in result.stderr


def test_tree_head_signature_with_other_padding_bits_fails_verification(tmp_path):
    key = signing.generate()
    evidence = tmp_path / "evidence.json"
    evidence.write_text("{}")
    Ledger(tmp_path / "ledger", key).append("check", {"env": "lab"}, evidence, actor="ci", summary="one")
    log = tmp_path / "ledger" / "log.jsonl"
    record = json.loads(log.read_bytes())
    head = record.get("head") or record.get("checkpoint")
    if isinstance(head, dict):
        head["signature"] = other_padding(head["signature"])
    else:  # a checkpoint note: alter the signature line's base64
        body, _, line = head.rstrip("\n").rpartition("\n")
        prefix, _, value = line.rpartition(" ")
        record["checkpoint"] = f"{body}\n{prefix} {other_padding(value)}\n"
    from govcloud.canonical import encode

    log.write_bytes(encode(record) + b"\n")
    public = tmp_path / "ledger.pub.pem"
    public.write_text(key.public_key.to_pem())
    result = govcloud("ledger", "verify", "--ledger", tmp_path / "ledger", "--key", public)
    assert result.returncode == 1, result.stdout + result.stderr


@pytest.mark.parametrize("name,change,statement_change,field", [
    ("extra-signature-key", lambda d: d["signatures"][0].update(comment="harmless?"), None, "signatures[0]"),
    ("extra-top-key", lambda d: d.update(note="x"), None, "(document)"),
    ("signatures-object", lambda d: d.update(signatures={}), None, "signatures"),
    ("two-signatures", lambda d: d["signatures"].append(dict(d["signatures"][0])), None, "signatures"),
    ("payload-number", lambda d: d.update(payload=7), None, "payload"),
    ("reviewer-string", None, lambda s: s["predicate"].update(reviewer="sec-liwei"), "predicate.reviewer"),
    ("inputs-list", None, lambda s: s["predicate"].update(inputs=["sha256:00"]), "predicate.inputs"),
    ("pack-number", None, lambda s: s["predicate"].update(pack=7), "predicate.pack"),
    ("extra-predicate-key", None, lambda s: s["predicate"].update(approved=True), "predicate"),
    ("subject-digest-key", None, lambda s: s["subject"][0]["digest"].update(md5="00"), "subject[0].digest"),
])
def test_malformed_certificates_are_one_line_exit_2(certified, name, change, statement_change, field):
    path = write_variant(certified, name, change, statement_change)
    line = one_clean_line(verify(certified, path))
    assert "not a well-formed certificate" in line and field in line, line
    with pytest.raises(review.GateRefused) as refused:
        review.require_certificate(certified.env(), "lab.t-430100-health", state_file=certified.state_file(), certificate=path,
                                   trust_store=certified.trust, pack_dir=PACK, now=NOW)
    assert any("not a well-formed certificate" in r for r in refused.value.reasons)


def test_deeply_nested_and_huge_number_certificates_are_refused_cleanly(certified):
    nested = certified.root / "nested.cert.json"
    nested.write_bytes(NESTED)
    assert "nested too deeply" in one_clean_line(verify(certified, nested))
    envelope = json.loads(certified.cert_file().read_text(encoding="utf-8"))
    payload = base64.b64decode(envelope["payload"]).replace(b'"passed":', f'"passed":{HUGE}'.encode(), 1)
    envelope["payload"] = base64.b64encode(payload).decode()
    huge = certified.root / "huge.cert.json"
    huge.write_bytes(encode(envelope) + b"\n")
    assert "digits (at most" in one_clean_line(verify(certified, huge))
    huge.write_text('{"payload": "", "payloadType": ' + HUGE + "}")
    assert "digits (at most" in one_clean_line(verify(certified, huge))
    huge.write_text('{"payload": "", "payloadType": 1e999999}')
    assert "not a finite number" in one_clean_line(verify(certified, huge))


def test_deeply_nested_state_is_a_refusal_not_a_crash(certified, tmp_path):
    state = tmp_path / "state.json"
    state.write_bytes(NESTED)
    with pytest.raises(review.GateRefused) as refused:
        review.require_certificate(certified.env(), "lab.t-430100-health", state_file=state, certificate=certified.cert_file(),
                                   trust_store=certified.trust, pack_dir=PACK, now=NOW)
    assert any("not a readable desired state" in r for r in refused.value.reasons)
    bad_build = tmp_path / "build"
    (bad_build / "render" / "lab" / "lab.t-430100-health").mkdir(parents=True)
    (bad_build / "render" / "lab" / "lab.t-430100-health" / "state.json").write_bytes(NESTED)
    result = govcloud("--inventories", certified.inventories, "check", "--env", "lab", "--stack", "t-430100-health",
                      "--build", bad_build, "--pack", PACK)
    assert result.returncode == 2 and "Traceback" not in result.stderr and "nested too deeply" in result.stderr


def test_deeply_nested_proof_saved_head_and_preview_are_refused_cleanly(tmp_path):
    key = signing.generate()
    evidence = tmp_path / "evidence.json"
    evidence.write_text("{}")
    Ledger(tmp_path / "ledger", key).append("check", {"env": "lab"}, evidence, actor="ci", summary="one")
    public = tmp_path / "ledger.pub.pem"
    public.write_text(key.public_key.to_pem())
    nested = tmp_path / "nested.json"
    nested.write_bytes(NESTED)
    assert "nested too deeply" in one_clean_line(govcloud("ledger", "check-proof", nested, "--key", public))
    assert "nested too deeply" in one_clean_line(govcloud("ledger", "verify", "--ledger", tmp_path / "ledger", "--key", public,
                                                          "--since", nested))
    result = govcloud("diff", "--from-preview", nested)
    assert result.returncode == 2 and "Traceback" not in result.stderr and "nested too deeply" in result.stderr


def test_ledger_verify_refuses_a_private_key(tmp_path):
    key = signing.generate()
    evidence = tmp_path / "evidence.json"
    evidence.write_text("{}")
    Ledger(tmp_path / "ledger", key).append("check", {"env": "lab"}, evidence, actor="ci", summary="one")
    private = tmp_path / "ledger.key"
    private.write_text(key.to_pem())
    line = one_clean_line(govcloud("ledger", "verify", "--ledger", tmp_path / "ledger", "--key", private))
    assert "expects a public key" in line
