"""Files written by more than one streamtail: a lock beside a file, and writing a file whole.

- `FileLock`: FILE.lock held with flock(2). The kernel lets go of an flock when its holder exits,
  however it exits, so a lock file left by a killed streamtail is harmless: it is locked again.
  A clean release removes it while still holding it; whoever opened the same file meanwhile finds
  it unlinked once they get the lock (its inode no longer at the path) and tries again with a
  fresh one. Where flock(2) is missing (Windows) nothing is locked.
- `write_whole`: the bytes to a temporary file beside the target (`.NAME.PID.tmp`), fsynced and
  renamed over it, the directory fsynced, so that a crash or a reader at the same time sees the
  old file or the new one, never a torn one. `stale_temporaries` finds those a killed writer left.

Used by checkpoint.py (`--checkpoint FILE`) and schemas.py (the schema cache). Standard library
only.
"""

from __future__ import annotations

import contextlib
import glob
import os
from collections.abc import Iterator
from pathlib import Path

try:  # POSIX; elsewhere files are simply not locked
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


class Busy(OSError):
    """Another process holds the lock."""


class FileLock:
    """FILE.lock beside `path`, held from `acquire()` to `release()`."""

    def __init__(self, path: Path) -> None:
        self.locked = path
        self.path = path.with_name(path.name + ".lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock without waiting: `Busy` when another process holds it, OSError when the
        lock file cannot be opened. Once held, the temporary files a writer killed while writing
        left beside the file are removed: nobody else writes now."""
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            if fcntl is None:  # pragma: no cover - Windows: not locked
                break
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                raise Busy(exc.errno, exc.strerror) from exc
            if _same_file(fd, self.path):
                break
            os.close(fd)  # removed by the process that held it: lock the new one
        self._fd = fd
        for stale in stale_temporaries(self.locked):
            stale.unlink(missing_ok=True)

    def release(self) -> None:
        """Remove the lock file and let go of the lock (in that order: see the module doc)."""
        if self._fd is not None:
            if fcntl is not None and _same_file(self._fd, self.path):
                with contextlib.suppress(OSError):
                    self.path.unlink()
            os.close(self._fd)
            self._fd = None


def _same_file(fd: int, path: Path) -> bool:
    """Whether `path` still names the file open as `fd`."""
    try:
        here, there = os.fstat(fd), path.stat()
    except OSError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def write_whole(path: Path, payload: bytes) -> None:
    """Replace `path` by `payload` whole or not at all (see the module doc); OSError on failure,
    the temporary file removed."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        temp.replace(path)
    except OSError:
        temp.unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def stale_temporaries(path: Path) -> Iterator[Path]:
    """Temporary files of `write_whole` for `path` (a writer killed while writing left them)."""
    return path.parent.glob(f".{glob.escape(path.name)}.*.tmp")


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX; not possible everywhere)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
