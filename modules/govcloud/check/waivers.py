"""Applying waivers to findings with an explicit clock.

The model has validated every waiver (approver in the security team, expiry after creation,
at most the platform's maximum duration, scope exists). Here a waiver is matched to findings
of its rule and scope and applies only while in force on ``today``: expired (or not yet valid)
waivers stop applying and the finding stays failed, with a note saying why. Waived findings are
kept and reported as waived. A waiver naming a rule the pack does not have is bad input.
"""

from __future__ import annotations

import datetime as dt
from typing import Iterable

from ..model import Environment, InputError, Problem, Waiver
from ..model.loader import WAIVERS_FILE, display_path
from ..model.source import load_yaml_file
from .results import Result, WaiverRef


def unknown_rule_problems(env: Environment, rule_ids: Iterable[str]) -> list[Problem]:
    known = set(rule_ids)
    unknown = [(i, w) for i, w in enumerate(env.waivers) if w.rule not in known]
    if not unknown:
        return []
    path = env.root / WAIVERS_FILE
    doc = load_yaml_file(path, display_path(path))
    return [doc.problem(("waivers", i, "rule"), f"{w.id}: {w.rule} is not a rule of the policy pack") for i, w in unknown]


def require_known_rules(env: Environment, rule_ids: Iterable[str]) -> None:
    problems = unknown_rule_problems(env, rule_ids)
    if problems:
        raise InputError(problems)


def waiver_state(waiver: Waiver, today: dt.date) -> str:
    if today < waiver.created:
        return "not-yet-valid"
    if today > waiver.expires:
        return "expired"
    return "in-force"


def matching(waivers: Iterable[Waiver], result: Result, tenant: str | None) -> list[Waiver]:
    return [w for w in waivers if w.rule == result.rule and w.scope.matches(stack=result.stack, tenant=tenant, urn=result.urn)]


def apply_waivers(results: Iterable[Result], waivers: tuple[Waiver, ...], tenant: str | None, today: dt.date) -> tuple[list[Result], set[str]]:
    """Results with waived findings marked, and the ids of the waivers that applied."""
    applied: set[str] = set()
    out: list[Result] = []
    for result in results:
        if result.status != "failed":
            out.append(result)
            continue
        candidates = sorted(matching(waivers, result, tenant), key=lambda w: (w.expires, w.id), reverse=True)
        in_force = [w for w in candidates if waiver_state(w, today) == "in-force"]
        if in_force:
            waiver = in_force[0]
            applied.add(waiver.id)
            out.append(result._replace(status="waived", waiver=WaiverRef(waiver.id, waiver.expires.isoformat(), waiver.reason, waiver.approver)))
        elif candidates:
            notes = "; ".join(f"waiver {w.id} is {waiver_state(w, today)} (valid {w.created} to {w.expires})" for w in candidates)
            out.append(result._replace(note=notes))
        else:
            out.append(result)
    return out, applied


def waiver_summary(waivers: tuple[Waiver, ...], applied: set[str], today: dt.date) -> list[dict]:
    return [
        {
            "id": w.id,
            "rule": w.rule,
            "scope": w.scope.model_dump(exclude_none=True),
            "approver": w.approver,
            "created": w.created.isoformat(),
            "expires": w.expires.isoformat(),
            "state": waiver_state(w, today),
            "applied": w.id in applied,
        }
        for w in sorted(waivers, key=lambda w: w.id)
    ]
