"""Check results: one verdict per (rule, resource) the pack looked at, per stack.

``passed`` means the rule applied and found nothing; ``failed`` a finding no waiver covers;
``waived`` a finding an in-force waiver covers (always reported, never hidden). The JSON form
(``as_dict``) is what review certificates embed and what diffs and the ledger read.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Iterable, NamedTuple

import orjson

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


class StackReport:
    """One stack of the report: its verdicts after waivers, and what the report says about it.

    The results are given, or, from the verdict cache, kept as ``fragment`` (the bytes they are
    in the JSON report) with the counts the report needs, and read back only when something asks
    for them: a re-check of a province writes 290,000 verdicts it did not have to rebuild."""

    __slots__ = ("stack", "kind", "tenant", "digest", "state_file", "waivers_applied", "_results", "_fragment", "_counts", "_blocking")

    def __init__(self, stack: str, kind: str, tenant: str | None, digest: str, state_file: str,
                 results: tuple[Result, ...] | None = None, *, fragment: bytes | memoryview | None = None,
                 counts: dict[str, int] | None = None, blocking: int | None = None, waivers_applied: Iterable[str] = ()):
        if (results is None) == (fragment is None):
            raise ValueError("a stack report has its results or their fragment, not both")
        self.stack, self.kind, self.tenant = stack, kind, tenant
        self.digest = digest  # of the desired state checked: StackState.digest() of a rendered state file
        self.state_file = state_file
        self.waivers_applied = tuple(sorted(set(waivers_applied)))  # ids of the waivers that waived a finding here
        self._results, self._fragment = results, fragment
        self._counts, self._blocking = counts, blocking

    @property
    def results(self) -> tuple[Result, ...]:
        if self._results is None:
            assert self._fragment is not None
            self._results = results_of_fragment(self._fragment)
        return self._results

    @property
    def fragment(self) -> bytes | memoryview:
        """The results as the JSON report holds them (``results_fragment``); from the verdict
        cache, a view of the bytes it read."""
        if self._fragment is None:
            self._fragment = results_fragment(self.results)
        return self._fragment

    @property
    def counts(self) -> dict[str, int]:
        if self._counts is None:  # the results never change; a report asks per format and per total
            counted = Counter(map(itemgetter(4), self.results))  # the status of each
            self._counts = {status: counted.get(status, 0) for status in STATUSES}
        return self._counts

    @property
    def blocking(self) -> int:
        if self._blocking is None:
            self._blocking = sum(1 for r in self.results if r.status == "failed" and r.enforcement == "mandatory")
        return self._blocking

    def with_results(self, results: Iterable[Result]) -> "StackReport":
        """The same stack with other results (counts follow them)."""
        return StackReport(self.stack, self.kind, self.tenant, self.digest, self.state_file, tuple(results),
                           waivers_applied=self.waivers_applied)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StackReport):
            return NotImplemented
        return self.as_dict() == other.as_dict() and self.results == other.results

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"StackReport({self.stack!r}, {self.kind!r}, {self.tenant!r}, {self.digest!r}, {self.state_file!r}, counts={self.counts})"

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


# The JSON report (``text.json_bytes``: two-space indents, keys sorted) holds its results two
# levels deep; a stack's are one run of that array.
_REPORT_JSON = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS


def results_fragment(results: Iterable[Result]) -> bytes:
    """A stack's results exactly as they stand in the JSON report's "results" array, without the
    brackets and the separators around them (b"" for none)."""
    rows = [r.as_dict() for r in results]
    if not rows:
        return b""
    data = orjson.dumps(rows, option=_REPORT_JSON)  # b'[\n  {...},\n  {...}\n]', one level deep
    return b"  " + data[2:-2].replace(b"\n", b"\n  ")  # JSON strings hold no raw newline


def results_pieces(fragments: Iterable[bytes | memoryview], before: bytes = b"", after: bytes = b"") -> list[bytes | memoryview]:
    """The report's "results" array from its stacks' fragments, as ``json_bytes`` writes it,
    between ``before`` and ``after``: the pieces to join or write one after the other (never
    joined to be written: a province's array is over 100 MB)."""
    pieces: list[bytes | memoryview] = [before, b"[\n"]
    for fragment in fragments:
        if fragment:
            pieces += (fragment, b",\n")
    if len(pieces) == 2:
        return [before, b"[]", after]
    pieces[-1] = b"\n  ]"  # the last separator closes the array
    pieces.append(after)
    return pieces


def results_of_fragment(fragment: bytes | memoryview) -> tuple[Result, ...]:
    """The results ``results_fragment`` wrote, read back."""
    rows = orjson.loads(b"[" + fragment + b"]")
    return tuple(Result(d["stack"], d["rule"], d["urn"], d["type"], d["status"], d["enforcement"], d["severity"],
                        d.get("message", ""), WaiverRef(**d["waiver"]) if "waiver" in d else None, d.get("note", ""),
                        d.get("source")) for d in rows)


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

    def summary(self) -> dict[str, Any]:
        counts: Counter = Counter()
        for stack in self.stacks:
            counts.update(stack.counts)
        return {
            "stacks": len(self.stacks),
            **{status: counts.get(status, 0) for status in STATUSES},
            "blocking": self.blocking,
            "verdict": "fail" if self.blocking else "pass",
        }

    def as_dict(self, results: bool = True) -> dict[str, Any]:
        """The report as JSON values; without ``results`` the "results" array is left out (the
        JSON form writes it from the stacks' fragments)."""
        data = {
            "format": FORMAT,
            "env": self.env,
            "today": self.today,
            "pack": self.pack,
            "summary": self.summary(),
            "rules": list(self.rules),
            "stacks": [s.as_dict() for s in self.stacks],
            "waivers": list(self.waivers),
        }
        if results:
            data["results"] = [r.as_dict() for r in self.results]
        return data
