"""The engine path on the lab's control planes, end to end, as CI runs it (README: "Deploy: the
engine path, step by step"): one lab of the module's own (its own network namespace), an empty
file backend, a reviewer with a key the trust store knows. The tests run in file order and
build on one another: deploy everything, compare the live objects with the render, deploy
again (nothing changes), the pack's verdicts engine against offline, a reviewed change, the
refusals, a violation the pack stops inside the engine, and a tenant destroyed."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from govcloud.engine.plan import Plan
from govcloud.engine.verdicts import differences, verdicts

from . import flow

pytestmark = pytest.mark.engine

EDU = "t-430600-edu"
EDU_STACK = f"lab.{EDU}"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    reason = flow.missing()
    if reason:
        pytest.skip(reason)
    from govcloud.cluster.planes import ControlPlanes

    site = flow.prepare(tmp_path_factory.mktemp("engine-lab"), flow.REPO / "inventories")
    planes = ControlPlanes(site.env(), site.lab_root, log=lambda message: None)
    try:
        planes.up()
        site.planes = planes  # type: ignore[attr-defined]
        yield site
    finally:
        print("\nengine timings: " + ", ".join(f"{label} {seconds:.1f}s" for label, seconds in site.timings.items()))
        if os.environ.get("GOVCLOUD_LAB_KEEP") != "1":
            planes.down()
            assert not Path(f"/run/netns/{planes.namespace}").exists()


def core(site, context: str):
    from kubernetes import client

    return client.CoreV1Api(site.planes.access.client(context))


def test_deploy_all_from_an_empty_backend(site):
    foundations, tenants = site.stack_names("foundation"), site.stack_names("tenant")
    first = flow.outcomes(site.preview())
    assert {s for s, o in first.items() if o == "ok"} == {f"lab.{f}" for f in foundations}
    assert {s for s, o in first.items() if o == "skipped"} == {f"lab.{t}" for t in tenants}
    site.review(*foundations)
    up = flow.outcomes(site.deploy())
    assert {s for s, o in up.items() if o == "ok"} == {f"lab.{f}" for f in foundations}
    assert all(o == "skipped" for s, o in up.items() if s.split(".", 1)[1] in tenants)  # no plan yet
    again = flow.outcomes(site.preview())
    assert set(again.values()) == {"ok"}
    for name in foundations:  # deployed as planned: their new plans change nothing
        assert not Plan(Path("p"), "", flow.plan_document(site, name)).has_changes()
    site.review(*tenants)
    done = flow.outcomes(site.deploy())
    assert done == {s.name: "ok" for s in site.env().stacks}
    held = site.engine().stacks()
    assert {name for name, entry in held.items() if int(entry.get("resourceCount") or 0) > 1} == {s.name for s in site.env().stacks}


def test_the_objects_in_the_api_servers_are_the_rendered_ones(site):
    site.govcloud("render", "--env", "lab", check=True)
    done = site.govcloud("drift", "--env", "lab", check=True)
    assert "no drift" in done.stdout.lower()
    # not vacuous: every rendered object of a tenant is in its cluster
    namespaces = {n.metadata.name for n in core(site, "lab-egov-1").list_namespace().items}
    assert {f"{EDU}-app", "t-430100-health-app", "t-430100-health-data", "govcloud-gateway"} <= namespaces
    secret = core(site, "lab-egov-1").read_namespaced_secret("datapool-credentials", f"{EDU}-app")
    store = json.loads((site.lab_root / "secrets" / "datapool-passwords.json").read_text())
    import base64

    assert base64.b64decode(secret.data["password"]).decode() == store[EDU.replace("-", "_")]  # the password PostgreSQL knows


def test_a_second_deploy_changes_nothing(site):
    site.deploy(expect_no_changes=True)  # the certified plans, replayed: every step a same
    site.preview()
    for stack in site.env().stacks:
        assert not Plan(Path("p"), "", flow.plan_document(site, stack.short_name)).has_changes(), stack.name
    done = site.deploy(expect_no_changes=True)  # plans that change nothing need no review
    assert set(flow.outcomes(done).values()) == {"ok"}
    assert "no drift" in site.govcloud("drift", "--env", "lab", check=True).stdout.lower()


def test_the_pack_s_verdicts_inside_the_engine_equal_govcloud_check(site):
    """For every stack, the engine's verdicts of the last preview (its event log) equal `govcloud
    check` on the render, one (rule, resource) at a time."""
    report = site.work / "check.json"
    site.govcloud("check", "--env", "lab", "--pack", flow.PACK, "--format", "json", "--out", report, check=True)
    offline = json.loads(report.read_text())["results"]
    problems = []
    for stack in site.env().stacks:
        events = site.work / "build" / "deploy" / "lab" / f"{stack.name}.preview.events.jsonl"
        root = f"urn:pulumi:{stack.name}::govcloud::pulumi:pulumi:Stack::govcloud-{stack.name}"
        engine = verdicts(events, "govcloud", root)
        ours = {(r["rule"], r["urn"]): r["status"] for r in offline if r["stack"] == stack.name}
        assert len(engine) > 50 and ours, stack.name
        problems += [f"{stack.name}: {line}" for line in differences(engine, ours)]
    assert not problems, "\n".join(problems)


def test_the_offline_check_sends_the_pack_what_the_engine_sends(site, tmp_path):
    """Request by request (GOVCLOUD_PACK_RECORD, secrets redacted): the same resources, checked
    inputs, options and providers reach the pack from the engine and from `govcloud check`."""
    engine_file, check_file = tmp_path / "engine.jsonl", tmp_path / "check.jsonl"
    site.govcloud("deploy", "--env", "lab", "-s", "t-430100-health", "--preview", check=True,
                  extra_env={"GOVCLOUD_PACK_RECORD": str(engine_file)})
    site.govcloud("check", "--env", "lab", "-s", "t-430100-health", "--pack", flow.PACK, check=True,
                  extra_env={"GOVCLOUD_PACK_RECORD": str(check_file), "GOVCLOUD_CACHE_DIR": "off"})

    def analyzed(path):
        requests = [json.loads(line) for line in path.read_text().splitlines()]
        return {r["request"]["urn"]: r["request"] for r in requests if r["method"] == "Analyze"}

    engine, ours = analyzed(engine_file), analyzed(check_file)
    assert len(engine) > 30 and set(engine) == set(ours)
    different = sorted(urn for urn in engine if engine[urn] != ours[urn])
    assert not different, json.dumps({"engine": engine[different[0]], "check": ours[different[0]]}, indent=1)[:3000]
    assert "[secret]" in json.dumps(engine)  # the Secret's data reached the pack, redacted in the recording


def live_pods_quota(site) -> str:
    return core(site, "lab-egov-1").read_namespaced_resource_quota("quota", f"{EDU}-app").spec.hard["pods"]


def test_a_changed_request_is_applied_only_after_the_review_of_its_plan(site):
    before = live_pods_quota(site)
    flow.set_pods(site, EDU, 40)
    site.preview(EDU)
    plan = Plan(Path("p"), "", flow.plan_document(site, EDU))
    changes = plan.summary()["changes"]
    assert changes and all(c["steps"] == ["update"] and "ResourceQuota" in c["urn"] for c in changes), changes
    # the same change without a new review: refused, nothing applied
    refused = site.deploy(EDU, check=False)
    assert refused.returncode == 1 and flow.outcomes(refused)[EDU_STACK] == "refused"
    assert "the desired state changed since the review" in refused.stdout
    assert live_pods_quota(site) == before
    site.review(EDU)
    # a plan edited after the review: refused
    plan_file = site.work / "build" / "plans" / "lab" / f"{EDU_STACK}.plan.json"
    reviewed = plan_file.read_bytes()
    document = json.loads(reviewed)
    document["manifest"]["time"] = "2026-01-01T00:00:00Z"
    plan_file.write_text(json.dumps(document))
    edited = site.deploy(EDU, check=False)
    assert flow.outcomes(edited)[EDU_STACK] == "refused" and "the update plan is not the one reviewed" in edited.stdout
    plan_file.write_bytes(reviewed)
    # the engine's own guard, govcloud's gate bypassed: a request changed again after the
    # review, the reviewed plan run directly with `pulumi up --plan`: the engine refuses
    flow.set_pods(site, EDU, 45)
    engine = site.engine()
    guarded = engine.run("up", "--stack", EDU_STACK, "--plan", str(plan_file), "--yes", "--skip-preview", "--non-interactive")
    assert guarded.returncode != 0
    assert "violates plan" in guarded.stdout + guarded.stderr, (guarded.stdout + guarded.stderr)[-3000:]  # the engine's reason, not any failure
    assert live_pods_quota(site) == before
    flow.set_pods(site, EDU, 40)
    # the reviewed change, exactly
    site.govcloud("render", "--env", "lab", check=True)
    done = site.deploy(EDU)
    assert flow.outcomes(done) == {EDU_STACK: "ok"}
    assert live_pods_quota(site) == "40" != before
    assert "no drift" in site.govcloud("drift", "--env", "lab", check=True).stdout.lower()


def test_a_violating_change_is_stopped_by_the_pack_inside_the_engine(site, tmp_path):
    """A program that adds a wildcard Role and a privileged pod to a tenant, run with the pack by
    `pulumi up` directly (govcloud's gate bypassed). With its preview, the engine reports every
    mandatory violation and stops before anything is applied; with --skip-preview it bails at
    the first violating resource it analyses (the engine's rule: an invalid resource ends the
    update), so which rule it names depends on registration order. Either way neither object
    reaches the API server."""
    engine = site.engine()
    project = tmp_path / "violating"
    project.mkdir()
    generated = (engine.workspace.project_dir / "Pulumi.yaml").read_text()
    main = str(flow.REPO / "stacks")
    (project / "Pulumi.yaml").write_text(generated.replace(f"main: {main}", f"main: {Path(__file__).parent / 'programs' / 'violating'}"))
    shutil.copy(engine.workspace.stack_config_file(EDU_STACK), project)
    config = site.work / "build" / "deploy" / "lab" / "policy-config.json"
    pack = ("--policy-pack", str(flow.PACK), "--policy-pack-config", str(config))
    held = int(engine.stacks()[EDU_STACK].get("resourceCount") or 0)
    previewed = engine.run("up", "--stack", EDU_STACK, *pack, "--yes", "--non-interactive", cwd=project)
    text = previewed.stdout + previewed.stderr
    assert previewed.returncode != 0
    assert "GOV-SEC-004" in text and "GOV-SEC-009" in text and "mandatory" in text, text[-4000:]
    assert int(engine.stacks()[EDU_STACK].get("resourceCount") or 0) == held  # stopped at the preview: not even the provider
    skipped = engine.run("up", "--stack", EDU_STACK, *pack, "--yes", "--skip-preview", "--non-interactive", cwd=project)
    text = skipped.stdout + skipped.stderr
    assert skipped.returncode != 0
    assert ("GOV-SEC-004" in text or "GOV-SEC-009" in text) and "mandatory" in text, text[-4000:]
    from kubernetes import client

    rbac = client.RbacAuthorizationV1Api(site.planes.access.client("lab-egov-1"))
    assert "everything" not in {r.metadata.name for r in rbac.list_namespaced_role(f"{EDU}-app").items}
    assert "root-shell" not in {p.metadata.name for p in core(site, "lab-egov-1").list_namespaced_pod(f"{EDU}-app").items}


def test_destroying_one_tenant_removes_exactly_its_objects(site):
    others = [s.short_name for s in site.env().stacks if s.short_name != EDU]
    api = core(site, "lab-egov-1")
    before = {n.metadata.name for n in api.list_namespace().items}
    done = site.govcloud("destroy", "--env", "lab", "-s", EDU, "--yes", check=True)
    assert f"destroyed {EDU_STACK}" in done.stdout
    after = {n.metadata.name for n in api.list_namespace().items}
    assert before - after == {f"{EDU}-app"}  # its namespace (and with it everything in it) is gone, nothing else
    drift = site.govcloud("drift", "--env", "lab", *[a for s in others for a in ("-s", s)], check=True)
    assert "no drift" in drift.stdout.lower()
    assert int(site.engine().stacks()[EDU_STACK].get("resourceCount") or 0) <= 1
