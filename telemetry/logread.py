"""Read event logs: expand rotated sets, stream valid events, count the rest.

Every tool that consumes ``events.jsonl`` (summarize, compare, retire) reads it
through :func:`read_events`, so they agree on which lines count. A line that is
blank, not JSON, torn (the last line of a file cut off by a crash), not a JSON
object, or whose core fields have the wrong type is skipped and counted in a
:class:`ReadReport` with its ``file:line``, never raised: one bad line must not
hide a million good ones.
"""

from __future__ import annotations

import glob
import math
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import partial
from itertools import chain, compress, pairwise, repeat
from operator import is_not, itemgetter
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple, TypeGuard, Union

import orjson

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

PathArg = Union[str, "os.PathLike[str]"]

CORE_FIELDS = (
    "ts",
    "agent",
    "run_id",
    "latency_ms",
    "cost_usd",
    "tokens_in",
    "tokens_out",
    "error",
    "reward",
)
"""The nine keys every event carries, in the order the logger writes them."""

# About 250 events of 260 bytes. Batches of 32 KiB to 256 KiB timed the same
# (within noise) on a million events, and this one sits in the middle.
_BATCH_BYTES = 64 * 1024
_ROTATED = re.compile(r"^(?P<stem>.+)\.\d{8}T\d{12}Z\.jsonl$")
_DURATION = re.compile(r"^\s*(?P<value>\d+(?:\.\d+)?)\s*(?P<unit>[smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_GETTERS = tuple((key, itemgetter(key)) for key in CORE_FIELDS)
_DICT = {dict}
_NONE = type(None)
_COLUMN_TYPES: tuple[tuple[str, frozenset[type]], ...] = (
    ("ts", frozenset({str})),
    ("agent", frozenset({str})),
    ("run_id", frozenset({str})),
    ("latency_ms", frozenset({int, float})),
    ("cost_usd", frozenset({int, float, _NONE})),
    ("tokens_in", frozenset({int, _NONE})),
    ("tokens_out", frozenset({int, _NONE})),
    ("error", frozenset({str, _NONE})),
    ("reward", frozenset({int, float, _NONE})),
    ("kind", frozenset({str, _NONE})),
)
_is_not_none = partial(is_not, None)


@dataclass(frozen=True)
class SkippedLine:
    """One skipped line: where it is and why it was skipped."""

    path: Path
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line} ({self.reason})"


@dataclass
class ReadReport:
    """Tally what :func:`read_events` read, yielded and skipped.

    Attributes:
        files: The files read, in reading order.
        lines: Lines read, good and bad.
        events: Events yielded (after the ``since``/``until`` window).
        outside_window: Valid events dropped by ``since``/``until``.
        skipped: Count of skipped lines by reason, e.g. ``{"not JSON": 2}``.
        first_skipped: The first few skipped lines, in reading order.
        max_locations: How many skipped lines to keep in ``first_skipped``.
    """

    files: list[Path] = field(default_factory=list)
    lines: int = 0
    events: int = 0
    outside_window: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    first_skipped: list[SkippedLine] = field(default_factory=list)
    max_locations: int = 5

    @property
    def skipped_total(self) -> int:
        """Return the number of skipped lines over all reasons."""
        return sum(self.skipped.values())

    def skip(self, path: Path, line: int, reason: str) -> None:
        """Count one skipped line and keep its location if among the first."""
        self.skipped[reason] = self.skipped.get(reason, 0) + 1
        if len(self.first_skipped) < self.max_locations:
            self.first_skipped.append(SkippedLine(path, line, reason))

    def describe(self) -> str:
        """Return one line naming the skipped lines, or "" when none were."""
        total = self.skipped_total
        if not total:
            return ""

        reasons = ", ".join(f"{n} {r}" for r, n in sorted(self.skipped.items()))
        where = ", ".join(str(s) for s in self.first_skipped)
        noun = "line" if total == 1 else "lines"
        return f"skipped {total} {noun} ({reasons}); first at {where}"


class EventBatch(NamedTuple):
    """Valid events read together, with their core fields as columns.

    Attributes:
        events: The events, as parsed.
        columns: For each of :data:`CORE_FIELDS` and ``"kind"``, the values
            in event order; an absent nullable field or kind is None.
    """

    events: list[dict[str, Any]]
    columns: dict[str, list[Any]]


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


def expand_paths(paths: PathArg | Iterable[PathArg]) -> list[Path]:
    """Expand files and folders into the log files to read, oldest first.

    A file ``events.jsonl`` comes after its rotated siblings
    ``events.<YYYYmmddTHHMMSSffffff>Z.jsonl`` from the same folder, which come
    oldest first. A folder expands to each of its ``*.jsonl`` sets in that
    order. A file named twice is read once.

    Args:
        paths: One path or several.

    Returns:
        The files in reading order.

    Raises:
        FileNotFoundError: A path does not exist.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]

    result: list[Path] = []
    seen: set[Path] = set()
    for arg in paths:
        for path in _expand_one(Path(arg)):
            if path not in seen:
                seen.add(path)
                result.append(path)
    return result


def _expand_one(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(path.glob("*.jsonl"), key=_reading_order)
    if not path.exists():
        raise FileNotFoundError(
            f"log file {str(path)!r} not found; pass an existing file or folder"
        )
    if _ROTATED.match(path.name):
        return [path]

    stem = path.name.removesuffix(".jsonl")
    siblings = [
        p
        for p in path.parent.glob(f"{glob.escape(stem)}.*Z.jsonl")
        if (m := _ROTATED.match(p.name)) and m["stem"] == stem
    ]
    return [*sorted(siblings), path]


def _reading_order(path: Path) -> tuple[str, int, str]:
    match = _ROTATED.match(path.name)
    if match:
        return (match["stem"], 0, path.name)
    return (path.name.removesuffix(".jsonl"), 1, path.name)


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


def read_batches(
    paths: PathArg | Iterable[PathArg],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    report: ReadReport | None = None,
) -> Iterator[EventBatch]:
    """Stream valid events in batches, each with its core fields as columns.

    The same events as :func:`read_events`, for consumers that aggregate:
    checking and summing whole columns runs in C, which timed about twice as
    fast as checking event by event in Python.

    Args:
        paths: Files or folders, as for :func:`expand_paths`.
        since: Keep events with ``ts >= since``; a timezone-aware datetime.
        until: Keep events with ``ts < until``; a timezone-aware datetime.
        report: Tally to fill; pass one to read the counts afterwards.

    Returns:
        An iterator of non-empty batches, in file and line order.

    Raises:
        FileNotFoundError: A path does not exist.
        ValueError: ``since`` or ``until`` is naive.
    """
    _check_aware("since", since)
    _check_aware("until", until)
    files = expand_paths(paths)
    report = ReadReport() if report is None else report
    return _stream(files, since, until, report)


def _check_aware(name: str, value: datetime | None) -> None:
    if value is not None and value.utcoffset() is None:
        raise ValueError(
            f"{name} must be a timezone-aware datetime, got {value!r}; "
            "attach a zone, e.g. value.replace(tzinfo=timezone.utc)"
        )


def _stream(
    files: list[Path],
    since: datetime | None,
    until: datetime | None,
    report: ReadReport,
) -> Iterator[EventBatch]:
    for path in files:
        yield from _read_span(path, 0, None, since, until, report)


def read_span(
    path: PathArg,
    start: int,
    end: int,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    report: ReadReport | None = None,
) -> Iterator[EventBatch]:
    """Stream the valid events of one byte range of a log file, in batches.

    Lets several processes share one large file: cut it with
    :func:`split_file` and read each span as :func:`read_batches` would.

    Args:
        path: The log file.
        start: Offset of the span's first byte; 0 or the start of a line.
        end: Offset just past the span's last byte; the start of a line or
            the file size.
        since: Keep events with ``ts >= since``; a timezone-aware datetime.
        until: Keep events with ``ts < until``; a timezone-aware datetime.
        report: Tally to fill. Its line numbers count from the span's first
            line, so add the lines of the spans before it.

    Returns:
        An iterator of non-empty batches, in line order.

    Raises:
        ValueError: ``start`` or ``end`` is out of order, or ``since`` or
            ``until`` is naive.
    """
    _check_aware("since", since)
    _check_aware("until", until)
    if not 0 <= start <= end:
        raise ValueError(
            f"span must satisfy 0 <= start <= end, got start={start}, end={end}; "
            "take spans from split_file"
        )

    report = ReadReport() if report is None else report
    return _read_span(Path(path), start, end, since, until, report)


def split_file(path: PathArg, parts: int) -> list[tuple[int, int]]:
    """Cut a file into about ``parts`` spans of whole lines, for :func:`read_span`.

    Args:
        path: The log file.
        parts: How many spans to aim for, >= 1; fewer come back when the file
            has fewer lines.

    Returns:
        ``(start, end)`` byte offsets covering the file as it is now, in order.

    Raises:
        ValueError: ``parts`` is not a positive int.
    """
    if type(parts) is not int or parts < 1:
        raise ValueError(f"parts must be an int >= 1, got {parts!r}")

    size = Path(path).stat().st_size
    cuts = [0]
    with open(path, "rb") as file:
        for part in range(1, parts):
            file.seek(max(size * part // parts - 1, cuts[-1]))
            # Finish the line the guess fell in, so every span starts a line.
            file.readline()
            cut = min(file.tell(), size)
            if cut > cuts[-1]:
                cuts.append(cut)
    if cuts[-1] < size or size == 0:
        cuts.append(size)
    return list(pairwise(cuts))


def _read_span(
    path: Path,
    start: int,
    end: int | None,
    since: datetime | None,
    until: datetime | None,
    report: ReadReport,
) -> Iterator[EventBatch]:
    windowed = since is not None or until is not None
    report.files.append(path)
    with path.open("rb") as file:
        file.seek(start)
        remaining = math.inf if end is None else end - start
        first_line = 1
        while remaining > 0 and (lines := _next_lines(file, remaining)):
            if end is not None:
                remaining -= sum(map(len, lines))
            batch = _parse_lines(lines, path, first_line, report)
            first_line += len(lines)
            report.lines += len(lines)
            if batch is not None and windowed:
                batch = _window(batch, since, until, report)
            if batch is not None:
                report.events += len(batch.events)
                yield batch


def _next_lines(file: BinaryIO, remaining: float) -> list[bytes]:
    # readlines stops once the lines read exceed the hint. Spans end at a line
    # start, so a hint one byte short of the span's end stops exactly there.
    hint = int(min(_BATCH_BYTES, remaining - 1))
    if hint > 0:
        return file.readlines(hint)

    # A hint of 0 would mean "read everything".
    line = file.readline()
    return [line] if line else []


def _parse_lines(
    lines: list[bytes], path: Path, first_line: int, report: ReadReport
) -> EventBatch | None:
    try:
        events = list(map(orjson.loads, lines))
    except orjson.JSONDecodeError:
        events = None
    columns = None if events is None else _columns_if_valid(events)
    if events is not None and columns is not None:
        return EventBatch(events, columns)

    # Some line is bad: go line by line to find it and count it.
    good = []
    for lineno, line in enumerate(lines, first_line):
        reason, event = _check_line(line)
        if reason is not None:
            report.skip(path, lineno, reason)
        else:
            good.append(event)
    if not good:
        return None
    return EventBatch(good, _columns(good))


def _columns(events: list[dict[str, Any]]) -> dict[str, list[Any]]:
    return {
        key: list(map(dict.get, events, repeat(key))) for key in (*CORE_FIELDS, "kind")
    }


def _columns_if_valid(events: list[Any]) -> dict[str, list[Any]] | None:
    """Return the columns of ``events`` when all are valid, else None.

    The common case (every event valid) costs a few C-level passes per
    column; any doubt returns None and the caller checks line by line.
    """
    if set(map(type, events)) != _DICT:
        return None
    try:
        columns = {key: list(map(get, events)) for key, get in _GETTERS}
    except KeyError:
        return None
    columns["kind"] = list(map(dict.get, events, repeat("kind")))

    for key, allowed in _COLUMN_TYPES:
        if not _types_within(columns[key], allowed):
            return None
    if not all(columns["agent"]) or not all(columns["run_id"]):
        return None
    if min(columns["latency_ms"]) < 0 or _min_present(columns["cost_usd"]) < 0:
        return None
    if _min_present(columns["tokens_in"]) < 0:
        return None
    if _min_present(columns["tokens_out"]) < 0:
        return None
    try:
        # Comparing with an aware datetime raises for naive timestamps.
        if min(map(datetime.fromisoformat, columns["ts"])) < _EPOCH:
            return None
    except (TypeError, ValueError):
        return None
    return columns


def _types_within(column: list[Any], allowed: frozenset[type]) -> bool:
    return set(map(type, column)) <= allowed


def _min_present(column: list[Any]) -> float:
    return min(filter(_is_not_none, column), default=0)


def _check_line(line: bytes) -> tuple[str | None, dict[str, Any]]:
    try:
        event = orjson.loads(line)
    except orjson.JSONDecodeError:
        return _undecodable_reason(line), {}
    return _invalid_reason(event), event


def _window(
    batch: EventBatch,
    since: datetime | None,
    until: datetime | None,
    report: ReadReport,
) -> EventBatch | None:
    keep = [_in_window(ts, since, until) for ts in batch.columns["ts"]]
    kept = keep.count(True)
    report.outside_window += len(keep) - kept
    if kept == len(keep):
        return batch
    if not kept:
        return None

    events = list(compress(batch.events, keep))
    columns = {k: list(compress(v, keep)) for k, v in batch.columns.items()}
    return EventBatch(events, columns)


def _in_window(ts: str, since: datetime | None, until: datetime | None) -> bool:
    instant = _parse_ts(ts)
    if instant is None:
        return False
    if since is not None and instant < since:
        return False
    return until is None or instant < until


def _undecodable_reason(line: bytes) -> str:
    if not line.strip():
        return "blank"
    if not line.endswith(b"\n"):
        # Only the last line of a file can lack its newline: a writer died
        # mid-line or is still writing it.
        return "torn last line"
    return "not JSON"


def _invalid_reason(event: Any) -> str | None:
    """Return why ``event`` is not a valid event, or None when it is."""
    if type(event) is not dict:
        return "not an object"

    get = event.get
    ts = get("ts")
    if type(ts) is not str or _parse_ts(ts) is None:
        return "bad ts"
    for key in ("agent", "run_id"):
        value = get(key)
        if type(value) is not str or not value:
            return f"bad {key}"
    latency = get("latency_ms")
    if not _is_number(latency) or latency < 0:
        return "bad latency_ms"
    cost = get("cost_usd")
    if cost is not None and (not _is_number(cost) or cost < 0):
        return "bad cost_usd"
    for key in ("tokens_in", "tokens_out"):
        count = get(key)
        if count is not None and (type(count) is not int or count < 0):
            return f"bad {key}"
    for key in ("error", "kind"):
        text = get(key)
        if text is not None and type(text) is not str:
            return f"bad {key}"
    reward = get("reward")
    if reward is not None and not _is_number(reward):
        return "bad reward"
    return None


def _is_number(value: object) -> TypeGuard[float]:
    # orjson rejects NaN and overflowing literals, but dicts built by hand can
    # still carry them.
    if type(value) is float:
        return math.isfinite(value)
    return type(value) is int


def _parse_ts(ts: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(ts)
    except ValueError:
        # Python 3.10 does not read the "Z" suffix.
        if not ts.endswith("Z"):
            return None
        try:
            parsed = datetime.fromisoformat(ts[:-1] + "+00:00")
        except ValueError:
            return None
    return parsed if parsed.tzinfo is not None else None


def parse_duration(text: str) -> timedelta:
    """Parse a duration such as ``"30s"``, ``"15m"``, ``"2h"`` or ``"7d"``.

    Args:
        text: A number (decimals allowed) followed by s, m, h or d.

    Returns:
        The duration.

    Raises:
        ValueError: ``text`` is not such a duration.
    """
    match = _DURATION.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(
            f"duration must be a number followed by s, m, h or d, got {text!r}; "
            "write e.g. '30s', '15m', '2h' or '7d'"
        )

    seconds = float(match["value"]) * _UNIT_SECONDS[match["unit"]]
    return timedelta(seconds=seconds)


def parse_instant(text: str, *, now: datetime | None = None) -> datetime:
    """Parse a time bound: a duration before ``now``, or an ISO-8601 instant.

    Args:
        text: ``"15m"`` (15 minutes before ``now``) or a timestamp such as
            ``"2026-12-04T16:10:37+00:00"``; a timestamp without an offset is
            taken as UTC.
        now: The reference for durations; the current UTC time when omitted.

    Returns:
        A timezone-aware datetime.

    Raises:
        ValueError: ``text`` is neither a duration nor an ISO-8601 timestamp.
    """
    if isinstance(text, str) and _DURATION.match(text):
        reference = datetime.now(timezone.utc) if now is None else now
        return reference - parse_duration(text)

    try:
        instant = datetime.fromisoformat(text.strip().removesuffix("Z"))
    except (ValueError, AttributeError):
        raise ValueError(
            f"time must be a duration such as '15m' or an ISO-8601 timestamp, "
            f"got {text!r}; write e.g. '2h' or '2026-12-04T16:10:37+00:00'"
        ) from None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=timezone.utc)
    return instant
