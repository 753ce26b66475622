"""Tests for telemetry.summarize: figures, grouping, dirty logs and the CLI."""

from __future__ import annotations

import csv
import io
import json
import math
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import orjson
import pytest
from broken_pipe import run_with_closed_stdout
from scipy import stats

from telemetry import summarize as summarize_module
from telemetry.summarize import (
    NO_GROUP,
    format_csv,
    format_json,
    format_table,
    main,
    percentile,
    summarize,
    t_quantile,
)

T0 = datetime(2026, 12, 4, 16, 0, tzinfo=timezone.utc)


def make_event(i: int, **changes: Any) -> dict[str, Any]:
    """Return a valid run, ``i`` seconds after T0, with ``changes`` applied."""
    event: dict[str, Any] = {
        "ts": (T0 + timedelta(seconds=i)).isoformat(),
        "agent": "planner",
        "run_id": f"00000000-0000-4000-8000-{i:012d}",
        "latency_ms": 100.0 + i,
        "cost_usd": 0.01,
        "tokens_in": 100,
        "tokens_out": 10,
        "error": None,
        "reward": 1.0,
    }
    event.update(changes)
    return event


def random_events(count: int, seed: int = 3) -> list[dict[str, Any]]:
    """Return ``count`` runs of three agents with gaps in every nullable field."""
    rng = random.Random(seed)
    events = []
    for i in range(count):
        error = "ValueError: bad plan" if rng.random() < 0.1 else None
        events.append(
            make_event(
                i,
                agent=rng.choice(["coder", "planner", "search"]),
                latency_ms=round(rng.lognormvariate(5, 1), 3),
                cost_usd=None if rng.random() < 0.2 else rng.random() / 50,
                tokens_in=None if rng.random() < 0.1 else rng.randint(0, 5000),
                tokens_out=rng.randint(0, 900),
                error=error,
                reward=None if error or rng.random() < 0.3 else rng.random(),
                model=rng.choice(["m1", "m2"]),
            )
        )
    return events


def write_log(path: Path, lines: list[Any], *, newline_at_end: bool = True) -> Path:
    """Write events (dicts, dumped) or raw lines (bytes) to ``path``."""
    raw = [x if isinstance(x, bytes) else orjson.dumps(x) for x in lines]
    text = b"".join(line + b"\n" for line in raw)
    path.write_bytes(text if newline_at_end else text.removesuffix(b"\n"))
    return path


@pytest.fixture
def random_log(tmp_path: Path) -> Path:
    """Return a log of 3,000 random runs and a few decision events."""
    lines: list[Any] = random_events(3000)
    lines[10:10] = [make_event(1, kind="decision", meta={"action": "retire"})] * 3
    return write_log(tmp_path / "events.jsonl", lines)


@pytest.mark.parametrize("size", [1, 2, 3, 10, 101, 1000])
def test_percentile_matches_numpy(size: int) -> None:
    values = sorted(np.random.default_rng(size).lognormal(5, 1, size).tolist())

    for q in (0, 1, 25, 50, 95, 99, 99.9, 100):
        assert percentile(values, q) == np.percentile(values, q), q


def test_percentile_empty_raises() -> None:
    with pytest.raises(ValueError) as caught:
        percentile([], 50)

    assert str(caught.value) == "ordered must contain at least one value, got none"


def test_percentile_out_of_range_raises() -> None:
    with pytest.raises(ValueError) as caught:
        percentile([1.0], 101)

    assert str(caught.value) == "q must be between 0 and 100, got 101"


@pytest.mark.parametrize("df", [1, 2, 3, 4, 5, 9, 30, 99, 1000, 9999, 10_001, 10**6])
def test_t_quantile_matches_scipy(df: int) -> None:
    for p in (0.001, 0.025, 0.3, 0.5, 0.9, 0.975, 0.995, 0.9999):
        assert t_quantile(p, df) == pytest.approx(stats.t.ppf(p, df), rel=1e-10)


@pytest.mark.parametrize("p", [0.5000001, 0.5001, 0.6, 0.975, 0.9999])
def test_t_quantile_two_df_closed_form(p: float) -> None:
    exact = (2 * p - 1) / math.sqrt(2 * p * (1 - p))

    assert t_quantile(p, 2) == pytest.approx(exact, rel=1e-14)


@pytest.mark.parametrize(
    ("p", "df", "message"),
    [
        (0.0, 5, "p must be strictly between 0 and 1, got 0.0"),
        (1.0, 5, "p must be strictly between 0 and 1, got 1.0"),
        (0.5, 0.5, "df must be a finite number >= 1, got 0.5"),
        (0.5, float("inf"), "df must be a finite number >= 1, got inf"),
    ],
)
def test_t_quantile_bad_arguments_raise(p: float, df: float, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        t_quantile(p, df)

    assert str(caught.value) == message


def test_summarize_matches_duckdb(random_log: Path) -> None:
    summary = summarize(random_log)
    rows = duckdb.execute(
        """
        select agent, count(*), count(error), sum(cost_usd), count(cost_usd),
            sum(tokens_in), sum(tokens_out), avg(reward),
            count(reward), max(latency_ms),
            quantile_cont(latency_ms, [0.5, 0.95, 0.99])
        from read_json_auto(?) where kind is null group by agent order by agent
        """,
        [str(random_log)],
    ).fetchall()

    assert [g.group for g in summary.groups] == [row[0] for row in rows]
    for group, row in zip(summary.groups, rows, strict=True):
        _, runs, errors, cost, cost_count, t_in, t_out, reward, rewards, top, q = row
        assert group.runs == runs
        assert group.errors == errors
        assert group.error_rate == errors / runs
        assert group.cost_total_usd == pytest.approx(cost, rel=1e-12)
        assert group.cost_count == cost_count
        assert group.cost_mean_usd == pytest.approx(cost / cost_count, rel=1e-12)
        assert group.tokens_in == t_in
        assert group.tokens_out == t_out
        assert group.reward_mean == pytest.approx(reward, rel=1e-12)
        assert group.reward_count == rewards
        assert group.latency_max_ms == top
        assert group.latency_p50_ms == pytest.approx(q[0], rel=1e-12)
        assert group.latency_p95_ms == pytest.approx(q[1], rel=1e-12)
        assert group.latency_p99_ms == pytest.approx(q[2], rel=1e-12)


def test_summarize_reward_interval_matches_scipy(tmp_path: Path) -> None:
    events = random_events(500)
    path = write_log(tmp_path / "events.jsonl", events)
    rewards = [e["reward"] for e in events if e["agent"] == "coder" and e["reward"]]

    coder = summarize(path).groups[0]
    low, high = stats.t.interval(
        0.95, len(rewards) - 1, loc=np.mean(rewards), scale=stats.sem(rewards)
    )

    assert coder.reward_ci_low == pytest.approx(low, rel=1e-10)
    assert coder.reward_ci_high == pytest.approx(high, rel=1e-10)


def test_summarize_first_and_last_ts(tmp_path: Path) -> None:
    path = write_log(tmp_path / "events.jsonl", [make_event(i) for i in range(5)])

    group = summarize(path).groups[0]

    assert group.first_ts == T0
    assert group.last_ts == T0 + timedelta(seconds=4)


def test_summarize_counts_decision_events_apart(random_log: Path) -> None:
    summary = summarize(random_log)

    assert sum(g.runs for g in summary.groups) == 3000
    assert summary.other_events == 3


def test_summarize_one_reward_has_no_interval(tmp_path: Path) -> None:
    path = write_log(tmp_path / "events.jsonl", [make_event(0, reward=0.25)])

    group = summarize(path).groups[0]

    assert group.reward_mean == 0.25
    assert group.reward_ci_low is None
    assert group.reward_ci_high is None


def test_summarize_no_costs_gives_none_mean(tmp_path: Path) -> None:
    path = write_log(tmp_path / "events.jsonl", [make_event(0, cost_usd=None)])

    group = summarize(path).groups[0]

    assert group.cost_mean_usd is None
    assert group.cost_count == 0
    assert group.cost_total_usd is None


def test_summarize_skips_dirty_lines_with_locations(tmp_path: Path) -> None:
    lines = [
        make_event(0),
        b"",
        b"not json",
        make_event(1, agent=7),
        make_event(2),
        b'{"ts": "2026-12-04T16:00:00+00:00", "ag',
    ]
    path = write_log(tmp_path / "events.jsonl", lines, newline_at_end=False)

    summary = summarize(path)

    assert summary.groups[0].runs == 2
    assert summary.report.skipped == {
        "blank": 1,
        "not JSON": 1,
        "bad agent": 1,
        "torn last line": 1,
    }
    assert [s.line for s in summary.report.first_skipped] == [2, 3, 4, 6]


def test_summarize_reads_rotated_set_in_order(tmp_path: Path) -> None:
    write_log(tmp_path / "events.20261204T160000000000Z.jsonl", [make_event(0), b"x"])
    write_log(tmp_path / "events.20261204T170000000000Z.jsonl", [make_event(1), b"y"])
    live = write_log(tmp_path / "events.jsonl", [make_event(2)])

    summary = summarize(live)

    assert summary.groups[0].runs == 3
    assert [s.path.name for s in summary.report.first_skipped] == [
        "events.20261204T160000000000Z.jsonl",
        "events.20261204T170000000000Z.jsonl",
    ]


def test_summarize_by_meta_field(tmp_path: Path) -> None:
    lines = [
        make_event(0, meta={"team": "red"}),
        make_event(1, meta={"team": "blue"}),
        make_event(2, meta={"team": "red"}),
        make_event(3),
    ]
    path = write_log(tmp_path / "events.jsonl", lines)

    summary = summarize(path, by="meta.team")

    assert [(g.group, g.runs) for g in summary.groups] == [
        (NO_GROUP, 1),
        ("blue", 1),
        ("red", 2),
    ]


def test_summarize_by_key_labels_non_strings(tmp_path: Path) -> None:
    lines = [
        make_event(0, repeat=1),
        make_event(1, repeat=2),
        make_event(2, tags=["a", "b"]),
        make_event(3, model="m1"),
    ]
    path = write_log(tmp_path / "events.jsonl", lines)

    assert [g.group for g in summarize(path, by="repeat").groups] == [
        NO_GROUP,
        "1",
        "2",
    ]
    assert [g.group for g in summarize(path, by="tags").groups] == [
        NO_GROUP,
        '["a","b"]',
    ]


def test_summarize_since_until_window(tmp_path: Path) -> None:
    path = write_log(tmp_path / "events.jsonl", [make_event(i) for i in range(10)])

    summary = summarize(
        path, since=T0 + timedelta(seconds=2), until=T0 + timedelta(seconds=5)
    )

    assert summary.groups[0].runs == 3
    assert summary.report.outside_window == 7


def test_summarize_empty_by_raises(tmp_path: Path) -> None:
    path = write_log(tmp_path / "events.jsonl", [])

    with pytest.raises(ValueError) as caught:
        summarize(path, by="meta.")

    assert str(caught.value) == (
        "by must name a key such as 'agent' or 'meta.team', got 'meta.'"
    )


def test_summarize_zero_workers_raises(tmp_path: Path) -> None:
    path = write_log(tmp_path / "events.jsonl", [])

    with pytest.raises(ValueError) as caught:
        summarize(path, workers=0)

    assert str(caught.value) == "workers must be an int >= 1, got 0"


@pytest.mark.slow
def test_summarize_workers_match_one_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines: list[Any] = random_events(2000)
    lines[700] = b"{torn"
    lines[1500] = b"[]"
    older = write_log(tmp_path / "events.20261204T000000000000Z.jsonl", lines)
    live = write_log(tmp_path / "events.jsonl", random_events(500, seed=4))
    monkeypatch.setattr(summarize_module, "_MIN_SPAN_BYTES", 16 * 1024)

    one = summarize(live)
    many = summarize(live, workers=2)

    assert [g.group for g in many.groups] == [g.group for g in one.groups]
    for a, b in zip(many.groups, one.groups, strict=True):
        assert a.runs == b.runs
        assert a.latency_p95_ms == b.latency_p95_ms
        assert a.cost_total_usd == pytest.approx(b.cost_total_usd, rel=1e-12)
        assert a.reward_ci_low == pytest.approx(b.reward_ci_low, rel=1e-12)
        assert a.first_ts == b.first_ts
        assert a.last_ts == b.last_ts
    assert many.report.first_skipped == one.report.first_skipped
    assert [s.line for s in many.report.first_skipped] == [701, 1501]
    assert many.report.lines == one.report.lines
    assert many.report.files == [older, live]


def test_format_table_pinned(tmp_path: Path) -> None:
    lines = [
        make_event(0, agent="a", latency_ms=100, cost_usd=0.002, reward=0.5),
        make_event(1, agent="a", latency_ms=300, error="E: x", reward=1.0),
        make_event(2, agent="bb", cost_usd=None, reward=None, tokens_in=2500),
        b"oops",
    ]
    path = write_log(tmp_path / "events.jsonl", lines)

    table = format_table(summarize(path))

    assert table.splitlines() == [
        "group  runs  err%    p50    p95    p99  max ms  cost total  cost/run"
        "  tokens in/out  reward mean [95% CI]",
        "a         2  50.0  200.0  290.0  298.0   300.0     $0.0120  $0.00600"
        "         200/20  0.750 [-2.427, 3.927]",
        "bb        1   0.0  102.0  102.0  102.0   102.0           -         -"
        "        2.5k/10  -",
        f"skipped 1 line (1 not JSON); first at {path}:4 (not JSON)",
    ]


def test_summarize_without_tokens_gives_none(tmp_path: Path) -> None:
    events = [make_event(i, tokens_in=None, tokens_out=None) for i in range(3)]

    group = summarize(write_log(tmp_path / "events.jsonl", events)).groups[0]

    assert (group.tokens_in, group.tokens_out) == (None, None)
    assert (group.tokens_in_count, group.tokens_out_count) == (0, 0)


def test_summarize_counts_runs_with_tokens(tmp_path: Path) -> None:
    events = [make_event(i, tokens_in=None if i else 7) for i in range(3)]

    group = summarize(write_log(tmp_path / "events.jsonl", events)).groups[0]

    assert (group.tokens_in, group.tokens_in_count) == (7, 1)
    assert (group.tokens_out, group.tokens_out_count) == (30, 3)


def test_format_table_without_tokens_shows_dash(tmp_path: Path) -> None:
    events = [make_event(0, tokens_in=None, tokens_out=None)]

    table = format_table(summarize(write_log(tmp_path / "events.jsonl", events)))

    assert table.splitlines()[1].split()[9] == "-"


def test_format_json_without_tokens_gives_null(tmp_path: Path) -> None:
    events = [make_event(0, tokens_in=None, tokens_out=None)]

    document = json.loads(
        format_json(summarize(write_log(tmp_path / "e.jsonl", events)))
    )

    assert document["groups"][0]["tokens_in"] is None
    assert document["groups"][0]["tokens_out"] is None


def test_format_table_rounds_negative_zero(tmp_path: Path) -> None:
    events = [make_event(i, reward=-1e-5 * (i + 1)) for i in range(3)]

    table = format_table(summarize(write_log(tmp_path / "events.jsonl", events)))

    assert table.splitlines()[1].endswith("  0.000 [0.000, 0.000]")


def test_format_table_no_runs(tmp_path: Path) -> None:
    path = write_log(tmp_path / "events.jsonl", [])

    assert format_table(summarize(path)).splitlines()[-1] == "(no runs)"


def test_format_json_round_trips(random_log: Path) -> None:
    summary = summarize(random_log)

    document = json.loads(format_json(summary))

    assert document["by"] == "agent"
    assert [g["runs"] for g in document["groups"]] == [g.runs for g in summary.groups]
    assert document["groups"][0]["first_ts"] == summary.groups[0].first_ts.isoformat()
    assert document["skipped_total"] == 0


def test_format_csv_has_header_and_rows(random_log: Path) -> None:
    summary = summarize(random_log)

    rows = list(csv.DictReader(io.StringIO(format_csv(summary))))

    assert [row["group"] for row in rows] == ["coder", "planner", "search"]
    assert [int(row["runs"]) for row in rows] == [g.runs for g in summary.groups]


def test_main_prints_table(
    random_log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main([str(random_log)])

    out = capsys.readouterr().out.splitlines()
    assert status == 0
    assert out[0].split()[:3] == ["group", "runs", "err%"]
    assert [line.split()[0] for line in out[1:]] == ["coder", "planner", "search"]


def test_main_json_by_model(
    random_log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main([str(random_log), "--by", "model", "--json"])

    document = json.loads(capsys.readouterr().out)
    assert status == 0
    assert [g["group"] for g in document["groups"]] == ["m1", "m2"]


def test_main_csv_reports_skips_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_log(tmp_path / "events.jsonl", [make_event(0), b"x"])

    status = main([str(path), "--csv"])

    captured = capsys.readouterr()
    assert status == 0
    assert len(captured.out.splitlines()) == 2
    assert (
        captured.err == f"skipped 1 line (1 not JSON); first at {path}:2 (not JSON)\n"
    )


def test_main_since_duration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime.now(timezone.utc)
    old = make_event(0, ts=(now - timedelta(hours=3)).isoformat())
    new = make_event(1, ts=(now - timedelta(minutes=5)).isoformat())
    path = write_log(tmp_path / "events.jsonl", [old, new])

    status = main([str(path), "--since", "1h", "--json"])

    document = json.loads(capsys.readouterr().out)
    assert status == 0
    assert document["groups"][0]["runs"] == 1


def test_main_default_path_from_environment(
    random_log: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AGENT_TELEMETRY_PATH", str(random_log))

    status = main(["--csv"])

    assert status == 0
    assert len(capsys.readouterr().out.splitlines()) == 4


def test_main_missing_key_notes_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = write_log(tmp_path / "events.jsonl", [make_event(i) for i in range(3)])

    main([str(log), "--by", "nosuchkey", "--json"])
    captured = capsys.readouterr()

    assert json.loads(captured.out)["groups"][0]["group"] == NO_GROUP
    assert captured.err == (
        "telemetry-summarize: note: no run has the key 'nosuchkey', so every run "
        "is in the group (none)\n"
    )


def test_main_missing_key_suggests_meta(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = [make_event(i, meta={"team": "search"}) for i in range(3)]
    log = write_log(tmp_path / "events.jsonl", events)

    main([str(log), "--by", "team"])

    assert capsys.readouterr().err.endswith(
        "; runs have 'team' in meta, so use --by meta.team\n"
    )


def test_main_null_key_adds_no_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = [make_event(i, model=None) for i in range(3)]
    log = write_log(tmp_path / "events.jsonl", events)

    main([str(log), "--by", "model"])

    assert capsys.readouterr().err == ""


def test_main_closed_pipe_exits_quietly(tmp_path: Path) -> None:
    log = write_log(tmp_path / "events.jsonl", random_events(50))

    result = run_with_closed_stdout(["-m", "telemetry.summarize", str(log)])

    assert result.stderr == ""
    assert result.returncode == 1


def test_main_missing_default_log_hints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AGENT_TELEMETRY_PATH", raising=False)

    status = main([])

    assert status == 2
    assert capsys.readouterr().err == (
        "telemetry-summarize: error: log file 'telemetry/events.jsonl' not found; "
        f"it is the default log, relative to the working directory {tmp_path}; "
        "name a log file or folder as an argument, or set AGENT_TELEMETRY_PATH\n"
    )


def test_main_missing_file_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "none.jsonl"

    status = main([str(missing)])

    captured = capsys.readouterr()
    assert status == 2
    assert captured.out == ""
    assert captured.err == (
        f"telemetry-summarize: error: log file {str(missing)!r} not found; "
        "pass an existing file or folder\n"
    )


def test_main_bad_since_exits_2(
    random_log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main([str(random_log), "--since", "soon"])

    assert caught.value.code == 2
    assert capsys.readouterr().err == (
        "telemetry-summarize: error: argument --since: time must be a duration "
        "such as '15m' or an ISO-8601 timestamp, got 'soon'; "
        "write e.g. '2h' or '2026-12-04T16:10:37+00:00'\n"
    )


def test_main_zero_workers_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--workers", "0"])

    assert caught.value.code == 2
    assert capsys.readouterr().err == (
        "telemetry-summarize: error: argument --workers: must be an int >= 1, got '0'\n"
    )


def test_main_unknown_option_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--bogus"])

    assert caught.value.code == 2
    assert capsys.readouterr().err == (
        "telemetry-summarize: error: unrecognized arguments: --bogus\n"
    )


def test_summarize_overflowing_costs_give_inf(tmp_path: Path) -> None:
    events = [make_event(i, cost_usd=1e308) for i in range(2)]

    group = summarize(write_log(tmp_path / "e.jsonl", events)).groups[0]

    assert group.cost_total_usd == math.inf


def test_summarize_huge_rewards_keep_mean(tmp_path: Path) -> None:
    events = [make_event(i, reward=1e308) for i in range(2)]

    group = summarize(write_log(tmp_path / "e.jsonl", events)).groups[0]

    assert group.reward_mean == 1e308


def test_format_json_huge_token_total(tmp_path: Path) -> None:
    events = [make_event(i, tokens_in=2**63, cost_usd=1e308) for i in range(2)]

    document = json.loads(format_json(summarize(write_log(tmp_path / "e", events))))

    assert document["groups"][0]["tokens_in"] == 2**64
    assert document["groups"][0]["cost_total_usd"] is None


def test_summarize_orders_stamps_by_instant(tmp_path: Path) -> None:
    events = [
        make_event(0, ts="2026-12-04T17:00:00+00:00"),
        make_event(1, ts="2026-12-04T21:00:00+05:00"),
    ]

    group = summarize(write_log(tmp_path / "e.jsonl", events)).groups[0]

    assert group.first_ts == datetime(2026, 12, 4, 16, tzinfo=timezone.utc)
    assert group.last_ts == datetime(2026, 12, 4, 17, tzinfo=timezone.utc)
