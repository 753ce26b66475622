"""Summarize event logs per agent (or any key): runs, errors, latency, cost, reward.

Run it as ``python -m telemetry.summarize [FILES...]`` or ``telemetry-summarize``.
Only runs count (events whose ``kind`` is absent or ``"run"``); decision events
are read and set aside. Memory stays bounded per group: each group keeps its
latencies in an ``array('d')`` (8 bytes a run, for exact percentiles) and
running sums for everything else, never whole events.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import os
import sys
from array import array
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime
from functools import partial
from itertools import compress, repeat
from operator import is_not, itemgetter, mul, sub
from pathlib import Path
from statistics import NormalDist
from typing import Any, NamedTuple, NoReturn

import orjson

from .logread import (
    EventBatch,
    PathArg,
    ReadReport,
    expand_paths,
    parse_instant,
    read_batches,
    read_span,
    split_file,
)

__all__ = [
    "DEFAULT_PATH",
    "NO_GROUP",
    "GroupSummary",
    "Summary",
    "format_csv",
    "format_json",
    "format_table",
    "main",
    "percentile",
    "summarize",
    "t_quantile",
]

DEFAULT_PATH = "telemetry/events.jsonl"
"""The log read when no file is named and AGENT_TELEMETRY_PATH is unset."""

NO_GROUP = "(none)"
"""The group of events that lack the grouping key or carry null in it."""

# Below this a file is read whole: starting a process costs more than it
# saves (an estimate from timing on two cores).
_MIN_SPAN_BYTES = 8 * 1024 * 1024
_RUN_KINDS = frozenset({None, "run"})
# Newton steps from the normal-based start converge in under 10 steps for
# df >= 1; the cap only bounds the loop.
_MAX_ITERATIONS = 100
# Above this many degrees of freedom the series alone is within 1e-12 of
# scipy's t.ppf, while lgamma of large arguments costs the Newton path digits.
_SERIES_DF = 1e4
_STR = {str}
# The columns a group folds in; agent, run_id and kind are not summed.
_FOLDED = ("ts", "latency_ms", "cost_usd", "tokens_in", "tokens_out", "error", "reward")
_is_not_none = partial(is_not, None)


@dataclass(frozen=True)
class GroupSummary:
    """Figures for one group of runs.

    Attributes:
        group: The group's value of the grouping key, as text.
        runs: Number of runs.
        errors: Runs whose ``error`` was set.
        error_rate: ``errors / runs``.
        latency_p50_ms: Median latency, ms (numpy's default, linear).
        latency_p95_ms: 95th percentile latency, ms.
        latency_p99_ms: 99th percentile latency, ms.
        latency_max_ms: Largest latency, ms.
        cost_total_usd: Sum of reported costs, USD.
        cost_mean_usd: Mean cost over the runs that reported one, USD; None
            when none did.
        cost_count: Runs that reported a cost.
        tokens_in: Sum of reported input tokens.
        tokens_out: Sum of reported output tokens.
        reward_mean: Mean reward over the runs that reported one; None when
            none did.
        reward_ci_low: Lower bound of the 95% t interval for the mean
            reward; None with fewer than two rewards.
        reward_ci_high: Upper bound of that interval.
        reward_count: Runs that reported a reward.
        first_ts: Timestamp of the earliest run.
        last_ts: Timestamp of the latest run.
    """

    group: str
    runs: int
    errors: int
    error_rate: float
    latency_p50_ms: float
    latency_p95_ms: float
    latency_p99_ms: float
    latency_max_ms: float
    cost_total_usd: float
    cost_mean_usd: float | None
    cost_count: int
    tokens_in: int
    tokens_out: int
    reward_mean: float | None
    reward_ci_low: float | None
    reward_ci_high: float | None
    reward_count: int
    first_ts: datetime
    last_ts: datetime


@dataclass(frozen=True)
class Summary:
    """Per-group figures of a log and what reading it skipped.

    Attributes:
        by: The grouping key, e.g. ``"agent"`` or ``"meta.team"``.
        groups: One entry per group, sorted by group.
        other_events: Valid events that are not runs (decision events).
        report: Lines read and skipped, with the first skipped locations.
    """

    by: str
    groups: tuple[GroupSummary, ...]
    other_events: int
    report: ReadReport


class _Group:
    """Running figures of one group; latencies are kept for percentiles."""

    __slots__ = (
        "cost_count",
        "cost_total",
        "errors",
        "first_ts",
        "last_ts",
        "latencies",
        "reward_count",
        "reward_m2",
        "reward_mean",
        "runs",
        "tokens_in",
        "tokens_out",
    )

    def __init__(self) -> None:
        self.runs = 0
        self.errors = 0
        self.latencies = array("d")
        self.cost_total = 0.0
        self.cost_count = 0
        self.tokens_in = 0
        self.tokens_out = 0
        self.reward_count = 0
        self.reward_mean = 0.0
        self.reward_m2 = 0.0
        self.first_ts = ""
        self.last_ts = ""

    def add(self, columns: Mapping[str, Sequence[Any]]) -> None:
        """Fold in the runs whose core fields are ``columns``."""
        errors = columns["error"]
        self.runs += len(errors)
        self.errors += len(errors) - errors.count(None)
        self.latencies.extend(columns["latency_ms"])

        costs = list(filter(_is_not_none, columns["cost_usd"]))
        self.cost_count += len(costs)
        self.cost_total += math.fsum(costs)
        self.tokens_in += sum(filter(_is_not_none, columns["tokens_in"]))
        self.tokens_out += sum(filter(_is_not_none, columns["tokens_out"]))
        self._add_rewards(list(filter(_is_not_none, columns["reward"])))

        # The log writes UTC in one fixed format, so text order is time order.
        stamps = columns["ts"]
        first, last = min(stamps), max(stamps)
        if not self.first_ts or first < self.first_ts:
            self.first_ts = first
        if last > self.last_ts:
            self.last_ts = last

    def merge(self, other: _Group) -> None:
        """Fold in the figures of ``other``, gathered from later lines."""
        self.runs += other.runs
        self.errors += other.errors
        self.latencies.extend(other.latencies)
        self.cost_count += other.cost_count
        self.cost_total += other.cost_total
        self.tokens_in += other.tokens_in
        self.tokens_out += other.tokens_out
        self._merge_rewards(other.reward_count, other.reward_mean, other.reward_m2)
        if other.first_ts and (not self.first_ts or other.first_ts < self.first_ts):
            self.first_ts = other.first_ts
        self.last_ts = max(self.last_ts, other.last_ts)

    def _add_rewards(self, rewards: list[float]) -> None:
        if not rewards:
            return

        count = len(rewards)
        mean = math.fsum(rewards) / count
        deviations = list(map(sub, rewards, repeat(mean)))
        m2 = math.fsum(map(mul, deviations, deviations))
        self._merge_rewards(count, mean, m2)

    def _merge_rewards(self, count: int, mean: float, m2: float) -> None:
        # The pairwise update of the mean and the sum of squared deviations
        # is stable where a running sum of squares loses digits.
        if not count:
            return

        total = self.reward_count + count
        delta = mean - self.reward_mean
        self.reward_mean += delta * count / total
        self.reward_m2 += m2 + delta * delta * self.reward_count * count / total
        self.reward_count = total

    def summary(self, group: str) -> GroupSummary:
        """Return the figures of this group, labelled ``group``."""
        ordered = sorted(self.latencies)
        p50, p95, p99 = (percentile(ordered, q) for q in (50, 95, 99))
        low, high = self._reward_interval()
        return GroupSummary(
            group=group,
            runs=self.runs,
            errors=self.errors,
            error_rate=self.errors / self.runs,
            latency_p50_ms=p50,
            latency_p95_ms=p95,
            latency_p99_ms=p99,
            latency_max_ms=ordered[-1],
            cost_total_usd=self.cost_total,
            cost_mean_usd=(
                self.cost_total / self.cost_count if self.cost_count else None
            ),
            cost_count=self.cost_count,
            tokens_in=self.tokens_in,
            tokens_out=self.tokens_out,
            reward_mean=self.reward_mean if self.reward_count else None,
            reward_ci_low=low,
            reward_ci_high=high,
            reward_count=self.reward_count,
            first_ts=_parse_stamp(self.first_ts),
            last_ts=_parse_stamp(self.last_ts),
        )

    def _reward_interval(self) -> tuple[float | None, float | None]:
        count = self.reward_count
        if count < 2:
            return None, None

        std_error = math.sqrt(self.reward_m2 / (count - 1) / count)
        margin = t_quantile(0.975, count - 1) * std_error
        return self.reward_mean - margin, self.reward_mean + margin


def summarize(
    paths: PathArg | Iterable[PathArg],
    *,
    by: str = "agent",
    since: datetime | None = None,
    until: datetime | None = None,
    workers: int = 1,
) -> Summary:
    """Summarize the runs in event logs, per value of a key.

    Args:
        paths: Log files or folders; rotated siblings are read too, oldest
            first.
        by: A top-level key (``"agent"``, ``"model"``, ``"case_id"``...) or
            ``"meta.<name>"`` for a field of ``meta``. Runs lacking it, or
            carrying null, fall into the group ``"(none)"``.
        since: Count runs with ``ts >= since``; a timezone-aware datetime.
        until: Count runs with ``ts < until``; a timezone-aware datetime.
        workers: Processes that parse in parallel; files larger than 8 MiB
            are cut into spans of whole lines for them. Parsing JSON is most
            of the time, so two workers take a bit over half as long. With
            more than one, guard a script's entry point with
            ``if __name__ == "__main__":``, as multiprocessing requires.

    Returns:
        The per-group figures, sorted by group, and the read report.

    Raises:
        FileNotFoundError: A path does not exist.
        ValueError: ``by`` is empty, ``workers`` < 1, or ``since``/``until``
            is naive.
    """
    if not isinstance(by, str) or not by.strip(".") or by == "meta.":
        raise ValueError(
            f"by must name a key such as 'agent' or 'meta.team', got {by!r}"
        )
    if type(workers) is not int or workers < 1:
        raise ValueError(f"workers must be an int >= 1, got {workers!r}")

    if workers == 1:
        report = ReadReport()
        batches = read_batches(paths, since=since, until=until, report=report)
        groups, other_events = _fold(batches, by)
    else:
        jobs = _span_jobs(expand_paths(paths), workers, by, since, until)
        with ProcessPoolExecutor(workers) as pool:
            parts = list(pool.map(_summarize_span, jobs))
        groups, other_events, report = _merge(parts)

    summaries = tuple(groups[key].summary(key) for key in sorted(groups))
    return Summary(by, summaries, other_events, report)


def _fold(batches: Iterable[EventBatch], by: str) -> tuple[dict[str, _Group], int]:
    groups: dict[str, _Group] = {}
    other_events = 0
    for batch in batches:
        runs = _runs_only(batch)
        other_events += len(batch.events) - len(runs.events)
        if runs.events:
            _add_batch(groups, runs, by)
    return groups, other_events


class _SpanJob(NamedTuple):
    path: Path
    start: int
    end: int
    by: str
    since: datetime | None
    until: datetime | None


_SpanResult = tuple[dict[str, _Group], int, ReadReport]


def _span_jobs(
    files: list[Path],
    workers: int,
    by: str,
    since: datetime | None,
    until: datetime | None,
) -> list[_SpanJob]:
    jobs = []
    for path in files:
        parts = max(1, min(workers, path.stat().st_size // _MIN_SPAN_BYTES))
        for start, end in split_file(path, parts):
            jobs.append(_SpanJob(path, start, end, by, since, until))
    return jobs


def _summarize_span(job: _SpanJob) -> _SpanResult:
    report = ReadReport()
    batches = read_span(
        job.path, job.start, job.end, since=job.since, until=job.until, report=report
    )
    groups, other_events = _fold(batches, job.by)
    for group in groups.values():
        # Sorted here, in parallel, the parent's final sort of the joined
        # spans only merges runs, which timsort does in linear time.
        group.latencies = array("d", sorted(group.latencies))
    return groups, other_events, report


def _merge(parts: list[_SpanResult]) -> _SpanResult:
    groups: dict[str, _Group] = {}
    other_events = 0
    for part_groups, part_other, _ in parts:
        other_events += part_other
        for key, group in part_groups.items():
            if key in groups:
                groups[key].merge(group)
            else:
                groups[key] = group
    return groups, other_events, _merge_reports([part[2] for part in parts])


def _merge_reports(reports: list[ReadReport]) -> ReadReport:
    """Return one report for spans read in order, with file line numbers."""
    merged = ReadReport()
    lines_before: dict[Path, int] = {}
    for report in reports:
        path = report.files[0]
        offset = lines_before.setdefault(path, 0)
        if not offset and path not in merged.files:
            merged.files.append(path)
        lines_before[path] = offset + report.lines

        merged.lines += report.lines
        merged.events += report.events
        merged.outside_window += report.outside_window
        for reason, count in report.skipped.items():
            merged.skipped[reason] = merged.skipped.get(reason, 0) + count
        room = merged.max_locations - len(merged.first_skipped)
        merged.first_skipped.extend(
            replace(skipped, line=skipped.line + offset)
            for skipped in report.first_skipped[:room]
        )
    return merged


def _runs_only(batch: EventBatch) -> EventBatch:
    kinds = batch.columns["kind"]
    if set(kinds) <= _RUN_KINDS:
        return batch

    keep = [kind in _RUN_KINDS for kind in kinds]
    events = list(compress(batch.events, keep))
    columns = {
        key: list(compress(values, keep)) for key, values in batch.columns.items()
    }
    return EventBatch(events, columns)


def _add_batch(groups: dict[str, _Group], batch: EventBatch, by: str) -> None:
    keys = _group_keys(batch, by)
    distinct = set(keys)
    for key in distinct - groups.keys():
        groups[key] = _Group()
    if len(distinct) == 1:
        groups[keys[0]].add(batch.columns)
        return

    positions: dict[str, list[int]] = {key: [] for key in distinct}
    appenders = {key: positions[key].append for key in distinct}
    for index, key in enumerate(keys):
        appenders[key](index)
    for key, indices in positions.items():
        groups[key].add(_gather(batch.columns, indices))


def _gather(
    columns: Mapping[str, Sequence[Any]], indices: list[int]
) -> dict[str, Sequence[Any]]:
    if len(indices) == 1:
        return {name: (columns[name][indices[0]],) for name in _FOLDED}

    take = itemgetter(*indices)
    return {name: take(columns[name]) for name in _FOLDED}


def _group_keys(batch: EventBatch, by: str) -> list[str]:
    if by in batch.columns:
        keys = batch.columns[by]
    elif by.startswith("meta."):
        name = by[len("meta.") :]
        keys = [_meta_value(event, name) for event in batch.events]
    else:
        keys = list(map(dict.get, batch.events, repeat(by)))

    # Labels, not raw values, are the keys: 1, 1.0 and True would share a
    # dict slot, and lists cannot have one.
    if set(map(type, keys)) != _STR:
        keys = list(map(_label, keys))
    return keys


def _meta_value(event: dict[str, Any], name: str) -> Any:
    meta = event.get("meta")
    return meta.get(name) if type(meta) is dict else None


def _label(key: Any) -> str:
    if key is None:
        return NO_GROUP
    if isinstance(key, str):
        return key
    return orjson.dumps(key, option=orjson.OPT_SORT_KEYS).decode()


def _parse_stamp(text: str) -> datetime:
    # Python 3.10 does not read the "Z" suffix.
    return datetime.fromisoformat(
        text.removesuffix("Z") + ("+00:00" if text.endswith("Z") else "")
    )


def percentile(ordered: Sequence[float], q: float) -> float:
    """Return the ``q``-th percentile of sorted values, as numpy does by default.

    This is the "linear" method (Hyndman and Fan's type 7): the value at
    position ``(n - 1) * q / 100`` of the sorted values, interpolated between
    its neighbours, with numpy's interpolation formula so results match it.

    Args:
        ordered: The values, sorted ascending; at least one.
        q: The percentile, 0 to 100.

    Returns:
        The percentile, in the values' unit.

    Raises:
        ValueError: ``ordered`` is empty or ``q`` is outside [0, 100].
    """
    if not ordered:
        raise ValueError("ordered must contain at least one value, got none")
    if not 0 <= q <= 100:
        raise ValueError(f"q must be between 0 and 100, got {q!r}")

    position = (len(ordered) - 1) * (q / 100)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    weight = position - below
    low, high = ordered[below], ordered[above]
    step = high - low
    # numpy interpolates from the nearer neighbour, which keeps the result
    # exact at the ends; matching it makes results equal to the last bit.
    if weight >= 0.5:
        return high - step * (1 - weight)
    return low + step * weight


def t_quantile(p: float, df: float) -> float:
    """Return the ``p``-quantile of Student's t distribution.

    Above 10,000 degrees of freedom a series in 1/df is exact enough; below,
    Newton steps on the exact CDF (a regularized incomplete beta function)
    refine it. Checked against scipy's ``t.ppf``: within 1e-10 relative for
    p from 0.001 to 0.9999.

    Args:
        p: The probability, strictly between 0 and 1.
        df: Degrees of freedom, >= 1 (n - 1 for a sample of n).

    Returns:
        The value t with ``P(T <= t) = p``.

    Raises:
        ValueError: ``p`` or ``df`` is out of range.
    """
    if not 0 < p < 1:
        raise ValueError(f"p must be strictly between 0 and 1, got {p!r}")
    if not df >= 1 or math.isinf(df):
        raise ValueError(f"df must be a finite number >= 1, got {df!r}")

    if p < 0.5:
        return -t_quantile(1 - p, df)
    if p == 0.5:
        return 0.0
    if df == 1:
        # The Cauchy quantile, written with 1 - p so p near 1 keeps its digits.
        return 1 / math.tan(math.pi * (1 - p))

    z = NormalDist().inv_cdf(p)
    if df > _SERIES_DF:
        return _cornish_fisher(z, df)

    low, high = 0.0, 1.0
    while _t_cdf_minus(high, df, p) < 0:
        low, high = high, 2 * high
    t = min(max(_cornish_fisher(z, df), low), high)
    log_scale = (
        math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    )
    # Newton steps, kept inside a shrinking bracket (halving it when a step
    # would leave), converge in a few steps from the normal-based start.
    for _ in range(_MAX_ITERATIONS):
        residual = _t_cdf_minus(t, df, p)
        if residual < 0:
            low = t
        else:
            high = t
        density = math.exp(log_scale - (df + 1) / 2 * math.log1p(t * t / df))
        candidate = t - residual / density
        if not low < candidate < high:
            candidate = (low + high) / 2
        if abs(candidate - t) <= 1e-15 * candidate:
            return candidate
        t = candidate
    return t


def _cornish_fisher(z: float, df: float) -> float:
    # The Cornish-Fisher series of the t quantile in powers of 1/df: the
    # answer above _SERIES_DF, and only a Newton start below it.
    z2 = z * z
    g1 = (z2 + 1) * z / 4
    g2 = ((5 * z2 + 16) * z2 + 3) * z / 96
    g3 = (((3 * z2 + 19) * z2 + 17) * z2 - 15) * z / 384
    return z + g1 / df + g2 / df**2 + g3 / df**3


def _t_cdf_minus(t: float, df: float, p: float) -> float:
    """Return ``P(T <= t) - p`` for ``t >= 0`` and ``p > 0.5``, to full precision.

    Near the centre it works from ``P(0 < T <= t)`` and ``p - 0.5``, both
    exact there, instead of subtracting numbers close to 0.5.
    """
    squared = t * t
    if squared < df:
        central = 0.5 * _incomplete_beta(0.5, df / 2, squared / (df + squared))
        return central - (p - 0.5)
    tail = 0.5 * _incomplete_beta(df / 2, 0.5, df / (df + squared))
    return (1 - p) - tail


def _incomplete_beta(a: float, b: float, x: float) -> float:
    """Return the regularized incomplete beta function ``I_x(a, b)``."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0

    log_front = (
        math.lgamma(a + b)
        - math.lgamma(a)
        - math.lgamma(b)
        + a * math.log(x)
        + b * math.log1p(-x)
    )
    # The continued fraction converges fast only below this point; above it
    # the symmetry I_x(a, b) = 1 - I_{1-x}(b, a) applies.
    if x < (a + 1) / (a + b + 2):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1 - math.exp(log_front) * _beta_fraction(b, a, 1 - x) / b


def _beta_fraction(a: float, b: float, x: float) -> float:
    # Lentz's method on the standard continued fraction for I_x(a, b).
    tiny = 1e-300
    c, d = 1.0, 1 - (a + b) * x / (a + 1)
    d = 1 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 300):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1 + numerator * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= c * d
        if abs(c * d - 1) < 1e-16:
            break
    return result


_TABLE_HEADER = (
    "group",
    "runs",
    "err%",
    "p50",
    "p95",
    "p99",
    "max ms",
    "cost total",
    "cost/run",
    "tokens in/out",
    "reward mean [95% CI]",
)


def format_table(summary: Summary) -> str:
    """Return the summary as an aligned text table, then a skipped-lines line.

    Latencies are in ms and costs in USD. The last line, present only when
    lines were skipped, names their count, reasons and first locations.
    """
    rows = [_TABLE_HEADER, *(_table_row(group) for group in summary.groups)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_TABLE_HEADER))]
    lines = [
        "  ".join(
            cell.ljust(width) if i in (0, len(widths) - 1) else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]
    if not summary.groups:
        lines.append("(no runs)")
    skipped = summary.report.describe()
    if skipped:
        lines.append(skipped)
    return "\n".join(lines)


def _table_row(group: GroupSummary) -> tuple[str, ...]:
    return (
        group.group,
        str(group.runs),
        f"{100 * group.error_rate:.1f}",
        f"{group.latency_p50_ms:.1f}",
        f"{group.latency_p95_ms:.1f}",
        f"{group.latency_p99_ms:.1f}",
        f"{group.latency_max_ms:.1f}",
        _usd(group.cost_total_usd) if group.cost_count else "-",
        _usd(group.cost_mean_usd),
        f"{_count(group.tokens_in)}/{_count(group.tokens_out)}",
        _reward(group),
    )


def _usd(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"${value:,.0f}"
    if value >= 1 or value == 0:
        return f"${value:.2f}"

    # Three significant digits without exponents: runs often cost < $0.01.
    decimals = 2 - math.floor(math.log10(value))
    return f"${value:.{decimals}f}"


def _count(value: int) -> str:
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= limit:
            return f"{value / limit:.1f}{suffix}"
    return str(value)


def _reward(group: GroupSummary) -> str:
    if group.reward_mean is None:
        return "-"
    if group.reward_ci_low is None or group.reward_ci_high is None:
        return f"{group.reward_mean:.3f}"
    return (
        f"{group.reward_mean:.3f} "
        f"[{group.reward_ci_low:.3f}, {group.reward_ci_high:.3f}]"
    )


def _record(group: GroupSummary) -> dict[str, Any]:
    record = asdict(group)
    record["first_ts"] = group.first_ts.isoformat()
    record["last_ts"] = group.last_ts.isoformat()
    return record


def format_json(summary: Summary) -> str:
    """Return the summary as one JSON object, skipped lines included."""
    report = summary.report
    document = {
        "by": summary.by,
        "groups": [_record(group) for group in summary.groups],
        "other_events": summary.other_events,
        "lines": report.lines,
        "skipped": report.skipped,
        "skipped_total": report.skipped_total,
        "first_skipped": [str(line) for line in report.first_skipped],
    }
    return orjson.dumps(document, option=orjson.OPT_INDENT_2).decode()


def format_csv(summary: Summary) -> str:
    """Return the groups as CSV with a header row; skipped lines are not in it."""
    buffer = io.StringIO()
    names = [field.name for field in fields(GroupSummary)]
    writer = csv.DictWriter(buffer, fieldnames=names, lineterminator="\n")
    writer.writeheader()
    writer.writerows(_record(group) for group in summary.groups)
    return buffer.getvalue()


class _Parser(argparse.ArgumentParser):
    """Argument parser whose errors are one line, as for a missing file."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _instant(text: str) -> datetime:
    try:
        return parse_instant(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be an int >= 1, got {text!r}")
    return int(text)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="telemetry-summarize",
        description="Summarize agent runs per group from JSONL event logs.",
    )
    parser.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help="log files or folders (default: $AGENT_TELEMETRY_PATH or "
        f"{DEFAULT_PATH}); rotated siblings are read too",
    )
    parser.add_argument(
        "--by",
        default="agent",
        help="group by a top-level key or meta.<name> (default: agent)",
    )
    parser.add_argument(
        "--since",
        type=_instant,
        help="only runs at or after this time: a duration ago (15m, 2h, 7d) "
        "or an ISO-8601 timestamp",
    )
    parser.add_argument(
        "--until",
        type=_instant,
        help="only runs before this time, written as for --since",
    )
    parser.add_argument(
        "--workers",
        type=_positive_int,
        default=1,
        help="processes that parse large files in parallel (default: 1)",
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print JSON")
    output.add_argument("--csv", action="store_true", help="print CSV")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (2 for bad input).

    Args:
        argv: Arguments without the program name; ``sys.argv[1:]`` if None.
    """
    parser = _parser()
    args = parser.parse_args(argv)
    files = args.files or [os.environ.get("AGENT_TELEMETRY_PATH") or DEFAULT_PATH]
    try:
        summary = summarize(
            files,
            by=args.by,
            since=args.since,
            until=args.until,
            workers=args.workers,
        )
    except (FileNotFoundError, ValueError) as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2

    if args.json:
        print(format_json(summary))
    elif args.csv:
        sys.stdout.write(format_csv(summary))
        _warn_skipped(summary.report)
    else:
        print(format_table(summary))
    return 0


def _warn_skipped(report: ReadReport) -> None:
    skipped = report.describe()
    if skipped:
        print(skipped, file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
