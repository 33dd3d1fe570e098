"""Writing inventory documents: the tenant scaffold and the synthetic province share this.

Documents are written with the editor ``$schema`` line, keys in model order, Chinese text as
is, and atomically (a crash never leaves half a request behind).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .files import write_output


class _Dumper(yaml.SafeDumper):
    """Never writes anchors/aliases: govcloud's loader refuses them (alias bombs)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


SCHEMA_LINE = "# yaml-language-server: $schema={rel}schemas/{name}.schema.json\n"


def dump_document(data: dict[str, Any], schema: str, depth: int) -> str:
    """YAML text for an inventory document ``depth`` directories below the repository root."""
    header = SCHEMA_LINE.format(rel="../" * depth, name=schema)
    body = yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, default_flow_style=False, width=120)
    return header + body


def write_atomic(path: Path, text: str) -> None:
    """``text`` to ``path`` in one rename, never through a link (``govcloud.files``)."""
    write_output(path, text)
