"""The verdict cache of `govcloud check`: a cached run reports byte for byte what an uncached
run reports, in every format; each input the pack sees invalidates exactly what it must; the
waivers and the day are applied afresh; damaged entries are misses; --no-cache and
GOVCLOUD_CACHE_DIR=off leave the cache alone; concurrent runs share it safely."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from govcloud import labels
from govcloud.check import analyzer
from govcloud.check import run as check_run
from govcloud.check.cache import FactDigests, VerdictCache
from govcloud.cli import main
from govcloud.model import load_environment
from govcloud.state import StackState

from policy_builders import all_states, edit
from policy_helpers import PACK, copy_lab, patch_yaml

HEALTH = "lab.t-430100-health"
TOURISM_WAIVER = ("waivers:\n  - id: W-2026-100\n    rule: GOV-SVC-004\n    scope: {tenant: t-430600-tourism}\n"
                  "    reason: 文旅网站二级定级备案办理中\n    approver: sec-liwei\n    created: 2026-11-01\n    expires: 2026-12-15\n")


class Workspace:
    """A writable lab inventory, its rendered states and a cache of its own."""

    def __init__(self, tmp_path: Path, capsys, monkeypatch):
        self.root = copy_lab(tmp_path).parent
        self.render = tmp_path / "build" / "render" / "lab"
        self.cache = tmp_path / "cache"
        self.pack = PACK
        self.capsys = capsys
        self.monkeypatch = monkeypatch
        monkeypatch.setenv("GOVCLOUD_CACHE_DIR", str(self.cache))
        for state in all_states(load_environment("lab", self.root)):
            state.save(self.render / state.stack)

    def check(self, *extra: str, output: str = "json", today: str = "2026-11-25", pack_allowed: bool = True) -> tuple[int, str, str]:
        with self.monkeypatch.context() as patch, pytest.raises(SystemExit) as exit_info:
            if not pack_allowed:
                patch.setattr(analyzer.PackProcess, "start", _no_pack)
            main(["-v", "--inventories", str(self.root), "check", "--env", "lab", "--render-dir", str(self.render),
                  "--pack", str(self.pack), "--today", today, "--output", output, *extra])
        captured = self.capsys.readouterr()
        return exit_info.value.code or 0, captured.out, captured.err

    def hits(self, err: str) -> int:
        [line] = [line for line in err.splitlines() if "verdict cache:" in line]
        return int(line.split("verdict cache:")[1].split()[0])

    def asked(self, err: str) -> list[str]:
        """The stacks a run asked of the pack (named when others came from the cache)."""
        [line] = [line for line in err.splitlines() if "verdict cache:" in line]
        return line.split("asked of the pack: ", 1)[1].split(", ") if "asked of the pack: " in line else []

    def reads(self) -> dict[str, list[list[str]]]:
        """stack -> the fact lookups its cached verdicts depend on."""
        bodies = [json.loads(p.read_bytes())["body"] for p in self.entries()]
        return {b["stack"]: b["reads"] for b in bodies}

    def fresh(self, *extra: str, **options) -> str:
        """The same check without the cache: what every cached run must equal."""
        code, out, _ = self.check("--no-cache", *extra, **options)
        return out

    def entries(self) -> list[Path]:
        return sorted((self.cache / "check" / "lab" / "stacks").glob("*/*.json"))

    def parts(self) -> list[Path]:
        return sorted((self.cache / "check" / "lab" / "parts").glob("*/*.json"))

    def edit_state(self, stack: str, kind: str, name: str, change) -> None:
        path = self.render / stack / "state.json"
        edit(StackState.load(path), kind, name, change).save(path.parent)


def _no_pack(self) -> None:
    raise AssertionError("the pack was started although every verdict was cached")


@pytest.fixture
def ws(tmp_path, capsys, monkeypatch) -> Workspace:
    return Workspace(tmp_path, capsys, monkeypatch)


@pytest.mark.parametrize("output", ["json", "sarif", "junit", "table"])
def test_a_cached_run_reports_byte_for_byte_what_an_uncached_run_reports(ws, output):
    uncached = ws.fresh(output=output)
    assert not ws.entries()  # --no-cache wrote nothing
    code, first, err = ws.check(output=output)
    assert ws.hits(err) == 0 and len(ws.entries()) == 11
    code, second, err = ws.check(output=output, pack_allowed=False)
    assert ws.hits(err) == 11
    assert uncached == first == second and code == 0 and len(uncached) > 1000


def test_a_changed_state_invalidates_its_stack_only(ws):
    ws.check()
    ws.edit_state(HEALTH, "Namespace", "t-430100-health-app", lambda i: i["metadata"]["labels"].update({labels.PSA_ENFORCE: "baseline"}))
    code, out, err = ws.check()
    assert ws.hits(err) == 10 and code == 1
    assert out == ws.fresh()
    assert any(r["rule"] == "GOV-SEC-002" and r["status"] == "failed" for r in json.loads(out)["results"])


def test_a_stack_rendered_since_the_last_check_has_the_pack_started_before_the_model_loads(ws, monkeypatch):
    """The pack's start is most of a one-stack re-check's wait: with a state written since the
    last check the CLI spawns it first thing, and the check asks that very process (one process
    in all, its fact lookups recorded); with nothing rendered since, nothing is spawned."""
    ws.check()
    spawned: list[analyzer.PackProcess] = []
    original = analyzer.PackProcess.spawn

    def spawn(self):
        spawned.append(self)
        original(self)

    monkeypatch.setattr(analyzer.PackProcess, "spawn", spawn)
    code, out, err = ws.check(pack_allowed=False)
    assert spawned == [] and ws.hits(err) == 11
    ws.edit_state(HEALTH, "Namespace", "t-430100-health-app", lambda i: i["metadata"]["labels"].update({"extra": "x"}))
    code, out, err = ws.check()
    assert ws.asked(err) == [HEALTH] and len(spawned) == 1 and spawned[0].fact_trace.name == "pack-ahead.jsonl"
    assert out == ws.fresh()
    assert ws.reads()[HEALTH]  # what its rules read came from the process spawned ahead
    spawned.clear()
    code, out, err = ws.check(pack_allowed=False)  # nothing rendered since: the entry is used, no process
    assert spawned == [] and ws.hits(err) == 11


def test_a_pack_that_fails_to_start_in_the_background_is_one_clear_error(ws):
    """A stack without an entry has its pack started on a thread of its own while the entries
    are read: when that start fails, the check stops with the pack's error (exit 2), once; the
    thread does not wait for itself to finish."""
    import threading
    import time

    from govcloud.check.analyzer import PackError
    from govcloud.check.cache import VerdictCache

    ws.check()
    ws.edit_state(HEALTH, "Namespace", "t-430100-health-app", lambda i: i["metadata"]["labels"].update({"team": "b"}))

    starts: list[float] = []

    def refused(self) -> None:
        starts.append(time.monotonic())
        time.sleep(0.3)  # as a real start fails: after a while, the thread well under way
        raise PackError("the policy pack did not start: refused by the test")

    outcome: dict[str, object] = {}

    def run() -> None:
        with ws.monkeypatch.context() as patch:
            patch.setattr(analyzer.PackProcess, "start", refused)
            read = VerdictCache.get
            # The entries are read slowly: the start has failed before the check waits for it.
            patch.setattr(VerdictCache, "get", lambda *args, **kwargs: (time.sleep(0.1), read(*args, **kwargs))[1])
            try:
                main(["--inventories", str(ws.root), "check", "--env", "lab", "--render-dir", str(ws.render),
                      "--pack", str(ws.pack), "--today", "2026-11-25", "--output", "json"])
            except SystemExit as exit:
                outcome["code"] = exit.code

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(120)
    assert not thread.is_alive(), "the check hung on the pack that failed to start"
    assert outcome["code"] == 2
    assert "refused by the test" in ws.capsys.readouterr().err
    assert len(starts) == 1, "the failed start is reported, not tried again (its thread stuck waiting for itself)"


def test_the_pack_code_invalidates_every_entry(ws, tmp_path):
    ws.check()
    copy = tmp_path / "pack"
    shutil.copytree(PACK, copy)
    main_py = copy / "__main__.py"
    main_py.write_text(main_py.read_text(encoding="utf-8") + "# a changed pack program\n", encoding="utf-8")
    ws.pack = copy
    code, out, err = ws.check()
    assert ws.hits(err) == 0
    assert out == ws.fresh()


def test_the_pack_runtime_invalidates_every_entry(ws, monkeypatch):
    ws.check()
    real = check_run.runtime
    monkeypatch.setattr(check_run, "runtime", lambda python: {**real(python), "pulumi-policy": "9.9.9"})
    code, out, err = ws.check()
    assert ws.hits(err) == 0


def test_enforcement_from_the_model_invalidates_every_entry(ws):
    ws.check()
    patch_yaml(ws.root / "lab" / "platform.yaml", [{"set": ["policy", "enforcement"], "value": {"GOV-SVC-004": "mandatory"}}])
    code, out, err = ws.check()
    assert ws.hits(err) == 0 and code == 1
    assert out == ws.fresh()


def test_a_fact_the_rules_read_invalidates_and_a_field_they_do_not_read_does_not(ws):
    ws.check()
    request = ws.root / "lab" / "tenants" / "t-430100-health.yaml"
    patch_yaml(request, [{"set": ["change", "reason"], "value": "quarterly review of the health platform"}])
    code, out, err = ws.check(pack_allowed=False)
    assert ws.hits(err) == 11  # no rule reads a request's reason: the pack would see the same
    # The approval references are a fact (GOV-MGT-005 compares them with the namespace's), read
    # by the rules for that tenant's objects only: exactly its stack is asked again.
    patch_yaml(request, [{"set": ["change", "approvals", 0, "reference"], "value": "HNSJ-AQ-2026-099"}])
    code, out, err = ws.check()
    assert ws.hits(err) == 10 and ws.asked(err) == [HEALTH]
    assert out == ws.fresh()
    assert any(r["rule"] == "GOV-MGT-005" and r["status"] == "failed" for r in json.loads(out)["results"])


def test_entries_made_under_another_configuration_are_judged_by_what_their_rules_read(ws):
    """An entry made under the configuration of this run is used without its lookups checked;
    one made under another is checked lookup by lookup, even after a run under the new
    configuration that did not reach it (a check of one other stack)."""
    ws.check()
    request = ws.root / "lab" / "tenants" / "t-430100-health.yaml"
    patch_yaml(request, [{"set": ["change", "approvals", 0, "reference"], "value": "HNSJ-AQ-2026-099"}])
    code, out, err = ws.check("--stack", "t-430600-tourism", pack_allowed=False)
    assert ws.hits(err) == 1
    code, out, err = ws.check()
    assert ws.hits(err) == 10 and ws.asked(err) == [HEALTH]
    assert out == ws.fresh()
    code, out, err = ws.check(pack_allowed=False)  # every entry now made under this configuration
    assert ws.hits(err) == 11 and out == ws.fresh()


def test_a_shared_fact_invalidates_exactly_the_stacks_whose_rules_read_it(ws):
    """The flow matrix is read by the rules that judge traffic between zones; a stack whose
    rules never looked at it keeps its verdicts, every stack that did is asked again."""
    ws.check()
    readers = {name for name, reads in ws.reads().items() if any(view == "flows" for view, key, digest in reads)}
    assert readers and readers != set(ws.reads())  # the test means something either way
    platform = ws.root / "lab" / "platform.yaml"
    flows = yaml.safe_load(platform.read_text(encoding="utf-8"))["flows"]
    flows.append({"from": "egov-extranet", "to": "data", "protocol": "tcp", "ports": [5433], "purpose": "第二个数据库端口"})
    patch_yaml(platform, [{"set": ["flows"], "value": flows}])
    before = ws.reads()
    code, out, err = ws.check()
    assert ws.hits(err) == 11 - len(readers)
    assert {name for name, reads in ws.reads().items() if reads != before[name]} == readers  # the entries written again
    assert out == ws.fresh()


def test_a_derived_fact_invalidates_the_stacks_that_asked_about_what_changed(ws):
    """Whose namespace is this: rules ask it of every object's namespace, a question over all
    tenants' requests. A tenant giving up a namespace reaches exactly the stacks that asked about
    that namespace or read that tenant's entry, not every stack that asked about some namespace."""
    ws.check()
    gone = json.dumps("t-430100-health-data")
    owner_readers = {name for name, reads in ws.reads().items() if any(view == "namespace_owner" for view, key, digest in reads)}
    askers = {name for name, reads in ws.reads().items()
              if {("namespace_owner", gone), ("tenants", json.dumps("t-430100-health"))} & {(v, k) for v, k, d in reads}}
    assert HEALTH in askers and owner_readers - askers  # other stacks asked about other namespaces
    patch_yaml(ws.root / "lab" / "tenants" / "t-430100-health.yaml", [{"set": ["namespaces"], "value": ["app"]}])
    code, out, err = ws.check()
    assert set(ws.asked(err)) == askers
    assert out == ws.fresh()


def test_waivers_and_the_day_are_applied_afresh_to_cached_verdicts(ws):
    ws.check()
    (ws.root / "lab" / "waivers.yaml").write_text(TOURISM_WAIVER, encoding="utf-8")
    code, waived, err = ws.check(pack_allowed=False)
    assert ws.hits(err) == 11 and waived == ws.fresh()
    assert any(r["status"] == "waived" and r["waiver"]["id"] == "W-2026-100" for r in json.loads(waived)["results"])
    code, expired, err = ws.check(today="2026-12-16", pack_allowed=False)
    assert ws.hits(err) == 11 and expired == ws.fresh(today="2026-12-16")
    assert not any(r["status"] == "waived" for r in json.loads(expired)["results"])
    assert "W-2026-100 is expired" in expired


def test_a_stack_report_is_made_again_only_when_a_waiver_that_may_match_it_changes_state(ws, monkeypatch):
    """The verdict cache keeps each stack's part of the report (waivers applied, findings
    located): another day uses it while every waiver that may match the stack is in the same
    state; a waiver expiring remakes the parts of the stacks it may match, and only those."""
    (ws.root / "lab" / "waivers.yaml").write_text(TOURISM_WAIVER, encoding="utf-8")
    ws.check()
    remade: list[str] = []
    original = check_run.stack_report
    monkeypatch.setattr(check_run, "stack_report", lambda stack, *args: remade.append(stack.stack) or original(stack, *args))
    code, out, err = ws.check(today="2026-11-26", pack_allowed=False)
    assert ws.hits(err) == 11 and out == ws.fresh(today="2026-11-26")
    remade.clear()  # the uncached run made every stack's
    code, out, err = ws.check(today="2026-11-27", pack_allowed=False)
    assert ws.hits(err) == 11 and remade == []
    code, out, err = ws.check(today="2026-12-16", pack_allowed=False)
    assert remade == ["lab.t-430600-tourism"] and "W-2026-100 is expired" in out
    remade.clear()
    assert out == ws.fresh(today="2026-12-16")


def _finding_lines(report: str) -> dict[tuple[str, str], int]:
    return {(r["rule"], r["urn"]): r["source"]["line"] for r in json.loads(report)["results"] if "source" in r}


@pytest.mark.parametrize("working_dir", ["elsewhere", "above the inventory"])
def test_finding_lines_are_kept_by_file_content_and_follow_the_file(ws, monkeypatch, working_dir):
    """Where a finding is fixed (file, line, field) comes from the request as it is: a re-check
    takes the lines from the cache while the file's bytes are the same, and finds them again
    in a file that changed (three comment lines on top: the same verdicts, every line + 3).
    Above the inventory, requests are named relative to the working directory while the
    inventory is given as an absolute path (as the province benchmark runs it)."""
    from govcloud.check import sources

    if working_dir == "above the inventory":
        monkeypatch.chdir(ws.root.parent)
    uncached = ws.fresh()
    ws.check()
    lines = _finding_lines(uncached)
    assert lines  # the lab has findings with a source (GOV-SVC-004 on the tourism site)

    def not_parsed(path):
        raise AssertionError(f"{path} parsed again although its lines are known")

    with monkeypatch.context() as patch:
        patch.setattr(sources, "load_yaml_file", not_parsed)
        code, out, err = ws.check(pack_allowed=False)
    assert ws.hits(err) == 11 and out == uncached
    tourism = ws.root / "lab" / "tenants" / "t-430600-tourism.yaml"
    tourism.write_text("# 文旅厅\n# 申请\n# 说明\n" + tourism.read_text(encoding="utf-8"), encoding="utf-8")
    code, out, err = ws.check(pack_allowed=False)
    assert ws.hits(err) == 11 and out == ws.fresh()
    moved = _finding_lines(out)
    assert moved.keys() == lines.keys()
    assert {k: moved[k] - lines[k] for k in lines if "tourism" in k[1]} and all(
        moved[k] == lines[k] + 3 for k in lines if "tourism" in k[1])


def test_damaged_or_foreign_entries_are_misses_never_verdicts(ws):
    uncached = ws.fresh()
    ws.check()
    for part in ws.parts():  # the report parts stand before the entries: without them the entries are read
        part.unlink()
    first, second, third = ws.entries()[:3]
    first.write_bytes(first.read_bytes()[:-40])  # cut short
    body = json.loads(second.read_bytes())
    body["body"]["results"][0][3] = "failed" if body["body"]["results"][0][3] == "passed" else "passed"
    second.write_text(json.dumps(body), encoding="utf-8")  # a verdict changed without its seal
    shutil.copy(ws.entries()[4], third)  # another stack's entry under this key
    code, out, err = ws.check()
    assert ws.hits(err) == 8
    assert out == uncached
    code, out, err = ws.check(pack_allowed=False)  # the misses were written again
    assert ws.hits(err) == 11 and out == uncached


def test_damaged_or_foreign_report_parts_are_misses_never_reports(ws):
    """A report part is used as the bytes it holds: one cut short, changed without its seal or
    written for another stack is passed over for the stack's entry, and made again from it."""
    uncached = ws.fresh()
    ws.check()
    first, second, third = ws.parts()[:3]
    first.write_bytes(first.read_bytes()[:-40])
    data = second.read_bytes()
    status = b'"status": "passed"' if b'"status": "passed"' in data else b'"status": "failed"'
    second.write_bytes(data.replace(status, b'"status": "waived"', 1))  # a verdict changed without its seal
    assert second.read_bytes() != data
    shutil.copy(ws.parts()[4], third)  # another stack's part under this key
    code, out, err = ws.check(pack_allowed=False)
    assert ws.hits(err) == 11 and out == uncached
    for entry in ws.entries():  # the damaged parts were made again: every stack's part stands alone
        entry.unlink()
    code, out, err = ws.check(pack_allowed=False)
    assert ws.hits(err) == 11 and out == uncached


def test_no_cache_and_cache_off_leave_the_cache_alone(ws, monkeypatch):
    ws.check("--no-cache")
    assert not ws.cache.exists() or not ws.entries()
    ws.check()
    before = {p: p.read_bytes() for p in ws.entries()}
    ws.edit_state(HEALTH, "Namespace", "t-430100-health-app", lambda i: i["metadata"]["labels"].update({"extra": "x"}))
    monkeypatch.setenv("GOVCLOUD_CACHE_DIR", "off")
    with pytest.raises(SystemExit):
        main(["--inventories", str(ws.root), "check", "--env", "lab", "--render-dir", str(ws.render), "--pack", str(PACK),
              "--today", "2026-11-25", "--output", "json"])
    assert {p: p.read_bytes() for p in ws.entries()} == before


def test_concurrent_runs_share_the_cache(ws):
    env = {**os.environ, "GOVCLOUD_CACHE_DIR": str(ws.cache)}
    command = [str(Path(sys.executable).parent / "govcloud"), "--inventories", str(ws.root), "check", "--env", "lab",
               "--render-dir", str(ws.render), "--pack", str(PACK), "--today", "2026-11-25", "--output", "json"]
    runs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0]
    assert outputs[0][0] == outputs[1][0] == ws.fresh()
    assert len(ws.entries()) == 11 and not list((ws.cache / "check").rglob("*.tmp"))
    code, out, err = ws.check(pack_allowed=False)
    assert ws.hits(err) == 11 and out == outputs[0][0]


# --- the bundle of report parts ------------------------------------------------------------------
CONFIG = "config-print"


def _made(cache: VerdictCache, stack: str, version: int = 0) -> str:
    """Put a small report part for ``stack`` (its fragment names the stack and ``version``)."""
    key = cache.part_key(f"entry-{stack}-{version}", {"today": "2026-11-25"})
    report = SimpleNamespace(stack=stack, kind="tenant", tenant=stack, fragment=f'[{{"stack": "{stack}", "v": {version}}}]'.encode(),
                             counts={"passed": 1}, blocking=0, waivers_applied=())
    cache.put_part(key, report, [], CONFIG, entry=f"entry-{stack}-{version}")
    return key


def _read(cache: VerdictCache, stack: str, version: int = 0) -> bytes | None:
    key = f"entry-{stack}-{version}"
    part = cache.part(key, {"today": "2026-11-25"}, stack, FactDigests({}), CONFIG)
    return None if part is None else bytes(part.fragment)


STACKS = [f"lab.t-{n:06d}-dept" for n in range(40)]


def _bundled(root: Path) -> VerdictCache:
    first = VerdictCache(root)
    for stack in STACKS:
        _made(first, stack)
    first.store_parts(every_stack=True)
    return first


def _loose(root: Path) -> list[Path]:
    return sorted((root / "parts").glob("*/*.json"))


def test_many_parts_go_into_one_bundle_and_read_back_as_they_were_made(tmp_path):
    _bundled(tmp_path)
    assert (tmp_path / "parts.bundle").is_file() and not _loose(tmp_path)
    again = VerdictCache(tmp_path)
    assert [_read(again, s) for s in STACKS] == [f'[{{"stack": "{s}", "v": 0}}]'.encode() for s in STACKS]
    assert again.hits == len(STACKS)
    again.store_parts(every_stack=True)  # nothing made, nothing outside: the bundle stays as it is
    assert not _loose(tmp_path)


def test_a_few_changed_parts_stay_loose_and_many_make_a_new_bundle(tmp_path):
    _bundled(tmp_path)
    bundle = (tmp_path / "parts.bundle").read_bytes()
    second = VerdictCache(tmp_path)
    assert [_read(second, s) for s in STACKS[1:]]
    _made(second, STACKS[0], version=1)
    second.store_parts(every_stack=True)
    assert (tmp_path / "parts.bundle").read_bytes() == bundle and len(_loose(tmp_path)) == 1
    third = VerdictCache(tmp_path)
    third.loose_limit = 0
    assert _read(third, STACKS[0], version=1) == f'[{{"stack": "{STACKS[0]}", "v": 1}}]'.encode()
    _made(third, STACKS[1], version=1)
    third.store_parts()  # two stacks checked: the other 38 parts come from the old bundle
    assert not _loose(tmp_path) and (tmp_path / "parts.bundle").read_bytes() != bundle
    fourth = VerdictCache(tmp_path)
    assert _read(fourth, STACKS[0], version=1) and _read(fourth, STACKS[1], version=1)
    assert _read(fourth, STACKS[0]) is None and _read(fourth, STACKS[1]) is None  # replaced, not kept
    assert all(_read(fourth, s) for s in STACKS[2:])


def test_a_run_over_every_stack_drops_the_parts_of_stacks_that_are_gone(tmp_path):
    _bundled(tmp_path)
    now = VerdictCache(tmp_path)
    now.loose_limit = 0
    assert all(_read(now, s) for s in STACKS[:10])
    now.store_parts(every_stack=True)
    after = VerdictCache(tmp_path)
    assert all(_read(after, s) for s in STACKS[:10]) and not any(_read(after, s) for s in STACKS[10:])


@pytest.mark.parametrize("damage", ["cut short", "a byte changed", "bytes added", "another format", "a length not a number",
                                    "not JSON", "empty"])
def test_a_damaged_bundle_is_no_bundle_and_its_parts_are_misses(tmp_path, damage):
    _bundled(tmp_path)
    path = tmp_path / "parts.bundle"
    data = path.read_bytes()
    newline = data.index(b"\n")
    head = json.loads(data[:newline])
    if damage == "cut short":
        data = data[:-10]
    elif damage == "a byte changed":
        at = data.index(b'"v": 0', newline)
        data = data[:at] + b'"v": 7' + data[at + 6:]
    elif damage == "bytes added":
        data += b"\n"
    elif damage == "another format":
        data = json.dumps({**head, "format": "govcloud.check-parts/0"}).encode() + data[newline:]
    elif damage == "a length not a number":
        head["parts"][0][2] = str(head["parts"][0][2])
        data = json.dumps(head).encode() + data[newline:]
    elif damage == "not JSON":
        data = b"{" + data
    else:
        data = b""
    path.write_bytes(data)
    cache = VerdictCache(tmp_path)
    assert [_read(cache, s) for s in STACKS] == [None] * len(STACKS) and cache.hits == 0


def test_a_bundle_part_for_another_stack_is_a_miss(tmp_path):
    _bundled(tmp_path)
    cache = VerdictCache(tmp_path)
    key = cache.part_key(f"entry-{STACKS[0]}-0", {"today": "2026-11-25"})
    assert cache.part(f"entry-{STACKS[0]}-0", {"today": "2026-11-25"}, STACKS[1], FactDigests({}), CONFIG) is None
    assert key in cache._bundled()[1]  # it was there, under another stack


def test_a_province_sized_run_reads_its_parts_from_the_bundle_end_to_end(ws, monkeypatch):
    """With every run bundling (as a province's does), a cached report is the uncached one,
    byte for byte, with the pack never started; a changed stack's part is read back loose."""
    monkeypatch.setattr(VerdictCache, "loose_limit", 0)
    uncached = ws.fresh()
    ws.check()
    assert (ws.cache / "check" / "lab" / "parts.bundle").is_file() and not ws.parts()
    code, out, err = ws.check(pack_allowed=False)
    assert ws.hits(err) == 11 and out == uncached
    monkeypatch.setattr(VerdictCache, "loose_limit", 32)
    ws.edit_state(HEALTH, "Namespace", "t-430100-health-app", lambda i: i["metadata"]["labels"].update({"extra": "x"}))
    code, out, err = ws.check()
    assert ws.hits(err) == 10 and len(ws.parts()) == 1 and out == ws.fresh()
    code, again, err = ws.check(pack_allowed=False)
    assert ws.hits(err) == 11 and again == out


def test_a_stack_changed_back_finds_its_bundled_part_and_its_verdicts(ws, monkeypatch):
    """The entry of a part in the bundle outlives the runs that did not use it: a tenant whose
    change is reverted is a hit, and no pack is started early for it."""
    monkeypatch.setattr(VerdictCache, "loose_limit", 0)
    uncached = ws.fresh()
    ws.check()
    monkeypatch.setattr(VerdictCache, "loose_limit", 32)
    path = ws.render / HEALTH / "state.json"
    original = path.read_bytes()
    ws.edit_state(HEALTH, "Namespace", "t-430100-health-app", lambda i: i["metadata"]["labels"].update({"extra": "x"}))
    ws.check()
    path.write_bytes(original)
    opened: list[object] = []
    monkeypatch.setattr(check_run.CheckSession, "open_in_background", lambda self: opened.append(self))
    code, out, err = ws.check(pack_allowed=False)
    assert ws.hits(err) == 11 and out == uncached and not opened


# --- the pack's Configure request ------------------------------------------------------------------
def _sent(monkeypatch) -> list[tuple[str, bytes]]:
    """Every Configure request sent as bytes, with the name of the thread that sent it."""
    import threading

    sent: list[tuple[str, bytes]] = []
    real = analyzer.PackProcess._send_configure

    def counted(self, request: bytes) -> None:
        sent.append((threading.current_thread().name, request))
        real(self, request)

    monkeypatch.setattr(analyzer.PackProcess, "_send_configure", counted)
    return sent


def test_the_pack_started_ahead_takes_the_last_configuration_once(ws, monkeypatch):
    """A pack spawned ahead is given the last run's Configure request while the model loads;
    the check does not send it again when this run's is the same."""
    sent = _sent(monkeypatch)
    ws.check()
    [(_, request)] = sent
    sent.clear()
    ws.edit_state(HEALTH, "Namespace", "t-430100-health-app", lambda i: i["metadata"]["labels"].update({"extra": "x"}))
    code, out, err = ws.check()
    assert ws.asked(err) == [HEALTH] and out == ws.fresh()
    assert [(name.startswith("govcloud-pack-ahead"), sent_request == request) for name, sent_request in sent] == [(True, True)]


def test_a_pack_started_ahead_with_the_last_configuration_is_given_this_runs(ws, monkeypatch):
    """The facts changed since the last run: the pack spawned ahead took the old request, and
    the check sends the new one before any stack is analyzed (the verdicts show it)."""
    sent = _sent(monkeypatch)
    ws.check()
    [(_, old)] = sent
    sent.clear()
    patch_yaml(ws.root / "lab" / "tenants" / "t-430100-health.yaml",
               [{"set": ["change", "approvals", 0, "reference"], "value": "HNSJ-AQ-2026-099"}])
    ws.edit_state(HEALTH, "Namespace", "t-430100-health-app", lambda i: i["metadata"]["labels"].update({"extra": "x"}))
    code, out, err = ws.check()
    assert [name.startswith("govcloud-pack-ahead") for name, _ in sent] == [True, False]
    assert sent[0][1] == old and sent[1][1] != old
    assert any(r["rule"] == "GOV-MGT-005" and r["status"] == "failed" for r in json.loads(out)["results"])
    assert out == ws.fresh()


def test_a_pack_started_ahead_that_fails_to_start_is_one_clear_error(ws, monkeypatch):
    from govcloud.check.analyzer import PackError

    ws.check()
    ws.edit_state(HEALTH, "Namespace", "t-430100-health-app", lambda i: i["metadata"]["labels"].update({"extra": "x"}))
    starts: list[int] = []

    def refused(self) -> None:
        starts.append(1)
        raise PackError("the policy pack did not start: refused by the test")

    monkeypatch.setattr(analyzer.PackProcess, "_start", refused)
    code, out, err = ws.check()
    assert code == 2 and "refused by the test" in err and "Traceback" not in err
    assert len(starts) == 1


def test_the_configure_request_is_made_once_per_configuration_and_a_damaged_one_again(ws, monkeypatch):
    made: list[int] = []
    real = check_run.configure_request

    def counted(reconciled):
        made.append(1)
        return real(reconciled)

    monkeypatch.setattr(check_run, "configure_request", counted)
    ws.fresh()
    assert len(made) == 1  # --no-cache builds it and keeps nothing
    ws.check()
    [request] = sorted((ws.cache / "check" / "lab" / "requests").glob("*/*.json"))
    assert len(made) == 2
    code, out, err = ws.check(pack_allowed=False)  # no pack asked: the request is kept all the same
    assert ws.hits(err) == 11 and request.is_file()
    ws.edit_state(HEALTH, "Namespace", "t-430100-health-app", lambda i: i["metadata"]["labels"].update({"extra": "x"}))
    code, out, err = ws.check()
    assert len(made) == 2 and ws.hits(err) == 10  # the pack ran, configured by the request as kept
    assert out == ws.fresh() and len(made) == 3
    data = request.read_bytes()
    request.write_bytes(data[:20] + bytes([data[20] ^ 1]) + data[21:])  # changed without its seal
    ws.edit_state(HEALTH, "Namespace", "t-430100-health-app", lambda i: i["metadata"]["labels"].update({"extra": "y"}))
    code, out, err = ws.check()
    assert len(made) == 4 and out == ws.fresh() and request.read_bytes() == data
