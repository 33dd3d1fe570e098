"""How many examples the property tests draw: every one in `make test` (what CI runs), a quarter
in `make test-fast` (GOVCLOUD_FAST=1), the developer's loop. CI's full run is what proves them."""

from __future__ import annotations

import os

FAST = os.environ.get("GOVCLOUD_FAST") == "1" and os.environ.get("GOVCLOUD_CI") != "1"


def examples(full: int) -> int:
    return max(10, full // 4) if FAST else full
