"""The engine path: stacks/ run as Pulumi runs it (language host, gRPC, stack name set).

The Pulumi engine cannot be installed here, so a recording ResourceMonitor/Engine pair built on
the SDK's own gRPC stubs listens on loopback; the program runs in its own process exactly as
the language host starts it. What the engine would be asked to create is what we assert on.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent import futures
from pathlib import Path

import grpc
from google.protobuf import empty_pb2, struct_pb2
from google.protobuf.json_format import MessageToDict
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc, resource_pb2, resource_pb2_grpc

from govcloud.components.program import PROJECT_DIR

from .conftest import LAB_INVENTORIES

LANGHOST = Path(__file__).with_name("langhost.py")


class RecordingMonitor(resource_pb2_grpc.ResourceMonitorServicer):
    def __init__(self, stack: str, stack_outputs: dict[str, dict]):
        self.stack, self.stack_outputs, self.registered, self.read = stack, stack_outputs, [], []

    def _urn(self, request) -> str:
        type_ = request.type
        if request.parent:
            type_ = request.parent.split("::")[2] + "$" + type_
        return f"urn:pulumi:{self.stack}::govcloud::{type_}::{request.name}"

    def GetDeploymentInfo(self, request, context):
        return resource_pb2.DeploymentInfo(supportedFeatures=[resource_pb2.RESOURCE_MONITOR_FEATURE_SECRETS,
                                                              resource_pb2.RESOURCE_MONITOR_FEATURE_RESOURCE_REFERENCES])

    def SupportsFeature(self, request, context):
        return resource_pb2.SupportsFeatureResponse(hasSupport=request.id in ("secrets", "resourceReferences"))

    def RegisterResource(self, request, context):
        urn = self._urn(request)
        self.registered.append({"type": request.type, "name": request.name, "custom": request.custom,
                                "provider": request.provider, "inputs": MessageToDict(request.object)})
        return resource_pb2.RegisterResourceResponse(urn=urn, id=request.name if request.custom else "", object=request.object)

    def ReadResource(self, request, context):
        self.read.append(request.id)
        outputs = struct_pb2.Struct()
        outputs.update({"name": request.id, "outputs": self.stack_outputs[request.id.rsplit("/", 1)[-1]], "secretOutputNames": []})
        return resource_pb2.ReadResourceResponse(urn=self._urn(request), properties=outputs)

    def RegisterResourceOutputs(self, request, context):
        return empty_pb2.Empty()

    def RegisterPackage(self, request, context):
        return resource_pb2.RegisterPackageResponse(ref=f"{request.name}-ref")

    def SignalAndWaitForShutdown(self, request, context):
        return empty_pb2.Empty()


class RecordingEngine(engine_pb2_grpc.EngineServicer):
    def __init__(self):
        self.root, self.logs = "", []

    def Log(self, request, context):
        self.logs.append(request.message)
        return empty_pb2.Empty()

    def GetRootResource(self, request, context):
        return engine_pb2.GetRootResourceResponse(urn=self.root)

    def SetRootResource(self, request, context):
        self.root = request.urn
        return engine_pb2.SetRootResourceResponse()


def run_like_pulumi(stack: str, stack_outputs: dict[str, dict]) -> tuple[RecordingMonitor, RecordingEngine, subprocess.CompletedProcess]:
    monitor, engine = RecordingMonitor(stack, stack_outputs), RecordingEngine()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    resource_pb2_grpc.add_ResourceMonitorServicer_to_server(monitor, server)
    engine_pb2_grpc.add_EngineServicer_to_server(engine, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        config = {"govcloud:inventories": str(LAB_INVENTORIES), "govcloud:datapoolPassword": "engine-path-test"}
        env = dict(os.environ, PULUMI_CONFIG=json.dumps(config), PULUMI_CONFIG_SECRET_KEYS=json.dumps(["govcloud:datapoolPassword"]))
        done = subprocess.run(
            [sys.executable, str(LANGHOST), "--project", "govcloud", "--stack", stack, "--organization", "organization",
             "--monitor", f"127.0.0.1:{port}", "--engine", f"127.0.0.1:{port}", "--parallel", "4", "--dry_run", "true",
             str(PROJECT_DIR / "stacks")],
            cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=300)
    finally:
        server.stop(grace=None)
    return monitor, engine, done


def kinds(monitor: RecordingMonitor) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for reg in monitor.registered:
        found.setdefault(reg["type"], []).append(reg["name"])
    return found


def test_foundation_stack_registers_its_baseline(lab):
    monitor, engine, done = run_like_pulumi("lab.cluster-egov-1", {})
    assert done.returncode == 0, done.stderr + "\n".join(engine.logs)
    registered = kinds(monitor)
    assert registered["pulumi:providers:kubernetes"] == ["cluster-egov-1"]
    provider = next(r for r in monitor.registered if r["type"] == "pulumi:providers:kubernetes")
    assert provider["inputs"]["context"] == "lab-egov-1"
    assert registered["govcloud:platform:ClusterFoundation"] == ["egov-1"]
    assert len(registered["kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy"]) == 10  # guardrails.for_cluster(egov-1): nine rails plus the zone-flows rail
    assert registered["kubernetes:gateway.networking.k8s.io/v1:Gateway"] == ["govcloud-gateway/zone-ingress"]
    assert len(registered["kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"]) == 4
    # the same program, the same registrations as the offline render
    rendered = {(r.type, r.name) for r in lab.state("lab.cluster-egov-1").resources if r.type != "pulumi:pulumi:Stack"}
    assert {(r["type"], r["name"]) for r in monitor.registered if r["type"] != "pulumi:pulumi:Stack"} == rendered


def test_tenant_stack_reads_its_foundations_and_registers_its_environment(lab):
    outputs = {name: lab.state(name).outputs for name in ("lab.cluster-egov-1", "lab.cluster-internet-1")}
    monitor, engine, done = run_like_pulumi("lab.t-430100-health", outputs)
    assert done.returncode == 0, done.stderr + "\n".join(engine.logs)
    assert sorted(monitor.read) == ["organization/govcloud/lab.cluster-egov-1", "organization/govcloud/lab.cluster-internet-1"]
    registered = kinds(monitor)
    assert sorted(registered["kubernetes:core/v1:Namespace"]) == ["edge-t-430100-health", "t-430100-health-app", "t-430100-health-data"]
    assert len(registered["kubernetes:networking.k8s.io/v1:NetworkPolicy"]) == 5  # 2 namespaces x 2, edge 1
    assert len(registered["kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"]) == 8
    secret = next(r for r in monitor.registered if r["type"] == "kubernetes:core/v1:Secret")
    assert secret["inputs"]["stringData"]["4dabf18193072939515e22adb298388d"] == "1b47061264138c4ac30d75fd1eb44270"  # a secret on the wire
    role_binding = next(r for r in monitor.registered if r["name"] == "t-430100-health-app/admin-audit")
    assert role_binding["inputs"]["roleRef"]["name"] == "govcloud-tenant-audit-admin"  # read through the StackReference


def test_an_unknown_stack_name_fails_the_program():
    monitor, engine, done = run_like_pulumi("lab.t-999999-nobody", {})
    assert done.returncode == 1
    assert "is not implied by the model of environment lab" in done.stderr
    assert not [r for r in monitor.registered if r["type"].startswith("kubernetes:")]
