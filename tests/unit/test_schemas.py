"""The committed JSON Schemas match the model, are strict, and accept the lab's documents."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from govcloud.model import schema
from govcloud.model.source import load_yaml_bytes, load_yaml_file

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
    for name in schema.DOCUMENTS:
        generated = schema.json_schema(name)
        undescribed = [f"{where}.{field}" for where, definition in [("top", generated), *generated.get("$defs", {}).items()]
                       for field, prop in definition.get("properties", {}).items() if not prop.get("description")]
        assert undescribed == [], f"{name}: fields without a description: {undescribed}"
    page = (SCHEMAS / "tenant.md").read_text(encoding="utf-8")
    for field in ("department", "mlps_level", "administrators", "datasets", "services", "review_by", "sharing", "uscc"):
        assert f"`{field}`" in page


def test_reference_pages_follow_the_document_and_end_with_a_complete_example() -> None:
    """Sections in the order the document is written (not alphabetical), then an example that
    validates and uses every field of the document."""
    page = (SCHEMAS / "tenant.md").read_text(encoding="utf-8")
    headings = [line[3:] for line in page.splitlines() if line.startswith("## ")]
    assert headings[:4] == ["Top level", "Department", "QuotaOverride", "LimitOverride"], headings
    assert headings.index("Administrators") < headings.index("Person") < headings.index("Change") < headings.index("Approval")
    assert headings[-1] == "Example" and "```yaml\n" in page
    for name in schema.DOCUMENTS:
        generated = schema.json_schema(name)
        data = load_yaml_bytes(f"{name} example", schema.example(name).encode("utf-8")).data
        assert list(_validator(name).iter_errors(data)) == [], name
        missing = sorted(_paths(generated, generated) - _paths_of(data))
        assert missing == [], f"{name}: the example does not show {missing}"


def test_the_examples_validate_in_the_lab(tmp_path: Path) -> None:
    import shutil

    from govcloud.model import load_environment

    shutil.copytree(LAB, tmp_path / "lab")
    (tmp_path / "lab" / "platform.yaml").write_text(schema.example("platform"), encoding="utf-8")
    (tmp_path / "lab" / "waivers.yaml").write_text(schema.example("waivers"), encoding="utf-8")
    draft = tmp_path / "tenant-example.yaml"
    draft.write_text(schema.example("tenant"), encoding="utf-8")
    env = load_environment("lab", tmp_path, extra_tenants={draft: draft.read_bytes()})
    assert "t-430100-water" in {t.id for t in env.tenants} and len(env.waivers) == 3 and env.platform.evidence.ledgers


def _paths(node: dict, root: dict, prefix: str = "") -> set[str]:
    """Every field path a document can have (lists as [])."""
    found: set[str] = set()
    if "$ref" in node:
        return _paths(root["$defs"][node["$ref"].rsplit("/", 1)[-1]], root, prefix)
    for option in node.get("anyOf", []):
        if option.get("type") != "null":
            found |= _paths(option, root, prefix)
    if node.get("type") == "array" and "items" in node:
        found |= _paths(node["items"], root, prefix + "[]")
    for field, prop in node.get("properties", {}).items():
        path = f"{prefix}.{field}" if prefix else field
        found.add(path)
        found |= _paths(prop, root, path)
    return found


def _paths_of(data, prefix: str = "") -> set[str]:
    found: set[str] = set()
    if isinstance(data, dict):
        for key, value in data.items():
            path = f"{prefix}.{key}" if prefix else key
            found |= {path} | _paths_of(value, path)
    elif isinstance(data, list):
        for item in data:
            found |= _paths_of(item, prefix + "[]")
    return found
