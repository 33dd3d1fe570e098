"""The diff report from `pulumi preview --json` documents (fixtures written from the engine's
documented PreviewDigest shape: steps with op, urn, oldState/newState, diffReasons,
replaceReasons, detailedDiff), and bad preview input."""

from __future__ import annotations

import json

import pytest

from audit_helpers import FIXTURES, govcloud

HEALTH = FIXTURES / "preview-health.json"
TRANSPORT = FIXTURES / "preview-transport.json"
PLAINTEXT = ("Zq8vN3pLx2Tw9sKd4HfR7mYc",)


@pytest.fixture(scope="module")
def report() -> dict:
    done = govcloud("diff", "--from-preview", HEALTH, "--from-preview", TRANSPORT, "--output", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def changes(report: dict, stack: str) -> dict[str, dict]:
    [found] = [s for s in report["stacks"] if s["stack"] == stack]
    return {r["name"]: r for r in found["resources"]}


def test_every_operation_of_the_preview_is_reported(report: dict) -> None:
    health = changes(report, "lab.t-430100-health")
    assert {name: r["op"] for name, r in health.items()} == {
        "t-430100-health-data": "delete",
        "t-430100-health-app/datapool": "replace",
        "t-430100-health-app/datapool-credentials": "replace",
        "t-430100-health-records": "create",
        "t-430100-health-app/quota": "update",
        "t-430100-health-app/allowed-flows": "update",
    }
    assert report["summary"]["resources"] == {"delete": 1, "replace": 2, "create": 2, "update": 2}
    assert report["summary"]["stacks"] == {"added": 1, "removed": 0, "changed": 1}


def test_detailed_diff_paths_get_old_and_new_values(report: dict) -> None:
    quota = changes(report, "lab.t-430100-health")["t-430100-health-app/quota"]
    assert quota["fields"] == [
        {"path": 'spec.hard["limits.cpu"]', "change": "update", "old": "8", "new": "12"},
        {"path": 'spec.hard["requests.cpu"]', "change": "update", "old": "8", "new": "12"},
    ]
    flows = changes(report, "lab.t-430100-health")["t-430100-health-app/allowed-flows"]
    assert {"path": "spec.egress[2]", "change": "add", "new": {"ports": [{"port": 443, "protocol": "TCP"}]}} in flows["fields"]


def test_replacements_carry_the_engine_reasons(report: dict) -> None:
    health = changes(report, "lab.t-430100-health")
    config = health["t-430100-health-app/datapool"]
    assert config["replace_reasons"] == ["data"]
    # detailedDiff was null: the fields come from diffReasons and the two states
    assert config["fields"] == [{"path": "data.GOVCLOUD_DATASETS_PUBLISHED", "change": "update",
                                 "old": "health-records,clinic-directory", "new": "health-records,clinic-directory,vaccination"}]
    assert "stringData.password" in health["t-430100-health-app/datapool-credentials"]["replace_reasons"]


def test_new_stack_context_and_flows_come_from_the_objects(report: dict) -> None:
    [transport] = [s for s in report["stacks"] if s["stack"] == "lab.t-430100-transport"]
    assert transport["status"] == "added"
    [row] = [t for t in report["tenants"] if t["tenant"] == "t-430100-transport"]
    assert row["requested_by"] == "zhao-lei" and row["reason"] == "公交一卡通系统上云"
    assert row["approvals"] == [{"reference": "HNSJ-AQ-2026-077"}] and row["source"] == "namespace annotations"
    [flow] = [f for f in report["network"]["flows"] if f["status"] != "unchanged"]
    assert flow["label"] == "egov-extranet->internet tcp/443" and flow["opened_by"] == ["t-430100-health"]


@pytest.mark.parametrize("format", ["md", "html", "json"])
def test_secrets_in_a_preview_never_reach_a_report(format: str) -> None:
    assert PLAINTEXT[0] in HEALTH.read_text()  # the fixture does carry one (a wrapped secret value)
    done = govcloud("diff", "--from-preview", HEALTH, "--output", format)
    assert done.returncode == 0, done.stderr
    for secret in PLAINTEXT:
        assert secret not in done.stdout
    assert "[secret]" in done.stdout


def test_markdown_lists_deletions_and_replacements_first() -> None:
    text = govcloud("diff", "--from-preview", HEALTH).stdout
    order = [text.index(h) for h in ("**", "#### Deletions (1)", "#### Replacements (2)", "#### Additions (1)", "#### Updates (2)")]
    assert order == sorted(order), text
    assert "replaced because `data` changes" in text


@pytest.mark.parametrize(("fixture", "message"), [
    ("preview-truncated.json", "not JSON"),
    ("preview-unknown-op.json", "steps[0].op: unknown step operation 'teleport'"),
    ("preview-failed.json", "the preview failed: program failed: stack lab.t-430100-nowhere is not implied by the model"),
])
def test_bad_preview_json_is_exit_2_with_a_clear_message(fixture: str, message: str) -> None:
    done = govcloud("diff", "--from-preview", FIXTURES / fixture)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr and fixture in done.stderr
    assert "Traceback" not in done.stderr and "\x1b[31m" not in done.stderr


def test_a_preview_that_is_not_a_preview_document(tmp_path) -> None:
    for content, message in (("[1, 2]", "expected a JSON object"), ("{}", "not the output of `pulumi preview --json`")):
        path = tmp_path / "preview.json"
        path.write_text(content)
        done = govcloud("diff", "--from-preview", path)
        assert done.returncode == 2 and message in done.stderr, done.stderr
    done = govcloud("diff", "--from-preview", tmp_path / "missing.json")
    assert done.returncode == 2 and "cannot read the preview" in done.stderr


def test_a_namespace_deletion_is_flagged_first_as_destroying_everything_inside(report: dict) -> None:
    """t-430100-health-data is deleted and t-430100-health-records added: a rename, which
    Kubernetes cannot do; the deletion destroys whatever the department deployed there."""
    [deletion] = report["namespace_deletions"]
    assert deletion["namespace"] == "t-430100-health-data" and deletion["renamed_to"] == "t-430100-health-records"
    assert report["summary"]["namespaces_deleted"] == 1
    markdown = govcloud("diff", "--from-preview", HEALTH, "--from-preview", TRANSPORT).stdout
    warning = markdown.index("Destroys data: 1 namespace deleted")
    assert warning < markdown.index("stacks change") < markdown.index("#### Deletions")
    assert "deletes everything inside it" in markdown and "looks like a rename to t-430100-health-records" in markdown
    html = govcloud("diff", "--from-preview", HEALTH, "--output", "html").stdout
    assert html.index('id="namespace-deletions"') < html.index('id="summary"')
