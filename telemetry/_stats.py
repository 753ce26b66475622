"""Frozen snapshots a logger hands out: its counters, and the outcome of a flush."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = ["DropReason", "FlushResult", "LoggerStats"]


class DropReason:
    """Reasons an accepted event was not written: the keys of ``stats().dropped``."""

    QUEUE_FULL = "queue_full"
    """The queue stayed full: at once under ``when_full="drop"``, or after
    ``block_timeout`` seconds under ``"block"``."""

    WRITE_ERROR = "write_error"
    """Writes kept failing for ``retry_timeout`` seconds, so the batch was dropped."""

    CANCELLED = "cancelled"
    """The producer was cancelled while it waited for queue space."""

    NOT_AWAITED = "not_awaited"
    """``log_event`` found the queue full in async code and its result was never
    awaited, so the event had nowhere to wait."""


def _empty_mapping() -> Mapping[str, int]:
    return MappingProxyType({})


@dataclass(frozen=True)
class LoggerStats:
    """A consistent snapshot of a logger's counters.

    ``written + dropped_total + queued == accepted`` is true in every snapshot.

    Attributes:
        accepted: Events that passed validation.
        written: Events the kernel took as whole lines.
        queued: Events in memory: waiting, or in the batch being written.
        dropped: Accepted events not written, by reason (see :class:`DropReason`).
        batches: Successful writes.
        bytes_written: Bytes the kernel took.
        write_errors: Failed open, write and fsync calls.
        durability_unknown: Written events whose fsync failed; they reached the
            kernel but may not survive a power loss.
        last_error: The last write-side error, as ``"OSError: [Errno 28] ..."``,
            prefixed with ``"fsync failed: "`` when an fsync failed.
    """

    accepted: int = 0
    written: int = 0
    queued: int = 0
    dropped: Mapping[str, int] = field(default_factory=_empty_mapping)
    batches: int = 0
    bytes_written: int = 0
    write_errors: int = 0
    durability_unknown: int = 0
    last_error: str | None = None

    @property
    def dropped_total(self) -> int:
        """All dropped events, whatever the reason."""
        return sum(self.dropped.values())


@dataclass(frozen=True)
class FlushResult:
    """The outcome of a flush or shutdown when it returned.

    A result is true when every event accepted before the call is a whole line in
    the file, and, under an fsync policy, every fsync during the call succeeded.

    Attributes:
        complete: Every event accepted before the call was written.
        pending: Events accepted before the call and still in memory.
        lost: Events accepted before the call and dropped while the call waited.
        durability_unknown: Events written while the call waited whose fsync
            failed, so they may not survive a power loss.
        error: The last write-side error seen during the call, if any.
    """

    complete: bool
    pending: int = 0
    lost: int = 0
    durability_unknown: int = 0
    error: str | None = None

    def __bool__(self) -> bool:
        return self.complete and self.lost == 0 and self.durability_unknown == 0
