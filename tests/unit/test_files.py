"""Files from users and files for users: no hang on a FIFO, no write through a link, no
temporary name in an error, and no recorded evidence replaced.

Every command runs in a process of its own with a time limit (tests/forkserver.py): a hang is
killed and fails the test, never a slow pass.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govcloud import files
from govcloud.files import output_problem, read_regular, write_output, write_pieces

from forkserver import Result, govcloud

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 60


def run(*args: str | Path, cwd: Path) -> Result:
    return govcloud(*args, cwd=cwd, timeout=TIMEOUT,
                    env={"PATH": "/usr/bin:/bin", "GOVCLOUD_NONINTERACTIVE": "1", "COLUMNS": "300", "GOVCLOUD_CACHE_DIR": "off"})


def refused(result: Result, *fragments: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and ".tmp" not in result.stderr, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "inventories" / "lab", tmp_path / "inventories" / "lab")
    return tmp_path


# --- reading ---------------------------------------------------------------------------------
def test_read_regular_refuses_what_is_not_a_regular_file(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path, kind in ((fifo, "a FIFO"), (tmp_path, "a directory"), (Path("/dev/zero"), "a character device")):
        with pytest.raises(OSError) as caught:
            read_regular(path)
        assert kind in caught.value.strerror and caught.value.filename == str(path)
    big = tmp_path / "big"
    big.write_bytes(b"x" * 11)
    with pytest.raises(OSError, match="limit is 10 bytes"):
        read_regular(big, 10)
    assert read_regular(big, 11) == b"x" * 11


@pytest.mark.parametrize("where", ["tenants/t-430100-health.yaml", "tenants/t-430100-extra.yaml", "waivers.yaml", "platform.yaml"])
def test_a_fifo_in_the_inventory_is_refused_at_once(workdir: Path, where: str) -> None:
    path = workdir / "inventories" / "lab" / where
    path.unlink(missing_ok=True)
    os.mkfifo(path)
    refused(run("validate", cwd=workdir), f"inventories/lab/{where}", "is a FIFO, not a regular file")


def test_waivers_as_a_directory(workdir: Path) -> None:
    (workdir / "inventories" / "lab" / "waivers.yaml").mkdir()
    refused(run("validate", cwd=workdir), "waivers.yaml", "is a directory")


def test_tenants_as_a_regular_file_is_not_zero_tenants(workdir: Path) -> None:
    tenants = workdir / "inventories" / "lab" / "tenants"
    shutil.rmtree(tenants)
    tenants.write_text("t-430100-health\n", encoding="utf-8")
    refused(run("validate", cwd=workdir), "inventories/lab/tenants", "must be a directory")


def test_links_out_of_the_repository_are_refused(workdir: Path, tmp_path_factory) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    lab = workdir / "inventories" / "lab"
    shutil.move(lab / "tenants", elsewhere / "tenants")
    (lab / "tenants").symlink_to(elsewhere / "tenants")
    refused(run("validate", cwd=workdir), "inventories/lab/tenants", "symbolic links are not followed")
    (lab / "tenants").unlink()
    shutil.move(elsewhere / "tenants", lab / "tenants")
    shutil.move(lab, elsewhere / "lab")
    (workdir / "inventories" / "lab").symlink_to(elsewhere / "lab")
    refused(run("validate", cwd=workdir), "inventories/lab", "symbolic links are not followed")


def test_fifos_given_on_the_command_line(workdir: Path) -> None:
    fifo = workdir / "fifo"
    os.mkfifo(fifo)
    refused(run("tenant", "validate", fifo, cwd=workdir), "is a FIFO")
    refused(run("keys", "show", fifo, cwd=workdir), "is a FIFO")
    refused(run("ledger", "append", "--ledger", "ledger", "--ledger-key", fifo, "--kind", "check", "--env", "lab", "--evidence", fifo,
                "--summary", "s", cwd=workdir), "is a FIFO")
    refused(run("report", "--env", "lab", "--report-dir", workdir / "report", "--baseline", fifo, cwd=workdir), "is a FIFO")
    refused(run("diff", "--from-preview", fifo, cwd=workdir), "is a FIFO")


# --- writing ---------------------------------------------------------------------------------
def test_write_output_never_through_a_link_and_keeps_modes(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious", encoding="utf-8")
    link = tmp_path / "link"
    link.symlink_to(victim)
    with pytest.raises(OSError) as caught:
        write_output(link, "new")
    assert caught.value.filename == str(link) and "symbolic link" in caught.value.strerror
    assert victim.read_text(encoding="utf-8") == "precious"
    assert "directory" in (output_problem(tmp_path) or "")
    kept = tmp_path / "kept"
    kept.write_text("old", encoding="utf-8")
    kept.chmod(0o640)
    write_output(kept, "new")
    assert kept.read_text(encoding="utf-8") == "new" and stat.S_IMODE(kept.stat().st_mode) == 0o640
    fresh = tmp_path / "fresh"
    write_output(fresh, "x")
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~_umask()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


@given(pieces=st.lists(st.binary(max_size=40), max_size=1200), limits=st.lists(st.integers(1, 97), min_size=1, max_size=8))
def test_pieces_are_written_whole_and_in_order_through_short_writes(pieces: list[bytes], limits: list[int]) -> None:
    """More pieces than one writev takes, and a writev that stops short (as a signal or a full
    pipe makes it) anywhere, even inside a piece: the file holds the pieces joined."""
    calls = iter(limits * 10_000)
    real_writev = os.writev

    def short_writev(fd: int, buffers: list) -> int:
        assert len(buffers) <= 1024  # IOV_MAX
        return real_writev(fd, [b"".join(bytes(b) for b in buffers)[:next(calls)]])

    read, write = os.pipe()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(files.os, "writev", short_writev)
            expected = b"".join(pieces)
            assert len(expected) < 65536  # the pipe holds it all: nothing reads while it is written
            write_pieces(write, [memoryview(p) if i % 2 else p for i, p in enumerate(pieces)])
        os.close(write)
        write = -1
        got = b""
        while chunk := os.read(read, 65536):
            got += chunk
        assert got == expected
    finally:
        os.close(read)
        if write >= 0:
            os.close(write)


def test_write_output_writes_pieces_as_one_file(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    write_output(target, [b"{", memoryview(b'"a": 1'), b"", b"}"])
    assert target.read_bytes() == b'{"a": 1}' and not list(tmp_path.glob("*.tmp"))


def test_errors_name_the_target_not_the_temporary_file(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(OSError) as caught:
        write_output(blocker / "out.json", "x")
    assert caught.value.filename == str(blocker / "out.json")


def test_review_out_a_directory_names_it(workdir: Path) -> None:
    (workdir / "certs").mkdir()
    assert run("keys", "generate", "sec", cwd=workdir).returncode == 0
    refused(run("review", "--env", "lab", "-s", "t-430100-health", "--reviewer", "sec-liwei", "--key", "sec.key", "--out", "certs", cwd=workdir),
            "--out certs: is a directory")


@pytest.mark.parametrize("command", [
    ("check", "--env", "lab", "-o", "json", "--out", "link.json"),
    ("baseline", "verify", "--env", "lab", "--out", "link.json"),
    ("ledger", "head", "--ledger", "ledger", "--out", "link.json"),
    ("diff", "--from-dir", "a", "--to-dir", "b", "--out", "link.json"),
])
def test_outputs_are_never_written_through_a_link(workdir: Path, command: tuple[str, ...]) -> None:
    victim = workdir / "victim.txt"
    victim.write_text("precious\n", encoding="utf-8")
    (workdir / "link.json").symlink_to(victim)
    result = run(*command, cwd=workdir)
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
    assert victim.read_text(encoding="utf-8") == "precious\n"
    assert "symbolic link" in result.stderr or command[0] == "ledger", result.stderr


def test_keys_are_not_written_through_a_dangling_link(workdir: Path) -> None:
    (workdir / "k.pub.pem").symlink_to(workdir / "planted.pem")
    refused(run("keys", "generate", "k", cwd=workdir), "already exists")
    assert not (workdir / "planted.pem").exists() and not (workdir / "k.key").exists()


def test_recorded_evidence_is_never_overwritten(workdir: Path) -> None:
    """An auditor checks each evidence file against the digest its entry recorded: a second
    check (or diff) into the same --out must not replace it. The command stops before any work."""
    assert run("keys", "generate", "signer", cwd=workdir).returncode == 0
    report = workdir / "check.json"
    report.write_text('{"recorded": true}\n', encoding="utf-8")
    appended = run("ledger", "append", "--ledger", "ledger", "--ledger-key", "signer.key", "--kind", "check", "--env", "lab",
                   "--evidence", "check.json", "--summary", "first check", cwd=workdir)
    assert appended.returncode == 0, appended.stderr
    for command in (("check", "--env", "lab", "-o", "json"), ("diff", "--from-dir", "a", "--to-dir", "b", "-o", "json")):
        result = run(*command, "--out", "check.json", "--ledger", "ledger", "--ledger-key", "signer.key", cwd=workdir)
        refused(result, "--out check.json: is the evidence of ledger entry 0", "never overwritten")
        assert report.read_text(encoding="utf-8") == '{"recorded": true}\n'
    verified = run("ledger", "verify", "--ledger", "ledger", "--key", "signer.pub.pem", "--evidence-root", ".", cwd=workdir)
    assert verified.returncode == 0, verified.stdout + verified.stderr
