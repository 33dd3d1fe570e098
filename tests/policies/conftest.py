"""Fixtures for the policy tests: the lab model, compliant desired states, and one running pack.

The pack is started once per session exactly as ``govcloud check`` (and the engine) start it,
and configured with the lab's generated configuration; every rule test goes through the
analyzer protocol, so what is tested is what runs.
"""

from __future__ import annotations

import datetime as dt

import pytest

from govcloud.check.run import CheckSession
from govcloud.model import load_environment

from policy_builders import all_states
from policy_helpers import INVENTORIES, PACK, TODAY


@pytest.fixture(scope="session")
def lab():
    return load_environment("lab", INVENTORIES)


@pytest.fixture(scope="session")
def lab_states(lab):
    return {s.stack: s for s in all_states(lab)}


@pytest.fixture(scope="session")
def lab_session(lab):
    with CheckSession(lab, PACK) as session:
        yield session


@pytest.fixture
def verdicts(lab_session):
    """Check states with the lab session; returns the results as a list."""

    def run(*states, today: dt.date = TODAY):
        return lab_session.check(list(states), today).results

    return run
