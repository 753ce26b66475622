"""Fault injection for the writer's system calls, in the manner of SQLite's test VFS.

:class:`FaultyOps` counts every call the sink makes, by kind, and fails the ones a
test names: the Nth open, write or fsync, once or from then on, with a chosen errno.
It also makes writes short (the kernel takes fewer bytes than asked) or makes them
block until released. :class:`RandomFaultOps` draws such faults at random, for soak
runs.
"""

from __future__ import annotations

import errno
import json
import os
import random
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telemetry import FileOps, LoggerStats

__all__ = [
    "ERRNOS",
    "KINDS",
    "Fault",
    "FaultyOps",
    "RandomFaultOps",
    "ledger_balances",
    "read_strict_lines",
    "strict_loads",
]

KINDS = ("open", "write", "fsync", "close", "fstat", "stat", "rename")
"""The kinds of call :class:`~telemetry.FileOps` makes, in the names of its methods."""

ERRNOS = (errno.ENOSPC, errno.EIO, errno.EACCES, errno.EROFS)
"""The errors a full, failing, read-only or locked-down disk reports."""


@dataclass(frozen=True)
class Fault:
    """One planned failure.

    Attributes:
        kind: The call to fail, one of :data:`KINDS`.
        nth: The first call of that kind to fail, counting from 1.
        errno: The error number the failed call raises.
        persistent: Fail every later call of that kind too, not only the Nth.
    """

    kind: str
    nth: int
    errno: int
    persistent: bool = False

    def applies(self, count: int) -> bool:
        """Tell whether the call numbered ``count`` of this kind fails."""
        return count == self.nth or (self.persistent and count > self.nth)


class FaultyOps(FileOps):
    """System calls that fail, shorten or stall as a test arranges.

    Every call is counted in :attr:`calls` by kind, and every injected failure in
    :attr:`hits`, whether or not a fault is armed. Methods may be called from the
    test's thread while the writer thread makes calls.

    Args:
        faults: Failures to arm at once; :meth:`fail` arms more later.
    """

    def __init__(self, *faults: Fault) -> None:
        self._lock = threading.Lock()
        self._faults = list(faults)
        self.calls: Counter[str] = Counter()
        self.hits: Counter[str] = Counter()
        self._short_bytes: int | None = None
        self._block_from: int | None = None
        self._block_seconds = 0.0
        self._block_pid = 0
        self._released = threading.Event()
        self.blocked = threading.Event()

    # --- arming -------------------------------------------------------------------

    def fail(self, kind: str, nth: int, code: int, *, persistent: bool = False) -> None:
        """Fail call number ``nth`` of ``kind`` with ``code``, and later ones too
        when ``persistent``.
        """
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        with self._lock:
            self._faults.append(Fault(kind, nth, code, persistent))

    def shorten_writes(self, max_bytes: int) -> None:
        """Make every later write take at most ``max_bytes`` bytes."""
        with self._lock:
            self._short_bytes = max_bytes

    def block_writes(self, seconds: float, *, from_call: int = 1) -> None:
        """Make write number ``from_call`` and later ones wait ``seconds`` first.

        :meth:`release` ends the wait early, for this write and every later one.
        Only this process blocks: a forked child inherits the object but not the
        stall.
        """
        with self._lock:
            self._block_pid = os.getpid()
            self._block_from = from_call
            self._block_seconds = seconds
            self._released.clear()

    def release(self) -> None:
        """Let blocked writes go on at once, and stop blocking later ones."""
        with self._lock:
            self._block_from = None
        self._released.set()

    def clear(self) -> None:
        """Disarm every fault, short write and block: the disk works again."""
        with self._lock:
            self._faults.clear()
            self._short_bytes = None
        self.release()

    # --- the calls ----------------------------------------------------------------

    def open(self, path: str, flags: int, mode: int) -> int:
        """Open ``path``, unless an armed fault fails this open."""
        self._check("open")
        return super().open(path, flags, mode)

    def write(self, fd: int, data: memoryview) -> int:
        """Write ``data``, or a prefix of it, after any armed block or fault."""
        count = self._check("write")
        self._maybe_block(count)
        with self._lock:
            limit = self._short_bytes
        if limit is not None and len(data) > limit:
            data = data[:limit]
        return super().write(fd, data)

    def fsync(self, fd: int) -> None:
        """Fsync ``fd``, unless an armed fault fails this fsync."""
        self._check("fsync")
        super().fsync(fd)

    def close(self, fd: int) -> None:
        """Close ``fd``; a failed close still releases the descriptor, as on Linux."""
        try:
            self._check("close")
        finally:
            super().close(fd)

    def fstat(self, fd: int) -> os.stat_result:
        """Return the status of ``fd``, unless an armed fault fails this call."""
        self._check("fstat")
        return super().fstat(fd)

    def stat(self, path: str) -> os.stat_result:
        """Return the status of ``path``, unless an armed fault fails this call."""
        self._check("stat")
        return super().stat(path)

    def rename(self, source: str, target: str) -> None:
        """Rename ``source``, unless an armed fault fails this call."""
        self._check("rename")
        super().rename(source, target)

    def _check(self, kind: str) -> int:
        with self._lock:
            self.calls[kind] += 1
            count = self.calls[kind]
            fault = next(
                (f for f in self._faults if f.kind == kind and f.applies(count)), None
            )
            if fault is not None:
                self.hits[kind] += 1
        if fault is not None:
            raise OSError(fault.errno, os.strerror(fault.errno))
        return count

    def _maybe_block(self, count: int) -> None:
        with self._lock:
            blocking = (
                self._block_from is not None
                and count >= self._block_from
                and os.getpid() == self._block_pid
            )
            seconds = self._block_seconds
        if blocking:
            self.blocked.set()
            self._released.wait(seconds)


class RandomFaultOps(FileOps):
    """System calls that fail, shorten or stall at random, for soak runs.

    Each open, write and fsync fails with probability ``failure_rate``, with one
    of :data:`ERRNOS`. Each write is short with probability ``short_rate``, and
    stalls for ``stall_seconds`` with probability ``stall_rate``. Now and then
    the disk stays broken for ``outage_calls`` calls in a row, long enough for
    the writer to give up on a batch.

    Args:
        rng: The source of randomness; pass a seeded one to replay a run.
        failure_rate: Probability that one call fails on its own.
        short_rate: Probability that a write takes only part of its data.
        stall_rate: Probability that a write stalls first.
        stall_seconds: How long a stalled write waits, in seconds.
        outage_rate: Probability that a call starts an outage.
        outage_calls: How many calls in a row an outage fails.
    """

    def __init__(
        self,
        rng: random.Random,
        *,
        failure_rate: float = 0.002,
        short_rate: float = 0.01,
        stall_rate: float = 0.001,
        stall_seconds: float = 0.2,
        outage_rate: float = 0.0002,
        outage_calls: int = 50,
    ) -> None:
        self._rng = rng
        self._lock = threading.Lock()
        self._failure_rate = failure_rate
        self._short_rate = short_rate
        self._stall_rate = stall_rate
        self._stall_seconds = stall_seconds
        self._outage_rate = outage_rate
        self._outage_calls = outage_calls
        self._outage_left = 0
        self.calls: Counter[str] = Counter()
        self.hits: Counter[str] = Counter()

    def open(self, path: str, flags: int, mode: int) -> int:
        """Open ``path``, or fail at random."""
        self._maybe_fail("open")
        return super().open(path, flags, mode)

    def write(self, fd: int, data: memoryview) -> int:
        """Write ``data`` or a prefix of it, or fail or stall at random."""
        self._maybe_fail("write")
        with self._lock:
            stall = self._rng.random() < self._stall_rate
            short = len(data) > 1 and self._rng.random() < self._short_rate
            cut = self._rng.randrange(1, len(data)) if short else len(data)
            if stall:
                self.hits["stall"] += 1
            if short:
                self.hits["short"] += 1
        if stall:
            threading.Event().wait(self._stall_seconds)
        return super().write(fd, data[:cut])

    def fsync(self, fd: int) -> None:
        """Fsync ``fd``, or fail at random."""
        self._maybe_fail("fsync")
        super().fsync(fd)

    def _maybe_fail(self, kind: str) -> None:
        with self._lock:
            self.calls[kind] += 1
            if self._outage_left == 0 and self._rng.random() < self._outage_rate:
                self._outage_left = self._outage_calls
            failing = self._outage_left > 0 or self._rng.random() < self._failure_rate
            self._outage_left = max(self._outage_left - 1, 0)
            code = self._rng.choice(ERRNOS)
            if failing:
                self.hits[kind] += 1
        if failing:
            raise OSError(code, os.strerror(code))


def strict_loads(line: bytes) -> Any:
    """Parse one line as strict JSON: valid UTF-8, and no NaN or Infinity.

    Raises:
        ValueError: the line is not strict JSON (UnicodeDecodeError and
            json.JSONDecodeError are both ValueErrors).
    """
    text = line.decode("utf-8", errors="strict")
    return json.loads(text, parse_constant=_reject_constant)


def read_strict_lines(path: Path) -> list[dict[str, Any]]:
    """Parse every line of ``path`` strictly; the file must end with a newline.

    Raises:
        ValueError: a line is not a strict JSON object, or the last line is torn.
    """
    raw = path.read_bytes()
    if raw and not raw.endswith(b"\n"):
        raise ValueError(f"{path} ends in a torn line: {raw[-80:]!r}")
    events = [strict_loads(line) for line in raw.splitlines()]
    for event in events:
        if not isinstance(event, dict):
            raise ValueError(f"{path} holds a line that is not an object: {event!r}")
    return events


def ledger_balances(stats: LoggerStats) -> bool:
    """Tell whether ``written + dropped + queued == accepted`` is true of ``stats``."""
    return stats.written + stats.dropped_total + stats.queued == stats.accepted


def _reject_constant(name: str) -> Any:
    raise ValueError(f"strict JSON has no {name}")
