"""Session-wide rules: a run that executes no test fails, and in CI a skipped test fails;
every test is marked with its area, from its directory.

CI (``.ci/run``) sets GOVCLOUD_CI=1: lab tests may skip on a developer's machine without
root, never in CI, where a skip would hide that the real hosts were not exercised.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
# The area marker of each test directory (declared in pyproject.toml): `pytest -m policy` runs
# the policy tests, `make test-fast` everything but `lab`, `cluster` (the live control planes) and `engine`.
AREAS = {"unit": "unit", "stacks": "stacks", "policies": "policy", "audit": "audit", "ledger": "ledger", "infra": "lab", "hostile": "hostile",
         "clusters": "cluster", "engine": "engine"}


def pytest_configure(config: pytest.Config) -> None:
    # The inventory and verdict caches of every govcloud run in the tests live in a directory of
    # this session, never in the clone's build/cache (GOVCLOUD_CACHE_DIR=off: no cache at all).
    if "GOVCLOUD_CACHE_DIR" not in os.environ:
        os.environ["GOVCLOUD_CACHE_DIR"] = tempfile.mkdtemp(prefix="govcloud-test-cache-")
        config.add_cleanup(lambda: shutil.rmtree(os.environ.pop("GOVCLOUD_CACHE_DIR"), ignore_errors=True))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        try:
            parts = item.path.relative_to(TESTS).parts
        except ValueError:  # a test file given outside tests/
            continue
        if len(parts) < 2:
            continue  # beside this file: no area
        if parts[0] not in AREAS:
            raise pytest.UsageError(f"tests/{parts[0]}/ has no area marker: add it to AREAS in tests/conftest.py")
        item.add_marker(AREAS[parts[0]])


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    passed = len(reporter.stats.get("passed", []))
    skipped = len(reporter.stats.get("skipped", []))
    if passed == 0 and exitstatus == 0:
        reporter.write_line("govcloud: no test passed; a run that executes nothing is a failure", red=True)
        session.exitstatus = 1
    if os.environ.get("GOVCLOUD_CI") == "1" and skipped:
        reporter.write_line(f"govcloud: {skipped} test(s) skipped in CI; every test must run here", red=True)
        session.exitstatus = 1
