"""Load run events into per-group columns and per-case summaries.

This is the input side of `telemetry.compare` and `telemetry.retire`: it reads
logs through `telemetry.logread`, keeps runs (events whose ``kind`` is absent
or ``"run"``, as `telemetry.summarize` counts them), and groups them by a key.
`missing_key_note` explains an empty grouping to summarize as well, and
`too_few_groups_message` explains why compare or retire found too few groups.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from telemetry._cli import plural
from telemetry._grouplabel import NO_GROUP, group_label
from telemetry.logread import CORE_FIELDS, PathArg, ReadReport, read_events

__all__ = [
    "NO_GROUP",
    "RUN_KINDS",
    "CaseSummary",
    "GroupRuns",
    "load_groups",
    "mean_or_none",
    "missing_key_note",
    "parse_ts",
    "too_few_groups_message",
]

RUN_KINDS = frozenset({None, "run"})
"""Values of ``kind`` that mark an agent run."""

_CLUSTER_TAG = "cluster:"

_VALID_EVENT_LINE = (
    "a valid event line is a JSON object with the core keys "
    f"{', '.join(CORE_FIELDS[:-1])} and {CORE_FIELDS[-1]}"
)


@dataclass(frozen=True)
class CaseSummary:
    """One group's runs of one case, repeats combined.

    Attributes:
        reward: Mean reward over repeats that have one, or None.
        passed: True when at least half of the repeats pass.
        cost_usd: Mean cost per run in USD over repeats that have one, or None.
        last_ts: Time of the latest repeat.
        cluster: Cluster of the case, or None.
    """

    reward: float | None
    passed: bool
    cost_usd: float | None
    last_ts: datetime
    cluster: str | None


@dataclass
class GroupRuns:
    """The runs of one group, as columns in log order.

    A run passes when its error is null, or, given a ``pass_threshold``, when
    its reward is at least that. The cluster of a run is ``meta.cluster``, or
    else the name in a ``"cluster:<name>"`` tag.
    """

    name: str
    ts: list[datetime] = field(default_factory=list)
    case_id: list[str | None] = field(default_factory=list)
    cluster: list[str | None] = field(default_factory=list)
    latency_ms: list[float] = field(default_factory=list)
    cost_usd: list[float | None] = field(default_factory=list)
    reward: list[float | None] = field(default_factory=list)
    failed: list[bool] = field(default_factory=list)
    passed: list[bool] = field(default_factory=list)

    def __len__(self) -> int:
        """Return the number of runs."""
        return len(self.ts)

    def add(self, event: Mapping[str, Any], pass_threshold: float | None) -> None:
        """Append one valid run event, as `telemetry.logread` yields them.

        An absent nullable field reads as null, as in `telemetry.logread`.
        """
        reward = event.get("reward")
        failed = event.get("error") is not None
        if pass_threshold is None:
            passed = not failed
        else:
            passed = reward is not None and reward >= pass_threshold
        case_id = event.get("case_id")

        self.ts.append(parse_ts(event["ts"]))
        self.case_id.append(None if case_id is None else str(case_id))
        self.cluster.append(_cluster(event))
        self.latency_ms.append(float(event["latency_ms"]))
        self.cost_usd.append(event.get("cost_usd"))
        self.reward.append(reward)
        self.failed.append(failed)
        self.passed.append(passed)

    @cached_property
    def cases(self) -> dict[str, CaseSummary]:
        """Return the per-case summaries of the runs that carry a case id.

        Computed on first access, so add every run before reading it.
        """
        rows_of: dict[str, list[int]] = {}
        for i, case_id in enumerate(self.case_id):
            if case_id is not None:
                rows_of.setdefault(case_id, []).append(i)
        return {case_id: self._case(rows) for case_id, rows in rows_of.items()}

    def _case(self, rows: list[int]) -> CaseSummary:
        rewards = [r for i in rows if (r := self.reward[i]) is not None]
        costs = [c for i in rows if (c := self.cost_usd[i]) is not None]
        passes = sum(self.passed[i] for i in rows)
        clusters = [k for i in rows if (k := self.cluster[i]) is not None]
        return CaseSummary(
            reward=mean_or_none(rewards),
            passed=2 * passes >= len(rows),
            cost_usd=mean_or_none(costs),
            last_ts=max(self.ts[i] for i in rows),
            cluster=clusters[0] if clusters else None,
        )


def load_groups(
    paths: PathArg | Iterable[PathArg],
    *,
    key: str = "agent",
    since: datetime | None = None,
    until: datetime | None = None,
    pass_threshold: float | None = None,
    report: ReadReport | None = None,
) -> dict[str, GroupRuns]:
    """Read the runs of event logs, grouped by a key.

    Decision events and other non-run kinds are left out. Runs without the
    key go to the group `NO_GROUP`.

    Args:
        paths: Log files or folders, rotated siblings included.
        key: "agent", "model", another top-level field, or "meta.<name>".
        since: Keep events at or after this instant.
        until: Keep events before this instant.
        pass_threshold: Reward at or above which a run passes; None means a
            run passes when its error is null.
        report: Filled with the counts of lines read and skipped.

    Raises:
        FileNotFoundError: A path does not exist.
    """
    report = ReadReport() if report is None else report
    groups: dict[str, GroupRuns] = {}
    for event in read_events(paths, since=since, until=until, report=report):
        if event.get("kind") not in RUN_KINDS:
            continue
        name = _group_of(event, key)
        groups.setdefault(name, GroupRuns(name)).add(event, pass_threshold)
    return groups


def missing_key_note(
    paths: PathArg | Iterable[PathArg],
    key: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> str:
    """Return a note when no run in the logs has the grouping key, else "".

    Grouping by a key no run has puts every run in `NO_GROUP`, which looks
    like a result. The note names the key and, when runs have a field of
    that name in ``meta`` (or at the top level, for a ``meta.<name>`` key),
    the ``--by`` value that reads it. A key present with null counts as
    present. The logs are read again, so call it only when every run fell
    in `NO_GROUP`.

    Raises:
        FileNotFoundError: A path does not exist.
    """
    in_meta = key.startswith("meta.")
    name = key.removeprefix("meta.")
    elsewhere = False
    for event in read_events(paths, since=since, until=until):
        if event.get("kind") not in RUN_KINDS:
            continue
        meta = event.get("meta")
        at_top, under_meta = name in event, isinstance(meta, dict) and name in meta
        has_key = under_meta if in_meta else at_top
        if has_key:
            return ""
        elsewhere = elsewhere or (at_top if in_meta else under_meta)

    note = f"no run has the key {key!r}, so every run is in the group {NO_GROUP}"
    if not elsewhere:
        return note
    if in_meta:
        return f"{note}; runs have {name!r} at the top level, so use --by {name}"
    return f"{note}; runs have {name!r} in meta, so use --by meta.{name}"


def too_few_groups_message(
    found: Iterable[str], report: ReadReport, *, needed: str, remedy: str
) -> str:
    """Return the error message for fewer than 2 groups, naming skipped lines.

    When every line read was skipped, the input is most likely not an event
    log, so the message requests one in place of ``remedy``.

    Args:
        found: Names of the groups found.
        report: What reading the logs read and skipped.
        needed: What 2 are needed of, e.g. "groups to compare by agent".
        remedy: The fix when the logs hold events, in terms of the flags of
            the running command.
    """
    skipped = report.skipped_total
    names = ", ".join(sorted(found)) or "none"
    if not skipped:
        return f"need at least 2 {needed}, found {names}; {remedy}"

    reasons = ", ".join(f"{n} {r}" for r, n in sorted(report.skipped.items()))
    were = (
        "was skipped as not an event" if skipped == 1 else "were skipped as not events"
    )
    skip_note = f"{skipped} of {plural(report.lines, 'line')} {were} ({reasons})"
    if report.first_skipped:
        first = report.first_skipped[0]
        skip_note += f", first at {first.path}:{first.line}"
    if skipped == report.lines:
        return (
            f"need at least 2 {needed}, found no events because {skip_note}; "
            f"{_VALID_EVENT_LINE}; pass an event log"
        )
    return (
        f"need at least 2 {needed}, found {names}; {remedy}. {skip_note}; "
        f"{_VALID_EVENT_LINE}"
    )


def mean_or_none(values: Sequence[float]) -> float | None:
    """Return the mean of values, or None when there are none."""
    return sum(values) / len(values) if values else None


def _group_of(event: Mapping[str, Any], key: str) -> str:
    if key.startswith("meta."):
        meta = event.get("meta")
        value = meta.get(key[len("meta.") :]) if isinstance(meta, dict) else None
    else:
        value = event.get(key)
    return group_label(value)


def _cluster(event: Mapping[str, Any]) -> str | None:
    meta = event.get("meta")
    if isinstance(meta, dict) and isinstance(meta.get("cluster"), str):
        return str(meta["cluster"])

    tags = event.get("tags")
    if isinstance(tags, list):
        for tag in tags:
            if isinstance(tag, str) and tag.startswith(_CLUSTER_TAG):
                return tag[len(_CLUSTER_TAG) :]
    return None


def parse_ts(ts: str) -> datetime:
    """Parse an event timestamp; Python 3.10 does not read the "Z" suffix alone."""
    return datetime.fromisoformat(ts[:-1] + "+00:00" if ts.endswith("Z") else ts)
