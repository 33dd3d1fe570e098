"""A separate process that appends to a ledger, optionally dying at a chosen point.

usage: ledger_child.py KEY DIR EVIDENCE MODE COUNT [TAG] [GO_FILE]
MODE: normal | half-write | half-write-batch | before-log | before-fsync
Prints each appended index as soon as its append returned (the caller's acknowledgement).
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from govcloud import signing
from govcloud.ledger import Ledger, Record, store


def die(*_args, **_kwargs):
    os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    key_path, directory, evidence, mode, count = sys.argv[1:6]
    tag = sys.argv[6] if len(sys.argv) > 6 else "child"
    go = Path(sys.argv[7]) if len(sys.argv) > 7 else None
    key = signing.load_private_key(key_path)
    if mode in ("half-write", "half-write-batch"):

        def half(fd: int, data: bytes) -> None:
            os.write(fd, data[: len(data) // 2])
            die()

        store._write_all = half
    elif mode == "before-log":
        store.SignedCheckpoint.sign = classmethod(die)
    elif mode == "before-fsync":
        os.fsync = die
    while go is not None and not go.exists():
        time.sleep(0.001)
    with Ledger(directory, key) as ledger:
        for i in range(int(count)):
            if mode == "half-write-batch":
                ledger.append_many(Record("deploy", {"env": "lab"}, Path(evidence), "li-ming", f"{tag} {i}.{j}") for j in range(3))
                continue
            receipt = ledger.append("deploy", {"env": "lab"}, evidence, "li-ming", f"{tag} {i}")
            print(receipt.index, flush=True)


if __name__ == "__main__":
    main()
