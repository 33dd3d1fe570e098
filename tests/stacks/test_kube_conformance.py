"""KubeObject conformance: every object the stacks create, registered through ``KubeObject`` and
through the pulumi-kubernetes SDK's own class for its kind, asks the engine for exactly the same
thing.

Both registrations run under the SDK's mock runtime with a monitor that keeps the complete
``RegisterResourceRequest`` (everything the engine receives: type token, name, parent, provider
reference and plugin version, inputs, aliases, additional secret outputs, dependencies, options).
Only the source position, which the engine uses for its messages, is left out. The objects are
the lab's, from the render of every lab stack (secret values, which the render redacts, get a
stand-in: what matters is that both ways mark them secret).
"""

from __future__ import annotations

import importlib
from typing import Any

import pulumi
import pytest
from google.protobuf.json_format import MessageToDict
from pulumi.runtime.mocks import MockMonitor, Mocks
from pulumi_kubernetes import _tables
from pulumi_kubernetes.apiextensions import CustomResource

from govcloud.components.kube import KubeObject, KubernetesProvider, resource_name, type_token
from govcloud.state import REDACTED

# What the engine receives for its diagnostics only: where in the program the call was made.
NOT_COMPARED = ("sourcePosition", "stackTrace", "parentStackTraceHandle")
STAND_IN = "conformance-stand-in"


class _Mocks(Mocks):
    def new_resource(self, args):
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args):
        raise AssertionError(f"no provider function calls expected ({args.token})")


class _CapturingMonitor(MockMonitor):
    def __init__(self) -> None:
        super().__init__(_Mocks())
        self.requests: list[dict[str, Any]] = []

    def RegisterResource(self, request):
        if request.type.startswith("kubernetes:"):
            captured = MessageToDict(request)
            for key in NOT_COMPARED:
                captured.pop(key, None)
            self.requests.append(captured)
        return super().RegisterResource(request)


def _unredact(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _unredact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unredact(v) for v in value]
    return STAND_IN if value == REDACTED else value


def _typed(manifest: dict[str, Any], opts: pulumi.ResourceOptions, *, patch: bool) -> pulumi.CustomResource:
    """The SDK's class for the manifest's kind (CustomResource for kinds it has no class for),
    given the manifest's fields by their Python names, as the SDK's own YAML support does."""
    group, _, version = manifest["apiVersion"].rpartition("/")
    kind = manifest["kind"] + ("Patch" if patch else "")
    try:
        cls = getattr(importlib.import_module(f"pulumi_kubernetes.{group.split('.')[0] or 'core'}.{version}"), kind)
    except (ImportError, AttributeError):
        assert not patch, f"no SDK class for {manifest['apiVersion']} {kind}"
        extra = sorted(set(manifest) - {"apiVersion", "kind", "metadata", "spec"})
        assert not extra, f"{manifest['kind']}: CustomResource cannot carry {extra}"
        return CustomResource(resource_name(manifest), manifest["apiVersion"], manifest["kind"],
                              spec=manifest.get("spec"), metadata=manifest["metadata"], opts=opts)
    fields = {_tables.CAMEL_TO_SNAKE_CASE_TABLE.get(k, k): v for k, v in manifest.items() if k not in ("apiVersion", "kind")}
    return cls(resource_name(manifest), opts, **fields)


def _register(objects: list[tuple[dict[str, Any], bool]], how: str) -> list[dict[str, Any]]:
    monitor = _CapturingMonitor()
    pulumi.runtime.set_mocks(_Mocks(), project="govcloud", stack="lab.conformance", preview=False, monitor=monitor)

    @pulumi.runtime.test
    def program():
        provider = KubernetesProvider("cluster-conformance", context="lab-conformance")
        parent = pulumi.ComponentResource("govcloud:test:Conformance", "conformance")
        opts = pulumi.ResourceOptions(parent=parent, provider=provider)
        for manifest, patch in objects:
            if how == "KubeObject":
                KubeObject(manifest, opts, patch=patch)
            else:
                _typed(manifest, opts, patch=patch)

    program()
    return [r for r in monitor.requests if not r["type"].startswith("pulumi:providers:")]


def _objects(lab, stack: str) -> list[tuple[dict[str, Any], bool]]:
    found = []
    for resource in lab.state(stack).resources:
        if resource.custom and resource.type.startswith("kubernetes:") and not resource.type.startswith("pulumi:"):
            manifest = _unredact(resource.inputs)
            patch = resource.type.endswith("Patch")
            assert type_token(manifest["apiVersion"], manifest["kind"], patch=patch) == resource.type
            found.append((manifest, patch))
    return found


def _differences(a: Any, b: Any, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b)):
            where = f"{path}.{key}" if path else key
            if key not in a or key not in b:
                out.append(f"{where}: only {'typed class' if key in b else 'KubeObject'} sends it "
                           f"({b.get(key) if key in b else a.get(key)!r})")
            else:
                out += _differences(a[key], b[key], where)
        return out
    return [] if a == b else [f"{path}: KubeObject {a!r} != typed class {b!r}"]


@pytest.fixture(scope="module")
def lab_objects(lab) -> dict[str, list[tuple[dict[str, Any], bool]]]:
    return {stack.name: _objects(lab, stack.name) for stack in lab.env.stacks}


def test_every_kind_the_stacks_create_is_covered(lab_objects):
    tokens = {type_token(m["apiVersion"], m["kind"], patch=p) for objects in lab_objects.values() for m, p in objects}
    # The kinds the foundation and tenant components create (a new kind shows up here first).
    assert {"kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy", "kubernetes:core/v1:Secret",
            "kubernetes:core/v1:NamespacePatch", "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy", "kubernetes:discovery.k8s.io/v1:EndpointSlice"} <= tokens



def test_kube_object_registers_exactly_what_the_typed_class_registers(lab_objects):
    problems = []
    for stack, objects in sorted(lab_objects.items()):
        assert objects, f"{stack} creates no Kubernetes objects"
        ours = {(r["type"], r["name"]): r for r in _register(objects, "KubeObject")}
        theirs = {(r["type"], r["name"]): r for r in _register(objects, "typed")}
        assert len(ours) == len(objects) and set(ours) == set(theirs), stack
        problems += [f"{stack} {token} {name}: {d}" for (token, name) in sorted(ours)
                     for d in _differences(ours[token, name], theirs[token, name])]
    assert not problems, "\n".join(problems[:400])


def test_a_difference_is_caught(lab_objects):
    """The comparison is not vacuous: an object registered without the typed class's aliases differs."""
    [vap] = [(m, p) for m, p in lab_objects["lab.cluster-egov-1"] if m["kind"] == "ValidatingAdmissionPolicy"][:1]
    ours = _register([vap], "KubeObject")[0]
    theirs = _register([vap], "typed")[0]
    ours.pop("aliases", None)
    ours.pop("aliasSpecs", None)
    assert _differences(ours, theirs)
