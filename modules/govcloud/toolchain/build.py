"""Build the Go components once into a cache outside the clone, keyed by what goes into them.

The cache key of a component is the digest of its build module's files (go.mod, go.sum, any
Go source of ours), the Go version and the link flags: a changed pin rebuilds, anything else
reuses. ``/var/cache/govcloud/tools`` by default (``GOVCLOUD_TOOLS_CACHE`` overrides), next to
the lab's base image. A build runs on a copy of the build module in the cache (so the clone
stays clean and generate steps can write), under a per-component lock (two clones building
at once wait for each other), and lands by an atomic rename: a half-built component is never
found. Every build prints what it is doing; a failure is one line naming the module and version,
with the full log kept in the cache.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from .components import COMPONENTS, KUBERNETES_PROVIDER_RELEASE, Component

DEFAULT_CACHE = Path("/var/cache/govcloud/tools")
MANIFEST = "component.json"


class ToolchainError(Exception):
    """A component cannot be built or found; the message is one line naming module and version."""


def cache_root() -> Path:
    return Path(os.environ.get("GOVCLOUD_TOOLS_CACHE") or DEFAULT_CACHE)


def go_binary() -> str:
    found = shutil.which("go")
    if found is None:
        raise ToolchainError("the Go toolchain (go) is not on PATH; it builds the control planes and the Pulumi engine")
    return found


def go_environment() -> dict[str, str]:
    """The environment every go command runs with: the machine's own toolchain (never a download
    of another), module mode from the committed go.sum, no VCS stamping of our copies."""
    env = dict(os.environ)
    env["GOTOOLCHAIN"] = "local"
    env["GOFLAGS"] = " ".join(filter(None, (env.get("GOFLAGS", ""), "-mod=readonly", "-buildvcs=false")))
    env.setdefault("CGO_ENABLED", "0")
    return env


def go_version() -> str:
    result = subprocess.run([go_binary(), "env", "GOVERSION"], capture_output=True, text=True, env=go_environment())
    if result.returncode != 0:
        raise ToolchainError(f"go env GOVERSION failed: {result.stderr.strip()}")
    return result.stdout.strip()


def _ldflags(component: Component, version: str) -> list[str]:
    flags = ["-s", "-w"]
    flags += [f.format(version=version, provider_version=KUBERNETES_PROVIDER_RELEASE) for f in component.ldflags]
    return flags


def cache_key(component: Component, go: str) -> str:
    digest = hashlib.sha256()
    digest.update(f"{component.name}\0{go}\0{' '.join(_ldflags(component, component.version()))}\0".encode())
    digest.update(f"{component.package}\0{component.copy_package}\0{' '.join(component.prepare)}\0".encode())
    for path in sorted(p for p in component.directory.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(component.directory)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Built:
    component: Component
    version: str
    directory: Path           # holds bin/<binary> (and companions) and component.json
    seconds: float            # build time; 0 when it came from the cache
    cached: bool

    @property
    def binary(self) -> Path:
        return self.directory / "bin" / self.component.binary

    @property
    def bin_dir(self) -> Path:
        return self.directory / "bin"


def _installed(component: Component, key: str) -> Path:
    return cache_root() / component.name / f"{component.version()}-{key}"


def find(name: str | Component, go: str | None = None) -> Built | None:
    """The cached build of a component for the current pins, or None."""
    component = _component(name)
    directory = _installed(component, cache_key(component, go or go_version()))
    if (directory / MANIFEST).is_file() and (directory / "bin" / component.binary).is_file():
        return Built(component, component.version(), directory, 0.0, True)
    return None


def require(name: str | Component) -> Built:
    """The cached build of a component, or one line saying how to build it."""
    built = find(name)
    if built is None:
        component = _component(name)
        raise ToolchainError(f"{component.name} ({component.module} {component.version()}) is not built; "
                             f"run `make binaries` or `govcloud tools build {component.name}`")
    return built


def _component(name: str | Component) -> Component:
    if isinstance(name, Component):
        return name
    try:
        return COMPONENTS[name]
    except KeyError:
        raise ToolchainError(f"unknown component {name!r} (known: {', '.join(sorted(COMPONENTS))})") from None


def _run(argv: list[str], cwd: Path, env: dict[str, str], log: Path) -> None:
    with log.open("a", encoding="utf-8") as handle:
        handle.write(f"$ {' '.join(argv)}\n")
        handle.flush()
        result = subprocess.run(argv, cwd=cwd, env=env, stdout=handle, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        raise subprocess.CalledProcessError(result.returncode, argv)


def _last_error_line(log: Path) -> str:
    lines = [line.strip() for line in log.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    for line in reversed(lines):
        if not line.startswith("$ "):
            return line[:300]
    return "no output"


def _module_dir(module: str, cwd: Path, env: dict[str, str]) -> Path:
    """Where the module's source is, downloaded first when the module cache lacks it: ``go list
    -m`` names no directory for a module that is not extracted yet (a fresh machine, before
    anything was built with it), and says nothing about why."""
    result = subprocess.run([go_binary(), "mod", "download", "-json", module], cwd=cwd, env=env,
                            capture_output=True, text=True)
    try:
        found = json.loads(result.stdout) if result.stdout.strip() else {}
    except ValueError:
        found = {}
    directory = found.get("Dir", "") if isinstance(found, dict) else ""
    if result.returncode != 0 or not directory:
        why = (found.get("Error") if isinstance(found, dict) else "") or result.stderr.strip() or "go named no directory"
        raise ToolchainError(f"cannot locate module {module}: {str(why)[:300]}")
    return Path(directory)


def build(name: str | Component, log: Callable[[str], None] = print, force: bool = False) -> Built:
    """Build one component into the cache unless the same build is already there."""
    component = _component(name)
    go = go_version()
    version = component.version()
    key = cache_key(component, go)
    target = _installed(component, key)
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f".{component.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not force and (target / MANIFEST).is_file():
            return Built(component, version, target, 0.0, True)
        log(f"building {component.name}: {component.module} {version} with {go} (cold builds take minutes)")
        started = time.monotonic()
        work = Path(tempfile.mkdtemp(prefix=f".{component.name}-", dir=root))
        build_log = root / "logs" / f"{component.name}-{version}.log"
        build_log.parent.mkdir(parents=True, exist_ok=True)
        build_log.write_text("", encoding="utf-8")
        try:
            _build_into(component, version, work, build_log)
            manifest = {"component": component.name, "module": component.module, "version": version, "go": go,
                        "key": key, "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                        "seconds": round(time.monotonic() - started, 1)}
            (work / "out" / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
            if target.exists():
                shutil.rmtree(target)
            target.parent.mkdir(parents=True, exist_ok=True)
            (work / "out").rename(target)
        except subprocess.CalledProcessError:
            raise ToolchainError(f"building {component.name} failed: module {component.module} {version}: "
                                 f"{_last_error_line(build_log)} (full log: {build_log})") from None
        finally:
            shutil.rmtree(work, ignore_errors=True)
        seconds = time.monotonic() - started
        log(f"built {component.name} {version} in {seconds:.0f} s -> {target / 'bin' / component.binary}")
        return Built(component, version, target, seconds, False)


def _build_into(component: Component, version: str, work: Path, build_log: Path) -> None:
    env = go_environment()
    source = work / "src"
    shutil.copytree(component.directory, source)
    if component.copy_package:
        upstream = _module_dir(component.module, source, env) / component.copy_package
        package_dir = source / component.package
        shutil.copytree(upstream, package_dir)
        for path in package_dir.rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)
        if component.prepare:
            prepare_env = {**env, "VERSION": KUBERNETES_PROVIDER_RELEASE}
            _run([go_binary() if component.prepare[0] == "go" else component.prepare[0], *component.prepare[1:]],
                 package_dir, prepare_env, build_log)
    out = work / "out" / "bin"
    out.mkdir(parents=True)
    _run([go_binary(), "build", "-trimpath", "-ldflags", " ".join(_ldflags(component, version)),
          "-o", str(out / component.binary), component.package], source, env, build_log)
    for module, relative in component.companions:
        companion = _module_dir(module, source, env) / relative
        shutil.copy2(companion, out / companion.name)
        (out / companion.name).chmod(0o755)


def build_all(names: Iterable[str] | None = None, log: Callable[[str], None] = print) -> list[Built]:
    return [build(name, log) for name in (names or COMPONENTS)]


def prune(log: Callable[[str], None] = print) -> list[Path]:
    """Remove cached builds of components that the current pins no longer produce."""
    removed: list[Path] = []
    go = go_version()
    for component in COMPONENTS.values():
        keep = _installed(component, cache_key(component, go))
        folder = cache_root() / component.name
        if not folder.is_dir():
            continue
        for entry in folder.iterdir():
            if entry != keep:
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry)
                log(f"removed {entry}")
    return removed
