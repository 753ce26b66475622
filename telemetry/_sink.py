"""Append whole lines to a JSONL file: open, torn-line repair, rotation, fsync.

Everything here runs on the writer thread. The system calls go through a
:class:`FileOps` object so that tests can fail the Nth open, write or fsync, the way
SQLite's test VFS does.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import time
import weakref
from pathlib import Path

__all__ = ["FileOps", "FileSink", "PartialWriteError", "rotated_path"]

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_OPEN_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | _CLOEXEC

_log = logging.getLogger("telemetry")

_LOCK_WAIT = 5.0
"""Seconds a writer waits for the file's lock before it writes without it. Writers
hold the lock only to check the tail and write, so a longer hold means the holder is
stopped (SIGSTOP, a debugger) or hung."""

_LOCK_YIELDS = 20
"""Tries for a taken lock that give the CPU away rather than sleep. With more
writer processes than cores, the holder is often runnable but not running. A sleep
of even 50 µs then left the lock free while every waiter slept, so eight processes
that flushed every event ran a quarter slower than with no lock at all."""


class FileOps:
    """The system calls the sink makes; subclass it to inject faults."""

    def open(self, path: str, flags: int, mode: int) -> int:
        """Open ``path`` and return a file descriptor."""
        return os.open(path, flags, mode)

    def lock(self, fd: int, operation: int) -> None:
        """Take, change or release an advisory lock on the file (``flock``)."""
        fcntl.flock(fd, operation)

    def write(self, fd: int, data: memoryview) -> int:
        """Write some of ``data`` and return how many bytes the kernel took."""
        return os.write(fd, data)

    def fsync(self, fd: int) -> None:
        """Flush the file's data and metadata to stable storage."""
        os.fsync(fd)

    def close(self, fd: int) -> None:
        """Close a file descriptor."""
        os.close(fd)

    def fstat(self, fd: int) -> os.stat_result:
        """Return the status of an open file."""
        return os.fstat(fd)

    def stat(self, path: str) -> os.stat_result:
        """Return the status of the file at ``path``."""
        return os.stat(path)

    def rename(self, source: str, target: str) -> None:
        """Rename ``source`` to ``target`` atomically."""
        os.rename(source, target)


class PartialWriteError(OSError):
    """A write failed after the kernel had taken the first ``written`` bytes."""

    def __init__(self, written: int, cause: OSError) -> None:
        super().__init__(cause.errno, cause.strerror)
        self.written = written
        self.cause = cause


def rotated_path(path: Path, epoch: float) -> Path:
    """Return the name a rotated file gets: ``events.20261204T161037123456Z.jsonl``."""
    micros = round(epoch * 1_000_000)
    seconds, micro = divmod(micros, 1_000_000)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(seconds)) + f"{micro:06d}Z"
    if path.suffix:
        return path.with_name(f"{path.stem}.{stamp}{path.suffix}")
    return path.with_name(f"{path.name}.{stamp}")


class FileSink:
    """An append-only JSONL file that follows its path across outside rotation.

    Args:
        path: The file to append to; its folder is created when missing.
        rotate_bytes: Rotate the file once it contains at least this many bytes, or
            never when None.
        ops: The system calls to make.
        sync_retired: Keep a file that rotation or an outside rename left behind
            open until the next :meth:`sync`, which fsyncs it.
    """

    def __init__(
        self,
        path: Path,
        *,
        rotate_bytes: int | None = None,
        ops: FileOps | None = None,
        sync_retired: bool = False,
    ) -> None:
        self.path = path
        self._sync_retired = sync_retired
        self._retired: list[int] = []
        self._rotate_bytes = rotate_bytes
        self._ops = ops or FileOps()
        self._fd: int | None = None
        self._read_fd: int | None = None
        self._identity: tuple[int, int] | None = None
        self._lock_stale = False
        self._rotation_lock: int | None = None
        _open_sinks.add(self)

    def append(self, data: bytes) -> None:
        """Append ``data``, whole lines, as one write where the kernel allows.

        With O_APPEND every write() lands at the current end of the file, and Linux
        holds the inode's lock for the whole call on a local filesystem, so lines
        from several processes never interleave. A short write (a full disk, a
        signal) is completed by further writes, still under the flock below, so
        only a writer that does not take it could come between them.

        Raises:
            PartialWriteError: the write failed after some bytes reached the kernel.
            OSError: the file could not be opened or nothing was written.
        """
        fd = self._current_fd()

        # Every writer holds the file's exclusive flock while it checks the tail
        # and writes, so no other live writer's line can be in progress: a tail
        # without its newline was torn by a crash.
        locked = self._lock(fd)
        try:
            self._write_all(fd, data, repair=not self._ends_with_newline(fd))
        finally:
            if locked:
                with contextlib.suppress(OSError):
                    self._ops.lock(fd, fcntl.LOCK_UN)

    def _write_all(self, fd: int, data: bytes, *, repair: bool) -> None:
        # ``repair`` starts the data on a new line, after a torn one.
        prefix = 1 if repair else 0
        view = memoryview(b"\n" + data if repair else data)

        written = 0
        while written < len(view):
            try:
                count = self._ops.write(fd, view[written:])
            except OSError as exc:
                if written > prefix:
                    raise PartialWriteError(written - prefix, exc) from exc
                raise
            if count == 0:
                raise PartialWriteError(
                    max(written - prefix, 0), OSError(5, "write() returned 0")
                )
            written += count

    def _lock(self, fd: int) -> bool:
        """Take the file's exclusive flock, and return whether it is held.

        Without the lock the write still happens, because losing the event would be
        worse than what a misjudged tail can cause: a blank line, or on a crash at
        that moment a fragment glued to the next event. That happens on filesystems
        without flock, and when another process holds the lock for ``_LOCK_WAIT``.
        """
        # Polled rather than blocking, so a stopped holder cannot stop this writer.
        # Once a wait has run out, the next appends try once and move on, or each
        # would wait again and the queue would fill behind them.
        deadline = time.monotonic() + (0.0 if self._lock_stale else _LOCK_WAIT)
        pause = 0.00005
        attempts = 0
        while True:
            try:
                self._ops.lock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._lock_stale = False
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    self._lock_timed_out()
                    return False
            except OSError:
                return False

            attempts += 1
            if attempts <= _LOCK_YIELDS:
                os.sched_yield()
            else:
                time.sleep(pause)
                pause = min(pause * 2, 0.001)

    def _lock_timed_out(self) -> None:
        if not self._lock_stale:
            self._lock_stale = True
            _log.warning(
                "telemetry waited %.0f s for the lock on %s, held by another "
                "process; writing without it. Look for a stopped or hung process "
                "that logs to this file.",
                _LOCK_WAIT,
                self.path,
            )

    def sync(self) -> None:
        """Flush what was appended to stable storage (fsync).

        Files left behind by rotation or an outside rename since the last sync
        are fsynced and closed first, so a sync covers every line appended.
        """
        while self._retired:
            fd = self._retired[0]
            self._ops.fsync(fd)
            self._retired.pop(0)
            with contextlib.suppress(OSError):
                self._ops.close(fd)
        if self._fd is not None:
            self._ops.fsync(self._fd)

    def close(self) -> None:
        """Close the file, and any left unsynced; the next append opens it again."""
        for retired in self._retired:
            with contextlib.suppress(OSError):
                self._ops.close(retired)
        self._retired.clear()
        self._release()

    def forget_after_fork(self) -> None:
        """Close the descriptors a forked child inherited, without syncing them."""
        descriptors = [*self._retired, self._fd, self._read_fd, self._rotation_lock]
        self._retired.clear()
        self._fd = self._read_fd = self._rotation_lock = None
        self._identity = None
        for fd in descriptors:
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)

    def _release(self) -> None:
        fd, self._fd = self._fd, None
        self._identity = None
        reader, self._read_fd = self._read_fd, None
        if reader is not None:
            with contextlib.suppress(OSError):
                os.close(reader)
        if fd is not None:
            # The descriptor is released even when close() reports an error.
            with contextlib.suppress(OSError):
                self._ops.close(fd)

    # --- opening, following and rotating ----------------------------------------

    def _current_fd(self) -> int:
        if self._fd is not None and not self._path_moved():
            if not self._over_size():
                return self._fd
            self._rotate()
        self._leave_file()
        fd = self._open()

        if self._over_size():
            # A file that an earlier process left over the limit rotates before
            # the first write, or short-lived processes would never rotate it.
            self._rotate()
            self._leave_file()
            fd = self._open()
        return fd

    def _leave_file(self) -> None:
        # Under an fsync policy the old file keeps its descriptor until the next
        # sync(), so the lines written to it since the last fsync get theirs.
        if self._fd is not None and self._sync_retired:
            self._retired.append(self._fd)
            self._fd = None
        self._release()

    def _open(self) -> int:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except FileExistsError as exc:
            # mkdir reports a regular file in the way as "File exists", which
            # hides the cause; name it.
            raise NotADirectoryError(
                errno.ENOTDIR,
                f"cannot create the log folder, because {exc.filename} is a file, "
                f"not a folder; choose another path",
                str(self.path),
            ) from None
        fd = self._ops.open(str(self.path), _OPEN_FLAGS, 0o644)
        status = self._ops.fstat(fd)
        self._fd = fd
        self._identity = (status.st_dev, status.st_ino)
        self._read_fd = self._open_reader()
        return fd

    def _open_reader(self) -> int | None:
        # The tail is read through a second descriptor, which must name the same
        # file: a rename between the two opens would point it at another one.
        try:
            reader = os.open(self.path, os.O_RDONLY | _CLOEXEC)
        except OSError:
            return None
        status = os.fstat(reader)
        if (status.st_dev, status.st_ino) == self._identity:
            return reader
        os.close(reader)
        return None

    def _ends_with_newline(self, fd: int) -> bool:
        # A crash can leave a torn last line; the next event must start on its own.
        # Plain os calls, because builtins such as open() are gone when a
        # finalizer logs during interpreter shutdown.
        reader = self._read_fd
        if reader is None:
            return True  # Unreadable (write-only): assume whole lines.
        try:
            size = self._ops.fstat(fd).st_size
            return size == 0 or os.pread(reader, 1, size - 1) == b"\n"
        except OSError:
            return True

    def _path_moved(self) -> bool:
        """Tell whether the path now names another file, or none (rotated, deleted)."""
        try:
            status = self._ops.stat(str(self.path))
        except FileNotFoundError:
            return True
        return (status.st_dev, status.st_ino) != self._identity

    def _over_size(self) -> bool:
        if self._rotate_bytes is None:
            return False
        assert self._fd is not None
        return self._ops.fstat(self._fd).st_size >= self._rotate_bytes

    def _rotate(self) -> None:
        # The lock file serializes rotation between processes: each re-checks under
        # the lock, so a file is renamed once, never the fresh one another just made.
        # A writer that finds the lock taken skips this rotation rather than wait
        # for a holder that may be stopped: the next append checks the size again.
        lock_path = self.path.with_name(self.path.name + ".lock")
        lock = os.open(lock_path, os.O_WRONLY | os.O_CREAT | _CLOEXEC, 0o644)
        self._rotation_lock = lock
        try:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return
            except OSError:
                pass  # No flock on this filesystem, so the re-check below must do.
            if not self._path_moved() and self._over_size():
                target = rotated_path(self.path, time.time())
                self._ops.rename(str(self.path), str(target))
        finally:
            # Closing the descriptor releases the flock.
            self._rotation_lock = None
            os.close(lock)


_open_sinks: weakref.WeakSet[FileSink] = weakref.WeakSet()


def _close_inherited_files() -> None:
    # A forked child gets the parent's descriptors, and a flock lives as long as
    # any descriptor of it: without this, a parent killed while it holds the lock
    # would leave it held for as long as the child lives.
    for sink in list(_open_sinks):
        sink.forget_after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_close_inherited_files)
