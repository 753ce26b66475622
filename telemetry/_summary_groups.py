"""Per-group running figures of runs and the summaries they produce."""

from __future__ import annotations

import math
import re
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from itertools import compress, repeat
from operator import is_not, itemgetter, mul, sub
from typing import Any

from ._grouplabel import NO_GROUP, group_label
from ._quantiles import percentile, t_quantile
from .logread import EventBatch, ReadReport

__all__ = ["NO_GROUP", "GroupSummary", "Summary"]

_RUN_KINDS = frozenset({None, "run"})
_STR = {str}
# The columns a group folds in; agent, run_id and kind are not summed.
_FOLDED = ("ts", "latency_ms", "cost_usd", "tokens_in", "tokens_out", "error", "reward")
_is_not_none = partial(is_not, None)
_UTC_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00")
"""The logger's own stamp format, e.g. 2026-12-04T16:10:37.123456+00:00."""
_OVERFLOW_SCALE = 2.0**-64
"""Power of two that keeps sums of up to 2^64 doubles finite, and exact."""


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
        cost_total_usd: Sum of reported costs, USD; None when no run reported one.
        cost_mean_usd: Mean cost over the runs that reported one, USD; None
            when none did.
        cost_count: Runs that reported a cost.
        tokens_in: Sum of reported input tokens; None when no run reported
            them.
        tokens_out: Sum of reported output tokens; None when no run
            reported them.
        tokens_in_count: Runs that reported input tokens.
        tokens_out_count: Runs that reported output tokens.
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
    cost_total_usd: float | None
    cost_mean_usd: float | None
    cost_count: int
    tokens_in: int | None
    tokens_out: int | None
    tokens_in_count: int
    tokens_out_count: int
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
        "tokens_in_count",
        "tokens_out",
        "tokens_out_count",
    )

    def __init__(self) -> None:
        self.runs = 0
        self.errors = 0
        self.latencies = array("d")
        self.cost_total = 0.0
        self.cost_count = 0
        self.tokens_in = 0
        self.tokens_in_count = 0
        self.tokens_out = 0
        self.tokens_out_count = 0
        self.reward_count = 0
        self.reward_mean = 0.0
        self.reward_m2 = 0.0
        self.first_ts: datetime | None = None
        self.last_ts: datetime | None = None

    def add(self, columns: Mapping[str, Sequence[Any]]) -> None:
        """Fold in the runs whose core fields are ``columns``."""
        errors = columns["error"]
        self.runs += len(errors)
        self.errors += len(errors) - errors.count(None)
        self.latencies.extend(columns["latency_ms"])

        costs = list(filter(_is_not_none, columns["cost_usd"]))
        self.cost_count += len(costs)
        self.cost_total += _fsum(costs)
        tokens_in, tokens_out = columns["tokens_in"], columns["tokens_out"]
        self.tokens_in += sum(filter(_is_not_none, tokens_in))
        self.tokens_in_count += len(tokens_in) - tokens_in.count(None)
        self.tokens_out += sum(filter(_is_not_none, tokens_out))
        self.tokens_out_count += len(tokens_out) - tokens_out.count(None)
        self._add_rewards(list(filter(_is_not_none, columns["reward"])))

        first, last = _time_range(columns["ts"])
        self._widen(first, last)

    def merge(self, other: _Group) -> None:
        """Fold in the figures of ``other``, gathered from later lines."""
        self.runs += other.runs
        self.errors += other.errors
        self.latencies.extend(other.latencies)
        self.cost_count += other.cost_count
        self.cost_total += other.cost_total
        self.tokens_in += other.tokens_in
        self.tokens_in_count += other.tokens_in_count
        self.tokens_out += other.tokens_out
        self.tokens_out_count += other.tokens_out_count
        self._merge_rewards(other.reward_count, other.reward_mean, other.reward_m2)
        if other.first_ts is not None and other.last_ts is not None:
            self._widen(other.first_ts, other.last_ts)

    def _widen(self, first: datetime, last: datetime) -> None:
        if self.first_ts is None or first < self.first_ts:
            self.first_ts = first
        if self.last_ts is None or last > self.last_ts:
            self.last_ts = last

    def _add_rewards(self, rewards: list[float]) -> None:
        if not rewards:
            return

        count = len(rewards)
        mean = _fsum(rewards, count)
        deviations = list(map(sub, rewards, repeat(mean)))
        m2 = _fsum(list(map(mul, deviations, deviations)))
        self._merge_rewards(count, mean, m2)

    def _merge_rewards(self, count: int, mean: float, m2: float) -> None:
        # The pairwise update of the mean and the sum of squared deviations
        # is stable where a running sum of squares loses digits.
        if not count:
            return
        if not self.reward_count:
            # The update below would multiply an infinite delta by zero.
            self.reward_count, self.reward_mean, self.reward_m2 = count, mean, m2
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
            cost_total_usd=self.cost_total if self.cost_count else None,
            cost_mean_usd=(
                self.cost_total / self.cost_count if self.cost_count else None
            ),
            cost_count=self.cost_count,
            tokens_in=self.tokens_in if self.tokens_in_count else None,
            tokens_out=self.tokens_out if self.tokens_out_count else None,
            tokens_in_count=self.tokens_in_count,
            tokens_out_count=self.tokens_out_count,
            reward_mean=self.reward_mean if self.reward_count else None,
            reward_ci_low=low,
            reward_ci_high=high,
            reward_count=self.reward_count,
            first_ts=_known(self.first_ts),
            last_ts=_known(self.last_ts),
        )

    def _reward_interval(self) -> tuple[float | None, float | None]:
        count = self.reward_count
        if count < 2:
            return None, None

        std_error = math.sqrt(self.reward_m2 / (count - 1) / count)
        margin = t_quantile(0.975, count - 1) * std_error
        return self.reward_mean - margin, self.reward_mean + margin


def _fold(batches: Iterable[EventBatch], by: str) -> tuple[dict[str, _Group], int]:
    groups: dict[str, _Group] = {}
    other_events = 0
    for batch in batches:
        runs = _runs_only(batch)
        other_events += len(batch.events) - len(runs.events)
        if runs.events:
            _add_batch(groups, runs, by)
    return groups, other_events


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
        keys = list(map(group_label, keys))
    return keys


def _meta_value(event: dict[str, Any], name: str) -> Any:
    meta = event.get("meta")
    return meta.get(name) if type(meta) is dict else None


def _fsum(values: list[float], divisor: int = 1) -> float:
    """Return the exact sum of values over divisor, inf when it overflows.

    math.fsum raises OverflowError when a partial sum overflows, even when
    the result would not, so the values are then summed at 2^-64 scale.
    """
    try:
        return math.fsum(values) / divisor
    except OverflowError:
        scaled = math.fsum(value * _OVERFLOW_SCALE for value in values)
        return scaled / divisor / _OVERFLOW_SCALE


def _time_range(stamps: Sequence[str]) -> tuple[datetime, datetime]:
    """Return the earliest and the latest of ISO-8601 stamps, as instants."""
    # The logger writes UTC in one fixed format, where text order is time
    # order; other offsets, written by other tools, need parsing.
    if all(map(_UTC_STAMP.fullmatch, stamps)):
        return _parse_stamp(min(stamps)), _parse_stamp(max(stamps))
    instants = list(map(_parse_stamp, stamps))
    return min(instants), max(instants)


def _known(instant: datetime | None) -> datetime:
    assert instant is not None, "a group holds at least one run"
    return instant


def _parse_stamp(text: str) -> datetime:
    # Python 3.10 does not read the "Z" suffix.
    return datetime.fromisoformat(
        text.removesuffix("Z") + ("+00:00" if text.endswith("Z") else "")
    )
