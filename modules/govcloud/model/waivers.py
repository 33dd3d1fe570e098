"""Policy exceptions: ``inventories/<env>/waivers.yaml``.

A waiver names one rule and one scope, says why, who approved it and until when. It never
hides a finding: reports show waived findings as waived. Whether a waiver is still in force
is decided by the check with an explicit clock, not here, so loading stays deterministic.
"""

from __future__ import annotations

import datetime as dt
import fnmatch

from pydantic import Field, model_validator

from .types import Account, DnsLabel, Strict, Text

RULE_ID_PATTERN = r"^GOV-[A-Z]{3}-[0-9]{3}$"


class WaiverScope(Strict):
    """Exactly one of tenant, stack or a URN glob pattern."""

    tenant: DnsLabel | None = None
    stack: str | None = Field(None, pattern=r"^[a-z0-9-]+\.[a-z0-9-]+$")
    urn: str | None = Field(None, pattern=r"^urn:pulumi:[\x21-\x7e]+$", description="fnmatch pattern over URNs")

    @model_validator(mode="after")
    def _exactly_one(self) -> "WaiverScope":
        given = [k for k in ("tenant", "stack", "urn") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of tenant, stack or urn")
        return self

    def matches(self, *, stack: str, tenant: str | None, urn: str) -> bool:
        if self.tenant is not None:
            return tenant == self.tenant
        if self.stack is not None:
            return stack == self.stack
        return fnmatch.fnmatchcase(urn, self.urn or "")


class Waiver(Strict):
    id: str = Field(pattern=r"^W-[0-9]{4}-[0-9]{3,5}$")
    rule: str = Field(pattern=RULE_ID_PATTERN)
    scope: WaiverScope
    reason: Text
    approver: Account = Field(description="Account of a security team member")
    created: dt.date
    expires: dt.date

    def in_force(self, today: dt.date) -> bool:
        return self.created <= today <= self.expires


class WaiverFile(Strict):
    waivers: list[Waiver] = Field(default_factory=list)
