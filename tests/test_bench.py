"""The benchmark's own checks: the file check and the targets table."""

from __future__ import annotations

from pathlib import Path

import orjson

from bench.contenders import encoder_costs
from bench.processes import ROOT, run_once
from bench.report import Targets, render, summarize
from bench.run import check_file
from bench.workloads import FULL, RunResult, field_pool
from telemetry._event import CORE_FIELDS

EVENT = {
    "ts": "2026-12-04T16:00:00.000000+00:00",
    "agent": "a",
    "run_id": "r",
    "latency_ms": 1.0,
    "cost_usd": None,
    "tokens_in": None,
    "tokens_out": None,
    "error": None,
    "reward": None,
}
LINE = orjson.dumps(EVENT) + b"\n"


def test_check_file_accepts_exact_count(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(LINE * 3)

    check, mean = check_file(path, 3)

    assert check == "ok"
    assert mean == len(LINE)


def test_check_file_flags_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(LINE * 2 + LINE[:20])

    assert check_file(path, 3)[0] == "2 valid of 3 lines, 3 logged"


def test_check_file_flags_key_order(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    reordered = dict(reversed(list(EVENT.items())))
    path.write_bytes(LINE + orjson.dumps(reordered) + b"\n")

    assert tuple(EVENT) == CORE_FIELDS
    assert check_file(path, 2)[0] == "1 valid of 2 lines, 2 logged"


def test_check_file_flags_missing_lines(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(LINE * 2)

    assert check_file(path, 3)[0] == "2 valid of 2 lines, 3 logged"


def run(name: str, seconds: float, p99: float, stall: float) -> RunResult:
    return RunResult(
        name,
        "a",
        "asyncio",
        events=100_000,
        planned=100_000,
        logging_s=seconds,
        total_s=seconds,
        p50_us=p99 / 2,
        p99_us=p99,
        max_us=p99 * 10,
        stall_ms=stall,
        rss_before_mb=30.0,
        rss_peak_mb=40.0,
    )


def targets_report(ours: RunResult, peer: RunResult) -> str:
    floor = run("floor-fast", 0.5, 4.0, 2.0)
    table = summarize([(0, ours, "ok"), (0, peer, "ok"), (0, floor, "ok")])
    order = ["telemetry", "picologging", "floor-fast"]
    return render(table, [FULL["a"]], order, Targets(queue_size=100_000), 200.0)


def test_targets_mark_met() -> None:
    report = targets_report(
        run("telemetry", 1.0, 6.8, 4.9), run("picologging", 1.2, 7.4, 20.0)
    )

    assert "| (a) | throughput >= 0.5 x fast floor | 0.50 x | met |" in report
    assert (
        "| (a) | caller p99 below every peer's | 6.8 vs picologging 7.4 µs | met |"
        in (report)
    )
    assert "| (a) | loop stall < 5 ms | 4.9 ms | met |" in report


def test_targets_mark_missed() -> None:
    report = targets_report(
        run("telemetry", 1.1, 7.9, 7.0), run("picologging", 1.0, 7.6, 20.0)
    )

    assert "0.45 x | **missed** |" in report
    assert "7.9 vs picologging 7.6 µs | **missed** |" in report
    assert "| (a) | loop stall < 5 ms | 7.0 ms | **missed** |" in report


def test_processes_bench_counts_lines() -> None:
    rate = run_once(ROOT, processes=2, events=50, flush_each=True)

    assert rate > 0


def test_encoder_costs_times_each_encoder() -> None:
    costs = encoder_costs(["orjson", "json"], field_pool(size=50), rounds=2)

    assert set(costs) == {"orjson", "json"}
    assert all(cost > 0 for cost in costs.values())
