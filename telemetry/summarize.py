"""Summarize event logs per agent (or any key): runs, errors, latency, cost, reward.

Run it as ``python -m telemetry.summarize [FILES...]`` or ``telemetry-summarize``.
Only runs count (events whose ``kind`` is absent or ``"run"``); decision events
are read and set aside. Memory stays bounded per group: each group keeps its
latencies in an ``array('d')`` (8 bytes a run, for exact percentiles) and
running sums for everything else, never whole events.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from ._cli import log_paths, quiet_on_broken_pipe
from ._compare_runs import missing_key_note
from ._quantiles import percentile, t_quantile
from ._summary_cli import DEFAULT_PATH, _parser
from ._summary_format import format_csv, format_json, format_table
from ._summary_groups import NO_GROUP, GroupSummary, Summary, _fold, _Group
from .logread import (
    PathArg,
    ReadReport,
    expand_paths,
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

# Below this a file is read whole: starting a process costs more than it
# saves (an estimate from timing on two cores).
_MIN_SPAN_BYTES = 8 * 1024 * 1024


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
    if summary.groups and all(g.group == NO_GROUP for g in summary.groups):
        note = missing_key_note(files, args.by, since=args.since, until=args.until)
        if note:
            print(f"{parser.prog}: note: {note}", file=sys.stderr)
    return 0


def _warn_skipped(report: ReadReport) -> None:
    skipped = report.describe()
    if skipped:
        print(skipped, file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
