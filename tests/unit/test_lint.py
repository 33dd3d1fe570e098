"""`make lint` in the test suite: ruff and mypy pass, with the configuration in pyproject.toml.

`make lint` prints their findings directly; these tests make `make test` (CI) fail on them too.
Both tools come with the test extras (`make install`), so neither test ever skips.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "pyproject.toml"


def _run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_ruff_passes() -> None:
    done = _run("ruff", "check", "--no-fix", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_passes() -> None:
    done = _run("mypy")
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_configuration_catches_real_defects(tmp_path: Path) -> None:
    """The rules in force find a mutable default, an unused import and a type error in an
    unannotated function (check_untyped_defs), so a passing lint means something."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import os\n"
        "\n"
        "\n"
        "def remember(item, seen=[]):\n"
        "    seen.append(item)\n"
        "    return len(seen) + 'one'\n",
        encoding="utf-8",
    )
    ruff = _run("ruff", "check", "--no-fix", "--no-cache", "--config", str(CONFIG), "--output-format", "concise", str(sample))
    assert ruff.returncode == 1
    assert "F401" in ruff.stdout and "B006" in ruff.stdout, ruff.stdout
    mypy = _run("mypy", "--config-file", str(CONFIG), "--no-incremental", str(sample), cwd=tmp_path)
    assert mypy.returncode == 1
    assert 'Unsupported operand types for + ("int" and "str")' in mypy.stdout, mypy.stdout
