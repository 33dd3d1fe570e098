"""Serving the pack: what ``policies/__main__.py`` runs, under the engine or ``govcloud check``.

One speed-up, and why: the Python policy SDK (pulumi_policy) turns a resource's properties
from protobuf into Python (MessageToDict, deserialize_properties, unknown_checking_proxy) once
*per policy* for the same request; with 30-odd policies that conversion is ~85% of the time a
resource takes. ``share_deserialization`` makes the three steps return the object already made
for the same request message, so it happens once per resource. Verdicts do not change: the
objects are read-only proxies of the same data (a test runs the lab both ways). Should a future
SDK rename these internals, the pack simply runs at the SDK's own speed.

Set GOVCLOUD_PACK_SHARED_DESERIALIZATION=0 to serve without it.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from typing import Any, Callable

ENV_SWITCH = "GOVCLOUD_PACK_SHARED_DESERIALIZATION"
_CACHE_SIZE = 4096  # AnalyzeStack converts every resource of a stack once per stack policy


class _IdentityCache:
    """Results keyed by the identity of the argument, holding it so the id stays unique."""

    def __init__(self, size: int):
        self._entries: OrderedDict[int, tuple[Any, Any]] = OrderedDict()
        self._size = size

    def wrap(self, function: Callable[..., Any]) -> Callable[..., Any]:
        def cached(argument, *args, **kwargs):
            if args or kwargs:
                return function(argument, *args, **kwargs)
            hit = self._entries.get(id(argument))
            if hit is not None and hit[0] is argument:
                return hit[1]
            result = function(argument)
            self._entries[id(argument)] = (argument, result)
            if len(self._entries) > self._size:
                self._entries.popitem(last=False)
            return result

        return cached


class _JsonFormat:
    """``google.protobuf.json_format`` with MessageToDict remembered per message object."""

    def __init__(self, module, cache: _IdentityCache):
        self._module = module
        self.MessageToDict = cache.wrap(module.MessageToDict)

    def __getattr__(self, name: str):
        return getattr(self._module, name)


def share_deserialization() -> bool:
    """Patch pulumi_policy's per-policy conversions to happen once per request message."""
    from pulumi_policy import policy as sdk

    names = ("json_format", "deserialize_properties", "unknown_checking_proxy")
    if not all(hasattr(sdk, n) for n in names) or isinstance(sdk.json_format, _JsonFormat):
        return False
    sdk.json_format = _JsonFormat(sdk.json_format, _IdentityCache(_CACHE_SIZE))
    sdk.deserialize_properties = _IdentityCache(_CACHE_SIZE).wrap(sdk.deserialize_properties)
    sdk.unknown_checking_proxy = _IdentityCache(_CACHE_SIZE).wrap(sdk.unknown_checking_proxy)
    return True


def serve() -> None:
    """Construct the PolicyPack: starts the analyzer gRPC server, prints its port and blocks."""
    from pulumi_policy import EnforcementLevel, PolicyPack

    from .catalog import PACK_NAME, policies

    if os.environ.get(ENV_SWITCH, "1") != "0":
        share_deserialization()
    PolicyPack(
        name=PACK_NAME,
        policies=policies(),
        enforcement_level=EnforcementLevel.MANDATORY,
        description="MLPS 2.0 (GB/T 22239-2019) baselines and the govcloud platform standards: data, technology, "
        "management, services, security.",
    )
