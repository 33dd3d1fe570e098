"""Policy exceptions: ``inventories/<env>/waivers.yaml``.

A waiver names one rule and one scope, says why, who approved it and until when. It never
hides a finding: reports show waived findings as waived. Whether a waiver is still in force
is decided by the check with an explicit clock, not here, so loading stays deterministic.
"""

from __future__ import annotations

import datetime as dt
import fnmatch

from pydantic import ConfigDict, Field, model_validator

from .types import Account, Date, DnsLabel, Strict, Text

RULE_ID_PATTERN = r"^GOV-[A-Z]{3}-[0-9]{3}$"


class WaiverScope(Strict):
    """Exactly one of tenant, stack or a URN glob pattern."""

    # Editors check it too: exactly one selector given (and not null).
    model_config = ConfigDict(json_schema_extra={"oneOf": [{"required": [key], "properties": {key: {"type": "string"}}}
                                                           for key in ("tenant", "stack", "urn")]})

    tenant: DnsLabel | None = Field(None, description="A tenant id: every stack of the tenant")
    stack: str | None = Field(None, pattern=r"^[a-z0-9-]+\.[a-z0-9-]+$", description="A stack name, e.g. lab.t-430100-health")
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
    id: str = Field(pattern=r"^W-[0-9]{4}-[0-9]{3,5}$", description="Waiver id, W-<year>-<number>, e.g. W-2026-001")
    rule: str = Field(pattern=RULE_ID_PATTERN, description="The policy rule waived, e.g. GOV-SVC-004")
    scope: WaiverScope = Field(description="What the waiver covers: exactly one of tenant, stack or urn")
    reason: Text = Field(description="Why, one line, e.g. the filing in progress and its number")
    approver: Account = Field(description="Account of a security team member")
    created: Date = Field(description="First day the waiver applies, YYYY-MM-DD")
    expires: Date = Field(description="Last day the waiver applies, YYYY-MM-DD (at most policy.waiver_max_days after created)")

    def in_force(self, today: dt.date) -> bool:
        return self.created <= today <= self.expires


class WaiverFile(Strict):
    waivers: list[Waiver] = Field(default_factory=list, description="The environment's waivers")
