"""``govcloud ledger``: append evidence, verify the log, prove entries, check proofs offline.

Exit status: 0 verified / done, 1 the ledger or a proof fails a check, 2 bad input (missing
directory, garbage file, wrong key).
"""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from .. import signing
from ..ledger import KINDS, Ledger, LedgerError, ProofFailed, TreeHead, audit
from ..ledger.records import MAX_SUMMARY, load_json_file
from .common import Output, OutputOption, console, err_console, fail, info, output_of, print_json, renamed

ledger_app = typer.Typer(help="The evidence ledger: a signed, append-only Merkle log for auditors.", no_args_is_help=True)

LedgerDir = typer.Option(..., "--ledger", "-l", envvar="GOVCLOUD_LEDGER", help="The ledger directory.")
PublicKeyOption = typer.Option(None, "--key", "-k", help="Public key (PEM) the tree heads must be signed with.")
TrustedKeysOption = typer.Option(None, "--trust-store", metavar="DIR", help="Directory of trusted public keys (*.pem).")


def register(app: typer.Typer) -> None:
    app.add_typer(ledger_app, name="ledger")


# --- recording evidence from other commands (check, review, diff, deploy with --ledger DIR) --------
RecordOption = typer.Option(None, "--ledger", envvar="GOVCLOUD_LEDGER", metavar="DIR", help="Record the evidence in this ledger (created on first use).")
RecordKeyOption = typer.Option(None, "--ledger-key", metavar="KEY", help="The ledger's signing key: PEM file or env:NAME (default: $GOVCLOUD_LEDGER_KEY).")
ActorOption = typer.Option(None, "--actor", envvar="GOVCLOUD_ACTOR", help="Who records it in the ledger (default: the login name).")


def open_for_recording(directory: Path | None, key: str | None) -> Ledger | None:
    """The ledger a command records into, opened before the work starts so that a missing or
    wrong key stops the command early; None without --ledger."""
    if directory is None:
        return None
    with _clean_errors():
        return Ledger.for_appending(directory, key)


def record(log: Ledger, kind: str, subject: dict[str, str], evidence: Path, actor: str | None, summary: str,
           details: dict[str, Any] | None = None) -> None:
    """Append one entry pointing at ``evidence``; a ledger problem is one clear error."""
    subject = {k: v for k, v in subject.items() if v}
    with _clean_errors():
        receipt = log.append(kind, subject, evidence, actor or getpass.getuser(), summary[:MAX_SUMMARY], details=details)
    info(f"ledger: entry {receipt.index} ({kind}) records {evidence}; tree size {receipt.head.size}")


@contextmanager
def _clean_errors() -> Iterator[None]:
    """Ledger, key and proof errors become one line on stderr and their exit status."""
    try:
        yield
    except LedgerError as error:
        fail(str(error), error.exit_code)
    except ProofFailed as error:
        fail(str(error), 1)
    except signing.KeyProblem as problem:
        fail(str(problem))


def _trusted(key: Path | None, trusted_keys: Path | None) -> dict[str, signing.PublicKey] | None:
    if key is None and trusted_keys is None:
        return None
    keys: dict[str, signing.PublicKey] = {}
    if trusted_keys is not None:
        keys.update(signing.load_trusted_keys(trusted_keys))
    if key is not None:
        if b"PRIVATE KEY" in _read(key):
            raise signing.KeyProblem(f"{key}: --key expects a public key (PEM 'PUBLIC KEY'), not a private key; "
                                     "give auditors the .pub.pem and keep the private key with the signer")
        public = signing.load_public_key(key)
        keys[public.key_id] = public
    return keys


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise signing.KeyProblem(f"{path}: cannot read key file ({exc.strerror})") from None


def _emit(document: dict[str, Any], out: Path | None) -> None:
    text = json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    if out is None:
        sys.stdout.write(text)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    info(f"wrote {out}")


def _parse_details(pairs: list[str]) -> dict[str, str] | None:
    details = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise LedgerError(f"--detail {pair!r}: expected NAME=VALUE")
        details[name] = value
    return details or None


@ledger_app.command("append", cls=renamed(__key="--ledger-key", _k="--ledger-key"))
def append(
    ctx: typer.Context,
    ledger: Path = LedgerDir,
    kind: str = typer.Option(..., "--kind", help=f"One of: {', '.join(KINDS)}."),
    evidence: Path = typer.Option(..., "--evidence", help="The evidence file the entry points at (its sha256 is recorded)."),
    summary: str = typer.Option(..., "--summary", help="One line saying what happened."),
    env: str = typer.Option(..., "--env", "-e", help="Subject: the environment."),
    stack: str | None = typer.Option(None, "--stack", "-s", help="Subject: the stack, if any."),
    tenant: str | None = typer.Option(None, "--tenant", help="Subject: the tenant, if any."),
    actor: str | None = typer.Option(None, "--actor", envvar="GOVCLOUD_ACTOR", help="Who did it (default: the login name)."),
    detail: list[str] = typer.Option([], "--detail", help="NAME=VALUE recorded with the entry (repeatable)."),
    key: str | None = RecordKeyOption,
    output: Output | None = OutputOption,
) -> None:
    """Record a piece of evidence and sign the new tree head (creates the ledger on first use)."""
    with _clean_errors():
        subject = {"env": env, **({"stack": stack} if stack else {}), **({"tenant": tenant} if tenant else {})}
        with Ledger.for_appending(ledger, key) as log:
            receipt = log.append(kind, subject, evidence, actor or getpass.getuser(), summary, details=_parse_details(detail))
            if log.discarded:
                err_console.print(f"[yellow]note:[/] {log.discarded}", soft_wrap=True)
    if output_of(ctx, output) == Output.json:
        print_json(receipt.as_dict())
    else:
        console.print(f"entry {receipt.index} appended; tree head size {receipt.head.size} root {receipt.head.root.hex()}")


@ledger_app.command("verify", cls=renamed(__trusted_keys="--trust-store"))
def verify(
    ctx: typer.Context,
    ledger: Path = LedgerDir,
    key: Path | None = PublicKeyOption,
    trusted_keys: Path | None = TrustedKeysOption,
    since: Path | None = typer.Option(None, "--since", help="A tree head you saved earlier: the log must still contain it."),
    evidence_root: Path | None = typer.Option(
        None, "--evidence-root", help="Also check every evidence file (paths relative to this directory) against its digest."
    ),
    output: Output | None = OutputOption,
) -> None:
    """Check every entry, tree head and signature; name the entry at fault. Exit 1 on any problem."""
    with _clean_errors():
        saved = TreeHead.from_dict(load_json_file(since, "tree head"), str(since)) if since else None
        report = audit.verify_ledger(ledger, _trusted(key, trusted_keys), saved, evidence_root)
    if output_of(ctx, output) == Output.json:
        print_json(report.as_dict())
    else:
        _print_report(report)
    raise typer.Exit(0 if report.ok else 1)


def _print_report(report: audit.Report) -> None:
    for note in report.notes:
        err_console.print(f"[yellow]note:[/] {note}", soft_wrap=True)
    for finding in report.problems:
        where = f"entry {finding.entry}" if finding.entry is not None else "ledger"
        line = f" (line {finding.line})" if finding.line else ""
        console.print(f"[bold red]{where}[/]{line}: {finding.message}", soft_wrap=True)
    if report.unlisted:
        console.print(f"... and {report.unlisted} more problems")
    root = report.head.root.hex() if report.head else "-"
    verdict = "[bold green]verified[/]" if report.ok else f"[bold red]FAILED[/] ({len(report.problems) + report.unlisted} problems)"
    console.print(f"ledger {report.log_id} ({report.hash}): {report.size} entries, {report.heads} signed tree heads, root {root}: {verdict}")


@ledger_app.command("prove")
def prove(
    entry: int = typer.Argument(..., help="The entry's index (see `govcloud ledger show`)."),
    ledger: Path = LedgerDir,
    size: int | None = typer.Option(None, "--size", help="Prove against the signed tree head of this size (default: the latest)."),
    out: Path | None = typer.Option(None, "--out", metavar="FILE", help="Write the proof here instead of standard output."),
) -> None:
    """Print an inclusion proof (JSON) that `govcloud ledger check-proof` checks offline."""
    with _clean_errors():
        _emit(Ledger(ledger).prove(entry, size), out)


@ledger_app.command("consistency")
def consistency(
    old_head: Path = typer.Argument(..., help="A tree head saved earlier (from `govcloud ledger head`)."),
    ledger: Path = LedgerDir,
    out: Path | None = typer.Option(None, "--out", metavar="FILE", help="Write the proof here instead of standard output."),
) -> None:
    """Print a consistency proof (JSON) from a saved tree head to the latest one: the log only grew."""
    with _clean_errors():
        saved = TreeHead.from_dict(load_json_file(old_head, "tree head"), str(old_head))
        _emit(Ledger(ledger).consistency(saved), out)


@ledger_app.command("head")
def head(
    ledger: Path = LedgerDir,
    out: Path | None = typer.Option(None, "--out", metavar="FILE", help="Write the tree head here (keep it outside the ledger)."),
) -> None:
    """Print the latest signed tree head; save it to check later that the log only grew."""
    with _clean_errors():
        _emit(Ledger(ledger).head().as_dict(), out)


@ledger_app.command("check-proof", cls=renamed(__trusted_keys="--trust-store"))
def check_proof(
    ctx: typer.Context,
    proof: Path = typer.Argument(..., help="An inclusion or consistency proof (JSON)."),
    key: Path | None = PublicKeyOption,
    trusted_keys: Path | None = TrustedKeysOption,
    evidence: Path | None = typer.Option(None, "--evidence", help="Also check that this file is the entry's evidence (sha256)."),
    output: Output | None = OutputOption,
) -> None:
    """Check a proof offline, without the ledger, against keys you trust. Exit 1 if it fails."""
    with _clean_errors():
        trusted = _trusted(key, trusted_keys)
        if not trusted:
            raise LedgerError("give the public key you trust: --key FILE or --trusted-keys DIR")
        document = load_json_file(proof, "proof")
        if isinstance(document, dict) and "old_head" in document:
            old, new = audit.check_consistency(document, trusted, str(proof))
            result = {"ok": True, "kind": "consistency", "old_size": old.size, "new_size": new.size, "root": new.root.hex()}
            message = f"consistent: the tree of size {new.size} extends the tree of size {old.size}"
        else:
            proven = audit.check_inclusion(document, trusted, str(proof))
            if evidence is not None:
                audit.check_evidence_file(proven, evidence)
            result = {"ok": True, "kind": "inclusion", "entry": proven}
            size = document["tree_head"]["size"]
            message = f"entry {proven['index']} ({proven['kind']}: {proven['summary']}) is in the signed tree of size {size}"
            if evidence is not None:
                message += f"; {evidence} is its evidence"
    if output_of(ctx, output) == Output.json:
        print_json(result)
    else:
        console.print(f"[bold green]ok[/]: {message}", soft_wrap=True)


@ledger_app.command("show")
def show(
    ctx: typer.Context,
    ledger: Path = LedgerDir,
    kind: str | None = typer.Option(None, "--kind", help="Only entries of this kind."),
    env: str | None = typer.Option(None, "--env", "-e", help="Only entries about this environment."),
    tenant: str | None = typer.Option(None, "--tenant", help="Only entries about this tenant."),
    output: Output | None = OutputOption,
) -> None:
    """List the committed entries (no verification: use `govcloud ledger verify`)."""
    with _clean_errors():
        rows = [
            entry
            for entry in Ledger(ledger).entries()
            if (kind is None or entry.get("kind") == kind)
            and (env is None or entry.get("subject", {}).get("env") == env)
            and (tenant is None or entry.get("subject", {}).get("tenant") == tenant)
        ]
    if output_of(ctx, output) == Output.json:
        print_json(rows)
        return
    table = Table("index", "time", "kind", "subject", "actor", "summary")
    table.add_column("evidence", overflow="fold")
    table.add_column("sha256")
    for entry in rows:
        subject = entry.get("subject", {})
        evidence = entry.get("evidence", {})
        table.add_row(
            str(entry.get("index")),
            str(entry.get("time")),
            str(entry.get("kind")),
            "/".join(subject[k] for k in ("env", "stack", "tenant") if k in subject),
            str(entry.get("actor")),
            str(entry.get("summary")),
            str(evidence.get("path")),
            str(evidence.get("sha256", ""))[:12],
        )
    console.print(table)
    console.print(f"{len(rows)} entr{'y' if len(rows) == 1 else 'ies'}")

