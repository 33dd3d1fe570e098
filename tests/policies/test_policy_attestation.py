"""Review certificates are in-toto attestations in DSSE envelopes: standard tooling (in-toto's
and securesystemslib's DSSE verification, from PyPI) checks them; SM2 stays the domestic option;
format 1 certificates still pass the gate until they expire."""

from __future__ import annotations

import base64
import copy
import hashlib
import json

import pytest
from in_toto.models.metadata import ENVELOPE_PAYLOAD_TYPE
from in_toto.models.metadata import Envelope as InTotoEnvelope
from securesystemslib.exceptions import VerificationError
from securesystemslib.signer import SSlibKey
from test_policy_review import HEALTH, NOW, Workspace

from govcloud import review, signing
from govcloud.check.run import CheckSession
from govcloud.state import StackState

from policy_helpers import PACK, plan_for


@pytest.fixture
def ws(tmp_path):
    workspace = Workspace(tmp_path)
    workspace.key("sec-liwei")
    return workspace


def sslib_key(key: signing.PrivateKey) -> SSlibKey:
    return SSlibKey(key.public_key.key_id, "ed25519", "ed25519", {"public": key.public_key.raw.hex()})


def test_certificate_verifies_with_in_toto_and_securesystemslib(ws):
    ws.issue()
    data = json.loads(ws.cert_file().read_bytes())
    envelope = InTotoEnvelope.from_dict(copy.deepcopy(data))  # from_dict rewrites the dict it is given
    assert envelope.payload_type == ENVELOPE_PAYLOAD_TYPE
    verified = envelope.verify([sslib_key(ws.keys["sec-liwei"])], 1)
    assert list(verified) == [ws.keys["sec-liwei"].public_key.key_id]
    statement = json.loads(envelope.pae()[envelope.pae().index(b"{"):])
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == review.PREDICATE_TYPE
    [subject] = statement["subject"]
    state_bytes = ws.state_file().read_bytes()
    assert subject == {"name": f"{HEALTH}/state.json", "digest": {"sha256": hashlib.sha256(state_bytes).hexdigest()}}
    assert subject["digest"]["sha256"] == StackState.load(ws.state_file()).digest().split(":")[1]
    assert statement["predicate"]["reviewer"]["account"] == "sec-liwei" and statement["predicate"]["verdict"] == "pass"
    # another key, or one changed byte of the payload, fails the standard verification too
    with pytest.raises(VerificationError):
        envelope.verify([sslib_key(signing.generate())], 1)
    data["payload"] = base64.b64encode(base64.b64decode(data["payload"]).replace(b'"pass"', b'"PASS"')).decode()
    with pytest.raises(VerificationError):
        InTotoEnvelope.from_dict(data).verify([sslib_key(ws.keys["sec-liwei"])], 1)


def test_sm2_certificates_are_dsse_too(ws):
    key = ws.key("sec-wangfang", signing.SM2)
    document = ws.issue(reviewer="sec-wangfang")
    envelope = json.loads(ws.cert_file().read_bytes())
    assert envelope["signatures"][0]["keyid"] == key.public_key.key_id
    payload = base64.b64decode(envelope["payload"])
    assert key.public_key.verify(b"DSSEv1 %d %s %d %s" % (len(ENVELOPE_PAYLOAD_TYPE), ENVELOPE_PAYLOAD_TYPE.encode(), len(payload), payload),
                                 base64.b64decode(envelope["signatures"][0]["sig"]))
    assert ws.gate()["reviewer"]["account"] == "sec-wangfang" and document["signature"]["algorithm"] == signing.SM2


def test_the_plan_is_a_second_subject(ws, tmp_path):
    from govcloud.engine.plan import Plan

    env = ws.env()
    state = StackState.load(ws.state_file())
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(plan_for(state)))
    with CheckSession(env, PACK, ws.build) as session:
        report = session.check([state], NOW.date())
    document = review.issue(env, state, report, "sec-liwei", ws.keys["sec-liwei"], NOW, plan=Plan.load(plan))
    assert document["subject"][1] == {"name": f"{HEALTH}/plan.json", "digest": {"sha256": hashlib.sha256(plan.read_bytes()).hexdigest()}}
    assert document["plan"]["digest"] == "sha256:" + document["subject"][1]["digest"]["sha256"]
    assert document["plan"]["steps"] == {"create": len(json.loads(plan.read_text())["resourcePlans"])}
    review.write(document, ws.cert_file())
    assert ws.gate()["stack"] == HEALTH


def test_format_1_certificates_still_pass_the_gate(ws):
    """A certificate as the first release wrote it (govcloud's signed JSON, the digests of then)."""
    view = ws.issue()
    env, state = ws.env(), StackState.load(ws.state_file())
    pack = {"name": view["pack"]["name"], "version": view["pack"]["version"], "digest": view["pack"]["digest"]}
    from govcloud.review import GateInputs

    enforcement = GateInputs(env, PACK, ws.trust).pack_and_enforcement[1]
    legacy = {"format": review.FORMAT, **review.bindings(env, state, pack, enforcement, version=1),
              **{k: view[k] for k in ("verdict", "results", "waivers_used", "reviewer", "issued_at", "expires_at")}}
    assert legacy["state_digest"] == state.legacy_digest() != state.digest()
    key = ws.keys["sec-liwei"]
    legacy["signature"] = {"algorithm": key.algorithm, "key_id": key.public_key.key_id,
                           "value": signing.b64(key.sign(review.signed_bytes(legacy)))}
    ws.cert_file().write_text(review.canonical(legacy), encoding="utf-8")
    assert ws.gate()["format"] == review.FORMAT
    # ... and binds what it bound: a changed state refuses it
    ws.state_file().write_text(ws.state_file().read_text().replace('"lab"', '"lab2"', 1))
    assert ws.refusals()
