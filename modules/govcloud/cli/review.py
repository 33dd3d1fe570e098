"""``govcloud review``: certify a stack after its policy check; ``govcloud review verify CERT``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Optional

import typer

from .. import review as reviews
from .. import signing
from ..check.run import load_state, stack_names, state_path
from .common import EnvOption, Output, OutputOption, console, err_console, fail, load, output_of, print_json
from .ledger import RecordKeyOption, RecordOption, open_for_recording, record
from .policy import BuildOption, PackOption, print_check_failures

review_app = typer.Typer(help="Review certificates: issue one for a stack, verify one.", invoke_without_command=True)

ReviewsOption = typer.Option(Path("build/reviews"), "--reviews", envvar="GOVCLOUD_REVIEWS", help="Directory of review certificates (<env>/<stack>.cert.json).")
TrustOption = typer.Option(None, "--trust-store", envvar="GOVCLOUD_TRUST_STORE",
                           help="Directory of trusted public keys, one <account>.pub.pem per security team member (default: inventories/<env>/trusted-keys).")
NowOption = typer.Option(None, "--now", help="The review's clock (ISO 8601, e.g. 2026-11-25T10:00:00Z); default: now.")


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
    stack: Optional[str] = typer.Option(None, "--stack", help="The stack to certify (lab.t-430100-health or t-430100-health)."),
    reviewer: Optional[str] = typer.Option(None, "--reviewer", help="Account of the security team member signing."),
    key: Optional[str] = typer.Option(None, "--key", envvar="GOVCLOUD_REVIEW_KEY", help="Private key: a PEM file or env:NAME. Never kept in the repository."),
    out: Optional[Path] = typer.Option(None, "--out", help="Where to write the certificate (default: <reviews>/<env>/<stack>.cert.json)."),
    reviews_dir: Path = ReviewsOption,
    now: Optional[str] = NowOption,
    pack: Path = PackOption,
    build: Path = BuildOption,
    output: Optional[Output] = OutputOption,
    ledger: Optional[Path] = RecordOption,
    ledger_key: Optional[str] = RecordKeyOption,
) -> None:
    """Check one stack with the policy pack and, if it passes, issue a signed review certificate
    (recorded in the ledger with --ledger)."""
    if ctx.invoked_subcommand is not None:
        return
    missing = [name for name, value in (("--stack", stack), ("--reviewer", reviewer), ("--key", key)) if not value]
    if missing:
        fail(f"govcloud review needs {', '.join(missing)} (or `govcloud review verify CERT`)")
    moment = parse_now(now)
    log = open_for_recording(ledger, ledger_key)
    environment = load(ctx, env)
    [name] = stack_names(environment, stack)
    state = load_state(state_path(build, environment.name, name), environment.name, name)
    try:
        private = signing.load_private_key(key)
    except signing.KeyProblem as problem:
        fail(str(problem))
    from .policy import execute_check

    report = execute_check(environment, [state], pack, moment.date(), build)
    try:
        document = reviews.issue(environment, state, report, reviewer, private, moment)
    except reviews.ReviewError as error:
        if report.blocking:
            print_check_failures(report)
            fail(str(error), code=1)
        fail(str(error))
    path = reviews.write(document, out or reviews.certificate_path(reviews_dir, environment.name, name))
    if log is not None:
        record(log, "certificate", {"env": environment.name, "stack": name, "tenant": state.tenant or ""}, path, reviewer,
               f"review certificate for {name} by {reviewer}: {document['results']['counts']['passed']} passed, "
               f"{document['results']['counts']['waived']} waived; valid until {document['expires_at']}",
               {"state_digest": document["state_digest"], "key_id": document["signature"]["key_id"]})
    if output_of(ctx, output) == Output.json:
        print_json({"certificate": str(path), "stack": name, "state_digest": document["state_digest"],
                    "expires_at": document["expires_at"], "key_id": document["signature"]["key_id"]})
        return
    console.print(f"[green]✓[/] certified {name} ({document['results']['counts']['passed']} passed, "
                  f"{document['results']['counts']['waived']} waived) by {reviewer}; valid until {document['expires_at']}")
    console.print(f"  {path}  {document['signature']['algorithm']} {document['signature']['key_id']}")


@review_app.command("verify")
def verify(
    ctx: typer.Context,
    certificate: Path = typer.Argument(..., help="A review certificate (.cert.json)."),
    trust_store: Optional[Path] = TrustOption,
    now: Optional[str] = NowOption,
    signature_only: bool = typer.Option(False, "--signature-only", help="Check signature, signer and expiry only, not the current state, inputs and pack."),
    pack: Path = PackOption,
    build: Path = BuildOption,
    output: Optional[Output] = OutputOption,
) -> None:
    """Verify a certificate: signature by a trusted key, reviewer, expiry and (unless
    --signature-only) that it still binds the current desired state, inputs, pack and waivers.
    Exit 0 valid, 1 invalid, 2 unreadable."""
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
                environment, stack, state_file=state_path(build, env_name, stack), certificate=certificate,
                trust_store=trust_dir(ctx, env_name, trust_store), pack_dir=pack, now=moment,
            )
        except reviews.GateRefused as refused:
            problems = refused.reasons
    report_verdict(ctx, output, certificate, document, problems)


def report_verdict(ctx: typer.Context, output: Optional[Output], path: Path, document, problems: list[str]) -> None:
    if output_of(ctx, output) == Output.json:
        print_json({"certificate": str(path), "valid": not problems, "problems": problems,
                    **({"stack": document.get("stack"), "expires_at": document.get("expires_at")} if document else {})})
    elif problems:
        err_console.print(f"[bold red]✗ {path}: invalid[/]")
        for problem in problems:
            err_console.print(f"  - {problem}", markup=False)
    else:
        console.print(f"[green]✓[/] {path}: valid for {document['stack']} until {document['expires_at']}, "
                      f"reviewed by {document['reviewer']['account']}")
    raise typer.Exit(1 if problems else 0)
