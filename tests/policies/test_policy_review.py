"""Review certificates and the deploy gate: issue, verify, and refuse on any change, any
altered byte, a wrong or untrusted key, an expired certificate."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from budget import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govcloud import labels, review, signing
from govcloud.canonical import encode
from govcloud.check.run import CheckSession
from govcloud.cli import main
from govcloud.model import load_environment

from policy_builders import all_states, edit
from policy_helpers import PACK, copy_lab, patch_yaml

NOW = dt.datetime(2026, 11, 25, 9, 30, tzinfo=dt.timezone.utc)
HEALTH = "lab.t-430100-health"


class Workspace:
    """A lab copy with rendered states, a trust store and keys made outside the repository."""

    def __init__(self, root: Path):
        self.root = root
        self.inventories = root / "inventories"
        copy_lab(root)
        self.build = root / "build"
        self.reviews = root / "reviews"
        self.trust = root / "trust"
        self.trust.mkdir()
        self.keys: dict[str, signing.PrivateKey] = {}
        self.render()

    def env(self):
        return load_environment("lab", self.inventories)

    def render(self, states=None) -> None:
        for state in states or all_states(self.env()):
            state.save(self.build / "render" / "lab" / state.stack)

    def key(self, owner: str, algorithm: str = signing.ED25519, trusted: bool = True) -> signing.PrivateKey:
        key = signing.generate(algorithm)
        if trusted:
            (self.trust / f"{owner}.pub.pem").write_text(key.public_key.to_pem(), encoding="utf-8")
        self.keys[owner] = key
        return key

    def state_file(self, stack: str = HEALTH) -> Path:
        return self.build / "render" / "lab" / stack / "state.json"

    def cert_file(self, stack: str = HEALTH) -> Path:
        return review.certificate_path(self.reviews, "lab", stack)

    def issue(self, stack: str = HEALTH, reviewer: str = "sec-liwei", key: signing.PrivateKey | None = None, now=NOW) -> dict:
        env = self.env()
        from govcloud.state import StackState

        state = StackState.load(self.state_file(stack))
        with CheckSession(env, PACK, self.build / "render" / "lab") as session:
            report = session.check([state], now.date())
        document = review.issue(env, state, report, reviewer, key or self.keys[reviewer], now)
        review.write(document, self.cert_file(stack))
        return document

    def gate(self, stack: str = HEALTH, now=NOW + dt.timedelta(hours=1), pack: Path = PACK) -> dict:
        return review.require_certificate(self.env(), stack, state_file=self.state_file(stack), certificate=self.cert_file(stack),
                                          trust_store=self.trust, pack_dir=pack, now=now)

    def refusals(self, **kwargs) -> list[str]:
        with pytest.raises(review.GateRefused) as refused:
            self.gate(**kwargs)
        return refused.value.reasons


@pytest.fixture
def ws(tmp_path, monkeypatch):
    # The commands' default plans directory is the working directory's build/plans: a developer's
    # own (after make demo) must not be what these tests review against.
    monkeypatch.setenv("GOVCLOUD_PLANS", str(tmp_path / "build" / "plans"))
    workspace = Workspace(tmp_path)
    workspace.key("sec-liwei")
    return workspace


@pytest.fixture(scope="module")
def certified(tmp_path_factory):
    """One certified workspace shared by the byte-flipping property tests."""
    workspace = Workspace(tmp_path_factory.mktemp("certified"))
    workspace.key("sec-liwei")
    document = workspace.issue()
    return workspace, document


def test_certificate_binds_state_inputs_pack_results_and_reviewer(ws):
    document = ws.issue()
    assert document["state_digest"].startswith("sha256:") and document["inputs"]["request"].startswith("sha256:")
    assert document["pack"]["name"] == "govcloud" and document["pack"]["version"] == "1.0.0"
    assert document["results"]["counts"]["failed"] == 0 and document["results"]["counts"]["passed"] > 50
    assert document["reviewer"] == {"account": "sec-liwei", "name": "李伟"}
    assert (document["issued_at"], document["expires_at"]) == ("2026-11-25T09:30:00Z", "2026-12-25T09:30:00Z")
    assert document["signature"]["algorithm"] == "ed25519"
    assert ws.gate()["state_digest"] == document["state_digest"]


def test_sm2_certificates_verify_with_the_domestic_key(ws):
    ws.key("sec-wangfang", signing.SM2)
    document = ws.issue(reviewer="sec-wangfang")
    assert document["signature"]["algorithm"] == signing.SM2
    assert ws.gate()["reviewer"]["account"] == "sec-wangfang"


# --- any altered byte ------------------------------------------------------------------------
def flip_one_byte(data, source: Path, target: Path) -> int:
    """Copy ``source`` to ``target`` with one byte (drawn by hypothesis) changed; returns its position."""
    raw = source.read_bytes()
    position = data.draw(st.integers(0, len(raw) - 1), label="position")
    mask = data.draw(st.integers(1, 255), label="xor")
    target.write_bytes(raw[:position] + bytes([raw[position] ^ mask]) + raw[position + 1 :])
    return position


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_altered_byte_of_the_certificate_is_detected(certified, data):
    workspace, _ = certified
    altered = workspace.root / "altered.cert.json"
    position = flip_one_byte(data, workspace.cert_file(), altered)
    try:
        document, problems = review.read_certificate(altered)
    except review.MalformedCertificate as malformed:
        document, problems = None, [str(malformed)]
    if document is not None and not problems:
        problems = review.verify_document(document, review.load_trust_store(workspace.trust), {"sec-liwei"}, NOW)
    assert problems, f"flipping byte {position} went unnoticed"


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_altered_byte_of_the_state_is_detected(certified, data):
    workspace, document = certified
    altered = workspace.root / "altered-state.json"
    position = flip_one_byte(data, workspace.state_file(), altered)
    state, problems = review.state_problems(altered)
    assert problems or state.digest() != document["state_digest"], f"flipping byte {position} of the state went unnoticed"


def test_gate_names_a_hand_edited_state(ws):
    ws.issue()
    path = ws.state_file()
    path.write_text(path.read_text(encoding="utf-8").replace('"pods":"', '"pods": "', 1), encoding="utf-8")
    assert any("not in canonical form" in r for r in ws.refusals())


def test_gate_refuses_a_changed_desired_state(ws):
    ws.issue()
    from govcloud.state import StackState

    state = edit(StackState.load(ws.state_file()), "Namespace", "t-430100-health-app",
                 lambda i: i["metadata"]["annotations"].update({labels.CHANGE_REASON: "改了"}))
    ws.render([state])
    assert ws.refusals() == ["the desired state changed since the review (state digest differs)"]


# --- keys -----------------------------------------------------------------------------------
def test_untrusted_key_is_rejected(ws):
    stranger = ws.key("sec-liwei-laptop", trusted=False)
    ws.issue(key=stranger)
    assert any("not in the trust store" in r for r in ws.refusals())


def test_another_members_key_is_rejected(ws):
    ws.key("sec-wangfang")
    ws.issue(reviewer="sec-liwei", key=ws.keys["sec-wangfang"])
    assert ws.refusals() == ["signed with sec-wangfang's key but names sec-liwei as reviewer"]


def test_a_re_signed_forgery_is_rejected(ws):
    envelope = ws.issue()["envelope"]
    statement = json.loads(signing.unb64(envelope["payload"]))
    statement["predicate"]["results"]["counts"]["passed"] += 1
    payload = encode(statement)
    forger = signing.generate()
    envelope = {**envelope, "payload": signing.b64(payload),
                "signatures": [{"keyid": ws.keys["sec-liwei"].public_key.key_id,
                                "sig": signing.b64(forger.sign(review.pae(review.PAYLOAD_TYPE, payload)))}]}
    ws.cert_file().write_bytes(encode(envelope) + b"\n")
    assert ws.refusals() == ["the signature does not match the certificate: altered, or signed by another key"]


def test_reviewer_outside_the_security_team_cannot_certify(ws):
    ws.key("zhang-wei")
    with pytest.raises(review.ReviewError, match="zhang-wei is not a member of the security team"):
        ws.issue(reviewer="zhang-wei")


# --- time -----------------------------------------------------------------------------------
def test_expired_certificate_is_rejected(ws):
    ws.issue()
    assert ws.gate(now=dt.datetime(2026, 12, 25, 9, 29, 59, tzinfo=dt.timezone.utc))
    assert ws.refusals(now=dt.datetime(2026, 12, 25, 9, 30, tzinfo=dt.timezone.utc)) == ["expired at 2026-12-25T09:30:00Z"]


def test_certificate_is_not_valid_before_it_was_issued(ws):
    ws.issue()
    assert ws.refusals(now=NOW - dt.timedelta(seconds=1)) == ["issued in the future (2026-11-25T09:30:00Z)"]


def test_certificate_expires_with_the_waiver_it_relies_on(ws):
    (ws.inventories / "lab" / "waivers.yaml").write_text(
        "waivers:\n  - {id: W-2026-011, rule: GOV-MGT-004, scope: {tenant: t-430100-health}, reason: 变更单补录,"
        " approver: sec-wangfang, created: 2026-11-20, expires: 2026-12-01}\n", encoding="utf-8")
    from govcloud.state import StackState

    state = edit(StackState.load(ws.state_file()), "Namespace", "t-430100-health-app",
                 lambda i: i["metadata"]["annotations"].pop(labels.CHANGE_REASON))
    ws.render([state])
    document = ws.issue()
    assert [w["id"] for w in document["waivers_used"]] == ["W-2026-011"]
    assert document["expires_at"] == "2026-12-02T00:00:00Z"
    assert ws.refusals(now=dt.datetime(2026, 12, 2, tzinfo=dt.timezone.utc)) == ["expired at 2026-12-02T00:00:00Z"]


# --- what else invalidates ------------------------------------------------------------------
def test_a_changed_request_invalidates(ws):
    ws.issue()
    request = ws.inventories / "lab" / "tenants" / "t-430100-health.yaml"
    request.write_text(request.read_text(encoding="utf-8").replace("review_by: 2027-06-30", "review_by: 2027-07-31"), encoding="utf-8")
    assert ws.refusals() == ["the tenant request changed since the review"]


@pytest.mark.parametrize("scope,invalidates", [("{stack: lab.t-430100-health}", True), ("{tenant: t-430600-edu}", False)])
def test_a_new_waiver_invalidates_only_in_scope(ws, scope, invalidates):
    ws.issue()
    (ws.inventories / "lab" / "waivers.yaml").write_text(
        f"waivers:\n  - {{id: W-2026-012, rule: GOV-SVC-003, scope: {scope}, reason: 证书更换中,"
        " approver: sec-liwei, created: 2026-11-25, expires: 2026-12-20}\n", encoding="utf-8")
    if invalidates:
        assert ws.refusals() == ["the waivers in scope of this stack changed since the review"]
    else:
        assert ws.gate()["stack"] == HEALTH


def test_a_changed_pack_invalidates(ws, tmp_path):
    ws.issue()
    pack = tmp_path / "pack"
    shutil.copytree(PACK, pack)
    main_py = pack / "__main__.py"
    main_py.write_text(main_py.read_text(encoding="utf-8") + "# one more line\n", encoding="utf-8")
    assert ws.refusals(pack=pack) == ["the policy pack changed since the review (digest)"]


def test_a_changed_enforcement_invalidates(ws):
    ws.issue()
    patch_yaml(ws.inventories / "lab" / "platform.yaml", [{"set": ["policy", "enforcement"], "value": {"GOV-TEC-002": "mandatory"}}])
    reasons = ws.refusals()
    assert "the rules' enforcement changed since the review" in reasons and "the platform changed since the review" in reasons


def test_no_certificate_no_deploy(ws):
    assert ws.refusals() == [f"no review certificate at {ws.cert_file()}; run `govcloud review`"]


def test_a_certificate_for_another_stack_is_refused(ws):
    ws.issue(stack="lab.t-430600-edu")
    shutil.copy(ws.cert_file("lab.t-430600-edu"), ws.cert_file())
    reasons = ws.refusals()
    assert "the certificate is for stack 'lab.t-430600-edu', not 'lab.t-430100-health'" in reasons


def test_a_failing_stack_cannot_be_certified(ws):
    from govcloud.state import StackState

    state = edit(StackState.load(ws.state_file()), "Namespace", "t-430100-health-app",
                 lambda i: i["metadata"]["labels"].update({labels.PSA_ENFORCE: "privileged"}))
    ws.render([state])
    with pytest.raises(review.ReviewError, match="fails 1 mandatory rule"):
        ws.issue()


# --- the commands ---------------------------------------------------------------------------
def run(capsys, *argv):
    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in argv])
    captured = capsys.readouterr()
    return exit_info.value.code or 0, captured.out + captured.err


def test_review_and_verify_commands(ws, capsys, monkeypatch):
    monkeypatch.setenv("REVIEW_KEY", ws.keys["sec-liwei"].to_pem())  # keys come from files or the environment
    common = ("--inventories", ws.inventories)
    code, out = run(capsys, *common, "review", "--env", "lab", "--stack", "t-430100-health", "--reviewer", "sec-liwei",
                    "--key", "env:REVIEW_KEY", "--render-dir", ws.build / "render" / "lab", "--reviews", ws.reviews, "--pack", PACK, "--now", "2026-11-25T09:30:00Z")
    assert code == 0 and "certified lab.t-430100-health" in out
    verify = (*common, "review", "verify", ws.cert_file(), "--trust-store", ws.trust, "--render-dir", ws.build / "render" / "lab", "--pack", PACK)
    code, out = run(capsys, *verify, "--now", "2026-11-26T00:00:00Z")
    assert code == 0 and "valid for lab.t-430100-health" in out
    code, out = run(capsys, *verify, "--now", "2027-01-01T00:00:00Z")
    assert code == 1 and "expired at 2026-12-25T09:30:00Z" in out
    code, out = run(capsys, *verify, "--now", "2026-11-26T00:00:00Z", "--output", "json")
    assert code == 0 and json.loads(out)["valid"] is True


def test_review_command_bad_input_exits_2(ws, capsys):
    common = ("--inventories", ws.inventories, "review", "--env", "lab", "--stack", "t-430100-health", "--render-dir", ws.build / "render" / "lab", "--pack", PACK)
    code, out = run(capsys, *common, "--reviewer", "sec-liwei", "--key", ws.root / "missing.key")
    assert code == 2 and "cannot read key file" in out
    code, out = run(capsys, *common, "--key", ws.root / "missing.key")
    assert code == 2 and "--reviewer" in out


def test_verify_of_an_unreadable_certificate_exits_2(ws, capsys):
    code, out = run(capsys, "review", "verify", ws.root / "nothing.cert.json")
    assert code == 2 and "no such file" in out


def test_review_warns_when_the_signing_key_is_not_in_the_trust_store(ws, capsys, monkeypatch):
    """The certificate would be refused by `review verify` and the gate: say so when it is signed."""
    outsider = signing.generate(signing.ED25519)
    monkeypatch.setenv("OUTSIDER_KEY", outsider.to_pem())
    monkeypatch.setenv("REVIEW_KEY", ws.keys["sec-liwei"].to_pem())
    common = ("--inventories", ws.inventories, "review", "--env", "lab", "-s", "t-430100-health", "--reviewer", "sec-liwei",
              "--render-dir", ws.build / "render" / "lab", "--reviews", ws.reviews, "--pack", PACK, "--trust-store", ws.trust,
              "--now", "2026-11-25T09:30:00Z")
    code, out = run(capsys, *common, "--key", "env:OUTSIDER_KEY")
    assert code == 0 and "certified lab.t-430100-health" in out
    assert f"warning: key {outsider.public_key.key_id} is not in the trust store {ws.trust}" in " ".join(out.split())
    code, out = run(capsys, *common, "--key", "env:REVIEW_KEY")
    assert code == 0 and "warning" not in out
    # Someone else's trusted key: the certificate would name the wrong reviewer.
    code, out = run(capsys, *common[:-2], "--reviewer", "sec-wangfang", "--now", "2026-11-25T09:30:00Z", "--key", "env:REVIEW_KEY")
    assert "is sec-liwei's in the trust store" in " ".join(out.split())
