"""Property tests: whatever a department writes, govcloud answers with a model or a clean list
of problems (file, line, field, message), never with another exception."""

from __future__ import annotations

from pathlib import Path

import yaml
from budget import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govcloud.inventory_io import dump_document
from govcloud.model import Environment, InputError, load_environment

REPO = Path(__file__).resolve().parents[2]
INVENTORIES = REPO / "inventories"
HEALTH = INVENTORIES / "lab" / "tenants" / "t-430100-health.yaml"
BASE = yaml.safe_load(HEALTH.read_text(encoding="utf-8"))

values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**12) | st.floats(allow_nan=False) | st.text(max_size=30)
    | st.sampled_from(["430100", "egov-1", "../..", "16Gi", "t-430100-hrss/social-insurance", "conditional", "卫健委"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=8,
)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, prefix + (index,))


PATHS = [p for p in _paths(BASE) if p]


def _replace(doc, path, value):
    import copy

    doc = copy.deepcopy(doc)
    target = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return doc


def _check(content: bytes) -> None:
    try:
        env = load_environment("lab", INVENTORIES, extra_tenants={HEALTH: content})
    except InputError as error:
        assert error.problems
        for problem in error.problems:
            assert problem.file and problem.message and problem.line >= 0
        return
    assert isinstance(env, Environment)


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(PATHS), value=values)
def test_any_field_value(path, value) -> None:
    _check(dump_document(_replace(BASE, path, value), "tenant", 3).encode("utf-8"))


@settings(max_examples=examples(60), deadline=None)
@given(key=st.text(max_size=20), value=values)
def test_any_extra_key(key, value) -> None:
    doc = dict(BASE)
    doc[key] = value
    _check(dump_document(doc, "tenant", 3).encode("utf-8"))


@settings(max_examples=examples(100), deadline=None)
@given(content=st.binary(max_size=400) | st.text(max_size=400).map(lambda t: t.encode("utf-8")))
def test_any_bytes(content) -> None:
    _check(content)
