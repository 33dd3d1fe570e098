"""Compare live objects with the desired state: missing, changed (by field path), unmanaged.

Only fields the desired manifest sets are compared: everything the API server adds (status,
uid, defaults such as a Service's clusterIP or a rule's protocol) is not govcloud's to judge.
Lists are compared whole when their lengths differ (an extra NetworkPolicy rule is one change
of ``spec.egress``), item by item otherwise. Quantities compare by value (``1000m`` = ``1``), and
a zero value the desired state sets (``false``, ``0``, ``""``, empty) matches an absent field:
the API server omits them when it serializes.
Secret values are never read into a report: a redacted path only needs its key to exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..model import codes
from ..state import REDACTED

MISSING = object()


@dataclass(frozen=True)
class FieldChange:
    path: str
    desired: Any
    live: Any      # MISSING when the live object does not have the field

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "desired": self.desired, "live": None if self.live is MISSING else self.live,
                "live_missing": self.live is MISSING}


def _join(path: str, key: str) -> str:
    if key.replace("-", "").replace("_", "").isalnum() and "." not in key:
        return f"{path}.{key}" if path else key
    return f'{path}["{key}"]'


def _same_scalar(desired: Any, live: Any) -> bool:
    if desired == live and type(desired) is type(live):
        return True
    if isinstance(desired, bool) or isinstance(live, bool):
        return False
    if isinstance(desired, (int, float)) and isinstance(live, (int, float)):
        return desired == live
    if isinstance(desired, str) and isinstance(live, str):
        try:
            return codes.parse_quantity(desired) == codes.parse_quantity(live)
        except (ValueError, TypeError, ArithmeticError):
            return False
    return False


def _zero(value: Any) -> bool:
    """The values the API server omits when it serializes (``omitempty``): false, 0, "", empty."""
    return value is None or value is False or (type(value) in (int, float) and value == 0) or value in ("", [], {})


def field_changes(desired: Any, live: Any, path: str = "", secret_paths: frozenset[str] = frozenset()) -> list[FieldChange]:
    if live is MISSING and _zero(desired):
        return []  # e.g. a PriorityClass's globalDefault: false is stored, and read back absent
    if isinstance(desired, dict):
        if not isinstance(live, dict):
            return [FieldChange(path, desired, live)]
        changes: list[FieldChange] = []
        for key in sorted(desired):
            changes += field_changes(desired[key], live.get(key, MISSING), _join(path, key), secret_paths)
        return changes
    if isinstance(desired, list):
        if not isinstance(live, list) or len(live) != len(desired):
            return [FieldChange(path, desired, live)]
        changes = []
        for index, (wanted, found) in enumerate(zip(desired, live, strict=True)):
            changes += field_changes(wanted, found, f"{path}[{index}]", secret_paths)
        return changes
    if live is MISSING or not _same_scalar(desired, live):
        return [FieldChange(path, desired, live)]
    return []


def object_changes(desired: dict[str, Any], live: dict[str, Any], secret_paths: tuple[str, ...] = ()) -> list[FieldChange]:
    """Field changes of one object; ``secret_paths`` (dotted, e.g. ``stringData.password``) are
    checked for presence only (a Secret's stringData is stored as data)."""
    desired = dict(desired)
    secrets = set(secret_paths)
    changes: list[FieldChange] = []
    if desired.get("kind") == "Secret":
        for section in ("stringData", "data"):
            values = desired.pop(section, None) or {}
            for key in sorted(values):
                path = f"{section}.{key}"
                present = key in (live.get("data") or {})
                if not present:
                    shown = REDACTED if path in secrets or values[key] == REDACTED else values[key]
                    changes.append(FieldChange(_join(section, key), shown, MISSING))
                elif section == "data" and path not in secrets and values[key] != REDACTED and live["data"][key] != values[key]:
                    changes.append(FieldChange(_join(section, key), REDACTED, REDACTED))
    for key in sorted(desired):
        if key in ("apiVersion", "kind"):
            continue
        changes += field_changes(desired[key], live.get(key, MISSING), key)
    return changes


@dataclass
class Drift:
    """The comparison of one environment's (or stack's) desired state with the live clusters."""

    missing: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)
    unmanaged: list[dict[str, Any]] = field(default_factory=list)
    in_sync: int = 0

    @property
    def drifted(self) -> bool:
        return bool(self.missing or self.changed or self.unmanaged)
