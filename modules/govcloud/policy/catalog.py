"""The rule list: every ``Rule`` defined in ``govcloud.policy.rules``, sorted by id.

Importable on its own (no PolicyPack is constructed), so the CLI, the README table, the check
and the tests all read the same list the pack serves.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import pkgutil
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

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


PACKAGE_ROOT = Path(__file__).resolve().parent.parent  # modules/govcloud: the package the pack imports from
_RULES_DIR = ("policy", "rules")


def pack_files(pack_dir: Path, package_root: Path | None = None) -> list[tuple[str, Path]]:
    """Every file whose change can change a verdict, derived rather than listed: the pack
    directory's files (its program, ``PulumiPolicy.yaml``), and every module of the govcloud
    package that the program or any rule imports, directly or through other modules (imports
    anywhere in a module, relative or absolute, read from the source with ``ast``; the rules
    package is walked whole, as ``rules()`` loads it), with the ``__init__`` of every package
    on the way (importing a module runs them)."""
    root = (package_root or PACKAGE_ROOT).resolve()
    files = [(f"pack/{p.name}", p) for p in sorted(pack_dir.iterdir())
             if p.is_file() and not p.name.startswith(".") and p.suffix not in (".pyc", ".pyo")]
    start = [p for p in files if p[1].suffix == ".py"]
    pending = [path for _, path in start] + sorted((root.joinpath(*_RULES_DIR)).rglob("*.py"))
    seen: set[Path] = set()
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        pending += _imported_files(path, root)
    modules = {p for p in seen if p.is_relative_to(root)}
    for path in list(modules):  # the packages' __init__ modules run on import
        for parent in path.relative_to(root).parents:
            init = root / parent / "__init__.py"
            if init.is_file() and init not in modules:
                modules.add(init)
                pending.append(init)
        while pending:  # what those __init__ modules import, in turn
            extra = pending.pop()
            for found in _imported_files(extra, root):
                if found not in modules:
                    modules.add(found)
                    pending.append(found)
    files += sorted((f"govcloud/{p.relative_to(root).as_posix()}", p) for p in modules)
    return files


_PARSING = threading.Lock()


def _imported_files(path: Path, root: Path) -> list[Path]:
    """The govcloud modules ``path`` imports (absolute ``govcloud.x`` or relative), as files."""
    try:
        source = path.read_bytes()
        with _PARSING:  # CPython 3.11 before 3.11.8 breaks ast.parse run in two threads at once
            tree = ast.parse(source, filename=str(path))
    except (OSError, SyntaxError, ValueError):
        return []
    if path.is_relative_to(root):
        parts = list(path.relative_to(root).with_suffix("").parts)
        package = parts if parts[-1] == "__init__" else parts[:-1]
        package = package[:-1] if package and package[-1] == "__init__" else package
    else:
        package = []
    found = []
    for node in _import_statements(tree.body):
        names: list[list[str]] = []
        if isinstance(node, ast.Import):
            names = [alias.name.split(".") for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level - 1 <= len(package) else None
                if base is None:
                    continue
                base = ["govcloud", *base]
            else:
                base = []
            module = base + (node.module.split(".") if node.module else [])
            names = [module] + [module + [alias.name] for alias in node.names]
        for dotted in names:
            if not dotted or dotted[0] != "govcloud":
                continue
            relative = dotted[1:]
            for candidate in (root.joinpath(*relative).with_suffix(".py") if relative else None,
                              root.joinpath(*relative, "__init__.py")):
                if candidate is not None and candidate.is_file():
                    found.append(candidate)
    return found


# Statement lists an import can sit in (if/for/while/with/try/def/class bodies, handlers, match
# cases). Imports are statements, so the expressions need no visit: a tenth of the nodes of
# ``ast.walk``, and this scan runs with every check.
_STATEMENT_FIELDS = ("body", "orelse", "finalbody", "handlers", "cases")


def _import_statements(statements: list) -> Iterator[Any]:
    for node in statements:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
            continue
        for name in _STATEMENT_FIELDS:
            inner = getattr(node, name, None)
            if inner:
                yield from _import_statements(inner)


def pack_digest(pack_dir: Path, package_root: Path | None = None) -> str:
    """The digest of the policy pack: sha256 over ``pack_files`` (each file's name and
    content). A review certificate binds it, so a changed rule, helper module, framework, pack
    program or ``PulumiPolicy.yaml`` invalidates every certificate issued under the old one.
    The one function to key anything on the pack's behaviour (e.g. a verdict cache)."""
    digest = hashlib.sha256()
    for name, path in pack_files(pack_dir, package_root):
        digest.update(name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return "sha256:" + digest.hexdigest()
