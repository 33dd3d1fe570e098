"""Check results: one verdict per (rule, resource) the pack looked at, per stack.

``passed`` means the rule applied and found nothing; ``failed`` a finding no waiver covers;
``waived`` a finding an in-force waiver covers (always reported, never hidden). The JSON form
(``as_dict``) is what review certificates embed and what diffs and the ledger read.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from operator import itemgetter
from typing import Any, NamedTuple

FORMAT = "govcloud.check/v1"
STATUSES = ("failed", "waived", "passed")
_STATUS_ORDER = {status: index for index, status in enumerate(STATUSES)}


@dataclass(frozen=True)
class WaiverRef:
    id: str
    expires: str  # ISO date
    reason: str
    approver: str

    def as_dict(self) -> dict[str, str]:
        return {"id": self.id, "expires": self.expires, "reason": self.reason, "approver": self.approver}


class Result(NamedTuple):
    """One verdict. A named tuple, not a dataclass: a province's check makes about 300,000 of
    them, and a tuple is made in well under half the time; it is as immutable. Change one with
    ``_replace``."""

    stack: str
    rule: str
    urn: str
    resource_type: str
    status: str  # failed | waived | passed
    enforcement: str  # advisory | mandatory
    severity: str
    message: str = ""
    waiver: WaiverRef | None = None
    # Waivers that matched but were not in force (expired or not yet valid): why they did not apply.
    note: str = ""
    # Where in the inventory a finding is fixed (file, line, field); findings only (check.sources).
    source: dict[str, Any] | None = None

    @property
    def blocking(self) -> bool:
        return self.status == "failed" and self.enforcement == "mandatory"

    def sort_key(self) -> tuple:
        return (self.stack, _STATUS_ORDER[self.status], self.rule, self.urn, self.message)

    def as_dict(self) -> dict[str, Any]:
        # Unpacked once: a named tuple's attributes are looked up through descriptors.
        stack, rule, urn, resource_type, status, enforcement, severity, message, waiver, note, source = self
        data: dict[str, Any] = {
            "stack": stack,
            "rule": rule,
            "urn": urn,
            "type": resource_type,
            "status": status,
            "enforcement": enforcement,
            "severity": severity,
        }
        if message:
            data["message"] = message
        if waiver is not None:
            data["waiver"] = waiver.as_dict()
        if note:
            data["note"] = note
        if source is not None:
            data["source"] = source
        return data


@dataclass(frozen=True)
class StackReport:
    stack: str
    kind: str
    tenant: str | None
    digest: str  # of the desired state checked: StackState.digest() of a rendered state file
    state_file: str
    results: tuple[Result, ...]

    @cached_property  # the results never change; a report asks for these per format and per total
    def counts(self) -> dict[str, int]:
        counted = Counter(map(itemgetter(4), self.results))  # the status of each
        return {status: counted.get(status, 0) for status in STATUSES}

    @cached_property
    def blocking(self) -> int:
        return sum(1 for r in self.results if r.status == "failed" and r.enforcement == "mandatory")

    def as_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "kind": self.kind,
            "tenant": self.tenant,
            "digest": self.digest,
            "state_file": self.state_file,
            "counts": self.counts,
            "blocking": self.blocking,
            "verdict": "fail" if self.blocking else "pass",
        }


@dataclass(frozen=True)
class CheckReport:
    env: str
    today: str
    pack: dict[str, str]  # name, version, digest, config_digest
    rules: tuple[dict[str, Any], ...]  # rule metadata with the effective enforcement
    stacks: tuple[StackReport, ...]
    waivers: tuple[dict[str, Any], ...] = field(default_factory=tuple)  # every waiver with its state today

    @property
    def results(self) -> list[Result]:
        return [r for s in self.stacks for r in s.results]

    @property
    def blocking(self) -> int:
        return sum(s.blocking for s in self.stacks)

    @property
    def exit_code(self) -> int:
        return 1 if self.blocking else 0

    def as_dict(self) -> dict[str, Any]:
        counts: Counter = Counter()
        for stack in self.stacks:
            counts.update(stack.counts)
        return {
            "format": FORMAT,
            "env": self.env,
            "today": self.today,
            "pack": self.pack,
            "summary": {
                "stacks": len(self.stacks),
                **{status: counts.get(status, 0) for status in STATUSES},
                "blocking": self.blocking,
                "verdict": "fail" if self.blocking else "pass",
            },
            "rules": list(self.rules),
            "stacks": [s.as_dict() for s in self.stacks],
            "waivers": list(self.waivers),
            "results": [r.as_dict() for r in self.results],
        }
