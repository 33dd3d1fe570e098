"""The committed JSON Schemas match the model, are strict, and accept the lab's documents."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from govcloud.model import schema
from govcloud.model.source import load_yaml_file

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "schemas"
LAB = REPO / "inventories" / "lab"


def test_committed_schemas_match_the_model() -> None:
    assert schema.stale(SCHEMAS) == [], "run `govcloud schema export`"


def _validator(name: str) -> jsonschema.Draft202012Validator:
    document = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(document)
    return jsonschema.Draft202012Validator(document)


@pytest.mark.parametrize("path", [LAB / "platform.yaml", *sorted((LAB / "tenants").glob("*.yaml"))], ids=lambda p: p.name)
def test_lab_documents_validate_against_their_schema(path: Path) -> None:
    name = "platform" if path.name == "platform.yaml" else "tenant"
    first_line = path.read_text(encoding="utf-8").splitlines()[0]
    assert first_line.startswith("# yaml-language-server: $schema=") and first_line.endswith(f"schemas/{name}.schema.json")
    assert (path.parent / first_line.split("=", 1)[1]).resolve() == (SCHEMAS / f"{name}.schema.json").resolve()
    errors = list(_validator(name).iter_errors(load_yaml_file(path).data))
    assert errors == []


def test_schema_rejects_unknown_keys_like_the_model() -> None:
    data = load_yaml_file(LAB / "tenants" / "t-430100-health.yaml").data
    data["quota"] = {}
    messages = [e.message for e in _validator("tenant").iter_errors(data)]
    assert any("quota" in m and "not allowed" in m for m in messages)


def test_reference_pages_describe_every_field() -> None:
    page = (SCHEMAS / "tenant.md").read_text(encoding="utf-8")
    for field in ("department", "mlps_level", "administrators", "datasets", "services", "review_by", "sharing", "uscc"):
        assert f"`{field}`" in page
