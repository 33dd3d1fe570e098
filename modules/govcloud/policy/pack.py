"""Serving the pack: what ``policies/__main__.py`` runs, under the engine or ``govcloud check``.

One speed-up, and why: the Python policy SDK (pulumi_policy) turns a resource's properties
from protobuf into Python (MessageToDict, deserialize_properties, unknown_checking_proxy), and
its options and provider, once *per policy* for the same request; with 30-odd policies that is
~85% of the time a resource takes. ``share_deserialization`` makes these steps return the
object already made for the same request message, so each happens once per resource; and the
same properties arriving in another message (a resource's again in AnalyzeStack, the stack's
provider with every resource) are converted once, found by their serialized content.
Verdicts do not change: the objects are the same data (a test runs the lab both ways). Should a
future SDK rename these internals, the pack simply runs at the SDK's own speed. The same switch
converts Structs without json_format's generic dispatch (``fast_message_to_dict``) and hands
properties without an unknown value to the rules as plain dicts and lists rather than the SDK's
unknown-checking proxies, which could raise nothing there (``unproxied_when_known``).

Set GOVCLOUD_PACK_SHARED_DESERIALIZATION=0 to serve without it.

Another, ``answer_by_type``: most rules look at a few Kubernetes kinds, so for most (rule,
resource) pairs the SDK's loop builds the policy's arguments only for the rule to declare itself
not applicable (an exception, caught). Whether a rule applies to a resource's *type* at all is
known from the rule (``Rule.type_excluded``), so the pack answers those pairs itself with what
the rule would have answered (the same not-applicable entry, reason and order in the
response) and lets the SDK run only the policies that may apply. Set
GOVCLOUD_PACK_TYPE_INDEX=0 to serve without it.

Set GOVCLOUD_PACK_RECORD=FILE to have the pack append every Analyze and AnalyzeStack request it
receives to FILE (one JSON object per line): how the parity test sees what the engine sends the
pack, and what `govcloud check` sends it, request by request.
"""

from __future__ import annotations

import atexit
import gc
import os
import threading
from collections import OrderedDict
from typing import Any, Callable

from ..state import REDACTED, SECRET_SIG, SECRET_SIG_KEY
from .facts import ENV_TRACE as FACT_TRACE

ENV_SWITCH = "GOVCLOUD_PACK_SHARED_DESERIALIZATION"
ENV_RECORD = "GOVCLOUD_PACK_RECORD"
ENV_TYPE_INDEX = "GOVCLOUD_PACK_TYPE_INDEX"
GC_THRESHOLD = 50_000  # allocations between two young-generation collections (Python's default: 700)
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


_STRUCT = "google.protobuf.Struct"
_VALUE = "google.protobuf.Value"


def _value_of(value: Any) -> Any:
    """A ``google.protobuf.Value`` as json_format's MessageToDict makes it (the same types, the
    same key order), without its descriptor-driven dispatch per value."""
    which = value.WhichOneof("kind")
    if which == "string_value":
        return value.string_value
    if which == "struct_value":
        return _struct_of(value.struct_value)
    if which == "list_value":
        return [_value_of(item) for item in value.list_value.values]
    if which == "number_value":
        number = value.number_value
        if number != number or number in (_INF, -_INF):
            raise _NotFinite
        return number
    if which == "bool_value":
        return value.bool_value
    return None  # null_value, or no kind set


def _struct_of(struct: Any) -> dict[str, Any]:
    fields = struct.fields
    return {key: _value_of(fields[key]) for key in fields}  # json_format's order: the map's


_INF = float("inf")


class _NotFinite(Exception):
    """A number json_format refuses (it says why): the original conversion runs instead."""


def fast_message_to_dict(original: Callable[..., Any]) -> Callable[..., Any]:
    """``MessageToDict`` for Structs and Values (all the SDK converts), ``original`` otherwise:
    the same result, a few times faster."""

    def convert(message, *args, **kwargs):
        if not args and not kwargs:
            name = message.DESCRIPTOR.full_name
            try:
                if name == _STRUCT:
                    return _struct_of(message)
                if name == _VALUE:
                    return _value_of(message)
            except _NotFinite:
                pass
        return original(message, *args, **kwargs)

    return convert


class _JsonFormat:
    """``google.protobuf.json_format`` with MessageToDict remembered per message object, and
    per content across messages.

    During a Configure (``configuring``), a Struct's fields are converted one by one and each
    distinct value once: the SDK converts each policy's configuration on its own, and the same
    facts (every tenant of the province, say) go to many policies."""

    def __init__(self, module, cache: _IdentityCache):
        self._module = module
        self._convert = fast_message_to_dict(module.MessageToDict)
        self._by_content = _ContentCache().wrap(self._convert)
        self.configuring = threading.local()
        # Per message object first: the SDK asks once per policy for the same request.
        self.MessageToDict = cache.wrap(self._convert_new)

    def _convert_new(self, message, *args, **kwargs):
        shared = getattr(self.configuring, "values", None)
        if shared is None or args or kwargs or message.DESCRIPTOR.full_name != _STRUCT:
            return self._by_content(message, *args, **kwargs)
        fields, result = message.fields, {}
        for key in fields:
            field = fields[key]
            content = field.SerializeToString(deterministic=True)
            if content not in shared:
                shared[content] = self._convert(field)
            result[key] = shared[content]
        return result

    def __getattr__(self, name: str):
        return getattr(self._module, name)


def unproxied_when_known(proxy_module: Any) -> Callable[[Any], Any]:
    """The SDK's ``unknown_checking_proxy``, except that properties holding no unknown value
    (the sentinel strings the engine sends during a preview) are handed over as they are.

    The SDK wraps every dict and list of a resource's properties, eagerly, in read-only proxies
    whose one effect is to raise ``UnknownValueError`` when a rule reads an unknown value; where
    there is none they raise nothing, and the rules read them only as Mappings and Sequences
    (``rule.as_map``, ``as_list``): plain dicts and lists read the same, in C, without a proxy
    per value. Properties with an unknown anywhere get the SDK's proxies."""
    proxy = proxy_module.unknown_checking_proxy
    unknowns = frozenset(value for name, value in vars(proxy_module).items()
                         if name.startswith("UNKNOWN_") and name.endswith("_VALUE") and isinstance(value, str))
    if len(unknowns) < 7 or not hasattr(proxy_module, "_is_unknown"):
        return proxy  # another SDK: whatever it checks, it checks

    def known(value: Any) -> bool:
        kind = type(value)
        if kind is str:
            return value not in unknowns
        if kind is dict or kind is list:
            for item in value.values() if kind is dict else value:
                kind = type(item)
                if kind is str:
                    if item in unknowns:
                        return False
                elif not (kind is float or kind is bool or item is None or kind is int or known(item)):
                    return False
            return True
        return kind is float or kind is bool or kind is int or value is None

    def checking(props: Any) -> Any:
        return props if type(props) is dict and known(props) else proxy(props)

    return checking


def share_deserialization() -> bool:
    """Patch pulumi_policy's per-policy conversions to happen once per request message."""
    from pulumi_policy import policy as sdk

    names = ("json_format", "deserialize_properties", "unknown_checking_proxy", "_PolicyAnalyzerServicer")
    if not all(hasattr(sdk, n) for n in names) or isinstance(sdk.json_format, _JsonFormat):
        return False
    servicer = sdk._PolicyAnalyzerServicer
    methods = ("_get_resource_options", "_get_provider_resource")
    if not all(hasattr(servicer, m) for m in (*methods, "Configure")):
        return False
    json_format = _JsonFormat(sdk.json_format, _IdentityCache())
    sdk.json_format = json_format  # type: ignore[assignment]
    configure = servicer.Configure

    def Configure(self, request, context):
        json_format.configuring.values = {}
        try:
            return configure(self, request, context)
        finally:
            json_format.configuring.values = None

    servicer.Configure = Configure  # type: ignore[method-assign]
    sdk.deserialize_properties = _IdentityCache().wrap(sdk.deserialize_properties)
    from pulumi_policy import proxy as proxy_module

    checking = unproxied_when_known(proxy_module) if sdk.unknown_checking_proxy is proxy_module.unknown_checking_proxy else sdk.unknown_checking_proxy
    sdk.unknown_checking_proxy = _IdentityCache().wrap(checking)
    # The options and provider of a request are rebuilt per policy too; they are read-only.
    for name in methods:
        setattr(servicer, name, _IdentityCache().wrap_method(getattr(servicer, name)))
    atexit.register(_IdentityCache.clear_all)
    return True


def answer_by_type(rules_and_policies: list[tuple[Any, Any]]) -> bool:
    """Answer the (rule, resource) pairs a rule's kinds exclude by the resource's type alone,
    without the SDK's per-policy loop; the response stays the SDK's, entry for entry.

    ``rules_and_policies``: each ``Rule`` with the very policy object made from it (only those
    policies are answered for). The SDK's servicer reads its policy list from one private
    attribute; during an Analyze it is the list of the policies that may apply (per thread: the
    server runs calls in a pool), and the not-applicable entries of the others are merged into
    the response in the pack's policy order."""
    import threading

    from pulumi_policy import policy as sdk

    servicer = sdk._PolicyAnalyzerServicer
    attribute = "_PolicyAnalyzerServicer__policies"
    needed = ("Analyze", "Configure", "_get_enforcement_level", "__init__")
    if not all(hasattr(servicer, n) for n in needed) or isinstance(servicer.__dict__.get(attribute), _PolicyList):
        return False
    if not all(hasattr(sdk, n) for n in ("ResourceValidationPolicy", "EnforcementLevel", "proto")):
        return False
    if "self.__policies" not in _source_of(servicer.Analyze):
        return False  # another SDK: its loop reads the policies some other way
    rules = {id(policy): (rule, policy) for rule, policy in rules_and_policies}  # holding the policy keeps its id unique
    selected = threading.local()
    setattr(servicer, attribute, _PolicyList(selected))
    plans: dict[str, tuple[list, list, list[tuple[int, Any, str]], dict[str, int], dict[int, tuple[list, bytes]]]] = {}
    disabled = sdk.EnforcementLevel.DISABLED

    def plan(policies: list, resource_type: str):
        run, answered = [], []
        for index, policy in enumerate(policies):
            rule, _ = rules.get(id(policy), (None, None))
            if (rule is not None and isinstance(policy, sdk.ResourceValidationPolicy) and policy.has_validation()
                    and rule.type_excluded(resource_type)):
                answered.append((index, policy, rule.not_applicable_reason))
            else:
                run.append(policy)
        return policies, run, answered, {policy.name: index for index, policy in enumerate(policies)}, {}

    analyze = servicer.Analyze
    configure = servicer.Configure
    configured = [0]  # Configures so far: the enforcement levels change with each

    def Configure(self, request, context):
        try:
            return configure(self, request, context)
        finally:
            configured[0] += 1

    def Analyze(self, request, context):
        policies = getattr(self, attribute)
        found = plans.get(request.type)
        if found is None or found[0] is not policies:
            found = plans[request.type] = plan(policies, request.type)
        _, run, answered, order, levelled = found
        if not answered:
            return analyze(self, request, context)
        selected.policies = run
        try:
            response = analyze(self, request, context)
        finally:
            selected.policies = None
        generation = configured[0]
        # The answered pairs of the enabled policies, per configuration, and the same entries as
        # the bytes of a response that holds only them.
        found_answers = levelled.get(generation)
        if found_answers is None:
            levelled.clear()
            answers = [(index, policy.name, reason) for index, policy, reason in answered
                       if self._get_enforcement_level(policy) != disabled]
            entries = sdk.proto.AnalyzeResponse()
            for _, name, reason in answers:
                entries.not_applicable.add(policy_name=name, reason=reason)
            found_answers = levelled[generation] = (answers, entries.SerializeToString())
        answers, encoded = found_answers
        if not answers:
            return response
        if not len(response.not_applicable):
            response.MergeFromString(encoded)  # appended in one go: the same entries, in order
            return response
        answers = answers + [(order[item.policy_name], item.policy_name, item.reason) for item in response.not_applicable]
        answers.sort(key=lambda answer: answer[0])
        del response.not_applicable[:]
        for _, name, reason in answers:
            response.not_applicable.add(policy_name=name, reason=reason)
        return response

    servicer.Analyze = Analyze  # type: ignore[method-assign]
    servicer.Configure = Configure  # type: ignore[method-assign]
    return True


class _PolicyList:
    """The SDK servicer's policy list: the whole list, or during an Analyze that
    ``answer_by_type`` narrowed, the policies left to run (per thread)."""

    def __init__(self, selected: Any):
        self._selected = selected

    def __get__(self, servicer: Any, owner: Any = None) -> Any:
        if servicer is None:
            return self
        narrowed = getattr(self._selected, "policies", None)
        return servicer.__dict__["_govcloud_policies"] if narrowed is None else narrowed

    def __set__(self, servicer: Any, policies: Any) -> None:
        servicer.__dict__["_govcloud_policies"] = policies


def _source_of(function: Callable[..., Any]) -> str:
    import inspect

    try:
        return inspect.getsource(function)
    except (OSError, TypeError):
        return ""


def flush_trace_per_stack() -> None:
    """Under GOVCLOUD_FACT_TRACE, write the facts read out before each AnalyzeStack is answered
    (``facts.flush_trace``)."""
    from pulumi_policy import policy as sdk

    from .facts import flush_trace

    servicer = sdk._PolicyAnalyzerServicer
    analyze_stack = servicer.AnalyzeStack

    def AnalyzeStack(self, request, context):
        try:
            return analyze_stack(self, request, context)
        finally:
            flush_trace()

    servicer.AnalyzeStack = AnalyzeStack  # type: ignore[method-assign]


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

    from .catalog import PACK_NAME, rules

    built = [(rule, rule.policy()) for rule in rules()]
    # What is loaded now (the SDK, protobuf, the rules) lives as long as the pack: out of the
    # collector's sight; and a collection per 700 allocations is costly for a server whose
    # requests each make thousands of short-lived, acyclic objects (freed by refcount anyway).
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])
    if os.environ.get(ENV_SWITCH, "1") != "0":
        share_deserialization()
    if os.environ.get(ENV_TYPE_INDEX, "1") != "0":
        answer_by_type(built)
    if os.environ.get(ENV_RECORD):
        record_requests(os.environ[ENV_RECORD])
    if os.environ.get(FACT_TRACE):
        flush_trace_per_stack()
    PolicyPack(
        name=PACK_NAME,
        policies=[policy for _, policy in built],
        enforcement_level=EnforcementLevel.MANDATORY,
        description="MLPS 2.0 (GB/T 22239-2019) baselines and the govcloud platform standards: data, technology, "
        "management, services, security.",
    )
