"""Read event logs: expand rotated sets, stream valid events, count the rest.

Every tool that consumes ``events.jsonl`` reads it through this module, so they
agree on which lines count: compare and retire through :func:`read_events`,
summarize through :func:`read_batches`, which yields the same events with
their core fields as columns (:func:`read_events` is built on it). A line that is
blank, not JSON, torn (the last line of a file cut off by a crash), not a JSON
object, or whose core fields have the wrong type is skipped and counted in a
:class:`ReadReport` with its ``file:line``, never raised: one bad line must not
hide a million good ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import chain
from typing import Any

from ._logbatches import read_batches, read_span, split_file
from ._loglines import CORE_FIELDS, EventBatch
from ._logpaths import PathArg, expand_paths
from ._logreport import ReadReport, SkippedLine
from ._timebounds import parse_duration, parse_instant

__all__ = [
    "CORE_FIELDS",
    "EventBatch",
    "EventStream",
    "PathArg",
    "ReadReport",
    "SkippedLine",
    "expand_paths",
    "parse_duration",
    "parse_instant",
    "read_batches",
    "read_events",
    "read_span",
    "split_file",
]


class EventStream(Iterator[dict[str, Any]]):
    """Iterator over valid events whose ``report`` fills in as it is consumed."""

    def __init__(self, events: Iterator[dict[str, Any]], report: ReadReport):
        self._events = events
        self.report = report

    def __iter__(self) -> Iterator[dict[str, Any]]:
        # Handing out the generator itself keeps ``for`` loops off the slower
        # Python-level __next__ below.
        return self._events

    def __next__(self) -> dict[str, Any]:
        return next(self._events)


def read_events(
    paths: PathArg | Iterable[PathArg],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    report: ReadReport | None = None,
) -> EventStream:
    """Stream the valid events of log files, skipping and counting bad lines.

    Files are expanded with :func:`expand_paths` at once, so a missing file
    raises here rather than on the first ``next``. Events of every ``kind``
    are yielded, decision events included; consumers pick what they need.

    A line is skipped, and counted in the report under its reason, when it is
    blank, not JSON, a torn last line, not an object, or when a core field is
    wrong: ``ts`` not an ISO-8601 timestamp with a UTC offset, ``agent`` or
    ``run_id`` not a non-empty string, ``latency_ms`` not a finite number
    >= 0, ``cost_usd`` not null or a finite number >= 0, ``tokens_in`` or
    ``tokens_out`` not null or an int >= 0, ``error`` not null or a string,
    ``reward`` not null or a finite number, or ``kind`` present but not a
    string. A nullable core field that is absent reads as null. Other optional
    fields are passed through as parsed; consumers check the ones they use.

    Args:
        paths: Files or folders, as for :func:`expand_paths`.
        since: Keep events with ``ts >= since``; a timezone-aware datetime.
        until: Keep events with ``ts < until``; a timezone-aware datetime.
        report: Tally to fill; a new one is made when omitted. Either way it
            is ``stream.report``.

    Returns:
        An iterator of event dicts, as parsed, with a ``report`` attribute.

    Raises:
        FileNotFoundError: A path does not exist.
        ValueError: ``since`` or ``until`` is naive.
    """
    report = ReadReport() if report is None else report
    batches = read_batches(paths, since=since, until=until, report=report)
    events = chain.from_iterable(batch.events for batch in batches)
    return EventStream(events, report)
