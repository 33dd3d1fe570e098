"""`govcloud report`: the posture page loaded in headless Chromium (Debian's chromium), the
assertions made on the DOM after its script ran; and the JSON beside it."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import pytest

from govcloud.canonical import encode

from audit_helpers import FIXTURES, HEADER, REPO, TOURISM_REASON, govcloud, waiver
from headless_chromium import Tables, chromium_dom

TODAY = "2026-11-25"
WAIVERS = HEADER + "".join([
    waiver("W-2026-100", "GOV-SVC-004", "t-430600-tourism", TOURISM_REASON, "sec-liwei", "2026-11-01", "2026-12-05"),
    waiver("W-2026-102", "GOV-TEC-002", "t-430000-portal", "镜像标签整改排期", "sec-wangfang", "2026-11-20", "2027-02-10"),
])


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    """The lab with two waivers, rendered; a certificate that expires soon, a fresh one and a
    tampered one; a baseline verification with one failing control; a ledger with three tenant
    requests and two earlier check reports (the trend)."""
    root = tmp_path_factory.mktemp("posture")
    shutil.copytree(REPO / "inventories" / "lab", root / "inventories" / "lab")
    (root / "inventories" / "lab" / "waivers.yaml").write_text(WAIVERS, encoding="utf-8")
    keys = root / "keys"
    for name in ("ledger", "sec-liwei"):
        assert govcloud("keys", "generate", keys / name).returncode == 0
    trust = root / "inventories" / "lab" / "trusted-keys"
    trust.mkdir(exist_ok=True)
    for old in trust.glob("*.pem"):
        old.unlink()
    shutil.copy(keys / "sec-liwei.pub.pem", trust / "sec-liwei.pub.pem")

    def run(*args) -> None:
        done = govcloud("--inventories", root / "inventories", *args, cwd=root)
        assert done.returncode == 0, done.stdout + done.stderr

    run("render", "--env", "lab", "--render-dir", root / "build" / "render" / "lab")
    common = ("--render-dir", root / "build" / "render" / "lab", "--pack", REPO / "policies", "--reviews", root / "build" / "reviews", "--reviewer", "sec-liwei",
              "--key", keys / "sec-liwei.key")
    run("review", "--env", "lab", "--stack", "t-430100-health", "--now", "2026-11-03T09:00:00Z", *common)  # expires 2026-12-03
    run("review", "--env", "lab", "--stack", "t-430600-edu", "--now", "2026-11-24T09:00:00Z", *common)
    # Issued during the report's day: as of that day it exists (not "issued in the future").
    run("review", "--env", "lab", "--stack", "t-430000-finance", "--now", f"{TODAY}T15:00:00Z", *common)
    edu = root / "build" / "reviews" / "lab" / "lab.t-430600-edu.cert.json"
    envelope = json.loads(edu.read_text(encoding="utf-8"))  # tampered: another reviewer named inside the signed statement
    envelope["payload"] = base64.b64encode(base64.b64decode(envelope["payload"]).replace(b'"sec-liwei"', b'"sec-wangfang"', 1)).decode()
    edu.write_bytes(encode(envelope) + b"\n")
    for request in sorted((root / "inventories" / "lab" / "tenants").glob("*.yaml"))[:3]:
        run("ledger", "append", "--ledger", root / "ledger", "--ledger-key", keys / "ledger.key", "--kind", "tenant-request", "--env", "lab",
            "--tenant", request.stem, "--evidence", request, "--summary", f"tenant request {request.stem}", "--actor", "test")
    # Two earlier checks recorded in the ledger: the first with security findings since fixed.
    run("check", "--env", "lab", "--render-dir", root / "build" / "render" / "lab", "--pack", REPO / "policies", "-o", "json",
        "--out", root / "checks" / "now.json", "--today", TODAY)
    from govcloud.ledger import Ledger

    current = json.loads((root / "checks" / "now.json").read_text(encoding="utf-8"))
    security = {r["id"] for r in current["rules"] if r["standard"] == "security"}
    with Ledger.for_appending(root / "ledger", str(keys / "ledger.key")) as log:
        for day, broken in (("2026-10-15", 6), ("2026-11-10", 0)):
            earlier = json.loads(json.dumps(current))
            for result in [r for r in earlier["results"] if r["rule"] in security and r["status"] == "passed"][:broken]:
                result["status"] = "failed"
            path = root / "checks" / f"{day}.json"
            path.write_text(json.dumps(earlier), encoding="utf-8")
            log.append("check", {"env": "lab"}, path, "ci", f"check {day}", time=f"{day}T08:00:00Z")
    shutil.copy(FIXTURES / "baseline-verify-lab.json", root / "baseline.json")
    run("report", "--env", "lab", "--report-dir", root / "report", "--today", TODAY, "--baseline", root / "baseline.json",
        "--ledger", root / "ledger", "--reviews", root / "build" / "reviews", "--render-dir", root / "build" / "render" / "lab", "--pack", REPO / "policies")
    return root


@pytest.fixture(scope="module")
def page(workspace) -> Tables:
    return chromium_dom((workspace / "report" / "index.html").as_uri())


@pytest.fixture(scope="module")
def data(workspace) -> dict:
    return json.loads((workspace / "report" / "posture.json").read_text(encoding="utf-8"))


def test_tenants_by_region_and_zone(page: Tables) -> None:
    header = [r for r in page.tables["tenants-by-region"] if r["header"]][0]["cells"]
    assert header == ["region", "management", "egov-extranet", "internet", "egov-intranet", "data", "total"]
    assert page.row("tenants-by-region", "430100")[1:] == ["0", "2", "0", "0", "0", "2"]
    assert page.row("tenants-by-region", "all regions")[1:] == ["0", "4", "2", "2", "0", "8"]


def test_compliance_per_rule_counts_waived_findings(page: Tables) -> None:
    svc = page.row("rules-table", "GOV-SVC-004")
    assert svc[4] == "advisory" and svc[5:8] == ["6", "0", "2"]  # passed, failed, waived
    assert page.row("rules-table", "GOV-MGT-005")[5:8] == ["6", "0", "0"]
    assert len(page.rows("rules-table")) == 34


def test_compliance_per_tenant_and_the_filter_script(page: Tables, workspace) -> None:
    health = page.row("tenants", "t-430100-health")
    assert health[3] == "egov-extranet" and health[10] == "pass" and health[11] == "expiring"
    assert page.row("tenants", "t-430000-finance")[11] == "valid"  # issued the report's day: fresh, not expiring
    assert page.row("tenants", "t-430600-edu")[11] == "invalid"
    assert page.texts["tenant-count"] == "8 of 8 tenants shown"  # written by the script
    filtered = chromium_dom((workspace / "report" / "index.html").as_uri() + "#tenant=430600")
    shown = [r["cells"][0] for r in filtered.tables["tenants"] if not r["header"] and not r["hidden"]]
    assert shown == ["t-430600-edu", "t-430600-tourism"]
    assert filtered.texts["tenant-count"] == "2 of 8 tenants shown"


def test_host_controls_from_the_baseline_verification(page: Tables) -> None:
    header = [r for r in page.tables["host-controls"] if r["header"]][0]["cells"]
    bastion = dict(zip(header, page.row("host-controls", "bastion-1"), strict=True))
    assert bastion["log_retention"] == "✗ FAIL" and bastion["ssh_hardening"] == "✓ pass" and bastion["sharing_grants"] == "–"
    assert dict(zip(header, page.row("host-controls", "dp-1"), strict=True))["sharing_grants"] == "✓ pass"
    assert page.row("host-failures", "bastion-1")[2] == "FAIL: /var/log/auth.log mode 0644, expected 0640"


def test_early_warning_lists_what_expires_within_30_days(page: Tables) -> None:
    waivers = page.rows("warning-waivers")
    assert [w[0] for w in waivers] == ["W-2026-100"]  # W-2026-102 expires in 77 days
    assert waivers[0][4:7] == ["2026-12-05", "10", "expiring"]
    certificates = {c[0]: c for c in page.rows("warning-certificates")}
    assert certificates["lab.t-430100-health"][2:5] == ["2026-12-03T09:00:00Z", "8", "expiring"]
    assert certificates["lab.t-430600-edu"][4] == "invalid" and "signature" in certificates["lab.t-430600-edu"][5]
    # Valid for 30 days, warned about in its last 10 (a third of its validity): a fresh certificate is no warning.
    assert "lab.t-430000-finance" not in certificates


def test_capacity_per_cluster(page: Tables, data: dict) -> None:
    egov = page.row("capacity-table", "egov-1")
    assert egov[1] == "egov-extranet" and egov[2] == "4"  # health, hrss, agri, edu
    cpu = next(c for c in data["capacity"] if c["cluster"] == "egov-1")["resources"]["cpu"]
    assert egov[3] == f"{cpu['used']} / {cpu['limit']} {cpu['percent']:.1f}%"


def test_latest_ledger_tree_head(page: Tables, workspace) -> None:
    checkpoint = govcloud("ledger", "head", "--ledger", workspace / "ledger").stdout  # a C2SP checkpoint
    origin, size, root = checkpoint.split("\n")[:3]
    rows = {r[0]: r[1] for r in page.rows("ledger-head")}
    assert rows["entries (tree size)"] == size == "5" and rows["root hash"] == base64.b64decode(root).hex()
    assert rows["log"] == origin
    assert rows["signature"] == "matches the key the ledger names"


def test_json_beside_the_page(data: dict) -> None:
    assert data["format"] == "govcloud.posture/v1" and data["today"] == TODAY
    assert data["summary"]["warnings"] == {"waivers": 1, "certificates": 2, "reviews_due": 0, "witnesses": 0}
    assert data["summary"]["hosts_failing"] == 1 and data["summary"]["verdict"] == "pass"
    assert data["summary"]["certificates"] == {"expiring": 1, "invalid": 1, "valid": 1}
    assert data["certificate_window_days"] == 10


def test_page_is_self_contained(workspace) -> None:
    html = (workspace / "report" / "index.html").read_text(encoding="utf-8")
    assert "<script>" in html and "<style>" in html
    assert "src=" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "") and "https://" not in html


def test_bad_inputs_are_exit_2(workspace, tmp_path) -> None:
    junk = tmp_path / "check.json"
    junk.write_text('{"format": "something else"}', encoding="utf-8")
    for args, message in ((("--check-report", junk), "not a govcloud.check/v1 document"),
                          (("--baseline", tmp_path / "missing.json"), "cannot read the baseline verification"),
                          (("--render-dir", tmp_path / "empty-build"), "run `govcloud render --env lab` first"),
                          (("--drift", junk), "not a `govcloud drift -o json` report")):
        done = govcloud("--inventories", workspace / "inventories", "report", "--env", "lab", "--report-dir", tmp_path / "out",
                        "--pack", REPO / "policies", *args, cwd=workspace)
        assert done.returncode == 2 and message in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr


def test_rules_with_nothing_to_check_are_not_applicable(page: Tables, data: dict) -> None:
    """The lab runs no workloads: the image and container rules have nothing to look at."""
    rows = {r["id"]: r for r in data["rules"]}
    assert rows["GOV-TEC-001"]["applicable"] is False and rows["GOV-SEC-001"]["applicable"] is True
    assert page.row("rules-table", "GOV-TEC-001")[5:8] == ["not applicable"] * 3
    assert page.row("rules-table", "GOV-SEC-001")[5] not in ("0", "not applicable")


def test_rule_ids_do_not_wrap(workspace) -> None:
    html = (workspace / "report" / "index.html").read_text(encoding="utf-8")
    assert '<span class="nowrap">GOV-SVC-004</span>' in html and ".nowrap" in html and "white-space: nowrap" in html


def test_trend_from_the_checks_the_ledger_recorded(page: Tables, data: dict, workspace) -> None:
    trend = data["trend"]
    assert [p["date"] for p in trend["points"]] == ["2026-10-15", "2026-11-10", TODAY]
    assert [p["standards"]["security"]["failed"] for p in trend["points"]] == [6, 0, 0]
    assert trend["points"][0]["standards"]["security"]["compliance"] < trend["points"][1]["standards"]["security"]["compliance"]
    html = (workspace / "report" / "index.html").read_text(encoding="utf-8")
    assert 'id="trend-compliance"' in html and 'id="trend-findings"' in html and 'data-series="security"' in html
    assert any(r[:2] == ["2026-10-15", "security"] and r[3] == "6" for r in page.rows("trend-table"))


def test_trend_skips_evidence_that_does_not_match_the_ledger(workspace, tmp_path) -> None:
    tampered = workspace / "checks" / "2026-10-15.json"
    original = tampered.read_bytes()
    try:
        tampered.write_bytes(original.replace(b'"failed"', b'"passed"', 1))
        done = govcloud("--inventories", workspace / "inventories", "report", "--env", "lab", "--report-dir", tmp_path / "r",
                        "--today", TODAY, "--ledger", workspace / "ledger", "--render-dir", workspace / "build" / "render" / "lab",
                        "--pack", REPO / "policies", cwd=workspace)
        assert done.returncode == 0, done.stderr
        data = json.loads((tmp_path / "r" / "posture.json").read_text(encoding="utf-8"))
        assert [p["date"] for p in data["trend"]["points"]] == ["2026-11-10", TODAY]
        assert any("differs from what the ledger recorded" in s for s in data["trend"]["skipped"])
    finally:
        tampered.write_bytes(original)


def test_zone_map_on_the_posture_page(workspace) -> None:
    html = (workspace / "report" / "index.html").read_text(encoding="utf-8")
    zones = html[html.index('id="zones"'):html.index('id="regions"')]
    assert "<svg" in zones and 'data-zone="egov-extranet"' in zones and 'data-flow="internet->egov-extranet"' in zones
