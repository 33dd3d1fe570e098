"""One way to register a Kubernetes object from the stacks: a manifest in, a resource out.

Every object the stacks create, built-in kinds and Gateway API kinds alike, is registered
through ``KubeObject`` with the same type token the pulumi-kubernetes SDK classes use
(``kubernetes:<group>/<version>:<Kind>``, core group spelled ``core``). The Kubernetes provider
sees exactly what the typed classes would send; the manifest stays a plain dict, which is
what render validates against the cluster's OpenAPI schema and what reviewers read. (The
typed classes add type aliases for API versions we never used and cost about 40% more per
object under the offline renderer, which matters at 4,000 tenants; the typed Provider class
alone costs 7 ms per stack.) Provider and resources pin the plugin version of the installed
pulumi-kubernetes SDK, as its classes do.
"""

from __future__ import annotations

from typing import Any

from functools import lru_cache
from importlib.metadata import version

import pulumi

from .. import labels

PROVIDER_PACKAGE = "kubernetes"


@lru_cache(maxsize=None)
def plugin_version(distribution: str) -> str:
    """The provider plugin version an SDK distribution asks the engine for (its own version)."""
    return version(distribution)


class KubernetesProvider(pulumi.ProviderResource):
    """The Kubernetes provider for one cluster, by kubeconfig context, with server-side apply."""

    def __init__(self, name: str, *, context: str) -> None:
        # Provider configuration travels as strings (the typed class JSON-encodes booleans).
        super().__init__(PROVIDER_PACKAGE, name, {"context": context, "enableServerSideApply": "true"},
                         pulumi.ResourceOptions(version=plugin_version("pulumi-kubernetes")))


def type_token(api_version: str, kind: str, *, patch: bool = False) -> str:
    group, _, version = api_version.rpartition("/")
    return f"kubernetes:{group or 'core'}/{version}:{kind}{'Patch' if patch else ''}"


def resource_name(manifest: dict[str, Any]) -> str:
    """``<namespace>/<name>`` for namespaced objects, ``<name>`` otherwise: unique per kind."""
    meta = manifest["metadata"]
    namespace = meta.get("namespace")
    return f"{namespace}/{meta['name']}" if namespace else meta["name"]


def meta(name: str, namespace: str | None = None, *, labels_: dict[str, str] | None = None,
         annotations: dict[str, str] | None = None) -> dict[str, Any]:
    """Object metadata; every object carries the managed-by label."""
    metadata: dict[str, Any] = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    metadata["labels"] = {labels.MANAGED_BY: labels.MANAGED_BY_VALUE, **(labels_ or {})}
    if annotations:
        metadata["annotations"] = dict(annotations)
    return metadata


class KubeObject(pulumi.CustomResource):
    """A Kubernetes object given as a manifest (apiVersion, kind, metadata, ...)."""

    def __init__(self, manifest: dict[str, Any], opts: pulumi.ResourceOptions, *, patch: bool = False) -> None:
        props = dict(manifest)
        if manifest["kind"] == "Secret":
            # As the SDK's Secret class does: values are secrets in state, previews and render.
            for key in ("data", "stringData"):
                if key in props:
                    props[key] = pulumi.Output.secret(props[key])
            opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["data", "stringData"]))
        super().__init__(type_token(manifest["apiVersion"], manifest["kind"], patch=patch), resource_name(manifest), props, opts)
