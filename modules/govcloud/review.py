"""Review certificates and the deploy gate.

A security reviewer signs, for one stack, what was reviewed: the digest of the stack's desired
state, the inputs it came from (platform, tenant request), the policy pack (name, version,
code digest, effective enforcement) and its verdicts, the waivers in scope, the reviewer, the
time and an expiry. ``require_certificate`` is the deploy gate: it refuses a stack unless a
certificate signed by a trusted key of a security team member binds exactly the current state,
inputs, pack and waivers, and has not expired. Change any of them and the stack needs a new
review.

A certificate (format 2) is an in-toto attestation: a Statement v1 whose subject is the
certified desired state (``<stack>/state.json`` with the sha256 of its canonical JSON; and the
plan, when the engine path provides one) and whose predicate (type ``PREDICATE_TYPE``) is what
the review bound, in a DSSE envelope signed by the reviewer (Ed25519, or SM2/SM3 as the domestic
option; DSSE's pre-authentication encoding is what is signed). Standard tooling (DSSE and
in-toto verifiers, e.g. ``securesystemslib``) checks the Ed25519 ones. The envelope and the
statement are RFC 8785 canonical JSON, so any altered byte is caught: either the signature no
longer verifies or the file is no longer in canonical form. Format 1 certificates (govcloud's
own signed JSON) still verify until they expire.

With the engine, the certificate binds the update plan (``pulumi preview --save-plan``) made
from that desired state: its second subject is the plan file by digest, and the predicate's
``plan`` says what it does (steps by kind, the resources that change). ``issue`` certifies a
plan only when it matches the desired state resource by resource
(``govcloud.engine.plan.problems``), and the gate lets ``pulumi up --plan`` run only with the very
plan file the certificate names. The engine's own guard then refuses any step or input the plan
does not allow, so what is applied is what was reviewed. A plan that changes nothing needs no
certificate (``ReviewGate``): the engine can apply nothing with it.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import signing
from .canonical import JsonProblem, encode, load_json, parse_utc, utc
from .canonical import digest as canonical_digest
from .check.results import CheckReport
from .model import Environment, InputError, Waiver
from .model.loader import PLATFORM_FILE, TENANTS_DIR
from .policy.catalog import PACK_NAME
from .state import StackState
from .text import plural

if TYPE_CHECKING:
    from .engine.plan import Plan

FORMAT = "govcloud.review-certificate/v1"
FORMAT_V2 = "govcloud.review-certificate/v2"  # the view of a DSSE certificate (``read_certificate``)
SIGNED_PREFIX = FORMAT.encode() + b"\n"
CERT_SUFFIX = ".cert.json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
PREDICATE_TYPE = "https://govcloud.gov.cn/attestations/review-certificate/v2"


class ReviewError(Exception):
    """The review cannot be made (bad input): reviewer, key or stack."""


class GateRefused(Exception):
    """The stack may not be deployed; ``reasons`` says every reason found."""

    def __init__(self, stack: str, reasons: list[str]):
        super().__init__(f"{stack}: " + "; ".join(reasons))
        self.stack = stack
        self.reasons = reasons


# --- canonical forms ---------------------------------------------------------------------------
def canonical(document: dict[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, ensure_ascii=False, indent=2, separators=(",", ": ")) + "\n"


def signed_bytes(document: dict[str, Any]) -> bytes:
    body = {k: v for k, v in document.items() if k != "signature"}
    return SIGNED_PREFIX + json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _legacy_digest(data: Any) -> str:
    """The digest format 1 certificates used (compact ``json.dumps``)."""
    return "sha256:" + hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding: what the envelope's signatures sign."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def certificate_path(reviews: Path, env: str, stack: str) -> Path:
    return reviews / env / f"{stack}{CERT_SUFFIX}"


# --- what a certificate binds ------------------------------------------------------------------
def waivers_in_scope(env: Environment, state: StackState) -> list[Waiver]:
    """Waivers that could touch this stack: by tenant, by stack, or by a URN pattern matching one of its resources."""
    found = []
    for waiver in env.waivers:
        scope = waiver.scope
        if scope.tenant is not None or scope.stack is not None:
            if scope.matches(stack=state.stack, tenant=state.tenant, urn=""):
                found.append(waiver)
        elif any(scope.matches(stack=state.stack, tenant=state.tenant, urn=r.urn) for r in state.resources):
            found.append(waiver)
    return sorted(found, key=lambda w: w.id)


def waiver_record(waiver: Waiver) -> dict[str, Any]:
    return waiver.model_dump(mode="json", exclude_none=True)


def input_digests(env: Environment, state: StackState) -> dict[str, str]:
    digests = {"platform": "sha256:" + env.sources[PLATFORM_FILE]}
    if state.tenant is not None:
        digests["request"] = "sha256:" + env.sources[f"{TENANTS_DIR}/{state.tenant}.yaml"]
    return digests


def bindings(env: Environment, state: StackState, pack: dict[str, str], enforcement: dict[str, str], version: int = 2,
             plan: "Plan | None" = None) -> dict[str, Any]:
    """Everything the verdict depends on, in the form the certificate records and the gate
    recomputes (``version`` 1: the digests format 1 certificates used; ``plan``: the engine's
    update plan made from ``state``)."""
    digest = canonical_digest if version == 2 else _legacy_digest
    scoped = [waiver_record(w) for w in waivers_in_scope(env, state)]
    bound = {
        "env": env.name,
        "stack": state.stack,
        "kind": state.kind,
        "tenant": state.tenant,
        "state_digest": state.digest() if version == 2 else state.legacy_digest(),
        "inputs": input_digests(env, state),
        "pack": {"name": pack["name"], "version": pack["version"], "digest": pack["digest"],
                 "enforcement_digest": digest(enforcement)},
        "waivers_in_scope": {"digest": digest(scoped), "waivers": scoped},
    }
    if plan is not None:
        bound["plan"] = {"digest": plan.digest, **plan.summary()}
    return bound


# --- issuing ----------------------------------------------------------------------------------
def issue(env: Environment, state: StackState, report: CheckReport, reviewer: str, key: signing.PrivateKey,
          now: dt.datetime, plan: "Plan | None" = None) -> dict[str, Any]:
    """A signed certificate for ``state`` (and ``plan``, the engine's saved plan made from it,
    when given): the view ``read_certificate`` gives of it, its DSSE envelope under
    ``envelope``; raises ReviewError when it cannot be issued (a plan that was not made from
    ``state`` among the reasons)."""
    from .engine.plan import problems as plan_problems

    team = {p.account: p.name for p in env.platform.policy.security_team}
    if reviewer not in team:
        raise ReviewError(f"{reviewer} is not a member of the security team ({', '.join(sorted(team))})")
    if plan is not None:
        differences = plan_problems(plan, state)
        if differences:
            shown = "; ".join(differences[:5]) + (f"; and {len(differences) - 5} more" if len(differences) > 5 else "")
            raise ReviewError(f"the plan {plan.path} was not made from the desired state of {state.stack}: {shown}")
    [stack_report] = [s for s in report.stacks if s.stack == state.stack]
    if stack_report.blocking:
        raise ReviewError(f"{state.stack} fails {plural(stack_report.blocking, 'mandatory rule')} unwaived; it cannot be certified")
    enforcement = {rule["id"]: rule["enforcement"] for rule in report.rules}
    issued = now.astimezone(dt.timezone.utc).replace(microsecond=0)
    expires = issued + dt.timedelta(days=env.platform.policy.certificate_validity_days)
    used = sorted({r.waiver.id for r in stack_report.results if r.waiver is not None})
    by_id = {w.id: w for w in env.waivers}
    for waiver_id in used:
        # A certificate cannot outlive a waiver it relies on: the waiver stops applying after its expiry day.
        end = dt.datetime.combine(by_id[waiver_id].expires + dt.timedelta(days=1), dt.time(), tzinfo=dt.timezone.utc)
        expires = min(expires, end)
    predicate = {
        **bindings(env, state, report.pack, enforcement, plan=plan),
        "verdict": "pass",
        "results": {
            "today": report.today,
            "counts": stack_report.counts,
            "results": [r.as_dict() for r in stack_report.results],
        },
        "waivers_used": [waiver_record(by_id[w]) for w in used],
        "reviewer": {"account": reviewer, "name": team[reviewer]},
        "issued_at": utc(issued),
        "expires_at": utc(expires),
    }
    subject = [{"name": f"{state.stack}/state.json", "digest": {"sha256": predicate["state_digest"].split(":", 1)[1]}}]
    if plan is not None:
        subject.append({"name": f"{state.stack}/plan.json", "digest": {"sha256": plan.digest.split(":", 1)[1]}})
    statement = {"_type": STATEMENT_TYPE, "subject": subject, "predicateType": PREDICATE_TYPE, "predicate": predicate}
    payload = encode(statement)
    envelope = {"payload": signing.b64(payload), "payloadType": PAYLOAD_TYPE,
                "signatures": [{"keyid": key.public_key.key_id, "sig": signing.b64(key.sign(pae(PAYLOAD_TYPE, payload)))}]}
    return _view(envelope, statement)


def _view(envelope: dict[str, Any], statement: dict[str, Any]) -> dict[str, Any]:
    """The fields the gate and the commands read, the same for both formats."""
    keyid = envelope["signatures"][0]["keyid"]
    return {"format": FORMAT_V2, **statement["predicate"], "subject": statement["subject"],
            "signature": {"algorithm": keyid.split(":", 1)[0], "key_id": keyid}, "envelope": envelope}


def file_bytes(document: dict[str, Any]) -> bytes:
    """What a certificate's file holds: the canonical envelope (format 2) or the canonical JSON (format 1)."""
    if document.get("format") == FORMAT_V2:
        return encode(document["envelope"]) + b"\n"
    return canonical(document).encode("utf-8")


def write(document: dict[str, Any], path: Path) -> Path:
    from .inventory_io import write_atomic

    write_atomic(path, file_bytes(document).decode("utf-8"))
    return path


# --- trust ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrustedKey:
    owner: str  # security team account, from the file name <account>.pem or <account>.pub.pem
    key: signing.PublicKey


def load_trust_store(directory: Path) -> dict[str, TrustedKey]:
    """Trusted public keys by key id; a file's name says whose key it is."""
    if not directory.is_dir():
        raise signing.KeyProblem(f"{directory}: no such directory of trusted public keys")
    trusted = {}
    for path in sorted(directory.glob("*.pem")):
        owner = path.name[: -len(".pem")]
        owner = owner[: -len(".pub")] if owner.endswith(".pub") else owner
        key = signing.load_public_key(path)
        trusted[key.key_id] = TrustedKey(owner, key)
    return trusted


def trust_problem(directory: Path, reviewer: str, public: signing.PublicKey) -> str | None:
    """Why a certificate signed now by ``reviewer`` with ``public`` would fail verification
    against the trust store in ``directory``; None when it would pass that check."""
    try:
        trust = load_trust_store(directory)
    except signing.KeyProblem as problem:
        return str(problem)
    trusted = trust.get(public.key_id)
    if trusted is None:
        return (f"key {public.key_id} is not in the trust store {directory}: add the public key as "
                f"{directory / (reviewer + '.pub.pem')} (`govcloud keys show KEY`), or `review verify` and the deploy gate refuse the certificate")
    if trusted.owner != reviewer:
        return f"key {public.key_id} is {trusted.owner}'s in the trust store {directory}, not {reviewer}'s: the certificate would be refused"
    return None


# --- verification -----------------------------------------------------------------------------
_STR = {"type": "string"}
_STRINGS = {"type": "object", "additionalProperties": _STR}
_OBJECTS = {"type": "array", "items": {"type": "object"}}


def _exact(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": sorted(properties), "additionalProperties": False}


def _review_shape(digest: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
    """What both certificate formats say of a review: ``digest`` is the JSON type of a digest,
    ``inputs`` the type of the input files' list (v1) or map (in-toto predicate)."""
    return {
        "env": _STR, "stack": _STR, "kind": _STR, "tenant": {"type": ["string", "null"]},
        "state_digest": digest, "inputs": inputs,
        "pack": _exact({"name": _STR, "version": _STR, "digest": digest, "enforcement_digest": digest}),
        "waivers_in_scope": _exact({"digest": digest, "waivers": _OBJECTS}),
        "verdict": _STR,
        "results": _exact({"today": _STR, "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
                           "results": _OBJECTS}),
        "waivers_used": _OBJECTS,
        "reviewer": _exact({"account": _STR, "name": _STR}),
        "issued_at": _STR, "expires_at": _STR,
    }


# The shape of a v1 certificate: every key and its JSON type, nothing else (unknown keys are
# refused everywhere, the unsigned signature object included).
V1_SHAPE = _exact({
    "format": {"const": FORMAT}, **_review_shape(_STR, _STRINGS),
    "signature": _exact({"algorithm": _STR, "key_id": _STR, "value": _STR}),
})


_DIGEST = {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$"}
PREDICATE_SHAPE = _exact(_review_shape(_DIGEST, {"type": "object", "additionalProperties": _DIGEST}))
# The engine's update plan the certificate binds (its digest is the statement's second subject).
PREDICATE_SHAPE["properties"]["plan"] = _exact({
    "digest": _DIGEST, "steps": {"type": "object", "additionalProperties": {"type": "integer"}},
    "changes": {"type": "array", "items": _exact({"urn": _STR, "steps": {"type": "array", "items": _STR}})},
})
STATEMENT_SHAPE = _exact({
    "_type": {"const": STATEMENT_TYPE},
    "subject": {"type": "array", "minItems": 1, "maxItems": 2,
                "items": _exact({"name": _STR, "digest": _exact({"sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"}})})},
    "predicateType": {"const": PREDICATE_TYPE},
    "predicate": PREDICATE_SHAPE,
})
ENVELOPE_SHAPE = _exact({
    "payload": _STR, "payloadType": {"const": PAYLOAD_TYPE},
    "signatures": {"type": "array", "minItems": 1, "maxItems": 1, "items": _exact({"keyid": _STR, "sig": _STR})},
})


class MalformedCertificate(ValueError):
    """A certificate that is not one: wrong JSON types, unknown or missing keys (exit 2)."""


def shape_problem(document: Any, schema: dict[str, Any] = V1_SHAPE) -> str | None:
    """The first way ``document`` departs from the certificate format, as one line (None: well formed)."""
    import jsonschema

    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(document))
    if error is None:
        return None
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".") or "(document)"
    return f"{where}: {error.message}"


def read_certificate(path: Path) -> tuple[dict[str, Any] | None, list[str]]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [f"cannot read {path} ({exc.strerror})"]
    try:
        document = load_json(raw, "the certificate")
    except JsonProblem as problem:
        return None, [str(problem)]
    if not isinstance(document, dict):
        return None, ["the certificate is not a JSON object"]
    if "payloadType" in document or "payload" in document:
        return _read_envelope(path, document, raw)
    if document.get("format") != FORMAT:
        # Neither a DSSE envelope nor a certificate of the first format: not a certificate at all.
        raise MalformedCertificate(f"{path}: not a review certificate (neither a DSSE envelope nor a {FORMAT} document)")
    shape = shape_problem(document)
    if shape:
        raise MalformedCertificate(f"{path}: not a well-formed certificate: {shape}")
    if canonical(document).encode("utf-8") != raw:
        return document, ["the certificate is not in canonical form: altered after signing"]
    return document, []


def _read_envelope(path: Path, envelope: dict[str, Any], raw: bytes) -> tuple[dict[str, Any] | None, list[str]]:
    problem = shape_problem(envelope, ENVELOPE_SHAPE)
    if problem:
        raise MalformedCertificate(f"{path}: not a well-formed certificate envelope: {problem}")
    payload = signing.unb64(envelope["payload"])
    if not payload:
        raise MalformedCertificate(f"{path}: not a well-formed certificate envelope: payload: not canonical base64")
    try:
        statement = load_json(payload, "the certificate's statement")
    except JsonProblem as unreadable:
        raise MalformedCertificate(f"{path}: {unreadable}") from None
    wrong = shape_problem(statement, STATEMENT_SHAPE)
    if wrong:
        raise MalformedCertificate(f"{path}: not a well-formed certificate statement: {wrong}")
    problems = []
    if encode(envelope) + b"\n" != raw or encode(statement) != payload:
        problems.append("the certificate is not in canonical form: altered after signing")
    state_subject = statement["subject"][0]
    if state_subject["name"] != f"{statement['predicate']['stack']}/state.json" or \
            "sha256:" + state_subject["digest"]["sha256"] != statement["predicate"]["state_digest"]:
        problems.append("the statement's subject is not the desired state the predicate names")
    plan = statement["predicate"].get("plan")
    plan_subjects = statement["subject"][1:]
    if (plan is None) != (not plan_subjects) or (plan is not None and (
            plan_subjects[0]["name"] != f"{statement['predicate']['stack']}/plan.json"
            or "sha256:" + plan_subjects[0]["digest"]["sha256"] != plan["digest"])):
        problems.append("the statement's subjects are not the desired state and plan the predicate names")
    return _view(envelope, statement), problems


def _signature_problem(document: dict[str, Any], trusted: TrustedKey) -> bool:
    """True when the signature does not verify with ``trusted``."""
    if document.get("format") == FORMAT_V2:
        envelope = document["envelope"]
        payload = signing.unb64(envelope["payload"])
        signature = signing.unb64(envelope["signatures"][0]["sig"])
        return not (signature and trusted.key.verify(pae(envelope["payloadType"], payload), signature))
    signature = document["signature"]
    return trusted.key.algorithm != signature.get("algorithm") or not trusted.key.verify(
        signed_bytes(document), signing.unb64(str(signature.get("value", ""))))


def verify_document(document: dict[str, Any], trust: dict[str, TrustedKey], security_team: set[str] | None,
                    now: dt.datetime) -> list[str]:
    """Signature, signer, reviewer and validity period; every problem found."""
    problems = []
    if document.get("format") not in (FORMAT, FORMAT_V2):
        return [f"not a {FORMAT_V2} or {FORMAT} document"]
    signature = document.get("signature")
    if not isinstance(signature, dict):
        return ["the certificate is not signed"]
    trusted = trust.get(str(signature.get("key_id")))
    if trusted is None:
        problems.append(f"signed by key {signature.get('key_id')}, which is not in the trust store")
    elif _signature_problem(document, trusted):
        problems.append("the signature does not match the certificate: altered, or signed by another key")
    reviewer = str((document.get("reviewer") or {}).get("account"))
    if trusted is not None and trusted.owner != reviewer:
        problems.append(f"signed with {trusted.owner}'s key but names {reviewer} as reviewer")
    if security_team is not None and reviewer not in security_team:
        problems.append(f"reviewer {reviewer} is not a member of the security team")
    try:
        issued, expires = parse_utc(str(document.get("issued_at"))), parse_utc(str(document.get("expires_at")))
    except ValueError:
        problems.append("issued_at/expires_at are not UTC timestamps")
    else:
        if now < issued:
            problems.append(f"issued in the future ({document['issued_at']})")
        if now >= expires:
            problems.append(f"expired at {document['expires_at']}")
    if document.get("verdict") != "pass":
        problems.append("the certificate does not record a passing verdict")
    return problems


def binding_problems(document: dict[str, Any], current: dict[str, Any]) -> list[str]:
    problems = []
    if document.get("state_digest") != current["state_digest"]:
        problems.append("the desired state changed since the review (state digest differs)")
    recorded_inputs = document.get("inputs") or {}
    for name, digest in current["inputs"].items():
        if recorded_inputs.get(name) != digest:
            problems.append("the tenant request changed since the review" if name == "request" else f"the {name} changed since the review")
    recorded_pack = document.get("pack") or {}
    for field in ("name", "version", "digest"):
        if recorded_pack.get(field) != current["pack"][field]:
            problems.append(f"the policy pack changed since the review ({field})")
    if recorded_pack.get("enforcement_digest") != current["pack"]["enforcement_digest"]:
        problems.append("the rules' enforcement changed since the review")
    if (document.get("waivers_in_scope") or {}).get("digest") != current["waivers_in_scope"]["digest"]:
        problems.append("the waivers in scope of this stack changed since the review")
    if "plan" in current:
        recorded_plan = document.get("plan")
        if recorded_plan is None:
            problems.append("the certificate binds no update plan: review the plan of `govcloud deploy --preview` first")
        elif recorded_plan.get("digest") != current["plan"]["digest"]:
            problems.append("the update plan is not the one reviewed (plan digest differs): a new preview needs a new review")
    for field in ("env", "stack", "kind", "tenant"):
        if document.get(field) != current[field]:
            problems.append(f"the certificate is for {field} {document.get(field)!r}, not {current[field]!r}")
    return problems


def state_problems(path: Path) -> tuple[StackState | None, list[str]]:
    """The current desired state, refused when its file was edited by hand (not canonical)."""
    try:
        raw = path.read_bytes()
        state = StackState.from_dict(load_json(raw, str(path)))
    except OSError:
        return None, [f"no rendered desired state at {path}"]
    except (KeyError, TypeError, ValueError, AttributeError):  # JsonProblem is a ValueError
        return None, [f"{path} is not a readable desired state: altered or damaged"]
    if state.to_json().encode("utf-8") != raw:
        return state, [f"{path} is not in canonical form: edited after render"]
    return state, []


class GateInputs:
    """What every stack of one deployment is compared with (the trust store, the pack and the
    enforcement levels), read from the files as they are now, once, and only when first needed."""

    def __init__(self, env: Environment, pack_dir: Path, trust_store: Path):
        self.env, self.pack_dir, self.trust_store = env, pack_dir, trust_store

    @functools.cached_property
    def trust(self) -> tuple[dict[str, TrustedKey], str | None]:
        try:
            return load_trust_store(self.trust_store), None
        except signing.KeyProblem as problem:
            return {}, str(problem)

    @functools.cached_property
    def pack_and_enforcement(self) -> tuple[dict[str, str], dict[str, str]]:
        from .check.analyzer import pack_metadata
        from .policy.catalog import pack_digest, rules
        from .policy.config import enforcement_problems

        problems = enforcement_problems(self.env)
        if problems:
            raise InputError(problems)
        overrides = self.env.platform.policy.enforcement
        enforcement = {r.id: overrides.get(r.id, r.enforcement) for r in rules()}
        pack = {"name": PACK_NAME, "version": str(pack_metadata(self.pack_dir).get("version", "")),
                "digest": pack_digest(self.pack_dir)}
        return pack, enforcement

    def bindings(self, state: StackState, version: int = 2, plan: "Plan | None" = None) -> dict[str, Any]:
        """What the gate compares a certificate (of format ``version``) with."""
        return bindings(self.env, state, *self.pack_and_enforcement, version=version, plan=plan)


def require_certificate(
    env: Environment,
    stack: str,
    *,
    state_file: Path,
    certificate: Path,
    trust_store: Path,
    pack_dir: Path,
    now: dt.datetime | None = None,
    inputs: GateInputs | None = None,
    plan_file: Path | None = None,
) -> dict[str, Any]:
    """The deploy gate. Returns the certificate when the stack may be deployed, else raises GateRefused.
    ``inputs`` shares the trust store and pack bindings between the stacks of one deployment.
    With ``plan_file`` (the plan `pulumi up --plan` will run) the certificate must bind exactly it."""
    from .engine.plan import Plan, PlanError

    now = now or dt.datetime.now(dt.timezone.utc)
    inputs = inputs or GateInputs(env, pack_dir, trust_store)
    reasons: list[str] = []
    try:
        document, found = read_certificate(certificate) if certificate.is_file() else (None, [f"no review certificate at {certificate}; run `govcloud review`"])
    except MalformedCertificate as malformed:
        document, found = None, [str(malformed)]
    reasons += found
    state, found = state_problems(state_file)
    reasons += found
    plan = None
    if plan_file is not None:
        try:
            plan = Plan.load(plan_file)
        except PlanError as unusable:
            reasons.append(f"no usable update plan: {unusable}" if plan_file.exists() else
                           f"no update plan at {plan_file}; run `govcloud deploy --preview` and have it reviewed")
    if document is not None:
        trust, problem = inputs.trust
        if problem:
            reasons.append(problem)
        reasons += verify_document(document, trust, {p.account for p in env.platform.policy.security_team}, now)
        if state is not None:
            if state.stack != stack:
                reasons.append(f"{state_file} holds stack {state.stack}, not {stack}")
            else:
                current = inputs.bindings(state, 2 if document["format"] == FORMAT_V2 else 1, plan)
                if plan_file is not None and plan is None:
                    current["plan"] = {"digest": None}
                reasons += binding_problems(document, current)
    if reasons:
        raise GateRefused(stack, reasons)
    assert document is not None
    return document


@dataclass
class ReviewGate:
    """The deploy gate for one deployment: renders the stacks to deploy afresh (the *current*
    desired state, from today's model and program) and lets a stack through only with a valid
    certificate for exactly that state."""

    env: Environment
    inventories: Path
    render_dir: Path  # where the fresh render goes (not the reviewed build/render)
    reviews: Path
    trust_store: Path
    pack_dir: Path
    now: dt.datetime | None = None
    plans: Path | None = None  # <plans>/<env>/<stack>.plan.json: the plans `pulumi up --plan` runs
    _refused: dict[str, list[str]] | None = None
    _inputs: GateInputs | None = None

    def prepare(self, stacks: list, results: list | None = None) -> None:
        """Render the stacks about to be deployed into ``render_dir`` (or take ``results`` of such
        a render); a stack that fails to render is refused."""
        from .render import pipeline

        self._refused = {}
        self._inputs = GateInputs(self.env, self.pack_dir, self.trust_store)
        if results is None:
            results = pipeline.render(self.env, self.inventories, self.render_dir, only=[s.name for s in stacks])
        for result in results:
            if not result.ok:
                self._refused[result.stack] = [f"the current desired state does not render: {e}" for e in result.errors]

    def __call__(self, stack) -> dict[str, Any]:
        """The certificate that lets ``stack`` through; raises GateRefused otherwise.

        A plan that changes nothing (every step ``same`` or a read) needs no certificate: run
        with ``pulumi up --plan``, the engine refuses every change it does not list, so such a
        plan can apply nothing; the gate answers ``{"no_changes": True, "plan": ...}`` for it."""
        if self._refused is None:
            raise GateRefused(stack.name, ["the gate was not prepared: nothing was rendered to compare with"])
        plan_file = self.plan_file(stack.name)
        if plan_file is not None and plan_file.is_file():
            from .engine.plan import Plan, PlanError

            try:
                plan = Plan.load(plan_file)
            except PlanError as problem:
                raise GateRefused(stack.name, [f"no usable update plan: {problem}"]) from None
            if not plan.has_changes():
                return {"no_changes": True, "plan": {"digest": plan.digest}}
        if stack.name in self._refused:
            raise GateRefused(stack.name, self._refused[stack.name])
        from .state import STATE_FILE

        return require_certificate(
            self.env, stack.name, state_file=self.render_dir / stack.name / STATE_FILE,
            certificate=certificate_path(self.reviews, self.env.name, stack.name),
            trust_store=self.trust_store, pack_dir=self.pack_dir, now=self.now, inputs=self._inputs,
            plan_file=self.plan_file(stack.name),
        )

    def plan_file(self, stack: str) -> Path | None:
        from .engine.plan import plan_path

        return plan_path(self.plans, self.env.name, stack) if self.plans is not None else None
