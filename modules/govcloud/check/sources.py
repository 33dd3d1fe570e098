"""Where in the inventory a finding is fixed: the file, line and field of a tenant's request or
of its cluster's entry in platform.yaml (the model knows the source of everything it loaded).

A rule names the field (``Rule.request_field``, ``Rule.cluster_field``); without one, a finding
points at the request (tenant stacks) or the cluster entry (foundation stacks). Code scanning
(SARIF) links a finding there, with the rendered resource as a related location.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..model import Environment, InputError
from ..model.cache import DocumentCache
from ..model.errors import field_path
from ..model.loader import PLATFORM_FILE, display_path, source_key
from ..model.source import SourceDocument, load_yaml_file
from ..policy.catalog import rules


class Locator:
    """Finds the inventory line for (stack, rule); each source file is read once.

    ``known`` holds lines found before, by the sha256 of the file's bytes (``env.sources``) and
    the field: the line of a field is a function of the file's content, and a re-check of a
    province would otherwise parse two thousand requests again for a few lines each. What this
    run had to parse for is in ``learned``, for the caller to keep."""

    def __init__(self, env: Environment, known: dict[str, dict[str, int]] | None = None):
        self.env = env
        self._docs: dict[str, SourceDocument | None] = {}
        self._rules = {r.id: r for r in rules()}
        self._known = known or {}
        self.learned: dict[str, dict[str, int]] = {}
        # Requests are named relative to the working directory (``Tenant.file``) and the
        # environment's root may be absolute: keys are taken between absolute paths.
        self._cwd = Path.cwd()  # once: asked per file, it was most of the time of naming them
        self._root = env.root if env.root.is_absolute() else self._cwd / env.root
        self._digests: dict[str, str] = {}  # by file as shown: a request has findings in several stacks
        self._clusters: dict[str, int] = {}
        for index, entry in enumerate(env.platform.clusters):
            self._clusters.setdefault(entry.id, index)

    def _doc(self, path: Path) -> SourceDocument | None:
        key = str(path)
        if key not in self._docs:
            try:
                self._docs[key] = load_yaml_file(path)
            except (InputError, OSError):
                self._docs[key] = None  # the model loaded it moments ago; a file replaced since has no lines to give
        return self._docs[key]

    def _file(self, kind: str, tenant: str | None, cluster: str) -> tuple[Path, int | None] | None:
        """The file a stack's findings are fixed in, and the index of its cluster's entry (foundation stacks)."""
        if kind == "tenant" and tenant is not None:
            try:
                return Path(self.env.tenant(tenant).file), None
            except KeyError:
                return None
        index = self._clusters.get(cluster)
        return (self.env.root / PLATFORM_FILE, index) if index is not None else None

    def _digest(self, path: Path) -> tuple[str, str]:
        """The file as shown, and the sha256 of its bytes as the model loaded it ("" if unknown)."""
        shown = display_path(path, self._cwd)
        digest = self._digests.get(shown)
        if digest is None:
            absolute = path if path.is_absolute() else self._cwd / path
            digest = self._digests[shown] = self.env.sources.get(source_key(self._root, absolute), "")
        return shown, digest

    def context(self, kind: str, tenant: str | None, cluster: str) -> list | None:
        """What every location ``locate`` gives for the stack depends on (besides the rules): the
        file as shown, its content and the cluster's index; None when the file's content is not
        known (its lines could change unseen)."""
        found = self._file(kind, tenant, cluster)
        if found is None:
            return []
        path, index = found
        shown, digest = self._digest(path)
        return [shown, digest, index] if digest else None

    def locate(self, kind: str, tenant: str | None, cluster: str, rule_id: str) -> dict[str, Any] | None:
        rule = self._rules.get(rule_id)
        found = self._file(kind, tenant, cluster)
        if found is None:
            return None
        path, index = found
        if index is None:
            field = rule.request_field if rule is not None else ""
            loc: tuple = tuple(part for part in field.split(".") if part)
        else:
            field = rule.cluster_field if rule is not None else ""
            loc = ("clusters", index) + ((field,) if field else ())
        where = field_path(loc)
        shown, digest = self._digest(path)
        line = self._known.get(digest, {}).get(where) if digest else None
        if line is None:
            doc = self._doc(path)
            line = doc.line_of(loc) if doc is not None else 1
            if digest and doc is not None and DocumentCache.key(doc.raw) == digest:  # the file as loaded
                self.learned.setdefault(digest, {})[where] = line
        return {"file": shown, "line": line, "field": where}

