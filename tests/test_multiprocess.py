"""Several processes appending to one file: no line lost, torn or interleaved.

Each process logs events of up to tens of KB, with its pid and a per-process
sequence number in ``meta``. Every line must parse on its own, and each process's
events must all be there, once each, in the order it logged them.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from collections import defaultdict
from pathlib import Path

import pytest
from faults import strict_loads

from telemetry import FileOps, TelemetryLogger

REPO = Path(__file__).resolve().parents[1]
PROCESSES = 4
EVENTS = 25_000

WORKER = """
    import os, random, sys
    from telemetry import FileOps, TelemetryLogger

    path, worker, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(worker)
    pid = os.getpid()
    with TelemetryLogger(path, batch_size=256) as log:
        for seq in range(count):
            large = rng.random() < 0.01
            size = rng.randrange(10_000, 40_000) if large else rng.randrange(200)
            meta = {"pid": pid, "seq": seq, "pad": "p" * size}
            log.log_event(f"worker-{worker}", "run", 1.0, meta=meta)
        result = log.flush_sync(timeout=60)
    print(pid, bool(result), log.stats().written)
"""


def start_workers(
    path: Path, processes: int, events: int
) -> list[subprocess.Popen[str]]:
    return [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                textwrap.dedent(WORKER),
                str(path),
                str(n),
                str(events),
            ],
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(processes)
    ]


@pytest.mark.slow
def test_processes_append_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    workers = start_workers(path, PROCESSES, EVENTS)
    reports = []
    for worker in workers:
        out, err = worker.communicate(timeout=240)
        assert worker.returncode == 0, err
        reports.append(out.split())

    by_pid: dict[int, list[int]] = defaultdict(list)
    pad_sizes = []
    switches = 0  # Places where the next line comes from another process.
    previous = None
    with path.open("rb") as file:
        for line in file:
            meta = strict_loads(line)["meta"]
            by_pid[meta["pid"]].append(meta["seq"])
            pad_sizes.append(len(meta["pad"]))
            switches += previous is not None and meta["pid"] != previous
            previous = meta["pid"]

    assert [report[1:] for report in reports] == [["True", str(EVENTS)]] * PROCESSES
    assert sorted(by_pid) == sorted(int(report[0]) for report in reports)
    assert len(pad_sizes) == PROCESSES * EVENTS
    assert max(pad_sizes) >= 30_000
    assert switches > PROCESSES, "the processes never wrote at the same time"
    for pid, sequences in by_pid.items():
        assert sequences == list(range(EVENTS)), f"process {pid} out of order"


def test_line_in_progress_waited_for(tmp_path: Path) -> None:
    # Another writer holds the lock while its line is half written, which is how
    # a large write in progress looks to a reader. That tail is not torn, and a
    # repair newline would leave a blank line after it.
    path = tmp_path / "events.jsonl"
    other = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    fcntl.flock(other, fcntl.LOCK_EX)
    os.write(other, b'{"agent": "other", "part": "fir')
    done = threading.Event()

    def finish_line() -> None:
        time.sleep(0.3)
        os.write(other, b'st"}\n')
        fcntl.flock(other, fcntl.LOCK_UN)
        done.set()

    threading.Thread(target=finish_line).start()
    with TelemetryLogger(path) as log:
        log.log_event("ours", "r", 1.0)
        assert log.flush_sync(timeout=10)
    assert done.is_set()
    os.close(other)

    lines = path.read_bytes().split(b"\n")
    assert json.loads(lines[0]) == {"agent": "other", "part": "first"}
    assert json.loads(lines[1])["agent"] == "ours"
    assert lines[2:] == [b""]


def test_torn_tail_repaired_at_once(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(b'{"agent": "crashed", "part": "fir')
    with TelemetryLogger(path) as log:
        log.log_event("ours", "r", 1.0)

    lines = path.read_bytes().split(b"\n")
    assert lines[0] == b'{"agent": "crashed", "part": "fir'
    assert json.loads(lines[1])["agent"] == "ours"
    assert lines[2:] == [b""]


class LockCalls(FileOps):
    """Counts the flock calls the sink makes."""

    def __init__(self) -> None:
        self.calls = 0

    def lock(self, fd: int, operation: int) -> None:
        self.calls += 1
        super().lock(fd, operation)


def test_stale_lock_bypassed_after_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A writer stopped while it holds the lock (SIGSTOP, a hung mount) must not
    # hold the others' events forever: after one wait they write without it.
    monkeypatch.setattr("telemetry._sink._LOCK_WAIT", 0.2)
    path = tmp_path / "events.jsonl"
    path.write_bytes(b'{"agent": "before"}\n')
    other = os.open(path, os.O_WRONLY | os.O_APPEND)
    fcntl.flock(other, fcntl.LOCK_EX)
    ops = LockCalls()
    log = TelemetryLogger(path, file_ops=ops)
    try:
        log.log_event("first", "r", 1.0)
        assert log.flush_sync(timeout=10)
        first_calls = ops.calls
        for index in range(3):
            log.log_event("stale", "r", float(index))
            assert log.flush_sync(timeout=10)
        stale_calls = ops.calls - first_calls
    finally:
        os.close(other)
    log.log_event("freed", "r", 1.0)
    assert log.shutdown_sync(timeout=10)

    agents = [json.loads(line)["agent"] for line in path.read_bytes().splitlines()]
    assert agents == ["before", "first", "stale", "stale", "stale", "freed"]
    assert first_calls > 3
    assert stale_calls == 3
    assert caplog.text.count("held by another process") == 1


def test_rotation_lock_held_skips_rotation(tmp_path: Path) -> None:
    # A process stopped in the middle of a rotation must not stop the others:
    # they keep appending, and rotate once the lock is free.
    path = tmp_path / "events.jsonl"
    lock = (tmp_path / "events.jsonl.lock").open("a")
    fcntl.flock(lock, fcntl.LOCK_EX)
    log = TelemetryLogger(path, rotate_bytes=300)
    for index in range(5):
        log.log_event("held", "r", float(index))
        assert log.flush_sync(timeout=10)
    assert list(tmp_path.glob("events.*.jsonl")) == []

    fcntl.flock(lock, fcntl.LOCK_UN)
    lock.close()
    log.log_event("free", "r", 1.0)
    assert log.shutdown_sync(timeout=10)

    assert len(list(tmp_path.glob("events.*.jsonl"))) == 1
    assert log.stats().written == 6


FORK_AND_COUNT = """
    pid = os.fork()
    if pid == 0:
        links = []
        for name in os.listdir("/proc/self/fd"):
            try:
                links.append(os.readlink(f"/proc/self/fd/{name}"))
            except OSError:
                pass
        os._exit(10 + sum(link.startswith(path) for link in links))
    forked.set()
    _, status = os.waitpid(pid, 0)
    print(os.waitstatus_to_exitcode(status) - 10)
    log.shutdown_sync()
"""
"""The end of both fork scripts: the child counts its descriptors of the log file
and of its lock file, and the parent prints that count."""

FORK_CHECK = (
    """
    import os, sys, threading
    from telemetry import TelemetryLogger

    path = sys.argv[1]
    forked = threading.Event()
    log = TelemetryLogger(path)
    log.log_event("parent", "r", 1.0)
    assert log.flush_sync(timeout=10)
"""
    + FORK_AND_COUNT
)

FORK_IN_ROTATION = (
    """
    import os, sys, threading
    from telemetry import FileOps, TelemetryLogger

    path = sys.argv[1]
    renaming, forked = threading.Event(), threading.Event()

    class ForkDuringRename(FileOps):
        def rename(self, source, target):
            renaming.set()
            forked.wait(10)
            super().rename(source, target)

    log = TelemetryLogger(path, rotate_bytes=1, file_ops=ForkDuringRename())
    log.log_event("parent", "r", 1.0)
    assert log.flush_sync(timeout=10)
    log.log_event("parent", "r", 2.0)  # Over rotate_bytes: this one rotates.
    assert renaming.wait(10)
"""
    + FORK_AND_COUNT
)


def run_fork_check(code: str, path: Path) -> list[str]:
    """Run ``code`` with ``path`` and return what it printed, split on spaces."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), str(path)],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_fork_child_closes_log_file(tmp_path: Path) -> None:
    # A flock lives while any descriptor of it is open, so a child that kept the
    # parent's descriptor would keep a killed parent's lock held.
    assert run_fork_check(FORK_CHECK, tmp_path / "events.jsonl") == ["0"]


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_fork_in_rotation_closes_lock_file(tmp_path: Path) -> None:
    # The same for the rotation's lock file, or a parent killed mid-rotation
    # would stop every process from rotating while the child lives.
    assert run_fork_check(FORK_IN_ROTATION, tmp_path / "events.jsonl") == ["0"]
