"""`govcloud drift` against the live control planes: a clean run, then objects changed behind
govcloud's back (a loosened NetworkPolicy, an extra RoleBinding, a deleted quota), each found
and named; bad input is one line and exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from kubernetes.dynamic.exceptions import NotFoundError

REPO = Path(__file__).resolve().parents[2]
GOVCLOUD = Path(sys.executable).parent / "govcloud"
HEALTH_NS = "t-430100-health-app"
HRSS_NS = "t-430100-hrss-app"


def govcloud(lab_base: Path, *args) -> subprocess.CompletedProcess:
    env = {**os.environ, "GOVCLOUD_LAB_DIR": str(lab_base), "GOVCLOUD_CACHE_DIR": "off"}
    return subprocess.run([str(GOVCLOUD), *map(str, args)], capture_output=True, text=True, env=env, cwd=REPO)


def _drift(lab_base: Path, *args) -> tuple[int, dict]:
    done = govcloud(lab_base, "drift", "--env", "lab", "-o", "json", *args)
    assert done.returncode in (0, 1), done.stderr
    assert "Traceback" not in done.stderr
    return done.returncode, json.loads(done.stdout)


@pytest.fixture(scope="module")
def restored(applied, applier, rendered, secret_values, dynamic):
    """The desired state applied again (earlier tests may have left traces), and nothing extra."""
    from govcloud.cluster.apply import desired_objects

    def restore():
        assert not [e for _, e in applier.apply_all(desired_objects(rendered), secret_values) if e]
        bindings = dynamic["egov-1"].resources.get(api_version="rbac.authorization.k8s.io/v1", kind="RoleBinding")
        try:
            bindings.delete(name="intruder", namespace=HEALTH_NS)
        except NotFoundError:
            pass

    restore()
    yield restore
    restore()


def _found(report: dict) -> str:
    return json.dumps({k: report[k][:5] for k in ("missing", "changed", "unmanaged")}, indent=1)


def test_a_clean_lab_has_no_drift(restored, lab_base, rendered):
    code, report = _drift(lab_base)
    assert code == 0, _found(report)
    summary = report["summary"]
    assert summary["drift"] is False and summary["missing"] == summary["changed"] == summary["unmanaged"] == 0
    assert summary["in_sync"] == summary["objects"] > 150
    assert report["format"] == "govcloud.drift/v1" and set(report["clusters"]) == {"egov-1", "internet-1", "intranet-1"}


def test_changes_behind_govclouds_back_are_found(restored, lab_base, dynamic, rendered, tmp_path):
    egov = dynamic["egov-1"]
    policies = egov.resources.get(api_version="networking.k8s.io/v1", kind="NetworkPolicy")
    policies.patch(name="default-deny", namespace=HEALTH_NS, body={"spec": {"policyTypes": ["Ingress"]}},
                   content_type="application/merge-patch+json", field_manager="kubectl-edit")
    bindings = egov.resources.get(api_version="rbac.authorization.k8s.io/v1", kind="RoleBinding")
    bindings.create(namespace=HEALTH_NS, body={
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "intruder", "namespace": HEALTH_NS},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "someone-else"}]})
    egov.resources.get(api_version="v1", kind="ResourceQuota").delete(name="quota", namespace=HRSS_NS)
    try:
        code, report = _drift(lab_base)
        assert code == 1
        assert [(m["cluster"], m["kind"], m["namespace"], m["name"], m["stack"]) for m in report["missing"]] == \
               [("egov-1", "ResourceQuota", HRSS_NS, "quota", "lab.t-430100-hrss")]
        assert len(report["changed"]) == 1, _found(report)
        [changed] = report["changed"]
        assert (changed["kind"], changed["namespace"], changed["name"]) == ("NetworkPolicy", HEALTH_NS, "default-deny")
        assert changed["fields"] == [{"path": "spec.policyTypes", "desired": ["Ingress", "Egress"], "live": ["Ingress"], "live_missing": False}]
        assert "kubectl-edit" in [m["manager"] for m in changed["managers"]]
        assert [(u["kind"], u["namespace"], u["name"]) for u in report["unmanaged"]] == [("RoleBinding", HEALTH_NS, "intruder")]
        assert report["summary"]["in_sync"] == report["summary"]["objects"] - 2

        # one stack only: only its own drift
        code, hrss = _drift(lab_base, "--stack", "t-430100-hrss")
        assert code == 1 and hrss["stacks"] == ["lab.t-430100-hrss"]
        assert len(hrss["missing"]) == 1 and hrss["changed"] == [] and hrss["unmanaged"] == []

        # Markdown and the table name the same findings
        done = govcloud(lab_base, "drift", "--env", "lab", "-o", "md")
        assert done.returncode == 1
        for text in ("## Missing", "## Changed", "## Unmanaged", "`spec.policyTypes`", "intruder", "kubectl-edit"):
            assert text in done.stdout, text
        done = govcloud(lab_base, "drift", "--env", "lab")
        assert done.returncode == 1 and "default-deny" in done.stdout and "1 missing, 1 changed, 1 unmanaged" in done.stdout

        # recorded in the ledger, evidence and all
        keys = tmp_path / "keys"
        assert govcloud(lab_base, "keys", "generate", keys / "ledger").returncode == 0
        ledger, evidence = tmp_path / "ledger", tmp_path / "drift.json"
        done = govcloud(lab_base, "drift", "--env", "lab", "-o", "json", "--out", evidence, "--ledger", ledger,
                        "--ledger-key", keys / "ledger.key", "--actor", "ops-check")
        assert done.returncode == 1, done.stderr
        shown = govcloud(lab_base, "ledger", "show", "--ledger", ledger, "--output", "json")
        data = json.loads(shown.stdout)
        [entry] = data["entries"] if isinstance(data, dict) else data
        assert entry["kind"] == "drift" and entry["actor"] == "ops-check" and "1 missing, 1 changed, 1 unmanaged" in entry["summary"]
        assert json.loads(evidence.read_text())["summary"]["drift"] is True

        # the posture page shows it
        done = govcloud(lab_base, "report", "--env", "lab", "--report-dir", tmp_path / "report", "--drift", evidence,
                        "--render-dir", rendered, "--reviews", tmp_path / "no-reviews")
        assert done.returncode == 0, done.stderr
        posture = json.loads((tmp_path / "report" / "posture.json").read_text())
        assert posture["summary"]["drifted_objects"] == 3
        assert sorted(r["state"] for r in posture["drift"]["rows"]) == ["changed", "missing", "unmanaged"]
        page = (tmp_path / "report" / "index.html").read_text()
        assert 'id="drift-table"' in page and "default-deny" in page and "intruder" in page
    finally:
        restored()
    code, report = _drift(lab_base)
    assert code == 0, _found(report)


def test_bad_input_is_one_line_and_exit_2(planes, lab_base, tmp_path):
    done = govcloud(lab_base, "drift", "--env", "lab", "--stack", "t-999999-nobody")
    assert done.returncode == 2 and "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    done = govcloud(tmp_path, "drift", "--env", "lab")  # a lab directory without control planes
    assert done.returncode == 2 and "cluster up" in done.stderr and "Traceback" not in done.stderr
