"""JSON Schemas generated from the model, and a Markdown reference page for each.

The schemas are committed under ``schemas/`` (editors read them through the
``# yaml-language-server: $schema=...`` line at the top of every inventory file) and a test
keeps them in sync with the model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from .platform import Platform
from .tenant import TenantRequest
from .waivers import WaiverFile

DOCUMENTS: dict[str, tuple[type[BaseModel], str, str]] = {
    "platform": (Platform, "inventories/<env>/platform.yaml", "The platform: regions, zones, flows, clusters, data pool, hosts, level profiles."),
    "tenant": (TenantRequest, "inventories/<env>/tenants/<tenant-id>.yaml", "A department's request for a tenant environment."),
    "waivers": (WaiverFile, "inventories/<env>/waivers.yaml", "Policy exceptions with scope, reason, approver and expiry."),
}
SCHEMA_BASE = "https://govcloud.example.gov.cn/schemas/"


def json_schema(name: str) -> dict[str, Any]:
    model, where, summary = DOCUMENTS[name]
    schema = model.model_json_schema(by_alias=True, mode="validation")
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{SCHEMA_BASE}{name}.schema.json",
        "title": f"govcloud {name}",
        "description": f"{summary} File: {where}",
        **{k: v for k, v in schema.items() if k not in ("title", "description")},
    }
    return schema


EXAMPLES = Path(__file__).parent / "examples"


def _type_of(prop: dict[str, Any]) -> list[tuple[str, str]]:
    """The type of a property as Markdown segments: (text | code | link, words)."""
    if "$ref" in prop:
        name = prop["$ref"].rsplit("/", 1)[-1]
        return [("link", name)]
    if "enum" in prop:
        out: list[tuple[str, str]] = []
        for value in prop["enum"]:
            out += ([("text", " | ")] if out else []) + [("code", str(value))]
        return out
    if "const" in prop:
        return [("code", str(prop["const"]))]
    for key in ("anyOf", "oneOf"):
        if key in prop:
            out = []
            for option in (p for p in prop[key] if p.get("type") != "null"):
                part = _type_of(option)
                if part and part not in [out[i:i + len(part)] for i in range(len(out))]:
                    out += ([("text", " or ")] if out else []) + part
            return out
    kind = prop.get("type", "any")
    if kind == "array":
        return [("text", "list of ")] + _type_of(prop.get("items", {}))
    if kind == "object" and "additionalProperties" in prop:
        return [("text", "map to ")] + _type_of(prop["additionalProperties"])
    if isinstance(kind, list):
        return [("text", " or ".join(kind))]
    fmt = prop.get("format")
    return [("text", f"{kind} ({fmt})" if fmt else str(kind))]


def _pattern_words() -> dict[str, str]:
    from . import codes
    from .types import SINGLE_LINE_PATTERN, TEXT_PATTERN

    return {TEXT_PATTERN: "one line of text, not blank", SINGLE_LINE_PATTERN: "one line of text",
            codes.DNS_LABEL_RE.pattern: "a DNS label (a-z, 0-9 and '-', starting with a letter)"}


def _constraints(prop: dict[str, Any]) -> list[tuple[str, str]]:
    parts: list[tuple[str, str]] = []
    words = _pattern_words()
    for key, label in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="), ("minLength", "min length"),
                       ("maxLength", "max length"), ("minItems", "min items"), ("maxItems", "max items"), ("pattern", "pattern")):
        target = prop
        if key not in prop:
            having = [p for p in prop.get("anyOf", []) if key in p]
            target = having[0] if len(having) == 1 else prop  # several ranges (a region code): the pattern says it
        if key not in target:
            continue
        if key == "pattern" and target[key] in words:
            parts += ([("text", "; ")] if parts else []) + [("text", words[target[key]])]
        else:
            parts += ([("text", "; ")] if parts else []) + [("text", f"{label} "), ("code" if key == "pattern" else "text", str(target[key]))]
    if prop.get("uniqueItems"):
        parts += ([("text", "; ")] if parts else []) + [("text", "no repeats")]
    return parts


def _rows(schema: dict[str, Any]) -> list[dict[str, Any]]:
    required = set(schema.get("required", []))
    return [{"field": name, "type": _type_of(prop), "required": name in required,
             "default": json.dumps(prop["default"], ensure_ascii=False) if "default" in prop else "",
             "description": prop.get("description", ""), "constraints": _constraints(prop)}
            for name, prop in schema.get("properties", {}).items()]


def _refs(prop: Any) -> list[str]:
    """Definitions a property refers to, in the order they appear."""
    found: list[str] = []
    if isinstance(prop, dict):
        if "$ref" in prop:
            found.append(prop["$ref"].rsplit("/", 1)[-1])
        for key in ("items", "anyOf", "oneOf", "allOf", "additionalProperties"):
            value = prop.get(key)
            for item in value if isinstance(value, list) else [value]:
                found += _refs(item)
    return found


def sections(schema: dict[str, Any]) -> list[str]:
    """The definitions in the order the document is written: depth first, from the top-level
    fields in the order the model declares them."""
    definitions = schema.get("$defs", {})
    order: list[str] = []

    def visit(properties: dict[str, Any]) -> None:
        for prop in properties.values():
            for name in _refs(prop):
                if name not in order and name in definitions:
                    order.append(name)
                    visit(definitions[name].get("properties", {}))

    visit(schema.get("properties", {}))
    return order + sorted(set(definitions) - set(order))


def example(name: str) -> str:
    """The complete example of the document, without its editor line."""
    text = (EXAMPLES / f"{name}.yaml").read_text(encoding="utf-8")
    return "".join(line for line in text.splitlines(keepends=True) if not line.startswith("# yaml-language-server:"))


def markdown_reference(name: str) -> str:
    from .. import pages

    schema = json_schema(name)
    _, where, summary = DOCUMENTS[name]
    definitions = schema.get("$defs", {})
    view = {
        "name": name, "where": where, "summary": summary,
        "top": _rows(schema),
        "sections": [{"name": d, "description": (definitions[d].get("description") or "").strip(),
                      "rows": _rows(definitions[d]), "type": None if "properties" in definitions[d] else _type_of(definitions[d])}
                     for d in sections(schema)],
        "example": example(name),
        "fence": "`" * max(3, max((len(run) for run in example(name).split("\n") if set(run) == {"`"}), default=0) + 1),
    }
    return pages.markdown_text("schema-reference.md.j2", **view).rstrip("\n") + "\n"


def rendered_files() -> dict[str, str]:
    """File name -> content for everything under ``schemas/``."""
    files = {}
    for name in DOCUMENTS:
        files[f"{name}.schema.json"] = json.dumps(json_schema(name), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        files[f"{name}.md"] = markdown_reference(name)
    return files


def export(directory: Path) -> list[str]:
    """Write the schemas; returns the names of files that changed."""
    directory.mkdir(parents=True, exist_ok=True)
    changed = []
    for file_name, content in rendered_files().items():
        path = directory / file_name
        if not path.exists() or path.read_text(encoding="utf-8") != content:
            path.write_text(content, encoding="utf-8")
            changed.append(file_name)
    return changed


def stale(directory: Path) -> list[str]:
    """Files under ``directory`` that differ from what the model generates."""
    return [
        name
        for name, content in rendered_files().items()
        if not (directory / name).exists() or (directory / name).read_text(encoding="utf-8") != content
    ]
