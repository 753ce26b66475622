"""Tests for telemetry.logread: path expansion, line checks, time windows."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest

from telemetry._sink import rotated_path
from telemetry.logread import (
    CORE_FIELDS,
    ReadReport,
    expand_paths,
    parse_duration,
    parse_instant,
    read_batches,
    read_events,
    read_span,
    split_file,
)

T0 = datetime(2026, 12, 4, 16, 0, tzinfo=timezone.utc)


def make_event(i: int = 0, **changes: Any) -> dict[str, Any]:
    """Return a valid event, ``i`` seconds after T0, with ``changes`` applied."""
    event: dict[str, Any] = {
        "ts": (T0 + timedelta(seconds=i)).isoformat(),
        "agent": "planner",
        "run_id": f"00000000-0000-4000-8000-{i:012d}",
        "latency_ms": 10.0 + i,
        "cost_usd": 0.001,
        "tokens_in": 100,
        "tokens_out": 20,
        "error": None,
        "reward": 0.5,
    }
    event.update(changes)
    return event


def write_lines(path: Path, lines: list[Any], *, newline_at_end: bool = True) -> Path:
    """Write events (dicts, dumped) or raw lines (bytes) to ``path``."""
    raw = [x if isinstance(x, bytes) else orjson.dumps(x) for x in lines]
    text = b"".join(line + b"\n" for line in raw)
    path.write_bytes(text if newline_at_end else text.removesuffix(b"\n"))
    return path


def test_expand_paths_rotated_siblings_oldest_first(tmp_path: Path) -> None:
    live = write_lines(tmp_path / "events.jsonl", [])
    newer = write_lines(tmp_path / "events.20261204T120000000000Z.jsonl", [])
    older = write_lines(tmp_path / "events.20261203T120000000000Z.jsonl", [])
    write_lines(tmp_path / "other.20261203T120000000000Z.jsonl", [])

    assert expand_paths(live) == [older, newer, live]


@pytest.mark.parametrize("name", ["events.log", "events"])
def test_expand_paths_rotated_any_suffix(tmp_path: Path, name: str) -> None:
    live = write_lines(tmp_path / name, [])
    older = write_lines(rotated_path(live, 1_700_000_000.0), [])
    newer = write_lines(rotated_path(live, 1_800_000_000.0), [])
    write_lines(tmp_path / "events.20261203T120000000000Z.jsonl", [])

    assert expand_paths(live) == [older, newer, live]


def test_expand_paths_folder_groups_sets(tmp_path: Path) -> None:
    a = write_lines(tmp_path / "a.jsonl", [])
    b_old = write_lines(tmp_path / "b.20261203T120000000000Z.jsonl", [])
    b = write_lines(tmp_path / "b.jsonl", [])
    (tmp_path / "notes.txt").write_text("x")

    assert expand_paths([tmp_path]) == [a, b_old, b]


def test_expand_paths_file_named_twice_read_once(tmp_path: Path) -> None:
    live = write_lines(tmp_path / "events.jsonl", [])

    assert expand_paths([live, str(live), tmp_path]) == [live]


def test_expand_paths_missing_file_raises(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"

    with pytest.raises(FileNotFoundError) as caught:
        expand_paths(missing)

    assert str(caught.value) == (
        f"log file {str(missing)!r} not found; pass an existing file or folder"
    )


def test_read_events_yields_valid_events_in_order(tmp_path: Path) -> None:
    events = [make_event(i) for i in range(600)]
    path = write_lines(tmp_path / "events.jsonl", events)

    assert list(read_events(path)) == events


def test_read_events_reads_rotated_set_in_order(tmp_path: Path) -> None:
    write_lines(tmp_path / "events.jsonl", [make_event(2)])
    write_lines(tmp_path / "events.20261204T000000000001Z.jsonl", [make_event(1)])
    write_lines(tmp_path / "events.20261204T000000000000Z.jsonl", [make_event(0)])

    stream = read_events(tmp_path / "events.jsonl")

    assert [e["latency_ms"] for e in stream] == [10.0, 11.0, 12.0]


def test_read_events_counts_dirty_lines(tmp_path: Path) -> None:
    lines = [
        make_event(0),
        b"",
        b"{not json",
        b"[1, 2]",
        make_event(1, latency_ms=-1),
        make_event(2),
        b'{"ts": "2026-12-04T16:00:00+00:00", "agent": "pla',
    ]
    path = write_lines(tmp_path / "events.jsonl", lines, newline_at_end=False)
    report = ReadReport()

    kept = list(read_events(path, report=report))

    assert [e["latency_ms"] for e in kept] == [10.0, 12.0]
    assert report.skipped == {
        "blank": 1,
        "not JSON": 1,
        "not an object": 1,
        "bad latency_ms": 1,
        "torn last line": 1,
    }
    assert [str(s) for s in report.first_skipped] == [
        f"{path}:2 (blank)",
        f"{path}:3 (not JSON)",
        f"{path}:4 (not an object)",
        f"{path}:5 (bad latency_ms)",
        f"{path}:7 (torn last line)",
    ]
    assert report.lines == 7
    assert report.events == 2


def test_read_events_keeps_first_five_locations(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "events.jsonl", [b"x"] * 8)
    stream = read_events(path)

    list(stream)

    assert [s.line for s in stream.report.first_skipped] == [1, 2, 3, 4, 5]
    assert stream.report.skipped_total == 8


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"ts": 5}, "bad ts"),
        ({"ts": "yesterday"}, "bad ts"),
        ({"ts": "2026-12-04T16:00:00"}, "bad ts"),
        ({"agent": ""}, "bad agent"),
        ({"agent": 3}, "bad agent"),
        ({"run_id": None}, "bad run_id"),
        ({"latency_ms": "3"}, "bad latency_ms"),
        ({"latency_ms": True}, "bad latency_ms"),
        ({"latency_ms": None}, "bad latency_ms"),
        ({"cost_usd": -0.1}, "bad cost_usd"),
        ({"cost_usd": "0.1"}, "bad cost_usd"),
        ({"tokens_in": 1.5}, "bad tokens_in"),
        ({"tokens_out": -1}, "bad tokens_out"),
        ({"error": 1}, "bad error"),
        ({"reward": "high"}, "bad reward"),
        ({"kind": 1}, "bad kind"),
    ],
)
def test_read_events_skips_wrong_core_field(
    tmp_path: Path, changes: dict[str, Any], reason: str
) -> None:
    path = write_lines(tmp_path / "events.jsonl", [make_event(0, **changes)])
    stream = read_events(path)

    assert list(stream) == []
    assert stream.report.skipped == {reason: 1}


def test_read_events_absent_nullable_is_null(tmp_path: Path) -> None:
    event = {k: v for k, v in make_event(0).items() if k != "cost_usd"}
    path = write_lines(tmp_path / "events.jsonl", [event])

    batches = list(read_batches(path))

    assert batches[0].columns["cost_usd"] == [None]


def test_read_events_yields_decision_events(tmp_path: Path) -> None:
    decision = make_event(0, kind="decision", meta={"action": "retire"})
    path = write_lines(tmp_path / "events.jsonl", [decision])

    assert list(read_events(path)) == [decision]


def test_read_events_accepts_z_suffix(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "events.jsonl", [make_event(0, ts="2026-12-04T16:00:00Z")]
    )

    assert len(list(read_events(path))) == 1


def test_read_events_since_until_window(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "events.jsonl", [make_event(i) for i in range(10)])
    since = T0 + timedelta(seconds=3)
    until = T0 + timedelta(seconds=6)
    stream = read_events(path, since=since, until=until)

    assert [e["latency_ms"] for e in stream] == [13.0, 14.0, 15.0]
    assert stream.report.outside_window == 7


def test_read_events_naive_since_raises(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "events.jsonl", [])

    with pytest.raises(ValueError) as caught:
        read_events(path, since=datetime(2026, 1, 1))

    assert str(caught.value) == (
        "since must be a timezone-aware datetime, got "
        "datetime.datetime(2026, 1, 1, 0, 0); "
        "attach a zone, e.g. value.replace(tzinfo=timezone.utc)"
    )


def test_read_batches_columns_match_events(tmp_path: Path) -> None:
    events = [make_event(i) for i in range(300)]
    path = write_lines(tmp_path / "events.jsonl", events)

    for batch in read_batches(path):
        for key in CORE_FIELDS:
            assert batch.columns[key] == [e[key] for e in batch.events]


def test_read_batches_and_events_agree_on_dirty_log(tmp_path: Path) -> None:
    lines = [make_event(i) for i in range(600)]
    lines[3:3] = [b"", b"{not json", make_event(9, latency_ms=-1)]
    path = write_lines(tmp_path / "events.jsonl", lines, newline_at_end=False)
    batch_report, event_report = ReadReport(), ReadReport()

    batched = [e for b in read_batches(path, report=batch_report) for e in b.events]
    streamed = list(read_events(path, report=event_report))

    assert batched == streamed
    assert batch_report == event_report


def test_read_report_describe_names_reasons(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "events.jsonl", [b"x", make_event(0), b""])
    stream = read_events(path)

    list(stream)

    assert stream.report.describe() == (
        f"skipped 2 lines (1 blank, 1 not JSON); "
        f"first at {path}:1 (not JSON), {path}:3 (blank)"
    )


def test_read_report_describe_empty_when_clean() -> None:
    assert ReadReport().describe() == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("15m", timedelta(minutes=15)),
        ("2h", timedelta(hours=2)),
        ("7d", timedelta(days=7)),
        ("1.5h", timedelta(minutes=90)),
    ],
)
def test_parse_duration_units(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "15", "m", "15x", "-5m", "5 minutes"])
def test_parse_duration_bad_text_raises(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(text)

    assert str(caught.value) == (
        f"duration must be a number followed by s, m, h or d, got {text!r}; "
        "write e.g. '30s', '15m', '2h' or '7d'"
    )


def test_parse_instant_duration_counts_back_from_now() -> None:
    assert parse_instant("2h", now=T0) == T0 - timedelta(hours=2)


def test_parse_instant_naive_timestamp_is_utc() -> None:
    assert parse_instant("2026-12-04T16:00:00") == T0


def test_parse_instant_bad_text_raises() -> None:
    with pytest.raises(ValueError) as caught:
        parse_instant("soon")

    assert str(caught.value) == (
        "time must be a duration such as '15m' or an ISO-8601 timestamp, "
        "got 'soon'; write e.g. '2h' or '2026-12-04T16:10:37+00:00'"
    )


@pytest.mark.parametrize("parts", [1, 2, 3, 7, 50])
def test_split_file_spans_cover_every_line(tmp_path: Path, parts: int) -> None:
    lines: list[Any] = [make_event(i) for i in range(40)]
    lines[5:5] = [b"", b"x", b"{}"]
    path = write_lines(tmp_path / "events.jsonl", lines, newline_at_end=False)
    whole = list(read_events(path))

    spans = split_file(path, parts)
    events = [
        e for start, end in spans for b in read_span(path, start, end) for e in b.events
    ]

    assert events == whole
    assert spans[0][0] == 0
    assert spans[-1][1] == path.stat().st_size
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))


def test_split_file_one_byte_lines(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n" * 9)
    report = ReadReport()

    for start, end in split_file(path, 4):
        list(read_span(path, start, end, report=report))

    assert report.skipped == {"blank": 9}


def test_split_file_empty_file(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "events.jsonl", [])

    assert split_file(path, 3) == [(0, 0)]


def test_split_file_bad_parts_raises(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "events.jsonl", [])

    with pytest.raises(ValueError) as caught:
        split_file(path, 0)

    assert str(caught.value) == "parts must be an int >= 1, got 0"


def test_read_span_lines_count_from_start(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "events.jsonl", [make_event(0), make_event(1), b"x"])
    start = len(orjson.dumps(make_event(0))) + 1
    report = ReadReport()

    batches = list(read_span(path, start, path.stat().st_size, report=report))

    assert [e["latency_ms"] for b in batches for e in b.events] == [11.0]
    assert [s.line for s in report.first_skipped] == [2]


def test_read_span_bad_range_raises(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "events.jsonl", [])

    with pytest.raises(ValueError) as caught:
        read_span(path, 5, 2)

    assert str(caught.value) == (
        "span must satisfy 0 <= start <= end, got start=5, end=2; "
        "take spans from split_file"
    )


def test_parse_instant_too_far_back_raises() -> None:
    with pytest.raises(
        ValueError,
        match=r"^duration '3000000d' reaches before the year 1; write a shorter "
        r"one, e\.g\. '365d'$",
    ):
        parse_instant("3000000d", now=T0)


def test_parse_duration_beyond_timedelta_raises() -> None:
    with pytest.raises(ValueError, match=r"^duration '9999999999d' reaches before"):
        parse_duration("9999999999d")
