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
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

import numpy as np

from telemetry import statistics as st
from telemetry._cli import quiet_on_broken_pipe
from telemetry._compare_runs import (
    NO_GROUP,
    CaseSummary,
    GroupRuns,
    load_groups,
    mean_or_none,
    missing_key_note,
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


_NOISE_SD = 1e-12
"""Spread of rewards below which it is float rounding, not variance."""


@dataclass(frozen=True)
class CompareOptions:
    """Settings of a comparison.

    Attributes:
        confidence: Level of every interval, e.g. 0.95.
        min_effect: Reward difference the power figure is computed for.
        power: Power the required number of cases aims at.
        pass_threshold: A run passes when its reward is >= this; None means a
            run passes when its error is null.
        sequential: Report confidence sequences; None means only when the
            groups share no case ids.
        target_n: Cases (paired) or runs per group (unpaired) at which
            confidence sequences are tightest.
    """

    confidence: float = 0.95
    min_effect: float = 0.05
    power: float = 0.8
    pass_threshold: float | None = None
    sequential: bool | None = None
    target_n: int = 500


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
class PairComparison:
    """One group set against another; differences are treatment - baseline.

    Attributes:
        treatment: Group compared.
        baseline: Group compared against.
        design: "paired by case", or "unpaired (no case ids)" when a group
            carries none, "unpaired (no shared case ids)" when both do but
            share none, "unpaired (1 shared case id)" when they share one.
        cases: Cases behind the reward difference: shared cases with a
            reward in both groups (paired), or runs with a reward in either
            group (unpaired).
        clusters: Clusters behind a cluster-robust reward difference, or None
            when the plain paired standard error is the larger and is used.
        reward: Fixed-horizon reward difference and test, or None.
        reward_p_holm: Holm-adjusted p-value of the reward test.
        pass_fail: McNemar's test on per-case pass/fail (paired only).
        pass_p_holm: Holm-adjusted McNemar p-value.
        cost: Difference in cost per run in USD, or None.
        sequence: Confidence sequence for the reward difference, or None:
            of the per-case differences (paired), or of the two group means
            (unpaired, see `telemetry.statistics.two_sample_sequence`).
        required_cases: Cases (per group when unpaired) needed to detect the
            minimum effect with the observed variance, or None.
        notes: Why figures are missing, one sentence each, e.g. "Δreward
            needs 2 runs with a reward in each group, and planner has none".
    """

    treatment: str
    baseline: str
    design: str
    cases: int
    clusters: int | None
    reward: st.MeanDifference | None
    reward_p_holm: float | None
    pass_fail: st.McNemarResult | None
    pass_p_holm: float | None
    cost: st.MeanDifference | None
    sequence: st.ConfidenceSequence | st.TwoSampleSequence | None
    required_cases: int | None
    notes: tuple[str, ...] = ()


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
        found = ", ".join(sorted(groups)) or "none"
        raise ValueError(
            f"need at least 2 groups to compare by {key}, found {found}; "
            "pass more logs, widen --since/--until or pick another --by"
        )

    pairs_to_run, chosen = _pairs(groups, baseline, all_pairs)
    sequential = options.sequential
    if sequential is None:
        sequential = not any(
            _shared_cases(groups[t], groups[b]) for t, b in pairs_to_run
        )
    # Bonferroni keeps every sequence in the family valid at once.
    cs_confidence = 1 - (1 - options.confidence) / len(pairs_to_run)
    pairs = [
        _compare_pair(groups[t], groups[b], options, sequential, cs_confidence)
        for t, b in pairs_to_run
    ]

    return Comparison(
        key=key,
        baseline=chosen,
        sequential=sequential,
        options=options,
        groups=[_summarize(groups[name], options) for name in sorted(groups)],
        pairs=_holm(pairs),
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


def _shared_cases(a: GroupRuns, b: GroupRuns) -> list[str]:
    return sorted(set(a.cases) & set(b.cases))


def _compare_pair(
    t: GroupRuns,
    b: GroupRuns,
    options: CompareOptions,
    sequential: bool,
    cs_confidence: float,
) -> PairComparison:
    shared = _shared_cases(t, b)
    if len(shared) >= 2:
        return _paired(t, b, shared, options, sequential, cs_confidence)
    design = _unpaired_design(t, b, len(shared))
    return _unpaired(t, b, design, options, sequential, cs_confidence)


def _unpaired_design(t: GroupRuns, b: GroupRuns, shared: int) -> str:
    """Return why a pair is unpaired: no case ids at all, or too few shared."""
    if not (t.cases and b.cases):
        return "unpaired (no case ids)"
    if shared == 0:
        return "unpaired (no shared case ids)"
    return "unpaired (1 shared case id)"


def _paired(
    t: GroupRuns,
    b: GroupRuns,
    shared: list[str],
    options: CompareOptions,
    sequential: bool,
    cs_confidence: float,
) -> PairComparison:
    tc, bc = t.cases, b.cases
    # Completion order: the order in which a monitor reading the log gets them.
    scored = sorted(
        (c for c in shared if tc[c].reward is not None and bc[c].reward is not None),
        key=lambda c: (max(tc[c].last_ts, bc[c].last_ts), c),
    )
    x = [_known(tc[c].reward) for c in scored]
    y = [_known(bc[c].reward) for c in scored]
    clusters = [tc[c].cluster or bc[c].cluster for c in scored]
    reward, n_clusters, required = _paired_reward(x, y, clusters, options)

    sequence = None
    if sequential and len(scored) >= 2:
        d = [a - b for a, b in zip(x, y, strict=True)]
        sequence = st.confidence_sequence(d, cs_confidence, options.target_n)

    costed = [
        c for c in shared if tc[c].cost_usd is not None and bc[c].cost_usd is not None
    ]
    cost = _paired_cost(tc, bc, costed, options)
    notes = []
    if reward is None:
        notes.append(_too_few_shared("Δreward", "a reward", len(scored)))
    if cost is None:
        notes.append(_too_few_shared("ΔUSD/run", "a cost", len(costed)))
    if reward is not None and required is None:
        same = "every case has the same reward difference"
        notes.append(_no_required(options, same))

    return PairComparison(
        treatment=t.name,
        baseline=b.name,
        design="paired by case",
        cases=len(scored),
        clusters=n_clusters,
        reward=reward,
        reward_p_holm=None,
        pass_fail=_mcnemar(tc, bc, shared),
        pass_p_holm=None,
        cost=cost,
        sequence=sequence,
        required_cases=required,
        notes=tuple(notes),
    )


def _paired_reward(
    x: list[float], y: list[float], clusters: list[str | None], options: CompareOptions
) -> tuple[st.MeanDifference | None, int | None, int | None]:
    """Return the reward difference, its cluster count and the cases needed."""
    if len(x) < 2:
        return None, None, None

    plain = st.paired_difference(x, y, options.confidence)
    d = [a - b for a, b in zip(x, y, strict=True)]
    required = _required(d, options, "paired")
    labels = [c for c in clusters if c is not None]
    if len(labels) < len(clusters) or len(set(labels)) < 2:
        return plain, None, required

    robust = st.cluster_robust_mean(d, labels, options.confidence)
    # Balanced clusters can make the robust estimate smaller than the plain
    # one, even zero; clustering is never allowed to claim more precision.
    if robust.se <= plain.se:
        return plain, None, required
    if required is not None and plain.se > 0:
        # Clustered cases carry less information, so scale by the design effect.
        required = math.ceil(required * (robust.se / plain.se) ** 2)
    return robust, len(set(labels)), required


def _mcnemar(
    tc: Mapping[str, CaseSummary], bc: Mapping[str, CaseSummary], shared: list[str]
) -> st.McNemarResult:
    only_t = sum(tc[c].passed and not bc[c].passed for c in shared)
    only_b = sum(bc[c].passed and not tc[c].passed for c in shared)
    return st.mcnemar(only_t, only_b)


def _paired_cost(
    tc: Mapping[str, CaseSummary],
    bc: Mapping[str, CaseSummary],
    costed: list[str],
    options: CompareOptions,
) -> st.MeanDifference | None:
    if len(costed) < 2:
        return None
    x = [_known(tc[c].cost_usd) for c in costed]
    y = [_known(bc[c].cost_usd) for c in costed]
    return st.paired_difference(x, y, options.confidence)


def _unpaired(
    t: GroupRuns,
    b: GroupRuns,
    design: str,
    options: CompareOptions,
    sequential: bool,
    cs_confidence: float,
) -> PairComparison:
    x = [r for r in t.reward if r is not None]
    y = [r for r in b.reward if r is not None]
    reward, required = None, None
    if len(x) >= 2 and len(y) >= 2:
        reward = st.welch_difference(x, y, options.confidence)
        mx, my = sum(x) / len(x), sum(y) / len(y)
        pooled = [v - mx for v in x] + [v - my for v in y]
        required = _required(pooled, options, "two-sample")

    sequence = None
    if sequential and len(x) >= 2 and len(y) >= 2:
        sequence = st.two_sample_sequence(x, y, cs_confidence, options.target_n)

    tx = [c for c in t.cost_usd if c is not None]
    by = [c for c in b.cost_usd if c is not None]
    cost = None
    if len(tx) >= 2 and len(by) >= 2:
        cost = st.welch_difference(tx, by, options.confidence)

    notes = [
        note
        for figure, what, counts in (
            ("Δreward", "a reward", {t.name: len(x), b.name: len(y)}),
            ("ΔUSD/run", "a cost", {t.name: len(tx), b.name: len(by)}),
        )
        if (note := _too_few_runs(figure, what, counts))
    ]
    if reward is not None and required is None:
        same = "the rewards within each group do not vary"
        notes.append(_no_required(options, same))

    return PairComparison(
        treatment=t.name,
        baseline=b.name,
        design=design,
        cases=len(x) + len(y),
        clusters=None,
        reward=reward,
        reward_p_holm=None,
        pass_fail=None,
        pass_p_holm=None,
        cost=cost,
        sequence=sequence,
        required_cases=required,
        notes=tuple(notes),
    )


def _too_few_shared(figure: str, what: str, count: int) -> str:
    """Return why a paired figure is missing: fewer than 2 cases to pair on."""
    found = "there are none" if count == 0 else "there is 1"
    return f"{figure} needs 2 shared cases with {what} in both groups, and {found}"


def _no_required(options: CompareOptions, zero_variance: str) -> str:
    """Return why the cases needed were not computed although Δreward was."""
    figure = f"cases for ±{options.min_effect:g}"
    if options.min_effect <= 0:
        return f"{figure} needs a minimum effect above 0"
    return f"{figure} is not computed because {zero_variance}"


def _too_few_runs(figure: str, what: str, counts: Mapping[str, int]) -> str:
    """Return why an unpaired figure is missing, or "" when it is not."""
    short = [
        f"{name} has {count or 'none'}" for name, count in counts.items() if count < 2
    ]
    if not short:
        return ""
    return f"{figure} needs 2 runs with {what} in each group, and {', '.join(short)}"


def _required(
    residuals: list[float], options: CompareOptions, design: st.Design
) -> int | None:
    if options.min_effect <= 0:
        return None

    sd = float(np.std(residuals, ddof=1))
    if sd <= _NOISE_SD:
        # Any sample then measures the difference exactly, so no size follows.
        return None
    return st.required_sample_size(
        options.min_effect,
        sd,
        alpha=1 - options.confidence,
        power=options.power,
        design=design,
    )


def _holm(pairs: list[PairComparison]) -> list[PairComparison]:
    reward = _holm_field([p.reward.p_value if p.reward else None for p in pairs])
    passes = _holm_field([p.pass_fail.p_value if p.pass_fail else None for p in pairs])
    return [
        replace(p, reward_p_holm=r, pass_p_holm=q)
        for p, r, q in zip(pairs, reward, passes, strict=True)
    ]


def _holm_field(p_values: list[float | None]) -> list[float | None]:
    present = [p for p in p_values if p is not None]
    adjusted = iter(st.holm_adjust(present))
    return [None if p is None else next(adjusted) for p in p_values]


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


def _known(value: float | None) -> float:
    assert value is not None
    return value


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
        type=float,
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


if __name__ == "__main__":
    sys.exit(main())
