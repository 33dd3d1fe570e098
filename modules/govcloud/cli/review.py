"""``govcloud review``: certify a stack after its policy check; ``govcloud review verify CERT``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Optional

import typer

from .common import (
    BuildOption,
    EnvOption,
    Output,
    OutputOption,
    RenderDirOption,
    StacksOption,
    console,
    err_console,
    fail,
    load,
    output_of,
    plural,
    prepare_output,
    print_json,
    render_dir_of,
    selected_stacks,
    styled,
)
from .ledger import RecordKeyOption, RecordOption, open_for_recording, record, refuse_recorded
from .policy import PackOption, print_check_failures, require_current_render

review_app = typer.Typer(help="Review certificates: issue one for a stack, verify one.", invoke_without_command=True)

ReviewsOption = typer.Option(Path("build/reviews"), "--reviews", envvar="GOVCLOUD_REVIEWS", metavar="DIR", help="Directory of review certificates (<env>/<stack>.cert.json).")
TrustOption = typer.Option(None, "--trust-store", envvar="GOVCLOUD_TRUST_STORE", metavar="DIR",
                           help="Directory of trusted public keys, one <account>.pub.pem per security team member (default: inventories/<env>/trusted-keys).")
NowOption = typer.Option(None, "--now", metavar="TIME", help="The review's clock (ISO 8601, e.g. 2026-11-25T10:00:00Z); default: now.")
PlansOption = typer.Option(Path("build/plans"), "--plans", envvar="GOVCLOUD_PLANS", metavar="DIR",
                           help="Directory of the engine's update plans (<env>/<stack>.plan.json, made by `govcloud deploy --preview`).")


def load_plan(plans: Path, env: str, stack: str):
    """The plan a review certifies: <plans>/<env>/<stack>.plan.json when there is one."""
    from ..engine.plan import Plan, PlanError, plan_path

    path = plan_path(plans, env, stack)
    if not path.is_file():
        return None
    try:
        return Plan.load(path)
    except PlanError as problem:
        fail(str(problem))


def register(app: typer.Typer) -> None:
    app.add_typer(review_app, name="review")


def parse_now(value: str | None) -> dt.datetime:
    if value is None:
        return dt.datetime.now(dt.timezone.utc)
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        fail(f"--now takes an ISO 8601 time such as 2026-11-25T10:00:00Z, not {value!r}")
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def trust_dir(ctx: typer.Context, env: str, given: Path | None) -> Path:
    from .common import settings

    return given or settings(ctx).inventories / env / "trusted-keys"


@review_app.callback()
def review(
    ctx: typer.Context,
    env: Optional[str] = EnvOption,
    stack: Optional[list[str]] = StacksOption,
    reviewer: Optional[str] = typer.Option(None, "--reviewer", metavar="ACCOUNT", help="Account of the security team member signing."),
    key: Optional[str] = typer.Option(None, "--key", envvar="GOVCLOUD_REVIEW_KEY", metavar="KEY",
                                      help="The reviewer's private key: a PEM file or env:NAME. Never kept in the repository."),
    out: Optional[Path] = typer.Option(None, "--out", metavar="FILE",
                                       help="Where to write the certificate of a single stack (default: <reviews>/<env>/<stack>.cert.json)."),
    reviews_dir: Path = ReviewsOption,
    trust_store: Optional[Path] = TrustOption,
    now: Optional[str] = NowOption,
    pack: Path = PackOption,
    render_dir: Optional[Path] = RenderDirOption,
    build: Optional[Path] = BuildOption,
    plans: Path = PlansOption,
    output: Optional[Output] = OutputOption,
    ledger: Optional[Path] = RecordOption,
    ledger_key: Optional[str] = RecordKeyOption,
) -> None:
    """Check stacks with the policy pack and certify those that pass, with the engine's update plan.

    The certificate binds the desired state and, when there is one, the update plan `govcloud
    deploy --preview` saved for it in --plans (refused when the plan was not made from that
    state); `govcloud deploy` runs exactly that plan and refuses a certificate without one.
    Each certificate is signed and, with --ledger, recorded in the ledger."""
    from .. import review as reviews
    from .. import signing
    from ..check.run import load_states
    from ..engine.plan import plan_path

    if ctx.invoked_subcommand is not None:
        return
    missing = [name for name, value in (("--stack", stack), ("--reviewer", reviewer), ("--key", key)) if not value]
    if missing:
        fail(f"govcloud review needs {', '.join(missing)} (or `govcloud review verify CERT`)")
    assert reviewer is not None and key is not None
    moment = parse_now(now)
    prepare_output(out)
    log = open_for_recording(ledger, ledger_key)
    environment = load(ctx, env)
    names = selected_stacks(environment, stack)
    if out is not None and len(names) > 1:
        fail(f"--out names one certificate file; {plural(len(names), 'stack')} were given (leave --out out to write each to --reviews)")
    for name in names:  # before any work: a certificate the ledger recorded is never replaced
        target = out or reviews.certificate_path(reviews_dir, environment.name, name)
        prepare_output(target, "--out" if out else "--reviews")
        refuse_recorded(log, target, "--out" if out else "--reviews")
    states_dir = render_dir_of(render_dir, build, environment.name)
    require_current_render(environment, states_dir, names)
    states = load_states(states_dir, environment, names)
    try:
        private = signing.load_private_key(key)
    except signing.KeyProblem as problem:
        fail(str(problem))
    trust = trust_dir(ctx, environment.name, trust_store)
    untrusted = reviews.trust_problem(trust, reviewer, private.public_key)
    if untrusted is not None:
        err_console.print(styled("[yellow]warning:[/] {}", untrusted), soft_wrap=True)
    from .policy import execute_check

    report = execute_check(environment, states, pack, moment.date(), states_dir)
    documents = []
    plans_of = {state.stack: load_plan(plans, environment.name, state.stack) for state in states}
    for state in states:
        try:
            document = reviews.issue(environment, state, report, reviewer, private, moment, plans_of[state.stack])
        except reviews.ReviewError as error:
            if report.blocking:
                print_check_failures(report)
                fail(str(error), code=1)
            fail(str(error))
        documents.append((state, document))
    written = []
    for state, document in documents:
        path = reviews.write(document, out or reviews.certificate_path(reviews_dir, environment.name, state.stack))
        written.append((state, document, path))
        if log is not None:
            record(log, "certificate", {"env": environment.name, "stack": state.stack, "tenant": state.tenant or ""}, path, reviewer,
                   f"review certificate for {state.stack} by {reviewer}: {document['results']['counts']['passed']} passed, "
                   f"{document['results']['counts']['waived']} waived; valid until {document['expires_at']}",
                   {"state_digest": document["state_digest"], "key_id": document["signature"]["key_id"]})
    if output_of(ctx, output) == Output.json:
        rows = [{"certificate": str(path), "stack": state.stack, "state_digest": document["state_digest"],
                 "expires_at": document["expires_at"], "key_id": document["signature"]["key_id"]} for state, document, path in written]
        print_json(rows[0] if len(rows) == 1 else rows)
        return
    for state, document, path in written:
        console.print(styled("[green]✓[/] {}", f"certified {state.stack} ({document['results']['counts']['passed']} passed, "
                             f"{document['results']['counts']['waived']} waived) by {reviewer}; valid until {document['expires_at']}"))
        console.print(f"  {path}  {document['signature']['algorithm']} {document['signature']['key_id']}")
        bound = document.get("plan")
        if bound is None:
            console.print(styled("  [yellow]binds no update plan[/] (none at {}): `govcloud deploy` will refuse it",
                                 str(plan_path(plans, environment.name, state.stack))))
        else:
            steps = ", ".join(f"{n} {step}" for step, n in bound["steps"].items())
            console.print(styled("  binds the update plan {} ({})", str(plans_of[state.stack].path), steps))


@review_app.command("verify")
def verify(
    ctx: typer.Context,
    certificate: Path = typer.Argument(..., help="A review certificate (.cert.json)."),
    trust_store: Optional[Path] = TrustOption,
    now: Optional[str] = NowOption,
    signature_only: bool = typer.Option(False, "--signature-only", help="Check signature, signer and expiry only, not the current state, inputs and pack."),
    pack: Path = PackOption,
    render_dir: Optional[Path] = RenderDirOption,
    build: Optional[Path] = BuildOption,
    plans: Path = PlansOption,
    output: Optional[Output] = OutputOption,
) -> None:
    """Verify a certificate: signature, reviewer, expiry and what it binds.

    The signature must be by a trusted key of the reviewer; unless --signature-only, the
    certificate must still bind the current desired state, inputs, pack and waivers.
    Exit 0 valid, 1 invalid, 2 unreadable."""
    from .. import review as reviews
    from .. import signing
    from ..check.run import state_path
    from ..engine.plan import plan_path

    moment = parse_now(now)
    if not certificate.is_file():
        fail(f"{certificate}: no such file")
    try:
        document, problems = reviews.read_certificate(certificate)
    except reviews.MalformedCertificate as malformed:
        fail(str(malformed))
    if document is None:
        fail(f"{certificate}: {problems[0]}")
    if document is None:
        report_verdict(ctx, output, certificate, None, problems)
    env_name = str(document.get("env") or "")
    stack = str(document.get("stack") or "")
    try:
        trust = reviews.load_trust_store(trust_dir(ctx, env_name, trust_store))
    except signing.KeyProblem as problem:
        fail(str(problem))
    if signature_only:
        problems += reviews.verify_document(document, trust, None, moment)
    else:
        environment = load(ctx, env_name)
        try:
            reviews.require_certificate(
                environment, stack, state_file=state_path(render_dir_of(render_dir, build, env_name), stack), certificate=certificate,
                trust_store=trust_dir(ctx, env_name, trust_store), pack_dir=pack, now=moment,
                plan_file=plan_path(plans, env_name, stack) if "plan" in document else None,
            )
        except reviews.GateRefused as refused:
            problems = refused.reasons
    report_verdict(ctx, output, certificate, document, problems)


def report_verdict(ctx: typer.Context, output: Optional[Output], path: Path, document, problems: list[str]) -> None:
    if output_of(ctx, output) == Output.json:
        print_json({"certificate": str(path), "valid": not problems, "problems": problems,
                    **({"stack": document.get("stack"), "expires_at": document.get("expires_at")} if document else {})})
    elif problems:
        err_console.print(styled("[bold red]✗ {}: invalid[/]", path))
        for problem in problems:
            err_console.print(f"  - {problem}")
    else:
        console.print(styled("[green]✓[/] {}", f"{path}: valid for {document['stack']} until {document['expires_at']}, "
                             f"reviewed by {document['reviewer']['account']}"))
    raise typer.Exit(1 if problems else 0)
