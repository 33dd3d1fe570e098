"""The hostile-input suite's fixtures: a fork server running ``govcloud`` commands with a hard
time limit (``tests/forkserver.py``), workspaces holding a copy of the lab inventory, and the checks every
refusal must pass: exit 2, no traceback, no hang, nothing written."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from forkserver import ForkServer, Result, real

REPO = Path(__file__).resolve().parents[2]
LAB = REPO / "inventories" / "lab"
# A command on bad input answers in well under a second; the limit only bounds a hang.
TIME_LIMIT = float(os.environ.get("GOVCLOUD_HOSTILE_TIMEOUT", "60"))


def clean_env(home: Path) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8", "GOVCLOUD_NONINTERACTIVE": "1", "COLUMNS": "200",
            "GOVCLOUD_CACHE_DIR": "off", "GOVCLOUD_ACTOR": "hostile-test"}


class Govcloud:
    """``govcloud`` through the fork server (tests/forkserver.py) in a clean environment; ``real``
    runs the installed console script."""

    def __init__(self) -> None:
        self.servers = ForkServer()

    def __call__(self, *argv: str | Path, cwd: Path, env: dict[str, str] | None = None, timeout: float = TIME_LIMIT) -> Result:
        try:
            return self.servers.run(*argv, cwd=cwd, env={**clean_env(cwd), **(env or {})}, timeout=timeout)
        except RuntimeError as error:  # the server itself is stuck or died
            pytest.fail(str(error))

    def real(self, *argv: str | Path, cwd: Path, timeout: float = TIME_LIMIT) -> Result:
        """The installed console script in a subprocess (a timeout fails the test)."""
        return real(*argv, cwd=cwd, env=clean_env(cwd), timeout=timeout)

    def close(self) -> None:
        self.servers.close()


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
