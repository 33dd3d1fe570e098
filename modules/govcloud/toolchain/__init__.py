"""Go components built from their modules into a cache outside the clone: the lab's control
planes (etcd, kube-apiserver per Kubernetes minor) and the Pulumi engine (CLI, Python language
host, Kubernetes provider)."""

from .build import Built, ToolchainError, build, build_all, cache_root, find, go_version, require
from .components import COMPONENTS, Component, kube_apiserver_for

__all__ = ["Built", "COMPONENTS", "Component", "ToolchainError", "build", "build_all", "cache_root", "find", "go_version",
           "kube_apiserver_for", "require"]
