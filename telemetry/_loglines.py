"""Parse and check log lines into batches of events with core columns."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from functools import partial
from itertools import repeat
from operator import is_not, itemgetter
from pathlib import Path
from typing import Any, NamedTuple, TypeGuard

import orjson

from ._logreport import ReadReport

__all__ = ["CORE_FIELDS", "EventBatch"]

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


class EventBatch(NamedTuple):
    """Valid events read together, with their core fields as columns.

    Attributes:
        events: The events, as parsed.
        columns: For each of :data:`CORE_FIELDS` and ``"kind"``, the values
            in event order; an absent nullable field or kind is None.
    """

    events: list[dict[str, Any]]
    columns: dict[str, list[Any]]


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
