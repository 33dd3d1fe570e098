"""The suite's own guard rails: nothing run is a failure, and a skip is a failure in CI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _pytest(directory: Path, ci: bool, *args: str) -> int:
    env = {k: v for k, v in os.environ.items() if k != "GOVCLOUD_CI"}
    if ci:
        env["GOVCLOUD_CI"] = "1"
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args, str(directory)],
                          env=env, capture_output=True, text=True, cwd=directory).returncode


def test_skips_fail_only_in_ci_and_empty_runs_always_fail(tmp_path: Path) -> None:
    shutil.copy(REPO / "tests" / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_sample.py").write_text(
        "import pytest\n\ndef test_ok():\n    assert 1 + 1 == 2\n\n"
        "@pytest.mark.skip(reason='needs the lab')\ndef test_lab():\n    pass\n"
    )
    assert _pytest(tmp_path, ci=False) == 0
    assert _pytest(tmp_path, ci=True) == 1
    assert _pytest(tmp_path, False, "-k", "no_such_test") != 0
