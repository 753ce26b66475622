"""Soak the logger: a steady event rate under random disk faults, for minutes.

Run ``python -m bench.soak --minutes 10 --rate 2000``. Async tasks and one thread
log at a steady combined rate while the writer's system calls fail, come up short
and stall at random (see ``tests/faults.py``). The file rotates as it grows, and
a task flushes every second. The run passes when:

- resident memory (RSS) and open file descriptors stay flat after warm-up;
- every stats() snapshot balances, ``written + dropped + queued == accepted``;
- after shutdown, the valid lines across the rotated set number exactly
  ``written``, with no event twice.

Progress goes to stderr, the Markdown report to stdout; the exit status is 0 when
every check passed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import importlib.metadata
import os
import platform
import random
import statistics
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil  # type: ignore[import-untyped]

from telemetry import FlushResult, LoggerStats, TelemetryLogger
from telemetry.logread import read_events
from tests.faults import RandomFaultOps

__all__ = ["Sample", "SoakResult", "checks", "machine_line", "main", "report", "soak"]

THREAD_SHARE = 0.25
"""Part of the rate logged by a plain thread through the sync shim."""

RSS_SLACK_MIB = 8.0
"""Growth of RSS allowed from warm-up to the end, or 10 %, whichever is larger."""

FD_SLACK = 2
"""Descriptors allowed over the warm-up count: the log file and the rotation lock."""


@dataclass(frozen=True)
class Sample:
    """One look at the process and the logger during the run.

    Attributes:
        elapsed_s: Seconds since the start.
        rss_mib: Resident memory, MiB.
        open_fds: Open file descriptors.
        stats: The logger's counters.
    """

    elapsed_s: float
    rss_mib: float
    open_fds: int
    stats: LoggerStats


@dataclass
class SoakResult:
    """Figures measured by one soak run.

    Attributes:
        samples: Periodic samples, in time order.
        final: The result of the closing shutdown.
        stats: The counters after shutdown.
        lines: Valid event lines across the rotated set.
        duplicates: Events found more than once.
        skipped: Lines the reader skipped (fragments left by failed writes).
        files: Files in the rotated set.
        flushes: Flushes called.
        incomplete_flushes: Flushes whose result was false.
        max_flush_ms: Maximum duration of a flush call, ms.
        max_loop_lag_ms: Maximum delay of a 10 ms timer on the event loop, ms.
        unbalanced: Snapshots in which the ledger did not balance.
        fault_hits: Injected faults by kind.
    """

    samples: list[Sample] = field(default_factory=list)
    final: FlushResult | None = None
    stats: LoggerStats | None = None
    lines: int = 0
    duplicates: int = 0
    skipped: int = 0
    files: int = 0
    flushes: int = 0
    incomplete_flushes: int = 0
    max_flush_ms: float = 0.0
    max_loop_lag_ms: float = 0.0
    unbalanced: int = 0
    fault_hits: dict[str, int] = field(default_factory=dict)


def soak(
    folder: Path,
    *,
    seconds: float,
    rate: float,
    random_state: int,
    sample_every: float = 5.0,
) -> SoakResult:
    """Log ``rate`` events a second for ``seconds`` under random faults.

    Args:
        folder: Where the log and its rotated siblings go.
        seconds: Length of the run, s.
        rate: Events per second, thread and tasks together.
        random_state: Makes the faults and event sizes repeatable.
        sample_every: Seconds between samples of memory, descriptors and stats.

    Returns:
        The samples and the final checks' figures.
    """
    rng = random.Random(random_state)
    ops = RandomFaultOps(
        random.Random(rng.random()),
        failure_rate=0.02,
        short_rate=0.02,
        stall_rate=0.002,
        stall_seconds=0.3,
        outage_rate=0.003,
        outage_calls=30,
    )
    log = TelemetryLogger(
        folder / "events.jsonl",
        file_ops=ops,
        fsync="interval",
        retry_timeout=1.0,
        rotate_bytes=32 * 1024 * 1024,
        queue_size=50_000,
    )
    result = SoakResult()

    with warnings.catch_warnings():
        # Drops are expected under injected outages; the ledger counts them.
        warnings.simplefilter("ignore", RuntimeWarning)
        asyncio.run(_drive(log, result, seconds, rate, rng, sample_every))

    result.stats = log.stats()
    result.fault_hits = dict(ops.hits)
    _count_lines(folder, result)
    return result


async def _drive(
    log: TelemetryLogger,
    result: SoakResult,
    seconds: float,
    rate: float,
    rng: random.Random,
    sample_every: float,
) -> None:
    start = time.monotonic()
    stop = threading.Event()
    sequence = _Sequence()
    thread = threading.Thread(
        target=_thread_producer,
        args=(log, rate * THREAD_SHARE, start, stop, sequence, random.Random(1)),
        daemon=True,
    )
    thread.start()

    tasks = [
        asyncio.create_task(
            _task_producer(log, rate * (1 - THREAD_SHARE), start, sequence, rng)
        ),
        asyncio.create_task(_measure_loop_lag(result)),
        asyncio.create_task(_flush_every_second(log, result)),
        asyncio.create_task(_sample(log, result, start, sample_every)),
    ]
    await asyncio.sleep(seconds)

    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    stop.set()
    await asyncio.to_thread(thread.join, 30.0)
    result.final = await log.shutdown(timeout=60.0)
    result.samples.append(_take_sample(log, start))


class _Sequence:
    """A counter shared by the thread and the tasks, so every event is unique."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = 0

    def take(self) -> int:
        with self._lock:
            value = self._next
            self._next += 1
            return value


def _event_meta(sequence: _Sequence, rng: random.Random) -> dict[str, object]:
    return {"seq": sequence.take(), "pad": "p" * rng.randrange(0, 600)}


async def _task_producer(
    log: TelemetryLogger,
    rate: float,
    start: float,
    sequence: _Sequence,
    rng: random.Random,
) -> None:
    sent = 0
    while True:
        due = int((time.monotonic() - start) * rate) - sent
        for _ in range(due):
            meta = _event_meta(sequence, rng)
            await log.log_event("soak-task", "run", rng.random() * 100, meta=meta)
        sent += due
        await asyncio.sleep(0.01)


def _thread_producer(
    log: TelemetryLogger,
    rate: float,
    start: float,
    stop: threading.Event,
    sequence: _Sequence,
    rng: random.Random,
) -> None:
    sent = 0
    while not stop.wait(0.01):
        due = int((time.monotonic() - start) * rate) - sent
        for _ in range(due):
            meta = _event_meta(sequence, rng)
            log.log_event_sync("soak-thread", "run", rng.random() * 100, meta=meta)
        sent += due


async def _measure_loop_lag(result: SoakResult) -> None:
    while True:
        before = time.monotonic()
        await asyncio.sleep(0.01)
        lag_ms = (time.monotonic() - before - 0.01) * 1000
        result.max_loop_lag_ms = max(result.max_loop_lag_ms, lag_ms)


async def _flush_every_second(log: TelemetryLogger, result: SoakResult) -> None:
    while True:
        await asyncio.sleep(1.0)
        before = time.monotonic()
        flushed = await log.flush(timeout=2.0)
        elapsed_ms = (time.monotonic() - before) * 1000

        result.flushes += 1
        result.incomplete_flushes += not flushed
        result.max_flush_ms = max(result.max_flush_ms, elapsed_ms)


async def _sample(
    log: TelemetryLogger, result: SoakResult, start: float, every: float
) -> None:
    while True:
        sample = _take_sample(log, start)
        result.samples.append(sample)
        result.unbalanced += not _balances(sample.stats)
        print(
            f"{sample.elapsed_s:7.1f} s  rss {sample.rss_mib:6.1f} MiB  "
            f"fds {sample.open_fds:3d}  accepted {sample.stats.accepted:9d}  "
            f"written {sample.stats.written:9d}  "
            f"dropped {sample.stats.dropped_total:6d}  "
            f"queued {sample.stats.queued:6d}",
            file=sys.stderr,
            flush=True,
        )
        await asyncio.sleep(every)


def _take_sample(log: TelemetryLogger, start: float) -> Sample:
    process = psutil.Process()
    return Sample(
        elapsed_s=time.monotonic() - start,
        rss_mib=process.memory_info().rss / 2**20,
        open_fds=process.num_fds(),
        stats=log.stats(),
    )


def _balances(stats: LoggerStats) -> bool:
    return stats.written + stats.dropped_total + stats.queued == stats.accepted


def _count_lines(folder: Path, result: SoakResult) -> None:
    seen: set[int] = set()
    stream = read_events(folder / "events.jsonl")
    for event in stream:
        sequence = event["meta"]["seq"]
        result.duplicates += sequence in seen
        seen.add(sequence)
        result.lines += 1
    result.skipped = stream.report.skipped_total
    result.files = len(stream.report.files)


# --- verdict and report --------------------------------------------------------------


def checks(result: SoakResult) -> dict[str, bool]:
    """Return each pass/fail check of the run by name."""
    stats = result.stats
    assert stats is not None
    warm = [s for s in result.samples if s.elapsed_s >= _warm_up(result)]
    head = warm[: max(1, len(warm) // 10)]
    tail = warm[-max(1, len(warm) // 10) :]
    rss_start = statistics.median(s.rss_mib for s in head)
    rss_end = statistics.median(s.rss_mib for s in tail)
    fds = [s.open_fds for s in warm]

    return {
        "RSS flat": rss_end - rss_start <= max(RSS_SLACK_MIB, rss_start * 0.10),
        "open fds flat": max(fds) - fds[0] <= FD_SLACK,
        "every snapshot balances": result.unbalanced == 0,
        "final ledger balances": _balances(stats) and stats.queued == 0,
        "lines in the files == written": result.lines == stats.written,
        "no event twice": result.duplicates == 0,
    }


def _warm_up(result: SoakResult) -> float:
    # The first tenth of the run fills the allocator's pools and the thread pool.
    return result.samples[-1].elapsed_s * 0.1


def report(result: SoakResult, minutes: float, rate: float, machine: str) -> str:
    """Render the run as Markdown: what ran, what was measured, each check."""
    stats = result.stats
    assert stats is not None
    warm = [s for s in result.samples if s.elapsed_s >= _warm_up(result)]
    hits = ", ".join(f"{n} {kind}" for kind, n in sorted(result.fault_hits.items()))
    dropped = ", ".join(f"{n} {why}" for why, n in sorted(stats.dropped.items()))
    lines = [
        f"`python -m bench.soak --minutes {minutes:g} --rate {rate:g}`",
        "",
        f"Machine: {machine}.",
        "",
        "| measure | value |",
        "| --- | --- |",
        f"| events accepted | {stats.accepted:,} |",
        f"| written | {stats.written:,} |",
        f"| dropped | {stats.dropped_total:,} ({dropped or 'none'}) |",
        f"| valid lines in {result.files} files | {result.lines:,} |",
        f"| unreadable fragments skipped | {result.skipped:,} |",
        f"| injected faults | {hits or 'none'} |",
        f"| write errors counted | {stats.write_errors:,} |",
        f"| durability unknown (failed fsync) | {stats.durability_unknown:,} |",
        f"| flushes (incomplete) | {result.flushes} ({result.incomplete_flushes}) |",
        f"| longest flush call | {result.max_flush_ms:.0f} ms |",
        f"| longest event-loop timer delay | {result.max_loop_lag_ms:.1f} ms |",
        f"| RSS after warm-up, min-max | {min(s.rss_mib for s in warm):.1f}-"
        f"{max(s.rss_mib for s in warm):.1f} MiB |",
        f"| open fds after warm-up, min-max | {min(s.open_fds for s in warm)}-"
        f"{max(s.open_fds for s in warm)} |",
        "",
    ]
    for name, passed in checks(result).items():
        lines.append(f"- {name}: {'pass' if passed else 'FAIL'}")
    return "\n".join(lines)


def machine_line() -> str:
    """Describe the CPU, system, Python and the logger's dependencies, and the date."""
    cpu = platform.processor() or "unknown CPU"
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.partition(":")[2].strip()
                break
    versions = ", ".join(
        f"{package} {importlib.metadata.version(package)}"
        for package in ("orjson", "anyio")
    )
    today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    return (
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; {versions}; {today}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the soak from the command line; return 0 when every check passed."""
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument(
        "--minutes", type=float, default=10.0, help="run length, minutes"
    )
    parser.add_argument("--rate", type=float, default=2000.0, help="events per second")
    parser.add_argument(
        "--random-state", type=int, default=1, help="replays the same faults"
    )
    parser.add_argument(
        "--sample-every", type=float, default=5.0, help="seconds between samples"
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="soak-") as folder:
        result = soak(
            Path(folder),
            seconds=args.minutes * 60,
            rate=args.rate,
            random_state=args.random_state,
            sample_every=args.sample_every,
        )

    print(report(result, args.minutes, args.rate, machine_line()))
    return 0 if all(checks(result).values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
