"""Stopping the processes the lab started (by PID, never by name)."""

from __future__ import annotations

import os
import time
from pathlib import Path


def send_signal(pid: int, sig: int) -> None:
    """``kill`` that accepts a process already gone."""
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def wait_gone(pid: int, seconds: float = 5.0) -> None:
    """Wait (at most ``seconds``) until ``pid`` is no more."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
        time.sleep(0.05)
