"""Bad files given on the command line, to every command that reads one: certificates, proofs,
saved checkpoints, keys, previews, check results, baseline reports, tenant drafts.

Each file kind is something a user can hand over by mistake or by malice: empty, not JSON,
non-UTF-8, 100,000 nested brackets, a 5,000-digit number, duplicate keys, wrong JSON types, Rich
markup, a FIFO (which blocks a plain read forever), a directory, a character device, a dangling
link. Every command must exit 2 naming the file, print no traceback, finish within the time
limit and write nothing.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from govcloud import signing

from .conftest import Unchanged, make_workspace, refused

BAD_CONTENT: dict[str, bytes] = {
    "empty": b"",
    "not JSON": b"certainly not json\n",
    "non-UTF-8": b'{"summary": "\xb3\xa4\xc9\xb3\xff"}',
    "deep nesting": b"[" * 100_000,
    "huge number": b'{"size": 1' + b"0" * 5000 + b"}",
    "huge float": b'{"size": 1e99999}',
    "duplicate keys": b'{"size": 1, "size": 2}',
    "wrong types": b'{"reviewer": "x", "inputs": [], "signature": 5, "tree_head": [], "entry": "e", "old_head": 1}',
    "a list": b"[1, 2, 3]",
    "a string": b'"just a string"',
    "Rich markup": b'{"[/x]": "[bold]", "payloadType": "[/x]"}',
    "NaN": b'{"size": NaN}',
}
SPECIAL = ["FIFO", "directory", "character device", "dangling link"]
# Every kind in CI and with GOVCLOUD_HOSTILE_FULL=1; the developer's default keeps one of each family.
FULL = os.environ.get("GOVCLOUD_CI") == "1" or os.environ.get("GOVCLOUD_HOSTILE_FULL") == "1"
KINDS = list(BAD_CONTENT) + SPECIAL if FULL else ["non-UTF-8", "deep nesting", "huge number", "wrong types", "FIFO", "character device"]

# (name, argv with {f} for the bad file): every command that reads a file named on its command line.
COMMANDS: list[tuple[str, tuple[str, ...]]] = [
    ("review verify", ("review", "verify", "{f}", "--signature-only")),
    ("review verify (json)", ("-o", "json", "review", "verify", "{f}")),
    ("ledger check-proof", ("ledger", "check-proof", "{f}", "--key", "keys/ledger.pub.pem")),
    ("ledger check-proof --evidence", ("ledger", "check-proof", "proof.json", "--key", "keys/ledger.pub.pem", "--evidence", "{f}")),
    ("ledger verify --since", ("ledger", "verify", "--ledger", "ledger", "--key", "keys/ledger.pub.pem", "--since", "{f}")),
    ("ledger consistency", ("ledger", "consistency", "{f}", "--ledger", "ledger")),
    ("ledger verify --key", ("ledger", "verify", "--ledger", "ledger", "--key", "{f}")),
    ("ledger append --ledger-key", ("ledger", "append", "--ledger", "ledger", "--ledger-key", "{f}", "--kind", "check", "--env", "lab",
                                    "--evidence", "inventories/lab/platform.yaml", "--summary", "s")),
    ("keys show", ("keys", "show", "{f}")),
    ("diff --from-preview", ("diff", "--from-preview", "{f}")),
    ("report --baseline", ("report", "--report-dir", "out/report", "--baseline", "{f}")),
    ("report --check-report", ("report", "--report-dir", "out/report", "--check-report", "{f}")),
    ("tenant validate (draft)", ("tenant", "validate", "--no-check", "{f}")),
    ("policy rules --readme", ("policy", "rules", "--readme", "{f}")),
]


@pytest.fixture(scope="module")
def base(tmp_path_factory, govcloud) -> Path:
    """A workspace with the lab inventory, a ledger signing key and a ledger of one entry."""
    root = make_workspace(tmp_path_factory.mktemp("base"))
    keys = root / "keys"
    keys.mkdir()
    key = signing.generate(signing.ED25519)
    (keys / "ledger.key").write_text(key.to_pem(), encoding="utf-8")
    (keys / "ledger.pub.pem").write_text(key.public_key.to_pem(), encoding="utf-8")
    appended = govcloud("ledger", "append", "--ledger", "ledger", "--ledger-key", "keys/ledger.key", "--kind", "tenant-request",
                        "--env", "lab", "--evidence", "inventories/lab/platform.yaml", "--summary", "platform", cwd=root)
    assert appended.returncode == 0, appended
    assert govcloud("ledger", "verify", "--ledger", "ledger", "--key", "keys/ledger.pub.pem", cwd=root).returncode == 0
    assert govcloud("ledger", "prove", "0", "--ledger", "ledger", "--out", "proof.json", cwd=root).returncode == 0
    return root


def _bad_file(root: Path, kind: str) -> Path:
    path = root / "bad-input.json"
    if kind in BAD_CONTENT:
        path.write_bytes(BAD_CONTENT[kind])
    elif kind == "FIFO":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    elif kind == "character device":
        path.symlink_to("/dev/zero")
    else:
        path.symlink_to(root / "nowhere.json")
    return path


# Commands whose file is evidence to compare, not a document to parse: any content is a verdict
# (exit 1 when it is not the entry's evidence); only what cannot be read is bad input.
CONTENT_IS_A_VERDICT = {"ledger check-proof --evidence"}


def _cases():
    for name, argv in COMMANDS:
        for kind in [k for k in KINDS if k in SPECIAL] if name in CONTENT_IS_A_VERDICT else KINDS:
            yield pytest.param(name, argv, kind, id=f"{name}-{kind}")


@pytest.mark.parametrize("name, argv, kind", list(_cases()))
def test_bad_files_on_the_command_line(govcloud, base: Path, tmp_path: Path, name: str, argv: tuple[str, ...], kind: str) -> None:
    root = tmp_path / "work"
    shutil.copytree(base, root, symlinks=True)
    bad = _bad_file(root, kind)
    with Unchanged(root):
        result = govcloud(*(a.replace("{f}", bad.name) for a in argv), cwd=root)
    refused(result, bad.name)
