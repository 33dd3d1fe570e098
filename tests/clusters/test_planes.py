"""The control planes themselves: versions, isolation, TLS identities, idempotence and repair."""

from __future__ import annotations

import os
import signal
import stat
import subprocess

import pytest
import yaml
from kubernetes.client.rest import ApiException

from govcloud.cluster import access
from govcloud.cluster.planes import _alive


def test_every_cluster_is_ready_at_its_kubernetes_version(planes):
    state = planes.status()
    assert state["up"], state
    by_id = {c["cluster"]: c for c in state["clusters"]}
    for cluster in planes.env.platform.clusters:
        version = by_id[cluster.id]["version"]
        assert version and version.startswith(f"v{cluster.kubernetes_version}."), (cluster.id, version)
        assert by_id[cluster.id]["server"] == f"https://{cluster.api.address}:{cluster.api.port}"
    # version skew stays exercised: one cluster a minor behind the others
    assert len({c.kubernetes_version for c in planes.env.platform.clusters}) > 1


def _listening(planes) -> list[str]:
    result = subprocess.run(planes.access.command(["ss", "-Hltn"]), capture_output=True, text=True, check=True)
    return [line.split()[3] for line in result.stdout.splitlines()]


def test_etcd_listens_only_on_the_namespace_loopback_and_the_api_on_its_address(planes):
    listening = _listening(planes)
    state = planes._state()["clusters"]
    for plane in planes.planes:
        port = state[plane.id]["etcd_port"]
        assert f"127.0.0.1:{port}" in listening
        assert not [a for a in listening if a.endswith(f":{port}") and not a.startswith("127.0.0.1:")]
        assert f"{plane.address}:{plane.port}" in listening
    # nothing of the lab is in the machine's own namespace
    own = subprocess.run(["ss", "-Hltn"], capture_output=True, text=True, check=True).stdout
    assert all(plane.address not in own for plane in planes.planes)


def test_identities_and_keys(planes):
    kubeconfig = yaml.safe_load(planes.kubeconfig.read_text())
    assert stat.S_IMODE(planes.kubeconfig.stat().st_mode) == 0o600
    contexts = {c["name"]: c["context"] for c in kubeconfig["contexts"]}
    for cluster in planes.env.platform.clusters:
        assert contexts[cluster.kube_context] == {"cluster": cluster.kube_context, "user": "govcloud-deployer"}
    for tenant in planes.env.tenants:
        admins = tenant.request.administrators
        context = planes.env.cluster(tenant.cluster).kube_context
        for person in (admins.system, admins.security, admins.audit):
            assert contexts[f"{person.account}@{context}"]["user"] == person.account
    # the break-glass (system:masters) identity is never handed out
    assert "break-glass" not in planes.kubeconfig.read_text()
    for key in planes.pki_dir.rglob("*.key"):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key


def test_requests_without_a_client_certificate_are_refused(planes):
    plane = planes.planes[0]
    config = access.configuration(plane.server, planes.pki_dir / "ca.crt", None, None)
    api = access.client_for(planes.namespace, config)
    try:
        from kubernetes.client import CoreV1Api

        with pytest.raises(ApiException) as refused:
            CoreV1Api(api).list_namespace()
        assert refused.value.status == 401
    finally:
        api.close()


def test_up_again_keeps_what_runs_and_repairs_what_died(planes):
    before = {cid: dict(r) for cid, r in planes._state()["clusters"].items()}
    planes.up()
    assert {cid: (r["etcd_pid"], r["apiserver_pid"]) for cid, r in planes._state()["clusters"].items()} == \
           {cid: (r["etcd_pid"], r["apiserver_pid"]) for cid, r in before.items()}
    victim = planes.planes[-1]
    pid = before[victim.id]["apiserver_pid"]
    os.kill(pid, signal.SIGKILL)
    for _ in range(100):
        if not _alive(pid, "kube-apiserver", victim.root, planes.namespace):
            break
        import time
        time.sleep(0.05)
    planes.up()
    after = planes._state()["clusters"]
    assert after[victim.id]["apiserver_pid"] != pid
    assert _alive(after[victim.id]["apiserver_pid"], "kube-apiserver", victim.root, planes.namespace)
    for plane in planes.planes:
        assert after[plane.id]["etcd_pid"] == before[plane.id]["etcd_pid"]
        if plane.id != victim.id:
            assert after[plane.id]["apiserver_pid"] == before[plane.id]["apiserver_pid"]
    assert planes.status()["up"]


def test_lab_exec_runs_a_command_in_the_namespace_with_the_kubeconfig(planes, lab_base):
    env = {**os.environ, "GOVCLOUD_LAB_DIR": str(lab_base)}
    result = subprocess.run([str(_govcloud()), "lab", "exec", "--", "sh", "-c", 'echo "$KUBECONFIG"; ip -o addr show'],
                            capture_output=True, text=True, env=env, cwd=_repo())
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == str(planes.kubeconfig)
    for plane in planes.planes:
        assert plane.address in result.stdout


def _repo():
    from pathlib import Path

    return Path(__file__).resolve().parents[2]


def _govcloud():
    import sys
    from pathlib import Path

    return Path(sys.executable).parent / "govcloud"
