"""The rule list: every ``Rule`` defined in ``govcloud.policy.rules``, sorted by id.

Importable on its own (no PolicyPack is constructed), so the CLI, the README table, the check
and the tests all read the same list the pack serves.
"""

from __future__ import annotations

import hashlib
import importlib
import pkgutil
from functools import lru_cache
from pathlib import Path

from .rule import STANDARDS, Rule

PACK_NAME = "govcloud"
_RULES_PACKAGE = "govcloud.policy.rules"


@lru_cache(maxsize=1)
def rules() -> tuple[Rule, ...]:
    package = importlib.import_module(_RULES_PACKAGE)
    found: dict[str, tuple[Rule, str]] = {}
    for info in sorted(pkgutil.walk_packages(package.__path__, prefix=f"{_RULES_PACKAGE}."), key=lambda i: i.name):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if not isinstance(value, Rule) or value.check.__module__ != module.__name__:
                continue  # rules imported from elsewhere are counted where they are defined
            if value.id in found and found[value.id][0] is not value:
                raise ValueError(f"rule id {value.id} is defined twice: {found[value.id][1]} and {info.name}")
            expected_package = f"{_RULES_PACKAGE}.{STANDARDS[value.id.split('-')[1]]}."
            if not info.name.startswith(expected_package):
                raise ValueError(f"rule {value.id} belongs under {expected_package[:-1]}, not {info.name}")
            found[value.id] = (value, info.name)
    return tuple(rule for _, (rule, _) in sorted(found.items()))


def policies() -> list:
    """The CrossGuard policies, one per rule."""
    return [rule.policy() for rule in rules()]


def pack_files(pack_dir: Path) -> list[tuple[str, Path]]:
    """What the pack's behaviour depends on: its program, the rules and their framework, the
    label keys and the quantity arithmetic they read."""
    package = Path(__file__).resolve().parent.parent  # modules/govcloud
    files = [(f"pack/{p.name}", p) for p in sorted(pack_dir.iterdir()) if p.is_file() and p.suffix in (".py", ".yaml")]
    files += [(f"govcloud/policy/{p.relative_to(package / 'policy').as_posix()}", p) for p in sorted((package / "policy").rglob("*.py"))]
    files += [("govcloud/labels.py", package / "labels.py"), ("govcloud/model/codes.py", package / "model" / "codes.py")]
    return files


def pack_digest(pack_dir: Path) -> str:
    """sha256 over ``pack_files``: a review certificate binds it, so a changed rule, framework
    or pack program invalidates every certificate issued under the old one."""
    digest = hashlib.sha256()
    for name, path in pack_files(pack_dir):
        digest.update(name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return "sha256:" + digest.hexdigest()
