"""`govcloud lab up|down|status`: the machines, bridges and router of an environment's lab.

Everything the lab creates is named from its plan and recorded in ``state.json`` in the lab
directory: the network namespace, the overlay mounts and the nspawn PIDs. `up` converges to
the plan (creating what is missing, restarting what died, keeping what runs); `down` stops and
removes exactly those, by PID and by name.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..hosts.datapool import access_plan
from ..hosts.firewall import ZONE_ROUTER
from ..model import Environment
from . import image as image_mod
from . import keys, netns, preflight
from .errors import LabError
from .plan import LabPlan, Machine, build_plan
from .processes import send_signal, wait_gone

DEFAULT_DIRECTORY = Path(".lab")
SSH_READY_SECONDS = 90.0
STOP_SECONDS = 15.0


def lab_directory(env_name: str, base: Path | None = None) -> Path:
    base = base or Path(os.environ.get("GOVCLOUD_LAB_DIR", DEFAULT_DIRECTORY))
    return (base / env_name).resolve()


@dataclass(frozen=True)
class Paths:
    """Where a lab keeps its files; what playbooks and tests read is here."""

    root: Path

    @property
    def state(self) -> Path:
        return self.root / "state.json"

    @property
    def ssh_dir(self) -> Path:
        return self.root / "ssh"

    @property
    def client_key(self) -> Path:
        return self.ssh_dir / "id_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.ssh_dir / "known_hosts"

    @property
    def ssh_config(self) -> Path:
        return self.ssh_dir / "config"

    @property
    def control_dir(self) -> Path:
        return self.ssh_dir / "cp"

    @property
    def inventory(self) -> Path:
        """The Ansible inventory source (govcloud inventory plugin) with connection details."""
        return self.root / "hosts.govcloud.yml"

    @property
    def credentials(self) -> Path:
        return self.root / "secrets" / "datapool-passwords.json"

    @property
    def extra_vars(self) -> Path:
        return self.root / "secrets" / "extra-vars.json"

    def machine(self, name: str) -> Path:
        return self.root / "machines" / name


def _log_default(message: str) -> None:
    print(message, flush=True)


class Lab:
    def __init__(self, env: Environment, directory: Path | None = None, log: Callable[[str], None] = _log_default):
        self.env = env
        self.paths = Paths(directory.resolve() if directory else lab_directory(env.name))
        self.plan: LabPlan = build_plan(env, self.paths.root)
        self.log = log

    # -- state ---------------------------------------------------------------------------
    def _state(self) -> dict:
        if self.paths.state.exists():
            return json.loads(self.paths.state.read_text())
        return {"namespace": self.plan.namespace, "machines": {}}

    def _save(self, state: dict) -> None:
        self.paths.root.mkdir(parents=True, exist_ok=True)
        tmp = self.paths.state.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
        tmp.replace(self.paths.state)

    # -- up ------------------------------------------------------------------------------
    def up(self) -> dict[str, float]:
        """Converge the lab to its plan; returns seconds spent per phase."""
        preflight.check()
        timings: dict[str, float] = {}
        started = time.monotonic()
        base = image_mod.ensure_image(self.log)
        timings["image"] = time.monotonic() - started
        self.paths.root.mkdir(parents=True, exist_ok=True)
        self.paths.root.chmod(0o700)
        state = self._state()
        state["namespace"] = self.plan.namespace
        state["image"] = base.key
        self._save(state)

        mark = time.monotonic()
        public_key = self._client_files()
        self._network()
        timings["network"] = time.monotonic() - mark

        mark = time.monotonic()
        started_any = False
        for machine in self.plan.machines:
            record = state["machines"].get(machine.name)
            if record and _nspawn_alive(record.get("pid"), record.get("root")):
                continue
            self._clean_machine(machine.name, record)
            state["machines"][machine.name] = self._start(machine, base, public_key)
            self._save(state)
            started_any = True
        self._attach(state)
        self._record_leaders(state)
        timings["boot"] = time.monotonic() - mark
        mark = time.monotonic()
        self._wait_ssh(started_any)
        timings["ssh"] = time.monotonic() - mark
        timings["total"] = time.monotonic() - started
        return timings

    def _client_files(self) -> str:
        p = self.paths
        public_key = keys.ed25519_pair(p.client_key, f"govcloud-lab-{self.env.name}")
        lines = []
        for machine in self.plan.machines:
            host_public = keys.ed25519_pair(p.ssh_dir / "hostkeys" / machine.name, f"root@{machine.name}")
            algo, blob = host_public.split()[:2]
            lines.append(f"{machine.name},{machine.address} {algo} {blob}\n")
        p.known_hosts.write_text("".join(lines))
        p.control_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        config = [
            "# Written by govcloud lab up: every connection goes through the lab's network namespace.",
        ]
        for machine in self.plan.machines:
            config += [f"Host {machine.name}", f"  HostName {machine.address}"]
        config += [
            "Host *",
            "  User " + image_mod.AUTOMATION_ACCOUNT,
            f"  IdentityFile {p.client_key}",
            "  IdentitiesOnly yes",
            f"  UserKnownHostsFile {p.known_hosts}",
            "  StrictHostKeyChecking yes",
            "  GlobalKnownHostsFile /dev/null",
            f"  ProxyCommand ip netns exec {self.plan.namespace} nc %h %p",
            "  ControlMaster auto",
            f"  ControlPath {p.control_dir}/%C",
            "  ControlPersist 120",
            "  BatchMode yes",
            "  ConnectTimeout 10",
            "  ServerAliveInterval 15",
            "",
        ]
        p.ssh_config.write_text("\n".join(config))
        inventories = self.env.root.parent  # the model's root is always <inventories>/<env>
        p.inventory.write_text(
            "# Written by govcloud lab up: the model's hosts with the lab's connection details.\n"
            + json.dumps(
                {
                    "plugin": "govcloud",
                    "env": self.env.name,
                    "inventories": str(inventories.resolve()),
                    "vars": {
                        "ansible_user": image_mod.AUTOMATION_ACCOUNT,
                        "ansible_ssh_private_key_file": str(p.client_key),
                        "ansible_ssh_common_args": f"-F {p.ssh_config}",
                        # Ansible passes its own ControlPath (~/.ansible/cp/<hash of host, port, user>),
                        # overriding the config above: two labs with the same addresses on one machine
                        # would share master connections and one lab's play would run on the other's hosts.
                        "ansible_control_path_dir": str(p.control_dir),
                    },
                },
                indent=2,
            )
            + "\n"
        )
        passwords = keys.datapool_credentials(p.credentials, access_plan(self.env))
        keys.datapool_extra_vars(p.extra_vars, passwords)
        return public_key

    def ensure_network(self) -> None:
        """The lab's namespace, bridges and control node without any machine: what the control
        planes (govcloud.cluster) need. Idempotent; `down` removes it."""
        preflight.check_root()
        self.paths.root.mkdir(parents=True, exist_ok=True)
        self.paths.root.chmod(0o700)
        self._network()

    def _network(self) -> None:
        ns = self.plan.namespace
        netns.create(ns)
        # The lab namespace is the control node only: it must never route between zones.
        netns.execute(ns, "sysctl", "-q", "-w", "net.ipv4.ip_forward=0")
        for bridge in self.plan.bridges:
            netns.ensure_bridge(ns, bridge.name)
        netns.ip(ns, "addr", "replace", str(self.plan.control_address), "dev", self.plan.control_bridge)
        for network, gateway in self.plan.control_routes:
            netns.ip(ns, "route", "replace", network, "via", gateway)
        check = netns.execute(ns, "nft", "list", "tables", check=False)
        if check.returncode != 0:
            raise LabError(f"nftables does not work in a network namespace here: {check.stderr.strip()} (CONFIG_NF_TABLES?)")

    def _start(self, machine: Machine, base: image_mod.Image, public_key: str) -> dict:
        directory = self.paths.machine(machine.name)
        upper, work, root = directory / "upper", directory / "work", directory / "root"
        for d in (upper, work, root):
            d.mkdir(parents=True, exist_ok=True)
        if not _is_mount(root):
            result = subprocess.run(
                ["mount", "-t", "overlay", f"govlab-{machine.name}", "-o",
                 f"lowerdir={base.root},upperdir={upper},workdir={work}", str(root)],
                capture_output=True, text=True,
            )
            if result.returncode != 0:
                raise LabError(f"cannot mount the overlay for {machine.name}: {result.stderr.strip()}")
        self._personalise(machine, root, public_key)
        ns = self.plan.namespace
        # nspawn makes the veths (moving an existing interface in needs udev, which this kind
        # of machine lacks); `_attach` enslaves their lab ends to the zone bridges.
        # (_clean_machine, always run first, removed any leftover veth of the same name.)
        args = [f"--network-veth-extra={i.bridge_side}:{i.machine_side}" for i in machine.interfaces]
        with open(directory / "console.log", "ab") as console:
            process = subprocess.Popen(
                ["nsenter", f"--net=/run/netns/{ns}", "systemd-nspawn", "--quiet", "-D", str(root), "-M", machine.name,
                 "--boot", "--register=no", "--keep-unit", "--console=passive", "--link-journal=no",
                 "--resolv-conf=off", "--timezone=off",
                 # Process accounting is per PID namespace: a machine records only its own processes.
                 "--capability=CAP_SYS_PACCT", *args],
                stdin=subprocess.DEVNULL, stdout=console, stderr=subprocess.STDOUT, start_new_session=True,
            )
        return {"pid": process.pid, "root": str(root), "address": str(machine.address)}

    def _record_leaders(self, state: dict) -> None:
        deadline = time.monotonic() + 20.0
        for record in state["machines"].values():
            while not _leader_alive(record.get("leader"), record.get("leader_ns")):
                found = _leader_of(record["pid"])
                if found:
                    record["leader"], record["leader_ns"] = found
                    break
                if time.monotonic() > deadline or not _nspawn_alive(record["pid"], record["root"]):
                    break
                time.sleep(0.05)
        self._save(state)

    def _attach(self, state: dict) -> None:
        ns = self.plan.namespace
        wanted = {i.bridge_side: (i.bridge, m.name) for m in self.plan.machines for i in m.interfaces}
        deadline = time.monotonic() + 20.0
        while True:
            present = netns.links(ns)
            for link, (bridge, _name) in list(wanted.items()):
                if link in present:
                    netns.ip(ns, "link", "set", link, "master", bridge, "up")
                    del wanted[link]
            if not wanted:
                return
            dead = sorted({n for _, n in wanted.values() if not _nspawn_alive(state["machines"][n]["pid"], state["machines"][n]["root"])})
            if dead or time.monotonic() > deadline:
                logs = ", ".join(str(self.paths.machine(n) / "console.log") for n in dead or sorted({n for _, n in wanted.values()}))
                raise LabError(f"lab machines did not start: {', '.join(dead) or 'interfaces missing'} (see {logs})")
            time.sleep(0.05)

    def _personalise(self, machine: Machine, root: Path, public_key: str) -> None:
        etc = root / "etc"
        (etc / "govcloud-lab").mkdir(exist_ok=True)
        lines = [f"IFACE {i.machine_side} {i.address}" for i in machine.interfaces]
        lines += [f"ROUTE {network} {gateway}" for network, gateway in machine.routes]
        lines.append(f"FORWARD {1 if machine.forward else 0}")
        (etc / "govcloud-lab" / "net.conf").write_text("\n".join(lines) + "\n")
        (etc / "hostname").write_text(machine.name + "\n")
        hosts = ["127.0.0.1 localhost", f"127.0.1.1 {machine.name}"]
        hosts += [f"{m.address} {m.name}" for m in self.plan.machines if m.name != machine.name]
        (etc / "hosts").write_text("\n".join(hosts) + "\n")
        (etc / "resolv.conf").unlink(missing_ok=True)
        (etc / "resolv.conf").write_text("# the lab has no resolver; names are in /etc/hosts\n")
        host_key = self.paths.ssh_dir / "hostkeys" / machine.name
        shutil.copyfile(host_key, etc / "ssh" / "ssh_host_ed25519_key")
        (etc / "ssh" / "ssh_host_ed25519_key").chmod(0o600)
        shutil.copyfile(host_key.with_name(host_key.name + ".pub"), etc / "ssh" / "ssh_host_ed25519_key.pub")
        uid, gid = _account_ids(etc / "passwd", image_mod.AUTOMATION_ACCOUNT)
        ssh_dir = root / "home" / image_mod.AUTOMATION_ACCOUNT / ".ssh"
        authorized = ssh_dir / "authorized_keys"
        authorized.write_text(public_key)
        authorized.chmod(0o600)
        os.chown(authorized, uid, gid)

    def _wait_ssh(self, started_any: bool) -> None:
        addresses = {str(m.address): m.name for m in self.plan.machines}
        deadline = time.monotonic() + (SSH_READY_SECONDS if started_any else 10.0)
        state = self._state()
        nudged: set[str] = set()
        with netns.Prober(self.plan.namespace) as prober:
            while True:
                banners = prober.ssh_banners(list(addresses))
                waiting = sorted(addresses[a] for a, b in banners.items() if not (b or "").startswith("SSH-"))
                waiting += self._not_accepting_logins(state, nudged)
                if not waiting:
                    return
                dead = [n for n in waiting if not _nspawn_alive(state["machines"][n]["pid"], state["machines"][n]["root"])]
                if dead or time.monotonic() > deadline:
                    why = "exited" if dead else "not reachable over SSH"
                    names = dead or waiting
                    logs = {n: str(self.paths.machine(n) / "console.log") for n in names}
                    raise LabError(f"lab machines {why}: {', '.join(names)} (see {', '.join(logs.values())})")
                time.sleep(0.2)

    def _not_accepting_logins(self, state: dict, nudged: set[str]) -> list[str]:
        """Machines whose boot has not yet allowed user logins (/run/nologin still there).

        On this kind of machine (cgroup v1/v2 hybrid, no systemd on the host) a container's
        systemd-user-sessions.service sometimes fails to attach to its cgroup at boot, which
        leaves /run/nologin behind and locks the automation account out: start it again, once.
        """
        blocked = []
        for machine in self.plan.machines:
            record = state["machines"].get(machine.name, {})
            leader = record.get("leader")
            if not _leader_alive(leader, record.get("leader_ns")) or not Path(f"/proc/{leader}/root/run/nologin").exists():
                continue
            blocked.append(machine.name)
            active = subprocess.run(["nsenter", "-t", str(leader), "-a", "systemctl", "is-active", "systemd-user-sessions.service"],
                                    capture_output=True, text=True).stdout.strip()
            if active == "failed" and machine.name not in nudged:
                nudged.add(machine.name)
                self.log(f"{machine.name}: systemd-user-sessions failed at boot; starting it again")
                subprocess.run(["nsenter", "-t", str(leader), "-a", "systemctl", "restart", "systemd-user-sessions.service"],
                               capture_output=True, text=True, timeout=30)
        return blocked

    # -- down ----------------------------------------------------------------------------
    def down(self) -> list[str]:
        """Stop and remove what this lab created; returns what was removed."""
        preflight.check_root()
        removed: list[str] = []
        state = self._state()
        self._close_ssh_masters()
        machines = state.get("machines", {})
        pids = {name: rec.get("pid") for name, rec in machines.items() if _nspawn_alive(rec.get("pid"), rec.get("root"))}
        for pid in pids.values():
            send_signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        while time.monotonic() < deadline and any(_nspawn_alive(p, machines[n]["root"]) for n, p in pids.items()):
            time.sleep(0.1)
        for name, pid in pids.items():
            if _nspawn_alive(pid, machines[name]["root"]):
                send_signal(pid, signal.SIGKILL)
            removed.append(f"machine {name} (pid {pid})")
        # Whatever still runs inside the lab's namespace was started there for the lab
        # (SSH proxies of Ansible and testinfra): nothing else can be in it.
        for pid in netns.pids(state.get("namespace", self.plan.namespace)):
            send_signal(pid, signal.SIGKILL)
            removed.append(f"process {pid} in the lab namespace")
        for machine in self.plan.machines:
            self._clean_machine(machine.name, machines.get(machine.name))
        namespace = state.get("namespace", self.plan.namespace)
        if netns.exists(namespace):
            netns.delete(namespace)
            removed.append(f"network namespace {namespace}")
        if self.paths.root.exists():
            self._unmount_all()
            shutil.rmtree(self.paths.root)
            removed.append(f"lab directory {self.paths.root}")
        return removed

    def _close_ssh_masters(self) -> None:
        if not self.paths.control_dir.is_dir():
            return
        for socket_path in self.paths.control_dir.iterdir():
            subprocess.run(
                ["ssh", "-F", str(self.paths.ssh_config), "-o", f"ControlPath={socket_path}", "-O", "exit", "lab"],
                capture_output=True, timeout=10,
            )

    def _clean_machine(self, name: str, record: dict | None) -> None:
        if record and _nspawn_alive(record.get("pid"), record.get("root")):
            send_signal(record["pid"], signal.SIGKILL)
            wait_gone(record["pid"])
        root = self.paths.machine(name) / "root"
        # nspawn killed hard leaves its machine running (the machine's init is reparented):
        # stop that init by the PID and PID namespace recorded when it started.
        if record and _leader_alive(record.get("leader"), record.get("leader_ns")):
            send_signal(record["leader"], signal.SIGKILL)
            wait_gone(record["leader"])
        if _is_mount(root):
            subprocess.run(["umount", str(root)], capture_output=True)
        # nspawn leaves this behind when a machine stops.
        shutil.rmtree(Path("/run/systemd/nspawn/propagate") / name, ignore_errors=True)
        planned = {m.name: m for m in self.plan.machines}
        if name in planned and netns.exists(self.plan.namespace):
            links = netns.links(self.plan.namespace)
            for iface in planned[name].interfaces:
                if iface.bridge_side in links:
                    netns.ip(self.plan.namespace, "link", "delete", iface.bridge_side, check=False)

    def _unmount_all(self) -> None:
        prefix = str(self.paths.root) + "/"
        for line in Path("/proc/self/mounts").read_text().splitlines():
            target = line.split()[1].replace("\\040", " ")
            if target.startswith(prefix):
                subprocess.run(["umount", target], capture_output=True)

    # -- status --------------------------------------------------------------------------
    def status(self) -> dict:
        state = self._state()
        namespace_up = netns.exists(self.plan.namespace)
        banners: dict[str, str | None] = {}
        if namespace_up:
            with netns.Prober(self.plan.namespace) as prober:
                banners = prober.ssh_banners([str(m.address) for m in self.plan.machines])
        hosts = []
        for machine in self.plan.machines:
            record = state.get("machines", {}).get(machine.name)
            alive = bool(record) and _nspawn_alive(record.get("pid"), record.get("root"))
            model_host = self.env.host(machine.name) if machine.name != ZONE_ROUTER else None
            hosts.append(
                {
                    "name": machine.name,
                    "zone": machine.zone or "(all)",
                    "role": model_host.role if model_host else "zone-router",
                    "address": str(machine.address),
                    "pid": record.get("pid") if alive else None,
                    "running": alive,
                    "ssh": (banners.get(str(machine.address)) or "").startswith("SSH-"),
                }
            )
        zones = [
            {"zone": b.zone, "cidr": b.cidr, "bridge": b.name, "router": b.router,
             "hosts": sorted(m.name for m in self.plan.machines if m.zone == b.zone)}
            for b in self.plan.bridges
        ]
        return {
            "env": self.env.name,
            "namespace": self.plan.namespace,
            "namespace_exists": namespace_up,
            "directory": str(self.paths.root),
            "control_node": str(self.plan.control_address),
            "image": state.get("image"),
            "up": namespace_up and all(h["running"] and h["ssh"] for h in hosts),
            "hosts": hosts,
            "zones": zones,
        }


def _account_ids(passwd: Path, account: str) -> tuple[int, int]:
    for line in passwd.read_text().splitlines():
        fields = line.split(":")
        if fields[0] == account:
            return int(fields[2]), int(fields[3])
    raise LabError(f"the base image has no account {account}; rebuild it (remove the image cache)")


def _is_mount(path: Path) -> bool:
    target = str(path)
    return any(line.split()[1] == target for line in Path("/proc/self/mounts").read_text().splitlines())


def _nspawn_alive(pid: int | None, root: str | None) -> bool:
    """True only for *our* nspawn: the PID runs systemd-nspawn with this machine's root."""
    if not pid or not root:
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return bool(cmdline) and cmdline[0].endswith(b"systemd-nspawn") and root.encode() in cmdline


def _leader_of(nspawn_pid: int) -> tuple[int, str] | None:
    """The machine's init: the child of nspawn that lives in another PID namespace."""
    own = os.readlink("/proc/self/ns/pid")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if ppid == nspawn_pid and (ns := os.readlink(entry / "ns" / "pid")) != own:
                return int(entry.name), ns
        except (OSError, IndexError, ValueError):
            continue
    return None


def _leader_alive(pid: int | None, namespace: str | None) -> bool:
    if not pid or not namespace:
        return False
    try:
        return os.readlink(f"/proc/{pid}/ns/pid") == namespace
    except OSError:
        return False
