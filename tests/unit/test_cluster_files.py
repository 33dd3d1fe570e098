"""The control planes' offline parts: certificates and keys, the Gateway API schemas generated
from the pinned CRDs, the drift comparison, the in-namespace command line."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from govcloud.cluster import config, gateway, pki
from govcloud.drift.compare import MISSING, field_changes, object_changes
from govcloud.lab import netns

REPO = Path(__file__).resolve().parents[2]


def test_certificates_are_made_once_and_remade_when_the_names_change(tmp_path):
    ca = pki.Authority(tmp_path, "ca", "test CA")
    pair = pki.Pair(tmp_path / "a" / "server.crt", tmp_path / "a" / "server.key")
    ca.issue(pair, "kube-apiserver", server=True, ips=("172.30.10.31",), dns=("kubernetes",))
    first = pair.cert.read_bytes()
    assert stat.S_IMODE(pair.key.stat().st_mode) == 0o600 and stat.S_IMODE(ca.pair.key.stat().st_mode) == 0o600
    ca.issue(pair, "kube-apiserver", server=True, ips=("172.30.10.31",), dns=("kubernetes",))
    assert pair.cert.read_bytes() == first  # still what is wanted: kept
    ca.issue(pair, "kube-apiserver", server=True, ips=("172.30.10.41",), dns=("kubernetes",))
    cert = x509.load_pem_x509_certificate(pair.cert.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(i) for i in names.get_values_for_type(x509.IPAddress)] == ["172.30.10.41"]
    assert cert.issuer == ca.cert.subject
    # the same CA is found again, not replaced
    assert pki.Authority(tmp_path, "ca", "test CA").cert == ca.cert


def test_client_identities_name_the_account_and_groups(tmp_path):
    ca = pki.Authority(tmp_path, "ca", "test CA")
    pair = ca.issue(pki.Pair(tmp_path / "c.crt", tmp_path / "c.key"), "zhang-wei", organizations=("team-a",), client=True)
    cert = x509.load_pem_x509_certificate(pair.cert.read_bytes())
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "zhang-wei"
    assert [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)] == ["team-a"]


def test_service_account_key_and_encryption_config_are_private(tmp_path):
    public = pki.signing_key(tmp_path / "sa.key")
    assert public.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    path = pki.encryption_config(tmp_path / "enc.yaml")
    text = path.read_text()
    assert "secretbox" in text and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert pki.encryption_config(tmp_path / "enc.yaml").read_text() == text  # made once


def test_api_server_command_line_is_hardened(tmp_path):
    files = {k: tmp_path / k for k in ("ca", "etcd_ca", "cert", "key", "etcd_cert", "etcd_key", "sa_key", "sa_pub", "admission",
                                       "audit_policy", "audit_log", "encryption")}
    argv = config.apiserver_command(Path("/x/kube-apiserver"), address="172.30.10.31", port=6443, etcd_port=2379, files=files)
    flags = dict(a.split("=", 1) for a in argv[1:])
    assert flags["--anonymous-auth"] == "false" and flags["--authorization-mode"] == "Node,RBAC"
    plugins = flags["--enable-admission-plugins"].split(",")
    for plugin in ("NamespaceLifecycle", "LimitRanger", "ServiceAccount", "PodSecurity", "ResourceQuota", "ValidatingAdmissionPolicy",
                   "NodeRestriction", "AlwaysPullImages", "DenyServiceExternalIPs", "EventRateLimit"):
        assert plugin in plugins
    assert flags["--etcd-servers"] == "https://127.0.0.1:2379" and flags["--bind-address"] == "172.30.10.31"
    assert int(flags["--audit-log-maxage"]) >= 180 and flags["--profiling"] == "false"


def test_vendored_gateway_schemas_are_generated_from_the_pinned_crds():
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "vendor-gateway-schemas"), "--check"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert gateway.version() in done.stdout


def test_crd_schema_conversion_is_strict():
    crd_schema = {"type": "object", "description": "x", "properties": {
        "port": {"x-kubernetes-int-or-string": True, "description": "p"},
        "name": {"type": "string", "nullable": True},
        "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True, "properties": {"a": {"type": "string"}}},
    }, "x-kubernetes-validations": [{"rule": "true"}]}
    assert gateway.json_schema(crd_schema) == {
        "type": "object", "additionalProperties": False,
        "properties": {"port": {"anyOf": [{"type": "integer"}, {"type": "string"}]}, "name": {"type": ["string", "null"]},
                       "free": {"type": "object", "properties": {"a": {"type": "string"}}}},
    }


def test_field_changes_compare_only_what_the_desired_state_sets():
    desired = {"spec": {"hard": {"requests.cpu": "1", "pods": "10"}, "policyTypes": ["Ingress", "Egress"]}}
    live = {"spec": {"hard": {"requests.cpu": "1000m", "pods": "10", "extra": "5"}, "policyTypes": ["Ingress", "Egress"]},
            "status": {"used": {}}}
    assert field_changes(desired, live) == []
    live["spec"]["policyTypes"] = ["Ingress"]
    live["spec"]["hard"]["pods"] = "20"
    changes = field_changes(desired, live)
    assert [(c.path, c.desired, c.live) for c in changes] == [('spec.hard.pods', "10", "20"), ("spec.policyTypes", ["Ingress", "Egress"], ["Ingress"])]
    del live["spec"]["hard"]
    assert [c.path for c in field_changes(desired, live)][0] == "spec.hard"
    assert field_changes({"metadata": {"labels": {"a.b/c": "x"}}}, {"metadata": {"labels": {}}})[0].path == 'metadata.labels["a.b/c"]'
    assert field_changes({"a": 1}, {})[0].live is MISSING
    # zero values are omitted when the API server serializes: false/0/""/empty match an absent field
    assert field_changes({"globalDefault": False, "n": 0, "s": "", "l": []}, {}) == []
    assert field_changes({"globalDefault": False}, {"globalDefault": True})[0].path == "globalDefault"


def test_secret_values_are_never_compared_or_shown():
    desired = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"password": "[secret]"}, "type": "Opaque"}
    assert object_changes(desired, {"metadata": {"name": "s"}, "data": {"password": "c2VjcmV0"}, "type": "Opaque"},
                          ("stringData.password",)) == []
    [missing] = object_changes(desired, {"metadata": {"name": "s"}, "data": {}, "type": "Opaque"}, ("stringData.password",))
    assert missing.desired == "[secret]" and missing.live is MISSING


def test_commands_run_in_the_lab_namespace():
    assert netns.command("govlab-lab-abc123", ["pulumi", "up"]) == ["nsenter", "--net=/run/netns/govlab-lab-abc123", "--", "pulumi", "up"]


def test_a_socket_maker_needs_its_namespace():
    from govcloud.lab import LabError

    with pytest.raises(LabError, match="does not exist"):
        netns.Sockets("govlab-none-000000")


def test_controller_manager_runs_only_what_a_control_plane_without_nodes_needs(tmp_path):
    argv = config.controller_manager_command(Path("/x/kube-controller-manager"),
                                             files={"kcm_kubeconfig": tmp_path / "k", "sa_key": tmp_path / "sa", "ca": tmp_path / "ca"})
    flags = dict(a.split("=", 1) for a in argv[1:])
    controllers = flags["--controllers"].split(",")
    assert "resourcequota-controller" in controllers and "serviceaccount-controller" in controllers
    assert not [c for c in controllers if c.startswith(("deployment", "replicaset", "job", "node"))]
    assert flags["--use-service-account-credentials"] == "true" and flags["--profiling"] == "false"
