"""One way to register a Kubernetes object from the stacks: a manifest in, a resource out.

Every object the stacks create, built-in kinds and Gateway API kinds alike, is registered
through ``KubeObject`` and asks the engine for exactly what the pulumi-kubernetes SDK class of
its kind would (``tests/stacks/test_kube_conformance.py`` registers every object of the lab both
ways under the SDK's mock monitor and compares the requests): the same type token
(``kubernetes:<group>/<version>:<Kind>``, core group spelled ``core``; ``CustomResource``'s for
Gateway API kinds), inputs, plugin version, additional secret outputs, and the same type aliases
(``ALIASES``: the API versions a kind was served under before, so that a cluster upgrade across
an API-version switch keeps every URN instead of deleting the old object). The manifest stays a
plain dict, which is what render validates against the cluster's OpenAPI schema and what
reviewers read; the typed classes cost about 40% more per object under the offline renderer,
which matters at 4,000 tenants.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import version
from typing import Any

import pulumi

from .. import labels
from ..state import SECRET_OUTPUTS

PROVIDER_PACKAGE = "kubernetes"


@cache
def plugin_version(distribution: str) -> str:
    """The provider plugin version an SDK distribution asks the engine for (its own version)."""
    return version(distribution)


class KubernetesProvider(pulumi.ProviderResource):
    """The Kubernetes provider for one cluster, by kubeconfig context, with server-side apply."""

    def __init__(self, name: str, *, context: str) -> None:
        # Provider configuration travels as strings (the typed class JSON-encodes booleans).
        super().__init__(PROVIDER_PACKAGE, name, {"context": context, "enableServerSideApply": "true"},
                         pulumi.ResourceOptions(version=plugin_version("pulumi-kubernetes")))


# The type aliases the SDK class of each kind the stacks create sends (pulumi-kubernetes, the
# version pinned in pyproject.toml); kinds not listed have none. Checked by the conformance test.
ALIASES: dict[str, tuple[str, ...]] = {
    "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy": (
        "kubernetes:admissionregistration.k8s.io/v1alpha1:ValidatingAdmissionPolicy",
        "kubernetes:admissionregistration.k8s.io/v1beta1:ValidatingAdmissionPolicy"),
    "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding": (
        "kubernetes:admissionregistration.k8s.io/v1alpha1:ValidatingAdmissionPolicyBinding",
        "kubernetes:admissionregistration.k8s.io/v1beta1:ValidatingAdmissionPolicyBinding"),
    "kubernetes:discovery.k8s.io/v1:EndpointSlice": ("kubernetes:discovery.k8s.io/v1beta1:EndpointSlice",),
    "kubernetes:networking.k8s.io/v1:NetworkPolicy": ("kubernetes:extensions/v1beta1:NetworkPolicy",),
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole": (
        "kubernetes:rbac.authorization.k8s.io/v1alpha1:ClusterRole", "kubernetes:rbac.authorization.k8s.io/v1beta1:ClusterRole"),
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": (
        "kubernetes:rbac.authorization.k8s.io/v1alpha1:RoleBinding", "kubernetes:rbac.authorization.k8s.io/v1beta1:RoleBinding"),
    "kubernetes:scheduling.k8s.io/v1:PriorityClass": (
        "kubernetes:scheduling.k8s.io/v1alpha1:PriorityClass", "kubernetes:scheduling.k8s.io/v1beta1:PriorityClass"),
}


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
        token = type_token(manifest["apiVersion"], manifest["kind"], patch=patch)
        # As the SDK's classes do: the provider version of the installed SDK, the kind's aliases.
        own = pulumi.ResourceOptions(version=plugin_version("pulumi-kubernetes"))
        if token in ALIASES:
            own.aliases = [pulumi.Alias(type_=alias) for alias in ALIASES[token]]
        if manifest["kind"] == "Secret":
            # As the SDK's Secret class does: values are secrets in state, previews and render.
            for key in ("data", "stringData"):
                if key in props:
                    props[key] = pulumi.Output.secret(props[key])
            own.additional_secret_outputs = list(SECRET_OUTPUTS)
        super().__init__(token, resource_name(manifest), props, pulumi.ResourceOptions.merge(opts, own))
