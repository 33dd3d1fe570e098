"""Load + validate the 4,000-tenant synthetic province. Target: under 5 s and under 500 MB.

Prints wall time (best of 3) and peak resident memory of a fresh process doing one load.
"""

from __future__ import annotations

import subprocess
import sys

from _province import INVENTORIES, NAME, ensure_province

CHILD = """
import resource, sys, time
from pathlib import Path
from govcloud.model import load_environment
start = time.perf_counter()
env = load_environment(sys.argv[1], Path(sys.argv[2]))
elapsed = time.perf_counter() - start
print(elapsed, len(env.tenants), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def main() -> None:
    ensure_province()
    runs = []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", CHILD, NAME, str(INVENTORIES)], capture_output=True, text=True, check=True)
        elapsed, tenants, maxrss_kb = out.stdout.split()
        runs.append((float(elapsed), int(tenants), int(maxrss_kb)))
    best = min(runs)
    print(f"load+validate {best[1]} tenants: best {best[0]:.2f} s of 3 (target < 5 s); "
          f"{best[1] / best[0]:.0f} tenants/s; peak RSS {max(r[2] for r in runs) / 1024:.0f} MB (target < 500 MB)")


if __name__ == "__main__":
    main()
