"""`govcloud baseline verify`: the table for people, the JSON report for the audit report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from govcloud.baseline.controls import CONTROLS

from .conftest import LAB_BASE, ROOT


def _verify(lab_session, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, GOVCLOUD_LAB_DIR=str(LAB_BASE), COLUMNS="250")
    return subprocess.run([str(Path(sys.executable).parent / "govcloud"), "baseline", "verify", "--env", "lab", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def test_verify_writes_the_documented_json_and_every_check_passes(lab_session, tmp_path):
    out = tmp_path / "compliance.json"
    result = _verify(lab_session, "--output", "json", "--out", str(out))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    report = json.loads(out.read_text())
    assert report == json.loads(result.stdout)
    assert set(report) == {"env", "generated_at", "summary", "controls", "hosts"}
    assert set(report["controls"]) == {c.id for c in CONTROLS}
    assert set(report["hosts"]) == set(lab_session.hostvars)
    for name, host in report["hosts"].items():
        assert set(host) == {"zone", "role", "mlps_level", "controls"}
        for control_id, result_ in host["controls"].items():
            assert set(result_) == {"title", "clause", "status", "evidence"}
            assert result_["status"] in ("pass", "not-applicable"), (name, control_id, result_["evidence"])
            if result_["status"] == "pass":
                assert result_["evidence"] and all(e.startswith(("ok: ", "note: ")) for e in result_["evidence"])
    summary = report["summary"]
    assert summary["fail"] == 0 and summary["pass"] == summary["checks"] > 0
    assert report["hosts"]["dp-1"]["controls"]["sharing_grants"]["status"] == "pass"
    assert report["hosts"]["node-egov-1"]["controls"]["sharing_grants"]["status"] == "not-applicable"


def test_verify_table_names_a_failing_host_and_exits_1(lab_session):
    host = "bastion-1"
    lab_session.host(host).run("chmod 0644 /var/log/auth.log")
    try:
        result = _verify(lab_session, "--host", host, "--control", "log_retention", "--control", "ssh_hardening")
        assert result.returncode == 1
        assert "FAIL" in result.stdout and f"{host} log_retention" in result.stdout
        assert "1 passed, 1 failed" in result.stdout
    finally:
        lab_session.host(host).run("chmod 0640 /var/log/auth.log")
