"""The posture report fed by the real baseline verification of the lab's hosts, read in headless Chromium."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .conftest import LAB_BASE, ROOT
from headless_chromium import chromium_dom


def _govcloud(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, GOVCLOUD_LAB_DIR=str(LAB_BASE), COLUMNS="250")
    return subprocess.run([str(Path(sys.executable).parent / "govcloud"), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=900)


def test_report_shows_every_control_of_every_lab_host(lab_session, tmp_path):
    verified = tmp_path / "compliance.json"
    done = _govcloud("baseline", "verify", "--env", "lab", "--out", str(verified), "--output", "json", cwd=ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    build = tmp_path / "build"
    done = _govcloud("render", "--env", "lab", "--out", str(build / "render" / "lab"), cwd=ROOT)
    assert done.returncode == 0, done.stderr
    out = tmp_path / "report"
    done = _govcloud("report", "--env", "lab", "--out", str(out), "--baseline", str(verified), "--build", str(build),
                     "--reviews", str(tmp_path / "no-reviews"), cwd=ROOT)
    assert done.returncode == 0, done.stderr
    baseline = json.loads(verified.read_text())
    page = chromium_dom((out / "index.html").as_uri())
    header = [r for r in page.tables["host-controls"] if r["header"]][0]["cells"]
    assert header[4:] == sorted(baseline["controls"])
    rows = {row[0]: dict(zip(header, row, strict=False)) for row in page.rows("host-controls")}
    assert set(rows) == set(baseline["hosts"])
    for host, result in baseline["hosts"].items():
        for control, found in result["controls"].items():
            expected = {"pass": "✓ pass", "fail": "✗ FAIL", "not-applicable": "–"}[found["status"]]
            assert rows[host][control] == expected, (host, control)
    assert rows["dp-1"]["sharing_grants"] == "✓ pass" and rows["node-egov-1"]["sharing_grants"] == "–"
    assert json.loads((out / "posture.json").read_text())["summary"]["hosts_failing"] == 0
