"""The logger's public API, file format and lifecycle."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
import types
import warnings
from collections.abc import Iterator
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import anyio
import jsonschema
import pytest

import telemetry
from telemetry import FileOps, LoggerSettings, TelemetryLogger, logger
from telemetry._event import CORE_FIELDS

REPO = Path(__file__).resolve().parents[1]


def read_lines(path: Path) -> list[dict[str, Any]]:
    with path.open("rb") as file:
        return [json.loads(line) for line in file]


def run_python(code: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(REPO), **env}
    environment.pop("AGENT_TELEMETRY_PATH", None)
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    return tmp_path / "events.jsonl"


@pytest.fixture
def default_logger(log_path: Path) -> Iterator[TelemetryLogger]:
    """Point the module-level logger at a temp file, and close it afterwards."""
    instance = logger.configure(log_path)
    yield instance
    instance.shutdown_sync()


# --- the original sanity check and process-exit scenarios --------------------------

SANITY_CHECK = """\
from telemetry.logger import log_event, new_run_id

log_event(
    agent="test_agent",
    run_id=new_run_id(),
    latency_ms=123,
    cost_usd=0.002,
    reward=0.42,
)

print("Wrote telemetry event.")
"""


def test_sanity_check_writes_one_line(tmp_path: Path) -> None:
    result = run_python(SANITY_CHECK, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout == "Wrote telemetry event.\n"
    assert "never awaited" not in result.stderr
    lines = read_lines(tmp_path / "telemetry" / "events.jsonl")
    assert len(lines) == 1
    assert list(lines[0]) == list(CORE_FIELDS)
    assert lines[0]["agent"] == "test_agent"
    assert lines[0]["latency_ms"] == 123
    assert lines[0]["cost_usd"] == 0.002
    assert lines[0]["reward"] == 0.42
    assert lines[0]["tokens_in"] is None


def test_asyncio_run_without_shutdown_writes_all(tmp_path: Path) -> None:
    code = """
    import asyncio
    from telemetry import log_event, new_run_id

    async def agent(number):
        for index in range(1000):
            await log_event(f"agent-{number}", new_run_id(), index)

    async def main():
        await asyncio.gather(*(agent(number) for number in range(100)))

    asyncio.run(main())
    """
    result = run_python(code, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    lines = read_lines(tmp_path / "telemetry" / "events.jsonl")
    assert len(lines) == 100_000
    assert len({line["run_id"] for line in lines}) == 100_000


def test_trio_run_without_shutdown_writes_all(tmp_path: Path) -> None:
    code = """
    import trio
    from telemetry import log_event, new_run_id

    async def agent(number):
        for index in range(1000):
            await log_event(f"agent-{number}", new_run_id(), index)

    async def main():
        async with trio.open_nursery() as nursery:
            for number in range(100):
                nursery.start_soon(agent, number)

    trio.run(main)
    """
    result = run_python(code, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert len(read_lines(tmp_path / "telemetry" / "events.jsonl")) == 100_000


def test_sync_shim_from_threads_writes_all(log_path: Path) -> None:
    log = TelemetryLogger(log_path)

    def produce(number: int) -> None:
        for index in range(5000):
            log.log_event_sync(f"thread-{number}", telemetry.new_run_id(), index)

    threads = [threading.Thread(target=produce, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result = log.shutdown_sync()

    assert result
    assert len(read_lines(log_path)) == 40_000
    assert log.stats().written == 40_000


def test_default_logger_survives_two_asyncio_runs(tmp_path: Path) -> None:
    code = """
    import asyncio
    from telemetry import flush, log_event, new_run_id

    async def main(name):
        for index in range(500):
            await log_event(name, new_run_id(), index)
        assert await flush()

    asyncio.run(main("first"))
    asyncio.run(main("second"))
    """
    result = run_python(code, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "different loop" not in result.stderr
    agents = [line["agent"] for line in read_lines(tmp_path / "telemetry/events.jsonl")]
    assert agents.count("first") == 500
    assert agents.count("second") == 500


def test_unawaited_call_in_async_code_logs(tmp_path: Path) -> None:
    code = """
    import asyncio
    from telemetry import log_event

    async def main():
        log_event("forgetful", "run-1", 5)

    asyncio.run(main())
    """
    result = run_python(code, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "never awaited" not in result.stderr
    assert read_lines(tmp_path / "telemetry/events.jsonl")[0]["agent"] == "forgetful"


def test_environment_sets_default_path(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "log.jsonl"
    result = run_python(SANITY_CHECK, cwd=tmp_path, AGENT_TELEMETRY_PATH=str(target))

    assert result.returncode == 0, result.stderr
    assert len(read_lines(target)) == 1


def test_invalid_environment_names_variable(tmp_path: Path) -> None:
    result = run_python(SANITY_CHECK, cwd=tmp_path, AGENT_TELEMETRY_QUEUE_SIZE="many")

    assert result.returncode != 0
    assert "AGENT_TELEMETRY_QUEUE_SIZE must be an integer, got 'many'" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "AGENT_TELEMETRY_QUEUE_SIZE",
            "0",
            "AGENT_TELEMETRY_QUEUE_SIZE is invalid: queue_size must be an int > 0, "
            "got 0; unset it or fix the value",
        ),
        (
            "AGENT_TELEMETRY_FSYNC",
            "always",
            "AGENT_TELEMETRY_FSYNC is invalid: fsync must be one of 'never', 'batch', "
            "'interval', got 'always'; unset it or fix the value",
        ),
        (
            "AGENT_TELEMETRY_FLUSH_INTERVAL",
            "soon",
            "AGENT_TELEMETRY_FLUSH_INTERVAL must be a number of seconds, got 'soon'; "
            "unset it or fix the value",
        ),
    ],
)
def test_settings_from_env_name_variable(
    variable: str, value: str, message: str
) -> None:
    with pytest.raises(ValueError) as caught:
        LoggerSettings.from_env({variable: value})

    assert str(caught.value) == message


def test_settings_from_env_reads_values() -> None:
    settings = LoggerSettings.from_env(
        {
            "AGENT_TELEMETRY_PATH": "x/y.jsonl",
            "AGENT_TELEMETRY_QUEUE_SIZE": "10",
            "AGENT_TELEMETRY_FLUSH_INTERVAL": "0.5",
            "AGENT_TELEMETRY_WHEN_FULL": "drop",
            "AGENT_TELEMETRY_ROTATE_BYTES": "off",
        }
    )

    assert settings.path == Path("x/y.jsonl")
    assert settings.queue_size == 10
    assert settings.flush_interval == 0.5
    assert settings.when_full == "drop"
    assert settings.rotate_bytes is None


def test_import_stays_light(tmp_path: Path) -> None:
    code = """
    import sys
    import telemetry.logger
    heavy = sorted({"numpy", "scipy", "duckdb", "anyio"} & set(sys.modules))
    print(",".join(heavy))
    """
    result = run_python(code, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


# --- the file format -----------------------------------------------------------------


def test_line_keeps_core_field_order(log_path: Path) -> None:
    with TelemetryLogger(log_path) as log:
        log.log_event(
            "a", "r", 1.5, 0.25, 10, 20, "boom", -0.5, model="m", meta={"k": [1]}
        )

    (line,) = read_lines(log_path)
    assert list(line) == [*CORE_FIELDS, "model", "meta"]
    assert line["error"] == "boom"
    assert line["meta"] == {"k": [1]}


def test_lines_match_packaged_schema(log_path: Path) -> None:
    schema = json.loads(
        resources.files("telemetry").joinpath("event.schema.json").read_text()
    )
    with TelemetryLogger(log_path) as log:
        log.log_event("a", "r", 0)
        log.log_event(
            "b",
            "r2",
            3,
            cost_usd=0.1,
            tokens_in=1,
            tokens_out=2,
            error=ValueError("bad"),
            reward=1,
            model="small",
            parent_run_id="r",
            case_id="c1",
            repeat=0,
            tags=["x", "y"],
            kind="decision",
            meta={"nested": {"list": [1, 2.5, None, True, "s"]}},
        )

    for line in read_lines(log_path):
        jsonschema.validate(line, schema)


def test_timestamp_taken_at_call(log_path: Path) -> None:
    log = TelemetryLogger(log_path, flush_interval=5.0)
    before = time.time()
    log.log_event("a", "r", 1)
    time.sleep(0.2)
    log.shutdown_sync()

    stamp = read_lines(log_path)[0]["ts"]
    logged = datetime.fromisoformat(stamp).timestamp()
    assert stamp.endswith("+00:00")
    assert before - 0.001 <= logged < before + 0.1


def test_exception_recorded_as_type_and_message(log_path: Path) -> None:
    with TelemetryLogger(log_path) as log:
        log.log_event("a", "r", 1, error=TimeoutError("took 30 s"))

    assert read_lines(log_path)[0]["error"] == "TimeoutError: took 30 s"


def test_torn_last_line_gets_own_line(log_path: Path) -> None:
    log_path.write_bytes(b'{"ts": "2026-01-01T00:00:00.000000+00:00", "agent": "x')
    with TelemetryLogger(log_path) as log:
        log.log_event("after", "r", 1)

    raw = log_path.read_bytes().split(b"\n")
    assert json.loads(raw[1])["agent"] == "after"
    assert raw[2] == b""


def test_meta_mutation_after_call_ignored(log_path: Path) -> None:
    meta: dict[str, Any] = {"items": [1]}
    with TelemetryLogger(log_path) as log:
        log.log_event("a", "r", 1, meta=meta)
        meta["items"].append(2)
        meta["new"] = True

    assert read_lines(log_path)[0]["meta"] == {"items": [1]}


# --- bad input -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"agent": ""}, ValueError, "agent must be a non-empty string, got ''"),
        ({"agent": 7}, TypeError, "agent must be a non-empty string, got int 7"),
        (
            {"latency_ms": None},
            TypeError,
            "latency_ms is required: pass an int or float, got None",
        ),
        (
            {"latency_ms": -1},
            ValueError,
            "latency_ms must be a finite number >= 0, got -1",
        ),
        (
            {"latency_ms": float("nan")},
            ValueError,
            "latency_ms must be a finite number, got nan",
        ),
        (
            {"cost_usd": float("inf")},
            ValueError,
            "cost_usd must be a finite number, got inf",
        ),
        (
            {"latency_ms": True},
            TypeError,
            "latency_ms must be an int or float, got bool True; convert it with "
            "float()",
        ),
        (
            {"tokens_in": 1.5},
            TypeError,
            "tokens_in must be an int >= 0 or None, got float 1.5",
        ),
        (
            {"tokens_out": False},
            TypeError,
            "tokens_out must be an int >= 0 or None, got bool False",
        ),
        (
            {"error": 404},
            TypeError,
            "error must be a string, an exception or None, got int 404",
        ),
        (
            {"meta": {"when": object}},
            TypeError,
            "meta['when'] must be a JSON value",
        ),
        (
            {"meta": {"x": float("nan")}},
            ValueError,
            "meta['x'] must be a finite number, got nan",
        ),
    ],
)
def test_bad_field_raises_and_keeps_earlier(
    log_path: Path, kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    arguments: dict[str, Any] = {"agent": "a", "run_id": "r", "latency_ms": 1}
    arguments.update(kwargs)
    with TelemetryLogger(log_path) as log:
        log.log_event("before", "r0", 1)
        with pytest.raises(error, match="^" + re.escape(message)):
            log.log_event(**arguments)
        stats = log.stats()

    assert stats.accepted == 1
    assert [line["agent"] for line in read_lines(log_path)] == ["before"]


def test_oversized_event_rejected(log_path: Path) -> None:
    log = TelemetryLogger(log_path, max_event_bytes=1000)
    with pytest.raises(ValueError, match="over the limit of 1000 bytes"):
        log.log_event("a", "r", 1, meta={"blob": "x" * 2000})


def test_settings_reject_bad_values() -> None:
    with pytest.raises(ValueError, match="when_full must be one of 'block', 'drop'"):
        LoggerSettings(when_full="wait")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="queue_size must be an int > 0, got 0"):
        LoggerSettings(queue_size=0)
    with pytest.raises(ValueError, match="flush_interval must be a number of seconds"):
        LoggerSettings(flush_interval=float("nan"))


# --- counters, flush and shutdown ----------------------------------------------------


class SlowWrites(FileOps):
    """A disk whose writes take ``delay`` seconds each."""

    def __init__(self, delay: float) -> None:
        self.delay = delay

    def write(self, fd: int, data: memoryview) -> int:
        time.sleep(self.delay)
        return super().write(fd, data)


def test_stats_ledger_balances_while_writing(log_path: Path) -> None:
    log = TelemetryLogger(log_path, file_ops=SlowWrites(0.01), batch_size=50)
    for index in range(2000):
        log.log_event("a", "r", index)
        if index % 97 == 0:
            stats = log.stats()
            assert stats.written + stats.dropped_total + stats.queued == stats.accepted
    assert log.shutdown_sync(timeout=30)

    stats = log.stats()
    assert stats.written == 2000
    assert stats.queued == 0
    assert stats.bytes_written == log_path.stat().st_size


def test_flush_sync_times_out_on_slow_disk(log_path: Path) -> None:
    log = TelemetryLogger(log_path, file_ops=SlowWrites(1.0))
    log.log_event("a", "r", 1)
    started = time.monotonic()
    result = log.flush_sync(timeout=0.1)
    elapsed = time.monotonic() - started

    assert not result
    assert result.pending == 1
    assert elapsed < 0.9
    assert log.shutdown_sync(timeout=5)


@pytest.mark.anyio
async def test_flush_times_out_on_slow_disk(log_path: Path) -> None:
    log = TelemetryLogger(log_path, file_ops=SlowWrites(1.0))
    await log.log_event("a", "r", 1)
    started = time.monotonic()
    result = await log.flush(timeout=0.1)
    shutdown = await log.shutdown(timeout=0.1)
    elapsed = time.monotonic() - started

    assert result.pending == 1
    assert not shutdown
    assert elapsed < 0.9
    assert await log.shutdown(timeout=5)


@pytest.mark.anyio
async def test_async_with_writes_on_exit(log_path: Path) -> None:
    async with TelemetryLogger(log_path) as log:
        for index in range(10):
            await log.log_event("a", "r", index)

    assert len(read_lines(log_path)) == 10


@pytest.mark.anyio
async def test_flush_waits_for_earlier_events(log_path: Path) -> None:
    log = TelemetryLogger(log_path, flush_interval=10.0)
    for index in range(100):
        await log.log_event("a", "r", index)
    result = await log.flush()

    assert result
    assert len(read_lines(log_path)) == 100
    await log.aclose()


@pytest.mark.anyio
async def test_shutdown_twice_is_harmless(log_path: Path) -> None:
    log = TelemetryLogger(log_path)
    await log.log_event("a", "r", 1)
    first = await log.shutdown()
    second = await log.shutdown()
    third = log.shutdown_sync()

    assert first
    assert second
    assert third
    assert len(read_lines(log_path)) == 1


def test_event_after_shutdown_restarts_writer(log_path: Path) -> None:
    log = TelemetryLogger(log_path)
    log.log_event("a", "r", 1)
    log.shutdown_sync()
    log.log_event("late", "r", 2)
    log.shutdown_sync()

    assert [line["agent"] for line in read_lines(log_path)] == ["a", "late"]


def test_drop_policy_counts_drops(log_path: Path) -> None:
    log = TelemetryLogger(
        log_path, file_ops=SlowWrites(0.5), queue_size=10, when_full="drop"
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for index in range(50):
            log.log_event("a", "r", index)
    stats = log.stats()
    assert log.shutdown_sync(timeout=10)

    assert stats.dropped["queue_full"] >= 40 - 10
    assert stats.written + stats.dropped_total + stats.queued == 50
    assert len([w for w in caught if "queue_full" in str(w.message)]) == 1
    assert len(read_lines(log_path)) == 50 - stats.dropped_total


@pytest.mark.anyio
async def test_sync_shim_in_loop_never_blocks(log_path: Path) -> None:
    log = TelemetryLogger(
        log_path, file_ops=SlowWrites(0.5), queue_size=5, block_timeout=30.0
    )
    started = time.monotonic()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for index in range(20):
            log.log_event_sync("a", "r", index)
    elapsed = time.monotonic() - started

    assert elapsed < 5.0
    assert log.stats().dropped["queue_full"] >= 10
    await log.shutdown(timeout=30)


@pytest.mark.anyio
async def test_block_policy_waits_for_space(log_path: Path) -> None:
    log = TelemetryLogger(
        log_path, file_ops=SlowWrites(0.05), queue_size=5, batch_size=1
    )
    for index in range(40):
        await log.log_event("a", "r", index)
    assert await log.shutdown(timeout=30)

    assert log.stats().dropped_total == 0
    assert [line["latency_ms"] for line in read_lines(log_path)] == list(range(40))


@pytest.mark.anyio
async def test_module_functions_use_default(
    default_logger: TelemetryLogger, log_path: Path
) -> None:
    await telemetry.log_event("a", telemetry.new_run_id(), 1)
    telemetry.log_event_sync("b", telemetry.new_run_id(), 2)
    assert await telemetry.flush()

    assert telemetry.get_logger() is default_logger
    assert telemetry.stats().written == 2
    assert [line["agent"] for line in read_lines(log_path)] == ["a", "b"]


@pytest.mark.anyio
async def test_many_tasks_interleave_with_loop(log_path: Path) -> None:
    async with TelemetryLogger(log_path) as log:

        async def agent(number: int) -> None:
            for index in range(200):
                await log.log_event(f"agent-{number}", "r", index)

        async with anyio.create_task_group() as group:
            for number in range(20):
                group.start_soon(agent, number)

    assert len(read_lines(log_path)) == 4000


@pytest.mark.anyio
async def test_writer_keeps_up_with_busy_loop(log_path: Path) -> None:
    # Tasks that always have work keep the GIL from the writer thread, because
    # the loop lets go of it only for an instant per turn. The writer must still
    # write while the loop is busy, not only when it next goes idle.
    log = TelemetryLogger(log_path, batch_size=256, flush_interval=0.02)
    written_while_busy = 0

    async def agent(number: int) -> None:
        nonlocal written_while_busy
        for index in range(500):
            await log.log_event(f"agent-{number}", "r", index)
            await anyio.sleep(0)
        written_while_busy = max(written_while_busy, log.stats().written)

    async with anyio.create_task_group() as group:
        for number in range(40):
            group.start_soon(agent, number)
    await log.shutdown()

    assert written_while_busy > 0, "nothing was written while the loop was busy"


@pytest.mark.anyio
async def test_writer_keeps_up_without_yields(
    log_path: Path,
) -> None:
    log = TelemetryLogger(log_path, batch_size=64, flush_interval=0.02)
    await log.log_event("agent", "r", 1.0)  # Starts the writer.
    deadline = time.monotonic() + 5
    while log.stats().written == 0 and time.monotonic() < deadline:
        for index in range(64):
            log.log_event("agent", "r", index)

    written = log.stats().written
    await log.shutdown()

    assert written > 0, "the writer wrote nothing while the producer ran"


class CountingGate:
    """Wraps the writer's round gate and counts the waits for a round."""

    def __init__(self, gate: Any) -> None:
        self.gate = gate
        self.waits = 0
        self.waiting = 0
        self.max_waiting = 0

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if not blocking:
            return bool(self.gate.acquire(blocking, timeout))

        self.waits += 1
        self.waiting += 1
        self.max_waiting = max(self.max_waiting, self.waiting)
        try:
            return bool(self.gate.acquire(blocking, timeout))
        finally:
            self.waiting -= 1

    def locked(self) -> bool:
        return bool(self.gate.locked())

    def release(self) -> None:
        self.gate.release()


@pytest.mark.anyio
async def test_stuck_disk_pauses_handoffs(log_path: Path) -> None:
    # A writer stuck in a slow write() cannot use the GIL it is lent, so after
    # a wait without progress the producers stop waiting for it for a while,
    # however short flush_interval is.
    log = TelemetryLogger(
        log_path, file_ops=SlowWrites(0.2), batch_size=16, flush_interval=0.001
    )
    gate = CountingGate(log._round_done)
    log._round_done = gate  # type: ignore[assignment]

    for index in range(256 * 50):
        await log.log_event("agent", "r", index)
    assert await log.shutdown(timeout=30)

    assert gate.waits <= 10
    assert log.stats().written == 256 * 50


def test_threads_never_wait_for_writer(log_path: Path) -> None:
    # Outside an event loop nothing starves the writer, so producers never wait.
    log = TelemetryLogger(log_path, batch_size=1)
    gate = CountingGate(log._round_done)
    log._round_done = gate  # type: ignore[assignment]

    def produce() -> None:
        for index in range(2000):
            log.log_event_sync("agent", "r", index)

    thread = threading.Thread(target=produce)
    thread.start()
    thread.join()
    assert log.shutdown_sync(timeout=10)

    assert gate.waits == 0
    assert log.stats().written == 2000


@pytest.mark.anyio
async def test_logging_signal_handlers_do_not_nest(log_path: Path) -> None:
    # A handler that logs may run while this thread waits for the writer. It
    # must not wait again, because handlers on a 1 ms timer would then nest
    # until the stack overflows.
    log = TelemetryLogger(log_path, batch_size=2)
    gate = CountingGate(log._round_done)
    log._round_done = gate  # type: ignore[assignment]
    depth = deepest = 0

    def handler(signum: int, frame: object) -> None:
        nonlocal depth, deepest
        depth += 1
        deepest = max(deepest, depth)
        try:
            log.log_event_sync("handler", "r", 1.0)
        finally:
            depth -= 1

    previous = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, 0.001, 0.001)
    try:
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            await log.log_event("loop", "r", 1.0)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert await log.shutdown(timeout=10)
    stats = log.stats()

    assert gate.waits > 0
    assert gate.max_waiting == 1
    # On a loaded machine a handler can be descheduled past the next tick, so a
    # few levels of nesting happen without any wait. The stack must stay shallow.
    assert deepest <= 50
    assert stats.written == stats.accepted
    assert len(read_lines(log_path)) == stats.written


def test_new_run_id_is_uuid4() -> None:
    import uuid

    run_id = telemetry.new_run_id()

    assert uuid.UUID(run_id).version == 4
    assert run_id != telemetry.new_run_id()


def test_all_is_sorted_and_complete() -> None:
    public = {
        name
        for name, value in vars(telemetry).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }

    assert telemetry.__all__ == sorted(telemetry.__all__)
    assert set(telemetry.__all__) == public - {"annotations"}
    assert logger.__all__ == sorted(logger.__all__)


class BrokenWrites(FileOps):
    """A FileOps whose first write raises something other than OSError."""

    def __init__(self) -> None:
        self.calls = 0

    def write(self, fd: int, data: memoryview) -> int:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("bug in a custom FileOps")
        return super().write(fd, data)


def test_writer_survives_unexpected_error(log_path: Path) -> None:
    log = TelemetryLogger(log_path, file_ops=BrokenWrites())
    log.log_event("a", "r", 1)
    result = log.shutdown_sync(timeout=10)

    assert result
    assert log.stats().write_errors == 1
    assert log.stats().last_error == "RuntimeError: bug in a custom FileOps"
    assert len(read_lines(log_path)) == 1
