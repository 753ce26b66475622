"""The queue-buffered logger: producers append encoded lines, one thread writes them.

Producers on any thread or event loop validate and encode an event, then append the
line to an in-memory list under a lock. A daemon writer thread swaps the list out
every ``flush_interval`` seconds, or sooner once ``batch_size`` lines wait, and
appends it to the file in one write. The thread is not tied to any event loop, so
one logger serves asyncio, trio, plain threads and consecutive ``asyncio.run()``
calls alike.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import Any, NamedTuple

from ._awaitables import (
    READY,
    YIELD_EVERY,
    Accepted,
    WaitForSpace,
    call_soon,
    in_event_loop,
)
from ._event import encode_event
from ._lifecycle import exit_hook_ran, track
from ._settings import LoggerSettings
from ._sink import FileOps, FileSink, PartialWriteError
from ._stats import DropReason, FlushResult, LoggerStats
from ._wakeup import Wakeup

__all__ = ["Accepted", "TelemetryLogger"]

_log = logging.getLogger("telemetry")

_MAX_WRITE_BYTES = 1024 * 1024
"""Largest single write; bigger batches are split at line boundaries."""

_HANDOFF_TIMEOUT = 0.002
"""Maximum wait of a producer for a starved writer to finish one round, seconds."""

_HANDOFF_EVERY = 256
"""Fewest queued lines between two hand-offs, whatever the batch size."""

_BACKOFF_MIN = 0.01
"""Pause in hand-offs after a wait in which the writer made no progress, seconds."""

_BACKOFF_MAX = 1.0
"""Maximum pause: it doubles while the writer stays stuck, up to this many seconds,
and resets once a hand-off succeeds."""


class _FlushMark(NamedTuple):
    """The counters at the start of a flush."""

    target: int
    lost: int
    write_errors: int
    durability_unknown: int


class TelemetryLogger:
    """Queue events in memory and append them to a JSONL file from a thread.

    Use one per file. It starts its writer thread on the first event and stops it
    on :meth:`shutdown`. An event logged after that starts it again, so shutdown
    loses nothing and the exit hook still writes what comes later. At interpreter
    exit every live logger drains for up to ``exit_timeout`` seconds.

    Args:
        path: The JSONL file; overrides ``settings.path``.
        settings: Queue, batch, fsync and rotation settings.
        file_ops: The system calls the writer makes; tests pass one that fails.
        **changes: Individual settings, applied over ``settings``.
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        settings: LoggerSettings | None = None,
        file_ops: FileOps | None = None,
        **changes: Any,
    ) -> None:
        settings = settings or LoggerSettings()
        if path is not None:
            changes["path"] = path
        self.settings = settings.replace(**changes) if changes else settings
        self._handoff_step = max(self.settings.batch_size, _HANDOFF_EVERY)
        # Resolved once, so a later os.chdir() cannot split one log over two files.
        self._path = self.settings.path.absolute()
        self._file_ops = file_ops or FileOps()
        self._reset_state()
        track(self)

    def _reset_state(self) -> None:
        # Reentrant, because a never-awaited result counts its drop from __del__,
        # which the garbage collector may run while this thread holds the lock.
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._wake = Wakeup()
        self._round_done = threading.Lock()
        self._round_ended = 0.0
        self._progress = 0
        self._handing_off: set[int] = set()
        self._handoff_backoff = 0.0
        self._handoff_resumes = 0.0
        self._starting = False
        self._buffer: list[bytes] = []
        self._writer: threading.Thread | None = None
        self._stopping = False
        self._wake_sent = False
        self._flush_wanted = False
        self._next_yield = 0.0
        self._turned = False
        self._checkpoint = Accepted(self)
        self._warned: set[str] = set()
        self._failing = False
        self._sync_failing = False

        # Counters, changed only under the lock. ``_enqueued`` and ``_resolved``
        # number the lines in queue order (resolved: written or dropped by the
        # writer), so a flush can wait for exactly its own lines, and their
        # difference is what is in memory. ``_rejected`` counts events dropped
        # before they reached the queue.
        self._enqueued = 0
        self._resolved = 0
        self._rejected = 0
        self._written = 0
        self._pending_bytes = 0
        self._synced = 0
        self._lost = 0
        self._dropped: dict[str, int] = {}
        self._batches = 0
        self._bytes_written = 0
        self._write_errors = 0
        self._durability_unknown = 0
        self._last_error: str | None = None

    # --- producing -----------------------------------------------------------------

    def log_event(
        self,
        agent: str,
        run_id: str,
        latency_ms: float,
        cost_usd: float | None = None,
        tokens_in: int | None = None,
        tokens_out: int | None = None,
        error: str | BaseException | None = None,
        reward: float | None = None,
        *,
        model: str | None = None,
        parent_run_id: str | None = None,
        case_id: str | None = None,
        repeat: int | None = None,
        tags: Sequence[str] | None = None,
        kind: str | None = None,
        meta: dict[str, Any] | None = None,
    ) -> Accepted | WaitForSpace:
        """Validate one event, stamp it with the time, and enqueue it.

        The event is queued before this returns, so ``await log_event(...)`` and a
        plain call both log it. Awaiting matters only when the queue is full under
        ``when_full="block"``: then the result waits for space, at most
        ``block_timeout`` seconds, and an un-awaited result counts the event as
        dropped. Outside any event loop a full queue blocks the calling thread
        instead, with the same deadline.

        Args:
            agent: Name of the agent that ran.
            run_id: Id of this run, usually from ``new_run_id()``.
            latency_ms: Wall time of the run in milliseconds, finite and >= 0.
            cost_usd: Cost of the run in US dollars, finite and >= 0.
            tokens_in: Prompt tokens, an int >= 0.
            tokens_out: Completion tokens, an int >= 0.
            error: What went wrong: a message, or an exception, recorded as
                ``"TypeName: message"``. Text over 8,192 characters is truncated.
            reward: Score of the run, any finite number.
            model: Model the agent used.
            parent_run_id: Run id of the calling agent, for nested calls.
            case_id: Id of the eval case, so runs of two agents can be paired.
            repeat: Index of this repeat of the case, an int >= 0.
            tags: Labels of the case.
            kind: Kind of event; omitted for a run, ``"decision"`` for a verdict.
            meta: Other JSON values; copied at the call, so later changes to the
                dict do not reach the log.

        Raises:
            TypeError: a field has the wrong type; nothing is enqueued.
            ValueError: a field is out of range, or the event is longer than
                ``max_event_bytes``; nothing is enqueued.
        """
        extras = None
        if not (
            model is None
            and parent_run_id is None
            and case_id is None
            and repeat is None
            and tags is None
            and kind is None
            and meta is None
        ):
            extras = _extras(model, parent_run_id, case_id, repeat, tags, kind, meta)
        line = encode_event(
            time.time(),
            agent,
            run_id,
            latency_ms,
            cost_usd,
            tokens_in,
            tokens_out,
            error,
            reward,
            extras,
            self.settings.max_event_bytes,
        )

        if self._enqueue(line):
            if time.monotonic() < self._next_yield:
                return READY
            return self._maybe_checkpoint()
        if self.settings.when_full == "drop":
            self._drop(1, DropReason.QUEUE_FULL)
            return READY
        if in_event_loop():
            return WaitForSpace(self, line)
        self._block_for_space(line)
        return READY

    def log_event_sync(
        self,
        agent: str,
        run_id: str,
        latency_ms: float,
        cost_usd: float | None = None,
        tokens_in: int | None = None,
        tokens_out: int | None = None,
        error: str | BaseException | None = None,
        reward: float | None = None,
        *,
        model: str | None = None,
        parent_run_id: str | None = None,
        case_id: str | None = None,
        repeat: int | None = None,
        tags: Sequence[str] | None = None,
        kind: str | None = None,
        meta: dict[str, Any] | None = None,
    ) -> None:
        """Log one event from a thread or sync code; same arguments as log_event.

        Safe from any thread. When the queue is full under ``when_full="block"`` it
        blocks the calling thread for at most ``block_timeout`` seconds, except on
        an event loop's thread, where it never blocks and drops (and counts) the
        event instead.
        """
        # The same steps as log_event, without the awaitable: forwarding the
        # arguments to it would cost a fifth of the call.
        extras = None
        if not (
            model is None
            and parent_run_id is None
            and case_id is None
            and repeat is None
            and tags is None
            and kind is None
            and meta is None
        ):
            extras = _extras(model, parent_run_id, case_id, repeat, tags, kind, meta)
        line = encode_event(
            time.time(),
            agent,
            run_id,
            latency_ms,
            cost_usd,
            tokens_in,
            tokens_out,
            error,
            reward,
            extras,
            self.settings.max_event_bytes,
        )

        if self._enqueue(line):
            return
        if self.settings.when_full == "drop" or in_event_loop():
            self._drop(1, DropReason.QUEUE_FULL)
            return
        self._block_for_space(line)

    def _enqueue(self, line: bytes) -> bool:
        settings = self.settings
        # Never block on the lock while holding the GIL: a thread woken with the
        # lock would then wait for the GIL while holding it, and the producers
        # would queue behind each other at every call (a lock convoy).
        lock = self._lock
        while not lock.acquire(False):
            time.sleep(0)
        # NOTE: an exception raised by a signal handler (KeyboardInterrupt) just
        # after acquire() returns, before the try, leaves the lock held, and the
        # writer then waits for it until exit. The signal module's documentation
        # warns that such exceptions can leave any code in an inconsistent state.
        try:
            start = self._writer is None and self._claim_writer_start()
            accepted = (
                self._enqueued - self._resolved < settings.queue_size
                and self._pending_bytes < settings.queue_bytes
            )
            wake = behind = False
            if accepted:
                buffer = self._buffer
                buffer.append(line)
                self._enqueued += 1
                self._pending_bytes += len(line)
                queued = len(buffer)
                wake = queued >= settings.batch_size and not self._wake_sent
                if wake:
                    self._wake_sent = True
                # Another batch has come in since the writer was woken.
                behind = not wake and queued % self._handoff_step == 0
        finally:
            lock.release()

        if start:
            self._start_writer()
        elif wake:
            self._wake.set()
        elif behind and in_event_loop():
            self._let_writer_run()
        return accepted

    def _let_writer_run(self) -> None:
        """Wait, without the GIL, until the writer finishes one round.

        Called on event-loop threads only. CPython hands the GIL to a waiting
        thread only after it has been denied it for a whole switch interval
        (5 ms), and a busy event loop lets go of the GIL briefly at every turn,
        which restarts that wait. So the writer, woken but waiting for the GIL,
        can wait until the loop goes idle, while the queue fills. Blocking here
        gives it the GIL for one round of taking, writing and counting a batch.
        The timeout bounds the wait when the disk, not the GIL, holds the writer
        up, and a wait in which the writer made no progress pauses hand-offs.
        """
        writer = self._writer
        if writer is None or writer is threading.current_thread():
            return
        thread = threading.get_ident()
        # A signal handler that logs during the wait must not wait in turn,
        # because handlers on a fast timer would then nest without end.
        if thread in self._handing_off or time.monotonic() < self._handoff_resumes:
            return

        self._handing_off.add(thread)
        try:
            self._wait_for_round()
        finally:
            self._handing_off.discard(thread)

    def _wait_for_round(self) -> None:
        """Wait for the writer's round, and pause hand-offs if it made no progress."""
        gate, progress = self._round_done, self._progress
        gate.acquire(False)  # Forget rounds that ended before this call.
        if gate.acquire(timeout=_HANDOFF_TIMEOUT):
            self._handoff_backoff = 0.0
        elif self._progress == progress:
            # No progress in the whole wait, so the disk is holding the writer in
            # a system call. Waiting again at every batch would only slow the
            # producers down.
            backoff = min(max(2 * self._handoff_backoff, _BACKOFF_MIN), _BACKOFF_MAX)
            self._handoff_backoff = backoff
            self._handoff_resumes = time.monotonic() + backoff

    def _maybe_checkpoint(self) -> Accepted:
        """Decide, at the end of a yield window, whether this call yields."""
        now = time.monotonic()
        if self._buffer and now - self._round_ended > 2 * self.settings.flush_interval:
            # The writer has not gone round for two intervals: a busy loop may be
            # keeping the GIL from it (see _let_writer_run).
            self._let_writer_run()
        if self._turned:
            # The loop went round during the window, so it is not starved:
            # open the next window without yielding.
            self._open_window(now)
            return READY
        return self._checkpoint

    def _open_window(self, now: float) -> None:
        self._next_yield = now + YIELD_EVERY
        self._checkpoint = Accepted(self)
        self._turned = False
        if not call_soon(self._mark_turn):
            self._turned = True

    def _mark_turn(self) -> None:
        self._turned = True

    def _block_for_space(self, line: bytes) -> None:
        deadline = time.monotonic() + self.settings.block_timeout
        while not self._enqueue(line):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._drop(1, DropReason.QUEUE_FULL)
                return
            with self._changed:
                self._changed.wait(min(remaining, 0.05))

    async def _wait_for_space(self, line: bytes) -> None:
        import anyio

        deadline = time.monotonic() + self.settings.block_timeout
        delay = 0.0005
        try:
            while not self._enqueue(line):
                if time.monotonic() >= deadline:
                    self._drop(1, DropReason.QUEUE_FULL)
                    return
                await anyio.sleep(delay)
                delay = min(delay * 2, 0.01)
        except BaseException:
            # Cancelled (or interrupted) before space freed up: count the event.
            self._drop(1, DropReason.CANCELLED)
            raise

    def _drop(self, count: int, reason: str) -> None:
        with self._lock:
            self._rejected += count
            self._dropped[reason] = self._dropped.get(reason, 0) + count
        self._warn_once(reason)

    def _warn_once(self, reason: str) -> None:
        if reason in self._warned:
            return
        self._warned.add(reason)
        warnings.warn(
            f"telemetry dropped events ({reason}) for {self.settings.path}; "
            f"stats().dropped counts them, and this warning is shown once",
            RuntimeWarning,
            stacklevel=3,
        )

    # --- flushing and shutting down ------------------------------------------------

    def flush_sync(self, timeout: float = 5.0) -> FlushResult:
        """Wait until every event accepted before the call is written.

        Under an fsync policy the file is fsynced too. Returns at ``timeout``
        seconds at the latest, with what is still pending, even if the writer is
        stuck or dead.
        """
        mark = self._request_flush()
        return self._wait_resolved(mark, timeout)

    async def flush(self, timeout: float = 5.0) -> FlushResult:
        """Wait, without blocking the event loop, as :meth:`flush_sync` does."""
        mark = self._request_flush()
        await self._poll(lambda: self._flushed(mark.target), timeout)
        return self._result(mark)

    def shutdown_sync(self, timeout: float = 5.0) -> FlushResult:
        """Drain the queue, write it, close the file and stop the writer thread.

        Idempotent and safe to call from several threads. Returns at ``timeout``
        seconds at the latest, with what is still pending; the writer then goes on
        draining in the background. An event logged later starts a new writer.
        """
        mark = self._request_flush(stop=True)
        with self._lock:
            writer = self._writer
        if writer is not None and writer is not threading.current_thread():
            writer.join(timeout)
        return self._result(mark)

    async def shutdown(self, timeout: float = 5.0) -> FlushResult:
        """Shut down, without blocking the event loop, as :meth:`shutdown_sync`."""
        mark = self._request_flush(stop=True)
        with self._lock:
            writer = self._writer
        if writer is not None:
            await self._poll(lambda: not writer.is_alive(), timeout)
        return self._result(mark)

    async def _poll(self, done: Callable[[], bool], timeout: float) -> None:
        # Polling costs at most a few milliseconds of latency, and unlike a
        # worker thread it cannot queue behind a full thread pool past its
        # deadline.
        import anyio

        deadline = time.monotonic() + timeout
        delay = 0.0005
        while not done():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            await anyio.sleep(min(delay, remaining))
            delay = min(delay * 2, 0.01)

    async def aclose(self) -> None:
        """Shut down with the default timeout; for ``async with`` and closers."""
        await self.shutdown()

    def close(self) -> None:
        """Shut down with the default timeout, blocking the calling thread."""
        self.shutdown_sync()

    async def __aenter__(self) -> TelemetryLogger:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __enter__(self) -> TelemetryLogger:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _request_flush(self, stop: bool = False) -> _FlushMark:
        with self._lock:
            mark = _FlushMark(
                self._enqueued,
                self._lost,
                self._write_errors,
                self._durability_unknown,
            )
            start = bool(self._buffer) and not stop and self._claim_writer_start()
            self._flush_wanted = True
            if self._writer is not None:
                self._stopping = self._stopping or stop
        if start:
            self._start_writer()
        self._wake.set()
        return mark

    def _flushed(self, target: int) -> bool:
        if self.settings.fsync != "never":
            return self._synced >= target
        return self._resolved >= target

    def _wait_resolved(self, mark: _FlushMark, timeout: float) -> FlushResult:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not self._flushed(mark.target):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._changed.wait(min(remaining, 0.1))
        return self._result(mark)

    def _result(self, mark: _FlushMark) -> FlushResult:
        with self._lock:
            failed = self._write_errors > mark.write_errors
            return FlushResult(
                complete=self._flushed(mark.target),
                pending=max(mark.target - self._resolved, 0),
                lost=self._lost - mark.lost,
                durability_unknown=self._durability_unknown - mark.durability_unknown,
                error=self._last_error if failed else None,
            )

    # --- counters ------------------------------------------------------------------

    def stats(self) -> LoggerStats:
        """Return a consistent snapshot of the counters."""
        with self._lock:
            return LoggerStats(
                accepted=self._enqueued + self._rejected,
                written=self._written,
                queued=self._enqueued - self._resolved,
                dropped=MappingProxyType(dict(self._dropped)),
                batches=self._batches,
                bytes_written=self._bytes_written,
                write_errors=self._write_errors,
                durability_unknown=self._durability_unknown,
                last_error=self._last_error,
            )

    # --- the writer thread ---------------------------------------------------------

    def _claim_writer_start(self) -> bool:
        """Tell whether the caller must start the writer. Called with the lock held."""
        if self._writer is not None or self._starting:
            return False
        self._starting = True
        self._stopping = False
        return True

    def _start_writer(self) -> None:
        """Start the writer thread, after :meth:`_claim_writer_start`, without the lock.

        ``Thread.start`` waits for the new thread, which may run a ``__del__`` that
        logs, so it must not be called with the lock held. No thread is started
        once the exit hook has run or the interpreter is finalizing, because a
        thread started then never runs: the caller writes the queue itself.
        """
        if exit_hook_ran() or sys.is_finalizing():
            with self._lock:
                self._starting = False
            self._write_inline()
            return

        writer = threading.Thread(
            target=self._run_writer, name="telemetry-writer", daemon=True
        )
        try:
            writer.start()
        except RuntimeError as exc:  # "can't start new thread"
            # The events stay queued; the next event or flush tries again.
            with self._lock:
                self._starting = False
            self._record_error(exc)
            return
        with self._lock:
            self._writer = writer
            self._starting = False

    def _write_inline(self) -> None:
        """Write what is queued on the calling thread, where no writer can run."""
        sink = FileSink(
            self._path,
            rotate_bytes=self.settings.rotate_bytes,
            ops=self._file_ops,
            sync_retired=self.settings.fsync != "never",
        )
        try:
            batch, _, _ = self._take_batch()
            if batch:
                self._write_batch(sink, batch)
            if self.settings.fsync != "never":
                self._maybe_sync(sink, True, 0.0)
        finally:
            sink.close()

    def _run_writer(self) -> None:
        sink = FileSink(
            self._path,
            rotate_bytes=self.settings.rotate_bytes,
            ops=self._file_ops,
            sync_retired=self.settings.fsync != "never",
        )
        last_sync = time.monotonic()
        try:
            while True:
                self._end_round()
                self._wake.wait(self.settings.flush_interval)
                self._progress += 1
                batch, flush_wanted, stopping = self._take_batch()
                if batch:
                    self._write_batch(sink, batch)
                last_sync = self._maybe_sync(sink, flush_wanted, last_sync)
                if stopping and self._finish_if_idle():
                    self._end_round()
                    return
        except BaseException as exc:  # pragma: no cover - a bug, never expected
            _log.exception("telemetry writer stopped by an unexpected error")
            with self._lock:
                self._last_error = _describe_error(exc)
                self._writer = None
            raise
        finally:
            sink.close()

    def _end_round(self) -> None:
        """Mark one round of the writer done and release a producer waiting for it."""
        self._progress += 1
        self._round_ended = time.monotonic()
        # Only this thread releases the gate, so it cannot be released twice.
        if self._round_done.locked():
            self._round_done.release()

    def _take_batch(self) -> tuple[list[bytes], bool, bool]:
        with self._lock:
            batch, self._buffer = self._buffer, []
            self._wake_sent = False
            flush_wanted, self._flush_wanted = self._flush_wanted, False
            return batch, flush_wanted, self._stopping

    def _finish_if_idle(self) -> bool:
        with self._lock:
            if self._buffer or self._flush_wanted:
                return False
            self._writer = None
            self._stopping = False
            self._changed.notify_all()
            return True

    def _write_batch(self, sink: FileSink, batch: list[bytes]) -> None:
        # Split by the average line size rather than line by line: a Python loop
        # over a large batch would hold the GIL long enough to stall the loop.
        size = sum(map(len, batch))
        step = max(1, len(batch) * _MAX_WRITE_BYTES // max(size, 1))
        for start in range(0, len(batch), step):
            chunk = batch[start : start + step]
            # Let go of the lines as they are joined, so a large batch does not
            # keep its written part in memory while the queue refills.
            batch[start : start + step] = [b""] * len(chunk)
            count, data = len(chunk), b"".join(chunk)
            del chunk
            self._write_chunk(sink, data, count)

    def _write_chunk(self, sink: FileSink, data: bytes, count: int) -> None:
        """Write ``count`` lines, retrying failures for up to ``retry_timeout``."""
        deadline: float | None = None
        delay = 0.05
        while True:
            try:
                sink.append(data)
            except PartialWriteError as exc:
                # Resend a torn line whole, not its rest: the reopened sink starts
                # it on a new line, so the fragment stays one unreadable line and
                # the event is still written once, complete.
                whole = data.rfind(b"\n", 0, exc.written) + 1
                done = data[:whole].count(b"\n")
                self._record_written(done, whole, whole_batch=False)
                data, count = data[whole:], count - done
                self._record_error(exc.cause)
            except Exception as exc:
                # OSError is what a disk gives; anything else comes from a broken
                # FileOps and is handled the same way, so the writer lives on.
                self._record_error(exc)
            else:
                self._record_written(count, len(data), whole_batch=True)
                return

            sink.close()
            now = time.monotonic()
            deadline = (
                deadline if deadline is not None else now + self.settings.retry_timeout
            )
            if now >= deadline or sys.is_finalizing():
                self._record_lost(count, data)
                return
            time.sleep(delay)
            delay = min(delay * 2, 1.0)

    def _maybe_sync(
        self, sink: FileSink, flush_wanted: bool, last_sync: float
    ) -> float:
        policy = self.settings.fsync
        now = time.monotonic()
        with self._lock:
            unsynced = self._resolved - self._synced
        due = (
            policy == "batch"
            or (
                policy == "interval" and now - last_sync >= self.settings.fsync_interval
            )
            or (policy != "never" and flush_wanted)
        )
        if policy == "never" or not due:
            return last_sync
        if unsynced:
            try:
                sink.sync()
            except Exception as exc:
                # After a failed fsync the kernel may have dropped the dirty pages
                # and will not report it again, so a retry proving "fine" would be a
                # lie. Count what is unsure, reopen, and move on.
                self._record_sync_error(exc, unsynced)
                sink.close()
            else:
                self._record_sync_ok()
        with self._lock:
            self._synced = self._resolved
            self._changed.notify_all()
        return now

    def _record_written(self, lines: int, size: int, whole_batch: bool) -> None:
        with self._lock:
            self._progress += 1
            self._written += lines
            self._resolved += lines
            self._pending_bytes -= size
            self._bytes_written += size
            if whole_batch:
                self._batches += 1
            recovered, self._failing = self._failing, False
            self._changed.notify_all()
        if recovered:
            _log.warning("telemetry writes to %s succeed again", self.settings.path)

    def _record_lost(self, lines: int, data: bytes) -> None:
        with self._lock:
            self._dropped[DropReason.WRITE_ERROR] = (
                self._dropped.get(DropReason.WRITE_ERROR, 0) + lines
            )
            self._resolved += lines
            self._lost += lines
            self._pending_bytes -= len(data)
            self._changed.notify_all()
        self._warn_once(DropReason.WRITE_ERROR)

    def _record_error(self, exc: Exception) -> None:
        text = _describe_error(exc)
        with self._lock:
            first, self._failing = not self._failing, True
            self._write_errors += 1
            self._last_error = text
        if first:
            _log.error(
                "telemetry write to %s failed: %s; retrying, and counting further "
                "errors in stats().write_errors until a write succeeds",
                self.settings.path,
                text,
            )

    def _record_sync_error(self, exc: Exception, unsynced: int) -> None:
        # Tracked apart from write errors: writes that succeed between failing
        # fsyncs must not log a recovery, and then the same error again, per batch.
        cause = _describe_error(exc)
        with self._lock:
            first, self._sync_failing = not self._sync_failing, True
            self._write_errors += 1
            self._durability_unknown += unsynced
            self._last_error = f"fsync failed: {cause}"
        if first:
            _log.error(
                "telemetry fsync of %s failed: %s; %d written events may not survive "
                "a power loss, and further ones are counted in "
                "stats().durability_unknown until an fsync succeeds",
                self.settings.path,
                cause,
                unsynced,
            )

    def _record_sync_ok(self) -> None:
        with self._lock:
            recovered, self._sync_failing = self._sync_failing, False
        if recovered:
            _log.warning("telemetry fsyncs of %s succeed again", self.settings.path)

    # --- process lifecycle ---------------------------------------------------------

    def _reset_after_fork(self) -> None:
        # The child has no writer thread, and the parent's queued events are the
        # parent's to write: start over with fresh locks and an empty ledger.
        self._reset_state()

    def _report_unwritten_at_exit(self) -> None:
        with self._lock:
            pending = self._enqueued - self._resolved
        if pending:
            warnings.warn(
                f"telemetry exited with {pending} events not written to "
                f"{self.settings.path} after waiting {self.settings.exit_timeout} s",
                RuntimeWarning,
                stacklevel=1,
            )


def _describe_error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _extras(
    model: str | None,
    parent_run_id: str | None,
    case_id: str | None,
    repeat: int | None,
    tags: Sequence[str] | None,
    kind: str | None,
    meta: dict[str, Any] | None,
) -> dict[str, object]:
    """Collect the optional fields for :func:`encode_event`."""
    return {
        "model": model,
        "parent_run_id": parent_run_id,
        "case_id": case_id,
        "repeat": repeat,
        "tags": tags,
        "kind": kind,
        "meta": meta,
    }
