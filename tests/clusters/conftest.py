"""The lab's control planes, up once per session in a lab directory of the test's own (its own
network namespace), with the rendered lab applied to them; torn down at the end, leaving no
process, address, namespace or file behind.

Needs root and the Go components built (`make binaries`); without them the tests skip outside
CI and fail in CI (tests/conftest.py). ``GOVCLOUD_LAB_KEEP=1`` keeps the planes up afterwards.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest

from govcloud import toolchain
from govcloud.cluster.apply import Applier, DesiredObject, desired_objects
from govcloud.cluster.planes import ControlPlanes
from govcloud.model import load_environment
from govcloud.render import pipeline

REPO = Path(__file__).resolve().parents[2]
INVENTORIES = REPO / "inventories"


def _missing() -> str | None:
    if os.geteuid() != 0:
        return "the control planes need root (network namespaces)"
    for name in ("etcd", "kube-apiserver-1.37", "kube-apiserver-1.36"):
        if toolchain.find(name) is None:
            return f"{name} is not built (make binaries)"
    return None


@pytest.fixture(scope="session")
def lab_base(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("planes")


@pytest.fixture(scope="session")
def planes(lab_base):
    reason = _missing()
    if reason:
        pytest.skip(reason)
    env = load_environment("lab", INVENTORIES)
    control = ControlPlanes(env, lab_base / "lab", log=lambda message: None)
    try:
        control.up()
        yield control
    finally:
        if os.environ.get("GOVCLOUD_LAB_KEEP") != "1":
            control.down()
            assert not control.root.exists()
            assert not Path(f"/run/netns/{control.namespace}").exists()


@pytest.fixture(scope="session")
def rendered(planes, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("render") / "lab"
    results = pipeline.render(planes.env, INVENTORIES, out, jobs=1)
    assert not [e for r in results for e in r.errors]
    return out


class Secrets:
    """Random values for the render's redacted secret paths (stable within the session)."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], str] = {}

    def __call__(self, obj: DesiredObject, path: str) -> str:
        return self.values.setdefault((obj.urn, path), secrets.token_urlsafe(16))


@pytest.fixture(scope="session")
def secret_values() -> Secrets:
    return Secrets()


@pytest.fixture(scope="session")
def clients(planes):
    """The deployer's ApiClient per cluster id (connections made in the lab namespace)."""
    made = {p.id: planes.access.client(p.cluster.kube_context) for p in planes.planes}
    yield made
    for api in made.values():
        api.close()


@pytest.fixture(scope="session")
def applier(clients) -> Applier:
    return Applier(clients)


@pytest.fixture(scope="session")
def applied(planes, rendered, applier, secret_values):
    """Every object render produced, server-side applied to its cluster: (object, error) pairs;
    returns when the controllers have caught up (every namespace has its ``default``
    ServiceAccount, every quota its status: quota admission enforces only observed quotas)."""
    import time

    objects = desired_objects(rendered)
    results = applier.apply_all(objects, secret_values)
    deadline = time.monotonic() + 120
    for obj, error in results:
        if error is not None or obj.kind not in ("Namespace", "ResourceQuota"):
            continue
        if obj.kind == "Namespace":
            resource, namespace, name = applier.resource(obj.cluster, "v1", "ServiceAccount"), obj.name, "default"
        else:
            resource, namespace, name = applier.resource(obj.cluster, "v1", "ResourceQuota"), obj.namespace, obj.name
        while True:
            found = resource.get(namespace=namespace, field_selector=f"metadata.name={name}").items
            if found and (obj.kind == "Namespace" or (found[0].to_dict().get("status") or {}).get("hard")):
                break
            assert time.monotonic() < deadline, f"the controllers did not catch up with {obj.cluster}: {obj.label}"
            time.sleep(0.2)
    return results


@pytest.fixture(scope="session")
def dynamic(clients):
    from govcloud.cluster.access import dynamic as dynamic_client

    return {cluster: dynamic_client(api) for cluster, api in clients.items()}
