"""The verdict cache of ``govcloud check``: what the pack said about a stack, kept until
anything the pack could see changes.

A stack's verdicts are a function of what the pack was given and of the pack itself, so an
entry is found under a key made of exactly that:

- the stack's desired state: the sha256 of its ``state.json`` as rendered (``StackState.digest``);
- the pack: ``pack_digest`` (its program, the rules, their framework and what they import) and
  the runtime it runs on (interpreter, the policy SDK, protobuf and gRPC versions);
- the pack's configuration: the enforcement of every rule and which facts each rule is given;
- the check's own code (``govcloud.check``, the state reader), which turns answers into verdicts;
- the model facts the stack's rules *read*: while the pack checks a stack for the cache it
  records every lookup its rules make in the facts (``policy.facts``: GOVCLOUD_FACT_TRACE), and
  the entry keeps the digest of what each lookup returned. An entry is used only while every one
  of those lookups returns the same now, so a changed fact invalidates exactly the stacks whose
  rules looked at it (a tenant's approvals: that tenant's stack; the zones: every stack that
  placed something in a zone), and a model change no rule reads (a tenant's quotas, its change
  reason) invalidates nothing.

The waivers and the day they are judged on are not part of the key because they are not part
of what is cached: an entry holds the verdicts *before* waivers, and every run applies the
waivers of the model on its own ``--today``, exactly as an uncached run does.

Entries are JSON files (never pickle) under ``build/cache/check/<env>/``, one per stack,
written to a temporary file and renamed into place, so concurrent runs never see half an
entry and at worst write the same bytes twice. The stacks' report parts are kept the way git
keeps objects: loose files, and one bundle (``parts.bundle``) that a run writes when it made or
used many loose ones (a full check, a pack change): a re-check of a province reads one file, not
4,000. Each entry repeats its key and carries a
sha256 of its content: a damaged, truncated or foreign entry is a miss, never a verdict. The
cache lives in the build directory, the trust boundary of the rendered states reviews sign;
``govcloud review`` and the deploy gate never read it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata
from itertools import chain
from pathlib import Path
from typing import Any

import orjson

from ..files import write_output
from ..policy.facts import ANY_STACK, Facts
from .analyzer import PackInfo, PolicyInfo
from .results import Result

FORMAT = "govcloud.check-cache/3"
# A report part's key adds what the part is besides its verdicts: the waivers that may apply and
# the inventory lines findings point at (see ``part_key``), and the encoder that wrote the bytes.
PART_FORMAT = f"govcloud.check-part/1 orjson {orjson.__version__}"
LOCATIONS_KEY = "locations"
_LAST_REQUEST = "last-request"  # the key of the Configure request the last run sent: ``last_request``
_CHECKED = "checked"  # an empty file, touched when a check ends: ``rendered_since``  # one entry per environment: lines by file digest
# The distributions whose code runs between the engine's protocol and the rules.
RUNTIME_DISTRIBUTIONS = ("pulumi-policy", "pulumi", "protobuf", "grpcio")


def _canonical(value: Any) -> bytes:
    """Deterministic JSON for keys and integrity sums (not evidence: nothing here is signed):
    keys sorted, no whitespace, UTF-8 as it is."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


# An entry file is the canonical form of {"body": ..., "sha256": ...}: with its keys sorted it is
# exactly these bytes around the body's own canonical form, so the seal is checked on the bytes
# as read, without encoding the body again.
_SEALED_HEAD, _SEALED_MIDDLE, _SEALED_TAIL = b'{"body":', b',"sha256":"', b'"}'
_SEAL_LENGTH = 64
# A report part is its head (canonical JSON, one line), a newline, the fragment, a newline and
# the sha256 of what precedes that last newline: the fragment is used as read, never re-encoded.
_PART_SEAL_LENGTH = 1 + _SEAL_LENGTH
# The bundle of report parts: a head line (canonical JSON: the format, [key, stack, length, entry
# key] of each part in order, and the sha256 of all that follows the line), then the parts, each
# exactly the bytes of its loose file. Its seal is checked once (one hash of 100 MB, not 4,000).
BUNDLE_FORMAT = "govcloud.check-parts/1"
_BUNDLE = "parts.bundle"


def _sha256(data: bytes | memoryview) -> str:
    return hashlib.sha256(data).hexdigest()


def _sealed(content: bytes) -> bytes:
    """``content``, a newline and its sha256: how report parts and requests are kept."""
    return content + b"\n" + _sha256(content).encode("ascii")


def _seal_holds(view: memoryview) -> bool:
    """Whether ``view`` is ``_sealed`` of what precedes its last newline."""
    return (len(view) >= _PART_SEAL_LENGTH and view[-_PART_SEAL_LENGTH] == 0x0A
            and _sha256(view[:-_PART_SEAL_LENGTH]).encode("ascii") == view[-_SEAL_LENGTH:])


def fingerprint(value: Any) -> str:
    """sha256 of a JSON value, for cache keys only (the report's ``config_digest`` is RFC 8785)."""
    return _sha256(_canonical(value))


@cache
def code_digest() -> str:
    """The check's own code: what turns the pack's answers into verdicts, and reads states."""
    package = Path(__file__).resolve().parent.parent  # modules/govcloud
    # What the requests to the pack are made of, too: the provider's checked inputs and the
    # secret outputs KubeObject asks for (components/kube.py).
    files = sorted(package.joinpath("check").glob("*.py")) + [package / "state.py", package / "canonical.py",
                                                              package / "components" / "kube.py"]
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def runtime(pack_python: str) -> dict[str, str]:
    """The interpreter the pack runs on and the versions of the SDK under the rules."""
    versions = {"python": pack_python}
    if Path(pack_python).resolve() == Path(sys.executable).resolve():
        versions["python_version"] = sys.version
        for name in RUNTIME_DISTRIBUTIONS:
            try:
                versions[name] = metadata.version(name)
            except metadata.PackageNotFoundError:
                versions[name] = ""
    else:  # another virtualenv: ask it (rare; costs one interpreter start)
        import subprocess

        probe = ("import importlib.metadata as m, json, sys; v = {'python_version': sys.version}\n"
                 f"for n in {RUNTIME_DISTRIBUTIONS!r}:\n"
                 "    try: v[n] = m.version(n)\n    except m.PackageNotFoundError: v[n] = ''\n"
                 "print(json.dumps(v))")
        done = subprocess.run([pack_python, "-c", probe], capture_output=True, text=True, timeout=60)
        versions.update(json.loads(done.stdout) if done.returncode == 0 else {"probe": done.stderr[-200:]})
    return versions


@dataclass(frozen=True)
class Session:
    """What a pack said about itself under one configuration: enough to report without it."""

    info: PackInfo
    levels: dict[str, str]
    config_digest: str
    # ``fingerprint`` of the configuration ``config_digest`` is the RFC 8785 digest of: a run
    # with the same configuration takes the digest from here instead of encoding it again.
    config_fingerprint: str = ""


@dataclass(frozen=True)
class StackVerdicts:
    """One stack's verdicts before waivers, and what the report says about the stack."""

    stack: str
    kind: str
    tenant: str | None
    results: tuple[Result, ...]
    # [view, key, digest] of every fact lookup the stack's rules made (FactDigests.reads); kept by
    # the cache, None when not known
    reads: list[list[str]] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class ReportPart:
    """A stack's part of the report, from the cache: its results as the JSON report holds them
    (``results.results_fragment``), and what the report says about the stack."""

    stack: str
    kind: str
    tenant: str | None
    fragment: bytes | memoryview
    counts: dict[str, int]
    blocking: int
    waivers_applied: tuple[str, ...]


def _policy_dict(policy: PolicyInfo) -> dict[str, Any]:
    return {"name": policy.name, "description": policy.description, "enforcement": policy.enforcement, "kind": policy.kind,
            "severity": policy.severity, "config_schema": policy.config_schema, "remediation": policy.remediation}


class VerdictCache:
    """Entries of one environment under ``root`` (``build/cache/check/<env>``)."""

    def __init__(self, root: Path):
        self.root = root
        self._base = root.as_posix()
        self.used: set[str] = set()  # entry files, as ``_path`` names them
        self._listed: set[str] | None = None
        self.hits = 0
        self.misses = 0
        self.missed: list[str] = []
        # The bundle as read: its bytes; part key -> (stack, start, end, entry key), and the entry
        # keys of the parts in the bundle as it is on disk now (``prune`` keeps their entries).
        self._bundle: tuple[bytes, dict[str, tuple[str, int, int, str]]] | None = None
        self._bundle_lock = threading.Lock()  # ``prefetch`` reads it on a thread of its own
        self._bundle_entries: set[str] | None = None
        # The report parts of this run, in the report's order: key -> (stack, entry key, sealed
        # bytes), and which of them are not in the bundle (read from loose files, or made by this run).
        self._parts: dict[str, tuple[str, str, bytes | memoryview]] = {}
        self._loose: set[str] = set()
        self._made: set[str] = set()

    # More report parts than this outside the bundle (loose files read, or made), and the run
    # writes a new bundle instead of loose files: one tenant's change stays a loose file or two.
    loose_limit = 32

    # -- keys ---------------------------------------------------------------------------------
    @staticmethod
    def session_key(pack_digest: str, pack_runtime: dict[str, str], config: dict[str, Any]) -> str:
        """The pack, its runtime, the check's code, and the configuration's shape: every rule's
        enforcement and the facts it is given (their values are each entry's business)."""
        shape = {rule: {"enforcementLevel": entry.get("enforcementLevel"), "facts": sorted(set(entry) - {"enforcementLevel"})}
                 for rule, entry in config.items()}
        return fingerprint({"format": FORMAT, "pack": pack_digest, "runtime": pack_runtime, "config": shape,
                            "code": code_digest()})

    @staticmethod
    def entry_key(session_key: str, stack: str, state_digest: str) -> str:
        return fingerprint({"session": session_key, "stack": stack, "state": state_digest})

    # -- files --------------------------------------------------------------------------------
    def _path(self, kind: str, key: str) -> str:
        return f"{self._base}/{kind}/{key[:2]}/{key}.json"  # a string: pathlib's parsing was a tenth of a re-check

    def has(self, key: str) -> bool:
        """Whether a stack's entry existed when the run first asked (not whether it holds
        verdicts: ``get`` says that). One listing of the directory, not a stat per stack."""
        if self._listed is None:
            self._listed = set(self._files("stacks"))
        return self._path("stacks", key) in self._listed

    def _read_bytes(self, kind: str, key: str) -> bytes | None:
        try:
            with open(self._path(kind, key), "rb") as handle:
                return handle.read()
        except OSError:
            return None

    def _read(self, kind: str, key: str) -> dict[str, Any] | None:
        path = self._path(kind, key)
        data = self._read_bytes(kind, key)
        if data is None:
            return None
        tail = len(_SEALED_MIDDLE) + _SEAL_LENGTH + len(_SEALED_TAIL)
        raw, sealed = data[len(_SEALED_HEAD):-tail], data[-tail:]
        if not data.startswith(_SEALED_HEAD) or not sealed.startswith(_SEALED_MIDDLE) or not sealed.endswith(_SEALED_TAIL):
            return None
        if _sha256(raw).encode("ascii") != sealed[len(_SEALED_MIDDLE):-len(_SEALED_TAIL)]:
            return None
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(body, dict) or body.get("format") != FORMAT or body.get("key") != key:
            return None
        self.used.add(path)
        return body

    def _write(self, kind: str, key: str, body: dict[str, Any]) -> None:
        raw = _canonical({"format": FORMAT, "key": key, **body})
        self._store(kind, key, _SEALED_HEAD + raw + _SEALED_MIDDLE + _sha256(raw).encode("ascii") + _SEALED_TAIL)

    def _store(self, kind: str, key: str, data: bytes) -> None:
        path = self._path(kind, key)
        try:
            directory = os.path.dirname(path)
            os.makedirs(directory, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=directory, prefix=".entry.", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError:
            return  # a cache that cannot be written is a cache that misses next time
        self.used.add(path)

    # -- sessions -----------------------------------------------------------------------------
    def session(self, key: str) -> Session | None:
        body = self._read("sessions", key)
        if body is None:
            return None
        try:
            pack = body["pack"]
            policies = tuple(PolicyInfo(**p) for p in body["policies"])
            levels = {str(k): str(v) for k, v in body["levels"].items()}
            digest, printed = body["config_digest"], body.get("config_fingerprint", "")
            if set(levels) != {p.name for p in policies} or not isinstance(digest, str) or not isinstance(printed, str):
                return None
            return Session(PackInfo(str(pack["name"]), str(pack["version"]), policies), levels, digest, printed)
        except (KeyError, TypeError, AttributeError):
            return None

    def store_session(self, key: str, session: Session) -> None:
        self._write("sessions", key, {
            "pack": {"name": session.info.name, "version": session.info.version},
            "policies": [_policy_dict(p) for p in session.info.policies],
            "levels": session.levels,
            "config_digest": session.config_digest,
            "config_fingerprint": session.config_fingerprint,
        })

    # -- stacks -------------------------------------------------------------------------------
    def get(self, key: str, stack: str, facts: "FactDigests", config_print: str = "") -> StackVerdicts | None:
        """The stack's cached verdicts, if its rules would read the same facts now. An entry
        written under this very configuration (``config_print``: its fingerprint, every fact the
        pack is given included) needs no lookup checked: the pack would be given the same."""
        body = self._read("stacks", key) or {}
        verdicts = _verdicts(body, stack) if body else None
        if verdicts is not None and not (config_print and body.get("config") == config_print) and not facts.unchanged(body.get("reads")):
            verdicts = None
        if verdicts is None:
            self.misses += 1
            self.missed.append(stack)
        else:
            self.hits += 1
        return verdicts

    def put(self, key: str, verdicts: StackVerdicts, reads: list[list[str]], config_print: str = "") -> None:
        """Store verdicts with what their rules read: [view, key, digest of the value] each, and
        the fingerprint of the configuration they were made under."""
        self._write("stacks", key, {
            "config": config_print,
            "stack": verdicts.stack,
            "kind": verdicts.kind,
            "tenant": verdicts.tenant,
            "results": [[r.rule, r.urn, r.resource_type, r.status, r.enforcement, r.severity, r.message] for r in verdicts.results],
            "reads": reads,
        })

    # -- the pack's configuration -------------------------------------------------------------
    @staticmethod
    def request_key(session_key: str, config_print: str) -> str:
        """The Configure request of a configuration: its shape and the pack (the session's
        key), every value in it (``config_print``) and the code that builds it (``code_digest``)."""
        return fingerprint({"session": session_key, "config": config_print})

    def request(self, key: str) -> bytes | None:
        """The serialized Configure request kept under ``key``: the key, a newline, the request,
        a newline and the sha256 of what precedes that last newline (as a report part)."""
        data = self._read_bytes("requests", key)
        head = key.encode("ascii") + b"\n"
        if data is None or len(data) < len(head) + _PART_SEAL_LENGTH or not data.startswith(head) or not _seal_holds(memoryview(data)):
            return None
        self.used.add(self._path("requests", key))
        return data[len(head):-_PART_SEAL_LENGTH]

    def keep_request(self, key: str) -> None:
        """Keep the request of the run's configuration through ``prune`` though no pack was
        asked: the next run that starts one sends it as kept."""
        self.used.add(self._path("requests", key))

    def store_request(self, key: str, request: bytes) -> None:
        self._store("requests", key, _sealed(key.encode("ascii") + b"\n" + request))

    def last_request(self) -> tuple[str, bytes] | None:
        """The key and request of the last run's Configure (``sent_request``), if still kept: a
        pack started ahead takes it before the model is loaded, and most runs send it again."""
        try:
            with open(f"{self._base}/{_LAST_REQUEST}", "rb") as handle:
                key = handle.read(200).decode("ascii").strip()
        except (OSError, UnicodeDecodeError):
            return None
        request = self.request(key) if len(key) == _SEAL_LENGTH else None
        return (key, request) if request is not None else None

    def sent_request(self, key: str) -> None:
        with contextlib.suppress(OSError):
            write_output(Path(self._base, _LAST_REQUEST), key.encode("ascii") + b"\n", mode=0o600)

    # -- report parts -------------------------------------------------------------------------
    @staticmethod
    def part_key(entry_key: str, context: Any) -> str:
        """A stack's report part: its verdicts (the entry's key) and ``context``, everything else
        its part of the report is made of (the waivers that may match on the day, the files and
        lines findings are located in)."""
        return fingerprint({"format": PART_FORMAT, "entry": entry_key, "context": context})

    def part(self, entry_key: str, context: Any, stack: str, facts: "FactDigests", config_print: str = "") -> ReportPart | None:
        """The stack's report part, if its verdicts still hold (as ``get`` judges an entry): from
        the bundle, else from its loose file."""
        key = self.part_key(entry_key, context)
        data, index = self._bundled()
        where = index.get(key)
        if where is not None and where[3] != entry_key:
            where = None
        part = self._part_of(data, where[1], where[2], key, stack, facts, config_print, sealed=True) if where is not None else None
        sealed: bytes | memoryview
        if part is not None and where is not None:
            sealed = memoryview(data)[where[1]:where[2]]
        else:
            loose = self._read_bytes("parts", key)
            part = self._part_of(loose, 0, len(loose), key, stack, facts, config_print) if loose is not None else None
            if part is None or loose is None:
                return None
            sealed = loose
            self.used.add(self._path("parts", key))
            self._loose.add(key)
        self._parts[key] = (stack, entry_key, sealed)
        self.used.add(self._path("stacks", entry_key))  # its verdicts: kept for a part under another context
        self.hits += 1
        return part

    def _part_of(self, data: bytes, start: int, end: int, key: str, stack: str, facts: "FactDigests",
                 config_print: str, sealed: bool = False) -> ReportPart | None:
        """The part sealed in ``data[start:end]``, if it is whole (``sealed``: the bundle's seal
        said so), is the one asked for, and its verdicts hold; its fragment is a view of
        ``data``, never a copy."""
        view = memoryview(data)
        if end - start < _PART_SEAL_LENGTH or data[end - _PART_SEAL_LENGTH] != 0x0A:
            return None
        if not sealed and not _seal_holds(view[start:end]):
            return None
        newline = data.find(b"\n", start, end - _PART_SEAL_LENGTH)
        if newline < 0:
            return None
        try:
            head = orjson.loads(view[start:newline])
            if (not isinstance(head, dict) or head.get("format") != PART_FORMAT or head.get("key") != key
                    or head.get("stack") != stack):
                return None
            if not (config_print and head.get("config") == config_print) and not facts.unchanged(head.get("reads")):
                return None
            counts, blocking, applied = head["counts"], head["blocking"], head["applied"]
            tenant, kind = head["tenant"], head["kind"]
            if (type(blocking) is not int or not isinstance(counts, dict) or not all(type(n) is int for n in counts.values())
                    or type(applied) is not list or not all(type(a) is str for a in applied)
                    or type(kind) is not str or (tenant is not None and type(tenant) is not str)):
                return None
        except (orjson.JSONDecodeError, KeyError):
            return None
        return ReportPart(stack, kind, tenant, view[newline + 1:end - _PART_SEAL_LENGTH], counts, blocking, tuple(applied))

    def prefetch(self) -> None:
        """Read the bundle on a thread while the caller loads the model: a read and a hash of
        100 MB, both without the GIL, a seventh of a second off a re-check of a province."""
        if self._bundle is None:
            threading.Thread(target=self._bundled, name="govcloud-bundle", daemon=True).start()

    def _bundled(self) -> tuple[bytes, dict[str, tuple[str, int, int, str]]]:
        """The bundle as it was when the run first asked: its bytes and where each part is. One
        that is damaged or of another format is no bundle (its parts are misses)."""
        with self._bundle_lock:
            return self._read_bundle()

    def _read_bundle(self) -> tuple[bytes, dict[str, tuple[str, int, int, str]]]:
        if self._bundle is None:
            self._bundle = (b"", {})
            try:
                with open(f"{self._base}/{_BUNDLE}", "rb") as handle:
                    data = handle.read()
                newline = data.find(b"\n")
                head = orjson.loads(memoryview(data)[:newline]) if newline > 0 else None
                if (not isinstance(head, dict) or head.get("format") != BUNDLE_FORMAT or type(head.get("parts")) is not list
                        or head.get("sha256") != _sha256(memoryview(data)[newline + 1:])):
                    return self._bundle
                index, offset = {}, newline + 1
                for key, stack, length, entry in head["parts"]:
                    if type(key) is not str or type(stack) is not str or type(length) is not int or length < 0 or type(entry) is not str:
                        return self._bundle
                    index[key] = (stack, offset, offset + length, entry)
                    offset += length
                if offset == len(data):
                    self._bundle = (data, index)
            except (OSError, orjson.JSONDecodeError, ValueError, TypeError):
                pass
        return self._bundle

    def put_part(self, key: str, report: Any, reads: list[list[str]], config_print: str = "", *, entry: str) -> None:
        """Keep a stack's report part (a ``results.StackReport``, its verdicts those of the entry
        under ``entry``) with what they depend on: written by ``store_parts``, loose or in a new bundle."""
        head = _canonical({"format": PART_FORMAT, "key": key, "stack": report.stack, "kind": report.kind,
                           "tenant": report.tenant, "config": config_print, "reads": reads, "counts": report.counts,
                           "blocking": report.blocking, "applied": list(report.waivers_applied)})
        self._parts[key] = (report.stack, entry, _sealed(head + b"\n" + report.fragment))
        self._made.add(key)

    def store_parts(self, every_stack: bool = False) -> None:
        """Write the parts this run made: as loose files while few parts are outside the bundle
        (and, after a run over ``every_stack``, few in it belong to no stack now); else as a new
        bundle of every part this run used or made, in its order, and (unless it checked every
        stack) the old bundle's parts of the stacks it did not check; the loose files it bundled
        then go."""
        outside = self._loose | self._made
        data, index = self._bundled()
        stale = sum(key not in self._parts for key in index) if every_stack else 0  # parts no stack has now
        if len(outside) <= self.loose_limit and stale <= self.loose_limit:
            for key in sorted(self._made):
                self._store("parts", key, bytes(self._parts[key][2]))
            self._bundle_entries = {entry for _, _, _, entry in index.values()}
            return
        checked = {stack for stack, _, _ in self._parts.values()}
        parts = dict(self._parts)
        for key, (stack, start, end, entry) in () if every_stack else index.items():
            if stack not in checked and key not in parts:
                parts[key] = (stack, entry, memoryview(data)[start:end])
        seal = hashlib.sha256()
        for _, _, part in parts.values():
            seal.update(part)
        head = _canonical({"format": BUNDLE_FORMAT, "sha256": seal.hexdigest(),
                           "parts": [[key, stack, len(part), entry] for key, (stack, entry, part) in parts.items()]})
        try:
            write_output(Path(self._base, _BUNDLE), [head + b"\n", *(part for _, _, part in parts.values())], mode=0o600)
        except OSError:
            return  # a cache that cannot be written is a cache that misses next time
        self._bundle_entries = {entry for _, entry, _ in parts.values()}
        for key in self._loose:  # in the bundle now
            with contextlib.suppress(OSError):
                os.unlink(self._path("parts", key))

    # -- when it was last used ----------------------------------------------------------------
    def rendered_since(self, render_dir: Path) -> bool:
        """Whether a stack's state in ``render_dir`` was written after this cache's last check
        ended (``mark_checked``), or no check ended yet: a guess that the pack will be asked
        (a stack changed), made before anything is loaded. Only how soon the pack starts
        depends on it, never a verdict."""
        try:
            checked = os.stat(f"{self._base}/{_CHECKED}").st_mtime_ns
            stacks = os.scandir(render_dir)
        except OSError:
            return True
        with stacks:
            for stack in stacks:
                with contextlib.suppress(OSError):
                    if os.stat(f"{stack.path}/state.json").st_mtime_ns >= checked:
                        return True
        return False

    def mark_checked(self) -> None:
        with contextlib.suppress(OSError):
            os.makedirs(self._base, exist_ok=True)
            with open(f"{self._base}/{_CHECKED}", "wb"):
                pass
            os.utime(f"{self._base}/{_CHECKED}")

    # -- where findings are fixed -------------------------------------------------------------
    def locations(self) -> dict[str, dict[str, int]]:
        """Lines of inventory fields found before, by file digest and field (``check.sources``)."""
        body = self._read("sources", LOCATIONS_KEY)
        lines = body.get("lines") if body is not None else None
        if not isinstance(lines, dict) or not all(
                isinstance(fields, dict) and all(type(f) is str and type(n) is int for f, n in fields.items()) for fields in lines.values()):
            return {}
        return lines

    def store_locations(self, lines: dict[str, dict[str, int]]) -> None:
        self._write("sources", LOCATIONS_KEY, {"lines": lines})

    def prune(self) -> None:
        """Remove the entries this run did not use (after a run over every stack: the rest
        belong to states, packs or configurations that are gone), but for the entries of the
        parts in the bundle: a stack changed back finds its part and its verdicts together."""
        if self._bundle_entries is None:
            self._bundle_entries = {entry for _, _, _, entry in self._bundled()[1].values()}
        self.used.update(self._path("stacks", entry) for entry in self._bundle_entries)
        for kind in ("sessions", "stacks", "parts", "requests"):
            for path in self._files(kind):
                if path not in self.used:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(path)

    def _files(self, kind: str) -> list[str]:
        """Every entry file of ``kind``, named as ``_path`` names them."""
        found = []
        try:
            shards = [d.name for d in os.scandir(f"{self._base}/{kind}") if d.is_dir()]
        except OSError:
            return []
        for shard in shards:
            with contextlib.suppress(OSError):
                found += [f"{self._base}/{kind}/{shard}/{e.name}" for e in os.scandir(f"{self._base}/{kind}/{shard}")
                          if e.name.endswith(".json") and not e.name.startswith(".")]
        return found


class FactDigests:
    """The digests of what fact lookups return now, computed once per (view, key) a run asks about."""

    def __init__(self, facts: dict[str, Any]):
        self._facts = Facts(facts)
        self._digests: dict[tuple[str, str], str] = {}

    def digest(self, view: str, key: str) -> str:
        found = self._digests.get((view, key))
        if found is None:
            found = self._digests[(view, key)] = fingerprint(self._facts.lookup(view, key))
        return found

    def unchanged(self, reads: Any) -> bool:
        if not isinstance(reads, list):
            return False
        try:
            return all(self.digest(view, key) == digest for view, key, digest in reads)
        except (KeyError, TypeError, ValueError):  # a view or key this govcloud does not know
            return False

    def reads(self, lookups: Any) -> list[list[str]]:
        """``[view, key, digest]`` of each lookup, sorted."""
        return [[view, key, self.digest(view, key)] for view, key in sorted(set(lookups))]


def read_traces(paths: Any) -> dict[str, set[tuple[str, str]]]:
    """stack -> the (view, key) lookups its rules made, from the pack's trace files; lookups no
    stack could be told for are under ``ANY_STACK`` and count for every stack (``lookups_of``)."""
    found: dict[str, set[tuple[str, str]]] = {}
    for path in paths:
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            continue
        for line in lines:
            stack, view, key = json.loads(line)
            found.setdefault(stack, set()).add((view, key))
    return found


def lookups_of(traces: dict[str, set[tuple[str, str]]], stack: str) -> set[tuple[str, str]]:
    return traces.get(stack, set()) | traces.get(ANY_STACK, set())


def _verdicts(body: dict[str, Any], stack: str) -> StackVerdicts | None:
    try:
        if body["stack"] != stack:
            return None
        tenant, kind, rows = body["tenant"], body["kind"], body["results"]
        if (tenant is not None and type(tenant) is not str) or type(kind) is not str or type(rows) is not list:
            return None
        # Sealed entries this code wrote: a field of the wrong type means a foreign entry, a miss
        # (join refuses anything but strings, in C: 290,000 rows a province).
        if not all(type(row) is list and len(row) == 7 for row in rows):
            return None
        "".join(chain.from_iterable(rows))
        # The tuples made directly, with Result's defaults: the class call costs half as much again.
        reads = body.get("reads")
        return StackVerdicts(stack, kind, tenant, tuple([_new(Result, (stack, *row, *_RESULT_REST)) for row in rows]),
                             reads if isinstance(reads, list) else None)
    except (KeyError, TypeError):
        return None


_new = tuple.__new__
# An entry's row is a Result from its rule to its message; the rest (waiver, note, source) is the report's.
_RESULT_REST = tuple(Result._field_defaults[name] for name in Result._fields[8:])
