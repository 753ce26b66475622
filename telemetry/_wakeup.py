"""A wake-up signal for the writer thread that is safe to send from anywhere."""

from __future__ import annotations

import contextlib
import os
import select
import weakref

__all__ = ["Wakeup"]


class Wakeup:
    """Wake a thread sleeping in :meth:`wait`, from any thread or signal handler.

    ``threading.Event.set`` takes a lock, so a signal handler (or a ``__del__``
    run by the garbage collector) that sets an event while its own thread is inside
    ``set`` deadlocks. Writing a byte to a non-blocking pipe takes no Python lock.
    """

    def __init__(self) -> None:
        self._read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._read_fd, False)
        os.set_blocking(self._write_fd, False)
        self._closer = weakref.finalize(
            self, _close_pair, self._read_fd, self._write_fd
        )
        # A daemon writer may still wait on the pipe while the interpreter exits.
        self._closer.atexit = False

    def set(self) -> None:
        """Wake the waiting thread, or make its next wait return at once."""
        # A full pipe already contains a wake-up, and a closed one has no reader.
        with contextlib.suppress(OSError):
            os.write(self._write_fd, b"\0")

    def wait(self, timeout: float) -> bool:
        """Sleep up to ``timeout`` seconds or until woken, and tell whether woken."""
        ready, _, _ = select.select([self._read_fd], [], [], timeout)
        if not ready:
            return False
        self._drain()
        return True

    def close(self) -> None:
        """Release the pipe."""
        self._closer()

    def _drain(self) -> None:
        try:
            while os.read(self._read_fd, 4096):
                pass
        except (BlockingIOError, OSError):
            pass  # Empty: every pending wake-up has been consumed.


def _close_pair(read_fd: int, write_fd: int) -> None:
    for fd in (read_fd, write_fd):
        with contextlib.suppress(OSError):  # Already closed.
            os.close(fd)
