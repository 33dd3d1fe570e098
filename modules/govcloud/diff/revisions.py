"""The inventory of an environment at a git revision, copied out without touching the work tree.

``git ls-tree`` lists the environment's files at the revision and ``git cat-file --batch``
reads them into a temporary directory: no checkout, no ``git worktree``, no index or HEAD
change, so the user's working tree and staged changes stay exactly as they are.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..model import InputError, Problem


class RevisionError(Exception):
    """Bad input about revisions (not a repository, unknown revision): one clear line, exit 2."""


@dataclass(frozen=True)
class Repository:
    top: Path  # the work tree's top directory
    inventories: PurePosixPath  # the inventories directory, relative to ``top``

    def git(self, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
        return _git(self.top, *args, stdin=stdin)


def _git(cwd: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True,
                              env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"})
    except FileNotFoundError:
        raise RevisionError("git is not installed; `govcloud diff --from-dir/--to-dir` compares render directories without it") from None


def repository_of(inventories: Path) -> Repository:
    """The git work tree holding ``inventories`` (which need not exist in the work tree)."""
    wanted = inventories.resolve()
    probe = wanted
    while not probe.is_dir():
        probe = probe.parent
    done = _git(probe, "rev-parse", "--show-toplevel")
    if done.returncode != 0:
        raise RevisionError(f"{inventories} is not inside a git repository, so --from/--to have no revisions to read; "
                            "compare two render directories with --from-dir/--to-dir instead")
    top = Path(done.stdout.decode().strip()).resolve()
    return Repository(top, PurePosixPath(wanted.relative_to(top).as_posix()))


def resolve(repo: Repository, revision: str) -> str:
    """The commit id ``revision`` names; RevisionError when it names none."""
    if not revision or revision.startswith("-"):
        raise RevisionError(f"{revision!r} is not a revision")
    done = repo.git("rev-parse", "--verify", "--quiet", "--end-of-options", f"{revision}^{{commit}}")
    if done.returncode != 0:
        raise RevisionError(f"unknown revision {revision!r} in the repository at {repo.top}")
    return done.stdout.decode().strip()


def materialize(repo: Repository, commit: str, env: str, destination: Path, label: str) -> Path:
    """Write ``<inventories>/<env>/`` as of ``commit`` under ``destination``; returns the inventories directory."""
    prefix = repo.inventories / env
    listed = repo.git("ls-tree", "-r", "-z", "--full-tree", commit, "--", f"{prefix}/")
    if listed.returncode != 0:
        raise RevisionError(f"cannot list {prefix} at {label}: {listed.stderr.decode().strip()}")
    entries = []
    for record in listed.stdout.split(b"\0"):
        if not record:
            continue
        meta, _, path = record.partition(b"\t")
        mode, kind, sha = meta.decode().split()
        entries.append((mode, kind, sha, PurePosixPath(path.decode("utf-8", "surrogateescape"))))
    if not any(kind == "blob" for _, kind, _, _ in entries):
        raise RevisionError(f"environment {env} has no inventory at {label} ({prefix}/ is not in that commit)")
    blobs = [e for e in entries if e[1] == "blob"]
    batch = repo.git("cat-file", "--batch", stdin=b"".join(sha.encode() + b"\n" for _, _, sha, _ in blobs))
    if batch.returncode != 0:
        raise RevisionError(f"cannot read {prefix} at {label}: {batch.stderr.decode().strip()}")
    data, position = batch.stdout, 0
    inventories = destination / "inventories"
    for mode, _, _sha, path in blobs:
        header_end = data.index(b"\n", position)
        _, _, size = data[position:header_end].decode().split()
        start = header_end + 1
        content = data[start:start + int(size)]
        position = start + int(size) + 1
        relative = path.relative_to(repo.inventories)
        if ".." in relative.parts:
            raise RevisionError(f"{path} at {label}: refusing a path outside the inventories directory")
        target = inventories.joinpath(*relative.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        if mode == "120000":  # a symbolic link: recreated as one, so that the loader refuses it as it would in the work tree
            os.symlink(content.decode("utf-8", "surrogateescape"), target)
        else:
            target.write_bytes(content)
    return inventories


def relabel(error: InputError, inventories: Path, repo: Repository, label: str) -> InputError:
    """Problems in a copied inventory, named as ``<label>:<path in the repository>``."""
    root = str(inventories.resolve())
    problems = []
    for problem in error.problems:
        file = problem.file
        resolved = str(Path(file).resolve()) if file else file
        if resolved.startswith(root):
            file = f"{label}:{repo.inventories}{resolved[len(root):]}"
        problems.append(Problem(file, problem.line, problem.field, problem.message))
    return InputError(problems)


def code_version(project_dir: Path) -> dict[str, object]:
    """The code that renders both sides: the project's commit and whether its files are modified."""
    head = _git(project_dir, "rev-parse", "HEAD")
    if head.returncode != 0:
        from importlib.metadata import version

        return {"govcloud": version("govcloud")}
    status = _git(project_dir, "status", "--porcelain", "--untracked-files=no", "--", "modules", "stacks", "policies")
    return {"commit": head.stdout.decode().strip(), "modified": bool(status.stdout.strip())}
