"""A fork server for the hostile-input suite: ``govcloud`` commands at fork cost, each in its
own process with a hard time limit.

Started once (``python runner.py``), it imports the command line, then reads one JSON request
per line on stdin: ``{"argv": [...], "cwd": "...", "env": {...}, "timeout": seconds}``. For each
it forks a child that changes to ``cwd``, sets ``env`` (over a clean environment), points
stdin at /dev/null and stdout/stderr at files, and runs ``govcloud.cli.main(argv)`` exactly as
the console script does. The server waits for the child with the time limit and kills it when
it is exceeded: a command that hangs (a FIFO read, a lock) is reported as ``timed_out``,
never waited for. It answers one JSON line: exit status, stdout, stderr, timed_out, seconds.

A fork after the import is safe here: this process runs no thread and no command itself.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
import time


def _child(request: dict, out_path: str, err_path: str) -> None:
    code = 70
    try:
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(os.open(out_path, os.O_WRONLY | os.O_TRUNC), 1)
        os.dup2(os.open(err_path, os.O_WRONLY | os.O_TRUNC), 2)
        from govcloud.cli import main

        sys.argv = ["govcloud", *request["argv"]]
        try:
            main(list(request["argv"]))
            code = 0
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        except BaseException:  # what the console script would print: a traceback, exit 1
            import traceback

            traceback.print_exc()
            code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def serve() -> None:
    # Imported once, before any fork: the command line and the heavy modules commands load
    # lazily (the Pulumi SDK for render, the pack client for check), so each child starts warm.
    import govcloud.check.run  # noqa: F401
    import govcloud.cli  # noqa: F401
    import govcloud.render.pipeline  # noqa: F401

    scratch = tempfile.mkdtemp(prefix="govcloud-hostile-")
    out_path, err_path = os.path.join(scratch, "stdout"), os.path.join(scratch, "stderr")
    for line in sys.stdin:
        request = json.loads(line)
        for path in (out_path, err_path):
            open(path, "wb").close()
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:
            _child(request, out_path, err_path)
        timed_out, status = False, 0
        deadline = started + request["timeout"]
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                timed_out = True
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                break
            time.sleep(0.005)
        with open(out_path, encoding="utf-8", errors="replace") as out, open(err_path, encoding="utf-8", errors="replace") as err:
            answer = {"returncode": None if timed_out else os.waitstatus_to_exitcode(status), "stdout": out.read(), "stderr": err.read(),
                      "timed_out": timed_out, "seconds": round(time.monotonic() - started, 3)}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    serve()
