"""Run a Pulumi Python program the way Pulumi's language host does (pulumi-language-python-exec).

The engine starts this with the addresses of its resource monitor and engine services, the
project and the stack; config arrives in PULUMI_CONFIG. The program runs as ``__main__`` inside
``pulumi.runtime.run_in_stack``. Used by the engine-path test against a recording monitor on
loopback, because the Pulumi engine itself cannot be installed here.
"""

import argparse
import asyncio
import runpy
import sys

import pulumi
import pulumi.runtime


def main() -> int:
    parser = argparse.ArgumentParser()
    for flag in ("--project", "--stack", "--monitor", "--engine", "--organization", "--parallel", "--dry_run"):
        parser.add_argument(flag)
    parser.add_argument("PROGRAM")
    args = parser.parse_args()
    pulumi.runtime.set_all_config(pulumi.runtime.get_config_env(), pulumi.runtime.get_config_secret_keys_env())
    pulumi.runtime.configure(pulumi.runtime.Settings(
        project=args.project, stack=args.stack, monitor=args.monitor, engine=args.engine,
        parallel=int(args.parallel), dry_run=args.dry_run == "true", organization=args.organization,
    ))
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(pulumi.runtime.run_in_stack(lambda: runpy.run_path(args.PROGRAM, run_name="__main__")))
    except Exception as exc:  # noqa: BLE001 - reported like the language host does
        print(f"program failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    finally:
        loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
