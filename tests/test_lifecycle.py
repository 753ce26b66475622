"""The logger under re-entry, signals, process exit and odd but valid values."""

from __future__ import annotations

import enum
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import anyio
import numpy as np
import pytest

from telemetry import FileOps, TelemetryLogger

REPO = Path(__file__).resolve().parents[1]


def read_lines(path: Path) -> list[dict[str, Any]]:
    with path.open("rb") as file:
        return [json.loads(line) for line in file if line.strip()]


def run_python(
    code: str, cwd: Path, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    environment.pop("AGENT_TELEMETRY_PATH", None)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# --- process exit --------------------------------------------------------------------


def test_finalizer_logging_at_shutdown_writes(tmp_path: Path) -> None:
    code = """
    from telemetry import log_event

    class Session:
        def __del__(self):
            log_event("session", "closed-at-exit", 1.0)

    keep = Session()
    log_event("main", "r", 1.0)
    """
    started = time.monotonic()
    result = run_python(code, cwd=tmp_path, timeout=30)
    elapsed = time.monotonic() - started

    assert result.returncode == 0, result.stderr
    agents = [line["agent"] for line in read_lines(tmp_path / "telemetry/events.jsonl")]
    assert agents == ["main", "session"]
    assert elapsed < 20


def test_atexit_before_import_is_written(tmp_path: Path) -> None:
    code = """
    import atexit

    def late():
        from telemetry import log_event
        log_event("late", "r", 1.0)

    atexit.register(late)
    from telemetry import log_event
    log_event("main", "r", 1.0)
    """
    result = run_python(code, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    agents = [line["agent"] for line in read_lines(tmp_path / "telemetry/events.jsonl")]
    assert agents == ["main", "late"]


def test_exit_waits_once_for_all_loggers(tmp_path: Path) -> None:
    code = """
    import time
    from telemetry import FileOps, TelemetryLogger

    class Stuck(FileOps):
        def write(self, fd, data):
            time.sleep(30)
            return super().write(fd, data)

    loggers = [
        TelemetryLogger(f"log{n}.jsonl", file_ops=Stuck(), exit_timeout=1.0)
        for n in range(4)
    ]
    for log in loggers:
        log.log_event("a", "r", 1.0)
    """
    started = time.monotonic()
    result = run_python(code, cwd=tmp_path)
    elapsed = time.monotonic() - started

    assert result.returncode == 0, result.stderr
    assert result.stderr.count("telemetry exited with 1 events not written") == 4
    assert elapsed < 3.5


# --- re-entry, signals and failed thread starts --------------------------------------


def test_flush_from_signal_handler_no_deadlock(tmp_path: Path) -> None:
    code = """
    import signal, time
    from telemetry import TelemetryLogger

    log = TelemetryLogger("events.jsonl", batch_size=1)

    def on_alarm(signum, frame):
        log.flush_sync(timeout=0.5)
        signal.setitimer(signal.ITIMER_REAL, 0.0005)

    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, 0.0005)
    deadline = time.monotonic() + 3
    count = 0
    while time.monotonic() < deadline:
        log.log_event_sync("a", "r", 1.0)
        count += 1
    signal.setitimer(signal.ITIMER_REAL, 0)
    assert log.shutdown_sync(timeout=10)
    print(count)
    """
    result = run_python(code, cwd=tmp_path, timeout=60)

    assert result.returncode == 0, result.stderr
    assert len(read_lines(tmp_path / "events.jsonl")) == int(result.stdout)


def test_logging_finalizer_during_start_one_writer(log_path: Path) -> None:
    import gc

    log = TelemetryLogger(log_path)

    class Session:
        def __init__(self) -> None:
            self.cycle = self

        def __del__(self) -> None:
            log.log_event_sync("session", "from-gc", 1.0)

    def writers() -> int:
        return sum(t.name == "telemetry-writer" for t in threading.enumerate())

    max_writers = 0
    try:
        for threshold in range(1, 150):
            gc.collect()
            gc.disable()
            Session()
            gc.set_threshold(threshold)
            gc.enable()
            log.log_event_sync("main", "r", 1.0)
            gc.set_threshold(700)
            max_writers = max(max_writers, writers())
            assert log.shutdown_sync(timeout=10)
    finally:
        gc.set_threshold(700)
        gc.enable()

    assert max_writers <= 1
    stats = log.stats()
    assert stats.written == stats.accepted


class FailingStart(threading.Thread):
    """A thread class whose first start fails as pthread_create would."""

    failures = 1

    def start(self) -> None:
        if FailingStart.failures:
            FailingStart.failures -= 1
            raise RuntimeError("can't start new thread")
        super().start()


def test_failed_thread_start_recovers(
    log_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("telemetry._logger.threading.Thread", FailingStart)
    log = TelemetryLogger(log_path)
    log.log_event("first", "r", 1.0)
    log.log_event("second", "r", 2.0)
    result = log.flush_sync(timeout=10)

    assert result
    assert log.stats().last_error == "RuntimeError: can't start new thread"
    assert [line["agent"] for line in read_lines(log_path)] == ["first", "second"]
    assert log.shutdown_sync()


@pytest.mark.anyio
async def test_second_await_of_full_result_raises(log_path: Path) -> None:
    log = TelemetryLogger(log_path, queue_size=1, file_ops=SlowWrites(0.2))
    await log.log_event("fill", "r", 1.0)
    pending = log.log_event("waits", "r", 2.0)
    await pending

    with pytest.raises(RuntimeError, match="already awaited"):
        await pending
    assert await log.shutdown(timeout=10)
    assert [line["agent"] for line in read_lines(log_path)] == ["fill", "waits"]


@pytest.mark.anyio
async def test_flush_deadline_with_busy_thread_pool(log_path: Path) -> None:
    log = TelemetryLogger(log_path, file_ops=SlowWrites(2.0))
    await log.log_event("a", "r", 1.0)
    release = threading.Event()

    async with anyio.create_task_group() as group:

        async def occupy_thread() -> None:
            await anyio.to_thread.run_sync(release.wait)

        for _ in range(45):
            group.start_soon(occupy_thread)
        await anyio.sleep(0.1)
        started = time.monotonic()
        result = await log.flush(timeout=0.3)
        elapsed = time.monotonic() - started
        release.set()

    assert not result
    assert elapsed < 1.5
    assert await log.shutdown(timeout=10)


# --- files -------------------------------------------------------------------------


class SlowWrites(FileOps):
    """A disk whose writes take ``delay`` seconds each."""

    def __init__(self, delay: float) -> None:
        self.delay = delay

    def write(self, fd: int, data: memoryview) -> int:
        time.sleep(self.delay)
        return super().write(fd, data)


class SyncRecorder(FileOps):
    """Record the inode of every file fsynced."""

    def __init__(self) -> None:
        self.synced: set[int] = set()

    def fsync(self, fd: int) -> None:
        self.synced.add(os.fstat(fd).st_ino)
        super().fsync(fd)


@pytest.mark.parametrize("policy", ["batch", "interval"])
def test_flush_fsyncs_rotated_files(tmp_path: Path, policy: str) -> None:
    path = tmp_path / "events.jsonl"
    recorder = SyncRecorder()
    log = TelemetryLogger(
        path, fsync=policy, rotate_bytes=20_000, file_ops=recorder, batch_size=50
    )
    for index in range(1000):
        log.log_event("a", "r", index)
        if index % 100 == 99:
            assert log.flush_sync(timeout=30)

    files = sorted(tmp_path.glob("events*.jsonl"))
    assert len(files) >= 2
    for file in files:
        assert file.stat().st_ino in recorder.synced, file.name
    assert log.shutdown_sync()


def test_torn_tail_after_open_gets_new_line(log_path: Path) -> None:
    log = TelemetryLogger(log_path)
    log.log_event("before", "r", 1.0)
    assert log.flush_sync()
    with log_path.open("ab") as other:  # another process dies mid-line
        other.write(b'{"ts": "2026-01-01T00:00:00.000000+00:00", "agent": "cra')
    time.sleep(0.05)
    log.log_event("after", "r", 2.0)
    assert log.shutdown_sync()

    raw = log_path.read_bytes().split(b"\n")
    assert json.loads(raw[0])["agent"] == "before"
    assert raw[1].startswith(b'{"ts": "2026-01-01')
    assert json.loads(raw[2])["agent"] == "after"


def test_path_fixed_before_chdir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    log = TelemetryLogger("events.jsonl")
    log.log_event("before", "r", 1.0)
    assert log.shutdown_sync()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    log.log_event("after", "r", 1.0)
    assert log.shutdown_sync()

    assert [line["agent"] for line in read_lines(tmp_path / "events.jsonl")] == [
        "before",
        "after",
    ]
    assert not (elsewhere / "events.jsonl").exists()


def test_huge_interval_rejected() -> None:
    with pytest.raises(ValueError, match="flush_interval must be a number of seconds"):
        TelemetryLogger("x.jsonl", flush_interval=1e10)


# --- values --------------------------------------------------------------------------


class Agent(str, enum.Enum):
    PLANNER = "planner"


def test_str_enum_logged_as_value(log_path: Path) -> None:
    with TelemetryLogger(log_path) as log:
        log.log_event(
            Agent.PLANNER, "r", 1.0, tags=[Agent.PLANNER], meta={"a": Agent.PLANNER}
        )

    (line,) = read_lines(log_path)
    assert line["agent"] == "planner"
    assert line["tags"] == ["planner"]
    assert line["meta"] == {"a": "planner"}


def test_numpy_and_fraction_numbers_accepted(log_path: Path) -> None:
    with TelemetryLogger(log_path) as log:
        log.log_event(
            "a",
            "r",
            np.int64(3),
            cost_usd=np.float32(0.5),
            tokens_in=np.int64(4),
            reward=Fraction(1, 2),  # type: ignore[arg-type]
            meta={"n": np.int64(5), "x": np.float32(1.5)},
        )

    (line,) = read_lines(log_path)
    assert line["latency_ms"] == 3
    assert line["cost_usd"] == 0.5
    assert line["tokens_in"] == 4
    assert line["reward"] == 0.5
    assert line["meta"] == {"n": 5, "x": 1.5}


def test_colliding_meta_keys_rejected(log_path: Path) -> None:
    log = TelemetryLogger(log_path)

    with pytest.raises(ValueError, match="has two keys equal to 'a\ufffd'"):
        log.log_event("a", "r", 1.0, meta=dict([("a\udc80", 1), ("a\udc81", 2)]))


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    return tmp_path / "events.jsonl"
