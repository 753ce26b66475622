"""Cancellation and teardown: no wait outlives its deadline, no event goes uncounted.

Producers cancelled while they wait for queue space, event loops that end while the
writer is mid-batch, flush and shutdown called together, twice or after the loop is
gone, and interpreters that exit with events still queued.
"""

from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
import trio
from faults import FaultyOps, ledger_balances, read_strict_lines

from telemetry import FileOps, FlushResult, TelemetryLogger

REPO = Path(__file__).resolve().parents[1]


class SlowWrites(FileOps):
    """A disk whose writes take 20 ms each."""

    def write(self, fd: int, data: memoryview) -> int:
        time.sleep(0.02)
        return super().write(fd, data)


def stalled_logger(path: Path, **settings: Any) -> tuple[TelemetryLogger, FaultyOps]:
    """Return a logger whose first write has started and blocks until released."""
    ops = FaultyOps()
    ops.block_writes(30.0)
    log = TelemetryLogger(path, file_ops=ops, flush_interval=0.01, **settings)
    log.log_event("first", "run", 1.0)
    assert ops.blocked.wait(5)
    return log, ops


def run_python(code: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), str(path)],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )


# --- producers and flushes cancelled -------------------------------------------------


@pytest.mark.anyio
async def test_producer_cancelled_waiting_counted(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    log, ops = stalled_logger(path, queue_size=1, block_timeout=30.0)

    with pytest.warns(RuntimeWarning, match=r"dropped events \(cancelled\)"):
        with anyio.move_on_after(0.1) as scope:
            await log.log_event("waiting", "run", 1.0)
    stats = log.stats()
    ops.release()
    result = await log.shutdown(timeout=5)

    assert scope.cancelled_caught
    assert dict(stats.dropped) == {"cancelled": 1}
    assert stats.accepted == 2
    assert ledger_balances(stats)
    assert result
    assert [event["agent"] for event in read_strict_lines(path)] == ["first"]


@pytest.mark.anyio
async def test_cancelled_producers_all_counted(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    log, ops = stalled_logger(path, queue_size=5, block_timeout=30.0)
    returned = 0

    async def producer() -> None:
        nonlocal returned
        for index in range(10):
            await log.log_event("producer", "run", 1.0, meta={"seq": index})
            returned += 1

    with pytest.warns(RuntimeWarning, match="cancelled"):
        with anyio.move_on_after(0.2):
            async with anyio.create_task_group() as group:
                for _ in range(8):
                    group.start_soon(producer)
    stats = log.stats()
    ops.release()
    assert await log.shutdown(timeout=5)

    assert stats.dropped["cancelled"] == 8
    assert ledger_balances(stats)
    assert log.stats().written == 1 + returned


@pytest.mark.anyio
async def test_unawaited_wait_for_space_counted(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    log, ops = stalled_logger(path, queue_size=1, block_timeout=30.0)

    with pytest.warns(RuntimeWarning, match=r"dropped events \(not_awaited\)"):
        log.log_event("never-awaited", "run", 1.0)
        gc.collect()
    stats = log.stats()
    ops.release()
    assert await log.shutdown(timeout=5)

    assert dict(stats.dropped) == {"not_awaited": 1}
    assert ledger_balances(stats)
    assert [event["agent"] for event in read_strict_lines(path)] == ["first"]


@pytest.mark.anyio
async def test_cancelled_flush_returns_at_once(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    log, ops = stalled_logger(path)

    started = time.monotonic()
    with anyio.move_on_after(0.1) as scope:
        await log.flush(timeout=30.0)
    flush_seconds = time.monotonic() - started
    started = time.monotonic()
    with anyio.move_on_after(0.1) as shutdown_scope:
        await log.shutdown(timeout=30.0)
    shutdown_seconds = time.monotonic() - started
    ops.release()
    result = await log.flush(timeout=5)

    assert scope.cancelled_caught
    assert shutdown_scope.cancelled_caught
    assert flush_seconds < 5.0
    assert shutdown_seconds < 5.0
    assert result
    assert await log.shutdown(timeout=5)


# --- loops that end while the writer works --------------------------------------------


async def log_burst(log: TelemetryLogger, count: int) -> None:
    for index in range(count):
        await log.log_event("burst", "run", 1.0, meta={"seq": index})


def test_asyncio_loop_closed_mid_batch(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    log, ops = stalled_logger(path)

    asyncio.run(log_burst(log, 500))
    ops.release()
    flushed = log.flush_sync(timeout=5)
    again = asyncio.run(log.flush(timeout=5))
    shut = trio.run(log.shutdown, 5.0)

    assert flushed
    assert again
    assert shut
    assert len(read_strict_lines(path)) == 501


def test_trio_loop_closed_mid_batch(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    log, ops = stalled_logger(path)

    trio.run(log_burst, log, 500)
    ops.release()
    flushed = log.flush_sync(timeout=5)
    shut = asyncio.run(log.shutdown(timeout=5))

    assert flushed
    assert shut
    assert len(read_strict_lines(path)) == 501


@pytest.mark.anyio
async def test_task_group_cancelled_mid_burst(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    log = TelemetryLogger(path, file_ops=SlowWrites(), batch_size=50)
    returned = 0

    async def producer(number: int) -> None:
        nonlocal returned
        for index in range(10_000):
            await log.log_event("p", "run", 1.0, meta={"n": number, "seq": index})
            returned += 1

    with anyio.move_on_after(0.2):
        async with anyio.create_task_group() as group:
            for number in range(4):
                group.start_soon(producer, number)
    result = await log.shutdown(timeout=30)
    lines = len(read_strict_lines(path))

    # A producer can be cancelled at the checkpoint after its event was queued.
    # Its call then never returns, but the event is logged all the same.
    assert result
    assert log.stats().dropped_total == 0
    assert log.stats().accepted == lines
    assert returned <= lines <= returned + 4


# --- flush and shutdown together -----------------------------------------------------


@pytest.mark.anyio
async def test_flush_and_shutdown_concurrently(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    log = TelemetryLogger(path, file_ops=SlowWrites(), batch_size=100)
    for index in range(2000):
        await log.log_event("a", "run", 1.0, meta={"seq": index})
    results: list[FlushResult] = []

    async def call(coroutine_function: object) -> None:
        assert callable(coroutine_function)
        results.append(await coroutine_function(timeout=30))

    threads = [
        threading.Thread(target=lambda: results.append(log.flush_sync(timeout=30))),
        threading.Thread(target=lambda: results.append(log.shutdown_sync(timeout=30))),
    ]
    for thread in threads:
        thread.start()
    async with anyio.create_task_group() as group:
        for function in (log.flush, log.shutdown, log.flush, log.shutdown):
            group.start_soon(call, function)
    for thread in threads:
        await anyio.to_thread.run_sync(thread.join, 30.0)

    assert len(results) == 6
    assert all(results)
    assert [e["meta"]["seq"] for e in read_strict_lines(path)] == list(range(2000))


def test_shutdown_twice_from_threads(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    log, ops = stalled_logger(path)
    results: list[FlushResult] = []
    threads = [
        threading.Thread(target=lambda: results.append(log.shutdown_sync(timeout=0.2)))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    ops.release()
    final = log.shutdown_sync(timeout=5)

    assert [result.pending for result in results] == [1, 1]
    assert final
    assert len(read_strict_lines(path)) == 1


# --- interpreter exit with events queued ---------------------------------------------

EXIT_QUEUED = """
    import sys
    from telemetry import TelemetryLogger

    log = TelemetryLogger(sys.argv[1], flush_interval=60.0, batch_size=1_000_000)
    for index in range(20_000):
        log.log_event("exit", "run", 1.0, meta={"seq": index})
    assert log.stats().written == 0
"""

EXIT_BY_EXCEPTION = """
    import asyncio, sys
    from telemetry import TelemetryLogger

    log = TelemetryLogger(sys.argv[1], flush_interval=60.0, batch_size=1_000_000)

    async def main():
        for index in range(5_000):
            await log.log_event("exit", "run", 1.0, meta={"seq": index})
        raise RuntimeError("agent crashed")

    asyncio.run(main())
"""

EXIT_STALLED = """
    import sys, time
    from telemetry import FileOps, TelemetryLogger

    class Stalled(FileOps):
        def write(self, fd, data):
            time.sleep(60)
            return super().write(fd, data)

    log = TelemetryLogger(sys.argv[1], file_ops=Stalled(), exit_timeout=0.5)
    for index in range(100):
        log.log_event("exit", "run", 1.0)
"""


def test_exit_writes_queued_events(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    completed = run_python(EXIT_QUEUED, path)

    assert completed.returncode == 0, completed.stderr
    assert [e["meta"]["seq"] for e in read_strict_lines(path)] == list(range(20_000))


def test_exit_by_exception_writes_queued(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    completed = run_python(EXIT_BY_EXCEPTION, path)

    assert completed.returncode == 1
    assert "RuntimeError: agent crashed" in completed.stderr
    assert len(read_strict_lines(path)) == 5_000


def test_exit_with_stalled_disk_meets_deadline(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    started = time.monotonic()
    completed = run_python(EXIT_STALLED, path)
    elapsed = time.monotonic() - started

    assert completed.returncode == 0, completed.stderr
    assert "telemetry exited with 100 events not written" in completed.stderr
    assert elapsed < 30.0
