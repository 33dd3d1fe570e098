"""``govcloud tenant new|validate|list``: the department's path from a first draft to a request
that passes the policy check.

``tenant new`` takes every part of a request as flags (security approvals, datasets published
and consumed, public services included) and asks for what is missing when run interactively,
showing the choices, the default and a hint, and asking again only for an answer that is
wrong. ``tenant new`` and ``tenant validate`` then render and check the tenant's stack with the
same code as ``govcloud render`` and ``govcloud check``, so a department sees every finding
that would block its request before it submits it.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional

import typer
from rich.table import Table
from rich.text import Text

from ..files import read_regular
from ..text import plural, styled
from .common import EnvOption, Output, OutputOption, console, env_name, err_console, fail, is_interactive, load, output_of, print_json, report_input_error, settings
from .policy import PackOption, TodayOption, parse_day

if TYPE_CHECKING:
    from ..model import Environment, Problem


tenant_app = typer.Typer(help="Department requests (the tenant factory).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(tenant_app, name="tenant")


# --- the answers a request is made of -------------------------------------------------------------
@dataclass
class Question:
    key: str  # the answer's name (its flag is --key with dashes)
    ask: str
    fields: tuple[str, ...]  # where problems about it are reported (request field paths)
    hint: Callable[[Environment, dict], str] = lambda env, answers: ""
    default: Callable[[Environment, dict], str | None] = lambda env, answers: None
    check: Callable[[Environment, dict, str], str | None] = lambda env, answers, value: None
    many: bool = False  # a list: asked one by one until a blank answer
    optional: bool = False
    when: Callable[[dict], bool] = lambda answers: True


def _regions_hint(env: Environment, answers: dict) -> str:
    regions = sorted(env.platform.regions, key=lambda r: r.code)
    shown = ", ".join(f"{r.code} {r.name}" for r in regions[:20])
    return f"choices: {shown}" + (f" and {len(regions) - 20} more (`govcloud platform show`)" if len(regions) > 20 else "")


def _region_check(env: Environment, answers: dict, value: str) -> str | None:
    from ..model import codes
    from ..model.rules import known_regions_hint

    problem = codes.region_code_problem(value)
    if problem:
        return problem
    if value not in {r.code for r in env.platform.regions}:
        return f"region {value} is not defined in platform.yaml; {known_regions_hint(value, env.platform.regions)}"
    return None


def _level_hint(env: Environment, answers: dict) -> str:
    zones = ", ".join(f"{z.id} up to {z.max_level}" for z in env.platform.zones if any(c.zone == z.id for c in env.platform.clusters))
    return f"1-4; level 3 and above need a security approval; zones admit: {zones}"


def _level_check(env: Environment, answers: dict, value: str) -> str | None:
    if value not in ("1", "2", "3", "4"):
        return f"{value!r} is not an MLPS level (1, 2, 3 or 4)"
    return None


def _clusters_hint(env: Environment, answers: dict) -> str:
    level = int(answers.get("level") or 0)
    rows = []
    for cluster in sorted(env.platform.clusters, key=lambda c: c.id):
        zone = env.zone(cluster.zone)
        admits = "" if not level or level <= zone.max_level else f", not for level {level}"
        rows.append(f"{cluster.id} (zone {zone.id}, up to level {zone.max_level}{admits})")
    return "choices: " + "; ".join(rows)


def _cluster_default(env: Environment, answers: dict) -> str | None:
    level = int(answers.get("level") or 0)
    fitting = [c.id for c in sorted(env.platform.clusters, key=lambda c: c.id) if level <= env.zone(c.zone).max_level]
    return fitting[0] if fitting else None


def _cluster_check(env: Environment, answers: dict, value: str) -> str | None:
    clusters = {c.id: c for c in env.platform.clusters}
    if value not in clusters:
        return f"cluster {value} is not defined; clusters: {', '.join(sorted(clusters)) or 'none'}"
    zone = env.zone(clusters[value].zone)
    level = int(answers.get("level") or 0)
    if level > zone.max_level:
        return f"cluster {value} is in zone {zone.id}, which admits MLPS level {zone.max_level} at most, not {level}"
    return None


def _person_check(env: Environment, answers: dict, value: str) -> str | None:
    return None if _split_person(value) else "give ACCOUNT=NAME, e.g. zhang-wei=张伟"


def _split_person(value: str) -> dict | None:
    account, sep, name = value.partition("=")
    if not sep or not account.strip() or not name.strip():
        return None
    return {"account": account.strip(), "name": name.strip()}


def _date_check(env: Environment, answers: dict, value: str) -> str | None:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return f"{value!r} is not a date (YYYY-MM-DD)"
    return None


def _uscc_check(env: Environment, answers: dict, value: str) -> str | None:
    from ..model import codes

    return codes.uscc_problem(value)


def _slug_check(env: Environment, answers: dict, value: str) -> str | None:
    from ..model import codes

    return codes.dns_label_problem(value, "slug")


def _team(env: Environment) -> str:
    return ", ".join(f"{p.account} ({p.name})" for p in env.platform.policy.security_team)


APPROVAL_FORM = "REFERENCE:ACCOUNT:DATE[:ROLE]"
PUBLISH_FORM = "NAME:SHARING:SENSITIVITY:DESCRIPTION"
CONSUME_FORM = "DATASET[@APPROVAL]:PURPOSE"
SERVICE_FORM = "NAME:HOST:PORT[:PATH]"


def parse_approval(value: str) -> dict | None:
    parts = value.split(":", 3)
    if len(parts) < 3 or not all(p.strip() for p in parts[:3]):
        return None
    reference, account, date = (p.strip() for p in parts[:3])
    return {"by": account, "role": parts[3].strip() if len(parts) == 4 and parts[3].strip() else "安全审查", "date": date,
            "reference": reference}


def parse_publish(value: str) -> dict | None:
    parts = value.split(":", 3)
    if len(parts) != 4 or not all(p.strip() for p in parts):
        return None
    name, sharing, sensitivity, description = (p.strip() for p in parts)
    return {"name": name, "description": description, "sharing": sharing, "sensitivity": sensitivity}


def parse_consume(value: str) -> dict | None:
    target, sep, purpose = value.partition(":")
    if not sep or not target.strip() or not purpose.strip():
        return None
    dataset, at, approval = target.partition("@")
    return {"dataset": dataset.strip(), "purpose": purpose.strip(), **({"approval": approval.strip()} if at else {})}


def parse_service(value: str) -> dict | None:
    parts = value.split(":", 3)
    if len(parts) < 3 or not all(p.strip() for p in parts[:3]) or not parts[2].strip().isdigit():
        return None
    service = {"name": parts[0].strip(), "host": parts[1].strip(), "path": "/", "port": int(parts[2])}
    if len(parts) == 4 and parts[3].strip():
        service["path"] = parts[3].strip()
    return service


def _form_check(parse: Callable[[str], dict | None], form: str) -> Callable[[Environment, dict, str], str | None]:
    return lambda env, answers, value: None if parse(value) else f"give {form}"


def _publish_hint() -> str:
    from ..model.types import Sensitivity, SharingClass

    return f"{PUBLISH_FORM}; sharing {'/'.join(typing.get_args(SharingClass))}, sensitivity {'/'.join(typing.get_args(Sensitivity))}; blank when done"


QUESTIONS = (
    Question("slug", "department slug", ("department.slug", ""), lambda e, a: "a DNS label, e.g. health; the tenant id is t-<region>-<slug>",
             check=_slug_check),
    Question("department", "official department name", ("department.name",), lambda e, a: "Chinese allowed, e.g. 长沙市水利局"),
    Question("uscc", "unified social credit code", ("department.uscc",), lambda e, a: "18 characters (GB 32100-2015), with its check character",
             check=_uscc_check),
    Question("region", "region code", ("region",), _regions_hint, check=_region_check),
    Question("level", "MLPS level", ("mlps_level",), _level_hint, check=_level_check),
    Question("cluster", "cluster", ("cluster", "zone"), _clusters_hint, _cluster_default, _cluster_check),
    Question("namespace", "namespace suffixes", ("namespaces",), lambda e, a: "comma-separated; each namespace is <tenant-id>-<suffix>",
             lambda e, a: "app"),
    Question("system", "system administrator", ("administrators.system",), lambda e, a: "ACCOUNT=NAME, e.g. zhang-wei=张伟",
             check=_person_check),
    Question("security", "security administrator", ("administrators.security",),
             lambda e, a: "ACCOUNT=NAME; a different person from the system administrator", check=_person_check),
    Question("audit", "audit administrator", ("administrators.audit",),
             lambda e, a: "ACCOUNT=NAME; a third person (separation of duties)", check=_person_check),
    Question("requested_by", "requested by (account)", ("change.requested_by",), lambda e, a: "who asks for this change",
             lambda e, a: (_split_person(a.get("system") or "") or {}).get("account")),
    Question("reason", "reason for the request", ("change.reason",), lambda e, a: "one line; it is shown to reviewers and auditors"),
    Question("review_by", "review by", ("change.review_by",), lambda e, a: "YYYY-MM-DD: when the request must be reviewed again",
             lambda e, a: (dt.date.today() + dt.timedelta(days=365)).isoformat(), _date_check),
    Question("approval", "security approval", ("change.approvals",),
             lambda e, a: f"{APPROVAL_FORM}, e.g. HNSJ-AQ-2026-031:sec-liwei:2026-10-20 (approvers: {_team(e)}); blank when done",
             check=_form_check(parse_approval, APPROVAL_FORM), many=True, optional=True,
             when=lambda a: int(a.get("level") or 0) >= 3),
    Question("publish", "dataset published to the data pool", ("datasets.publishes", "datasets"),
             lambda e, a: _publish_hint(),
             check=_form_check(parse_publish, PUBLISH_FORM), many=True, optional=True),
    Question("consume", "dataset consumed from the data pool", ("datasets.consumes", "datasets"),
             lambda e, a: f"{CONSUME_FORM}, e.g. t-430100-health/clinic-directory:定点医疗机构核对; an approval for conditional datasets; "
                          "blank when done", check=_form_check(parse_consume, CONSUME_FORM), many=True, optional=True),
    Question("service", "public service", ("services",),
             lambda e, a: f"{SERVICE_FORM}, e.g. appointments:yuyue.wjw.changsha.gov.cn:8080; blank when done",
             check=_form_check(parse_service, SERVICE_FORM), many=True, optional=True),
)
BY_KEY = {q.key: q for q in QUESTIONS}


def _flag(key: str) -> str:
    return "--" + key.replace("_", "-")


def _ask(question: Question, env: Environment, answers: dict) -> Any:
    """Ask one question until its answer passes its own check; for a list, each item likewise."""
    hint = question.hint(env, answers)
    if hint:
        err_console.print(styled("[dim]{}[/]", f"{question.ask}: {hint}"), soft_wrap=True)
    if question.many:
        items: list[str] = []
        while True:
            value = typer.prompt(f"{question.ask} #{len(items) + 1}", default="", show_default=False, err=True).strip()
            if not value:
                return items
            problem = question.check(env, answers, value)
            if problem:
                err_console.print(styled("[red]✗[/] {}", problem), soft_wrap=True)
                continue
            items.append(value)
    default = question.default(env, answers)
    while True:
        value = typer.prompt(question.ask, default=default, show_default=default is not None, err=True).strip()
        problem = question.check(env, answers, value) if value else "an answer is needed"
        if not problem:
            return value
        err_console.print(styled("[red]✗[/] {}", problem), soft_wrap=True)


def _document(answers: dict, zone: str | None, env: Environment, quotas: dict) -> dict:
    cluster = next((c for c in env.platform.clusters if c.id == answers["cluster"]), None)
    namespaces = answers["namespace"]
    if isinstance(namespaces, str):
        namespaces = [n.strip() for n in namespaces.split(",") if n.strip()]
    document: dict[str, Any] = {
        "department": {"slug": answers["slug"], "name": answers["department"], "uscc": answers["uscc"]},
        "region": str(answers["region"]),
        "mlps_level": int(answers["level"]),
        "cluster": answers["cluster"],
        # The zone follows from the cluster; a cluster that does not exist is reported, never a zone nobody typed.
        "zone": zone or (cluster.zone if cluster is not None else None),
        "namespaces": namespaces or ["app"],
        **({"quotas": quotas} if quotas else {}),
        "administrators": {role: _split_person(answers[role]) for role in ("system", "security", "audit")},
        "change": {"requested_by": answers["requested_by"], "reason": answers["reason"],
                   "review_by": dt.date.fromisoformat(answers["review_by"]),
                   **({"approvals": [_approval(a) for a in answers["approval"]]} if answers.get("approval") else {})},
    }
    datasets = {}
    if answers.get("publish"):
        datasets["publishes"] = [parse_publish(v) for v in answers["publish"]]
    if answers.get("consume"):
        datasets["consumes"] = [parse_consume(v) for v in answers["consume"]]
    if datasets:
        document["datasets"] = datasets
    if answers.get("service"):
        document["services"] = [parse_service(v) for v in answers["service"]]
    if document["zone"] is None:
        del document["zone"]
    return document


def _approval(value: str) -> dict:
    approval = parse_approval(value) or {}
    try:
        approval["date"] = dt.date.fromisoformat(approval["date"])
    except (KeyError, ValueError):
        pass  # the model says what is wrong with the date, with the line
    return approval


def _answer_problems(env: Environment, answers: dict, zone: str | None) -> list[Problem]:
    """What is wrong with the answers before a request can be made of them: the checks each
    question makes, named by flag. An unknown cluster is reported alone when no zone was given
    (the zone would only have been derived from it)."""
    from ..model import Problem

    problems = []
    for key, fld in (("slug", "department.slug"), ("region", "region"), ("level", "mlps_level"), ("cluster", "cluster"),
                     ("review_by", "change.review_by")):
        problem = BY_KEY[key].check(env, answers, str(answers[key]))
        if problem and not (key == "cluster" and zone is not None and "admits MLPS level" in problem):
            problems.append(Problem(_flag(key), 0, fld, problem))
    return problems


def _keys_of(problems: list[Problem]) -> list[str]:
    """The answers the problems are about (re-asked, and only they)."""
    keys = []
    for question in QUESTIONS:
        for problem in problems:
            if any(problem.field == f or (f and problem.field.startswith(f + ".")) or (f and problem.field.startswith(f + "["))
                   for f in question.fields):
                keys.append(question.key)
                break
    return keys


# --- render and check one request ----------------------------------------------------------------
def check_requests(environment: Environment, inventories: Path, tenants: list[str], pack: Path, today: dt.date):
    """Render the tenants' stacks and run the policy pack on them: ``govcloud render`` and
    ``govcloud check`` on exactly these stacks, in a scratch directory. Returns the check report,
    or fails with the render errors."""
    from ..check.run import load_states
    from ..components.program import PROJECT_DIR
    from ..model.environment import tenant_stack_name
    from ..render import pipeline
    from .policy import execute_check

    if pack == Path("policies") and not pack.is_dir():  # run outside the repository: the installed project's pack
        pack = PROJECT_DIR / "policies"
    names = [tenant_stack_name(environment.name, t) for t in tenants]
    with tempfile.TemporaryDirectory(prefix="govcloud-tenant-") as scratch:
        target = Path(scratch)
        results = pipeline.render(environment, inventories, target, only=names, jobs=1)
        errors = [e for r in results for e in r.errors]
        if errors:
            for error in errors:
                err_console.print(styled("[bold red]render error:[/] {}", error), soft_wrap=True)
            raise typer.Exit(1)
        states = load_states(target, environment, names)
        return execute_check(environment, states, pack, today, target)


def print_findings(report) -> None:
    findings = [r for r in report.results if r.status != "passed"]
    rules = {r["id"]: r for r in report.rules}
    if not findings:
        console.print(styled("[green]✓[/] policy check: {} passed, no finding", report.as_dict()["summary"]["passed"]))
        return
    table = Table(title=f"policy findings ({plural(len(findings), 'finding')}; a mandatory failure blocks the request)")
    for column in ("rule", "status", "resource", "message", "what to do"):
        table.add_column(column, overflow="fold")
    for r in findings:
        status = (Text("blocking", style="bold red") if r.status == "failed" and r.enforcement == "mandatory" else
                  Text("advisory", style="yellow") if r.status == "failed" else Text(f"waived by {r.waiver.id}" if r.waiver else "waived"))
        table.add_row(Text(r.rule), status, Text(r.urn.rsplit("::", 1)[-1]), Text(r.message), Text(rules.get(r.rule, {}).get("remediation", "")))
    console.print(table)


# --- tenant new ----------------------------------------------------------------------------------
@tenant_app.command("new")
def tenant_new(
    ctx: typer.Context,
    env: Optional[str] = EnvOption,
    slug: Optional[str] = typer.Option(None, help="Department slug (DNS label), e.g. health."),
    department: Optional[str] = typer.Option(None, help="Official department name (Chinese allowed)."),
    uscc: Optional[str] = typer.Option(None, help="Unified social credit code (18 characters)."),
    region: Optional[str] = typer.Option(None, help="GB/T 2260 region code."),
    level: Optional[int] = typer.Option(None, help="MLPS level 1-4."),
    cluster: Optional[str] = typer.Option(None, help="Cluster id (`govcloud platform show` lists them)."),
    zone: Optional[str] = typer.Option(None, help="Zone id (default: the cluster's zone)."),
    namespace: list[str] = typer.Option([], metavar="SUFFIX", help="Namespace suffix; repeat for several (default: app)."),
    cpu: Optional[str] = typer.Option(None, help="CPU quota override, e.g. 8."),
    memory: Optional[str] = typer.Option(None, help="Memory quota override, e.g. 16Gi."),
    storage: Optional[str] = typer.Option(None, help="Storage quota override, e.g. 100Gi."),
    pods: Optional[int] = typer.Option(None, help="Pod count quota override."),
    system: Optional[str] = typer.Option(None, metavar="ACCOUNT=NAME", help="System administrator."),
    security: Optional[str] = typer.Option(None, metavar="ACCOUNT=NAME", help="Security administrator."),
    audit: Optional[str] = typer.Option(None, metavar="ACCOUNT=NAME", help="Audit administrator."),
    requested_by: Optional[str] = typer.Option(None, metavar="ACCOUNT", help="Account of the requester (default: the system administrator)."),
    reason: Optional[str] = typer.Option(None, help="Why the department needs this change."),
    review_by: Optional[str] = typer.Option(None, metavar="DATE", help="Review-by date, YYYY-MM-DD (default: in a year)."),
    approval: list[str] = typer.Option([], metavar=APPROVAL_FORM,
                                       help="A security approval (MLPS level 3 and above need one); repeatable. Role default: 安全审查."),
    publish: list[str] = typer.Option([], metavar=PUBLISH_FORM, help="A dataset the department publishes to the data pool; repeatable."),
    consume: list[str] = typer.Option([], metavar=CONSUME_FORM, help="A dataset the department consumes; repeatable."),
    service: list[str] = typer.Option([], metavar=SERVICE_FORM, help="A public service behind the internet gateway; repeatable."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Validate, render, check and print the request; write nothing."),
    no_check: bool = typer.Option(False, "--no-check", help="Validate only: do not render and check the tenant's stack."),
    pack: Path = PackOption,
    today: Optional[str] = TodayOption,
    output: Optional[Output] = OutputOption,
) -> None:
    """Write a tenant request from flags, asking for what is missing when interactive.

    The request is validated against the environment, and its stack rendered and checked with
    the policy pack: it is written only when it validates and no mandatory rule fails."""
    from ..inventory_io import dump_document, write_atomic
    from ..model import InputError, load_environment, tenant_id
    from ..model.loader import TENANTS_DIR

    name = env_name(ctx, env)
    inventories = settings(ctx).inventories
    environment = load(ctx, name)
    day = parse_day(today)
    given = {"slug": slug, "department": department, "uscc": uscc, "region": region, "level": None if level is None else str(level),
             "cluster": cluster, "namespace": list(namespace) or None, "system": system, "security": security, "audit": audit,
             "requested_by": requested_by, "reason": reason, "review_by": review_by, "approval": list(approval),
             "publish": list(publish), "consume": list(consume), "service": list(service)}
    answers: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
    interactive = is_interactive()
    # Flags in the wrong form are one line each, before anything is asked.
    for key, parse, form in (("approval", parse_approval, APPROVAL_FORM), ("publish", parse_publish, PUBLISH_FORM),
                             ("consume", parse_consume, CONSUME_FORM), ("service", parse_service, SERVICE_FORM)):
        for value in answers.get(key, []):
            if parse(value) is None:
                fail(f"{_flag(key)} {value!r}: give {form}")
    for key in ("system", "security", "audit"):
        if key in answers and _split_person(answers[key]) is None:
            fail(f"{_flag(key)} takes ACCOUNT=NAME, e.g. {_flag(key)} zhang-wei=张伟")
    if interactive:
        for question in QUESTIONS:
            if question.when(answers) and (question.key not in answers or (question.many and not answers[question.key])):
                answers[question.key] = _ask(question, environment, answers)
    else:
        for key in ("namespace", "requested_by", "review_by"):  # defaults that need no question
            if key not in answers:
                default = BY_KEY[key].default(environment, answers)
                if default is not None:
                    answers[key] = default
        missing = [q.key for q in QUESTIONS if q.key not in answers and not q.optional]
        if missing:
            fail("missing " + ", ".join(_flag(k) for k in missing) + " (run it in a terminal to be asked)")
    quotas = {k: v for k, v in (("cpu", cpu), ("memory", memory), ("storage", storage), ("pods", pods)) if v is not None}
    while True:
        problems = _answer_problems(environment, answers, zone)
        if not problems:
            document = _document(answers, zone, environment, quotas)
            tid = tenant_id(str(answers["region"]), str(answers["slug"]))
            path = inventories / name / TENANTS_DIR / f"{tid}.yaml"
            if path.exists():
                fail(f"{path} already exists; edit it and run `govcloud tenant validate {path}`")
            text = dump_document(document, "tenant", depth=3)
            try:
                drafted = load_environment(name, inventories, extra_tenants={path: text.encode("utf-8")})
                break
            except InputError as error:
                problems = error.problems
        if not interactive:
            raise InputError(problems)
        report_input_error(InputError(problems))
        keys = _keys_of(problems) or ["slug"]
        err_console.print(styled("[yellow]asking again:[/] {}", ", ".join(BY_KEY[k].ask for k in keys)), soft_wrap=True)
        for key in keys:
            answers[key] = _ask(BY_KEY[key], environment, answers)
    report = None if no_check else check_requests(drafted, inventories, [tid], pack, day)
    as_json = output_of(ctx, output) == Output.json
    blocking = bool(report and report.blocking)
    if as_json:
        print_json({"ok": not blocking, "tenant": tid, "path": str(path), "written": not (dry_run or blocking),
                    "check": None if report is None else report.as_dict()["summary"], "document": text})
    elif report is not None:
        print_findings(report)
    if dry_run and not as_json:
        console.print(Text(text))
    if report is not None and blocking:
        if not as_json:
            err_console.print(styled("[bold red]not written:[/] {} fails {} unwaived; fix the request (the table says what to do) and run "
                                     "`govcloud tenant new` again", tid, plural(report.blocking, "mandatory rule")), soft_wrap=True)
        raise typer.Exit(1)
    if dry_run:
        return
    write_atomic(path, text)
    if not as_json:
        console.print(styled("[green]✓[/] wrote {} (tenant {}); it validates against environment {}{}", path, tid, name,
                             "" if report is None else " and passes the policy check"))


# --- tenant validate -------------------------------------------------------------------------------
@tenant_app.command("validate")
def tenant_validate(
    ctx: typer.Context,
    files: list[Path] = typer.Argument(..., help="Tenant request files: in an environment's tenants/ directory, or drafts anywhere."),
    env: Optional[str] = EnvOption,
    no_check: bool = typer.Option(False, "--no-check", help="Validate only: do not render and check the tenants' stacks."),
    pack: Path = PackOption,
    today: Optional[str] = TodayOption,
    output: Optional[Output] = OutputOption,
) -> None:
    """Validate tenant requests against their environment, then render and check their stacks.

    A file under inventories/<env>/tenants/ is checked with that environment; a draft anywhere
    else with --env (default lab). A draft for a tenant the environment already has stands in
    for its request. Exit 0 when every request validates and no mandatory rule fails, 1 on a
    blocking finding, 2 on a problem in a request."""
    from ..model import load_environment
    from ..model.loader import PLATFORM_FILE, TENANTS_DIR, display_path
    from ..model.source import MAX_FILE_BYTES

    by_env: dict[tuple[Path, str], dict[Path, bytes]] = {}
    for file in files:
        try:  # a regular file only: a FIFO would block the read forever
            content = read_regular(file, MAX_FILE_BYTES)
        except OSError as error:
            fail(f"{file}: {error.strerror or error}")
        resolved = file.resolve()
        env_dir = resolved.parent.parent
        if env is None and resolved.parent.name == TENANTS_DIR and (env_dir / PLATFORM_FILE).is_file():
            key = (env_dir.parent, env_dir.name)
        else:
            key = (settings(ctx).inventories, env_name(ctx, env))
        by_env.setdefault(key, {})[file] = content
    as_json = output_of(ctx, output) == Output.json
    day = parse_day(today)
    results = []
    worst = 0
    for (inventories, name), extra in sorted(by_env.items()):
        environment = load_environment(name, inventories, extra_tenants=extra)
        mine = sorted({t.id for t in environment.tenants if Path(t.file) in {Path(display_path(p)) for p in extra}})
        report = None if no_check or not mine else check_requests(environment, inventories, mine, pack, day)
        results.append({"env": name, "files": sorted(str(p) for p in extra), "tenants": mine,
                        "check": None if report is None else report.as_dict()["summary"]})
        if not as_json:
            for file in extra:
                console.print(styled("[green]✓[/] {} validates against environment {}", file, name))
            if report is not None:
                print_findings(report)
        if report is not None and report.blocking:
            worst = 1
    if as_json:
        print_json({"ok": worst == 0, "results": results})
    raise typer.Exit(worst)


# --- tenant list -----------------------------------------------------------------------------------
def _quota_text(tenant) -> str:
    q = tenant.quotas
    return f"{q.cpu} cpu / {q.memory} / {q.storage} / {q.pods} pods"


@tenant_app.command("list")
def tenant_list(ctx: typer.Context, env: Optional[str] = EnvOption, output: Optional[Output] = OutputOption) -> None:
    """List tenants: id, department, region, zone, level, quotas."""
    from ..model.environment import RESOURCE_KINDS

    environment = load(ctx, env)
    rows = [
        {
            "id": t.id,
            "department": t.department,
            "region": t.region,
            "region_name": environment.region(t.region).name,
            "cluster": t.cluster,
            "zone": t.zone,
            "mlps_level": t.level,
            "namespaces": list(t.namespaces),
            "quotas": {k: str(getattr(t.quotas, k)) for k in RESOURCE_KINDS},
            "published": [d.name for d in t.request.datasets.publishes],
            "consumed": [c.dataset for c in t.request.datasets.consumes],
        }
        for t in environment.tenants
    ]
    if output_of(ctx, output) == Output.json:
        print_json(rows)
        return
    table = Table(title=f"tenants of {environment.name} ({len(rows)})")
    for column in ("id", "department", "region", "zone", "level", "quotas (cpu / memory / storage / pods)"):
        table.add_column(column)
    for t in environment.tenants:
        table.add_row(*map(Text, (t.id, t.department, f"{t.region} {environment.region(t.region).name}", t.zone, str(t.level), _quota_text(t))))
    console.print(table)


