"""Shared by the benchmarks: make sure the 4,000-tenant synthetic province exists."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
INVENTORIES = REPO / "build" / "inventories"
NAME = "province"


def ensure_province(tenants: int = 4000) -> Path:
    marker = INVENTORIES / NAME / f".generated-{tenants}"
    if not marker.exists():
        govcloud = Path(sys.executable).parent / "govcloud"
        subprocess.run([str(govcloud), "scale-gen", "--inventories", str(INVENTORIES), "--name", NAME, "--tenants", str(tenants)],
                       check=True, cwd=REPO, stdout=subprocess.DEVNULL)
        for old in marker.parent.glob(".generated-*"):
            old.unlink()
        marker.touch()
    return INVENTORIES
