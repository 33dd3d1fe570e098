"""Run the stacks/ program offline under the Pulumi SDK's mock runtime and record what it registers.

``pulumi.runtime.set_mocks`` accepts a monitor: ``RecordingMonitor`` is the SDK's
``MockMonitor`` that keeps what the engine would receive (URN, type, name, parent,
dependencies, provider, inputs as wire values) and answers like an engine that creates
everything as asked: outputs are the inputs, the ``additionalSecretOutputs`` a resource asks
for come back as secrets, StackReferences are answered with the outputs of the foundation
stacks rendered before. Nothing about Kubernetes is re-implemented here.

Speed matters (a province is 4,000 stacks): the monitor answers from memory, so its calls run
inline on the event loop instead of on the SDK's thread pool, and inputs are read with
protobuf's C implementation (``MessageToDict``) rather than a decode/encode round trip.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import runpy
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pulumi
from google.protobuf import struct_pb2
from google.protobuf.json_format import MessageToDict
from pulumi.runtime import resource as sdk_resource
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor, Mocks
from pulumi.runtime.proto import resource_pb2, source_pb2
from pulumi.runtime.settings import get_root_resource, set_root_resource
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

# Pulumi's wire protocol markers (sdk/proto): a map with this key holds a special value.
SIG_KEY = rpc._special_sig_key
SECRET_SIG = rpc._special_secret_sig
RESOURCE_SIG = rpc._special_resource_sig
UNKNOWN = rpc.UNKNOWN

STACK_TYPE = "pulumi:pulumi:Stack"
STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference"
PROVIDER_TYPE_PREFIX = "pulumi:providers:"
ORGANIZATION = "organization"  # what `pulumi login --local` reports


class RenderError(Exception):
    """A stack that cannot be rendered (the message names what and why)."""


@dataclass
class Registration:
    urn: str
    type: str
    name: str
    custom: bool
    parent: str | None
    dependencies: tuple[str, ...]
    provider: str | None
    inputs: dict[str, Any]


@dataclass
class RenderedProgram:
    stack: str
    registrations: list[Registration]
    outputs: dict[str, Any]
    secret_outputs: frozenset[str] = field(default_factory=frozenset)


class _NoMocks(Mocks):
    """The recording monitor answers everything; the Mocks hooks are never reached."""

    def new_resource(self, args):  # pragma: no cover - unreachable by construction
        raise RenderError(f"unexpected mock call for {args.typ}")

    def call(self, args):
        raise RenderError(f"the offline render supports no provider function calls ({args.token})")


class _InlineExecutor(concurrent.futures.ThreadPoolExecutor):
    """Runs the (in-memory, non-blocking) monitor calls at once on the loop's thread."""

    def submit(self, fn, /, *args, **kwargs):
        future: concurrent.futures.Future = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting coroutine
            future.set_exception(exc)
        return future


def _secret(value: struct_pb2.Value) -> dict[str, Any]:
    return {SIG_KEY: SECRET_SIG, "value": MessageToDict(value)}


def _provider_urn(reference: str) -> str | None:
    # Provider references are "<urn>::<id>"; the id is made up by the mock, the URN is not.
    return reference.rsplit("::", 1)[0] if reference else None


class RecordingMonitor(MockMonitor):
    def __init__(self, stack_outputs: dict[str, dict[str, Any]] | None = None) -> None:
        super().__init__(_NoMocks())
        self.registrations: list[Registration] = []
        self.duplicates: list[str] = []
        self._seen: set[str] = set()
        self._stack_outputs = stack_outputs or {}

    def _record(self, request, urn: str, custom: bool) -> None:
        if urn in self._seen:
            self.duplicates.append(urn)
            return
        self._seen.add(urn)
        inputs = MessageToDict(request.object if hasattr(request, "object") else request.properties)
        if request.type.startswith(PROVIDER_TYPE_PREFIX) and getattr(request, "version", ""):
            # The engine records a provider's plugin version among its inputs.
            inputs["version"] = request.version
        self.registrations.append(Registration(
            urn=urn,
            type=request.type,
            name=request.name,
            custom=custom,
            parent=request.parent or None,
            dependencies=tuple(sorted(set(getattr(request, "dependencies", ())))),
            provider=_provider_urn(request.provider),
            inputs=inputs,
        ))

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """The URN the engine gives: the parent's qualified type (its whole chain of types, the
        root stack's left out) and ``$`` before the type. (The SDK's mock prefixes only the
        parent's last type, and the root stack's too: ``pulumi:pulumi:Stack$...``.)"""
        if parent:
            qualified = parent.split("::")[2]
            if qualified != STACK_TYPE:
                type_ = f"{qualified}${type_}"
        return "urn:pulumi:" + "::".join([pulumi.get_stack(), pulumi.get_project(), type_, name])

    def RegisterResource(self, request):
        urn = self.make_urn(request.parent, request.type, request.name)
        self._record(request, urn, bool(request.custom))
        if request.type == STACK_TYPE:
            return resource_pb2.RegisterResourceResponse(urn=urn)
        outputs = struct_pb2.Struct()
        outputs.CopyFrom(request.object)
        for name in request.additionalSecretOutputs:
            if name in outputs.fields and not _is_secret(outputs.fields[name]):
                outputs[name] = _secret(outputs.fields[name])
        resource_id = request.name if request.custom else ""
        return resource_pb2.RegisterResourceResponse(urn=urn, id=resource_id, object=outputs)

    def ReadResource(self, request):
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type != STACK_REFERENCE_TYPE:
            raise RenderError(f"the offline render cannot read existing resources ({request.type} {request.id})")
        stack = request.id.rsplit("/", 1)[-1]
        if stack not in self._stack_outputs:
            raise RenderError(f"StackReference to {request.id}: stack {stack} was not rendered before this one")
        self._record(request, urn, True)
        outputs = struct_pb2.Struct()
        outputs.update({"name": request.id, "outputs": self._stack_outputs[stack], "secretOutputNames": []})
        return resource_pb2.ReadResourceResponse(urn=urn, properties=outputs)

    def Invoke(self, request):
        raise RenderError(f"the offline render supports no provider function calls ({request.tok})")


def _is_secret(value: struct_pb2.Value) -> bool:
    return value.WhichOneof("kind") == "struct_value" and value.struct_value.fields.get(SIG_KEY) is not None \
        and value.struct_value.fields[SIG_KEY].string_value == SECRET_SIG


@contextlib.contextmanager
def _without_source_positions() -> Iterator[None]:
    """Skip the SDK's per-resource stack trace while rendering offline.

    For every resource the SDK walks the Python stack to send the engine a source position for
    its diagnostics; the recording monitor discards it, and the walk is a fifth of the render's
    CPU time at province scale. Rendered output is byte-for-byte the same (tested). The engine
    path (``pulumi up``) never comes here. If a future SDK renames the private function, nothing
    is patched: the render stays correct, only slower.
    """
    original = getattr(sdk_resource, "_get_stack_trace", None)
    if original is None:
        yield
        return
    sdk_resource._get_stack_trace = source_pb2.StackTrace
    try:
        yield
    finally:
        sdk_resource._get_stack_trace = original


def run_program(program: Path, stack: str, *, project: str, config: dict[str, str], secret_keys: list[str] | None = None,
                stack_outputs: dict[str, dict[str, Any]] | None = None) -> RenderedProgram:
    """Run ``program`` (a directory with ``__main__.py``, or a file) as stack ``stack``.

    The run happens on a fresh thread with its own event loop, cancelled and closed afterwards
    (should the SDK's stack-trace walk not be patched out, the short call stack also keeps it cheap).
    """
    outcome: list = []

    def target() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            outcome.append(_run_program(program, stack, project=project, config=config, secret_keys=secret_keys or [],
                                        stack_outputs=stack_outputs))
        except BaseException as exc:  # noqa: BLE001 - re-raised on the calling thread
            outcome.append(exc)
        finally:
            # A failed program leaves registrations pending: cancel them as asyncio.run would.
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

    thread = threading.Thread(target=target, name=f"render {stack}")
    with _without_source_positions():
        thread.start()
        thread.join()
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


def _run_program(program: Path, stack: str, *, project: str, config: dict[str, str], secret_keys: list[str],
                 stack_outputs: dict[str, dict[str, Any]] | None) -> RenderedProgram:
    monitor = RecordingMonitor(stack_outputs)
    # As the engine's language host does: a failed program leaves futures and coroutines nobody
    # awaits; their messages say nothing more.
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    warnings.filterwarnings("ignore", message="coroutine .* was never awaited", category=RuntimeWarning)
    # As the exec shim does with PULUMI_CONFIG and PULUMI_CONFIG_SECRET_KEYS.
    pulumi.runtime.set_all_config(dict(config), list(secret_keys))
    set_root_resource(None)  # type: ignore[arg-type]  # set_mocks makes a new root stack only when there is none
    pulumi.runtime.set_mocks(_NoMocks(), project=project, stack=stack, preview=False, monitor=monitor,
                             organization=ORGANIZATION)
    _ensure_event_loop().set_default_executor(_InlineExecutor(max_workers=1))
    path = program / "__main__.py" if program.is_dir() else program

    @pulumi.runtime.test
    def _run():
        runpy.run_path(str(path), run_name="__main__")

    try:
        _run()
    except RenderError:
        raise
    except Exception as exc:  # the program's own error, e.g. an unknown stack name
        raise RenderError(f"{type(exc).__name__}: {exc}") from exc
    if monitor.duplicates:
        raise RenderError("duplicate URNs (the engine would reject them): " + ", ".join(sorted(set(monitor.duplicates))))
    outputs: dict[str, Any] = {}
    secret: set[str] = set()
    root = get_root_resource()
    for key, value in sorted((root.outputs if root is not None else {}).items()):  # type: ignore[attr-defined]  # a Stack
        output = pulumi.Output.from_input(value)
        outputs[key] = _sync_await(output.future())
        if _sync_await(output.is_secret()):
            secret.add(key)
    return RenderedProgram(stack, monitor.registrations, outputs, frozenset(secret))
