"""Evidence ledger: append 100,000 entries, verify them all, prove one entry.

Every append is a real one: its own signed tree head (Ed25519) and its own fsync. Appending
reads only the tree's frontier (O(log n)); verify reads the log once (linear) and checks every
signature. Also prints a cold append from a fresh process at full size, and the inclusion and
consistency proofs (size and time), then the same for an SM2/SM3 ledger of 10,000 entries
(Tongsuo's SM2 through tongsuopy).

Witnesses: on the full ledger, 1,000 more appends each cosigned at once by one witness, then by
three (every witness checks the log signature and a consistency proof, cosigns, and replaces its
state durably; the log keeps the cosignatures durably), then the full verification with a quorum
of 2 of 3 and an inclusion proof checked with the quorum. Usage: ledger.py [ENTRIES] [--sm2 N]
[--witnessed N]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from govcloud import signing
from govcloud.ledger import Ledger, check_consistency, check_inclusion, verify_ledger
from govcloud.ledger.witness import Witness, WitnessPolicy, witness_latest

COLD_APPEND = """
import sys, time
from govcloud import signing
from govcloud.ledger import Ledger
start = time.perf_counter()
key = signing.load_private_key(sys.argv[2])
Ledger(sys.argv[1], key).append("deploy", {"env": "lab"}, sys.argv[3], "ci-runner", "one more, cold")
print(time.perf_counter() - start)
"""


def witnessed(directory: Path, key: signing.PrivateKey, evidence: Path, appends: int, work: Path, tag: str) -> None:
    """Witnessing on the full ledger, and verification with a quorum (see the module docstring)."""
    ledger = Ledger(directory, key)
    origin = ledger.meta().log_id
    trusted = {key.public_key.key_id: key.public_key}
    everyone = []
    for count in (1, 3):
        witnesses = [Witness(work / f"witness-{algorithm_name(key)}-{count}-{i}", f"w{i}.bench.hunan.gov.cn/witness",
                             signing.generate(key.algorithm), {origin: key.public_key}) for i in range(count)]
        for witness in witnesses:  # catch up once (from size 0: no proof needed)
            witness_latest(ledger, witness.note_key, witness.add_checkpoint)
        start = time.perf_counter()
        for i in range(appends):
            ledger.append("check", {"env": "province"}, evidence, actor="ci-runner", summary=f"witnessed {count} {i}")
            for witness in witnesses:
                witness_latest(ledger, witness.note_key, witness.add_checkpoint)
        seconds = time.perf_counter() - start
        print(f"[{tag}] {appends:,} appends, each cosigned at once by {count} witness{'es' if count > 1 else ''} "
              f"(proof checked, state fsynced): {seconds:.1f} s, {appends / seconds:,.0f} appends/s")
        everyone = witnesses
    ledger.close()
    policy = WitnessPolicy(tuple(w.note_key for w in everyone), 2)
    start = time.perf_counter()
    report = verify_ledger(directory, trusted, witnesses=policy)
    seconds = time.perf_counter() - start
    assert report.ok and report.witnessed and len(report.witnessed["cosigners"]) == 3, report.problems[:3]
    print(f"[{tag}] full verify of {report.size:,} entries with a quorum of 2 of 3 cosignatures: {seconds:.1f} s, "
          f"{report.size / seconds:,.0f} entries/s")
    start = time.perf_counter()
    proof = Ledger(directory).prove(report.size // 3)
    check_inclusion(proof, trusted, witnesses=policy)
    print(f"[{tag}] inclusion proof against the witnessed checkpoint, made and checked with the quorum: "
          f"{(time.perf_counter() - start) * 1000:.1f} ms")


def algorithm_name(key: signing.PrivateKey) -> str:
    return key.algorithm


def run(entries: int, algorithm: str, work: Path, witnessed_appends: int = 0) -> None:
    key = signing.generate(algorithm)
    directory = work / f"ledger-{algorithm}"
    evidence = work / "evidence.json"
    evidence.write_text(json.dumps({"certificate": "x" * 2000}))
    step = max(1, entries // 20)
    start = time.perf_counter()
    with Ledger(directory, key) as ledger:
        for i in range(entries):
            ledger.append(
                ("review", "certificate", "deploy", "diff")[i % 4],
                {"env": "province", "stack": f"province.t-{430100 + i % 4000}-dept", "tenant": f"t-{430100 + i % 4000}-dept"},
                evidence,
                actor="zhang-wei",
                summary=f"review certificate {i}: 0 blocking findings, 2 waivers",
            )
            if (i + 1) % step == 0:
                print(f"  {i + 1:>7} appended, {(i + 1) / (time.perf_counter() - start):,.0f}/s", file=sys.stderr, flush=True)
    append_seconds = time.perf_counter() - start
    log_bytes = (directory / "log.jsonl").stat().st_size
    print(f"[{algorithm}] append {entries:,} entries (fsync + signed head each): {append_seconds:.1f} s, "
          f"{entries / append_seconds:,.0f} entries/s; log {log_bytes / 1e6:.1f} MB")

    key_file = work / f"{algorithm}.key"
    key_file.write_text(key.to_pem())
    cold = float(subprocess.run([sys.executable, "-c", COLD_APPEND, str(directory), str(key_file), str(evidence)],
                                capture_output=True, text=True, check=True).stdout)
    print(f"[{algorithm}] one append from a fresh process at size {entries:,} (open, lock, frontier, sign, fsync): {cold * 1000:.1f} ms")

    trusted = {key.public_key.key_id: key.public_key}
    start = time.perf_counter()
    report = verify_ledger(directory, trusted)
    verify_seconds = time.perf_counter() - start
    assert report.ok and report.size == entries + 1, report.problems[:3]
    print(f"[{algorithm}] full verify of {report.size:,} entries and {report.heads:,} signatures: {verify_seconds:.1f} s, "
          f"{report.size / verify_seconds:,.0f} entries/s")

    reader = Ledger(directory)
    index = entries // 3
    start = time.perf_counter()
    proof = reader.prove(index)
    prove_ms = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    check_inclusion(proof, trusted)
    check_ms = (time.perf_counter() - start) * 1000
    size = len(json.dumps(proof, sort_keys=True, indent=2))
    print(f"[{algorithm}] inclusion proof of entry {index:,} in {report.size:,}: {len(proof['audit_path'])} hashes, "
          f"{size:,} bytes JSON; made in {prove_ms:.1f} ms, checked offline in {check_ms:.1f} ms")
    old = reader.prove(0, size=entries // 2)["tree_head"]
    from govcloud.ledger import head_from_dict

    start = time.perf_counter()
    consistency = reader.consistency(head_from_dict(old, "old"))
    consistency_ms = (time.perf_counter() - start) * 1000
    check_consistency(consistency, trusted)
    print(f"[{algorithm}] consistency proof {entries // 2:,} -> {report.size:,}: {len(consistency['proof'])} hashes, made in {consistency_ms:.1f} ms")
    if witnessed_appends:
        witnessed(directory, key, evidence, witnessed_appends, work, algorithm)


def main() -> None:
    args = sys.argv[1:]
    entries = int(args[0]) if args and args[0].isdigit() else 100_000
    sm2_entries = int(args[args.index("--sm2") + 1]) if "--sm2" in args else 10_000
    witnessed_appends = int(args[args.index("--witnessed") + 1]) if "--witnessed" in args else 1_000
    with tempfile.TemporaryDirectory(prefix="govcloud-ledger-bench-") as work:
        run(entries, signing.ED25519, Path(work), witnessed_appends)
        if sm2_entries:
            run(sm2_entries, signing.SM2, Path(work), witnessed_appends // 10)


if __name__ == "__main__":
    main()
