"""Atomic file writes and hashing.

Every file digitkit writes goes through here so that a crash, a full disk or a
Ctrl-C never leaves a half-written checkpoint, model or data file behind: the
bytes go to a temporary file in the same directory and are renamed over the
target only once they are complete and flushed.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Open a binary file that appears at ``path`` only if the block succeeds."""
    target = Path(path)
    try:
        for folder in (target.parent, *target.parent.parents):  # mkdir says "File exists" for a file in the way
            if folder.exists():
                if not folder.is_dir():
                    raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder))
                break
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        _name(exc, target)
        raise
    os.chmod(tmp, 0o666 & ~_umask())
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            _name(exc, target)
        raise


def _name(exc: OSError, target: Path) -> None:
    """A full disk says only "No space left on device": name the file we were writing, for the one-line error."""
    if exc.filename is None or str(exc.filename).endswith(".tmp"):
        exc.filename, exc.filename2 = str(target), None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    with atomic_open(path) as handle:
        handle.write(data)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def sha256_file(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def remove_stale_temporaries(folder: str | os.PathLike[str], name: str = "*", older_than_s: float = 60.0) -> list[Path]:
    """Remove the temporary files ``atomic_open`` left in ``folder`` for ``name`` (a glob) when a process was killed.

    Only files older than ``older_than_s`` go: a write in progress in another process takes milliseconds,
    so a minute-old temporary file is one nobody will finish. Returns what was removed.
    """
    import time

    removed = []
    limit = time.time() - older_than_s
    for path in Path(folder).glob(f".{name}.*.tmp"):
        with contextlib.suppress(OSError):
            if path.is_file() and path.stat().st_mtime < limit:
                path.unlink()
                removed.append(path)
    return removed


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """True when two names are one file: the same path, a link to it, or another spelling of it."""
    a, b = Path(a), Path(b)
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False
