"""`govcloud cluster up|down|status`: one real control plane (etcd + kube-apiserver, no nodes)
per cluster of an environment, inside the lab's network namespace.

Per cluster: etcd on the namespace's loopback (mutual TLS, its own CA), kube-apiserver on the
API address the model gives the cluster (added on the management bridge, where the control
node is), both started with ``nsenter --net`` in their own session, PIDs recorded in
``.lab/<env>/clusters/state.json``. `up` converges: it starts what is missing or dead and keeps
what runs; then, as the break-glass identity, binds the deployers' group to cluster-admin and
installs the Gateway API CRDs (server-side apply, idempotent), and writes the kubeconfig.
`down` stops exactly the recorded processes (checked by binary, data directory and namespace),
removes the addresses it added and the cluster directory (data, certificates, logs) and the
kubeconfig.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import os
import shutil
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from ipaddress import IPv4Interface
from pathlib import Path
from typing import Callable

import yaml

from .. import toolchain
from ..lab import netns, preflight
from ..lab.errors import LabError
from ..lab.lab import Lab
from ..lab.processes import send_signal, wait_gone
from ..model import Environment
from ..model.platform import Cluster
from . import config, gateway, pki
from .access import Access, client_for, configuration
from .apply import server_side_apply

ETCD_READY_SECONDS = 30.0
API_READY_SECONDS = 180.0
CONTROLLERS_READY_SECONDS = 120.0
STOP_SECONDS = 30.0
ETCD_FIRST_PORT = 2379
FIELD_MANAGER = "govcloud-cluster"
DEPLOYER = "govcloud-deployer"
DEPLOYERS_GROUP = "govcloud:cluster-admins"
BREAK_GLASS = "govcloud:break-glass"


def _log_default(message: str) -> None:
    print(message, flush=True)


@dataclass(frozen=True)
class Plane:
    """Files and addresses of one cluster's control plane."""

    cluster: Cluster
    root: Path
    interface: IPv4Interface      # the API address with its zone's prefix, on the control bridge

    @property
    def id(self) -> str:
        return self.cluster.id

    @property
    def address(self) -> str:
        return str(self.cluster.api.address)

    @property
    def port(self) -> int:
        return self.cluster.api.port

    @property
    def server(self) -> str:
        return f"https://{self.address}:{self.port}"

    @property
    def etcd_data(self) -> Path:
        return self.root / "etcd"

    @property
    def audit_log(self) -> Path:
        return self.root / "audit" / "audit.log"

    def log(self, process: str) -> Path:
        return self.root / f"{process}.log"


class ControlPlanes:
    def __init__(self, env: Environment, directory: Path | None = None, log: Callable[[str], None] = _log_default):
        self.env = env
        self.lab = Lab(env, directory, log=log)
        self.log = log
        self.root = self.lab.paths.root / "clusters"
        self.state_file = self.root / "state.json"
        self.pki_dir = self.root / "pki"
        self.kubeconfig = self.lab.paths.root / "kubeconfig"
        self.namespace = self.lab.plan.namespace
        self.planes = [self._plane(c) for c in env.platform.clusters]

    def _plane(self, cluster: Cluster) -> Plane:
        plan = self.lab.plan
        control = plan.control_address
        if cluster.api.address not in control.network:
            raise LabError(f"cluster {cluster.id}: API address {cluster.api.address} is not in the control node's network "
                           f"{control.network}; the lab serves API endpoints on the management bridge")
        if cluster.api.address == control.ip:
            raise LabError(f"cluster {cluster.id}: API address {cluster.api.address} is the lab's control node")
        return Plane(cluster, self.root / cluster.id, IPv4Interface(f"{cluster.api.address}/{control.network.prefixlen}"))

    @property
    def access(self) -> Access:
        return Access(self.namespace, self.kubeconfig)

    # -- state ---------------------------------------------------------------------------
    def _state(self) -> dict:
        if self.state_file.exists():
            return json.loads(self.state_file.read_text())
        return {"namespace": self.namespace, "clusters": {}}

    def _save(self, state: dict) -> None:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
        tmp.replace(self.state_file)

    # -- up ------------------------------------------------------------------------------
    def up(self) -> dict[str, float]:
        """Converge every control plane; returns seconds per phase."""
        preflight.check_root()
        # The kubernetes client resolves its modules lazily, on first attribute access; several
        # threads doing that at once deadlock on its module locks (seen on a cold `cluster up`).
        from kubernetes import config as _kube_config  # noqa: F401
        from kubernetes.client import ApiClient, Configuration, CoreV1Api  # noqa: F401
        started = time.monotonic()
        timings: dict[str, float] = {}
        try:
            etcd = toolchain.require("etcd")
            apiservers = {p.id: toolchain.require(toolchain.kube_apiserver_for(p.cluster.kubernetes_version)) for p in self.planes}
            managers = {p.id: toolchain.require(toolchain.kube_apiserver_for(p.cluster.kubernetes_version, "kube-controller-manager"))
                        for p in self.planes}
        except (toolchain.ToolchainError, LookupError) as error:
            raise LabError(str(error)) from None
        state = self._state()
        if not netns.exists(self.namespace):
            state["created_namespace"] = True
        self.lab.ensure_network()
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._save(state)
        files = self._files()
        for plane in self.planes:
            netns.ip(self.namespace, "addr", "replace", str(plane.interface), "dev", self.lab.plan.control_bridge)
        timings["prepare"] = time.monotonic() - started

        mark = time.monotonic()
        records = state["clusters"]
        started_etcd = []
        for plane in self.planes:
            record = records.setdefault(plane.id, {})
            if "etcd_port" not in record:
                taken = {r.get("etcd_port") for r in records.values()}
                record["etcd_port"] = next(p for p in range(ETCD_FIRST_PORT, 65000, 2) if p not in taken)
            if not _alive(record.get("etcd_pid"), "etcd", plane.etcd_data, self.namespace):
                plane.etcd_data.mkdir(parents=True, exist_ok=True, mode=0o700)
                self._wait_port_free("127.0.0.1", record["etcd_port"], f"the etcd port of {plane.id}")
                f = files[plane.id]
                argv = config.etcd_command(etcd.binary, plane.id, plane.etcd_data, record["etcd_port"], record["etcd_port"] + 1,
                                           f["etcd_ca"], f["etcd_server_cert"], f["etcd_server_key"])
                record["etcd_pid"] = self._spawn(argv, plane.log("etcd"))
                record["bootstrapped"] = False
                started_etcd.append(plane)
                self.log(f"{plane.id}: started etcd (pid {record['etcd_pid']}, 127.0.0.1:{record['etcd_port']} in {self.namespace})")
            self._save(state)
        for plane in started_etcd:
            pid, data = records[plane.id]["etcd_pid"], plane.etcd_data
            self._wait_port("127.0.0.1", records[plane.id]["etcd_port"], ETCD_READY_SECONDS,
                            functools.partial(_alive, pid, "etcd", data, self.namespace), f"etcd of {plane.id}", plane.log("etcd"))
        timings["etcd"] = time.monotonic() - mark

        mark = time.monotonic()
        for plane in self.planes:
            record = records[plane.id]
            if not _alive(record.get("apiserver_pid"), "kube-apiserver", plane.etcd_data.parent, self.namespace):
                plane.audit_log.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                self._wait_port_free(plane.address, plane.port, f"the API address of {plane.id}")
                argv = config.apiserver_command(apiservers[plane.id].binary, address=plane.address, port=plane.port,
                                                etcd_port=record["etcd_port"], files=files[plane.id])
                record["apiserver_pid"] = self._spawn(argv, plane.log("kube-apiserver"))
                record["bootstrapped"] = False
                record["version"] = apiservers[plane.id].version
                self.log(f"{plane.id}: started kube-apiserver {record['version']} (pid {record['apiserver_pid']}, {plane.server})")
            self._save(state)
        with ThreadPoolExecutor(max_workers=len(self.planes) or 1) as pool:
            list(pool.map(lambda p: self._wait_ready(p, records[p.id]), self.planes))
        timings["apiserver"] = time.monotonic() - mark

        mark = time.monotonic()
        for plane in self.planes:
            record = records[plane.id]
            if not _alive(record.get("kcm_pid"), "kube-controller-manager", plane.root, self.namespace):
                argv = config.controller_manager_command(managers[plane.id].binary, files=files[plane.id])
                record["kcm_pid"] = self._spawn(argv, plane.log("kube-controller-manager"))
                record["bootstrapped"] = False
                self.log(f"{plane.id}: started kube-controller-manager (pid {record['kcm_pid']})")
            self._save(state)

        mark = time.monotonic()
        # What runs and was bootstrapped since it started is kept as it is (a second `up` is quick).
        pending = [p for p in self.planes if not records[p.id].get("bootstrapped")]
        with ThreadPoolExecutor(max_workers=len(pending) or 1) as pool:
            list(pool.map(lambda p: self._bootstrap(p, records[p.id]), pending))
        for plane in pending:
            records[plane.id]["bootstrapped"] = True
        self._save(state)
        self._write_kubeconfig()
        timings["bootstrap"] = time.monotonic() - mark
        timings["total"] = time.monotonic() - started
        return timings

    def _spawn(self, argv: list[str], log: Path) -> int:
        with open(log, "ab") as handle:
            process = subprocess.Popen(netns.command(self.namespace, argv), stdin=subprocess.DEVNULL, stdout=handle,
                                       stderr=subprocess.STDOUT, start_new_session=True, cwd=log.parent)
        # nsenter execs the binary: until it has, the process is nsenter, outside the namespace,
        # and _alive (rightly) does not recognise it; on a loaded machine that took long enough
        # for the readiness checks to report a healthy process as exited. Wait for the exec.
        deadline = time.monotonic() + 10.0
        while process.poll() is None and time.monotonic() < deadline:
            try:
                if Path(f"/proc/{process.pid}/cmdline").read_bytes().split(b"\0")[0] == argv[0].encode():
                    break
            except OSError:
                break
            time.sleep(0.01)
        return process.pid

    def _files(self) -> dict[str, dict[str, Path]]:
        """Every certificate, key and configuration file, per cluster (made once, kept while current)."""
        root = self.pki_dir
        api_ca = pki.Authority(root, "ca", f"govcloud {self.env.name} Kubernetes CA")
        etcd_ca = pki.Authority(root, "etcd-ca", f"govcloud {self.env.name} etcd CA")
        shared = {"admission": root / "admission.yaml", "audit_policy": root / "audit-policy.yaml"}
        shared["admission"].write_text(config.ADMISSION_CONFIG)
        shared["audit_policy"].write_text(config.AUDIT_POLICY)
        out: dict[str, dict[str, Path]] = {}
        for plane in self.planes:
            d = root / plane.id
            server = api_ca.issue(pki.Pair(d / "apiserver.crt", d / "apiserver.key"), "kube-apiserver", server=True,
                                  dns=("kubernetes", "kubernetes.default", "kubernetes.default.svc",
                                       "kubernetes.default.svc.cluster.local", plane.cluster.kube_context.replace("/", "-")),
                                  ips=(plane.address, str(next(ipaddress.ip_network(config.SERVICE_CIDR).hosts()))))
            etcd_server = etcd_ca.issue(pki.Pair(d / "etcd-server.crt", d / "etcd-server.key"), f"etcd-{plane.id}",
                                        server=True, client=True, dns=("localhost",), ips=("127.0.0.1",))
            etcd_client = etcd_ca.issue(pki.Pair(d / "apiserver-etcd-client.crt", d / "apiserver-etcd-client.key"),
                                        "kube-apiserver-etcd-client", client=True)
            sa_key = d / "service-account.key"
            manager = api_ca.issue(pki.Pair(d / "controller-manager.crt", d / "controller-manager.key"),
                                   "system:kube-controller-manager", client=True)
            out[plane.id] = {
                "kcm_kubeconfig": self._component_kubeconfig(plane, api_ca.pair.cert, manager, plane.root / "controller-manager.kubeconfig"),
                **shared, "ca": api_ca.pair.cert, "etcd_ca": etcd_ca.pair.cert,
                "cert": server.cert, "key": server.key, "etcd_server_cert": etcd_server.cert, "etcd_server_key": etcd_server.key,
                "etcd_cert": etcd_client.cert, "etcd_key": etcd_client.key,
                "sa_key": sa_key, "sa_pub": pki.signing_key(sa_key), "encryption": pki.encryption_config(d / "encryption.yaml"),
                "audit_log": plane.audit_log,
            }
        # Client identities: the break-glass (system:masters, used only here to bootstrap), the
        # deployer (bound to cluster-admin by group) and one per tenant administrator (CN = the
        # account the tenant's RoleBindings name).
        clients = root / "clients"
        api_ca.issue(pki.Pair(clients / "break-glass.crt", clients / "break-glass.key"), BREAK_GLASS,
                     organizations=("system:masters",), client=True)
        api_ca.issue(pki.Pair(clients / f"{DEPLOYER}.crt", clients / f"{DEPLOYER}.key"), DEPLOYER,
                     organizations=(DEPLOYERS_GROUP,), client=True)
        for account in self.tenant_accounts():
            api_ca.issue(pki.Pair(clients / f"{account}.crt", clients / f"{account}.key"), account, client=True)
        return out

    @staticmethod
    def _component_kubeconfig(plane: Plane, ca: Path, pair: pki.Pair, path: Path) -> Path:
        document = {"apiVersion": "v1", "kind": "Config",
                    "clusters": [{"name": plane.id, "cluster": {"server": plane.server, "certificate-authority": str(ca)}}],
                    "users": [{"name": "component", "user": {"client-certificate": str(pair.cert), "client-key": str(pair.key)}}],
                    "contexts": [{"name": "component", "context": {"cluster": plane.id, "user": "component"}}],
                    "current-context": "component"}
        plane.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        pki.write_private(path, yaml.safe_dump(document, sort_keys=False).encode())
        return path

    def tenant_accounts(self) -> list[str]:
        accounts = set()
        for tenant in self.env.tenants:
            admins = tenant.request.administrators
            accounts |= {admins.system.account, admins.security.account, admins.audit.account}
        return sorted(accounts)

    def _identity(self, name: str) -> tuple[Path, Path]:
        clients = self.pki_dir / "clients"
        return clients / f"{name}.crt", clients / f"{name}.key"

    def break_glass_client(self, plane: Plane):
        cert, key = self._identity("break-glass")
        return client_for(self.namespace, configuration(plane.server, self.pki_dir / "ca.crt", cert, key))

    def _wait_port(self, host: str, port: int, seconds: float, alive: Callable[[], bool], what: str, log: Path) -> None:
        sockets = netns.Sockets.of(self.namespace)
        deadline = time.monotonic() + seconds
        while True:
            try:
                sockets.create_connection((host, port), 1.0).close()
                return
            except OSError:
                pass
            if not alive() or time.monotonic() > deadline:
                raise LabError(f"{what} {'exited' if not alive() else 'did not listen'}: {_tail(log)} (see {log})")
            time.sleep(0.1)

    def _wait_port_free(self, host: str, port: int, what: str, seconds: float = 15.0) -> None:
        """A process that just died may still hold its listening socket for a moment (its memory
        goes before its files): wait for the port rather than start a process that cannot bind."""
        sockets = netns.Sockets.of(self.namespace)
        deadline = time.monotonic() + seconds
        while True:
            try:
                sockets.create_connection((host, port), 0.5).close()
            except OSError:
                return
            if time.monotonic() > deadline:
                raise LabError(f"{what} ({host}:{port}) is taken by a process govcloud did not start (or cannot recognise)")
            time.sleep(0.1)

    def _wait_ready(self, plane: Plane, record: dict) -> None:
        api = self.break_glass_client(plane)
        deadline = time.monotonic() + API_READY_SECONDS
        last = "no answer"
        try:
            while True:
                try:
                    response = api.rest_client.pool_manager.request("GET", f"{plane.server}/readyz", timeout=2.0, retries=False)
                    if response.status == 200:
                        return
                    last = f"/readyz {response.status}: {response.data.decode(errors='replace')[-300:]}"
                except Exception as exc:  # connection refused while it starts
                    last = str(exc)[:200]
                alive = _alive(record.get("apiserver_pid"), "kube-apiserver", plane.etcd_data.parent, self.namespace)
                if not alive or time.monotonic() > deadline:
                    log = plane.log("kube-apiserver")
                    why = "exited" if not alive else f"not ready after {API_READY_SECONDS:.0f} s ({last})"
                    raise LabError(f"kube-apiserver of {plane.id} {why}: {_tail(log)} (see {log})")
                time.sleep(0.2)
        finally:
            api.close()

    def _bootstrap(self, plane: Plane, record: dict) -> None:
        """As the break-glass identity: the deployers' binding and the Gateway API CRDs; then wait
        until the controller manager works (the `default` namespace has its service account)."""
        from .access import dynamic as dynamic_client

        api = self.break_glass_client(plane)
        try:
            dynamic = dynamic_client(api)
            binding = {
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                "metadata": {"name": "govcloud:cluster-admins", "labels": {"app.kubernetes.io/managed-by": "govcloud-cluster"}},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
                "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": DEPLOYERS_GROUP}],
            }
            server_side_apply(dynamic, binding, FIELD_MANAGER)
            crds = gateway.crds()
            for crd in crds:
                server_side_apply(dynamic, crd, FIELD_MANAGER)
            resource = dynamic.resources.get(api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition")
            deadline = time.monotonic() + 60
            waiting = {c["metadata"]["name"] for c in crds}
            while waiting:
                for name in sorted(waiting):
                    conditions = resource.get(name=name).to_dict().get("status", {}).get("conditions") or []
                    if any(c["type"] == "Established" and c["status"] == "True" for c in conditions):
                        waiting.discard(name)
                if waiting and time.monotonic() > deadline:
                    raise LabError(f"{plane.id}: Gateway API CRDs not established: {', '.join(sorted(waiting))}")
                if waiting:
                    time.sleep(0.2)
            accounts = dynamic.resources.get(api_version="v1", kind="ServiceAccount")
            deadline = time.monotonic() + CONTROLLERS_READY_SECONDS
            while not accounts.get(namespace="default", field_selector="metadata.name=default").items:
                if not _alive(record.get("kcm_pid"), "kube-controller-manager", plane.root, self.namespace) or time.monotonic() > deadline:
                    log = plane.log("kube-controller-manager")
                    raise LabError(f"kube-controller-manager of {plane.id} is not working: {_tail(log)} (see {log})")
                time.sleep(0.2)
        except toolchain.ToolchainError as error:
            raise LabError(str(error)) from None
        finally:
            api.close()

    def contexts(self) -> dict[str, tuple[str, str]]:
        """Context name -> (cluster's kube_context, user): each cluster's deployer context is its
        ``kube_context``; ``<account>@<kube_context>`` for every tenant administrator on every
        cluster where the tenant has namespaces."""
        out = {p.cluster.kube_context: (p.cluster.kube_context, DEPLOYER) for p in self.planes}
        from ..components.tenant import public_cluster

        for tenant in self.env.tenants:
            cluster = self.env.cluster(tenant.cluster)
            clusters = {cluster.id}
            if tenant.request.services and self.env.zone(cluster.zone).kind != "internet":
                clusters.add(public_cluster(self.env, cluster).id)
            admins = tenant.request.administrators
            for account in (admins.system.account, admins.security.account, admins.audit.account):
                for cid in clusters:
                    context = self.env.cluster(cid).kube_context
                    out[f"{account}@{context}"] = (context, account)
        return dict(sorted(out.items()))

    def _write_kubeconfig(self) -> None:
        ca = str(self.pki_dir / "ca.crt")
        users = sorted({user for _, user in self.contexts().values()})
        document = {
            "apiVersion": "v1", "kind": "Config", "preferences": {},
            "clusters": [{"name": p.cluster.kube_context, "cluster": {"server": p.server, "certificate-authority": ca}}
                         for p in self.planes],
            "users": [{"name": u, "user": {"client-certificate": str(self._identity(u)[0]),
                                           "client-key": str(self._identity(u)[1])}} for u in users],
            "contexts": [{"name": name, "context": {"cluster": cluster, "user": user}}
                         for name, (cluster, user) in self.contexts().items()],
            "current-context": self.planes[0].cluster.kube_context if self.planes else "",
        }
        text = ("# Written by govcloud cluster up: the lab's control planes. Reach them from inside the lab's\n"
                f"# network namespace: govcloud lab exec --env {self.env.name} -- CMD\n"
                + yaml.safe_dump(document, sort_keys=False))
        pki.write_private(self.kubeconfig, text.encode())

    # -- down ----------------------------------------------------------------------------
    def down(self) -> list[str]:
        preflight.check_root()
        removed: list[str] = []
        state = self._state()
        records = state.get("clusters", {})
        planes = {p.id: p for p in self.planes}
        # Controllers first, then the API servers (they hold etcd connections), then etcd.
        for process, key in (("kube-controller-manager", "kcm_pid"), ("kube-apiserver", "apiserver_pid"), ("etcd", "etcd_pid")):
            running = {}
            for cid, record in records.items():
                data = (self.root / cid / "etcd") if process == "etcd" else (self.root / cid)
                if _alive(record.get(key), process, data, state.get("namespace", self.namespace)):
                    running[cid] = (record[key], data)
                    send_signal(record[key], signal.SIGTERM)
            deadline = time.monotonic() + STOP_SECONDS
            while running and time.monotonic() < deadline and any(
                    _alive(pid, process, data, state.get("namespace", self.namespace)) for pid, data in running.values()):
                time.sleep(0.1)
            for cid, (pid, data) in sorted(running.items()):
                if _alive(pid, process, data, state.get("namespace", self.namespace)):
                    send_signal(pid, signal.SIGKILL)
                    wait_gone(pid)
                removed.append(f"{process} of {cid} (pid {pid})")
        namespace = state.get("namespace", self.namespace)
        if netns.exists(namespace):
            for cid in records:
                plane = planes.get(cid)
                if plane is not None:
                    result = netns.ip(namespace, "addr", "del", str(plane.interface), "dev", self.lab.plan.control_bridge, check=False)
                    if result.returncode == 0:
                        removed.append(f"address {plane.interface} of {cid}")
            if state.get("created_namespace") and not self.lab.paths.state.exists():
                netns.delete(namespace)
                removed.append(f"network namespace {namespace}")
        if self.kubeconfig.exists():
            self.kubeconfig.unlink()
            removed.append(f"kubeconfig {self.kubeconfig}")
        if self.root.exists():
            shutil.rmtree(self.root)
            removed.append(f"cluster directory {self.root} (data, certificates, logs)")
        lab_root = self.lab.paths.root
        if state.get("created_namespace") and lab_root.is_dir() and not any(lab_root.iterdir()):
            lab_root.rmdir()  # made by `cluster up` for a lab that never booted hosts
        return removed

    # -- status --------------------------------------------------------------------------
    def status(self) -> dict:
        state = self._state()
        records = state.get("clusters", {})
        namespace_up = netns.exists(self.namespace)
        clusters = []
        for plane in self.planes:
            record = records.get(plane.id, {})
            etcd_up = _alive(record.get("etcd_pid"), "etcd", plane.etcd_data, self.namespace)
            api_up = _alive(record.get("apiserver_pid"), "kube-apiserver", plane.root, self.namespace)
            kcm_up = _alive(record.get("kcm_pid"), "kube-controller-manager", plane.root, self.namespace)
            ready, version = False, None
            if api_up and namespace_up and self._identity("break-glass")[0].exists():
                api = self.break_glass_client(plane)
                try:
                    response = api.rest_client.pool_manager.request("GET", f"{plane.server}/readyz", timeout=3.0, retries=False)
                    ready = response.status == 200
                    response = api.rest_client.pool_manager.request("GET", f"{plane.server}/version", timeout=3.0, retries=False)
                    version = json.loads(response.data).get("gitVersion") if response.status == 200 else None
                except Exception:
                    ready = False
                finally:
                    api.close()
            clusters.append({
                "cluster": plane.id, "zone": plane.cluster.zone, "kube_context": plane.cluster.kube_context,
                "server": plane.server, "kubernetes_version": plane.cluster.kubernetes_version, "version": version,
                "etcd_pid": record.get("etcd_pid") if etcd_up else None,
                "apiserver_pid": record.get("apiserver_pid") if api_up else None,
                "controller_manager_pid": record.get("kcm_pid") if kcm_up else None, "ready": ready and kcm_up,
            })
        return {
            "env": self.env.name, "namespace": self.namespace, "namespace_exists": namespace_up,
            "kubeconfig": str(self.kubeconfig) if self.kubeconfig.exists() else None,
            "contexts": list(self.contexts()) if self.kubeconfig.exists() else [],
            "gateway_api": gateway.version(),
            "up": bool(clusters) and all(c["ready"] for c in clusters),
            "clusters": clusters,
        }


def _alive(pid: int | None, binary: str, directory: Path, namespace: str) -> bool:
    """True only for *our* process: the binary, with this cluster's directory on its command
    line, in the lab's network namespace."""
    if not pid:
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        net = os.readlink(f"/proc/{pid}/ns/net")
    except OSError:
        return False
    if not cmdline or not cmdline[0].endswith(b"/" + binary.encode()):
        return False
    if not any(part == str(directory).encode() or (str(directory) + "/").encode() in part for part in cmdline):
        return False
    try:
        return net == f"net:[{(netns.NETNS_DIR / namespace).stat().st_ino}]"
    except OSError:
        return False


def _tail(log: Path) -> str:
    try:
        lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return "no log"
    return (lines[-1] if lines else "no output")[:300]
