"""Load and validate an environment: ``inventories/<env>/`` -> ``Environment``.

Three phases, each reporting every problem it finds: (1) each file on its own (YAML, then
shape via pydantic), (2) platform rules, (3) rules across files. A later phase runs only
over what the earlier one accepted, so a user never sees a cascade of follow-on errors.
"""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from . import codes, rules
from .cache import DocumentCache
from .environment import Environment, Tenant
from .errors import InputError, Problem, field_path
from .platform import Platform
from .source import SourceDocument, load_yaml_bytes, read_file
from .tenant import TenantRequest
from .waivers import WaiverFile

M = TypeVar("M", bound=BaseModel)

PLATFORM_FILE = "platform.yaml"
TENANTS_DIR = "tenants"
WAIVERS_FILE = "waivers.yaml"


def display_path(path: Path, cwd: Path | None = None) -> str:
    """Paths in messages: relative to the working directory when inside it."""
    absolute = path if path.is_absolute() else (cwd or Path.cwd()) / path
    base = cwd or Path.cwd()
    return absolute.relative_to(base).as_posix() if absolute.is_relative_to(base) else str(path)


def _model_at(model: type, loc: tuple) -> Any:
    """The pydantic model class found by following ``loc`` through field annotations."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if current is None:
            return None
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        fields = {(f.alias or name): f for name, f in current.model_fields.items()}
        if part not in fields:
            return None
        current = fields[part].annotation
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    """list[X] / X | None / Annotated[X, ...] -> X (the first model found)."""
    for _ in range(5):
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return annotation
        origin = typing.get_origin(annotation)
        if origin is None:
            return annotation
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if origin in (typing.Union, types.UnionType) or origin is list or origin is typing.Annotated:
            annotation = args[0] if args else None
        else:
            return None
    return annotation


def _allowed_keys(model: type, loc: tuple) -> list[str]:
    found = _model_at(model, loc)
    if found is None:
        return []
    return sorted((f.alias or name) for name, f in found.model_fields.items())


def _message(model: type, error: Any) -> str:
    kind = error["type"]
    loc = tuple(error["loc"])
    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, loc[:-1])
        return f"unknown key {loc[-1]!r}" + (f"; allowed keys: {', '.join(allowed)}" if allowed else "")
    if kind == "missing":
        return "required field is missing"
    message = error["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            message = message[len(prefix):]
    if kind in ("string_type", "int_type", "bool_type", "dict_type", "list_type", "model_type", "float_type", "date_type"):
        message += f" (got {type(error.get('input')).__name__} {error.get('input')!r})"[:200]
    return message


def parse_document(doc: SourceDocument, model: type[M]) -> tuple[M | None, list[Problem]]:
    if doc.data is None:
        return None, [Problem(doc.path, 1, "", "file is empty")]
    if not isinstance(doc.data, dict):
        return None, [Problem(doc.path, 1, "", f"expected a mapping at the top level, got {type(doc.data).__name__}")]
    try:
        return model.model_validate(doc.data), []
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            loc = tuple(error["loc"])
            problems.append(Problem(doc.path, doc.line_of(loc), field_path(loc), _message(model, error)))
        return None, problems


def _read_bytes(path: Path, shown: str) -> bytes:
    if path.is_symlink():
        raise InputError([Problem(shown, 0, "", "symbolic links are not followed in inventories")])
    return read_file(path, shown)


def environment_dir(inventories: Path, env: str) -> Path:
    problem = codes.dns_label_problem(env, "environment")
    if problem:
        raise InputError([Problem(display_path(inventories), 0, "env", problem)])
    root = inventories / env
    if not (root / PLATFORM_FILE).is_file():
        raise InputError([Problem(display_path(root / PLATFORM_FILE), 0, "", f"environment {env!r} has no {PLATFORM_FILE}")])
    return root


def tenant_files(root: Path) -> list[Path]:
    directory = root / TENANTS_DIR
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml"))


def load_environment(
    env: str,
    inventories: Path = Path("inventories"),
    *,
    extra_tenants: dict[Path, bytes] | None = None,
    cache_dir: Path | None = None,
) -> Environment:
    """Load, validate and merge one environment, or raise ``InputError`` with every problem.

    ``extra_tenants`` lets ``tenant new``/``tenant validate`` check a request that is not (yet)
    in the tenants directory, in the context of the whole environment. ``cache_dir`` keeps
    parsed documents by content digest (see ``cache.py``); validation always runs in full.
    """
    root = environment_dir(inventories, env)
    problems: list[Problem] = []
    sources: dict[str, str] = {}
    cache = DocumentCache(cache_dir / f"inventory-{env}.json") if cache_dir is not None else None

    here = Path.cwd()

    def read(path: Path, raw: bytes | None = None) -> SourceDocument | None:
        shown = display_path(path, here)
        try:
            if raw is None:
                raw = _read_bytes(path, shown)
            digest = DocumentCache.key(raw)
            hit, data = cache.get(digest) if cache is not None else (False, None)
            if hit:
                doc = SourceDocument(shown, data, None, raw)
            else:
                doc = load_yaml_bytes(shown, raw)
                if cache is not None:
                    cache.put(digest, doc.data)
        except InputError as exc:
            problems.extend(exc.problems)
            return None
        sources[path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)] = digest
        return doc

    platform_doc = read(root / PLATFORM_FILE)
    platform = None
    if platform_doc is not None:
        platform, found = parse_document(platform_doc, Platform)
        problems += found
        if platform is not None:
            problems += rules.check_platform(platform_doc, platform)

    files: dict[Path, bytes | None] = {p: None for p in tenant_files(root)}
    for path, raw in (extra_tenants or {}).items():
        files[path] = raw
    requests: list[tuple[Path, SourceDocument, TenantRequest]] = []
    for path in sorted(files):
        if path.suffix != ".yaml":
            problems.append(Problem(display_path(path), 0, "", "tenant requests use the .yaml extension"))
            continue
        doc = read(path, files[path])
        if doc is None:
            continue
        request, found = parse_document(doc, TenantRequest)
        problems += found
        if request is not None:
            requests.append((path, doc, request))

    waiver_doc = None
    waiver_file = WaiverFile()
    if (root / WAIVERS_FILE).exists():
        waiver_doc = read(root / WAIVERS_FILE)
        if waiver_doc is not None:
            parsed, found = parse_document(waiver_doc, WaiverFile) if waiver_doc.data is not None else (WaiverFile(), [])
            problems += found
            waiver_file = parsed or WaiverFile()

    if cache is not None:
        cache.save()
    if platform is None or problems:
        raise InputError(problems)

    tenants: dict[str, Tenant] = {}
    docs: dict[str, SourceDocument] = {}
    for path, doc, request in requests:
        tenant, found = rules.merge_tenant(doc, request, platform, path.stem)
        problems += found
        if tenant is None:
            continue
        if tenant.id in tenants:
            problems.append(doc.problem(("department", "slug"), f"tenant id {tenant.id} is already defined in {tenants[tenant.id].file}"))
            continue
        tenants[tenant.id] = tenant
        docs[tenant.id] = doc
    if problems:
        raise InputError(problems)

    environment = Environment(
        name=env,
        root=root,
        platform=platform,
        tenants=tuple(tenants[k] for k in sorted(tenants)),
        waivers=tuple(waiver_file.waivers),
        sources=dict(sorted(sources.items())),
    )
    problems += rules.check_tenants(environment, docs)
    if waiver_doc is not None:
        problems += rules.check_waivers(waiver_doc, waiver_file, environment)
    if problems:
        raise InputError(problems)
    return environment
