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


def test_an_engine_test_that_skips_fails_in_ci(tmp_path: Path) -> None:
    """tests/engine skip from a fixture without the built engine or root (as test_lab_deploy's
    site does); in CI that skip must fail the run like a lab test's, and the test carries the
    `engine` marker that keeps it out of `make test-fast`."""
    tests = tmp_path / "tests"
    (tests / "engine").mkdir(parents=True)
    shutil.copy(REPO / "tests" / "conftest.py", tests / "conftest.py")
    (tests / "engine" / "test_live.py").write_text(
        "import pytest\n\n@pytest.fixture(scope='module')\ndef site():\n    pytest.skip('pulumi is not built (make binaries)')\n\n"
        "def test_deploy(site):\n    assert site\n\ndef test_other():\n    assert 2 * 2 == 4\n"
    )
    assert _pytest(tests, ci=False) == 0
    assert _pytest(tests, ci=True) == 1
    assert _pytest(tests, False, "-m", "not engine") != 0  # the marker deselects both: nothing ran
