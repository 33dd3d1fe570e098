"""Load and validate an environment: ``inventories/<env>/`` -> ``Environment``.

Every independent problem is reported in one run: each file on its own (YAML, then shape via
pydantic), the platform's own rules, each request against the platform, the rules across
requests, and the waivers, whatever the others found. What did not validate is left out of
the checks that depend on it (``partial``): a request naming a cluster whose entry is broken
is not also told the cluster "is not defined", so a user never sees a follow-on error.
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
from .partial import PlatformParts, complete, partial
from .platform import Platform
from .source import SourceDocument, load_yaml_bytes, read_file
from .tenant import TenantRequest, tenant_id
from .waivers import Waiver, WaiverFile

M = TypeVar("M", bound=BaseModel)

PLATFORM_FILE = "platform.yaml"
TENANTS_DIR = "tenants"
WAIVERS_FILE = "waivers.yaml"


def display_path(path: Path, cwd: Path | None = None) -> str:
    """Paths in messages: relative to the working directory when inside it.

    Lexical, like ``Path.relative_to``, on the strings: a province's report names ten thousand
    paths, and pathlib's parsing was most of the time it took to name them."""
    if not path.is_absolute():
        return path.as_posix()  # lexically, a relative path is its own path from the directory
    base = cwd or Path.cwd()
    text, prefix = path.as_posix(), base.as_posix()
    if text == prefix:
        return "."
    prefix = prefix if prefix.endswith("/") else prefix + "/"
    return text[len(prefix):] if text.startswith(prefix) else str(path)


def source_key(root: Path, path: Path) -> str:
    """The key of an inventory file in ``Environment.sources``: relative to the environment.
    Lexical on the strings, as ``Path.relative_to`` decides (a province has 4,000 of them)."""
    text, prefix = path.as_posix(), root.as_posix()
    if prefix == ".":
        return text if not path.is_absolute() else str(path)
    if text == prefix:
        return "."
    prefix = prefix if prefix.endswith("/") else prefix + "/"
    return text[len(prefix):] if text.startswith(prefix) else str(path)


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
    if root.is_symlink():  # the whole environment from elsewhere: refused like any link
        raise InputError([Problem(display_path(root), 0, "", "symbolic links are not followed in inventories")])
    if not (root / PLATFORM_FILE).exists() and not (root / PLATFORM_FILE).is_symlink():
        raise InputError([Problem(display_path(root / PLATFORM_FILE), 0, "", f"environment {env!r} has no {PLATFORM_FILE}")])
    return root


def tenant_files(root: Path) -> list[Path]:
    """The request files in ``root/tenants``; none when there is no tenants directory. A tenants
    that is a link or not a directory is an error (it would otherwise validate 0 tenants)."""
    directory = root / TENANTS_DIR
    if directory.is_symlink():
        raise InputError([Problem(display_path(directory), 0, "", "symbolic links are not followed in inventories")])
    if not directory.exists():
        return []
    if not directory.is_dir():
        raise InputError([Problem(display_path(directory), 0, "", f"{TENANTS_DIR} must be a directory of tenant requests (<tenant-id>.yaml)")])
    # By name, as pathlib orders paths of one directory, without its 50,000 comparisons of parts.
    return sorted((p for p in directory.iterdir() if p.suffix in (".yaml", ".yml")), key=lambda p: p.name)


def load_environment(
    env: str,
    inventories: Path = Path("inventories"),
    *,
    extra_tenants: dict[Path, bytes] | None = None,
    cache_dir: Path | None = None,
) -> Environment:
    """Load, validate and merge one environment, or raise ``InputError`` with every problem.

    ``extra_tenants`` lets ``tenant new``/``tenant validate`` check a request that is not (yet)
    in the tenants directory, in the context of the whole environment. A draft kept anywhere
    else (``drafts/water.yaml``) need not be named after its tenant; when its tenant already has
    a request in the environment, the draft stands in for it. ``cache_dir`` keeps
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
        sources[source_key(root, path)] = digest
        return doc

    platform_doc = read(root / PLATFORM_FILE)
    parts: PlatformParts | None = None
    if platform_doc is not None:
        platform, found = parse_document(platform_doc, Platform)
        problems += found
        if platform is not None:
            problems += rules.check_platform(platform_doc, platform)
            parts = complete(platform)
        else:
            parts = partial(platform_doc.data)

    try:
        found_files = tenant_files(root)
    except InputError as error:
        problems += error.problems
        found_files = []
    files: dict[Path, bytes | None] = {p: None for p in found_files}
    for path, raw in (extra_tenants or {}).items():
        files[path] = raw
    requests: list[tuple[Path, SourceDocument, TenantRequest]] = []
    broken_tenants: set[str] = set()  # ids of requests that did not load: checks that need them are skipped
    tenants_dir = root / TENANTS_DIR
    drafts = {p for p in (extra_tenants or {}) if p.parent != tenants_dir}
    for path in sorted(files):
        if path.suffix != ".yaml":
            problems.append(Problem(display_path(path), 0, "", "tenant requests use the .yaml extension"))
            continue
        doc = read(path, files[path])
        request, found = parse_document(doc, TenantRequest) if doc is not None else (None, [])
        problems += found
        if doc is not None and request is not None:
            requests.append((path, doc, request))
        elif path not in drafts:
            broken_tenants.add(path.stem)
    replaced = {tenant_id(r.region, r.department.slug) for p, _, r in requests if p in drafts}
    requests = [(p, d, r) for p, d, r in requests if p in drafts or p.parent != tenants_dir or p.stem not in replaced
                or p in (extra_tenants or {})]

    waiver_doc = None
    waivers: list[tuple[int, Waiver]] = []
    if (root / WAIVERS_FILE).exists() or (root / WAIVERS_FILE).is_symlink():
        waiver_doc = read(root / WAIVERS_FILE)
        if waiver_doc is not None and waiver_doc.data is not None:
            parsed, found = parse_document(waiver_doc, WaiverFile)
            problems += found
            if parsed is not None:
                waivers = list(enumerate(parsed.waivers))
            elif isinstance(waiver_doc.data, dict) and isinstance(waiver_doc.data.get("waivers"), list):
                # The waivers that validate on their own are still checked against the rules.
                for index, item in enumerate(waiver_doc.data["waivers"]):
                    try:
                        waivers.append((index, Waiver.model_validate(item)))
                    except ValidationError:
                        pass

    if cache is not None:
        cache.save()
    if parts is None:  # no platform to check anything else against
        raise InputError(problems)

    tenants: dict[str, Tenant] = {}
    docs: dict[str, SourceDocument] = {}
    for path, doc, request in requests:
        tenant, found = rules.merge_tenant(doc, request, parts, None if path in drafts else path.stem)
        problems += found
        if path in drafts:
            pass
        elif tenant is None or tenant.id != path.stem:
            # Without a tenant, or with an id that disagrees with its file name (a region or slug
            # typo), what others say about the file's tenant cannot be judged.
            broken_tenants.add(path.stem)
        if tenant is None:
            continue
        if tenant.id in tenants:
            problems.append(doc.problem(("department", "slug"), f"tenant id {tenant.id} is already defined in {tenants[tenant.id].file}"))
            continue
        tenants[tenant.id] = tenant
        docs[tenant.id] = doc

    environment = Environment(
        name=env,
        root=root,
        platform=parts.platform,
        tenants=tuple(tenants[k] for k in sorted(tenants)),
        waivers=tuple(w for _, w in waivers),
        sources=dict(sorted(sources.items())),
    )
    problems += rules.check_tenants(environment, docs, parts, broken_tenants)
    if waiver_doc is not None:
        problems += rules.check_waivers(waiver_doc, waivers, environment, parts, broken_tenants)
    if problems or not parts.complete:
        raise InputError(problems)
    return environment
