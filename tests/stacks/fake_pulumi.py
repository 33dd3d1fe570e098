#!/usr/bin/env python3
"""Stands in for the pulumi CLI in the orchestration tests of `govcloud deploy` (the real engine
has its own tests in tests/engine): it keeps stacks and their config in $FAKE_STATE, records every
call (argv, and whether stdin carried anything, never its content) in $FAKE_CALLS, writes plans
and event logs where asked, and fails the stacks named in $FAKE_FAIL (comma-separated)."""

import fcntl
import json
import os
import sys
from pathlib import Path

state_file = Path(os.environ["FAKE_STATE"])
lock = open(f"{state_file}.lock", "w")  # noqa: SIM115 - held for the whole process
fcntl.flock(lock, fcntl.LOCK_EX)  # parallel stacks: one call at a time (a real backend keeps stacks apart)
state = json.loads(state_file.read_text()) if state_file.exists() else {"stacks": {}}
args = sys.argv[1:]
stdin = sys.stdin.read() if not sys.stdin.isatty() else ""
with open(os.environ["FAKE_CALLS"], "a", encoding="utf-8") as calls:
    calls.write(json.dumps({"argv": args, "stdin": bool(stdin), "cwd": os.getcwd(),
                            "env": {k: os.environ.get(k) for k in ("PULUMI_BACKEND_URL", "PULUMI_HOME", "KUBECONFIG",
                                                                   "PULUMI_CONFIG_PASSPHRASE_FILE", "PULUMI_SKIP_UPDATE_CHECK")}})
                + "\n")
if os.environ.get("FAKE_SECRETS_LOG"):
    with open(os.environ["FAKE_SECRETS_LOG"], "a", encoding="utf-8") as secrets:
        secrets.write(stdin)


def option(name: str) -> str | None:
    return args[args.index(name) + 1] if name in args else None


def save() -> None:
    state_file.write_text(json.dumps(state))


stack = option("--stack")
failing = set(filter(None, os.environ.get("FAKE_FAIL", "").split(",")))
if args[:2] == ["plugin", "install"]:
    target = Path(os.environ["PULUMI_HOME"]) / "plugins" / f"resource-{args[3]}-v{args[4]}"
    target.mkdir(parents=True, exist_ok=True)
    (target / f"pulumi-resource-{args[3]}").write_bytes(Path(option("--file")).read_bytes())
elif args[:3] == ["stack", "ls", "--json"]:
    print(json.dumps([{"name": n, **({"resourceCount": s["resources"]} if s["resources"] else {})}
                      for n, s in sorted(state["stacks"].items())]))
elif args[:2] == ["stack", "init"]:
    state["stacks"][args[2]] = {"resources": 0, "config": {}}
    save()
elif args[0] == "config":
    config = state["stacks"][stack]["config"]
    if args[1] == "--json":
        print(json.dumps(config))
    elif args[1] == "set-all":
        for index, arg in enumerate(args):
            if arg == "--plaintext":
                key, _, value = args[index + 1].partition("=")
                config[key] = {"value": value, "secret": False}
    elif args[1] == "set" and args[2] == "--secret":
        config[args[3]] = {"value": stdin, "secret": True}
    elif args[1] == "rm-all":
        for key in args[2:]:
            config.pop(key, None)
    save()
elif args[0] in ("preview", "up", "destroy"):
    if option("--event-log"):
        Path(option("--event-log")).write_text(json.dumps({"sequence": 0, "summaryEvent": {}}) + "\n")
    if stack in failing:
        print(f"error: {args[0]} of {stack} failed (fake)")
        sys.exit(3)
    if args[0] == "preview" and option("--save-plan"):
        urn = f"urn:pulumi:{stack}::govcloud::pulumi:pulumi:Stack::govcloud-{stack}"
        steps = ["same"] if state["stacks"][stack]["resources"] else ["create"]
        Path(option("--save-plan")).write_text(json.dumps({"manifest": {"time": "fake"}, "config": {},
                                                           "resourcePlans": {urn: {"steps": steps}}}))
    if args[0] == "up":
        state["stacks"][stack]["resources"] = 5
    if args[0] == "destroy":
        state["stacks"][stack]["resources"] = 0
    save()
else:
    print(f"fake pulumi: unexpected {args}", file=sys.stderr)
    sys.exit(9)
