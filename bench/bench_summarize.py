"""Time telemetry.summarize against DuckDB on the same log, and check they agree.

Usage: ``python bench/bench_summarize.py [--quick] [--events N] [--workers N]``.

Writes (or reuses) a log of realistic events in the temp folder: six agents,
about 3% errors, costs missing on 10% of runs, rewards on most runs, and a
few decision events. Then times ``summarize`` with one worker and with one
per core, and DuckDB's ``read_json_auto`` with the same figures grouped by
agent (median of 3 runs each, wall and CPU time). Checks that counts, sums
and the p50/p95/p99 latencies agree (DuckDB's ``quantile_cont`` is numpy's
linear definition too), and prints a Markdown table with the machine it ran
on.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import random
import resource
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb
import orjson

from telemetry.summarize import Summary, summarize

AGENTS = ("planner", "coder", "reviewer", "search", "summarizer", "router")
MODELS = ("gpt-4o-mini", "claude-3-5-haiku", "llama-3.1-70b")
REPEATS = 3

DUCKDB_QUERY = """
select
    agent,
    count(*) as runs,
    count(error) as errors,
    quantile_cont(latency_ms, [0.5, 0.95, 0.99]) as latency_q,
    max(latency_ms) as latency_max,
    sum(cost_usd) as cost_total,
    count(cost_usd) as cost_count,
    sum(tokens_in) as tokens_in,
    sum(tokens_out) as tokens_out,
    avg(reward) as reward_mean,
    count(reward) as reward_count
from read_json_auto(?)
where kind is null or kind = 'run'
group by agent
order by agent
"""


def write_events(path: Path, count: int, seed: int = 7) -> None:
    """Write ``count`` realistic events (and 0.1% decision events) to ``path``."""
    rng = random.Random(seed)
    start = datetime(2026, 12, 1, tzinfo=timezone.utc)
    with path.open("wb") as file:
        for index in range(count):
            ts = start + timedelta(milliseconds=37 * index)
            file.write(orjson.dumps(_event(rng, ts)) + b"\n")


def _event(rng: random.Random, ts: datetime) -> dict[str, Any]:
    agent = rng.choice(AGENTS)
    error = "TimeoutError: upstream timed out" if rng.random() < 0.03 else None
    event: dict[str, Any] = {
        "ts": ts.isoformat(),
        "agent": agent,
        "run_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "latency_ms": round(rng.lognormvariate(6.0, 0.8), 3),
        "cost_usd": None if rng.random() < 0.1 else round(rng.random() / 100, 6),
        "tokens_in": rng.randint(100, 4000),
        "tokens_out": rng.randint(10, 800),
        "error": error,
        "reward": None if error or rng.random() < 0.2 else round(rng.random(), 4),
        "model": rng.choice(MODELS),
        "case_id": f"case-{rng.randrange(100):03d}",
    }
    if rng.random() < 0.001:
        event["kind"] = "decision"
        event["meta"] = {"action": "keep"}
    return event


def median_time(run: Callable[[], Any]) -> tuple[float, float, Any]:
    """Return the median wall and CPU times (s) of ``REPEATS`` calls, and a result.

    CPU time counts every thread and finished child process, so it stays
    meaningful when other programs share the cores and wall time does not.
    """
    walls, cpus = [], []
    result = None
    for _ in range(REPEATS):
        cpu_started = _cpu_seconds()
        started = time.perf_counter()
        result = run()
        walls.append(time.perf_counter() - started)
        cpus.append(_cpu_seconds() - cpu_started)
    return statistics.median(walls), statistics.median(cpus), result


def _cpu_seconds() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def duckdb_figures(path: Path) -> list[tuple[Any, ...]]:
    """Return DuckDB's per-agent figures, in the column order of the query."""
    return duckdb.execute(DUCKDB_QUERY, [str(path)]).fetchall()


def check_agreement(summary: Summary, rows: list[tuple[Any, ...]]) -> list[str]:
    """Return the figures where summarize and DuckDB disagree (none is good)."""
    problems = []
    groups = {group.group: group for group in summary.groups}
    if sorted(groups) != [row[0] for row in rows]:
        return [f"groups differ: {sorted(groups)} vs {[row[0] for row in rows]}"]

    for agent, runs, errors, q, top, cost, costs, t_in, t_out, reward, rewards in rows:
        group = groups[agent]
        exact = {
            "runs": (group.runs, runs),
            "errors": (group.errors, errors),
            "cost_count": (group.cost_count, costs),
            "tokens_in": (group.tokens_in, t_in),
            "tokens_out": (group.tokens_out, t_out),
            "reward_count": (group.reward_count, rewards),
            "latency_max_ms": (group.latency_max_ms, top),
        }
        close: dict[str, tuple[float | None, float | None]] = {
            "latency_p50_ms": (group.latency_p50_ms, q[0]),
            "latency_p95_ms": (group.latency_p95_ms, q[1]),
            "latency_p99_ms": (group.latency_p99_ms, q[2]),
            "cost_total_usd": (group.cost_total_usd, cost),
            "reward_mean": (group.reward_mean, reward),
        }
        for name, (ours, theirs) in exact.items():
            if ours != theirs:
                problems.append(f"{agent} {name}: {ours} vs {theirs}")
        for name, (value, reference) in close.items():
            if not math.isclose(value or 0.0, reference or 0.0, rel_tol=1e-9):
                problems.append(f"{agent} {name}: {value} vs {reference}")
    return problems


def machine_line() -> str:
    """Return CPU model and cores, Python, orjson and duckdb versions, date."""
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return (
        f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}; "
        f"orjson {orjson.__version__}; duckdb {duckdb.__version__}; "
        f"{date.today().isoformat()}"
    )


def main() -> int:
    """Run the benchmark and print its Markdown table; 1 if results disagree."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 events")
    parser.add_argument("--events", type=int, help="events in the log")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="parallel workers"
    )
    args = parser.parse_args()
    count = args.events or (100_000 if args.quick else 1_000_000)

    folder = Path(tempfile.gettempdir()) / "agent-telemetry-bench"
    folder.mkdir(exist_ok=True)
    path = folder / f"events-{count}.jsonl"
    if not path.exists():
        print(f"writing {count:,} events to {path}", file=sys.stderr)
        write_events(path, count)

    one = median_time(lambda: summarize(path))
    many = median_time(lambda: summarize(path, workers=args.workers))
    duck = median_time(lambda: duckdb_figures(path))
    problems = check_agreement(one[2], duck[2]) + check_agreement(many[2], duck[2])

    size_mb = path.stat().st_size / 1e6
    print(f"{count:,} events, {size_mb:.0f} MB; median of {REPEATS} runs")
    print(machine_line())
    print()
    print("| tool | wall (s) | CPU (s) | events/s (wall) | wall vs DuckDB |")
    print("|---|---:|---:|---:|---:|")
    for name, (wall, cpu, _) in (
        ("summarize, 1 worker", one),
        (f"summarize, {args.workers} workers", many),
        (f"DuckDB read_json_auto, {duckdb_threads()} threads", duck),
    ):
        rate = count / wall
        ratio = wall / duck[0]
        print(f"| {name} | {wall:.2f} | {cpu:.2f} | {rate:,.0f} | {ratio:.1f}x |")
    print()
    if problems:
        print("DISAGREE: " + "; ".join(problems))
        return 1
    print("agree: runs, errors, cost and reward counts, token sums, max latency")
    print("exactly; p50/p95/p99 latency, cost total and mean reward to 1e-9")
    return 0


def duckdb_threads() -> int:
    """Return how many threads DuckDB uses."""
    row = duckdb.execute("select current_setting('threads')").fetchone()
    return int(row[0]) if row else 1


if __name__ == "__main__":
    sys.exit(main())
