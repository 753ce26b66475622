"""Compare agents (or models, or any event field) run for run, with intervals.

`compare` reads one or more event logs and sets every group against a
baseline, or every pair against each other, on reward, pass rate, error rate,
latency and cost. Where events carry ``case_id`` it pairs the groups by case:
repeats of a case are averaged first, then the analysis runs on per-case
differences over the cases both groups ran, which removes the case-to-case
variance. Cases that carry a cluster (``meta.cluster`` or a
``"cluster:<name>"`` tag) get a cluster-robust standard error, or the plain
paired one when that is larger. Without case ids it falls back to Welch's
unpaired test.

Pass/fail uses ``error is null`` by default, or ``reward >= pass_threshold``
when a threshold is given. A case passes when at least half of its repeats
pass. Runs without a reward are left out of the reward comparison, and their
errors count in the error rate.

The sequential mode reports a confidence sequence that stays valid however
often the log is checked. Paired, it bounds the mean per-case difference
(see `telemetry.statistics.confidence_sequence`). Unpaired, it bounds each
group's mean with a sequence of its own (see
`telemetry.statistics.two_sample_sequence`). No run is paired with another
then, so the groups may run at any rates, or one after the other. It is the
default without shared case ids, which is the case for production traffic
read as it grows.

Run ``python -m telemetry.compare --help`` for the command line.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from telemetry import statistics as st
from telemetry._cli import quiet_on_broken_pipe
from telemetry._compare_pairs import (
    CompareOptions,
    PairComparison,
    adjust_holm,
    compare_pair,
    shared_cases,
)
from telemetry._compare_runs import (
    NO_GROUP,
    CaseSummary,
    GroupRuns,
    load_groups,
    mean_or_none,
    missing_key_note,
    too_few_groups_message,
)
from telemetry._compare_text import (
    OneLineParser,
    format_comparison,
    instant,
    log_paths,
)
from telemetry.logread import PathArg, ReadReport

__all__ = [
    "CaseSummary",
    "CompareOptions",
    "Comparison",
    "GroupRuns",
    "GroupSummary",
    "PairComparison",
    "compare",
    "compare_groups",
    "format_comparison",
    "load_groups",
    "main",
]


@dataclass(frozen=True)
class GroupSummary:
    """Per-group figures.

    Attributes:
        name: Value of the grouping key.
        runs: Runs in the window.
        cases: Distinct case ids.
        mean_reward: Mean reward over runs with a reward, or None.
        errors: Runs whose error is not null.
        error_rate: errors / runs.
        error_interval: Wilson interval of the error rate.
        latency_p50_ms: Median latency with its bootstrap interval, in ms.
        latency_p95_ms: 95th percentile latency with its interval, in ms.
        cost_per_run_usd: Mean cost per run with a known cost, in USD.
        reward_per_usd: mean_reward / cost_per_run_usd, or None.
    """

    name: str
    runs: int
    cases: int
    mean_reward: float | None
    errors: int
    error_rate: float
    error_interval: st.Interval
    latency_p50_ms: st.QuantileEstimate
    latency_p95_ms: st.QuantileEstimate
    cost_per_run_usd: float | None
    reward_per_usd: float | None


@dataclass(frozen=True)
class Comparison:
    """The result of `compare`: group figures, pair tests and what was read."""

    key: str
    baseline: str | None
    sequential: bool
    options: CompareOptions
    groups: list[GroupSummary]
    pairs: list[PairComparison]
    runs: int
    skipped: dict[str, int]
    skipped_note: str

    def reward_differs(self, pair: PairComparison) -> bool | None:
        """Return whether the reward difference is significant, None if unknown.

        Sequential comparisons ask whether the confidence sequence excludes 0;
        fixed ones whether the Holm-adjusted p-value is below 1 - confidence.
        """
        if self.sequential:
            return None if pair.sequence is None else pair.sequence.interval.excludes()
        if pair.reward_p_holm is None:
            return None
        return pair.reward_p_holm < 1 - self.options.confidence

    def to_dict(self) -> dict[str, Any]:
        """Return the comparison as JSON-ready data; non-finite numbers are null."""
        data = asdict(self)
        for pair, row in zip(self.pairs, data["pairs"], strict=True):
            row["reward_differs"] = self.reward_differs(pair)
        return _finite(data)  # type: ignore[no-any-return]


def compare(
    paths: PathArg | Iterable[PathArg],
    *,
    key: str = "agent",
    baseline: str | None = None,
    all_pairs: bool = False,
    since: datetime | None = None,
    until: datetime | None = None,
    options: CompareOptions | None = None,
) -> Comparison:
    """Compare the groups found in event logs.

    Args:
        paths: Log files or folders.
        key: Field to group runs by, see `load_groups`.
        baseline: Group every other group is set against; by default the
            group with the most runs, ties broken alphabetically.
        all_pairs: Compare every pair of groups instead of against a baseline.
        since: Keep events at or after this instant.
        until: Keep events before this instant.
        options: Levels and modes, see `CompareOptions`.

    Raises:
        FileNotFoundError: A path does not exist.
        ValueError: Fewer than 2 groups, no run with the key, or an unknown
            baseline.
    """
    options = CompareOptions() if options is None else options
    report = ReadReport()
    groups = load_groups(
        paths,
        key=key,
        since=since,
        until=until,
        pass_threshold=options.pass_threshold,
        report=report,
    )
    if set(groups) == {NO_GROUP}:
        note = missing_key_note(paths, key, since=since, until=until)
        if note:
            raise ValueError(f"nothing to compare: {note}")
    return compare_groups(
        groups,
        key=key,
        baseline=baseline,
        all_pairs=all_pairs,
        options=options,
        report=report,
    )


def compare_groups(
    groups: Mapping[str, GroupRuns],
    *,
    key: str = "agent",
    baseline: str | None = None,
    all_pairs: bool = False,
    options: CompareOptions | None = None,
    report: ReadReport | None = None,
) -> Comparison:
    """Compare groups already loaded with `load_groups`; see `compare`."""
    options = CompareOptions() if options is None else options
    report = ReadReport() if report is None else report
    if len(groups) < 2:
        raise ValueError(
            too_few_groups_message(
                groups,
                report,
                needed=f"groups to compare by {key}",
                remedy="pass more logs, widen --since/--until or pick another --by",
            )
        )

    pairs_to_run, chosen = _pairs(groups, baseline, all_pairs)
    sequential = options.sequential
    if sequential is None:
        sequential = not any(
            shared_cases(groups[t], groups[b]) for t, b in pairs_to_run
        )
    # Bonferroni keeps every sequence in the family valid at once.
    cs_confidence = 1 - (1 - options.confidence) / len(pairs_to_run)
    pairs = [
        compare_pair(groups[t], groups[b], options, sequential, cs_confidence)
        for t, b in pairs_to_run
    ]

    return Comparison(
        key=key,
        baseline=chosen,
        sequential=sequential,
        options=options,
        groups=[_summarize(groups[name], options) for name in sorted(groups)],
        pairs=adjust_holm(pairs),
        runs=sum(len(g.ts) for g in groups.values()),
        skipped=dict(report.skipped),
        skipped_note=report.describe(),
    )


def _pairs(
    groups: Mapping[str, GroupRuns], baseline: str | None, all_pairs: bool
) -> tuple[list[tuple[str, str]], str | None]:
    names = sorted(groups)
    if all_pairs:
        return [(b, a) for i, a in enumerate(names) for b in names[i + 1 :]], None
    if baseline is None:
        baseline = min(names, key=lambda n: (-len(groups[n].ts), n))
    elif baseline not in groups:
        raise ValueError(
            f"baseline {baseline!r} is not among the groups; pass one of "
            f"{', '.join(names)}"
        )
    return [(n, baseline) for n in names if n != baseline], baseline


def _summarize(group: GroupRuns, options: CompareOptions) -> GroupSummary:
    runs = len(group.ts)
    errors = sum(group.failed)
    rewards = [r for r in group.reward if r is not None]
    costs = [c for c in group.cost_usd if c is not None]
    mean_reward, mean_cost = mean_or_none(rewards), mean_or_none(costs)
    per_usd = None
    if mean_reward is not None and mean_cost:
        per_usd = mean_reward / mean_cost

    return GroupSummary(
        name=group.name,
        runs=runs,
        cases=len(group.cases),
        mean_reward=mean_reward,
        errors=errors,
        error_rate=errors / runs,
        error_interval=st.wilson_interval(errors, runs, options.confidence),
        latency_p50_ms=st.bootstrap_quantile(group.latency_ms, 0.5, options.confidence),
        latency_p95_ms=st.bootstrap_quantile(
            group.latency_ms, 0.95, options.confidence
        ),
        cost_per_run_usd=mean_cost,
        reward_per_usd=per_usd,
    )


def _finite(data: Any) -> Any:
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_finite(v) for v in data]
    return data


def _parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="telemetry-compare",
        description="Compare agents (or models, or any event field) in event logs.",
    )
    parser.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help="log files or folders (default: $AGENT_TELEMETRY_PATH or "
        "telemetry/events.jsonl); rotated siblings are read too",
    )
    parser.add_argument(
        "--by",
        default="agent",
        help="group by a top-level key or meta.<name> (default: agent)",
    )
    against = parser.add_mutually_exclusive_group()
    against.add_argument(
        "--baseline", help="group to compare against (default: the most runs)"
    )
    against.add_argument(
        "--all-pairs", action="store_true", help="compare every pair of groups"
    )
    parser.add_argument(
        "--since",
        type=instant,
        help="only runs at or after this time: a duration ago (15m, 2h, 7d) "
        "or an ISO-8601 timestamp",
    )
    parser.add_argument(
        "--until", type=instant, help="only runs before this time, as for --since"
    )
    _add_options(parser)
    parser.add_argument("--json", action="store_true", help="print JSON")
    return parser


def _add_options(parser: argparse.ArgumentParser) -> None:
    defaults = CompareOptions()
    parser.add_argument(
        "--confidence",
        type=_level,
        default=defaults.confidence,
        help="level of intervals and tests (default: 0.95)",
    )
    parser.add_argument(
        "--min-effect",
        type=_effect,
        default=defaults.min_effect,
        help="reward difference the needed number of cases is computed for "
        "(default: 0.05)",
    )
    parser.add_argument(
        "--pass-threshold",
        type=float,
        help="a run passes when its reward is >= this (default: when its "
        "error is null)",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--sequential",
        action="store_true",
        default=None,
        help="report confidence sequences, valid however often the log is "
        "checked (default when no case ids are shared)",
    )
    mode.add_argument(
        "--fixed",
        dest="sequential",
        action="store_false",
        help="report fixed-horizon tests (default with shared case ids)",
    )
    parser.add_argument(
        "--target-n",
        type=int,
        default=defaults.target_n,
        help="cases (paired) or runs per group (unpaired) at which confidence "
        "sequences are tightest (default: 500)",
    )


@quiet_on_broken_pipe
def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (2 for bad input).

    Args:
        argv: Arguments without the program name; ``sys.argv[1:]`` if None.
    """
    parser = _parser()
    args = parser.parse_args(argv)
    options = CompareOptions(
        confidence=args.confidence,
        min_effect=args.min_effect,
        pass_threshold=args.pass_threshold,
        sequential=args.sequential,
        target_n=args.target_n,
    )
    try:
        result = compare(
            log_paths(args.files),
            key=args.by,
            baseline=args.baseline,
            all_pairs=args.all_pairs,
            since=args.since,
            until=args.until,
            options=options,
        )
    except (FileNotFoundError, ValueError) as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2

    if args.json:
        print(json.dumps(result.to_dict(), indent=2, allow_nan=False))
    else:
        print(format_comparison(result))
    return 0


def _level(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(
            f"confidence must be a number in (0, 1), got {text!r}; write e.g. 0.95"
        )
    return value


def _effect(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(
            f"min-effect must be a finite number > 0, got {text!r}; write e.g. 0.05"
        )
    return value


if __name__ == "__main__":
    sys.exit(main())
