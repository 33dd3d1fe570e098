"""Serving the pack: what ``policies/__main__.py`` runs, under the engine or ``govcloud check``.

One speed-up, and why: the Python policy SDK (pulumi_policy) turns a resource's properties
from protobuf into Python (MessageToDict, deserialize_properties, unknown_checking_proxy), and
its options and provider, once *per policy* for the same request; with 30-odd policies that is
~85% of the time a resource takes. ``share_deserialization`` makes these steps return the
object already made for the same request message, so each happens once per resource; and the
same properties arriving in another message (a resource's again in AnalyzeStack, the stack's
provider with every resource) are converted once, found by their serialized content.
Verdicts do not change: the objects are read-only proxies of the same data (a test runs the
lab both ways). Should a future
SDK rename these internals, the pack simply runs at the SDK's own speed.

Set GOVCLOUD_PACK_SHARED_DESERIALIZATION=0 to serve without it.

Set GOVCLOUD_PACK_RECORD=FILE to have the pack append every Analyze and AnalyzeStack request it
receives to FILE (one JSON object per line): how the parity test sees what the engine sends the
pack, and what `govcloud check` sends it, request by request.
"""

from __future__ import annotations

import atexit
import os
from collections import OrderedDict
from typing import Any, Callable

from ..state import REDACTED, SECRET_SIG, SECRET_SIG_KEY

ENV_SWITCH = "GOVCLOUD_PACK_SHARED_DESERIALIZATION"
ENV_RECORD = "GOVCLOUD_PACK_RECORD"
_CACHE_SIZE = 4096  # AnalyzeStack converts every resource of a stack once per stack policy


class _IdentityCache:
    """Results keyed by the identity of an object, holding it so the id stays unique."""

    _all: list["_IdentityCache"] = []

    def __init__(self, size: int = _CACHE_SIZE):
        self._entries: OrderedDict[int, tuple[Any, Any]] = OrderedDict()
        self._size = size
        _IdentityCache._all.append(self)

    @classmethod
    def clear_all(cls) -> None:
        # Held protobuf messages must go before the interpreter tears protobuf down.
        for cache in cls._all:
            cache._entries.clear()

    def remember(self, key: Any, compute: Callable[[], Any]) -> Any:
        hit = self._entries.get(id(key))
        if hit is not None and hit[0] is key:
            return hit[1]
        result = compute()
        self._entries[id(key)] = (key, result)
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return result

    def wrap(self, function: Callable[..., Any]) -> Callable[..., Any]:
        """``function(argument)`` remembered per argument (calls with more arguments pass through)."""

        entries = self._entries

        def cached(argument, *args, **kwargs):
            if args or kwargs:
                return function(argument, *args, **kwargs)
            hit = entries.get(id(argument))  # the hit path inline: it runs once per policy and resource
            if hit is not None and hit[0] is argument:
                return hit[1]
            return self.remember(argument, lambda: function(argument))

        return cached

    def wrap_method(self, method: Callable[..., Any]) -> Callable[..., Any]:
        """``servicer.method(request)`` remembered per request."""

        entries = self._entries

        def cached(servicer, request):
            hit = entries.get(id(request))
            if hit is not None and hit[0] is request:
                return hit[1]
            return self.remember(request, lambda: method(servicer, request))

        return cached


class _ContentCache:
    """Results keyed by a message's serialized content, for the same properties arriving in
    another message: a resource's in AnalyzeStack after its Analyze, and the provider's,
    which comes with every resource of the stack. The oldest entries go first (no reordering
    on a hit: the server's threads share the cache), and it holds more than a stack's resources."""

    def __init__(self, size: int = _CACHE_SIZE):
        self._entries: OrderedDict[tuple[str, bytes], Any] = OrderedDict()
        self._size = size

    def wrap(self, function: Callable[..., Any]) -> Callable[..., Any]:
        def cached(message, *args, **kwargs):
            if args or kwargs or not hasattr(message, "SerializeToString"):
                return function(message, *args, **kwargs)
            key = (message.DESCRIPTOR.full_name, message.SerializeToString(deterministic=True))
            hit = self._entries.get(key)
            if hit is not None:
                return hit
            result = function(message)
            self._entries[key] = result
            if len(self._entries) > self._size:
                self._entries.popitem(last=False)
            return result

        return cached


class _JsonFormat:
    """``google.protobuf.json_format`` with MessageToDict remembered per message object, and
    per content across messages."""

    def __init__(self, module, cache: _IdentityCache):
        self._module = module
        self.MessageToDict = cache.wrap(_ContentCache().wrap(module.MessageToDict))

    def __getattr__(self, name: str):
        return getattr(self._module, name)


def share_deserialization() -> bool:
    """Patch pulumi_policy's per-policy conversions to happen once per request message."""
    from pulumi_policy import policy as sdk

    names = ("json_format", "deserialize_properties", "unknown_checking_proxy", "_PolicyAnalyzerServicer")
    if not all(hasattr(sdk, n) for n in names) or isinstance(sdk.json_format, _JsonFormat):
        return False
    servicer = sdk._PolicyAnalyzerServicer
    methods = ("_get_resource_options", "_get_provider_resource")
    if not all(hasattr(servicer, m) for m in methods):
        return False
    sdk.json_format = _JsonFormat(sdk.json_format, _IdentityCache())  # type: ignore[assignment]
    sdk.deserialize_properties = _IdentityCache().wrap(sdk.deserialize_properties)
    sdk.unknown_checking_proxy = _IdentityCache().wrap(sdk.unknown_checking_proxy)
    # The options and provider of a request are rebuilt per policy too; they are read-only.
    for name in methods:
        setattr(servicer, name, _IdentityCache().wrap_method(getattr(servicer, name)))
    atexit.register(_IdentityCache.clear_all)
    return True


def _redacted(value: Any) -> Any:
    """A request with every secret's value replaced: the engine sends the pack secrets in clear
    (inside a secret marker), and a recording must never hold one."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG_KEY) == SECRET_SIG:
            return {SECRET_SIG_KEY: SECRET_SIG, "value": REDACTED}
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    return value


def record_requests(path: str) -> None:
    """Append each Analyze / AnalyzeStack request to ``path`` before the pack answers it, every
    secret value redacted."""
    import json
    import threading

    from google.protobuf.json_format import MessageToDict
    from pulumi_policy import policy as sdk

    servicer = sdk._PolicyAnalyzerServicer
    lock = threading.Lock()

    def recording(method_name: str):
        method = getattr(servicer, method_name)

        def recorded(self, request, context):
            message = _redacted(MessageToDict(request, preserving_proto_field_name=True))
            line = json.dumps({"method": method_name, "request": message}, sort_keys=True, ensure_ascii=False)
            with lock, open(path, "a", encoding="utf-8") as handle:
                handle.write(line + "\n")
            return method(self, request, context)

        return recorded

    for name in ("Analyze", "AnalyzeStack"):
        setattr(servicer, name, recording(name))


def serve() -> None:
    """Construct the PolicyPack: starts the analyzer gRPC server, prints its port and blocks."""
    from pulumi_policy import EnforcementLevel, PolicyPack

    from .catalog import PACK_NAME, policies

    if os.environ.get(ENV_SWITCH, "1") != "0":
        share_deserialization()
    if os.environ.get(ENV_RECORD):
        record_requests(os.environ[ENV_RECORD])
    PolicyPack(
        name=PACK_NAME,
        policies=policies(),
        enforcement_level=EnforcementLevel.MANDATORY,
        description="MLPS 2.0 (GB/T 22239-2019) baselines and the govcloud platform standards: data, technology, "
        "management, services, security.",
    )
