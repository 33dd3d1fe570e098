"""``govcloud`` commands at fork cost: each in its own process, with a hard time limit.

Started once (``python forkserver.py``), the server imports the command line and the modules its
commands load lazily, then reads one JSON request per line on stdin: ``{"argv": [...], "cwd":
"...", "env": {...}, "stdin": text or null, "timeout": seconds}``. For each it forks a child that
changes to ``cwd``, replaces the environment with ``env``, reads stdin from the given text (or
/dev/null), writes stdout/stderr to files, runs ``govcloud.cli.main(argv)`` exactly as the console
script does and exits as a Python process exits (atexit handlers, flushed streams). The server
waits for the child with the time limit and kills it when it is exceeded: a command that hangs (a
FIFO read, a lock) is reported as ``timed_out``, never waited for. It answers one JSON line: exit
status, stdout, stderr, timed_out, seconds.

So a test sees what a user's shell sees (exit status, the two streams, files written) without
paying the import of the command line (about 0.7 CPU-s) for every command: the tests run
hundreds of commands. What a fork cannot show, the start of the installed console script itself,
is covered by tests that run it (``Govcloud.real``; tests/hostile compares the two).

A fork after the import is safe here: this process runs no thread and no command itself.
The few things read from the environment at import time (``IMPORT_ENV``: the terminal width and
colours Rich fixes when a console is made) are part of the server's identity: the client keeps
one server per distinct value of them, started in that environment.
"""

from __future__ import annotations

import gc
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

GOVCLOUD = str(Path(sys.executable).parent / "govcloud")
SERVER = Path(__file__).resolve()
REPO = SERVER.parents[1]
# Read once, when the command line is imported (Rich's consoles, govcloud.cli.common's width).
IMPORT_ENV = ("COLUMNS", "LINES", "TERM", "NO_COLOR", "FORCE_COLOR", "COLORTERM", "TTY_COMPATIBLE", "TTY_INTERACTIVE",
              "GOVCLOUD_POLICY_TRACE")
DEFAULT_TIMEOUT = 600.0


# --- the server ----------------------------------------------------------------------------------
def _child(request: dict, out_path: str, err_path: str, in_path: str | None) -> None:
    code: int | str | None = 70
    try:
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        stdin = os.open(in_path or os.devnull, os.O_RDONLY)
        os.dup2(stdin, 0)
        os.dup2(os.open(out_path, os.O_WRONLY | os.O_TRUNC), 1)
        os.dup2(os.open(err_path, os.O_WRONLY | os.O_TRUNC), 2)
        sys.stdin = open(0, encoding=sys.stdin.encoding, errors=sys.stdin.errors, closefd=False)  # noqa: SIM115 (the child's stdin until it exits)
        from govcloud.cli import main

        sys.argv = ["govcloud", *request["argv"]]
        try:
            main(list(request["argv"]))
            code = 0
        except SystemExit as done:
            code = done.code
        except BaseException:  # what the console script would print: a traceback, exit 1
            import traceback

            traceback.print_exc()
            code = 1
    except BaseException:
        import traceback

        traceback.print_exc()
    # Leave as the console script's process does: SystemExit through the interpreter's shutdown
    # (non-daemon threads joined, atexit handlers run, streams flushed; a non-int code printed).
    raise _ChildExit(code)


class _ChildExit(BaseException):
    pass


def preload() -> list[str]:
    """Import the command line and every govcloud module its commands import when they run (the
    model, signing, the ledger, the Pulumi SDK for render, the pack client for check: read from
    the command modules' own imports), so each child starts warm."""
    import ast
    import importlib

    import govcloud.cli

    names = {"govcloud.check.run", "govcloud.render.pipeline"}
    for path in sorted(Path(govcloud.cli.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 2:
                package = f"govcloud.{node.module}" if node.module else "govcloud"
                names.add(package)
                names.update(f"{package}.{alias.name}" for alias in node.names)  # the submodules among them
    loaded = []
    for name in sorted(names):
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:
                raise
            continue  # a name the package defines, not a submodule
        loaded.append(name)
    return loaded


def serve() -> None:
    preload()
    # What was imported stays for the server's life: move it out of the collector's reach
    # (gc.freeze, as Python's documentation advises before fork without exec). Otherwise each
    # child's collections, and the final one as it exits, walk the whole preloaded heap and
    # copy every page they touch: about 0.3 CPU-s per command, ten times a `--version`. The
    # child still exits through the interpreter's shutdown; only the server's own objects are
    # never collected, which they would not be anyway.
    gc.collect()
    gc.freeze()

    scratch = tempfile.mkdtemp(prefix="govcloud-forkserver-")
    out_path, err_path, in_path = (os.path.join(scratch, name) for name in ("stdout", "stderr", "stdin"))
    for line in sys.stdin:
        request = json.loads(line)
        for path in (out_path, err_path):
            open(path, "wb").close()
        if request.get("stdin") is not None:
            with open(in_path, "w", encoding="utf-8") as given:
                given.write(request["stdin"])
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:
            try:
                _child(request, out_path, err_path, in_path if request.get("stdin") is not None else None)
            except _ChildExit as leaving:
                raise SystemExit(leaving.args[0]) from None
            os._exit(70)  # never back into the server's loop
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
            time.sleep(0.002)
        with open(out_path, encoding="utf-8", errors="replace") as out, open(err_path, encoding="utf-8", errors="replace") as err:
            answer = {"returncode": None if timed_out else os.waitstatus_to_exitcode(status), "stdout": out.read(), "stderr": err.read(),
                      "timed_out": timed_out, "seconds": round(time.monotonic() - started, 3)}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


# --- the client ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Result:
    """A finished command, as ``subprocess.run`` would give it (returncode, stdout, stderr)."""

    argv: tuple[str, ...]
    returncode: int | None
    stdout: str
    stderr: str
    timed_out: bool = False
    seconds: float = 0.0

    def __str__(self) -> str:
        return (f"govcloud {' '.join(self.argv)!s:.300}\n  exit {self.returncode} in {self.seconds}s{' (TIMED OUT)' if self.timed_out else ''}"
                f"\n  stdout: {self.stdout[-1500:]}\n  stderr: {self.stderr[-1500:]}")


class ForkServer:
    """Runs ``govcloud`` commands through servers of this module (one per ``IMPORT_ENV`` value)."""

    def __init__(self) -> None:
        self.servers: dict[tuple, subprocess.Popen] = {}
        self.lock = threading.Lock()

    def _server(self, env: dict[str, str]) -> subprocess.Popen:
        key = tuple(env.get(name) for name in IMPORT_ENV)
        server = self.servers.get(key)
        if server is None or server.poll() is not None:
            server = subprocess.Popen([sys.executable, str(SERVER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO,
                                      env={**env, "PYTHONPATH": os.environ.get("PYTHONPATH", "")})
            self.servers[key] = server
        return server

    def run(self, *argv: str | Path, cwd: Path | str, env: dict[str, str], timeout: float = DEFAULT_TIMEOUT,
            input: str | None = None) -> Result:
        """``govcloud argv`` in ``cwd`` with exactly ``env``; a hang is killed after ``timeout`` (``timed_out``)."""
        args = tuple(str(a) for a in argv)
        request = json.dumps({"argv": args, "cwd": str(cwd), "env": env, "stdin": input, "timeout": timeout}) + "\n"
        with self.lock:
            server = self._server(env)
            assert server.stdin is not None and server.stdout is not None
            server.stdin.write(request)
            server.stdin.flush()
            ready, _, _ = select.select([server.stdout], [], [], timeout + 60)
            line = server.stdout.readline() if ready else ""
            if not line:  # stuck or dead: never wait on it again
                server.kill()
                server.wait()
                del self.servers[next(k for k, s in self.servers.items() if s is server)]
                raise RuntimeError(f"the fork server {'did not answer' if not ready else 'died'} running govcloud {' '.join(args)}")
        answer = json.loads(line)
        return Result(args, answer["returncode"], answer["stdout"], answer["stderr"], answer["timed_out"], answer["seconds"])

    def close(self) -> None:
        for server in self.servers.values():
            if server.poll() is None:
                assert server.stdin is not None
                server.stdin.close()
                try:
                    server.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()
        self.servers.clear()


_shared: ForkServer | None = None


def shared() -> ForkServer:
    """The fork servers of this test process (closed when it exits)."""
    global _shared
    if _shared is None:
        import atexit

        _shared = ForkServer()
        atexit.register(_shared.close)
    return _shared


def govcloud(*argv: str | Path, cwd: Path | str, env: dict[str, str], timeout: float = DEFAULT_TIMEOUT,
             input: str | None = None) -> Result:
    """``govcloud argv`` as a user's shell runs it (exit status, stdout, stderr), through the fork
    server; a command still running after ``timeout`` is killed and fails the test."""
    result = shared().run(*argv, cwd=cwd, env=env, timeout=timeout, input=input)
    if result.timed_out:
        import pytest

        pytest.fail(f"govcloud {' '.join(result.argv)} did not finish within {timeout}s:\n{result}")
    return result


def real(*argv: str | Path, cwd: Path | str, env: dict[str, str], timeout: float = DEFAULT_TIMEOUT, input: str | None = None) -> Result:
    """The installed console script in a process of its own (a timeout fails the test)."""
    args = tuple(str(a) for a in argv)
    try:
        done = subprocess.run([GOVCLOUD, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
                              input=input, stdin=None if input is not None else subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        import pytest

        pytest.fail(f"govcloud {' '.join(args)} did not finish within {timeout}s")
    return Result(args, done.returncode, done.stdout, done.stderr)


if __name__ == "__main__":
    # The command line's modules come from the installed package, not from beside this file.
    if sys.path and Path(sys.path[0]).resolve() == SERVER.parent:
        sys.path.pop(0)
    serve()
