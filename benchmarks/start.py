"""How long ``govcloud`` takes to start: the CPU seconds of the installed console script for
``--help``, a command that reads nothing (``keys --help``) and ``validate`` of the lab inventory.
Every command pays its start; a person types them one at a time and a pipeline runs them by the
hundred. Target: ``--help`` under 0.3 CPU-s (the command line imports the model, the Pulumi SDK
and the pack client only in the commands that use them).

Prints the best of 5 runs of each (CPU seconds of the process: less noisy than wall time on a
shared machine) and the wall time of that run.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GOVCLOUD = str(Path(sys.executable).parent / "govcloud")
COMMANDS = [("--help",), ("keys", "--help"), ("validate",)]
TARGET = 0.3


def measure(args: tuple[str, ...]) -> tuple[float, float]:
    best = (float("inf"), 0.0)
    for _ in range(5):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run([GOVCLOUD, *args], cwd=REPO, capture_output=True, check=True,
                       env={**os.environ, "GOVCLOUD_CACHE_DIR": "off", "COLUMNS": "120"})
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        best = min(best, (cpu, wall))
    return best


def main() -> None:
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    figures = {}
    for args in COMMANDS:
        cpu, wall = measure(args)
        figures[args] = cpu
        print(f"govcloud {' '.join(args):12} {cpu:.2f} CPU-s ({wall:.2f} s wall), best of 5")
    verdict = "met" if figures[("--help",)] < TARGET else "MISSED"
    print(f"target: govcloud --help under {TARGET} CPU-s: {verdict}")


if __name__ == "__main__":
    main()
