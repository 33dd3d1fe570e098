"""ansible-lint's production profile passes, offline (no Galaxy, no version check)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_playbooks_pass_the_production_profile():
    lint = Path(sys.executable).parent / "ansible-lint"
    assert lint.exists() or shutil.which("ansible-lint"), "ansible-lint is part of the test dependencies"
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), NO_COLOR="1")
    result = subprocess.run([str(lint), "--offline", "--profile", "production", "playbooks/"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert "production" in (result.stdout + result.stderr)
