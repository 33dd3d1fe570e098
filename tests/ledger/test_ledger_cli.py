"""``govcloud ledger`` as an auditor and a pipeline run it: exit 0 / 1 / 2, clean errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from govcloud import signing
from govcloud.ledger import SignedCheckpoint

from ledger_helpers import govcloud, log_lines, write_key_files, write_lines


@pytest.fixture
def keys(tmp_path: Path, key: signing.PrivateKey) -> tuple[Path, Path]:
    return write_key_files(tmp_path / "keys", key)


def append(ledger: Path, key: Path, evidence: Path, summary: str, *extra: str):
    return govcloud(
        "ledger", "append", "--ledger", ledger, "--ledger-key", key, "--kind", "review", "--env", "lab",
        "--tenant", "t-430100-health", "--evidence", evidence, "--summary", summary, "--actor", "zhang-wei", *extra,
    )


def test_auditor_workflow(tmp_path: Path, keys: tuple[Path, Path], evidence: Path) -> None:
    private, public = keys
    ledger = tmp_path / "ledger"
    for i in range(3):
        result = append(ledger, private, evidence, f"review {i}", "--detail", "findings=0")
        assert result.returncode == 0, result.stderr
        assert f"entry {i} appended" in result.stdout
    shown = govcloud("ledger", "show", "--ledger", ledger, "--output", "json")
    assert [e["summary"] for e in json.loads(shown.stdout)] == ["review 0", "review 1", "review 2"]
    table = govcloud("ledger", "show", "--ledger", ledger, "--tenant", "t-430100-health")
    assert "review 1" in table.stdout and "3 entries" in table.stdout
    assert govcloud("ledger", "head", "--ledger", ledger, "--out", tmp_path / "sth.json").returncode == 0

    verified = govcloud("ledger", "verify", "--ledger", ledger, "--key", public)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "3 entries, 3 signed tree heads" in verified.stdout and "verified" in verified.stdout

    proved = govcloud("ledger", "prove", "1", "--ledger", ledger, "--out", tmp_path / "proof.json")
    assert proved.returncode == 0, proved.stderr
    checked = govcloud("ledger", "check-proof", tmp_path / "proof.json", "--key", public, "--evidence", evidence)
    assert checked.returncode == 0, checked.stderr
    assert "entry 1 (review: review 1) is in the signed tree of size 3" in checked.stdout

    assert append(ledger, private, evidence, "review 3").returncode == 0
    grown = govcloud("ledger", "consistency", tmp_path / "sth.json", "--ledger", ledger, "--out", tmp_path / "consistency.json")
    assert grown.returncode == 0, grown.stderr
    checked = govcloud("ledger", "check-proof", tmp_path / "consistency.json", "--key", public, "--output", "json")
    assert json.loads(checked.stdout) | {"root": None} == {"ok": True, "kind": "consistency", "old_size": 3, "new_size": 4, "root": None}
    since = govcloud("ledger", "verify", "--ledger", ledger, "--key", public, "--since", tmp_path / "sth.json", "--output", "json")
    assert since.returncode == 0 and json.loads(since.stdout)["size"] == 4

    # tampering: verify names the entry and exits 1; the old proof no longer matches the entry
    lines = log_lines(ledger)
    lines[2] = lines[2].replace(b'"summary":"review 2"', b'"summary":"review 9"')
    write_lines(ledger, lines)
    failed = govcloud("ledger", "verify", "--ledger", ledger, "--key", public)
    assert failed.returncode == 1
    assert "entry 2 (line 3): entry 2 differs from what the tree head of size 3 signed" in failed.stdout
    proof = json.loads((tmp_path / "proof.json").read_text())
    proof["entry"]["summary"] = "review 9"
    (tmp_path / "forged.json").write_text(json.dumps(proof))
    forged = govcloud("ledger", "check-proof", tmp_path / "forged.json", "--key", public)
    assert forged.returncode == 1 and "is not in the tree of size 3" in forged.stderr
    other = tmp_path / "other-evidence.json"
    other.write_text("{}")
    wrong_file = govcloud("ledger", "check-proof", tmp_path / "proof.json", "--key", public, "--evidence", other)
    assert wrong_file.returncode == 1 and "is not the digest the entry records" in wrong_file.stderr


def test_key_from_the_environment(tmp_path: Path, key: signing.PrivateKey, evidence: Path) -> None:
    result = govcloud(
        "ledger", "append", "--ledger", tmp_path / "ledger", "--kind", "deploy", "--env", "lab", "--evidence", evidence,
        "--summary", "pulumi up of lab.t-430100-health", "--output", "json",
        env={"GOVCLOUD_LEDGER_KEY": "env:LEDGER_PEM", "LEDGER_PEM": key.to_pem(), "GOVCLOUD_ACTOR": "ci-runner"},
    )
    assert result.returncode == 0, result.stderr
    head = SignedCheckpoint.from_dict(json.loads(result.stdout)["tree_head"], "receipt")
    assert head.signed_by({key.public_key.key_id: key.public_key}) and head.size == 1
    assert key.to_pem().split("\n")[1] not in result.stdout + result.stderr


def test_bad_input_exits_2_without_traceback(
    tmp_path: Path, keys: tuple[Path, Path], other_key: signing.PrivateKey, evidence: Path
) -> None:
    private, public = keys
    ledger = tmp_path / "ledger"
    assert append(ledger, private, evidence, "first").returncode == 0
    other_private, other_public = write_key_files(tmp_path / "other", other_key)
    garbage = tmp_path / "garbage.json"
    garbage.write_text("this is not json")
    not_a_ledger = tmp_path / "notes"
    not_a_ledger.mkdir()
    (not_a_ledger / "todo.txt").write_text("x")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "ledger.json").write_text("[1, 2")
    cases = {
        "verify missing dir": (("ledger", "verify", "--ledger", tmp_path / "missing"), "no such ledger directory"),
        "show missing dir": (("ledger", "show", "--ledger", tmp_path / "missing"), "no such ledger directory"),
        "prove missing dir": (("ledger", "prove", "0", "--ledger", tmp_path / "missing"), "no such ledger directory"),
        "head not a ledger": (("ledger", "head", "--ledger", not_a_ledger), "not a ledger"),
        "garbage ledger.json": (("ledger", "verify", "--ledger", broken), "not a ledger description"),
        "garbage proof": (("ledger", "check-proof", garbage, "--key", public), "proof: not JSON"),
        "a PEM file as proof": (("ledger", "check-proof", public, "--key", public), "proof: not JSON"),
        "garbage saved head": (("ledger", "verify", "--ledger", ledger, "--since", garbage), "not a signed checkpoint"),
        "wrong private key": (
            ("ledger", "append", "--ledger", ledger, "--ledger-key", other_private, "--kind", "review", "--env", "lab",
             "--evidence", evidence, "--summary", "x"),
            "wrong key",
        ),
        "wrong public key": (("ledger", "verify", "--ledger", ledger, "--key", other_public), "wrong key"),
        "missing key file": (("ledger", "verify", "--ledger", ledger, "--key", tmp_path / "nope.pem"), "cannot read key file"),
        "garbage key file": (("ledger", "verify", "--ledger", ledger, "--key", garbage), "expected a PEM block"),
        "missing evidence": (
            ("ledger", "append", "--ledger", ledger, "--ledger-key", private, "--kind", "review", "--env", "lab",
             "--evidence", tmp_path / "nope.json", "--summary", "x"),
            "evidence file not found",
        ),
        "unknown kind": (
            ("ledger", "append", "--ledger", ledger, "--ledger-key", private, "--kind", "approval", "--env", "lab",
             "--evidence", evidence, "--summary", "x"),
            "kind: 'approval' is not one of",
        ),
        "bad detail": (
            ("ledger", "append", "--ledger", ledger, "--ledger-key", private, "--kind", "review", "--env", "lab",
             "--evidence", evidence, "--summary", "x", "--detail", "novalue"),
            "expected NAME=VALUE",
        ),
        "no signing key": (
            ("ledger", "append", "--ledger", ledger, "--kind", "review", "--env", "lab", "--evidence", evidence, "--summary", "x"),
            "needs the ledger's signing key",
        ),
        "no trusted key": (("ledger", "check-proof", garbage), "give the public key you trust"),
        "entry out of range": (("ledger", "prove", "5", "--ledger", ledger), "entry 5 is not in the tree of size 1"),
    }
    for name, (args, message) in cases.items():
        result = govcloud(*args)
        assert result.returncode == 2, f"{name}: exit {result.returncode}\n{result.stdout}{result.stderr}"
        assert message in result.stderr, f"{name}: {result.stderr}"
        assert "Traceback" not in result.stderr, name
    assert len(log_lines(ledger)) == 1  # nothing was appended by the failed attempts
