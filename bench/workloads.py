"""Run one contender on one workload, in a process of its own, and measure it.

The parent (``bench.run``) starts ``python -m bench.workloads SPEC`` once per
contender and workload, so imports and peak memory belong to that run alone. The
child prints one JSON object: end-to-end time until every event is on disk, the
caller's latency per call, the event loop's largest stall and memory.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import resource
import sys
import threading
import time
import traceback
import uuid
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from .contenders import AsyncLog, Contender, SyncLog, make_contender

__all__ = [
    "FULL",
    "QUICK",
    "RunResult",
    "Workload",
    "field_pool",
    "main",
    "measure",
]

MAX_SAMPLES = 100_000
"""Maximum latency samples kept per run; beyond that, calls are sampled evenly."""

_CAP_CHECK_EVERY = 1024
"""Events between two looks at the clock by a capped producer."""


@dataclass(frozen=True)
class Workload:
    """How many producers log how many events, and how they behave between events.

    Attributes:
        key: Short name used on the command line and in the report.
        title: One line for the report.
        producers: Concurrent tasks, or threads when ``threads`` is set.
        events_each: Events each producer logs.
        threads: Producers are threads calling the sync API, not async tasks.
        yields: Each task awaits ``anyio.sleep(0)`` between events.
        cap_s: Producers stop after this many seconds, or never when None.
    """

    key: str
    title: str
    producers: int
    events_each: int
    threads: bool = False
    yields: bool = False
    cap_s: float | None = None

    @property
    def events(self) -> int:
        """Return the number of events the workload logs when nothing stops it."""
        return self.producers * self.events_each


def _workloads(
    tasks_a: int,
    events_a: int,
    events_b: int,
    events_c: int,
    events_d: int,
    cap_s: float,
) -> dict[str, Workload]:
    return {
        "a": Workload(
            "a",
            f"{tasks_a} tasks x {events_a:,} events, `anyio.sleep(0)` between events",
            tasks_a,
            events_a,
            yields=True,
        ),
        "b": Workload("b", f"1 task x {events_b:,} events", 1, events_b),
        "c": Workload(
            "c",
            f"burst of {10 * events_c:,} events from 10 tasks that never yield "
            f"(cap {cap_s:g} s)",
            10,
            events_c,
            cap_s=cap_s,
        ),
        "d": Workload(
            "d", f"sync API from 8 threads x {events_d:,} events", 8, events_d, True
        ),
    }


FULL = _workloads(100, 1_000, 100_000, 100_000, 12_500, cap_s=60.0)
"""The workloads of a full run."""

QUICK = _workloads(20, 250, 10_000, 10_000, 1_000, cap_s=1.5)
"""Smaller workloads for a run that finishes in under a minute."""


@dataclass
class RunResult:
    """Measurements of one run of one contender on one workload.

    Attributes:
        contender: Contender name.
        workload: Workload key.
        backend: Event loop, or "threads" for the sync workload.
        events: Calls that returned; fewer than planned when capped.
        planned: Calls planned.
        capped: Producers stopped at the time cap before logging everything.
        logging_s: Seconds from the first call until every producer finished.
        total_s: Seconds from the first call until shutdown returned.
        p50_us: Median caller latency per call, µs.
        p99_us: 99th percentile caller latency per call, µs.
        max_us: Largest caller latency of any call, µs.
        stall_ms: Largest gap between ticks of a 1 ms ticker, ms; None without a
            loop.
        rss_before_mb: Resident memory when the first call starts, MB.
        rss_peak_mb: Peak resident memory of the process, MB.
        error: What went wrong, or None.
    """

    contender: str
    workload: str
    backend: str
    events: int = 0
    planned: int = 0
    capped: bool = False
    logging_s: float = math.nan
    total_s: float = math.nan
    p50_us: float = math.nan
    p99_us: float = math.nan
    max_us: float = math.nan
    stall_ms: float | None = None
    rss_before_mb: float = math.nan
    rss_peak_mb: float = math.nan
    error: str | None = None

    @property
    def throughput(self) -> float:
        """Return events per second until everything was on disk."""
        return self.events / self.total_s if self.total_s > 0 else math.nan


def field_pool(size: int = 4096, seed: int = 20261204) -> list[tuple[Any, ...]]:
    """Return ``size`` realistic argument tuples for one event each, reproducibly.

    Eight agents; one run in ten has no cost, one in twenty an error, one in three
    no reward, as an eval run would have.
    """
    rng = random.Random(seed)
    agents = [f"agent-{number}" for number in range(8)]
    pool = []
    for index in range(size):
        run_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        pool.append(
            (
                agents[index % len(agents)],
                run_id,
                round(rng.uniform(50.0, 5000.0), 3),
                round(rng.uniform(0.0, 0.05), 6) if index % 10 else None,
                rng.randrange(100, 8000),
                rng.randrange(10, 2000),
                "TimeoutError: upstream took longer than 30 s"
                if index % 20 == 0
                else None,
                round(rng.random(), 4) if index % 3 else None,
            )
        )
    return pool


class _Recorder:
    """Preallocated latency samples, so recording does not grow memory mid-run."""

    def __init__(self, workload: Workload) -> None:
        self.stride = max(1, math.ceil(workload.events / MAX_SAMPLES))
        self.per_producer = math.ceil(workload.events_each / self.stride)
        self.slots = [
            array("q", bytes(8 * self.per_producer)) for _ in range(workload.producers)
        ]
        self.done = [0] * workload.producers
        self.worst = [0] * workload.producers

    def summarize(self, result: RunResult) -> None:
        samples: list[int] = []
        for slot, done in zip(self.slots, self.done, strict=True):
            samples.extend(slot[: math.ceil(done / self.stride)])
        samples.sort()
        result.events = sum(self.done)
        if samples:
            result.p50_us = samples[(len(samples) - 1) // 2] / 1000
            result.p99_us = samples[math.floor(0.99 * (len(samples) - 1))] / 1000
            result.max_us = max(self.worst) / 1000


async def _run_tasks(
    contender: Contender, workload: Workload, path: Path, result: RunResult
) -> None:
    log = await contender.astart(path)
    pool = field_pool()
    recorder = _Recorder(workload)
    ticker = _Ticker()
    deadline = math.inf

    async def produce(index: int) -> None:
        await _produce(log, workload, pool, recorder, index, deadline)

    result.rss_before_mb = _rss_now_mb()
    start = time.perf_counter()
    if workload.cap_s is not None:
        deadline = start + workload.cap_s
    async with anyio.create_task_group() as outer:
        outer.start_soon(ticker.run)
        async with anyio.create_task_group() as producers:
            for index in range(workload.producers):
                producers.start_soon(produce, index)
        result.logging_s = time.perf_counter() - start
        ticker.running = False
    await contender.astop()
    result.total_s = time.perf_counter() - start

    result.stall_ms = ticker.worst * 1000
    recorder.summarize(result)


async def _produce(
    log: AsyncLog,
    workload: Workload,
    pool: list[tuple[Any, ...]],
    recorder: _Recorder,
    index: int,
    deadline: float,
) -> None:
    clock = time.perf_counter_ns
    samples, stride = recorder.slots[index], recorder.stride
    size, offset = len(pool), index * 997
    yields, capped = workload.yields, deadline != math.inf
    worst = done = 0

    for number in range(workload.events_each):
        fields = pool[(offset + number) % size]
        start = clock()
        await log(*fields)
        took = clock() - start
        done = number + 1
        if took > worst:
            worst = took
        if number % stride == 0:
            samples[number // stride] = took
        if yields:
            await anyio.sleep(0)
        if capped and number % _CAP_CHECK_EVERY == 0 and time.perf_counter() > deadline:
            break

    recorder.done[index] = done
    recorder.worst[index] = worst


def _run_threads(
    contender: Contender, workload: Workload, path: Path, result: RunResult
) -> None:
    log = contender.start(path)
    pool = field_pool()
    recorder = _Recorder(workload)
    ready = threading.Barrier(workload.producers + 1)
    threads = [
        threading.Thread(
            target=_produce_sync, args=(log, workload, pool, recorder, index, ready)
        )
        for index in range(workload.producers)
    ]
    for thread in threads:
        thread.start()

    result.rss_before_mb = _rss_now_mb()
    ready.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    result.logging_s = time.perf_counter() - start
    contender.stop()
    result.total_s = time.perf_counter() - start

    recorder.summarize(result)


def _produce_sync(
    log: SyncLog,
    workload: Workload,
    pool: list[tuple[Any, ...]],
    recorder: _Recorder,
    index: int,
    ready: threading.Barrier,
) -> None:
    clock = time.perf_counter_ns
    samples, stride = recorder.slots[index], recorder.stride
    size, offset = len(pool), index * 997
    worst = 0

    ready.wait()
    for number in range(workload.events_each):
        fields = pool[(offset + number) % size]
        start = clock()
        log(*fields)
        took = clock() - start
        if took > worst:
            worst = took
        if number % stride == 0:
            samples[number // stride] = took

    recorder.done[index] = workload.events_each
    recorder.worst[index] = worst


class _Ticker:
    """A task that sleeps 1 ms at a time and keeps the longest gap it saw, s."""

    def __init__(self) -> None:
        self.running = True
        self.worst = 0.0

    async def run(self) -> None:
        last = time.perf_counter()
        while self.running:
            await anyio.sleep(0.001)
            now = time.perf_counter()
            self.worst = max(self.worst, now - last)
            last = now


def _rss_now_mb() -> float:
    # Imported here, so the report and the file check load without the bench extra.
    import psutil  # type: ignore[import-untyped]

    return float(psutil.Process().memory_info().rss) / 2**20


def _rss_peak_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def measure(
    contender: Contender, workload: Workload, path: Path, backend: str
) -> RunResult:
    """Run ``workload`` against ``contender`` writing to ``path`` and measure it.

    Args:
        contender: A contender not started yet.
        workload: What to log.
        path: The file to log to; it must not exist yet.
        backend: "asyncio" or "trio"; ignored by thread workloads.
    """
    result = RunResult(
        contender.name,
        workload.key,
        "threads" if workload.threads else backend,
        planned=workload.events,
    )
    try:
        if workload.threads:
            _run_threads(contender, workload, path, result)
        else:
            anyio.run(_run_tasks, contender, workload, path, result, backend=backend)
    except Exception as exc:
        result.error = f"{type(exc).__name__}: {exc}"
        traceback.print_exc()
    result.capped = result.events < workload.events
    result.rss_peak_mb = _rss_peak_mb()
    return result


def main(argv: list[str] | None = None) -> int:
    """Run one measurement described by the JSON spec in ``argv[0]``; print JSON."""
    spec = json.loads((argv if argv is not None else sys.argv[1:])[0])
    workload = Workload(**spec["workload"])
    contender = make_contender(
        spec["contender"],
        fast_encoder=spec["fast_encoder"],
        telemetry=spec["settings"],
    )
    result = measure(contender, workload, Path(spec["path"]), spec["backend"])
    print(json.dumps(dataclasses.asdict(result)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
