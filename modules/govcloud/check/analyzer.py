"""Driving the policy pack the way the Pulumi engine does, without the engine.

The engine starts a Python pack as ``python -u -m pulumi.policy <engine> .`` in the pack's
directory (with the virtualenv PulumiPolicy.yaml names), reads the port the pack prints, then
speaks the analyzer gRPC protocol: GetAnalyzerInfo, Configure (the reconciled policy config),
ConfigureStack, Analyze for each resource and AnalyzeStack for the whole stack. ``PackProcess``
does exactly that with the stubs shipped in the Pulumi SDK, so ``govcloud check`` runs the same
program a user's ``pulumi preview --policy-pack policies/`` runs. One process serves many stacks.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import importlib.util
import json
import os
import select
import subprocess
import sys
import threading
import time
import types
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import jsonschema
import yaml

from ..policy.facts import ENV_TRACE as FACT_TRACE_ENV
from ..policy.pack import GC_THRESHOLD
from ..state import REDACTED, SECRET_OUTPUTS, SECRET_SIG, SECRET_SIG_KEY, ResourceState, StackState, checked_inputs

ENGINE_ADDRESS = "127.0.0.1:0"  # the pack never calls back into the engine during analysis
ENFORCEMENT_LEVELS = ("advisory", "mandatory", "remediate", "disabled")
START_TIMEOUT_SECONDS = 60.0
WINDOW = 64  # Analyze requests in flight: keeps the pack busy while we marshal the next ones


class PackError(Exception):
    """The pack could not be started, configured or driven; the message says why."""


class ConfigError(PackError):
    """The policy configuration does not fit the pack (unknown rule, bad level, schema)."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class PolicyInfo:
    name: str
    description: str
    enforcement: str
    kind: str  # resource | stack
    severity: str
    config_schema: dict[str, Any]
    remediation: str


@dataclass(frozen=True)
class PackInfo:
    name: str
    version: str
    policies: tuple[PolicyInfo, ...]


@dataclass
class StackOutcome:
    """What the pack said about one stack: per resource and for the stack as a whole."""

    stack: StackState
    # (policy, urn or "", message, enforcement) of every diagnostic
    diagnostics: list[tuple[str, str, str, str]] = field(default_factory=list)
    # policy -> URNs the policy declared itself not applicable to ("" = the stack)
    not_applicable: dict[str, set[str]] = field(default_factory=dict)
    # the resources sent (``engine_analyzed``), in the state's order; None: not recorded
    analyzed: list[ResourceState] | None = None


@functools.cache
def level_names() -> dict[int, str]:
    """The analyzer protocol's enforcement levels by name (imported late: pulumi is heavy)."""
    analyzer_pb2 = protocol().analyzer_pb2

    return {analyzer_pb2.ADVISORY: "advisory", analyzer_pb2.MANDATORY: "mandatory",
            analyzer_pb2.REMEDIATE: "remediate", analyzer_pb2.DISABLED: "disabled"}


@functools.cache
def diagnostic_levels() -> dict[int, str]:
    """A finding's level: one the pack would remediate blocks like a mandatory one."""
    return {**level_names(), level_names_inverse()["remediate"]: "mandatory"}


def level_names_inverse() -> dict[str, int]:
    return {name: number for number, name in level_names().items()}


def pack_metadata(pack_dir: Path) -> dict[str, Any]:
    path = pack_dir / "PulumiPolicy.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PackError(f"{path}: cannot read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise PackError(f"{path}: not YAML ({exc})") from None
    if not isinstance(data, dict) or "runtime" not in data:
        raise PackError(f"{path}: not a policy pack project file (no runtime)")
    return data


def pack_python(pack_dir: Path, metadata: dict[str, Any]) -> str:
    """The interpreter the engine's python shim would use: the pack's virtualenv, if it has one."""
    runtime = metadata.get("runtime")
    options = runtime.get("options", {}) if isinstance(runtime, dict) else {}
    virtualenv = options.get("virtualenv") if isinstance(options, dict) else None
    if virtualenv:
        python = (pack_dir / str(virtualenv)).resolve() / "bin" / "python"
        if python.exists():
            return str(python)
    return sys.executable


# --- properties on the wire ----------------------------------------------------------------
def _split_path(data: Any, path: str) -> list[str] | None:
    """Resolve a dotted secret path against ``data`` where keys may contain dots themselves."""
    if not path:
        return []
    if isinstance(data, dict):
        for key in sorted(data, key=len, reverse=True):
            if path == key:
                return [key]
            if path.startswith(key + "."):
                rest = _split_path(data[key], path[len(key) + 1 :])
                if rest is not None:
                    return [key] + rest
    return None


def wire_properties(resource: ResourceState) -> dict[str, Any]:
    """Inputs as the engine marshals them for an analyzer: as the provider checked them (the
    engine analyzes checked inputs: ``govcloud.state.checked_inputs``), secrets wrapped in
    their signature."""
    inputs, secret_paths = checked_inputs(resource.type, resource.inputs, resource.secret_paths)
    if not secret_paths:
        return inputs
    import copy

    props = copy.deepcopy(inputs)
    for path in sorted(secret_paths):
        keys = _split_path(props, path)
        if not keys:
            continue
        parent = props
        for key in keys[:-1]:
            parent = parent[key]
        parent[keys[-1]] = {SECRET_SIG_KEY: SECRET_SIG, "value": parent[keys[-1]] if parent[keys[-1]] is not None else REDACTED}
    return props


def fill_struct(struct: Any, data: dict[str, Any]) -> Any:
    """``struct.update(data)`` for JSON data, the message field for field the same, without the
    per-value isinstance chain of protobuf's pure-Python ``Struct.update`` (a province's requests
    hold millions of values); anything but JSON types goes through ``update`` itself."""
    fields = struct.fields
    for key, value in data.items():
        _fill_value(fields[key], value)
    return struct


def _fill_value(message: Any, value: Any) -> None:
    kind = type(value)
    if kind is str:
        message.string_value = value
    elif kind is dict:
        fields = message.struct_value.fields
        for key, item in value.items():
            _fill_value(fields[key], item)
        if not value:
            message.struct_value.Clear()  # present though empty, as update marks it
    elif kind is list:
        values = message.list_value.values
        for item in value:
            _fill_value(values.add(), item)
        if not value:
            message.list_value.Clear()
    elif kind is bool:
        message.bool_value = value
    elif kind is int or kind is float:
        message.number_value = value
    elif value is None:
        message.null_value = 0
    else:  # tuples, subclasses, protobuf messages: protobuf's own rules
        from google.protobuf import struct_pb2

        holder = struct_pb2.Struct()
        holder.update({"v": value})
        message.CopyFrom(holder.fields["v"])


STACK_REFERENCE = "pulumi:pulumi:StackReference"
DEFAULT_PULUMI_PROVIDER = "pulumi:providers:pulumi"


def engine_analyzed(state: StackState) -> list[ResourceState]:
    """The resources the engine sends the pack for a stack: every resource the program manages;
    not the stacks it reads (StackReferences), but the default ``pulumi`` provider it reads them
    with."""
    resources = [r for r in state.resources if r.type != STACK_REFERENCE]
    if len(resources) < len(state.resources):
        stack = state.stack
        project = state.project or "govcloud"
        resources.append(ResourceState(urn=f"urn:pulumi:{stack}::{project}::{DEFAULT_PULUMI_PROVIDER}::default",
                                       type=DEFAULT_PULUMI_PROVIDER, name="default", custom=True))
    return resources


def resource_options(resource: ResourceState):
    """The resource options the engine sends with a resource: its parent, the custom timeouts
    (none set) and the outputs it asked to keep secret (a Secret's, as KubeObject registers it)."""
    analyzer_pb2 = protocol().analyzer_pb2

    return analyzer_pb2.AnalyzerResourceOptions(
        parent=resource.parent or "", customTimeouts=analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts(),
        additionalSecretOutputs=list(SECRET_OUTPUTS) if resource.type == "kubernetes:core/v1:Secret" else [])


# --- the engine's config reconciliation --------------------------------------------------
def reconcile_config(info: PackInfo, given: dict[str, Any], validate: bool = True) -> dict[str, dict[str, Any]]:
    """What the engine does with ``--policy-pack-config``: defaults from each policy's schema,
    then "all", then per-policy values; validated against each policy's config schema.

    We are stricter than the engine in one way: a key that names no policy is an error (the
    engine ignores it, which turns a typo into a silently unenforced rule).
    """
    problems: list[str] = []
    if not isinstance(given, dict):
        raise ConfigError(["the policy configuration must be a JSON object"])
    names = {p.name for p in info.policies}
    result: dict[str, dict[str, Any]] = {}
    for policy in info.policies:
        props = {k: v["default"] for k, v in policy.config_schema.get("properties", {}).items() if isinstance(v, dict) and "default" in v}
        result[policy.name] = {"enforcementLevel": policy.enforcement, "properties": props}

    def level_of(key: str, value: Any) -> str | None:
        if value is None:
            return None
        if value not in ENFORCEMENT_LEVELS:
            problems.append(f"{key}: {value!r} is not an enforcement level ({', '.join(ENFORCEMENT_LEVELS)})")
            return None
        return value

    if "all" in given:
        all_value = given["all"]
        level = level_of("all", all_value if isinstance(all_value, str) else (all_value or {}).get("enforcementLevel"))
        if level:
            for entry in result.values():
                entry["enforcementLevel"] = level
    for key in sorted(given):
        if key == "all":
            continue
        if key not in names:
            problems.append(f"{key}: no such rule in pack {info.name} {info.version}")
            continue
        value = given[key]
        if isinstance(value, str):
            level = level_of(key, value)
            if level:
                result[key]["enforcementLevel"] = level
        elif isinstance(value, dict):
            props = dict(value)
            level = level_of(key, props.pop("enforcementLevel", None))
            if level:
                result[key]["enforcementLevel"] = level
            result[key]["properties"].update(props)
        else:
            problems.append(f"{key}: must be an enforcement level or an object")
    # The same fact goes to many policies: validate each (schema, value) pair once. (A caller
    # that knows this very configuration passed for this very pack may skip it.)
    checked: dict[tuple[str, int], list[str]] = {}
    for policy in info.policies if validate else ():
        schema = policy.config_schema
        props = result[policy.name]["properties"]
        for name in schema.get("required", []):
            if name not in props:
                problems.append(f"{policy.name}: {name!r} is a required property")
        for name, subschema in sorted(schema.get("properties", {}).items()):
            if name not in props:
                continue
            pair = (json.dumps(subschema, sort_keys=True), id(props[name]))
            if pair not in checked:
                validator = jsonschema.Draft7Validator(subschema)
                checked[pair] = [
                    "/".join([name, *(str(p) for p in error.path)]) + ": " + error.message
                    for error in sorted(validator.iter_errors(props[name]), key=lambda e: [str(p) for p in e.path])
                ]
            problems += [f"{policy.name}: {message}" for message in checked[pair]]
    if problems:
        raise ConfigError(problems)
    return result


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Python's collector runs every 700 allocations and, every so often, walks the whole heap
    (the model and every state loaded); driving a pack allocates thousands of short-lived,
    acyclic objects per stack (freed by refcount anyway): collect far less often meanwhile."""
    before = gc.get_threshold()
    gc.set_threshold(GC_THRESHOLD, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


CONFIGURE_METHOD = "/pulumirpc.Analyzer/Configure"


def configure_request(reconciled: dict[str, dict[str, Any]]):
    """The Configure request of a reconciled configuration."""
    from google.protobuf import struct_pb2
    analyzer_pb2 = protocol().analyzer_pb2

    levels: dict[str, Any] = level_names_inverse()
    request = analyzer_pb2.ConfigureAnalyzerRequest()
    values: dict[int, struct_pb2.Value] = {}  # one protobuf value per fact, copied into each policy
    for name, entry in reconciled.items():
        config = request.policyConfig[name]
        config.enforcementLevel = levels[entry["enforcementLevel"]]
        config.properties.SetInParent()
        for key, value in entry["properties"].items():
            if id(value) not in values:
                values[id(value)] = fill_struct(struct_pb2.Struct(), {"v": value}).fields["v"]
            config.properties.fields[key].CopyFrom(values[id(value)])
    return request


_PROTOCOL_LOCK = threading.Lock()
_PROTOCOL: list[types.SimpleNamespace] = []  # loaded once, under the lock: a second load makes other classes


def protocol() -> types.SimpleNamespace:
    """The analyzer protocol's generated modules (``analyzer_pb2``, ``analyzer_pb2_grpc``) from
    the Pulumi SDK, without running the SDK's package ``__init__`` when nothing imported it yet:
    that imports the automation API, dynamic providers (dill) and OpenTelemetry, a quarter of a
    second of a one-stack re-check the check itself never uses. The packages above the modules
    stand in as bare modules while they import (their own imports are relative), and everything
    loaded under them is removed after, so a later ``import pulumi`` runs the SDK as always and
    loads these modules anew (the descriptor pool takes the same proto file twice)."""
    with _PROTOCOL_LOCK:
        if _PROTOCOL:
            return _PROTOCOL[0]
        if "pulumi" in sys.modules:
            from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
        else:
            spec = importlib.util.find_spec("pulumi")
            assert spec is not None and spec.submodule_search_locations, "the Pulumi SDK is not installed"
            root = Path(next(iter(spec.submodule_search_locations)))
            packages = {"pulumi": root, "pulumi.runtime": root / "runtime", "pulumi.runtime.proto": root / "runtime" / "proto"}
            before = set(sys.modules)
            for name, path in packages.items():
                stand_in = types.ModuleType(name)
                stand_in.__path__ = [str(path)]
                sys.modules[name] = stand_in
            try:
                analyzer_pb2_grpc = importlib.import_module("pulumi.runtime.proto.analyzer_pb2_grpc")
                analyzer_pb2 = sys.modules["pulumi.runtime.proto.analyzer_pb2"]
            finally:  # every pulumi module loaded here goes: a real import loads them anew
                for name in set(sys.modules) - before:
                    if name == "pulumi" or name.startswith("pulumi."):
                        del sys.modules[name]
        _PROTOCOL.append(types.SimpleNamespace(analyzer_pb2=analyzer_pb2, analyzer_pb2_grpc=analyzer_pb2_grpc))
        return _PROTOCOL[0]


# --- the pack process ------------------------------------------------------------------------
class PackProcess:
    """One running pack, spoken to over the analyzer protocol; use as a context manager."""

    def __init__(self, pack_dir: Path, fact_trace: Path | None = None):
        self.pack_dir = pack_dir.resolve()
        self.fact_trace = fact_trace  # where the pack records the facts each stack's rules read
        self.metadata = pack_metadata(self.pack_dir)
        self.version = str(self.metadata.get("version", ""))
        self._process: subprocess.Popen | None = None
        self._channel: Any = None  # grpc.Channel, once started (grpc is imported late)
        self._stub: Any = None
        self._info: PackInfo | None = None
        self.configured: bytes | None = None  # the serialized Configure request it took last
        self._warming: Future | None = None  # ``warm_up``'s

    # -- lifecycle -----------------------------------------------------------------------
    def __enter__(self) -> "PackProcess":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def warm_up(self, last_request: Callable[[], tuple[str, bytes] | None] | None = None) -> None:
        """Connect, ask for the pack's information and send it ``last_request()`` (a serialized
        Configure request) on a thread, while the caller does other work; the methods below wait
        for it. A failure to start is raised by ``start``; any other is left for the call that
        redoes the step to report."""
        def warm() -> None:
            self._start()
            with contextlib.suppress(Exception):
                self.info(settle=False)
                found = last_request() if last_request is not None else None
                if found is not None:
                    self._send_configure(found[1])

        warming = ThreadPoolExecutor(1, thread_name_prefix="govcloud-pack-ahead")
        self._warming = warming.submit(warm)
        warming.shutdown(wait=False)

    def _settle(self) -> None:
        """Wait for ``warm_up``; raise its failure to start."""
        warming, self._warming = self._warming, None
        error = warming.exception() if warming is not None else None
        if error is not None and self._stub is None:
            raise error

    def start(self) -> None:
        self._settle()
        if self._stub is None:
            self._start()

    def _start(self) -> None:
        import grpc
        analyzer_pb2_grpc = protocol().analyzer_pb2_grpc

        if self._process is None:
            self.spawn()
        port = self._read_port()
        self._channel = grpc.insecure_channel(
            f"127.0.0.1:{port}", options=[("grpc.max_send_message_length", -1), ("grpc.max_receive_message_length", -1)]
        )
        try:
            grpc.channel_ready_future(self._channel).result(timeout=START_TIMEOUT_SECONDS)
        except grpc.FutureTimeoutError:
            raise self._failure("did not accept connections") from None
        self._stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)

    def spawn(self) -> None:
        """Start the pack's process; ``start`` then waits for its port and connects."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
        env["PYTHONUNBUFFERED"] = "1"
        env.pop(FACT_TRACE_ENV, None)
        if self.fact_trace is not None:
            env[FACT_TRACE_ENV] = str(self.fact_trace)
        command = [pack_python(self.pack_dir, self.metadata), "-u", "-m", "pulumi.policy", ENGINE_ADDRESS, "."]
        self._process = subprocess.Popen(
            command, cwd=self.pack_dir, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )

    def _read_port(self) -> int:
        assert self._process is not None and self._process.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        line = b""
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([self._process.stdout], [], [], max(remaining, 0))
            if not ready:
                raise self._failure(f"printed no port within {START_TIMEOUT_SECONDS:.0f} s")
            chunk = os.read(self._process.stdout.fileno(), 1)
            if not chunk:
                raise self._failure("exited before printing its port")
            line += chunk
        try:
            return int(line.strip())
        except ValueError:
            raise self._failure(f"printed {line.strip()[:80]!r} instead of a port") from None

    def _failure(self, what: str) -> PackError:
        stderr = ""
        if self._process is not None:
            if self._process.poll() is None:
                self._process.kill()
            try:
                _, err = self._process.communicate(timeout=5)
                stderr = err.decode("utf-8", "replace").strip()
            except (subprocess.TimeoutExpired, ValueError):
                pass
        tail = "\n".join(stderr.splitlines()[-15:])
        return PackError(f"policy pack {self.pack_dir} {what}" + (f":\n{tail}" if tail else ""))

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._settle()  # never closed under the thread that warms it up
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process is not None:
            for stream in (process.stdout, process.stderr):
                if stream is not None:
                    stream.close()

    def _call(self, method: str, request, send: Callable[[Any], Any] | None = None):
        """``method`` with ``request`` (through ``send``, if given), its failure a ``PackError``."""
        import grpc

        try:
            return (send or getattr(self._stub, method))(request)
        except grpc.RpcError as error:
            raise PackError(f"{method} failed: {error.details() if hasattr(error, 'details') else error}") from None

    # -- protocol --------------------------------------------------------------------------
    def info(self, settle: bool = True) -> PackInfo:
        if settle:
            self._settle()
        if self._info is not None:
            return self._info
        from google.protobuf import empty_pb2, json_format
        analyzer_pb2 = protocol().analyzer_pb2

        response = self._call("GetAnalyzerInfo", empty_pb2.Empty())
        levels = level_names()
        severities = {analyzer_pb2.POLICY_SEVERITY_LOW: "low", analyzer_pb2.POLICY_SEVERITY_MEDIUM: "medium",
                      analyzer_pb2.POLICY_SEVERITY_HIGH: "high", analyzer_pb2.POLICY_SEVERITY_CRITICAL: "critical"}
        policies = []
        for p in response.policies:
            schema: dict[str, Any] = {}
            if p.HasField("configSchema"):
                schema = {
                    "properties": json_format.MessageToDict(p.configSchema.properties),
                    "required": list(p.configSchema.required),
                }
            policies.append(PolicyInfo(
                name=p.name,
                description=p.description,
                enforcement=levels.get(p.enforcementLevel, "advisory"),
                kind="stack" if p.policy_type == analyzer_pb2.POLICY_TYPE_STACK else "resource",
                severity=severities.get(p.severity, ""),
                config_schema=schema,
                remediation=p.remediation_steps,
            ))
        # The engine prefers the version in PulumiPolicy.yaml over what the pack reports.
        self._info = PackInfo(response.name, self.version or response.version, tuple(sorted(policies, key=lambda p: p.name)))
        return self._info

    def configure(self, reconciled: dict[str, dict[str, Any]], request: Any = None) -> None:
        """Configure the pack with the reconciled configuration (``request``: its
        ``configure_request``, made once for several packs, or that request serialized)."""
        self._settle()
        if isinstance(request, bytes):  # sent as it is: building a province's request is a fifth of a second
            if request != self.configured:  # the same request again changes nothing (it replaces the last)
                self._send_configure(request)
            return
        self.configured = None
        self._call("Configure", request if request is not None else configure_request(reconciled))

    def _send_configure(self, request: bytes) -> None:
        from google.protobuf import empty_pb2

        self.configured = None
        self._call("Configure", request, send=self._channel.unary_unary(
            CONFIGURE_METHOD, request_serializer=None, response_deserializer=empty_pb2.Empty.FromString))
        self.configured = request

    def analyze(self, states: Iterable[StackState], project: str = "govcloud") -> Iterator[StackOutcome]:
        """Analyze every resource of every stack, then the stack as a whole, as the engine does."""
        from google.protobuf import struct_pb2
        analyzer_pb2 = protocol().analyzer_pb2

        for state in states:
            self._call("ConfigureStack", analyzer_pb2.AnalyzerStackConfigureRequest(
                stack=state.stack, project=state.project or project, organization="organization", dry_run=True,
            ))
            analyzed = engine_analyzed(state)
            outcome = StackOutcome(state, analyzed=analyzed)
            resources = sorted(analyzed, key=lambda r: r.urn)
            by_urn = state.by_urn()
            structs: dict[str, struct_pb2.Struct] = {}
            providers: dict[str, Any] = {}  # AnalyzerProviderResource or None

            def provider_of(resource: ResourceState, providers=providers, by_urn=by_urn):
                if resource.provider not in providers:
                    providers[resource.provider] = self._provider(resource, by_urn)
                return providers[resource.provider]

            options: dict[tuple[str, str], Any] = {}  # AnalyzerResourceOptions

            def options_of(resource: ResourceState, options=options):
                """The same options message for the resources that share a parent (and type)."""
                key = (resource.parent or "", resource.type)
                if key not in options:
                    options[key] = resource_options(resource)
                return options[key]

            def request_for(resource: ResourceState, structs=structs, provider_of=provider_of,
                            options_of=options_of) -> Any:  # AnalyzeRequest
                props = fill_struct(struct_pb2.Struct(), wire_properties(resource))
                structs[resource.urn] = props
                return analyzer_pb2.AnalyzeRequest(
                    urn=resource.urn, type=resource.type, name=resource.name, properties=props,
                    options=options_of(resource), provider=provider_of(resource),
                )

            pending: deque = deque()
            for resource in resources:
                pending.append((resource.urn, self._stub.Analyze.future(request_for(resource))))
                if len(pending) >= WINDOW:
                    self._collect(outcome, *pending.popleft())
            while pending:
                self._collect(outcome, *pending.popleft())

            stack_request = analyzer_pb2.AnalyzeStackRequest(resources=[
                analyzer_pb2.AnalyzerResource(
                    urn=r.urn, type=r.type, name=r.name, properties=structs[r.urn], options=options_of(r),
                    provider=provider_of(r), parent=r.parent or "", dependencies=list(r.dependencies),
                )
                for r in resources
            ])
            response = self._call("AnalyzeStack", stack_request)
            self._record(outcome, "", response)
            yield outcome

    @staticmethod
    def _provider(resource: ResourceState, by_urn: dict[str, ResourceState]):
        from google.protobuf import struct_pb2
        analyzer_pb2 = protocol().analyzer_pb2

        if not resource.provider:
            return None
        urn = resource.provider.split("::")[0:4]
        provider = by_urn.get("::".join(urn)) if len(urn) == 4 else None
        if provider is None:
            return None
        props = fill_struct(struct_pb2.Struct(), wire_properties(provider))
        return analyzer_pb2.AnalyzerProviderResource(urn=provider.urn, type=provider.type, name=provider.name, properties=props)

    def _collect(self, outcome: StackOutcome, urn: str, future) -> None:
        import grpc

        try:
            response = future.result()
        except grpc.RpcError as error:
            raise PackError(f"Analyze({urn}) failed: {error.details() if hasattr(error, 'details') else error}") from None
        self._record(outcome, urn, response)

    @staticmethod
    def _record(outcome: StackOutcome, urn: str, response) -> None:
        levels = diagnostic_levels()
        for d in response.diagnostics:
            message = d.message
            if d.description and message.startswith(d.description):
                message = message[len(d.description):].lstrip("\n") or d.description
            outcome.diagnostics.append((d.policyName, d.urn or urn, message, levels.get(d.enforcementLevel, "advisory")))
        skipped = outcome.not_applicable
        for item in response.not_applicable:  # about 25 per response: no new set per entry (setdefault's)
            name = item.policy_name
            urns = skipped.get(name)
            if urns is None:
                skipped[name] = {urn}
            else:
                urns.add(urn)
