"""The hostile-input suite's fixtures: a fork server running ``govcloud`` commands with a hard
time limit (``runner.py``), workspaces holding a copy of the lab inventory, and the checks every
refusal must pass: exit 2, no traceback, no hang, nothing written."""

from __future__ import annotations

import hashlib
import json
import os
import select
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LAB = REPO / "inventories" / "lab"
RUNNER = Path(__file__).with_name("runner.py")
GOVCLOUD = str(Path(sys.executable).parent / "govcloud")
# A command on bad input answers in well under a second; the limit only bounds a hang.
TIME_LIMIT = float(os.environ.get("GOVCLOUD_HOSTILE_TIMEOUT", "60"))


def clean_env(home: Path) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8", "GOVCLOUD_NONINTERACTIVE": "1", "COLUMNS": "200",
            "GOVCLOUD_CACHE_DIR": "off", "GOVCLOUD_ACTOR": "hostile-test"}


@dataclass(frozen=True)
class Result:
    argv: tuple[str, ...]
    returncode: int | None
    stdout: str
    stderr: str
    timed_out: bool
    seconds: float

    def __str__(self) -> str:
        return (f"govcloud {' '.join(self.argv)!s:.300}\n  exit {self.returncode} in {self.seconds}s{' (TIMED OUT)' if self.timed_out else ''}"
                f"\n  stdout: {self.stdout[-1500:]}\n  stderr: {self.stderr[-1500:]}")


class Govcloud:
    """``govcloud`` through the fork server; ``real`` runs the installed console script."""

    def __init__(self) -> None:
        self.server: subprocess.Popen | None = None

    def _start(self) -> subprocess.Popen:
        if self.server is None or self.server.poll() is not None:
            self.server = subprocess.Popen([sys.executable, str(RUNNER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                           cwd=REPO, env={**clean_env(Path("/nonexistent")), "PYTHONPATH": os.environ.get("PYTHONPATH", "")})
        return self.server

    def __call__(self, *argv: str | Path, cwd: Path, env: dict[str, str] | None = None, timeout: float = TIME_LIMIT) -> Result:
        args = tuple(str(a) for a in argv)
        server = self._start()
        assert server.stdin is not None and server.stdout is not None
        server.stdin.write(json.dumps({"argv": args, "cwd": str(cwd), "env": {**clean_env(cwd), **(env or {})}, "timeout": timeout}) + "\n")
        server.stdin.flush()
        ready, _, _ = select.select([server.stdout], [], [], timeout + 60)
        if not ready:  # the server itself is stuck: never wait on it
            server.kill()
            self.server = None
            pytest.fail(f"the fork server did not answer for govcloud {' '.join(args)}")
        line = server.stdout.readline()
        if not line:
            self.server = None
            pytest.fail(f"the fork server died running govcloud {' '.join(args)}")
        answer = json.loads(line)
        return Result(args, answer["returncode"], answer["stdout"], answer["stderr"], answer["timed_out"], answer["seconds"])

    def real(self, *argv: str | Path, cwd: Path, timeout: float = TIME_LIMIT) -> Result:
        """The installed console script in a subprocess (a timeout fails the test)."""
        args = tuple(str(a) for a in argv)
        try:
            done = subprocess.run([GOVCLOUD, *args], cwd=cwd, env=clean_env(cwd), capture_output=True, text=True, timeout=timeout,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            pytest.fail(f"govcloud {' '.join(args)} did not finish within {timeout}s")
        return Result(args, done.returncode, done.stdout, done.stderr, False, 0.0)

    def close(self) -> None:
        if self.server is not None and self.server.poll() is None:
            assert self.server.stdin is not None
            self.server.stdin.close()
            try:
                self.server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.server.kill()


@pytest.fixture(scope="session")
def govcloud():
    runner = Govcloud()
    yield runner
    runner.close()


def snapshot(root: Path) -> dict[str, tuple]:
    """Everything under ``root``: type, size, content digest, link target (nothing followed)."""
    found: dict[str, tuple] = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        info = path.lstat()
        if path.is_symlink():
            found[relative] = ("link", os.readlink(path))
        elif path.is_dir():
            found[relative] = ("dir",)
        elif path.is_file():
            found[relative] = ("file", info.st_size, hashlib.sha256(path.read_bytes()).hexdigest())
        else:
            found[relative] = ("special", info.st_mode)
    return found


def make_workspace(root: Path) -> Path:
    """``root`` with a copy of the lab inventory under inventories/lab."""
    shutil.copytree(LAB, root / "inventories" / "lab", symlinks=True)
    return root


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return make_workspace(tmp_path / "work")


def refused(result: Result, *names: str, code: int = 2) -> None:
    """Bad input: exit ``code`` (2), no traceback, no hang, and each of ``names`` in the message."""
    assert not result.timed_out, f"hung (killed after the time limit):\n{result}"
    assert "Traceback" not in result.stderr + result.stdout, f"traceback:\n{result}"
    assert result.returncode == code, f"exit {result.returncode}, expected {code}:\n{result}"
    message = result.stderr + result.stdout
    for name in names:
        assert name in message, f"{name!r} not named:\n{result}"


class Unchanged:
    """``with Unchanged(root):`` fails if anything under ``root`` was created, changed or removed."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def __enter__(self) -> Unchanged:
        self.before = snapshot(self.root)
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            after = snapshot(self.root)
            changed = sorted(set(self.before.items()) ^ set(after.items()))
            assert not changed, f"written under {self.root}: {changed[:10]}"
