"""Crashes mid-append and concurrent appenders, with real processes."""

from __future__ import annotations

import itertools
import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from govcloud import signing
from govcloud.ledger import Ledger, check_inclusion, verify_ledger

from ledger_helpers import canonical_line, fill, log_lines, trusted, write_key_files

CHILD = Path(__file__).with_name("ledger_child.py")


def child(key_file: Path, directory: Path, evidence: Path, mode: str, count: int, tag: str = "child", go: Path | None = None):
    args = [sys.executable, str(CHILD), str(key_file), str(directory), str(evidence), mode, str(count), tag]
    if go is not None:
        args.append(str(go))
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def assert_sound(directory: Path, key: signing.PrivateKey) -> int:
    """The log verifies, its entries are numbered 0..n-1, and every entry proves."""
    report = verify_ledger(directory, trusted(key))
    assert report.ok, [p.as_dict() for p in report.problems]
    entries = list(Ledger(directory).entries())
    assert [e["index"] for e in entries] == list(range(report.size))
    for index in {0, report.size // 2, report.size - 1} if report.size else ():
        assert check_inclusion(Ledger(directory).prove(index), trusted(key))["index"] == index
    return report.size


@pytest.fixture
def key_file(tmp_path: Path, key: signing.PrivateKey) -> Path:
    return write_key_files(tmp_path / "keys", key)[0]


def test_partial_last_line_is_ignored_then_cut_by_the_next_append(tmp_path: Path, key: signing.PrivateKey, evidence: Path) -> None:
    directory = tmp_path / "ledger"
    fill(directory, key, evidence, 5)
    with (directory / "log.jsonl").open("ab") as log:
        log.write(b'{"entry":{"actor":"li-ming","evidence":{"by')
    report = verify_ledger(directory, trusted(key))
    assert report.ok and report.size == 5
    assert any("is incomplete" in note for note in report.notes)
    assert len(list(Ledger(directory).entries())) == 5
    with Ledger(directory, key) as ledger:
        assert ledger.append("diff", {"env": "lab"}, evidence, "li-ming", "after the crash").index == 5
        assert ledger.discarded == "discarded what an interrupted append left after entry 4: 0 uncommitted lines, 43 bytes of an incomplete line"
    assert not (directory / "log.jsonl").read_bytes().count(b'"by{')
    assert all(line.endswith(b"\n") for line in log_lines(directory))
    assert assert_sound(directory, key) == 6


def test_uncommitted_lines_of_a_batch_are_ignored_then_cut(tmp_path: Path, key: signing.PrivateKey, evidence: Path) -> None:
    directory = tmp_path / "ledger"
    fill(directory, key, evidence, 4)
    record = json.loads(log_lines(directory)[-1])
    record.pop("checkpoint")
    record["entry"]["index"] = 4
    with (directory / "log.jsonl").open("ab") as log:
        log.write(canonical_line(record))
    report = verify_ledger(directory, trusted(key))
    assert report.ok and report.size == 4 and any("never committed" in n for n in report.notes)
    ledger = fill(directory, key, evidence, 1, start=40)
    assert ledger.discarded is not None and "1 uncommitted line, 0 bytes" in ledger.discarded
    entries = list(Ledger(directory).entries())
    assert [e["summary"] for e in entries][-1] == "evidence number 40" and len(entries) == 5
    assert assert_sound(directory, key) == 5


@pytest.mark.parametrize("mode", ["half-write", "half-write-batch", "before-log", "before-fsync"])
def test_killed_during_append_leaves_a_log_that_verifies(
    tmp_path: Path, key: signing.PrivateKey, key_file: Path, evidence: Path, mode: str
) -> None:
    directory = tmp_path / "ledger"
    fill(directory, key, evidence, 6)
    process = child(key_file, directory, evidence, mode, 1)
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, process.stderr.read()
    size = assert_sound(directory, key)
    # before-fsync: the line was written whole, so the append took effect (without a receipt)
    assert size == (7 if mode == "before-fsync" else 6)
    fill(directory, key, evidence, 2, start=50)
    assert assert_sound(directory, key) == size + 2
    # what the killed append had put in the cache beyond the committed tree was cut off
    assert (directory / "tree" / "level-00.bin").stat().st_size == (size + 2) * 32
    assert (directory / "tree" / "offsets.bin").stat().st_size == (size + 2) * 8


def test_killed_at_random_moments_never_loses_an_acknowledged_append(
    tmp_path: Path, key: signing.PrivateKey, key_file: Path, evidence: Path
) -> None:
    directory = tmp_path / "ledger"
    fill(directory, key, evidence, 1)
    rng = random.Random(20260131)
    acknowledged: list[int] = []
    for round_number in range(6):
        process = child(key_file, directory, evidence, "normal", 100000, tag=f"round{round_number}")
        first = process.stdout.readline()  # the loop is running: kill it somewhere in an append
        time.sleep(rng.random() * 0.3)
        process.send_signal(signal.SIGKILL)
        output, _ = process.communicate(timeout=60)
        acknowledged += [int(line) for line in (first + output).split()]
        size = assert_sound(directory, key)
        assert all(index < size for index in acknowledged), "an acknowledged entry is missing"
    assert len(acknowledged) >= 6


def test_two_processes_append_concurrently(tmp_path: Path, key: signing.PrivateKey, key_file: Path, evidence: Path) -> None:
    directory = tmp_path / "new-ledger"  # both processes race to create it too
    go = tmp_path / "go"
    processes = [child(key_file, directory, evidence, "normal", 150, tag=tag, go=go) for tag in ("alpha", "beta")]
    time.sleep(1.0)
    go.touch()
    outputs = []
    for process in processes:
        output, errors = process.communicate(timeout=300)
        assert process.returncode == 0, errors
        outputs.append([int(line) for line in output.split()])
    assert sorted(outputs[0] + outputs[1]) == list(range(300))
    assert assert_sound(directory, key) == 300
    summaries = [e["summary"] for e in Ledger(directory).entries()]
    for tag in ("alpha", "beta"):
        mine = [s for s in summaries if s.startswith(tag)]
        assert mine == [f"{tag} {i}" for i in range(150)]  # each process's entries, in its order
    # they really interleaved: neither process appended all of its entries in one run
    runs = sum(1 for a, b in itertools.pairwise(summaries) if a.split()[0] != b.split()[0])
    assert runs > 1
