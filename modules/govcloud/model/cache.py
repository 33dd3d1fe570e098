"""A content-addressed cache of parsed inventory documents, so a 4,000-tenant environment
re-loads in about half the time when few files changed (one tenant re-rendered, a diff).

What is cached is only the plain data the strict YAML reader produced (JSON: strings,
numbers, booleans, lists, mappings), keyed by the sha256 of the file's bytes and the reader's
version. Every load still validates all documents with pydantic and runs every rule: the
cache can save parsing, never a check. JSON, not pickle: a tampered cache file can at worst
hold data that validation then judges, never code. A damaged cache is ignored and rewritten.

The cache lives in the project's build directory, the same trust boundary as the rendered
state that reviews sign. The Pulumi program run by the engine (``pulumi up``) never uses it:
what is deployed is always derived from the inventory files themselves.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

# Bump when the YAML reader's output for the same bytes could change.
READER_VERSION = "1"


class DocumentCache:
    def __init__(self, path: Path):
        self.path = path
        self.entries: dict[str, Any] = {}
        self.used: set[str] = set()
        self.dirty = False
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
            if stored.get("reader") == READER_VERSION and isinstance(stored.get("documents"), dict):
                self.entries = stored["documents"]
        except (OSError, ValueError, AttributeError):
            self.entries = {}

    @staticmethod
    def key(raw: bytes) -> str:
        return hashlib.sha256(raw).hexdigest()

    def get(self, key: str) -> tuple[bool, Any]:
        if key in self.entries:
            self.used.add(key)
            return True, self.entries[key]
        return False, None

    def put(self, key: str, data: Any) -> None:
        self.entries[key] = data
        self.used.add(key)
        self.dirty = True

    def save(self) -> None:
        """Keep what this load used; write atomically. A cache that cannot be written is skipped."""
        if not self.dirty and self.used == set(self.entries):
            return
        documents = {k: self.entries[k] for k in sorted(self.used)}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".inventory-cache.", suffix=".tmp")
            # dumps, not dump: the standard library encodes in C only in one go (dump: pure Python)
            text = json.dumps({"reader": READER_VERSION, "documents": documents}, ensure_ascii=False, separators=(",", ":"))
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(tmp, self.path)
        except OSError:
            return
