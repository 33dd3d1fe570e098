"""Every kind of tampering is detected by ``verify`` and it names the entry at fault."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from budget import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govcloud import signing
from govcloud.ledger import Ledger, LedgerError, SignedCheckpoint, head_from_dict, verify_ledger

from ledger_helpers import canonical_line, fill, log_lines, trusted, write_lines


@pytest.fixture
def ledger_dir(tmp_path: Path, key: signing.PrivateKey, evidence: Path) -> Path:
    directory = tmp_path / "ledger"
    fill(directory, key, evidence, 10)
    return directory


def problems(directory: Path, key: signing.PrivateKey, **kwargs) -> list[tuple[int | None, str]]:
    report = verify_ledger(directory, trusted(key), **kwargs)
    return [(p.entry, p.message) for p in report.problems]


def first_entry(found: list[tuple[int | None, str]]) -> int | None:
    return min(entry for entry, _ in found if entry is not None)


def rewrite(directory: Path, change, renumber: bool = True) -> None:
    """A careful forger: changes the records, then renumbers every entry to its position."""
    records = [json.loads(line) for line in log_lines(directory)]
    change(records)
    if renumber:
        for position, record in enumerate(records):
            record["entry"]["index"] = position
    write_lines(directory, [canonical_line(r) for r in records])


def edit(directory: Path, position: int, change) -> None:
    lines = log_lines(directory)
    record = json.loads(lines[position])
    change(record)
    lines[position] = canonical_line(record)
    write_lines(directory, lines)


def test_untouched_ledger_verifies(ledger_dir: Path, key: signing.PrivateKey) -> None:
    report = verify_ledger(ledger_dir, trusted(key))
    assert report.ok, report.problems
    assert (report.size, report.heads) == (10, 10)
    assert report.head is not None and report.head.root == Ledger(ledger_dir).head().root


@pytest.mark.parametrize("position", [0, 4, 9])
def test_edited_entry_is_named(ledger_dir: Path, key: signing.PrivateKey, position: int) -> None:
    edit(ledger_dir, position, lambda r: r["entry"].update(summary="nothing to see here"))
    found = problems(ledger_dir, key)
    assert found, "an edited summary went unnoticed"
    assert first_entry(found) == position
    assert any(f"entry {position} differs from what the tree head of size {position + 1} signed" in m for _, m in found)


def test_edited_evidence_digest_is_named(ledger_dir: Path, key: signing.PrivateKey) -> None:
    edit(ledger_dir, 3, lambda r: r["entry"]["evidence"].update(sha256="0" * 64))
    assert first_entry(problems(ledger_dir, key)) == 3


def test_whitespace_only_edit_is_reported(ledger_dir: Path, key: signing.PrivateKey) -> None:
    lines = log_lines(ledger_dir)
    lines[2] = lines[2].replace(b'"entry":', b' "entry":', 1)
    write_lines(ledger_dir, lines)
    found = problems(ledger_dir, key)
    assert [(2, m) for e, m in found if "canonical" in m] and first_entry(found) == 2


def test_reordered_entries_are_named(ledger_dir: Path, key: signing.PrivateKey) -> None:
    lines = log_lines(ledger_dir)
    lines[3], lines[6] = lines[6], lines[3]
    write_lines(ledger_dir, lines)
    found = problems(ledger_dir, key)
    assert first_entry(found) == 3
    assert any("records index 6 at position 3" in m for _, m in found)


def test_reordered_and_renumbered_entries_are_named(ledger_dir: Path, key: signing.PrivateKey) -> None:
    # The forger swaps two entries' contents but keeps every index and head in place.
    def swap(records: list[dict]) -> None:
        records[3]["entry"], records[6]["entry"] = records[6]["entry"], records[3]["entry"]

    rewrite(ledger_dir, swap)
    found = problems(ledger_dir, key)
    assert first_entry(found) == 3 and any("entry 3 differs" in m for _, m in found)


def test_inserted_entry_is_named(ledger_dir: Path, key: signing.PrivateKey) -> None:
    def insert(records: list[dict]) -> None:
        forged = json.loads(json.dumps(records[4]))
        forged["entry"]["summary"] = "waiver granted by nobody"
        forged.pop("checkpoint")
        records.insert(5, forged)

    rewrite(ledger_dir, insert)
    assert first_entry(problems(ledger_dir, key)) == 5


def test_removed_entry_is_named(ledger_dir: Path, key: signing.PrivateKey) -> None:
    lines = log_lines(ledger_dir)
    del lines[6]
    write_lines(ledger_dir, lines)
    found = problems(ledger_dir, key)
    assert first_entry(found) == 6
    assert any("records index 7 at position 6" in m for _, m in found)


def test_removed_and_renumbered_entry_is_named(ledger_dir: Path, key: signing.PrivateKey) -> None:
    rewrite(ledger_dir, lambda records: records.pop(6))
    assert first_entry(problems(ledger_dir, key)) == 6


def test_truncated_log_is_detected_against_a_saved_head(ledger_dir: Path, key: signing.PrivateKey) -> None:
    saved = Ledger(ledger_dir).head()
    lines = log_lines(ledger_dir)
    write_lines(ledger_dir, lines[:7])  # the last three entries and their heads are gone
    assert problems(ledger_dir, key) == []  # on its own, a shorter log is a consistent log
    found = problems(ledger_dir, key, since=saved)
    assert any("fewer than the 10 of the tree head you saved" in m for _, m in found)


def test_entry_cut_short_is_reported_and_caught_with_a_saved_head(ledger_dir: Path, key: signing.PrivateKey) -> None:
    saved = Ledger(ledger_dir).head()
    data = (ledger_dir / "log.jsonl").read_bytes()
    (ledger_dir / "log.jsonl").write_bytes(data[: len(data) - 200])  # cut inside entry 9's line
    report = verify_ledger(ledger_dir, trusted(key))
    assert report.size == 9 and any("entry 9) is incomplete" in n for n in report.notes)
    assert not verify_ledger(ledger_dir, trusted(key), since=saved).ok


def test_log_rewritten_by_the_key_holder_is_detected_against_a_saved_head(
    ledger_dir: Path, key: signing.PrivateKey, evidence: Path
) -> None:
    saved = head_from_dict(Ledger(ledger_dir).prove(0, size=4)["tree_head"], "saved")
    assert problems(ledger_dir, key, since=saved) == []  # the genuine log contains the saved head
    # Whoever holds the key can sign a new history under the same log id; it verifies on its
    # own, but not against the head an auditor saved before.
    rewritten = ledger_dir.parent / "rewritten"
    Ledger.create(rewritten, key, log_id=saved.log_id)
    fill(rewritten, key, evidence, 12, start=100)
    assert problems(rewritten, key) == []
    found = problems(rewritten, key, since=saved)
    assert found == [(None, "the log's first 4 entries no longer hash to the tree head you saved (size 4): the log was rewritten")]
    from govcloud.ledger import LedgerIntegrityError

    with pytest.raises(LedgerIntegrityError, match="not consistent"):
        Ledger(rewritten).consistency(saved)


def test_bad_signature_is_named(ledger_dir: Path, key: signing.PrivateKey) -> None:
    def flip(record: dict) -> None:
        body, _, line = record["checkpoint"].rstrip("\n").rpartition("\n")
        prefix, _, value = line.rpartition(" ")
        signature = bytearray(signing.unb64(value))
        signature[9] ^= 1
        record["checkpoint"] = f"{body}\n{prefix} {signing.b64(bytes(signature))}\n"

    edit(ledger_dir, 7, flip)
    [(entry, message)] = problems(ledger_dir, key)
    assert entry == 7 and message.startswith("checkpoint of size 8: not signed by a trusted log key")


def test_edited_tree_head_is_named(ledger_dir: Path, key: signing.PrivateKey) -> None:
    def reroot(record: dict) -> None:
        origin, size, _root, rest = record["checkpoint"].split("\n", 3)
        record["checkpoint"] = "\n".join([origin, size, signing.b64(b"\xab" * 32), rest])

    edit(ledger_dir, 2, reroot)
    found = problems(ledger_dir, key)
    assert any(e == 2 and m.startswith("checkpoint of size 3: not signed by a trusted log key") for e, m in found)


def test_head_signed_by_another_key_is_named(ledger_dir: Path, key: signing.PrivateKey, other_key: signing.PrivateKey) -> None:
    def resign(record: dict) -> None:
        head = SignedCheckpoint.from_note(record["checkpoint"], "sha256", "head")
        record["checkpoint"] = SignedCheckpoint.sign(other_key, head.log_id, head.hash, head.size, head.root).text()

    edit(ledger_dir, 5, resign)
    found = problems(ledger_dir, key)
    assert [(e, m) for e, m in found if e == 5 and "not signed by a trusted log key" in m]


def test_garbage_line_is_named(ledger_dir: Path, key: signing.PrivateKey) -> None:
    lines = log_lines(ledger_dir)
    lines[4] = b"this is not json\n"
    write_lines(ledger_dir, lines)
    found = problems(ledger_dir, key)
    assert (4, "not a ledger record (edited or corrupted line)") in found


def test_wrong_trusted_key_is_bad_input(ledger_dir: Path, other_key: signing.PrivateKey) -> None:
    with pytest.raises(LedgerError, match="wrong key") as error:
        verify_ledger(ledger_dir, trusted(other_key))
    assert error.value.exit_code == 2


def test_evidence_files_are_checked_when_asked(ledger_dir: Path, key: signing.PrivateKey, evidence: Path) -> None:
    root = Path("/")
    assert problems(ledger_dir, key, evidence_root=root) == []
    evidence.write_text("altered after the review\n")
    found = problems(ledger_dir, key, evidence_root=root)
    assert len(found) == 10 and all("changed since it was recorded" in m for _, m in found)


# --- properties: any single tampering of any entry in any log is found at the right entry ---
OPERATIONS = ["edit", "swap", "delete", "duplicate", "renumbered-delete"]


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    batches=st.lists(st.integers(1, 3), min_size=2, max_size=6),
    operation=st.sampled_from(OPERATIONS),
    data=st.data(),
)
def test_property_any_tampering_is_found(
    tmp_path_factory: pytest.TempPathFactory, key: signing.PrivateKey, batches: list[int], operation: str, data: st.DataObject
) -> None:
    from govcloud.ledger import Record

    directory = tmp_path_factory.mktemp("prop") / "ledger"
    evidence = directory.parent / "evidence.txt"
    evidence.write_text("evidence\n")
    with Ledger(directory, key) as ledger:
        for b, count in enumerate(batches):
            ledger.append_many(
                Record("check", {"env": "lab"}, evidence, "li-ming", f"batch {b} item {i}") for i in range(count)
            )
    lines = [json.loads(line) for line in log_lines(directory)]
    size = len(lines)
    heads = [p + 1 for p, r in enumerate(lines) if "checkpoint" in r]
    position = data.draw(st.integers(0, size - 1), label="position")
    if operation == "edit":
        lines[position]["entry"]["actor"] = "mallory"
    elif operation == "swap":
        other = data.draw(st.integers(0, size - 1).filter(lambda o: o != position), label="other")
        lines[position]["entry"], lines[other]["entry"] = lines[other]["entry"], lines[position]["entry"]
        position = min(position, other)
    elif operation == "delete":
        del lines[position]
    elif operation == "duplicate":
        copy = json.loads(json.dumps(lines[position]))
        copy.pop("checkpoint", None)
        lines.insert(position, copy)
    elif operation == "renumbered-delete":
        del lines[position]
        for p, record in enumerate(lines):
            record["entry"]["index"] = p
    write_lines(directory, [canonical_line(r) for r in lines])
    report = verify_ledger(directory, trusted(key))
    # Heads after the change cannot all match; the entry named is the one changed or, inside a
    # batch (one head for several entries), the first entry the failing head newly covers.
    if operation in ("delete", "renumbered-delete") and position == size - 1:
        assert report.ok  # the last line and its head removed: a rollback, which only a saved head shows
        return
    assert not report.ok
    batch_start = max([0] + [h for h in heads if h <= position])
    assert batch_start <= min(p.entry for p in report.problems if p.entry is not None) <= position
