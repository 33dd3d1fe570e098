"""The Go binaries govcloud builds for the lab's control planes and the Pulumi engine.

Each component is built from a small Go module of the project's own under ``tools/go/<name>/``
whose ``go.mod`` pins the upstream module (the one place its version is written) and carries
the replace directives the upstream module needs; ``go.sum`` pins every dependency. Nothing is
downloaded but Go modules through the Go module proxy, and no binary is ever in git: builds go
to a cache outside the clone (``govcloud.toolchain.build``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

TOOLS_DIR = Path(__file__).resolve().parents[3] / "tools" / "go"

# The pulumi-kubernetes release the provider pseudo-version was cut from; the provider reports
# it, and it is the version of the pulumi-kubernetes Python SDK pinned in pyproject.toml (the
# SDK asks the engine for a provider of exactly its own version).
KUBERNETES_PROVIDER_RELEASE = "4.25.0"

_REQUIRE = re.compile(r"^\s*(?:require\s+)?(\S+)\s+(v\S+)", re.MULTILINE)


@dataclass(frozen=True)
class Component:
    """One binary: the build module it comes from and how it is built."""

    name: str                 # the cache and CLI name, e.g. kube-apiserver-1.37
    binary: str               # the file name it is installed as
    module: str               # the upstream module whose pinned version names the build
    package: str              # the main package to build ("." for a main package of our own)
    summary: str
    ldflags: tuple[str, ...] = ()   # str.format'ed with version (the pin) and provider_version
    # Upstream files copied into the build module before building ({module_dir: [files]}),
    # for packages that must be built on a writable copy (generated, embedded files).
    copy_package: str | None = None
    prepare: tuple[str, ...] = ()   # a command run in the build module after copying (generate steps)
    # Files shipped next to the binary, taken from a module of the build (module, path in it).
    companions: tuple[tuple[str, str], ...] = ()
    tools_dir: Path = TOOLS_DIR      # where build modules live (tests point it elsewhere)

    @property
    def directory(self) -> Path:
        return self.tools_dir / self.name

    def version(self) -> str:
        """The pinned version of ``module`` in the build module's go.mod."""
        return pinned_version(self.directory / "go.mod", self.module)


def pinned_version(go_mod: Path, module: str) -> str:
    text = go_mod.read_text(encoding="utf-8")
    # Only the require section: replace lines also name modules with versions.
    requires = text.split("\nreplace", 1)[0]
    for found, version in _REQUIRE.findall(requires):
        if found == module:
            return version
    raise LookupError(f"{go_mod}: no require line for {module}")


def _kube_apiserver(minor: str, binary: str = "kube-apiserver", summary: str = "Kubernetes API server") -> Component:
    return Component(
        name=f"{binary}-{minor}",
        binary=binary,
        module="k8s.io/kubernetes",
        package=f"k8s.io/kubernetes/cmd/{binary}",
        summary=f"{summary} {minor} (the lab's control planes)",
        ldflags=(
            "-X k8s.io/component-base/version.gitVersion={version}",
            "-X k8s.io/component-base/version.gitMajor=1",
            f"-X k8s.io/component-base/version.gitMinor={minor.split('.')[1]}",
            "-X k8s.io/component-base/version.gitTreeState=clean",
            "-X k8s.io/client-go/pkg/version.gitVersion={version}",
        ),
    )


COMPONENTS: dict[str, Component] = {c.name: c for c in (
    Component(
        name="etcd",
        binary="etcd",
        module="go.etcd.io/etcd/server/v3",
        package=".",
        summary="etcd, the control planes' storage (supported by every kube-apiserver below)",
    ),
    _kube_apiserver("1.37"),
    _kube_apiserver("1.36"),
    # The garbage collector and namespace controllers: without them an object deleted with
    # foreground propagation (as the Kubernetes provider deletes) or a namespace is never removed.
    # The resource quota controller: quota admission enforces only quotas whose status it wrote.
    _kube_apiserver("1.37", "kube-controller-manager", "Kubernetes controller manager"),
    _kube_apiserver("1.36", "kube-controller-manager", "Kubernetes controller manager"),
    Component(
        name="pulumi",
        binary="pulumi",
        module="github.com/pulumi/pulumi/pkg/v3",
        package="github.com/pulumi/pulumi/pkg/v3/cmd/pulumi",
        summary="the Pulumi CLI and engine",
        ldflags=("-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version={version}",),
    ),
    Component(
        # govcloud's own language host (tools/go/pulumi-language-python/main.go says why): the
        # Go module proxy refuses the upstream one. Built against the sdk/v3 module, which also
        # ships the exec shim the host runs programs with.
        name="pulumi-language-python",
        binary="pulumi-language-python",
        module="github.com/pulumi/pulumi/sdk/v3",
        package=".",
        summary="govcloud's Python language host (the proxy refuses the upstream module) with the SDK's exec shim",
        ldflags=("-X main.version={version}+govcloud",),
        companions=(("github.com/pulumi/pulumi/sdk/v3", "python/cmd/pulumi-language-python-exec"),),
    ),
    Component(
        name="pulumi-resource-kubernetes",
        binary="pulumi-resource-kubernetes",
        module="github.com/pulumi/pulumi-kubernetes/provider/v4",
        package="./cmd/pulumi-resource-kubernetes",
        summary="the Pulumi Kubernetes resource provider",
        copy_package="cmd/pulumi-resource-kubernetes",
        # The provider embeds schema-embed.json, written from the committed schema.json with
        # the version the provider reports (its own generate.go).
        prepare=("go", "run", "generate.go"),
        ldflags=("-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version={provider_version}",),
    ),
)}


# What the lab's control planes run (govcloud.cluster): `make test` and `make demo` build these.
CONTROL_PLANE = tuple(sorted(name for name in COMPONENTS if name == "etcd" or name.startswith(("kube-apiserver-", "kube-controller-manager-"))))


def kube_apiserver_for(kubernetes_version: str, binary: str = "kube-apiserver") -> Component:
    """The API server (or ``kube-controller-manager``) component for a cluster's
    ``kubernetes_version`` (``"1.37"``)."""
    name = f"{binary}-{kubernetes_version}"
    if name not in COMPONENTS:
        known = ", ".join(sorted(c.split("-")[-1] for c in COMPONENTS if c.startswith(f"{binary}-")))
        raise LookupError(f"no {binary} build for Kubernetes {kubernetes_version} (govcloud builds {known})")
    return COMPONENTS[name]
