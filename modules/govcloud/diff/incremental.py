"""Which stacks a revision diff must render and check, proven from the model's input digests.

Both sides render with the same (current) code, so a stack's desired state can only differ if
an input file the program reads for it differs (``model.inputs``: platform.yaml, the tenant's
request, the requests of the tenants whose datasets it consumes).

A stack whose input digests are equal on both sides renders to the same state: it needs no
render. (tests/audit check this against full renders.) When ``platform.yaml`` differs,
everything is rendered.

The check's verdict for a stack depends on its state, the pack configuration (facts from the
whole model) and the waivers in scope. The facts a rule reads about a tenant stack are its own
request's and those of the datasets it is granted (their publishers' requests: already among
its input files above). So a tenant stack with equal inputs keeps its verdicts unless a waiver
in its scope is added, removed or changed: those stacks are checked on both sides. Foundation
stacks are judged against tenant-wide facts (every tenant's accounts and namespaces): they are
always checked. Everything else keeps its verdicts.
"""

from __future__ import annotations

import fnmatch
import hashlib
from dataclasses import dataclass, field

from ..model import Environment, Stack
from ..model.inputs import render_inputs, tenant_sources
from ..model.loader import PLATFORM_FILE
from ..text import plural


def fingerprint(env: Environment, stack: Stack, requests: dict[str, str] | None = None) -> str:
    digest = hashlib.sha256(stack.name.encode())
    for key, value in sorted(render_inputs(env, stack, requests).items()):
        digest.update(f"\n{key}\0{value}".encode())
    return digest.hexdigest()


@dataclass
class Plan:
    """What to render and check on each side; everything else is equal by construction."""

    full: bool
    reason: str
    render_from: list[str] = field(default_factory=list)
    render_to: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # stacks whose inputs differ (or exist on one side only)
    shared: list[str] = field(default_factory=list)  # equal inputs, checked anyway: rendered once, on the to side
    proven_equal: int = 0  # stacks on both sides with equal input digests

    @property
    def unchanged(self) -> int:
        """Stacks neither rendered nor checked: equal inputs, and verdicts that cannot change."""
        return self.proven_equal - len(self.shared)

    @property
    def check_from(self) -> list[str]:
        return sorted(set(self.render_from) | set(self.shared))

    @property
    def check_to(self) -> list[str]:
        return sorted(set(self.render_to) | set(self.shared))

    def as_dict(self) -> dict:
        return {"full": self.full, "reason": self.reason, "changed_stacks": len(self.changed),
                "rendered": {"from": len(self.render_from), "to": len(self.check_to)},
                "checked": {"from": len(self.check_from), "to": len(self.check_to)},
                "unchanged_not_rendered": self.unchanged}


def _waiver_stacks(before: Environment, after: Environment) -> set[str]:
    """Stacks in scope of a waiver that differs between the sides."""
    old = {w.id: w for w in before.waivers}
    new = {w.id: w for w in after.waivers}
    stacks: set[str] = set()
    for waiver_id in set(old) | set(new):
        a, b = old.get(waiver_id), new.get(waiver_id)
        if a is not None and b is not None and a == b:
            continue
        for waiver, env in ((a, before), (b, after)):
            if waiver is None:
                continue
            scope = waiver.scope
            if scope.tenant is not None:
                stacks.add(f"{env.name}.{scope.tenant}")
            elif scope.stack is not None:
                stacks.add(scope.stack)
            else:
                stack_part = (scope.urn or "").removeprefix("urn:pulumi:").split("::", 1)[0]
                if any(c in stack_part for c in "*?["):
                    matched = {s.name for e in (before, after) for s in e.stacks if fnmatch.fnmatchcase(s.name, stack_part)}
                    stacks |= matched
                else:
                    stacks.add(stack_part)
    return stacks


def plan(before: Environment, after: Environment) -> Plan:
    """Compare the input digests of every stack on both sides."""
    names_before = {s.name: s for s in before.stacks}
    names_after = {s.name: s for s in after.stacks}
    if before.sources.get(PLATFORM_FILE) != after.sources.get(PLATFORM_FILE):
        return Plan(full=True, reason=f"{PLATFORM_FILE} differs: every stack is rendered and checked on both sides",
                    render_from=sorted(names_before), render_to=sorted(names_after),
                    changed=sorted(set(names_before) | set(names_after)))
    requests_before, requests_after = tenant_sources(before), tenant_sources(after)
    render_from, render_to, changed = [], [], []
    for name in sorted(set(names_before) | set(names_after)):
        a, b = names_before.get(name), names_after.get(name)
        if a is not None and b is not None and fingerprint(before, a, requests_before) == fingerprint(after, b, requests_after):
            continue
        changed.append(name)
        if a is not None:
            render_from.append(name)
        if b is not None:
            render_to.append(name)
    extra = {s.name for s in after.stacks if s.kind == "foundation"} | _waiver_stacks(before, after)
    # Checked although unchanged: must exist on both sides (else it is in ``changed``).
    shared = sorted(n for n in extra - set(changed) if n in names_before and n in names_after)
    proven_equal = len((set(names_before) & set(names_after)) - set(changed))
    return Plan(full=False, reason=f"{plural(len(changed), 'stack')} with different input files; {PLATFORM_FILE} unchanged",
                render_from=render_from, render_to=render_to, changed=changed, shared=shared, proven_equal=proven_equal)
