"""Render: strict schema validation, broken components caught, duplicate URNs, determinism."""

from __future__ import annotations

import contextlib
import filecmp
from pathlib import Path

import pytest

from govcloud.components import tenant as tenant_component
from govcloud.render import pipeline, schemas
from govcloud.state import StackState

from .conftest import LAB_INVENTORIES, render_inventory


def test_every_lab_manifest_passes_strict_validation(lab):
    kinds = set()
    for stack in lab.env.stacks:
        state = lab.state(stack.name)
        manifests = lab.manifests(stack.name)
        assert len(manifests) == len(list(state.kubernetes_objects()))
        for manifest in manifests:
            assert schemas.manifest_errors(manifest, "1.37") == [], (stack.name, manifest["kind"], manifest["metadata"])
            kinds.add(manifest["kind"])
    # the Gateway API kinds are validated too, not skipped
    assert {"Gateway", "HTTPRoute", "BackendTLSPolicy", "ValidatingAdmissionPolicy", "EndpointSlice"} <= kinds


@pytest.mark.parametrize("manifest,field", [
    ({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "x", "namespace": "y"},
      "spec": {"podSelectr": {}}}, "spec: Additional properties are not allowed ('podSelectr' was unexpected)"),
    ({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "q", "namespace": "y"},
      "spec": {"hard": {"pods": ["10"]}}}, "spec.hard.pods"),
    ({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "r", "namespace": "y"},
      "spec": {"hostnames": ["Not_A_Host"]}}, "spec.hostnames[0]"),
    ({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "g", "namespace": "y", "labelz": {}},
      "spec": {"gatewayClassName": "c", "listeners": [{"name": "h", "port": 443, "protocol": "HTTPS"}]}}, "metadata: Additional properties"),
    ({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "r"}, "spec": {}, "extra": 1},
     "(object): Additional properties"),
    ({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}, "no schema for example.com/v1 Widget"),
])
def test_invalid_manifests_name_the_field(manifest, field):
    errors = schemas.manifest_errors(manifest, "1.37")
    assert errors and any(field in e for e in errors), errors


def test_validators_are_cached_per_version_and_kind():
    first = schemas.validator_for("1.37", "v1", "Namespace")
    assert schemas.validator_for("1.37", "v1", "Namespace") is first
    assert schemas.validator_for("1.36", "v1", "Namespace") is not first


def test_a_broken_component_fails_the_render_naming_stack_resource_and_field(monkeypatch, tmp_path):
    real_route = tenant_component._route

    def broken_route(*args, **kwargs):
        route = real_route(*args, **kwargs)
        route["spec"]["rules"][0]["backendRefs"][0]["prot"] = 8080  # a typo a reviewer could miss
        return route

    monkeypatch.setattr(tenant_component, "_route", broken_route)
    rendered = render_inventory(LAB_INVENTORIES, tmp_path / "out", only=["lab.t-430000-portal"], jobs=1)
    (result,) = rendered.results
    assert not result.ok
    assert any("lab.t-430000-portal: urn:pulumi:lab.t-430000-portal::govcloud::" in e
               and "HTTPRoute::t-430000-portal-app/www" in e
               and "spec.rules[0].backendRefs[0]" in e and "'prot' was unexpected" in e for e in result.errors), result.errors
    assert not (tmp_path / "out" / "lab.t-430000-portal" / "state.json").exists()


BROKEN_PROGRAM = '''
import pulumi
from govcloud.components.kube import KubeObject
for _ in range(2):  # the same object twice: the engine rejects the duplicate URN
    KubeObject({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "twice", "namespace": "x"}},
               pulumi.ResourceOptions())
'''


def test_duplicate_urns_fail_the_render(tmp_path):
    program = tmp_path / "program"
    program.mkdir()
    (program / "__main__.py").write_text(BROKEN_PROGRAM, encoding="utf-8")
    rendered = render_inventory(LAB_INVENTORIES, tmp_path / "out", only=["lab.t-430600-edu"], jobs=1, program=program)
    results = {r.stack: r for r in rendered.results}
    foundation = results["lab.cluster-egov-1"]  # rendered first, for the tenant's StackReference
    assert "duplicate URNs" in foundation.errors[0] and "ConfigMap::x/twice" in foundation.errors[0]
    assert results["lab.t-430600-edu"].errors == ["lab.t-430600-edu: foundation lab.cluster-egov-1 failed to render"]


def test_an_unknown_stack_name_is_a_clear_program_error(tmp_path, lab):
    from govcloud.components import program
    from govcloud.render.runtime import RenderError, run_program

    program.remember(lab.env, LAB_INVENTORIES)
    with pytest.raises(RenderError, match="stack lab.t-999999-nobody is not implied by the model"):
        run_program(pipeline.PROGRAM, "lab.t-999999-nobody", project="govcloud",
                    config={"govcloud:inventories": str(LAB_INVENTORIES)})


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_render_is_byte_for_byte_deterministic_serial_and_parallel(lab, tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "BATCH", 2)  # force the worker-process path even for 8 tenants
    parallel = render_inventory(LAB_INVENTORIES, tmp_path / "parallel", jobs=2)
    assert all(r.ok for r in parallel.results)
    assert _files(lab.out) == _files(parallel.out)
    match, mismatch, errors = filecmp.cmpfiles(lab.out, parallel.out, _files(lab.out), shallow=False)
    assert not mismatch and not errors and len(match) == 33  # state.json, manifests.yaml, inputs.json


def test_state_round_trips_and_records_parents_dependencies_and_providers(lab):
    state = lab.state("lab.t-430100-hrss")
    assert StackState.from_dict(state.as_dict()).to_json() == state.to_json()
    by_urn = state.by_urn()
    component = [r for r in state.resources if r.type == "govcloud:platform:TenantEnvironment"][0]
    namespace = [r for r in state.resources if r.kind == "Namespace"][0]
    quota = [r for r in state.resources if r.kind == "ResourceQuota"][0]
    assert namespace.parent == component.urn and component.parent in by_urn
    assert namespace.urn in quota.dependencies
    assert by_urn[quota.provider].inputs["context"] == "lab-egov-1"
    assert state.kind == "tenant" and state.tenant == "t-430100-hrss" and state.kubernetes_version == "1.37"


def test_a_full_render_removes_stacks_the_model_no_longer_implies(tmp_path):
    out = tmp_path / "out"
    stale = out / "lab.t-430999-gone"
    stale.mkdir(parents=True)
    (stale / "state.json").write_text("{}", encoding="utf-8")
    (stale / "manifests.yaml").write_text("", encoding="utf-8")
    render_inventory(LAB_INVENTORIES, out, jobs=1)
    assert not stale.exists()


def test_render_command_json_and_unknown_stack(tmp_path):
    import json

    from typer.testing import CliRunner

    from govcloud.cli import app

    runner = CliRunner()
    done = runner.invoke(app, ["--inventories", str(LAB_INVENTORIES), "render", "--env", "lab", "--stack", "lab.t-430600-edu",
                               "--render-dir", str(tmp_path / "out"), "--output", "json"])
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert report["ok"] and [s["stack"] for s in report["stacks"]] == ["lab.t-430600-edu"]
    assert report["stacks"][0]["digest"] == StackState.load(tmp_path / "out" / "lab.t-430600-edu" / "state.json").digest()
    unknown = runner.invoke(app, ["--inventories", str(LAB_INVENTORIES), "render", "--stack", "lab.t-000000-nobody"])
    assert unknown.exit_code == 2 and "is not a stack of environment lab" in unknown.output


def test_skipping_source_positions_changes_nothing_rendered(lab, tmp_path, monkeypatch):
    """The offline render skips the SDK's per-resource stack trace; with it, the output is the same."""
    from pulumi.runtime import resource as sdk_resource

    from govcloud.render import runtime

    original = sdk_resource._get_stack_trace
    calls = []

    def counting():
        calls.append(1)
        return original()

    monkeypatch.setattr(sdk_resource, "_get_stack_trace", counting)
    stacks = ["lab.cluster-egov-1", "lab.t-430100-health"]
    fast = pipeline.render(lab.env, LAB_INVENTORIES, tmp_path / "fast", only=stacks, jobs=1)
    assert calls == [] and sdk_resource._get_stack_trace is counting  # skipped, then put back
    monkeypatch.setattr(runtime, "_without_source_positions", contextlib.nullcontext)
    slow = pipeline.render(lab.env, LAB_INVENTORIES, tmp_path / "slow", only=stacks, jobs=1)
    assert len(calls) > 20
    assert [r.digest for r in fast] == [r.digest for r in slow]
    for stack in stacks:
        assert (tmp_path / "fast" / stack / "state.json").read_bytes() == (tmp_path / "slow" / stack / "state.json").read_bytes()
