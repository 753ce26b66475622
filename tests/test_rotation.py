"""Rotation: outside tools that move the file away, and the built-in rotate_bytes.

A writer whose file is renamed or deleted under it must write to the path again
within one batch. With built-in rotation and several processes, the rotated set
must hold every event exactly once, and the readers must read across the set.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from collections import defaultdict
from pathlib import Path

import pytest
from faults import FaultyOps, read_strict_lines

from telemetry import TelemetryLogger
from telemetry.logread import expand_paths, read_events
from telemetry.summarize import summarize

REPO = Path(__file__).resolve().parents[1]
ROTATED_NAME = re.compile(r"^events\.\d{8}T\d{12}Z\.jsonl$")


def log_batch(log: TelemetryLogger, name: str, count: int = 20) -> None:
    for index in range(count):
        log.log_event(name, "run", 1.0, meta={"seq": index})
    assert log.flush_sync(timeout=5)


def agents(path: Path) -> list[str]:
    return [event["agent"] for event in read_strict_lines(path)]


# --- outside tools -------------------------------------------------------------------


def test_renamed_file_followed_next_batch(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    moved = tmp_path / "events.jsonl.1"
    with TelemetryLogger(path) as log:
        log_batch(log, "before")
        path.rename(moved)
        log_batch(log, "after")

    assert agents(moved) == ["before"] * 20
    assert agents(path) == ["after"] * 20


def test_renamed_and_recreated_file_followed(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    moved = tmp_path / "events.jsonl.1"
    with TelemetryLogger(path) as log:
        log_batch(log, "before")
        path.rename(moved)
        path.write_bytes(b"")
        log_batch(log, "after")

    assert agents(moved) == ["before"] * 20
    assert agents(path) == ["after"] * 20


def test_deleted_file_recreated_next_batch(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    with TelemetryLogger(path) as log:
        log_batch(log, "before")
        path.unlink()
        log_batch(log, "after")

    assert agents(path) == ["after"] * 20


def test_truncated_file_gets_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    with TelemetryLogger(path) as log:
        log_batch(log, "before")
        os.truncate(path, 0)
        log_batch(log, "after")

    # O_APPEND puts the next write at the new end, so no hole of NULs appears.
    assert agents(path) == ["after"] * 20


def test_rename_during_blocked_write(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    moved = tmp_path / "events.jsonl.1"
    ops = FaultyOps()
    ops.block_writes(30.0)
    log = TelemetryLogger(path, file_ops=ops, flush_interval=0.01)
    log.log_event("in-flight", "run", 1.0)
    assert ops.blocked.wait(5)
    path.rename(moved)
    ops.release()
    log_batch(log, "after")
    log.shutdown_sync(timeout=5)

    assert agents(moved) == ["in-flight"]
    assert agents(path) == ["after"] * 20


# --- built-in rotation ---------------------------------------------------------------


def test_rotate_bytes_splits_into_named_set(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    with TelemetryLogger(path, rotate_bytes=5_000, batch_size=10) as log:
        for index in range(500):
            log.log_event("a", "run", 1.0, meta={"seq": index})
            if index % 10 == 9:
                assert log.flush_sync(timeout=5)
    files = expand_paths(path)
    rotated = files[:-1]
    sizes = [file.stat().st_size for file in rotated]
    sequences = [event["meta"]["seq"] for event in read_events(path)]

    assert len(rotated) >= 10
    assert all(ROTATED_NAME.match(file.name) for file in rotated)
    assert files[-1] == path
    assert all(size >= 5_000 for size in sizes)
    assert sequences == list(range(500))


def test_file_over_limit_rotates_on_open(tmp_path: Path) -> None:
    # Each short-lived process opens the file once. One that finds it over the
    # limit must rotate it before writing, because otherwise the file would grow
    # without end.
    path = tmp_path / "events.jsonl"
    for run in range(3):
        with TelemetryLogger(path, rotate_bytes=500) as log:
            for index in range(5):
                log.log_event(f"run-{run}", "run", 1.0, meta={"seq": index})
    files = expand_paths(path)

    assert len(files) == 3
    assert all(ROTATED_NAME.match(file.name) for file in files[:-1])
    assert [agents(file) for file in files] == [
        ["run-0"] * 5,
        ["run-1"] * 5,
        ["run-2"] * 5,
    ]


WORKER = """
    import sys
    from telemetry import TelemetryLogger

    path, worker, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    with TelemetryLogger(path, rotate_bytes=50_000, batch_size=64) as log:
        for seq in range(count):
            meta = {"worker": worker, "seq": seq}
            log.log_event(f"worker-{worker}", "run", 1.0, meta=meta)
"""


@pytest.mark.slow
def test_rotate_bytes_across_processes(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    processes, events = 4, 5_000
    workers = [
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
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(processes)
    ]
    for worker in workers:
        _, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err

    files = expand_paths(path)
    by_worker: dict[int, list[int]] = defaultdict(list)
    for file in files:
        for event in read_strict_lines(file):
            by_worker[event["meta"]["worker"]].append(event["meta"]["seq"])
    stream = read_events(path)
    total = sum(1 for _ in stream)
    summary = summarize(tmp_path)

    assert len(files) >= 5
    assert all(ROTATED_NAME.match(file.name) for file in files[:-1])
    for worker_id in range(processes):
        assert by_worker[worker_id] == list(range(events)), f"worker {worker_id}"
    assert total == processes * events
    assert stream.report.skipped_total == 0
    assert [group.runs for group in summary.groups] == [events] * processes
