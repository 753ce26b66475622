"""Decide which agents to retire, watch or keep, from the evidence in event logs.

An agent is retired when, at the policy's confidence, one of three rules is
met:

- error ceiling: the lower bound of its error rate is above the ceiling;
- reward margin: its reward is below that of the best agent costing no more
  per run, and the whole interval of the difference lies below -margin;
- dominated: another agent has both higher reward and lower cost per run,
  each interval excluding zero.

The reward-margin rule only looks at agents that cost no more, so a cheap
agent is not retired for being worse than an expensive one: that trade is a
budget decision, left to a person. An agent that reports no cost may cost
anything, so it takes part in neither cost rule. No agent with fewer than
``min_runs`` runs is retired. "watch" means a rule's point estimate is met
but its interval does not settle it; "keep" means no rule is met.

Intervals are fixed-horizon unless the comparison is sequential (by default
when agents share no case ids, as with production traffic): then the reward
and error-rate intervals are confidence sequences, valid however often the
log is checked. Cost intervals are always fixed-horizon.

``--apply`` appends each verdict to the log as a decision event, and
`is_retired` reads the latest one back.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, NamedTuple

from telemetry import TelemetryLogger, new_run_id
from telemetry import statistics as st
from telemetry._cli import format_number, plural, quiet_on_broken_pipe
from telemetry._compare_runs import (
    GroupRuns,
    load_groups,
    parse_ts,
    too_few_groups_message,
)
from telemetry._compare_text import OneLineParser, format_table, instant, log_paths
from telemetry.compare import CompareOptions, Comparison, compare_groups
from telemetry.logread import PathArg, ReadReport, read_events

__all__ = [
    "Assessment",
    "RetirementPolicy",
    "Verdict",
    "apply_verdicts",
    "assess",
    "format_assessment",
    "is_retired",
    "main",
]

VerdictName = Literal["retire", "watch", "keep"]

_COST_UNKNOWN = (
    "reward margin and dominance not checked because the cost per run is unknown"
)
"""Reason of an agent whose cost per run is unknown, so cost rules cannot apply."""


class _Setting(NamedTuple):
    """A numeric policy setting: its type, its range and an example value."""

    name: str
    integer: bool
    valid: Callable[[float], bool]
    expected: str
    example: str


_SETTINGS = (
    _Setting("confidence", False, lambda v: 0 < v < 1, "a number in (0, 1)", "0.95"),
    _Setting("error_ceiling", False, lambda v: 0 <= v < 1, "a number in [0, 1)", "0.1"),
    _Setting("reward_margin", False, lambda v: v >= 0, "a number >= 0", "0.05"),
    _Setting("min_runs", True, lambda v: v >= 1, "an integer >= 1", "30"),
    _Setting("target_n", True, lambda v: v >= 1, "an integer >= 1", "500"),
)


@dataclass(frozen=True)
class RetirementPolicy:
    """The rules agents are retired by.

    Attributes:
        confidence: Level of every interval the rules read, in (0, 1).
        error_ceiling: Highest acceptable error rate, in [0, 1).
        reward_margin: Reward shortfall, against the best agent costing no
            more, that is tolerated (in reward units, >= 0).
        min_runs: Minimum number of runs before an agent can be retired.
        sequential: Use confidence sequences; None means only when the agents
            share no case ids.
        target_n: Pairs at which confidence sequences are tightest.
    """

    confidence: float = 0.95
    error_ceiling: float = 0.10
    reward_margin: float = 0.05
    min_runs: int = 30
    sequential: bool | None = None
    target_n: int = 500

    def __post_init__(self) -> None:
        """Reject settings the rules cannot use, naming the field and a fix.

        Raises:
            TypeError: A setting has the wrong type, e.g. a string.
            ValueError: A setting is out of range.
        """
        for setting in _SETTINGS:
            value = getattr(self, setting.name)
            integer = isinstance(value, int) and not isinstance(value, bool)
            number = integer or isinstance(value, float)
            if not (integer if setting.integer else number):
                raise TypeError(
                    f"{setting.name} must be {setting.expected}, got "
                    f"{type(value).__name__} {value!r}; use e.g. {setting.example}"
                )
            if not setting.valid(value):
                raise ValueError(
                    f"{setting.name} must be {setting.expected}, got {value!r}; "
                    f"use e.g. {setting.example}"
                )
        if self.sequential is not None and not isinstance(self.sequential, bool):
            raise TypeError(
                "sequential must be true, false or None (decide from the case "
                f"ids), got {type(self.sequential).__name__} {self.sequential!r}"
            )

    @classmethod
    def from_toml(cls, path: str | Path) -> RetirementPolicy:
        """Load a policy from a TOML file of top-level keys; absent keys keep defaults.

        Raises:
            ValueError: On Python 3.10 (no tomllib), for a TOML syntax error, an
                unknown key or a value out of range; the message names the file.
            TypeError: A value has the wrong type; the message names the file.
            FileNotFoundError: The file does not exist.
        """
        data = _read_toml(path)
        known = {f.name for f in fields(cls)}
        for key in data:
            if key not in known:
                raise ValueError(
                    f"unknown policy key {key!r} in {path}; use "
                    f"{', '.join(sorted(known))}"
                )
        try:
            return cls(**data)
        except (TypeError, ValueError) as error:
            raise type(error)(f"policy file {path}: {error}") from None


def _read_toml(path: str | Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib

        try:
            with open(path, "rb") as file:
                return tomllib.load(file)
        except FileNotFoundError:
            raise FileNotFoundError(
                f"policy file {str(path)!r} not found; pass an existing TOML file"
            ) from None
        except OSError as error:
            # A folder or an unreadable file, named in the one-line error.
            raise ValueError(
                f"policy file {str(path)!r} could not be read: {error.strerror}; "
                "pass a readable TOML file"
            ) from None
        except tomllib.TOMLDecodeError as error:
            raise ValueError(
                f"policy file {path} is not valid TOML: {error}; write one "
                "key = value per line, e.g. error_ceiling = 0.1"
            ) from None
    raise ValueError(
        "--policy needs Python 3.11 or later to read TOML; pass the settings "
        "as RetirementPolicy(...) instead"
    )


@dataclass(frozen=True)
class Verdict:
    """The decision on one agent, with its reason in plain words.

    Attributes:
        agent: Agent name.
        verdict: "retire", "watch" or "keep".
        rule: The rule behind the verdict: "error ceiling", "reward margin",
            "dominated", "min runs", or "none" for keep.
        reason: The figures and their intervals, as a sentence.
        runs: Runs of the agent in the window.
    """

    agent: str
    verdict: VerdictName
    rule: str
    reason: str
    runs: int


@dataclass(frozen=True)
class Assessment:
    """Verdicts for every agent, with the comparison they rest on."""

    policy: RetirementPolicy
    verdicts: list[Verdict]
    comparison: Comparison

    def to_dict(self) -> dict[str, Any]:
        """Return the policy, mode, verdicts and skipped lines as JSON-ready data."""
        return {
            "policy": asdict(self.policy),
            "sequential": self.comparison.sequential,
            "verdicts": [asdict(v) for v in self.verdicts],
            "skipped": self.comparison.skipped,
        }


@dataclass(frozen=True)
class _Finding:
    verdict: VerdictName
    rule: str
    reason: str


def assess(
    paths: PathArg | Iterable[PathArg],
    *,
    policy: RetirementPolicy | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Assessment:
    """Judge every agent in event logs against a retirement policy.

    Raises:
        FileNotFoundError: A path does not exist.
        ValueError: Fewer than 2 agents in the window.
    """
    policy = RetirementPolicy() if policy is None else policy
    report = ReadReport()
    groups = load_groups(paths, since=since, until=until, report=report)
    if len(groups) < 2:
        # Checked here, not left to compare_groups, because its message names
        # compare's flags, such as --by, which retire does not have.
        raise ValueError(
            too_few_groups_message(
                groups,
                report,
                needed="agents to assess",
                remedy="pass logs with runs of more agents or widen --since/--until",
            )
        )
    options = CompareOptions(
        confidence=policy.confidence,
        sequential=policy.sequential,
        target_n=policy.target_n,
    )
    comparison = compare_groups(groups, all_pairs=True, options=options, report=report)
    verdicts = [_judge(name, groups, comparison, policy) for name in sorted(groups)]
    return Assessment(policy, verdicts, comparison)


def _judge(
    agent: str,
    groups: Mapping[str, GroupRuns],
    comparison: Comparison,
    policy: RetirementPolicy,
) -> Verdict:
    runs = len(groups[agent])
    eligible = [n for n in groups if n != agent and len(groups[n]) >= policy.min_runs]
    findings = [
        _error_ceiling(groups[agent], comparison.sequential, policy),
        _reward_margin(agent, eligible, comparison, policy),
        *(_dominance(agent, other, comparison, policy) for other in eligible),
    ]
    found = [f for f in findings if f is not None]
    retire = [f for f in found if f.verdict == "retire"]
    watch = [f for f in found if f.verdict == "watch"]

    if retire and runs < policy.min_runs:
        reason = (
            f"{retire[0].reason}; but only {plural(runs, 'run')}, fewer than the "
            f"{policy.min_runs} needed to retire"
        )
        return Verdict(agent, "watch", "min runs", reason, runs)
    if retire or watch:
        first = (retire or watch)[0]
        return Verdict(agent, first.verdict, first.rule, first.reason, runs)

    reasons = [f.reason for f in found]
    if _COST_UNKNOWN not in reasons:
        reasons.append("not dominated")
    if runs < policy.min_runs:
        only = plural(runs, "run")
        reasons.append(f"only {only}, fewer than the {policy.min_runs} needed")
    return Verdict(agent, "keep", "none", "; ".join(reasons), runs)


def _error_ceiling(
    group: GroupRuns, sequential: bool, policy: RetirementPolicy
) -> _Finding:
    errors, runs = sum(group.failed), len(group)
    rate = errors / runs
    if sequential and runs >= 2:
        in_order = [f for _, f in sorted(zip(group.ts, group.failed, strict=True))]
        interval = st.proportion_sequence(
            in_order, policy.confidence, policy.target_n
        ).interval
        kind = "CS"
    else:
        # NOTE: runs are counted as independent, so repeats of a deterministic case
        # narrow this interval without adding evidence; a per-case rate would not.
        interval = st.wilson_interval(errors, runs, policy.confidence)
        kind = "CI"

    figures = (
        f"error rate {rate:.1%} [{interval.low:.1%}, {interval.high:.1%}] "
        f"({policy.confidence:.0%} {kind}, "
        f"{errors} of {plural(runs, 'run')})"
    )
    if interval.low > policy.error_ceiling:
        reason = f"{figures} is above the {_percent(policy.error_ceiling)} ceiling"
        return _Finding("retire", "error ceiling", reason)
    if rate > policy.error_ceiling:
        reason = f"{figures} may be above the {_percent(policy.error_ceiling)} ceiling"
        return _Finding("watch", "error ceiling", reason)
    return _Finding("keep", "error ceiling", f"{figures} within the ceiling")


def _reward_margin(
    agent: str, others: list[str], comparison: Comparison, policy: RetirementPolicy
) -> _Finding | None:
    summary = {g.name: g for g in comparison.groups}
    own = summary[agent]
    if own.mean_reward is None:
        return None
    if own.cost_per_run_usd is None:
        reason = _COST_UNKNOWN
        return _Finding("keep", "reward margin", reason)

    # An unknown cost may be any cost, so it never counts as costing no more.
    unknown = [n for n in others if summary[n].cost_per_run_usd is None]
    left_out = (
        f"; {', '.join(unknown)} left out of the cost rules because "
        f"{'its' if len(unknown) == 1 else 'their'} cost is unknown"
        if unknown
        else ""
    )
    affordable = [
        n
        for n in others
        if summary[n].mean_reward is not None
        and _costs_no_more(summary[n].cost_per_run_usd, own.cost_per_run_usd)
    ]
    best = max(
        affordable, key=lambda n: (summary[n].mean_reward or 0.0, n), default=None
    )
    if best is None or (summary[best].mean_reward or 0.0) <= own.mean_reward:
        reason = "reward the highest among agents costing no more per run"
        return _Finding("keep", "reward margin", reason + left_out)
    difference = _reward_difference(agent, best, comparison)
    if difference is None:
        return None

    estimate, interval, kind = difference
    margin = policy.reward_margin
    shown, low, high = (
        format_number(v, "+.3f") for v in (estimate, interval.low, interval.high)
    )
    figures = (
        f"reward {shown} [{low}, {high}] "
        f"({policy.confidence:.0%} {kind}) against {best}, the best agent "
        "costing no more per run"
    )
    if interval.high < -margin:
        reason = f"{figures}; below -{margin:g}{left_out}"
        return _Finding("retire", "reward margin", reason)
    if estimate < -margin:
        reason = f"{figures}; possibly below -{margin:g}{left_out}"
        return _Finding("watch", "reward margin", reason)
    return _Finding("keep", "reward margin", f"{figures}; within {margin:g}{left_out}")


def _costs_no_more(cost: float | None, than: float | None) -> bool:
    return cost is not None and than is not None and cost <= than


def _dominance(
    agent: str, other: str, comparison: Comparison, policy: RetirementPolicy
) -> _Finding | None:
    reward = _reward_difference(agent, other, comparison)
    cost = _cost_difference(agent, other, comparison)
    if reward is None or cost is None:
        return None

    r_estimate, r_interval, kind = reward
    c_estimate, c_interval = cost
    reward_worse, cost_higher = r_interval.high < 0, c_interval.low > 0
    gain = [
        format_number(-v, ".3f") for v in (r_estimate, r_interval.high, r_interval.low)
    ]
    saving = [
        format_number(v, ".3g") for v in (c_estimate, c_interval.low, c_interval.high)
    ]
    figures = (
        f"{other} has higher reward by {gain[0]} [{gain[1]}, {gain[2]}] "
        f"({policy.confidence:.0%} {kind}) and lower cost per run by "
        f"{saving[0]} [{saving[1]}, {saving[2]}] USD"
    )
    if reward_worse and cost_higher:
        return _Finding("retire", "dominated", figures)
    if (reward_worse and c_estimate > 0) or (cost_higher and r_estimate < 0):
        return _Finding("watch", "dominated", f"{figures}; not both settled")
    return None


def _reward_difference(
    agent: str, other: str, comparison: Comparison
) -> tuple[float, st.Interval, str] | None:
    """Return agent - other in reward: estimate, interval and interval kind."""
    pair, sign = _pair(agent, other, comparison)
    value: st.MeanDifference | st.ConfidenceSequence | st.TwoSampleSequence | None
    value = pair.sequence if comparison.sequential else pair.reward
    if value is None:
        return None
    kind = "CS" if comparison.sequential else "CI"
    return (*_oriented(value.estimate, value.interval, sign), kind)


def _cost_difference(
    agent: str, other: str, comparison: Comparison
) -> tuple[float, st.Interval] | None:
    """Return agent - other in cost per run (USD): estimate and interval."""
    pair, sign = _pair(agent, other, comparison)
    if pair.cost is None:
        return None
    return _oriented(pair.cost.estimate, pair.cost.interval, sign)


def _pair(agent: str, other: str, comparison: Comparison) -> tuple[Any, int]:
    for pair in comparison.pairs:
        if (pair.treatment, pair.baseline) == (agent, other):
            return pair, 1
        if (pair.treatment, pair.baseline) == (other, agent):
            return pair, -1
    raise LookupError(f"no comparison of {agent} with {other}")


def _oriented(
    estimate: float, interval: st.Interval, sign: int
) -> tuple[float, st.Interval]:
    if sign > 0:
        return estimate, interval
    return -estimate, st.Interval(-interval.high, -interval.low)


def apply_verdicts(verdicts: Sequence[Verdict], path: str | Path) -> None:
    """Append each verdict to a log as a decision event, and flush it.

    Raises:
        OSError: The events could not all be written.
    """
    with TelemetryLogger(path) as logger:
        for v in verdicts:
            logger.log_event_sync(
                agent=v.agent,
                run_id=new_run_id(),
                latency_ms=0,
                kind="decision",
                meta={"verdict": v.verdict, "rule": v.rule, "reason": v.reason},
            )
        result = logger.flush_sync()
    if not result.complete:
        raise OSError(
            f"wrote only part of the decision events to {path}: {result.error}"
        )


def is_retired(agent: str, path: PathArg | Iterable[PathArg]) -> bool:
    """Return True when the latest decision event for agent is "retire".

    A later "keep" or "watch" reinstates the agent. Decision events are
    ordered by time, then by position in the log.

    Raises:
        FileNotFoundError: A path does not exist.
    """
    latest: tuple[datetime, int] | None = None
    verdict = None
    for position, event in enumerate(read_events(path)):
        if event.get("kind") != "decision" or event["agent"] != agent:
            continue
        meta = event.get("meta")
        recorded = meta.get("verdict") if isinstance(meta, dict) else None
        stamp = (parse_ts(event["ts"]), position)
        if isinstance(recorded, str) and (latest is None or stamp > latest):
            latest, verdict = stamp, recorded
    return verdict == "retire"


def format_assessment(assessment: Assessment) -> str:
    """Render the verdicts as an aligned table."""
    rows = [["agent", "verdict", "rule", "runs", "reason"]]
    for v in assessment.verdicts:
        rows.append([v.agent, v.verdict, v.rule, str(v.runs), v.reason])
    policy = assessment.policy
    mode = "sequential" if assessment.comparison.sequential else "fixed-horizon"
    lines = [
        f"{len(assessment.verdicts)} agents, {mode} intervals at "
        f"{policy.confidence:.0%}; error ceiling {_percent(policy.error_ceiling)}, "
        f"reward margin {policy.reward_margin:g}, min runs {policy.min_runs}",
        "",
        *format_table(rows, left={0, 1, 2, 4}),
    ]
    if assessment.comparison.skipped_note:
        lines += ["", assessment.comparison.skipped_note]
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="telemetry-retire",
        description="Decide which agents to retire, watch or keep.",
    )
    parser.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help="log files or folders (default: $AGENT_TELEMETRY_PATH or "
        "telemetry/events.jsonl); rotated siblings are read too",
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

    parser.add_argument(
        "--policy", metavar="TOML", help="policy file of RetirementPolicy keys"
    )
    for name in ("confidence", "error_ceiling", "reward_margin"):
        parser.add_argument(
            "--" + name.replace("_", "-"),
            type=float,
            help=f"override the policy's {name}",
        )
    parser.add_argument("--min-runs", type=int, help="override the policy's min_runs")

    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--sequential",
        action="store_true",
        default=None,
        help="confidence sequences (default when no case ids are shared)",
    )
    mode.add_argument(
        "--fixed",
        dest="sequential",
        action="store_false",
        help="fixed-horizon intervals (default with shared case ids)",
    )

    parser.add_argument(
        "--apply",
        action="store_true",
        help="append the verdicts to the log as decision events",
    )
    parser.add_argument(
        "--log",
        metavar="PATH",
        help="log --apply appends to (default: the first FILE)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    return parser


def _policy(args: argparse.Namespace) -> RetirementPolicy:
    policy = (
        RetirementPolicy()
        if args.policy is None
        else RetirementPolicy.from_toml(args.policy)
    )
    changes = {
        name: getattr(args, name)
        for name in (
            "confidence",
            "error_ceiling",
            "reward_margin",
            "min_runs",
            "sequential",
        )
        if getattr(args, name) is not None
    }
    return replace(policy, **changes)


def _apply_target(args: argparse.Namespace, files: list[str]) -> str:
    target = args.log or files[0]
    if Path(target).is_dir():
        raise ValueError(
            f"--apply appends to a file, but {target!r} is a folder; name the "
            "live log with --log"
        )
    return target


@quiet_on_broken_pipe
def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (2 for bad input).

    Args:
        argv: Arguments without the program name; ``sys.argv[1:]`` if None.
    """
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        files = log_paths(args.files)
        policy = _policy(args)
        target = _apply_target(args, files) if args.apply else None
        assessment = assess(files, policy=policy, since=args.since, until=args.until)
    except (FileNotFoundError, TypeError, ValueError) as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2

    if target is not None:
        try:
            apply_verdicts(assessment.verdicts, target)
        except OSError as error:
            print(f"{parser.prog}: error: {error}", file=sys.stderr)
            return 1
    if args.json:
        print(json.dumps(assessment.to_dict(), indent=2))
    else:
        print(format_assessment(assessment))
    if target is not None:
        # A status line, not output: stdout stays parseable under --json.
        print(
            f"appended {len(assessment.verdicts)} decision events to {target}",
            file=sys.stderr,
        )
    return 0


def _percent(share: float) -> str:
    """Format a share as a percentage without rounding it past its meaning."""
    return f"{share * 100:g}%"


if __name__ == "__main__":
    sys.exit(main())
