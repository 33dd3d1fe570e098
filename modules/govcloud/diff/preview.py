"""The same diff from the JSON of a real ``pulumi preview --json`` run.

``pulumi preview --json`` prints one document per stack (the engine's ``PreviewDigest``)::

    {"config": {...}, "steps": [{"op": "update", "urn": "urn:pulumi:<stack>::<project>::<type>::<name>",
       "provider": "<provider urn>::<id>", "oldState": {"type": ..., "inputs": {...}, ...},
       "newState": {...}, "diffReasons": ["spec"], "replaceReasons": [], "detailedDiff":
       {"spec.hard[\\"requests.cpu\\"]": {"kind": "update", "inputDiff": true}}}, ...],
     "diagnostics": [...], "changeSummary": {"same": 30, "update": 1}}

Steps: ``same`` (nothing to do), ``create``, ``update``, ``delete``, ``replace`` (with
``--show-replacement-steps`` also ``create-replacement`` and ``delete-replaced``), ``read``,
``refresh``, ``import``, ``discard``... ``detailedDiff`` keys are property paths and may be
null on create, delete and replace steps; then ``diffReasons`` (top-level keys) and
``replaceReasons`` say what changed. Secret values arrive as the string ``[secret]`` (the
engine never prints them with ``--json``); they are redacted again here all the same.

Bad input (not JSON, not a preview document, a failed preview, an unknown step) is an
``InputError`` naming the file and the step.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..canonical import JsonProblem, load_json
from ..files import read_regular
from ..model import InputError, Problem
from ..model.loader import display_path
from .changes import MISSING, ResourceChange, StackDiff, field_changes, flow_changes, flow_labels, objects_context, redact, spell, to_field_change, value_at

OP_KIND = {
    "create": "create", "import": "create",
    "delete": "delete", "discard": "delete",
    "update": "update",
    "replace": "replace", "create-replacement": "replace", "delete-replaced": "replace",
    "read-replacement": "replace", "import-replacement": "replace", "discard-replaced": "replace",
    "same": None, "read": None, "refresh": None, "remove-pending-replace": None, "read-discard": None,
}
URN = re.compile(r"^urn:pulumi:(?P<stack>[^:]+)::(?P<project>[^:]+)::(?P<type>.+?)::(?P<name>.*)$")
_PATH_TOKEN = re.compile(r'\.?([A-Za-z_$][A-Za-z0-9_$-]*)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]|\[\*\]')


def parse_property_path(text: str) -> tuple[str | int, ...]:
    """``spec.hard["requests.cpu"]`` -> ("spec", "hard", "requests.cpu")."""
    out: list[str | int] = []
    position = 0
    while position < len(text):
        match = _PATH_TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ValueError(f"cannot read property path {text!r} at {position}")
        name, index, quoted = match.groups()
        if name is not None:
            out.append(name)
        elif index is not None:
            out.append(int(index))
        elif quoted is not None:
            out.append(re.sub(r"\\(.)", r"\1", quoted))
        position = match.end()
    return tuple(out)


def _kind(type_token: str) -> str:
    return type_token.rsplit(":", 1)[-1]


def _state_inputs(state: Any) -> dict[str, Any]:
    if not isinstance(state, dict):
        return {}
    inputs = state.get("inputs")
    return inputs if isinstance(inputs, dict) else {}


def _redacted(state: Any, type_token: str) -> dict[str, Any]:
    return redact(_state_inputs(state), secret_kind=_kind(type_token) == "Secret")


def _step_fields(step: dict[str, Any], old: dict[str, Any], new: dict[str, Any]) -> list:
    detailed = step.get("detailedDiff")
    if isinstance(detailed, dict) and detailed:
        out = []
        for key in sorted(detailed):
            path = parse_property_path(key)
            a, b = value_at(old, path), value_at(new, path)
            kind = str((detailed[key] or {}).get("kind", "update"))
            if kind.startswith("add"):
                a = MISSING
            elif kind.startswith("delete"):
                b = MISSING
            out.append(to_field_change(path, a, b))
        return out
    keys = [str(k) for k in (step.get("diffReasons") or []) + (step.get("replaceReasons") or [])]
    found = []
    for key in sorted(set(keys)):
        found += field_changes(old.get(key, MISSING), new.get(key, MISSING), (key,))
    return [to_field_change(*c) for c in found]


def _replace_reasons(step: dict[str, Any]) -> list[str]:
    reasons = [str(r) for r in step.get("replaceReasons") or []]
    detailed = step.get("detailedDiff")
    if isinstance(detailed, dict):
        reasons += [spell(parse_property_path(k)) for k, v in detailed.items() if str((v or {}).get("kind", "")).endswith("-replace")]
    return sorted(set(reasons)) or ["the provider asks for a replacement"]


def _cluster(step: dict[str, Any]) -> str | None:
    provider = step.get("provider")
    if not isinstance(provider, str) or "::" not in provider:
        return None
    # <provider urn>::<provider id>; the URN ends with the provider's name
    parts = provider.split("::")
    return parts[-2] if len(parts) >= 2 else None


def load_preview(path: Path) -> dict[str, Any]:
    where = display_path(path)
    try:
        raw = read_regular(path)
    except OSError as exc:
        raise InputError([Problem(where, 0, "", f"cannot read the preview ({exc.strerror})")]) from None
    try:
        document = load_json(raw, where)
    except JsonProblem as problem:
        raise InputError([Problem(where, 0, "", f"{str(problem)[len(where) + 2:]}; expected the output of `pulumi preview --json`")]) from None
    if not isinstance(document, dict):
        raise InputError([Problem(where, 1, "", "not a `pulumi preview --json` document (expected a JSON object)")])
    return document


def preview_problems(document: dict[str, Any], where: str) -> list[Problem]:
    problems: list[Problem] = []
    errors = [d for d in document.get("diagnostics") or [] if isinstance(d, dict) and "err" in str(d.get("severity", ""))]
    if errors:
        message = re.sub(r"\x1b\[[0-9;]*m", "", str(errors[0].get("message", ""))).strip()
        problems.append(Problem(where, 0, "diagnostics", f"the preview failed: {message}"))
    steps = document.get("steps")
    if steps is None:
        if not isinstance(document.get("changeSummary"), dict):
            problems.append(Problem(where, 0, "steps", "no steps and no changeSummary: not the output of `pulumi preview --json`"))
        return problems
    if not isinstance(steps, list):
        return problems + [Problem(where, 0, "steps", "must be a list of steps")]
    for index, step in enumerate(steps):
        at = f"steps[{index}]"
        if not isinstance(step, dict):
            problems.append(Problem(where, 0, at, "must be an object"))
            continue
        op, urn = step.get("op"), step.get("urn")
        if op not in OP_KIND:
            problems.append(Problem(where, 0, f"{at}.op", f"unknown step operation {op!r}"))
        if not isinstance(urn, str) or not URN.match(urn):
            problems.append(Problem(where, 0, f"{at}.urn", f"not a Pulumi URN: {urn!r}"))
        for state in ("oldState", "newState"):
            if step.get(state) is not None and not isinstance(step.get(state), dict):
                problems.append(Problem(where, 0, f"{at}.{state}", "must be an object"))
        detailed = step.get("detailedDiff")
        if detailed is not None and not isinstance(detailed, dict):
            problems.append(Problem(where, 0, f"{at}.detailedDiff", "must be an object or null"))
        elif isinstance(detailed, dict):
            for key in detailed:
                try:
                    parse_property_path(key)
                except ValueError as exc:
                    problems.append(Problem(where, 0, f"{at}.detailedDiff", str(exc)))
    return problems


def stack_kind(stack: str) -> tuple[str, str | None]:
    """(kind, tenant) from a govcloud stack name: ``<env>.cluster-<id>`` or ``<env>.<tenant-id>``."""
    local = stack.split(".", 1)[1] if "." in stack else stack
    if local.startswith("cluster-"):
        return "foundation", None
    return "tenant", local


def diff_from_previews(paths: list[Path]) -> list[StackDiff]:
    """One StackDiff per stack found in the preview documents."""
    problems: list[Problem] = []
    documents = []
    for path in paths:
        try:
            document = load_preview(path)
        except InputError as error:
            problems += error.problems
            continue
        found = preview_problems(document, display_path(path))
        problems += found
        documents.append((path, document))
    if problems:
        raise InputError(problems)
    per_stack: dict[str, dict[str, ResourceChange]] = {}
    namespaces: dict[str, list[dict[str, Any]]] = {}
    policies: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {}
    sources: dict[str, Path] = {}
    root_ops: dict[str, str] = {}
    for path, document in documents:
        seen_here: set[str] = set()
        for step in document.get("steps") or []:
            match = URN.match(step["urn"])
            assert match is not None  # preview_problems refused steps without a URN
            stack = match.group("stack")
            if stack in sources and sources[stack] != path:
                raise InputError([Problem(display_path(path), 0, "steps",
                                          f"stack {stack} is also in {display_path(sources[stack])}; give one preview per stack")])
            sources[stack] = path
            seen_here.add(stack)
            changes = per_stack.setdefault(stack, {})
            type_token = match.group("type").rsplit("$", 1)[-1]
            for state in (step.get("newState"), step.get("oldState")):
                if _kind(type_token) == "Namespace" and isinstance(state, dict):
                    namespaces.setdefault(stack, []).append(_state_inputs(state))
                    break
            kind = OP_KIND[step["op"]]
            if _kind(type_token) == "NetworkPolicy":
                before, after = policies.setdefault(stack, ([], []))
                old_state = step.get("oldState") or (step.get("newState") if kind in (None, "update") else None)
                new_state = step.get("newState") or (step.get("oldState") if kind in (None, "update") else None)
                if kind != "create" and old_state:
                    before.append(_state_inputs(old_state))
                if kind != "delete" and new_state:
                    after.append(_state_inputs(new_state))
            if type_token == "pulumi:pulumi:Stack":
                root_ops[stack] = kind or "same"
                continue
            if kind is None:
                continue
            old, new = _redacted(step.get("oldState"), type_token), _redacted(step.get("newState"), type_token)
            name = match.group("name")
            urn = step["urn"]
            if kind == "create":
                change = ResourceChange("create", urn, type_token, name, inputs=new, cluster=_cluster(step))
            elif kind == "delete":
                change = ResourceChange("delete", urn, type_token, name, inputs=old, cluster=_cluster(step))
            elif kind == "replace":
                change = ResourceChange("replace", urn, type_token, name, fields=tuple(_step_fields(step, old, new)),
                                        reasons=tuple(_replace_reasons(step)), cluster=_cluster(step))
            else:
                change = ResourceChange("update", urn, type_token, name, fields=tuple(_step_fields(step, old, new)),
                                        cluster=_cluster(step))
            previous = changes.get(urn)
            if previous is None or previous.op != "replace" or (change.op == "replace" and change.fields and not previous.fields):
                changes[urn] = change
    out = []
    for stack in sorted(per_stack):
        kind, tenant = stack_kind(stack)
        ordered = tuple(sorted(per_stack[stack].values(), key=ResourceChange.sort_key))
        before, after = policies.get(stack, ([], []))
        status = {"create": "added", "delete": "removed"}.get(root_ops.get(stack, ""), "changed" if ordered else "unchanged")
        out.append(StackDiff(stack=stack, kind=kind, status=status, tenant=tenant,
                             changes=ordered, context=objects_context(namespaces.get(stack, [])),
                             flows=flow_changes(flow_labels(before), flow_labels(after))))
    return out
