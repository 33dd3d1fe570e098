"""Credentials live in Secrets (encrypted at rest, redacted in state), never in ConfigMaps or
annotations, which every reader of the namespace sees in clear."""

import re

from ...rule import as_map, resource_rule

SECRET_KEY_RE = re.compile(r"(pass(word|wd)?|secret|token|api[-_]?key|access[-_]?key|private[-_]?key|credential)s?$", re.I)
SECRET_VALUE_RES = (
    re.compile(r"-----BEGIN ([A-Z]+ )?PRIVATE KEY-----"),
    re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@"),  # scheme://user:password@host
    re.compile(r"(^|[\s;&?])(password|passwd|pwd)\s*=\s*[^\s;&]+", re.I),
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
)


def _looks_secret(key: str, value) -> str | None:
    text = value if isinstance(value, str) else ""
    if SECRET_KEY_RE.search(key.rsplit("/", 1)[-1]) and text.strip():
        return "its name says it is a credential"
    for pattern in SECRET_VALUE_RES:
        if pattern.search(text):
            return "its value contains a credential"
    return None


@resource_rule(
    id="GOV-SEC-008",
    title="No plaintext secrets in ConfigMaps or annotations",
    clause="GB/T 22239-2019 8.1.4.8 (数据保密性: 鉴别数据 in storage)",
    severity="critical",
    enforcement="mandatory",
    remediation="Move the value into a Kubernetes Secret created from a Pulumi secret and reference it; "
    "keep only non-secret settings in ConfigMaps and annotations.",
    kinds=("*",),
)
def check(obj, facts):
    for key, value in sorted(obj.annotations.items()):
        why = _looks_secret(str(key), value)
        if why:
            yield f"{obj.describe()} annotation {key}: {why}"
    if obj.kind == "ConfigMap":
        for field in ("data", "binaryData"):
            for key, value in sorted(as_map(obj.props.get(field)).items()):
                why = _looks_secret(str(key), value)
                if why:
                    yield f"{obj.describe()} {field}.{key}: {why}"
