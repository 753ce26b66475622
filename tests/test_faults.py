"""The writer under failing system calls: it survives, counts and reports each fault.

The core is the method of SQLite's test VFS. For each kind of call, fail the Nth one
(once, then persistently), for N = 1, 2, ... until a run completes without reaching
the fault. After every run, the ledger must balance exactly and the file must
contain only whole, valid lines.
"""

from __future__ import annotations

import errno
import itertools
import logging
import os
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from faults import (
    ERRNOS,
    Fault,
    FaultyOps,
    ledger_balances,
    read_strict_lines,
    strict_loads,
)

from telemetry import FileOps, FlushResult, LoggerStats, TelemetryLogger
from telemetry.logread import read_events

REPO = Path(__file__).resolve().parents[1]

BATCHES = 4
EVENTS_PER_BATCH = 25
TOTAL = BATCHES * EVENTS_PER_BATCH

# Fast retries keep a persistent fault from costing seconds per batch.
FAST: dict[str, Any] = {"flush_interval": 10.0, "retry_timeout": 0.05}


@dataclass
class Run:
    """What one run of :func:`run_batches` left behind."""

    stats: LoggerStats
    flushes: list[FlushResult]
    shutdown: FlushResult
    errors: list[logging.LogRecord]
    drop_warnings: list[str]


def run_batches(
    path: Path, ops: FileOps, caplog: pytest.LogCaptureFixture, fsync: str = "never"
) -> Run:
    """Log ``BATCHES`` batches, flushing after each, so each batch is one write."""
    caplog.clear()
    log = TelemetryLogger(path, file_ops=ops, fsync=fsync, **FAST)
    flushes = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for batch in range(BATCHES):
            for index in range(EVENTS_PER_BATCH):
                sequence = batch * EVENTS_PER_BATCH + index
                log.log_event("agent", "run", 1.5, meta={"seq": sequence})
            flushes.append(log.flush_sync(timeout=10))
        shutdown = log.shutdown_sync(timeout=10)

    return Run(
        stats=log.stats(),
        flushes=flushes,
        shutdown=shutdown,
        errors=[r for r in caplog.records if r.levelno >= logging.ERROR],
        drop_warnings=[str(w.message) for w in caught],
    )


def sequences(path: Path) -> list[int]:
    if not path.exists():
        return []
    return [line["meta"]["seq"] for line in read_strict_lines(path)]


@pytest.fixture(autouse=True)
def _capture_telemetry_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="telemetry")


# --- the SQLite method ---------------------------------------------------------------


@pytest.mark.parametrize("code", ERRNOS, ids=errno.errorcode.get)
@pytest.mark.parametrize("kind", ["open", "write"])
def test_nth_call_fails_once_loses_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, kind: str, code: int
) -> None:
    for nth in itertools.count(1):
        path = tmp_path / f"run-{nth}" / "events.jsonl"
        ops = FaultyOps(Fault(kind, nth, code))
        run = run_batches(path, ops, caplog)
        hit = ops.hits[kind] > 0

        assert ledger_balances(run.stats), (nth, run.stats)
        assert run.stats.written == TOTAL, nth
        assert run.stats.dropped_total == 0, nth
        assert sequences(path) == list(range(TOTAL)), nth
        assert all(run.flushes), (nth, run.flushes)
        assert run.shutdown, nth
        assert len(run.errors) == (1 if hit else 0), (nth, run.errors)
        assert run.stats.write_errors == (1 if hit else 0), nth
        if not hit:
            break
        assert os.strerror(code) in (run.stats.last_error or ""), nth


@pytest.mark.parametrize("code", ERRNOS, ids=errno.errorcode.get)
@pytest.mark.parametrize("kind", ["open", "write"])
def test_nth_call_fails_persistently_counts_drops(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, kind: str, code: int
) -> None:
    for nth in itertools.count(1):
        path = tmp_path / f"run-{nth}" / "events.jsonl"
        ops = FaultyOps(Fault(kind, nth, code, persistent=True))
        run = run_batches(path, ops, caplog)
        written = run.stats.written
        hit = ops.hits[kind] > 0

        assert ledger_balances(run.stats), (nth, run.stats)
        assert run.stats.queued == 0, nth
        assert run.stats.accepted == TOTAL, nth
        assert sequences(path) == list(range(written)), nth
        assert run.stats.dropped_total == TOTAL - written, nth
        assert sum(not flush for flush in run.flushes) == (TOTAL - written) // (
            EVENTS_PER_BATCH
        ), nth
        assert len(run.errors) == (1 if hit else 0), (nth, run.errors)
        assert len(run.drop_warnings) == (1 if hit else 0), nth
        if not hit:
            break
        assert dict(run.stats.dropped) == {"write_error": TOTAL - written}, nth


@pytest.mark.parametrize("persistent", [False, True], ids=["once", "persistent"])
@pytest.mark.parametrize("code", ERRNOS, ids=errno.errorcode.get)
def test_nth_fsync_fails_marks_durability_unknown(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, code: int, persistent: bool
) -> None:
    for nth in itertools.count(1):
        path = tmp_path / f"run-{nth}" / "events.jsonl"
        ops = FaultyOps(Fault("fsync", nth, code, persistent))
        run = run_batches(path, ops, caplog, fsync="batch")
        failed_batches = ops.hits["fsync"]
        unsure = failed_batches * EVENTS_PER_BATCH

        assert ledger_balances(run.stats), (nth, run.stats)
        assert run.stats.dropped_total == 0, nth
        assert sequences(path) == list(range(TOTAL)), nth
        assert run.stats.durability_unknown == unsure, nth
        assert [bool(f) for f in run.flushes] == [
            batch < nth - 1 or (not persistent and batch > nth - 1)
            for batch in range(BATCHES)
        ], nth
        assert len(run.errors) == (1 if failed_batches else 0), (nth, run.errors)
        if not failed_batches:
            break
        assert "fsync" in (run.stats.last_error or ""), nth


def test_fsync_failure_not_retried_as_fine(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "events.jsonl"
    ops = FaultyOps(Fault("fsync", 1, errno.EIO))
    log = TelemetryLogger(path, file_ops=ops, fsync="batch", **FAST)
    log.log_event("a", "r", 1)
    first = log.flush_sync(timeout=5)
    again = log.flush_sync(timeout=5)
    log.shutdown_sync(timeout=5)

    assert not first
    assert "fsync" in (first.error or "")
    assert again
    assert ops.calls["fsync"] == 1
    assert log.stats().durability_unknown == 1


# --- short and stalled writes --------------------------------------------------------


def test_short_writes_keep_lines_whole(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "events.jsonl"
    ops = FaultyOps()
    ops.shorten_writes(7)
    run = run_batches(path, ops, caplog)

    assert sequences(path) == list(range(TOTAL))
    assert ledger_balances(run.stats)
    assert run.stats.bytes_written == path.stat().st_size
    assert run.stats.batches == BATCHES
    assert run.errors == []


def test_short_write_then_enospc_resends_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "events.jsonl"
    ops = FaultyOps(Fault("write", 2, errno.ENOSPC))
    ops.shorten_writes(60)
    log = TelemetryLogger(path, file_ops=ops, **FAST)
    for index in range(3):
        log.log_event("agent", "run", 1.5, meta={"seq": index})
    result = log.shutdown_sync(timeout=5)
    stream = read_events(path)
    events = list(stream)

    # The 60 bytes the kernel took before ENOSPC stay behind as one unreadable
    # line; the event itself is written again, whole, on the next line.
    assert result
    assert [event["meta"]["seq"] for event in events] == [0, 1, 2]
    assert stream.report.skipped_total == 1
    assert log.stats().written == 3


def test_blocked_write_flush_meets_deadline(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    ops = FaultyOps()
    ops.block_writes(30.0)
    log = TelemetryLogger(path, file_ops=ops)
    log.log_event("a", "r", 1)
    assert ops.blocked.wait(5)

    started = time.monotonic()
    flushed = log.flush_sync(timeout=0.1)
    flush_seconds = time.monotonic() - started
    started = time.monotonic()
    shut = log.shutdown_sync(timeout=0.1)
    shutdown_seconds = time.monotonic() - started
    ops.release()
    final = log.shutdown_sync(timeout=5)

    assert not flushed
    assert flushed.pending == 1
    assert not shut
    assert shut.pending == 1
    assert flush_seconds < 2.0
    assert shutdown_seconds < 2.0
    assert final
    assert len(read_strict_lines(path)) == 1


@pytest.mark.anyio
async def test_blocked_write_leaves_loop_running(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    ops = FaultyOps()
    ops.block_writes(30.0)
    log = TelemetryLogger(path, file_ops=ops)
    await log.log_event("a", "r", 1)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await anyio.sleep(0.005)

    async with anyio.create_task_group() as group:
        group.start_soon(tick)
        started = time.monotonic()
        flushed = await log.flush(timeout=0.2)
        shut = await log.shutdown(timeout=0.2)
        elapsed = time.monotonic() - started
        group.cancel_scope.cancel()
    ops.release()
    final = await log.shutdown(timeout=5)

    assert flushed.pending == 1
    assert shut.pending == 1
    assert elapsed < 2.0
    assert ticks >= 10
    assert final


# --- real faults from the operating system ------------------------------------------

FSIZE_CHILD = """
    import json, logging, resource, signal, sys, warnings
    from telemetry import TelemetryLogger

    class Count(logging.Handler):
        def __init__(self):
            super().__init__()
            self.levels = []
        def emit(self, record):
            self.levels.append(record.levelname)

    handler = Count()
    logging.getLogger("telemetry").addHandler(handler)
    warnings.simplefilter("ignore")
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, hard))

    log = TelemetryLogger(sys.argv[1], flush_interval=10.0, retry_timeout=0.2)
    for batch in range(6):
        for index in range(50):
            log.log_event("agent", "run", 1.5, meta={"seq": batch * 50 + index})
        log.flush_sync(timeout=10)
    full = log.stats()

    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    for index in range(300, 350):
        log.log_event("agent", "run", 1.5, meta={"seq": index})
    after = log.shutdown_sync(timeout=10)
    stats = log.stats()
    print(json.dumps({
        "full_written": full.written,
        "full_dropped": dict(full.dropped),
        "last_error": full.last_error,
        "after": bool(after),
        "written": stats.written,
        "accepted": stats.accepted,
        "dropped": dict(stats.dropped),
        "queued": stats.queued,
        "levels": handler.levels,
    }))
"""


@pytest.mark.slow
def test_file_size_limit_gives_efbig(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    completed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(FSIZE_CHILD), str(path)],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    report = strict_loads(completed.stdout.encode())
    stream = read_events(path)
    seen = [event["meta"]["seq"] for event in stream]

    assert os.strerror(errno.EFBIG) in report["last_error"]
    assert report["full_dropped"]["write_error"] > 0
    assert report["after"]
    assert report["written"] + sum(report["dropped"].values()) == report["accepted"]
    assert report["queued"] == 0
    assert report["levels"] == ["ERROR", "WARNING"]
    assert len(seen) == report["written"]
    assert seen == sorted(set(seen))
    assert seen[-50:] == list(range(300, 350))
    assert stream.report.skipped_total <= 1


def log_until_fault_clears(
    log: TelemetryLogger, clear: object, caplog: pytest.LogCaptureFixture
) -> tuple[LoggerStats, FlushResult]:
    """Log three failing batches, run ``clear``, then log one more batch."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for batch in range(3):
            for index in range(10):
                log.log_event("a", "r", 1, meta={"seq": batch * 10 + index})
            log.flush_sync(timeout=5)
        failing = log.stats()
        assert callable(clear)
        clear()
        for index in range(30, 40):
            log.log_event("a", "r", 1, meta={"seq": index})
        result = log.shutdown_sync(timeout=5)
    assert len(caught) == 1
    assert "write_error" in str(caught[0].message)
    return failing, result


def test_parent_is_file_survives_and_retries(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "logs"
    blocker.write_text("not a folder")
    path = blocker / "events.jsonl"
    log = TelemetryLogger(path, **FAST)

    def clear() -> None:
        blocker.unlink()

    failing, result = log_until_fault_clears(log, clear, caplog)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]

    assert failing.written == 0
    assert failing.dropped == {"write_error": 30}
    assert "is a file, not a folder" in (failing.last_error or "")
    assert len(errors) == 1
    assert result
    assert sequences(path) == list(range(30, 40))
    assert ledger_balances(log.stats())


def test_path_is_directory_survives_and_retries(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "events.jsonl"
    path.mkdir()
    log = TelemetryLogger(path, **FAST)

    def clear() -> None:
        path.rmdir()

    failing, result = log_until_fault_clears(log, clear, caplog)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]

    assert failing.dropped == {"write_error": 30}
    assert "IsADirectoryError" in (failing.last_error or "")
    assert failing.write_errors >= 3
    assert len(errors) == 1
    assert result
    assert sequences(path) == list(range(30, 40))
    assert ledger_balances(log.stats())


def test_recovery_logged_once_as_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "events.jsonl"
    ops = FaultyOps(Fault("write", 1, errno.ENOSPC, persistent=True))
    log = TelemetryLogger(path, file_ops=ops, **FAST)

    failing, result = log_until_fault_clears(log, ops.clear, caplog)
    messages = [(r.levelname, r.getMessage()) for r in caplog.records]

    assert failing.dropped == {"write_error": 30}
    assert result
    assert [level for level, _ in messages] == ["ERROR", "WARNING"]
    assert "No space left on device" in messages[0][1]
    assert "succeed again" in messages[1][1]


# --- a full queue behind a stalled writer --------------------------------------------


def stalled(path: Path, **settings: Any) -> tuple[TelemetryLogger, FaultyOps]:
    """Return a logger whose first write holds one event and blocks until released."""
    ops = FaultyOps()
    ops.block_writes(30.0)
    log = TelemetryLogger(path, file_ops=ops, flush_interval=0.01, **settings)
    log.log_event("first", "run", 1.0)
    assert ops.blocked.wait(5)
    return log, ops


def test_drop_policy_counts_exactly_when_stalled(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    log, ops = stalled(path, queue_size=100, when_full="drop")
    max_queued = 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for index in range(1000):
            log.log_event("burst", "run", 1.0, meta={"seq": index})
            max_queued = max(max_queued, log.stats().queued)
    stats = log.stats()
    ops.release()
    assert log.shutdown_sync(timeout=5)

    assert max_queued == 100
    assert dict(stats.dropped) == {"queue_full": 901}
    assert ledger_balances(stats)
    assert len(caught) == 1
    assert len(read_strict_lines(path)) == 100


def test_queue_bytes_bound_when_stalled(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    log, ops = stalled(path, queue_bytes=20_000, when_full="drop")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for _ in range(100):
            log.log_event("burst", "run", 1.0, meta={"pad": "x" * 1000})
    stats = log.stats()
    ops.release()
    assert log.shutdown_sync(timeout=5)

    assert stats.queued <= 21
    assert stats.dropped["queue_full"] == 101 - stats.queued
    assert len(read_strict_lines(path)) == stats.queued


def test_block_policy_threads_wait_for_space(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    log, ops = stalled(path, queue_size=50, block_timeout=30.0)
    max_queued = 0
    done = threading.Event()

    def producer(number: int) -> None:
        for index in range(100):
            log.log_event_sync("burst", "run", 1.0, meta={"n": number, "seq": index})

    def watch() -> None:
        nonlocal max_queued
        while not done.is_set():
            max_queued = max(max_queued, log.stats().queued)
            time.sleep(0.001)

    threads = [threading.Thread(target=producer, args=(n,)) for n in range(2)]
    watcher = threading.Thread(target=watch)
    for thread in [*threads, watcher]:
        thread.start()
    time.sleep(0.2)
    waiting = [thread.is_alive() for thread in threads]
    ops.release()
    for thread in threads:
        thread.join(30)
    done.set()
    watcher.join(30)
    assert log.shutdown_sync(timeout=5)

    assert waiting == [True, True]
    assert max_queued <= 50
    assert log.stats().dropped_total == 0
    assert len(read_strict_lines(path)) == 201


def test_block_policy_deadline_counts_drops(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    log, ops = stalled(path, queue_size=10, block_timeout=0.05)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for index in range(15):
            log.log_event_sync("burst", "run", 1.0, meta={"seq": index})
    stats = log.stats()
    ops.release()
    assert log.shutdown_sync(timeout=5)

    assert dict(stats.dropped) == {"queue_full": 6}
    assert len(caught) == 1
    assert len(read_strict_lines(path)) == 10


@pytest.mark.anyio
async def test_block_policy_tasks_wait_for_space(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    log, ops = stalled(path, queue_size=20, block_timeout=30.0)
    max_queued = 0

    async def producer(number: int) -> None:
        for index in range(50):
            await log.log_event("burst", "run", 1.0, meta={"n": number, "seq": index})

    async def watch() -> None:
        nonlocal max_queued
        while True:
            max_queued = max(max_queued, log.stats().queued)
            await anyio.sleep(0.001)

    async with anyio.create_task_group() as group:
        group.start_soon(watch)
        async with anyio.create_task_group() as producers:
            for number in range(4):
                producers.start_soon(producer, number)
            await anyio.sleep(0.2)
            stuck = log.stats()
            ops.release()
        group.cancel_scope.cancel()
    assert await log.shutdown(timeout=5)

    assert stuck.queued == 20
    assert stuck.written == 0
    assert max_queued <= 20
    assert log.stats().dropped_total == 0
    assert len(read_strict_lines(path)) == 201
