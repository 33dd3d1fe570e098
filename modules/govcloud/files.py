"""Files a user names, read and written safely: the one home for it.

Reading: only regular files. A FIFO would block ``open`` (and ``read``) forever, a device may
never end, a directory is not a document; each is refused at once with its kind named.

Writing (``--out`` and every document govcloud writes for people): never through a symbolic
link (its target could be anything: a key, another report, recorded evidence), never over a
directory or a special file, and never half: the text goes to a temporary file beside the
target, then replaces it in one rename. Errors name the user's path, never the temporary one.
All errors are ``OSError`` with ``filename`` set, which the command line turns into one line.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Sequence
from pathlib import Path

_KINDS = {stat.S_IFDIR: "a directory", stat.S_IFIFO: "a FIFO", stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
          stat.S_IFSOCK: "a socket", stat.S_IFLNK: "a symbolic link"}


def kind_of(mode: int) -> str:
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def read_regular(path: Path, limit: int | None = None) -> bytes:
    """The bytes of the regular file ``path`` (links followed), at most ``limit`` of them."""
    # O_NONBLOCK: opening a FIFO with no writer returns at once instead of waiting for one.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, f"is {kind_of(info.st_mode)}, not a regular file", str(path))
        if limit is not None and info.st_size > limit:
            raise OSError(errno.EFBIG, f"file is {info.st_size} bytes; the limit is {limit} bytes", str(path))
        chunks = []
        remaining = (limit + 1) if limit is not None else None
        while True:
            chunk = os.read(fd, 1 << 20 if remaining is None else min(1 << 20, remaining))
            if not chunk:
                break
            chunks.append(chunk)
            if remaining is not None:
                remaining -= len(chunk)
                if remaining <= 0:  # the file grew while we read it
                    raise OSError(errno.EFBIG, f"file is larger than the limit of {limit} bytes", str(path))
        return b"".join(chunks)
    finally:
        os.close(fd)


def output_problem(path: Path) -> str | None:
    """Why govcloud will not write ``path``, or None: a link, a directory, a special file."""
    try:
        info = os.lstat(path)
    except OSError:  # absent, or its folder cannot be: the write itself says why
        return None
    if stat.S_ISLNK(info.st_mode):
        return "is a symbolic link; govcloud does not write through links (remove it or give another name)"
    if stat.S_ISDIR(info.st_mode):
        return "is a directory; give a file name"
    if not stat.S_ISREG(info.st_mode):
        return f"is {kind_of(info.st_mode)}; give a regular file name"
    return None


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


_UMASK = _umask()


def write_pieces(fd: int, pieces: Sequence[bytes | memoryview]) -> None:
    """Write ``pieces`` one after the other without joining them first (a province's check
    report is over 100 MB): ``writev`` in batches, short writes resumed where they stopped."""
    for first in range(0, len(pieces), 512):  # writev takes at most IOV_MAX (1024) buffers
        batch = [memoryview(piece) for piece in pieces[first:first + 512]]
        while batch:
            written = os.writev(fd, batch)
            while batch and written >= len(batch[0]):
                written -= len(batch.pop(0))
            if batch and written:
                batch[0] = batch[0][written:]


def write_output(path: Path, data: str | bytes | list[bytes | memoryview], mode: int | None = None) -> None:
    """Write ``data`` (text, bytes, or pieces of bytes written one after the other) to ``path``
    atomically, refusing what ``output_problem`` refuses. The file gets ``mode``, else the mode
    of the file it replaces, else what a plain create would give."""
    problem = output_problem(path)
    if problem is not None:
        raise OSError(errno.EEXIST, problem, str(path))
    if mode is None:
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except FileNotFoundError:
            mode = 0o666 & ~_UMASK
    payload = data.encode("utf-8") if isinstance(data, str) else data
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            if isinstance(payload, list):
                write_pieces(handle.fileno(), payload)
            else:
                handle.write(payload)
            os.fchmod(handle.fileno(), mode)
        os.replace(temporary, path)
        temporary = None
    except OSError as error:
        raise OSError(error.errno, error.strerror or str(error), str(path)) from None
    finally:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
