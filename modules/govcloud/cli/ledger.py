"""``govcloud ledger``: append evidence, verify the log, prove entries, check proofs offline.

Exit status: 0 verified / done, 1 the ledger or a proof fails a check, 2 bad input (missing
directory, garbage file, wrong key).
"""

from __future__ import annotations

import getpass
import json
import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from ..files import kind_of, read_regular, write_output
from ..ledger import KINDS
from .common import EnvOption, Output, OutputOption, console, err_console, fail, info, load, output_of, print_json, renamed, styled

if TYPE_CHECKING:
    from .. import signing
    from ..ledger import Ledger, audit
    from ..ledger import witness as witnessing

ledger_app = typer.Typer(help="The evidence ledger: a signed, append-only Merkle log for auditors.", no_args_is_help=True)

LedgerDir = typer.Option(..., "--ledger", "-l", envvar="GOVCLOUD_LEDGER", help="The ledger directory.")
PublicKeyOption = typer.Option(None, "--key", "-k", help="Public key (PEM) the tree heads must be signed with.")
TrustedKeysOption = typer.Option(None, "--trust-store", metavar="DIR", help="Directory of trusted public keys (*.pem).")
WitnessEnvOption = typer.Option(None, "--env", "-e", help="Require the ledger's key and the quorum of witness cosignatures "
                                                          "that this environment's platform.yaml (evidence.ledgers) names.")


def register(app: typer.Typer) -> None:
    app.add_typer(ledger_app, name="ledger")


# --- recording evidence from other commands (check, review, diff, deploy with --ledger DIR) --------
RecordOption = typer.Option(None, "--ledger", envvar="GOVCLOUD_LEDGER", metavar="DIR", help="Record the evidence in this ledger (created on first use).")
RecordKeyOption = typer.Option(None, "--ledger-key", metavar="KEY", help="The ledger's signing key: PEM file or env:NAME (default: $GOVCLOUD_LEDGER_KEY).")
ActorOption = typer.Option(None, "--actor", envvar="GOVCLOUD_ACTOR", help="Who records it in the ledger (default: the login name).")


def open_for_recording(directory: Path | None, key: str | None) -> Ledger | None:
    """The ledger a command records into, opened before the work starts so that a missing or
    wrong key stops the command early; None without --ledger."""
    from ..ledger import Ledger

    if directory is None:
        return None
    with _clean_errors():
        return Ledger.for_appending(directory, key)


def recorded_entry(log: Ledger, path: Path) -> dict[str, Any] | None:
    """The entry of ``log`` whose evidence is the file at ``path`` (its recorded path, read from
    the working directory as it was recorded), or None."""
    if not path.exists():
        return None
    target = path.resolve()
    with _clean_errors():
        for entry in log.entries():
            recorded = (entry.get("evidence") or {}).get("path")
            if isinstance(recorded, str) and Path(recorded).resolve() == target:
                return entry
    return None


def refuse_recorded(log: Ledger | None, path: Path | None, option: str = "--out") -> None:
    """Recorded evidence is never overwritten: a command that would write over a file the ledger
    recorded stops before any work (exit 2). Auditors check every evidence file against the digest
    its entry holds (`ledger verify --evidence-root`); a new report needs a new name."""
    if log is None or path is None:
        return
    entry = recorded_entry(log, path)
    if entry is not None:
        fail(f"{option} {path}: is the evidence of ledger entry {entry.get('index')} ({entry.get('kind')}, {entry.get('time')}); "
             "recorded evidence is never overwritten: give a new file name")


def record(log: Ledger, kind: str, subject: dict[str, str], evidence: Path, actor: str | None, summary: str,
           details: dict[str, Any] | None = None) -> None:
    """Append one entry pointing at ``evidence``; a ledger problem is one clear error."""
    from ..ledger.records import MAX_SUMMARY

    subject = {k: v for k, v in subject.items() if v}
    with _clean_errors():
        receipt = log.append(kind, subject, evidence, actor or getpass.getuser(), summary[:MAX_SUMMARY], details=details)
    info(f"ledger: entry {receipt.index} ({kind}) records {evidence}; tree size {receipt.head.size}")


@contextmanager
def _clean_errors() -> Iterator[None]:
    """Ledger, key and proof errors become one line on stderr and their exit status."""
    from .. import note, signing
    from ..ledger import LedgerError, ProofFailed
    from ..ledger import witness as witnessing

    try:
        yield
    except LedgerError as error:
        fail(str(error), error.exit_code)
    except ProofFailed as error:
        fail(str(error), 1)
    except witnessing.WitnessRefusal as refusal:
        fail(f"refused ({refusal.status}): {refusal.reason}", 1)
    except note.NoteError as problem:
        fail(str(problem))
    except signing.KeyProblem as problem:
        fail(str(problem))


def _trusted(key: Path | None, trusted_keys: Path | None) -> dict[str, signing.PublicKey] | None:
    from .. import signing

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


def _regular(path: Path, what: str) -> Path:
    """``path`` if it is a regular file (or absent: the reader says so); a FIFO would block the
    ledger's reader forever and a device would never end, so they are refused here first."""
    from ..ledger import LedgerError

    try:
        mode = os.stat(path).st_mode
    except OSError:
        return path
    if not stat.S_ISREG(mode):
        raise LedgerError(f"{path}: {what} is {kind_of(mode)}, not a regular file")
    return path


def _read(path: Path) -> bytes:
    from .. import signing

    try:
        return read_regular(path)
    except OSError as exc:
        raise signing.KeyProblem(f"{path}: cannot read key file ({exc.strerror})") from None


def _emit(document: dict[str, Any], out: Path | None) -> None:
    text = json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    if out is None:
        sys.stdout.write(text)
        return
    write_output(out, text)
    info(f"wrote {out}")


def _parse_details(pairs: list[str]) -> dict[str, str] | None:
    from ..ledger import LedgerError

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
    from ..ledger import Ledger

    with _clean_errors():
        subject = {"env": env, **({"stack": stack} if stack else {}), **({"tenant": tenant} if tenant else {})}
        with Ledger.for_appending(ledger, key) as log:
            receipt = log.append(kind, subject, evidence, actor or getpass.getuser(), summary, details=_parse_details(detail))
            if log.discarded:
                err_console.print(styled("[yellow]note:[/] {}", log.discarded), soft_wrap=True)
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
    env: str | None = WitnessEnvOption,
    output: Output | None = OutputOption,
) -> None:
    """Check every entry, tree head and signature; name the entry at fault. With --env, also a
    checkpoint cosigned by a quorum of the environment's witnesses. Exit 1 on any problem."""
    from ..ledger import audit
    from ..ledger.records import load_head_file
    from ..ledger.store import load_meta

    with _clean_errors():
        meta = load_meta(ledger)
        trusted = _trusted(key, trusted_keys)
        model = _model_ledger(ctx, env, meta.log_id)
        if model is not None:
            trusted = {**(trusted or {}), **model.trusted}
        saved = load_head_file(_regular(since, "the saved tree head"), meta.hash) if since else None
        report = audit.verify_ledger(ledger, trusted, saved, evidence_root, model.policy if model else None)
    if output_of(ctx, output) == Output.json:
        print_json(report.as_dict())
    else:
        _print_report(report)
    raise typer.Exit(0 if report.ok else 1)


def _model_ledger(ctx: typer.Context, env: str | None, origin: str) -> witnessing.ModelLedger | None:
    from ..ledger import witness as witnessing

    return None if env is None else witnessing.model_ledger(load(ctx, env), origin)


def _print_report(report: audit.Report) -> None:
    for remark in report.notes:
        err_console.print(styled("[yellow]note:[/] {}", remark), soft_wrap=True)
    for finding in report.problems:
        where = f"entry {finding.entry}" if finding.entry is not None else "ledger"
        line = f" (line {finding.line})" if finding.line else ""
        console.print(styled("[bold red]{}[/]{}: {}", where, line, finding.message), soft_wrap=True)
    if report.unlisted:
        console.print(f"... and {report.unlisted} more problems")
    root = report.head.root.hex() if report.head else "-"
    if report.witnessed:
        console.print(f"witnessed: checkpoint of size {report.witnessed['size']} cosigned by {', '.join(report.witnessed['cosigners'])} "
                      f"(quorum {report.witnessed['quorum']})", soft_wrap=True)
    verdict = styled("[bold green]verified[/]") if report.ok else styled("[bold red]FAILED[/] ({} problems)", len(report.problems) + report.unlisted)
    console.print(styled("ledger {} ({}): {} entries, {} signed tree heads, root {}: ", report.log_id, report.hash, report.size, report.heads, root)
                  + verdict)


@ledger_app.command("prove")
def prove(
    entry: int = typer.Argument(..., help="The entry's index (see `govcloud ledger show`)."),
    ledger: Path = LedgerDir,
    size: int | None = typer.Option(None, "--size", help="Prove against the signed tree head of this size (default: the latest)."),
    out: Path | None = typer.Option(None, "--out", metavar="FILE", help="Write the proof here instead of standard output."),
) -> None:
    """Print an inclusion proof (JSON) that `govcloud ledger check-proof` checks offline."""
    from ..ledger import Ledger

    with _clean_errors():
        _emit(Ledger(ledger).prove(entry, size), out)


@ledger_app.command("consistency")
def consistency(
    old_head: Path = typer.Argument(..., help="A tree head saved earlier (from `govcloud ledger head`)."),
    ledger: Path = LedgerDir,
    out: Path | None = typer.Option(None, "--out", metavar="FILE", help="Write the proof here instead of standard output."),
) -> None:
    """Print a consistency proof (JSON) from a saved tree head to the latest one: the log only grew."""
    from ..ledger import Ledger
    from ..ledger.records import load_head_file
    from ..ledger.store import load_meta

    with _clean_errors():
        saved = load_head_file(_regular(old_head, "the saved tree head"), load_meta(ledger).hash)
        _emit(Ledger(ledger).consistency(saved), out)


@ledger_app.command("head")
def head(
    ledger: Path = LedgerDir,
    out: Path | None = typer.Option(None, "--out", metavar="FILE", help="Write the tree head here (keep it outside the ledger)."),
) -> None:
    """Print the latest checkpoint (C2SP signed note, with the witnesses' cosignatures when it has
    them); save it to check later that the log only grew."""
    from ..ledger import Ledger
    from ..ledger.records import SignedCheckpoint

    with _clean_errors():
        log = Ledger(ledger)
        head = log.head()
        if not isinstance(head, SignedCheckpoint):
            _emit(head.as_dict(), out)
            return
        cosigned = [c for c in log.cosigned() if c.size == head.size and c.root == head.root]
        _write_text((cosigned[0] if cosigned else head).text(), out)


def _write_text(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text)
        return
    write_output(out, text)
    info(f"wrote {out}")


@ledger_app.command("check-proof", cls=renamed(__trusted_keys="--trust-store"))
def check_proof(
    ctx: typer.Context,
    proof: Path = typer.Argument(..., help="An inclusion or consistency proof (JSON)."),
    key: Path | None = PublicKeyOption,
    trusted_keys: Path | None = TrustedKeysOption,
    evidence: Path | None = typer.Option(None, "--evidence", help="Also check that this file is the entry's evidence (sha256)."),
    env: str | None = WitnessEnvOption,
    output: Output | None = OutputOption,
) -> None:
    """Check a proof offline, without the ledger, against keys you trust (and with --env, the
    quorum of witness cosignatures the model requires). Exit 1 if it fails."""
    from ..ledger import LedgerError, audit
    from ..ledger.records import head_from_dict, load_json_file

    with _clean_errors():
        trusted = _trusted(key, trusted_keys) or {}
        if not trusted and env is None:
            raise LedgerError("give the public key you trust: --key FILE, --trust-store DIR or --env ENV")
        document = load_json_file(_regular(proof, "the proof"), "proof")
        model = None
        if env is not None:
            head = (document.get("tree_head") or document.get("new_head")) if isinstance(document, dict) else None
            model = _model_ledger(ctx, env, head_from_dict(head, f"{proof}: tree head").log_id)
            assert model is not None  # env is given
            trusted = {**trusted, **model.trusted}
        if not trusted:
            raise LedgerError("give the public key you trust: --key FILE, --trust-store DIR or --env ENV")
        policy = model.policy if model else None
        if isinstance(document, dict) and "old_head" in document:
            old, new = audit.check_consistency(document, trusted, str(proof), policy)
            result = {"ok": True, "kind": "consistency", "old_size": old.size, "new_size": new.size, "root": new.root.hex()}
            message = f"consistent: the tree of size {new.size} extends the tree of size {old.size}"
        else:
            proven = audit.check_inclusion(document, trusted, str(proof), policy)
            if evidence is not None:
                audit.check_evidence_file(proven, _regular(evidence, "the evidence"))
            result = {"ok": True, "kind": "inclusion", "entry": proven}
            size = proof_size(document["tree_head"])
            message = f"entry {proven['index']} ({proven['kind']}: {proven['summary']}) is in the signed tree of size {size}"
            if evidence is not None:
                message += f"; {evidence} is its evidence"
    if output_of(ctx, output) == Output.json:
        print_json(result)
    else:
        console.print(styled("[bold green]ok[/]: {}", message), soft_wrap=True)


def proof_size(head: dict[str, Any]) -> int:
    if "checkpoint" in head:
        return int(head["checkpoint"].split("\n")[1])
    return head["size"]


# --- format 2: migration, checkpoints and witnesses ---------------------------------------------
@ledger_app.command("migrate")
def migrate(
    ledger: Path = LedgerDir,
    key: str | None = RecordKeyOption,
) -> None:
    """Continue a format 1 ledger (JSON tree heads) with C2SP checkpoints; its lines stay as they
    are and verify as before, and the migration is recorded as an entry of the ledger."""
    from ..ledger import Ledger, LedgerError, audit

    with _clean_errors():
        log = Ledger.for_appending(ledger, key)
        assert log.key is not None  # for_appending loads it
        report = audit.verify_ledger(ledger, {log.key.public_key.key_id: log.key.public_key})
        if not report.ok:
            raise LedgerError(f"{ledger}: does not verify ({report.problems[0].message}); migrate only a ledger that verifies")
        receipt = log.migrate()
    console.print(f"migrated: entries 0..{receipt.index - 1} stay format 1; entry {receipt.index} records the migration; "
                  f"checkpoint of size {receipt.head.size}", markup=False)


@ledger_app.command("witness-key")
def witness_key(
    key: Path = typer.Argument(..., help="A public (or private) key PEM of a witness or of a ledger."),
    name: str = typer.Option(..., "--name", help="The key name: the witness's name (e.g. changsha.gov.cn/govcloud-witness) or the ledger's origin."),
    log: bool = typer.Option(False, "--log", help="A ledger's checkpoint-signing key rather than a witness's cosigning key."),
) -> None:
    """Print the C2SP verifier key (vkey) to put in platform.yaml's evidence section."""
    from .. import note, signing

    with _clean_errors():
        data = _read(key)
        public = signing.parse_public_pem(data, str(key)) if b"PUBLIC KEY" in data else signing.parse_private_pem(data, str(key)).public_key
        sys.stdout.write(note.NoteKey(name, public, cosigner=not log).vkey + "\n")


@ledger_app.command("request")
def request(
    ledger: Path = LedgerDir,
    old: int = typer.Option(0, "--old", help="The size the witness last cosigned (0: never)."),
    out: Path | None = typer.Option(None, "--out", metavar="FILE", help="Write the request here instead of standard output."),
) -> None:
    """Print a tlog-witness add-checkpoint request for the latest checkpoint (for a witness elsewhere)."""
    from ..ledger import Ledger

    with _clean_errors():
        _write_text(Ledger(ledger).witness_request(old).decode("utf-8"), out)


WitnessIdOption = typer.Option(None, "--witness", help="The witness's id in platform.yaml's evidence.witnesses (with --env).")


@ledger_app.command("witness")
def witness(
    ctx: typer.Context,
    request_file: Path | None = typer.Argument(None, help="An add-checkpoint request (from `govcloud ledger request`); "
                                                          "without it, --ledger DIR is witnessed directly."),
    ledger: Path | None = typer.Option(None, "--ledger", "-l", help="Witness this ledger's latest checkpoint and keep the cosignature in it."),
    key: str = typer.Option(..., "--key", "-k", help="The witness's private key: a PEM file or env:NAME."),
    state: Path = typer.Option(..., "--state", help="The witness's own state directory (last cosigned checkpoint per log)."),
    env: str | None = EnvOption,
    witness_id: str | None = WitnessIdOption,
    name: str | None = typer.Option(None, "--name", help="The witness's key name (without --env)."),
    log_key: list[str] = typer.Option([], "--log-key", help="ORIGIN=PUBLIC.pem of a log witnessed (without --env; repeatable)."),
    out: Path | None = typer.Option(None, "--out", metavar="FILE", help="Write the response (cosignature lines) here."),
) -> None:
    """Cosign a checkpoint after checking its signature and that the log only grew since the
    checkpoint this witness cosigned last (C2SP tlog-witness and tlog-cosignature). Refusals
    (a fork, a smaller tree, a bad signature, an unknown log) exit 1 with the reason."""
    from .. import signing
    from ..ledger import Ledger, LedgerError
    from ..ledger import witness as witnessing

    with _clean_errors():
        private = signing.load_private_key(key)
        if witness_id is not None:
            witness_name, logs = witnessing.model_witness(load(ctx, env), witness_id)
        else:
            if not name or not log_key:
                raise LedgerError("give --env ENV --witness ID (the model's witness), or --name NAME and --log-key ORIGIN=PUB.pem")
            witness_name, logs = name, {}
            for pair in log_key:
                origin, sep, path = pair.partition("=")
                if not sep:
                    raise LedgerError(f"--log-key {pair!r}: expected ORIGIN=PUBLIC.pem")
                logs[origin] = signing.load_public_key(Path(path))
        party = witnessing.Witness(state, witness_name, private, logs)
        if request_file is not None:
            _write_text(party.add_checkpoint(_read_request(request_file)).decode("utf-8"), out)
            return
        if ledger is None:
            raise LedgerError("give a request file or --ledger DIR")
        cosigned = witnessing.witness_latest(Ledger(ledger), party.note_key, party.add_checkpoint)
    console.print(f"cosigned checkpoint of size {cosigned.size} of {cosigned.log_id} as {witness_name}", markup=False)


def _read_request(path: Path) -> bytes:
    from ..ledger import LedgerError

    try:
        data = read_regular(path, 1 << 20)
    except OSError as exc:
        raise LedgerError(f"{path}: cannot read the request ({exc.strerror})") from None
    if len(data) > 1 << 20:
        raise LedgerError(f"{path}: too large for an add-checkpoint request")
    return data


@ledger_app.command("cosign")
def cosign(
    ctx: typer.Context,
    response: Path = typer.Argument(..., help="A witness's response (cosignature lines) to `govcloud ledger request`."),
    ledger: Path = LedgerDir,
    env: str | None = EnvOption,
    witness_id: str = typer.Option(..., "--witness", help="The witness's id in platform.yaml's evidence.witnesses."),
) -> None:
    """Keep a witness's cosignature of the latest checkpoint in the ledger (checked with the model's key)."""
    from .. import note
    from ..ledger import Ledger, LedgerError
    from ..ledger import witness as witnessing
    from ..ledger.records import SignedCheckpoint

    with _clean_errors():
        environment = load(ctx, env)
        found = [w for w in environment.platform.evidence.witnesses if w.id == witness_id]
        if not found:
            raise LedgerError(f"no witness {witness_id} in evidence.witnesses of {environment.name}")
        log = Ledger(ledger)
        head = log.head()
        if not isinstance(head, SignedCheckpoint):
            raise LedgerError(f"{ledger}: the latest tree head is not a checkpoint")
        signatures = witnessing.parse_response(_read_request(response), note.parse_vkey(found[0].key, cosigner=True), head)
        cosigned = log.add_cosignatures(head, signatures)
    console.print(f"kept the cosignature of {witness_id} on the checkpoint of size {cosigned.size}", markup=False)


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
    from ..ledger import Ledger

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

