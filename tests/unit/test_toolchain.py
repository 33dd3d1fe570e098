"""The Go component builds: pins read from the build modules, the cache key, builds and failures.

The builds here use a tiny Go module of the test's own (standard library only), so they need
the Go toolchain but no module download; the real components are built by `make binaries`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest

from govcloud import toolchain
from govcloud.model import load_environment
from govcloud.toolchain.build import ToolchainError, _module_dir, cache_key, go_environment, go_version
from govcloud.toolchain.components import COMPONENTS, KUBERNETES_PROVIDER_RELEASE, Component, pinned_version

ROOT = Path(__file__).resolve().parents[2]
needs_go = pytest.mark.skipif(shutil.which("go") is None, reason="the Go toolchain is not installed")


def test_every_component_has_a_build_module_with_its_pin():
    for component in COMPONENTS.values():
        assert (component.directory / "go.mod").is_file(), component.name
        assert (component.directory / "go.sum").is_file(), component.name
        assert component.version().startswith("v"), component.name


def test_pinned_version_reads_require_not_replace(tmp_path):
    go_mod = tmp_path / "go.mod"
    go_mod.write_text("module x\n\ngo 1.26.0\n\nrequire (\n\tk8s.io/kubernetes v1.37.2\n\tk8s.io/api v0.1.0 // indirect\n)\n\n"
                      "replace (\n\tk8s.io/api => k8s.io/api v0.37.2\n)\n")
    assert pinned_version(go_mod, "k8s.io/kubernetes") == "v1.37.2"
    assert pinned_version(go_mod, "k8s.io/api") == "v0.1.0"
    with pytest.raises(LookupError, match="no require line for example.com/missing"):
        pinned_version(go_mod, "example.com/missing")


def test_the_kubernetes_sdk_asks_for_the_provider_we_build():
    """The Python SDK asks the engine for a provider of exactly its own version."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    pins = [d for d in pyproject["project"]["dependencies"] if d.startswith("pulumi-kubernetes")]
    assert pins == [f"pulumi-kubernetes=={KUBERNETES_PROVIDER_RELEASE}"]
    assert version("pulumi-kubernetes") == KUBERNETES_PROVIDER_RELEASE


def test_every_lab_cluster_has_an_api_server_build_and_one_is_a_minor_behind():
    env = load_environment("lab", ROOT / "inventories")
    versions = sorted({c.kubernetes_version for c in env.platform.clusters}, key=lambda v: tuple(map(int, v.split("."))))
    for kubernetes_version in versions:
        assert toolchain.kube_apiserver_for(kubernetes_version).name == f"kube-apiserver-{kubernetes_version}"
    newest, oldest = (tuple(map(int, v.split("."))) for v in (versions[-1], versions[0]))
    assert newest[1] - oldest[1] == 1, "one cluster stays a minor version behind the others (version skew)"
    with pytest.raises(LookupError, match="no kube-apiserver build for Kubernetes 1.20"):
        toolchain.kube_apiserver_for("1.20")


def _tiny(tmp_path: Path, source: str = 'package main\n\nfunc main() { println("hello") }\n') -> Component:
    module = tmp_path / "tools" / "hello"
    module.mkdir(parents=True)
    (module / "go.mod").write_text("module govcloud.test/hello\n\ngo 1.21\n\nrequire example.com/pinned v1.2.3\n")
    (module / "go.sum").write_text("")
    (module / "main.go").write_text(source)
    return Component(name="hello", binary="hello", module="example.com/pinned", package=".", summary="a test binary",
                     tools_dir=tmp_path / "tools")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GOVCLOUD_TOOLS_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@needs_go
def test_a_build_lands_in_the_cache_once_and_is_reused(tmp_path, cache):
    # example.com/pinned is required but never imported: go build needs no download.
    component = _tiny(tmp_path)
    component.directory.joinpath("go.mod").write_text("module govcloud.test/hello\n\ngo 1.21\n")
    messages: list[str] = []
    with pytest.raises(LookupError):
        component.version()  # the pin is gone: nothing can name the build
    component.directory.joinpath("go.mod").write_text("module govcloud.test/hello\n\ngo 1.21\n\n// pin\nrequire example.com/pinned v1.2.3\n")
    first = toolchain.build(component, log=messages.append)
    assert not first.cached and first.binary.is_file()
    assert first.binary.is_relative_to(cache / "hello" / f"v1.2.3-{cache_key(component, go_version())}")
    assert any("building hello: example.com/pinned v1.2.3" in m for m in messages)
    second = toolchain.build(component, log=messages.append)
    assert second.cached and second.directory == first.directory
    assert toolchain.find(component) is not None
    # A change to the build module is a new build, in a new place.
    component.directory.joinpath("main.go").write_text('package main\n\nfunc main() { println("changed") }\n')
    assert toolchain.find(component) is None
    third = toolchain.build(component, log=messages.append)
    assert not third.cached and third.directory != first.directory


@needs_go
def test_a_failed_build_is_one_line_naming_module_and_version_and_leaves_nothing(tmp_path, cache):
    component = _tiny(tmp_path, source="package main\n\nfunc main() { undefined_thing() }\n")
    with pytest.raises(ToolchainError) as raised:
        toolchain.build(component, log=lambda _: None)
    message = str(raised.value)
    assert "\n" not in message
    assert "building hello failed: module example.com/pinned v1.2.3" in message
    assert "undefined" in message
    assert toolchain.find(component) is None
    assert not [p for p in cache.iterdir() if p.name.startswith(".hello-")], "the work directory is removed"


@needs_go
def test_a_module_not_yet_downloaded_is_fetched_before_a_package_is_copied_out_of_it(tmp_path):
    """The provider's build copies a package out of its module before any build downloaded it
    (a fresh machine's module cache): the module is fetched through the Go proxy, where ``go
    list -m`` named no directory and the build stopped with "cannot locate module"."""
    module = tmp_path / "build-module"
    module.mkdir()
    (module / "go.mod").write_text("module govcloud.test/copy\n\ngo 1.21\n\nrequire github.com/google/uuid v1.6.0\n")
    (module / "tools.go").write_text('package main\n\nimport _ "github.com/google/uuid"\n\nfunc main() {}\n')
    caches = [tmp_path / "modcache-for-go-sum", tmp_path / "fresh-modcache"]
    try:
        tidy = subprocess.run(["go", "mod", "tidy"], cwd=module, capture_output=True, text=True,
                              env={**go_environment(), "GOFLAGS": "-mod=mod", "GOMODCACHE": str(caches[0])})
        assert tidy.returncode == 0, tidy.stderr
        fresh = {**go_environment(), "GOMODCACHE": str(caches[1])}
        found = _module_dir("github.com/google/uuid", module, fresh)
        assert found.is_relative_to(caches[1]) and (found / "uuid.go").is_file()
        with pytest.raises(ToolchainError, match="cannot locate module example.com/not-required"):
            _module_dir("example.com/not-required", module, fresh)
    finally:  # the module cache is read-only: go removes it
        for cache in caches:
            subprocess.run(["go", "clean", "-modcache"], env={**os.environ, "GOMODCACHE": str(cache)}, capture_output=True)


def test_require_names_the_command_that_builds_a_missing_component(tmp_path, cache):
    component = _tiny(tmp_path)
    with pytest.raises(ToolchainError, match=r"hello \(example.com/pinned v1.2.3\) is not built; run `make binaries`"):
        toolchain.require(component)


def test_the_engine_its_language_host_and_the_python_sdk_line_up():
    """The CLI (pkg/v3), govcloud's language host (built on sdk/v3) and the exec shim it ships come
    from one Pulumi release; the Python SDK pinned in pyproject.toml is the closest release the
    proxy serves the engine for, never newer than the engine."""
    engine = COMPONENTS["pulumi"].version()
    host = COMPONENTS["pulumi-language-python"]
    assert host.version() == engine
    assert host.companions == (("github.com/pulumi/pulumi/sdk/v3", "python/cmd/pulumi-language-python-exec"),)
    sdk = tuple(int(p) for p in version("pulumi").split("."))
    assert sdk <= tuple(int(p) for p in engine.lstrip("v").split("."))
