"""Turn the runs of a benchmark into a Markdown report: tables and targets.

Absolute times drift on a shared machine, so every run is also compared with the
fast floor of the same round, and the report gives medians over rounds.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from .workloads import RunResult, Workload

__all__ = ["Row", "Targets", "render", "summarize"]

REFERENCE = "floor-fast"
"""The contender every throughput is divided by."""

FLOORS = ("floor-json", "floor-fast")

RSS_SLACK_MB = 16.0
"""Memory allowed over the queue bound in workload (c): allocator slack, stacks."""


@dataclass
class Row:
    """Medians over rounds of one contender on one workload.

    Attributes:
        contender: Contender name.
        runs: The runs, one per round.
        checks: The file check of each run, "ok" or what was wrong.
        ratios: Each run's throughput over the fast floor's in the same round.
    """

    contender: str
    runs: list[RunResult] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)

    def median(self, value: Callable[[RunResult], float | None]) -> float:
        """Return the median of ``value`` over runs that measured it."""
        values = [v for run in self.runs if (v := value(run)) is not None]
        values = [v for v in values if not math.isnan(v)]
        return statistics.median(values) if values else math.nan

    @property
    def throughput(self) -> float:
        """Return the median events per second until everything was on disk."""
        return self.median(lambda run: run.throughput)

    @property
    def ratio(self) -> float:
        """Return the median throughput as a fraction of the fast floor's."""
        return statistics.median(self.ratios) if self.ratios else math.nan

    @property
    def check(self) -> str:
        """Return "ok" when every run's file checked out, else the first problem."""
        problems = [check for check in self.checks if check != "ok"]
        errors = [run.error for run in self.runs if run.error]
        if errors:
            return f"error: {errors[0]}"
        return problems[0] if problems else "ok"


@dataclass(frozen=True)
class Targets:
    """The goals this project's logger is measured against.

    Attributes:
        queue_size: Maximum events its queue contains, which bounds memory in (c).
        floor_fraction: Minimum throughput as a fraction of the fast floor's.
        p99_us: Maximum caller p99 latency, µs.
        p50_us: Maximum caller median latency, µs.
        stall_ms: Maximum loop stall per workload key, ms.
    """

    queue_size: int
    floor_fraction: float = 0.5
    p99_us: float = 10.0
    p50_us: float = 5.0
    stall_ms: tuple[tuple[str, float], ...] = (("a", 5.0), ("c", 20.0))


def summarize(
    results: Iterable[tuple[int, RunResult, str]],
) -> dict[str, dict[str, Row]]:
    """Group ``(round, result, check)`` triples by workload, then contender.

    Each run's throughput is divided by the fast floor's in the same round.
    """
    table: dict[str, dict[str, Row]] = {}
    floors: dict[tuple[str, int], float] = {}
    triples = list(results)
    for index, result, _ in triples:
        if result.contender == REFERENCE and not result.error:
            floors[(result.workload, index)] = result.throughput

    for index, result, check in triples:
        row = table.setdefault(result.workload, {}).setdefault(
            result.contender, Row(result.contender)
        )
        row.runs.append(result)
        row.checks.append(check)
        floor = floors.get((result.workload, index))
        if floor and not result.error:
            row.ratios.append(result.throughput / floor)
    return table


def render(
    table: dict[str, dict[str, Row]],
    workloads: Sequence[Workload],
    order: Sequence[str],
    targets: Targets | None,
    line_bytes: float,
) -> str:
    """Return the results tables and, when the logger ran, the targets table.

    Args:
        table: Rows from :func:`summarize`.
        workloads: The workloads, in report order.
        order: Contender names, in report order.
        targets: The logger's goals, or None to leave them out.
        line_bytes: Mean bytes per logged line, to size the queue bound in (c).
    """
    parts = []
    for workload in workloads:
        rows = table.get(workload.key)
        if rows:
            parts.append(_results_table(workload, rows, order))
    if targets is not None and any("telemetry" in rows for rows in table.values()):
        parts.append(_targets_table(table, workloads, targets, line_bytes))
    return "\n\n".join(parts) + "\n"


def _results_table(
    workload: Workload, rows: dict[str, Row], order: Sequence[str]
) -> str:
    lines = [
        f"### ({workload.key}) {workload.title}",
        "",
        "| contender | events/s | x floor | logged | p50 µs | p99 µs | max µs "
        "| stall ms | peak RSS MB | RSS growth MB | file |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for name in order:
        row = rows.get(name)
        if row is None:
            continue
        logged = row.median(lambda run: run.events / run.planned if run.planned else 0)
        lines.append(
            "| "
            + " | ".join(
                [
                    f"**{name}**" if name == "telemetry" else name,
                    _count(row.throughput),
                    f"{row.ratio:.2f}" if not math.isnan(row.ratio) else "n/a",
                    f"{logged:.0%}",
                    _micros(row.median(lambda run: run.p50_us)),
                    _micros(row.median(lambda run: run.p99_us)),
                    _micros(row.median(lambda run: run.max_us)),
                    _millis(row.median(lambda run: run.stall_ms)),
                    _megabytes(row.median(lambda run: run.rss_peak_mb)),
                    _megabytes(
                        row.median(lambda run: run.rss_peak_mb - run.rss_before_mb)
                    ),
                    row.check,
                ]
            )
            + " |"
        )
    return "\n".join(lines)


def _targets_table(
    table: dict[str, dict[str, Row]],
    workloads: Sequence[Workload],
    targets: Targets,
    line_bytes: float,
) -> str:
    lines = [
        "### Targets for telemetry",
        "",
        "| workload | target | measured | status |",
        "|---|---|---|---|",
    ]
    for workload in workloads:
        rows = table.get(workload.key, {})
        ours = rows.get("telemetry")
        if ours is None:
            continue
        for target, measured, met in _checks(workload, rows, ours, targets, line_bytes):
            status = "met" if met else "**missed**"
            lines.append(f"| ({workload.key}) | {target} | {measured} | {status} |")
    return "\n".join(lines)


def _checks(
    workload: Workload,
    rows: dict[str, Row],
    ours: Row,
    targets: Targets,
    line_bytes: float,
) -> list[tuple[str, str, bool]]:
    checks = []
    peers = [
        row for name, row in rows.items() if name != "telemetry" and name not in FLOORS
    ]

    if not math.isnan(ours.ratio):
        checks.append(
            (
                f"throughput >= {targets.floor_fraction:g} x fast floor",
                f"{ours.ratio:.2f} x",
                ours.ratio >= targets.floor_fraction,
            )
        )
    if peers:
        best = max(peers, key=lambda row: _or_zero(row.throughput))
        checks.append(
            (
                "throughput ahead of every peer",
                f"{_count(ours.throughput)} vs {best.contender} "
                f"{_count(best.throughput)} events/s",
                ours.throughput > _or_zero(best.throughput),
            )
        )

    p99 = ours.median(lambda run: run.p99_us)
    p50 = ours.median(lambda run: run.p50_us)
    if peers:
        lowest = min(peers, key=lambda row: _or_inf(row.median(lambda r: r.p99_us)))
        peer_p99 = lowest.median(lambda run: run.p99_us)
        checks.append(
            (
                "caller p99 below every peer's",
                f"{_micros(p99)} vs {lowest.contender} {_micros(peer_p99)} µs",
                p99 < _or_inf(peer_p99),
            )
        )
    checks.append(
        (
            f"caller p99 <= {targets.p99_us:g} µs",
            f"{_micros(p99)} µs",
            p99 <= targets.p99_us,
        )
    )
    checks.append(
        (
            f"caller p50 <= {targets.p50_us:g} µs",
            f"{_micros(p50)} µs",
            p50 <= targets.p50_us,
        )
    )

    for key, limit in targets.stall_ms:
        if key == workload.key:
            stall = ours.median(lambda run: run.stall_ms)
            checks.append(
                (f"loop stall < {limit:g} ms", f"{_millis(stall)} ms", stall < limit)
            )

    if workload.cap_s is not None and workload.events > targets.queue_size:
        growth = ours.median(lambda run: run.rss_peak_mb - run.rss_before_mb)
        # A queued line costs its bytes object (33 bytes of header) and a list slot.
        queued = min(targets.queue_size, workload.events)
        bound = queued * (line_bytes + 41) / 2**20 + RSS_SLACK_MB
        burst = workload.events * (line_bytes + 41) / 2**20
        checks.append(
            (
                f"RSS growth within the queue bound ({_megabytes(bound)} MB; "
                f"the whole burst would be {_megabytes(burst)} MB)",
                f"{_megabytes(growth)} MB",
                growth <= bound,
            )
        )
    return checks


def _or_zero(value: float) -> float:
    return 0.0 if math.isnan(value) else value


def _or_inf(value: float) -> float:
    return math.inf if math.isnan(value) else value


def _count(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:,.0f}"


def _micros(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    return f"{value:.1f}" if value < 100 else f"{value:,.0f}"


def _millis(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    return f"{value:.1f}" if value < 100 else f"{value:,.0f}"


def _megabytes(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:,.0f}"
