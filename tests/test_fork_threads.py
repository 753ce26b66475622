"""Threads, event loops and fork() sharing one logger.

Threads call the sync shim while tasks log on an event loop. A forked child must
never write the events its parent had queued, must never hang (every wait here has
a deadline), and must be able to log its own events.
"""

from __future__ import annotations

import json
import os
import random
import select
import signal
import threading
import time
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any

import anyio
import pytest
from faults import FaultyOps, ledger_balances, read_strict_lines

from telemetry import FileOps, TelemetryLogger

CHILD_EVENTS = 3


def sources(path: Path) -> dict[str, list[int]]:
    """Group the ``seq`` of every line by its ``meta["source"]``, in file order."""
    grouped: dict[str, list[int]] = defaultdict(list)
    for event in read_strict_lines(path):
        grouped[event["meta"]["source"]].append(event["meta"]["seq"])
    return dict(grouped)


def fork_child(log: TelemetryLogger, name: str) -> tuple[int, int]:
    """Fork a child that logs ``CHILD_EVENTS`` events as ``name`` and shuts down.

    The child writes its verdict as JSON to a pipe and leaves with os._exit, so it
    never runs the parent's test machinery. Returns the child's pid and the pipe's
    read end.
    """
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():
        # Python 3.12+ warns that forking a process with threads may deadlock;
        # that risk is what these tests probe.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid:
        os.close(write_end)
        return pid, read_end

    code = 1
    try:
        os.close(read_end)
        inherited = log.stats()
        for seq in range(CHILD_EVENTS):
            log.log_event_sync("child", "run", 1.0, meta={"source": name, "seq": seq})
        result = log.shutdown_sync(timeout=10)
        stats = log.stats()
        verdict = {
            "inherited_accepted": inherited.accepted,
            "inherited_queued": inherited.queued,
            "flushed": bool(result),
            "written": stats.written,
        }
        os.write(write_end, json.dumps(verdict).encode())
        code = 0
    finally:
        os._exit(code)


def wait_child(pid: int, read_end: int, timeout: float = 30.0) -> dict[str, Any]:
    """Wait for a forked child's verdict, killing it if it outlives ``timeout``."""
    deadline = time.monotonic() + timeout
    payload = b""
    try:
        while True:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"child {pid} hung"
            ready, _, _ = select.select([read_end], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(read_end, 65536)
            if not chunk:
                break
            payload += chunk
        while (status := os.waitpid(pid, os.WNOHANG))[0] == 0:
            assert time.monotonic() < deadline, f"child {pid} never exited"
            time.sleep(0.01)
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    finally:
        os.close(read_end)

    assert os.waitstatus_to_exitcode(status[1]) == 0
    verdict: dict[str, Any] = json.loads(payload)
    return verdict


@pytest.mark.anyio
async def test_threads_and_tasks_share_logger(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    log = TelemetryLogger(path, batch_size=128)

    def thread_producer(number: int) -> None:
        for seq in range(2000):
            meta = {"source": f"thread-{number}", "seq": seq}
            log.log_event_sync("thread", "run", 1.0, meta=meta)

    async def task_producer(number: int) -> None:
        for seq in range(500):
            meta = {"source": f"task-{number}", "seq": seq}
            await log.log_event("task", "run", 1.0, meta=meta)

    threads = [threading.Thread(target=thread_producer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    async with anyio.create_task_group() as group:
        for number in range(10):
            group.start_soon(task_producer, number)
    for thread in threads:
        await anyio.to_thread.run_sync(thread.join, 30.0)
    result = await log.shutdown(timeout=30)
    grouped = sources(path)

    assert result
    assert ledger_balances(log.stats())
    assert len(grouped) == 14
    for name, sequences in grouped.items():
        expected = 2000 if name.startswith("thread") else 500
        assert sequences == list(range(expected)), name


@pytest.mark.anyio
async def test_fork_during_blocked_write(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    ops = FaultyOps()
    ops.block_writes(30.0)
    log = TelemetryLogger(path, file_ops=ops, flush_interval=0.01)
    for seq in range(50):
        await log.log_event("parent", "run", 1.0, meta={"source": "parent", "seq": seq})
    assert ops.blocked.wait(5)
    for seq in range(50, 80):
        await log.log_event("parent", "run", 1.0, meta={"source": "parent", "seq": seq})
    queued = log.stats().queued

    pid, read_end = fork_child(log, "child")
    verdict = wait_child(pid, read_end)
    ops.release()
    result = await log.shutdown(timeout=10)
    grouped = sources(path)

    assert queued == 80
    assert verdict == {
        "inherited_accepted": 0,
        "inherited_queued": 0,
        "flushed": True,
        "written": CHILD_EVENTS,
    }
    assert result
    assert grouped == {"parent": list(range(80)), "child": list(range(CHILD_EVENTS))}


class BusyWrites(FileOps):
    """A disk whose writes take a millisecond, so the writer is often mid-write."""

    def write(self, fd: int, data: memoryview) -> int:
        time.sleep(0.001)
        return super().write(fd, data)


@pytest.mark.slow
def test_fork_amid_thread_producers(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    log = TelemetryLogger(path, file_ops=BusyWrites(), flush_interval=0.005)
    stop = threading.Event()
    counts = [0] * 4

    def producer(number: int) -> None:
        while not stop.is_set():
            meta = {"source": f"thread-{number}", "seq": counts[number]}
            log.log_event_sync("thread", "run", 1.0, meta=meta)
            counts[number] += 1

    threads = [threading.Thread(target=producer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    rng = random.Random(31)
    verdicts = []
    try:
        for number in range(10):
            time.sleep(rng.uniform(0.0, 0.05))
            pid, read_end = fork_child(log, f"child-{number}")
            verdicts.append(wait_child(pid, read_end))
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    result = log.shutdown_sync(timeout=30)
    grouped = sources(path)

    assert result
    assert all(v["flushed"] and v["written"] == CHILD_EVENTS for v in verdicts)
    assert all(v["inherited_accepted"] == 0 for v in verdicts)
    for number in range(4):
        assert grouped[f"thread-{number}"] == list(range(counts[number]))
    for number in range(10):
        assert grouped[f"child-{number}"] == list(range(CHILD_EVENTS))
