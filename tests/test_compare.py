"""Tests for telemetry.compare on synthetic logs whose true differences are known."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from broken_pipe import run_with_closed_stdout
from scipy import stats as sps

from eval.casefile import load_cases
from eval.harness import run_eval_sync
from telemetry import TelemetryLogger
from telemetry import statistics as st
from telemetry.compare import CompareOptions, Comparison, PairComparison, compare, main
from telemetry.summarize import summarize

T0 = datetime(2026, 12, 4, 16, 0, tzinfo=timezone.utc)
ROOT = Path(__file__).parents[1]
CASES = ROOT / "eval" / "cases.jsonl"
PLANTED_AGENTS = [
    "eval.agents.arithmetic:solve",
    "eval.agents.arithmetic_v2:solve",
    "eval.agents.arithmetic_copy:solve",
    "eval.agents.flaky:solve",
]
"""The baseline, a clearly better variant, an identical copy and a flaky one."""


def make_event(i: int, agent: str, **changes: Any) -> dict[str, Any]:
    """Return a valid run event, ``i`` seconds after T0, with ``changes`` applied."""
    event: dict[str, Any] = {
        "ts": (T0 + timedelta(seconds=i)).isoformat(),
        "agent": agent,
        "run_id": f"00000000-0000-4000-8000-{i:012d}",
        "latency_ms": 100.0 + i % 17,
        "cost_usd": 0.001,
        "tokens_in": 100,
        "tokens_out": 20,
        "error": None,
        "reward": 0.5,
    }
    event.update(changes)
    return event


def write_log(path: Path, events: list[dict[str, Any]], extra: bytes = b"") -> Path:
    """Write events as JSONL, then any extra raw bytes."""
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events) + extra)
    return path


def paired_events(
    shifts: dict[str, float], cases: int = 40, repeats: int = 1, cluster_size: int = 0
) -> list[dict[str, Any]]:
    """Return runs of every agent on the same cases, reward = case level + shift.

    With clusters, each agent's shift also varies by cluster, so the per-case
    differences are correlated within a cluster.
    """
    rng = np.random.default_rng(7)
    levels = rng.uniform(0.2, 0.8, cases)
    cluster_shift = rng.normal(0, 0.05, (len(shifts), cases))
    events, i = [], 0
    for case in range(cases):
        for repeat in range(repeats):
            for k, (agent, shift) in enumerate(shifts.items()):
                noise = rng.normal(0, 0.05)
                if cluster_size:
                    noise += cluster_shift[k, case // cluster_size]
                meta = {"cluster": f"c{case // cluster_size}"} if cluster_size else None
                extra = {"meta": meta} if meta else {}
                events.append(
                    make_event(
                        i,
                        agent,
                        reward=float(levels[case] + shift + noise),
                        case_id=f"case-{case}",
                        repeat=repeat,
                        **extra,
                    )
                )
                i += 1
    return events


def case_rewards(events: list[dict[str, Any]], agent: str) -> dict[str, float]:
    """Return the mean reward per case of one agent."""
    by_case: dict[str, list[float]] = {}
    for e in events:
        if e["agent"] == agent:
            by_case.setdefault(e["case_id"], []).append(e["reward"])
    return {c: float(np.mean(r)) for c, r in by_case.items()}


@pytest.fixture
def paired_log(tmp_path: Path) -> Iterator[tuple[Path, list[dict[str, Any]]]]:
    events = paired_events({"base": 0.0, "better": 0.1}, repeats=2)
    yield write_log(tmp_path / "events.jsonl", events), events


def test_compare_paired_matches_ttest_rel(
    paired_log: tuple[Path, list[dict[str, Any]]],
) -> None:
    path, events = paired_log
    better, base = case_rewards(events, "better"), case_rewards(events, "base")
    cases = sorted(base)
    expected = sps.ttest_rel([better[c] for c in cases], [base[c] for c in cases])

    pair = compare(path, baseline="base").pairs[0]

    assert pair.reward is not None
    assert pair.reward.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    assert pair.reward.statistic == pytest.approx(expected.statistic, rel=1e-9)


def test_compare_paired_averages_repeats_first(
    paired_log: tuple[Path, list[dict[str, Any]]],
) -> None:
    path, events = paired_log
    better, base = case_rewards(events, "better"), case_rewards(events, "base")
    expected = np.mean([better[c] - base[c] for c in base])

    pair = compare(path, baseline="base").pairs[0]

    assert pair.reward is not None
    assert pair.reward.estimate == pytest.approx(expected, rel=1e-12)
    assert pair.cases == 40


def test_compare_paired_finds_planted_difference(
    paired_log: tuple[Path, list[dict[str, Any]]],
) -> None:
    result = compare(paired_log[0], baseline="base")
    pair = result.pairs[0]

    assert pair.design == "paired by case"
    assert result.reward_differs(pair) is True
    assert pair.reward is not None
    assert pair.reward.interval.low < 0.1 < pair.reward.interval.high


def test_compare_paired_uses_shared_cases_only(tmp_path: Path) -> None:
    events = paired_events({"base": 0.0, "better": 0.1})
    events = [e for e in events if e["agent"] == "base" or e["case_id"] != "case-3"]

    pair = compare(write_log(tmp_path / "e.jsonl", events), baseline="base").pairs[0]

    assert pair.cases == 39


def test_compare_identical_agents_not_different(tmp_path: Path) -> None:
    events = paired_events({"base": 0.0, "copy": 0.0})
    for e in events:
        if e["agent"] == "copy":
            twin = next(
                b
                for b in events
                if b["agent"] == "base" and b["case_id"] == e["case_id"]
            )
            e["reward"] = twin["reward"]

    result = compare(write_log(tmp_path / "e.jsonl", events), baseline="base")

    assert result.reward_differs(result.pairs[0]) is False


def test_compare_identical_agents_need_no_cases(tmp_path: Path) -> None:
    events = [
        make_event(i, "ab"[i % 2], reward=0.1 * (i // 2 % 5), case_id=f"c{i // 2}")
        for i in range(40)
    ]

    pair = compare(write_log(tmp_path / "e.jsonl", events), baseline="a").pairs[0]

    assert pair.required_cases is None
    assert pair.notes == (
        "cases for ±0.05 is not computed because every case has the same reward "
        "difference",
    )


def test_compare_constant_groups_need_no_cases(tmp_path: Path) -> None:
    events = [make_event(i, "ab"[i % 2], reward=float(i % 2)) for i in range(40)]

    pair = compare(write_log(tmp_path / "e.jsonl", events), baseline="a").pairs[0]

    assert pair.required_cases is None
    assert pair.notes == (
        "cases for ±0.05 is not computed because the rewards within each group "
        "do not vary",
    )


def test_compare_clusters_use_cluster_robust_se(tmp_path: Path) -> None:
    events = paired_events({"base": 0.0, "better": 0.1}, cluster_size=4)

    pair = compare(write_log(tmp_path / "e.jsonl", events), baseline="base").pairs[0]

    assert pair.reward is not None
    assert pair.reward.method == "cluster-robust"
    assert pair.clusters == 10


def test_compare_balanced_clusters_keep_plain_se(tmp_path: Path) -> None:
    # Every cluster contains the same differences, so the robust SE is zero.
    runs = [("a", 1.0), ("b", 0.0), ("a", 1.0), ("b", 1.0)]
    events = []
    for k, cluster in enumerate("xy"):
        for j, (agent, reward) in enumerate(runs):
            i = 4 * k + j
            meta = {"cluster": cluster}
            events.append(
                make_event(i, agent, reward=reward, case_id=f"c{i // 2}", meta=meta)
            )

    pair = compare(write_log(tmp_path / "e.jsonl", events)).pairs[0]

    assert pair.reward is not None
    assert pair.reward.method == "paired t"
    assert pair.clusters is None


def test_compare_cluster_tags_are_read(tmp_path: Path) -> None:
    events = paired_events({"base": 0.0, "better": 0.1}, cluster_size=4)
    for e in events:
        e["tags"] = ["arithmetic", f"cluster:{int(e['case_id'][5:]) // 8}"]
        del e["meta"]

    pair = compare(write_log(tmp_path / "e.jsonl", events), baseline="base").pairs[0]

    assert pair.clusters == 5


def test_compare_unpaired_matches_welch(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(0.6, 0.2, 50), rng.normal(0.5, 0.3, 70)
    events = [make_event(i, "a", reward=float(r)) for i, r in enumerate(a)]
    events += [make_event(100 + i, "b", reward=float(r)) for i, r in enumerate(b)]
    expected = sps.ttest_ind(a, b, equal_var=False)

    result = compare(write_log(tmp_path / "e.jsonl", events), baseline="b")
    pair = result.pairs[0]

    assert pair.design == "unpaired (no case ids)"
    assert pair.reward is not None
    assert pair.reward.p_value == pytest.approx(expected.pvalue, rel=1e-9)


def test_compare_disjoint_cases_say_no_shared(tmp_path: Path) -> None:
    events = [
        make_event(i, "ab"[i % 2], case_id=f"{'ab'[i % 2]}-{i}") for i in range(20)
    ]

    pair = compare(write_log(tmp_path / "e.jsonl", events)).pairs[0]

    assert pair.design == "unpaired (no shared case ids)"


def test_compare_one_shared_case_says_so(tmp_path: Path) -> None:
    events = [make_event(i, "ab"[i % 2], case_id=f"c{i}") for i in range(20)]
    events += [make_event(20, "a", case_id="c1")]

    pair = compare(write_log(tmp_path / "e.jsonl", events)).pairs[0]

    assert pair.design == "unpaired (1 shared case id)"


def test_compare_unpaired_defaults_to_sequential(tmp_path: Path) -> None:
    events = [make_event(i, "ab"[i % 2], reward=0.1 * (i % 7)) for i in range(60)]

    result = compare(write_log(tmp_path / "e.jsonl", events))

    assert result.sequential is True
    assert isinstance(result.pairs[0].sequence, st.TwoSampleSequence)


def test_compare_unpaired_sequence_uses_every_run(tmp_path: Path) -> None:
    # The harness runs agents one after the other: every run of a comes
    # before every run of b, and none of them may be left out.
    rewards = [0.1 * (i % 7) for i in range(40)]
    events = [make_event(i, "a", reward=r) for i, r in enumerate(rewards)]
    events += [make_event(40 + i, "b", reward=r) for i, r in enumerate(rewards)]
    expected = st.two_sample_sequence(rewards, rewards, 0.95, 500)

    pair = compare(write_log(tmp_path / "e.jsonl", events), baseline="b").pairs[0]

    assert pair.sequence == expected
    assert pair.cases == 80


def test_compare_sequential_matches_confidence_sequence(
    paired_log: tuple[Path, list[dict[str, Any]]],
) -> None:
    path, events = paired_log
    better, base = case_rewards(events, "better"), case_rewards(events, "base")
    in_order = [better[f"case-{c}"] - base[f"case-{c}"] for c in range(40)]
    expected = st.confidence_sequence(in_order, 0.95, 500)

    result = compare(path, baseline="base", options=CompareOptions(sequential=True))

    assert result.pairs[0].sequence == expected


def test_compare_notes_group_without_rewards(tmp_path: Path) -> None:
    events = [make_event(i, "a") for i in range(10)]
    events += [make_event(10 + i, "b", reward=None, cost_usd=None) for i in range(9)]
    events += [make_event(19, "b", reward=None)]

    pair = compare(write_log(tmp_path / "e.jsonl", events), baseline="a").pairs[0]

    assert pair.notes == (
        "Δreward needs 2 runs with a reward in each group, and b has none",
        "ΔUSD/run needs 2 runs with a cost in each group, and b has 1",
    )


def test_compare_notes_paired_without_rewards(tmp_path: Path) -> None:
    events = paired_events({"base": 0.0, "new": 0.0}, cases=10)
    for e in events:
        if e["agent"] == "new" and e["case_id"] != "case-0":
            e["reward"] = None

    pair = compare(write_log(tmp_path / "e.jsonl", events), baseline="base").pairs[0]

    assert pair.notes == (
        "Δreward needs 2 shared cases with a reward in both groups, and there is 1",
    )


def test_compare_no_notes_when_complete(
    paired_log: tuple[Path, list[dict[str, Any]]],
) -> None:
    pair = compare(paired_log[0], baseline="base").pairs[0]

    assert pair.notes == ()


def test_compare_pass_fail_counts_discordant_cases(tmp_path: Path) -> None:
    events = paired_events({"base": 0.0, "new": 0.0}, cases=10)
    for e in events:
        case = int(e["case_id"][5:])
        if (e["agent"] == "base" and case < 4) or (e["agent"] == "new" and case == 9):
            e["error"], e["reward"] = "TimeoutError: case exceeded 30 s", None

    pair = compare(write_log(tmp_path / "e.jsonl", events), baseline="base").pairs[0]

    assert pair.pass_fail == st.mcnemar(4, 1)


def test_compare_pass_threshold_uses_reward(tmp_path: Path) -> None:
    events = [
        make_event(i, agent, reward=reward, case_id=f"c{i // 2}")
        for i, (agent, reward) in enumerate(
            [("a", 0.9), ("b", 0.2), ("a", 0.9), ("b", 0.9), ("a", 0.1), ("b", 0.1)]
        )
    ]
    options = CompareOptions(pass_threshold=0.5)

    result = compare(write_log(tmp_path / "e.jsonl", events), options=options)

    assert result.pairs[0].pass_fail == st.mcnemar(0, 1)


def test_compare_error_rate_has_wilson_interval(tmp_path: Path) -> None:
    events = [
        make_event(i, "ab"[i % 2], error="ValueError: bad" if i % 10 == 0 else None)
        for i in range(100)
    ]

    groups = compare(write_log(tmp_path / "e.jsonl", events)).groups

    assert groups[0].errors == 10
    assert groups[0].error_interval == st.wilson_interval(10, 50)


def test_compare_latency_quantiles_bootstrapped(tmp_path: Path) -> None:
    events = [make_event(i, "ab"[i % 2]) for i in range(60)]
    latencies = [e["latency_ms"] for e in events if e["agent"] == "a"]

    group = compare(write_log(tmp_path / "e.jsonl", events)).groups[0]

    assert group.latency_p95_ms == st.bootstrap_quantile(latencies, 0.95)


def test_compare_cost_and_reward_per_usd(tmp_path: Path) -> None:
    events = [
        make_event(i, "ab"[i % 2], cost_usd=0.002 if i % 2 else 0.001, reward=0.5)
        for i in range(40)
    ]

    groups = compare(write_log(tmp_path / "e.jsonl", events)).groups

    assert groups[1].cost_per_run_usd == pytest.approx(0.002)
    assert groups[1].reward_per_usd == pytest.approx(250.0)


def test_compare_default_baseline_has_most_runs(tmp_path: Path) -> None:
    events = [make_event(i, "abbc"[i % 4]) for i in range(40)]

    result = compare(write_log(tmp_path / "e.jsonl", events))

    assert result.baseline == "b"


def test_compare_all_pairs_holm_adjusts(tmp_path: Path) -> None:
    events = paired_events({"a": 0.0, "b": 0.02, "c": 0.1})

    result = compare(write_log(tmp_path / "e.jsonl", events), all_pairs=True)
    raw = [p.reward.p_value for p in result.pairs if p.reward]

    assert [(p.treatment, p.baseline) for p in result.pairs] == [
        ("b", "a"),
        ("c", "a"),
        ("c", "b"),
    ]
    assert [p.reward_p_holm for p in result.pairs] == st.holm_adjust(raw)


def test_compare_required_cases_from_observed_sd(
    paired_log: tuple[Path, list[dict[str, Any]]],
) -> None:
    path, events = paired_log
    better, base = case_rewards(events, "better"), case_rewards(events, "base")
    sd = float(np.std([better[c] - base[c] for c in base], ddof=1))

    pair = compare(path, baseline="base").pairs[0]

    assert pair.required_cases == st.required_sample_size(0.05, sd)


def test_compare_skips_decision_events(tmp_path: Path) -> None:
    events = [make_event(i, "ab"[i % 2]) for i in range(20)]
    events.append(make_event(99, "a", latency_ms=0, kind="decision"))

    result = compare(write_log(tmp_path / "e.jsonl", events))

    assert result.runs == 20


def test_compare_groups_by_meta_field(tmp_path: Path) -> None:
    events = [make_event(i, "a", meta={"prompt": f"v{i % 2}"}) for i in range(20)]

    result = compare(write_log(tmp_path / "e.jsonl", events), key="meta.prompt")

    assert [g.name for g in result.groups] == ["v0", "v1"]


def test_compare_window_keeps_events_inside(tmp_path: Path) -> None:
    events = [make_event(i, "ab"[i % 2]) for i in range(40)]

    result = compare(
        write_log(tmp_path / "e.jsonl", events),
        since=T0 + timedelta(seconds=10),
        until=T0 + timedelta(seconds=30),
    )

    assert result.runs == 20


def test_compare_needs_two_groups(tmp_path: Path) -> None:
    path = write_log(tmp_path / "e.jsonl", [make_event(0, "solo")])

    with pytest.raises(ValueError, match=r"^need at least 2 groups to compare by"):
        compare(path)


def test_compare_one_group_names_compare_flags(tmp_path: Path) -> None:
    path = write_log(tmp_path / "e.jsonl", [make_event(0, "solo")])

    with pytest.raises(ValueError) as error:
        compare(path)

    assert str(error.value) == (
        "need at least 2 groups to compare by agent, found solo; pass more logs, "
        "widen --since/--until or pick another --by"
    )


def test_compare_non_events_counts_skipped(tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text('{"id": "a", "input": 1}\n{"id": "b", "input": 2}\n')

    with pytest.raises(ValueError) as error:
        compare(path)

    assert str(error.value) == (
        "need at least 2 groups to compare by agent, found no events because 2 of "
        f"2 lines were skipped as not events (2 bad ts), first at {path}:1; a valid "
        "event line is a JSON object with the core keys ts, agent, run_id, "
        "latency_ms, cost_usd, tokens_in, tokens_out, error and reward; pass an "
        "event log"
    )


def test_compare_one_group_counts_skipped(tmp_path: Path) -> None:
    events = [make_event(i, "solo") for i in range(3)]
    path = write_log(tmp_path / "e.jsonl", events, extra=b"{oops\n")

    with pytest.raises(ValueError) as error:
        compare(path)

    assert str(error.value) == (
        "need at least 2 groups to compare by agent, found solo; pass more logs, "
        "widen --since/--until or pick another --by. 1 of 4 lines was skipped as "
        f"not an event (1 not JSON), first at {path}:4; a valid event line is a "
        "JSON object with the core keys ts, agent, run_id, latency_ms, cost_usd, "
        "tokens_in, tokens_out, error and reward"
    )


def test_main_non_events_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text('{"id": "a", "input": 1}\n')

    status = main([str(path)])
    err = capsys.readouterr().err

    assert status == 2
    assert err.startswith(
        "telemetry-compare: error: need at least 2 groups to compare by agent, "
        "found no events because 1 of 1 line was skipped as not an event"
    )
    assert err.count("\n") == 1


def test_compare_missing_key_suggests_meta(tmp_path: Path) -> None:
    events = [make_event(i, "ab"[i % 2], meta={"team": "x"}) for i in range(10)]
    path = write_log(tmp_path / "e.jsonl", events)

    with pytest.raises(ValueError) as error:
        compare(path, key="team")

    assert str(error.value) == (
        "nothing to compare: no run has the key 'team', so every run is in the "
        "group (none); runs have 'team' in meta, so use --by meta.team"
    )


def test_compare_missing_meta_key_suggests_top(tmp_path: Path) -> None:
    events = [make_event(i, "ab"[i % 2], model="m") for i in range(10)]
    path = write_log(tmp_path / "e.jsonl", events)

    with pytest.raises(ValueError) as error:
        compare(path, key="meta.model")

    assert str(error.value) == (
        "nothing to compare: no run has the key 'meta.model', so every run is in "
        "the group (none); runs have 'model' at the top level, so use --by model"
    )


def test_compare_null_key_keeps_group_error(tmp_path: Path) -> None:
    events = [make_event(i, "ab"[i % 2], case_id=None) for i in range(10)]
    path = write_log(tmp_path / "e.jsonl", events)

    with pytest.raises(ValueError, match=r"^need at least 2 groups to compare by"):
        compare(path, key="case_id")


def test_compare_rejects_unknown_baseline(tmp_path: Path) -> None:
    path = write_log(tmp_path / "e.jsonl", [make_event(0, "a"), make_event(1, "b")])

    with pytest.raises(ValueError, match=r"^baseline 'z' is not among the groups"):
        compare(path, baseline="z")


def test_compare_reports_dirty_lines(tmp_path: Path) -> None:
    events = [make_event(i, "ab"[i % 2]) for i in range(10)]
    path = write_log(tmp_path / "e.jsonl", events, extra=b"{oops\n")

    result = compare(path)

    assert result.skipped == {"not JSON": 1}


def test_comparison_to_dict_is_strict_json(
    paired_log: tuple[Path, list[dict[str, Any]]],
) -> None:
    result: Comparison = compare(paired_log[0], baseline="base")

    text = json.dumps(result.to_dict(), allow_nan=False)

    assert json.loads(text)["pairs"][0]["reward_differs"] is True


def test_main_prints_aligned_tables(
    paired_log: tuple[Path, list[dict[str, Any]]], capsys: pytest.CaptureFixture[str]
) -> None:
    status = main([str(paired_log[0]), "--baseline", "base"])
    out = capsys.readouterr().out

    assert status == 0
    assert "better vs base" in out
    assert "higher" in out


def test_main_says_unpaired_without_case_ids(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = [make_event(i, "ab"[i % 2], reward=0.1 * (i % 5)) for i in range(40)]

    main([str(write_log(tmp_path / "e.jsonl", events))])

    assert "unpaired (no case ids)" in capsys.readouterr().out


def test_main_explains_missing_figures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = [make_event(i, "a") for i in range(10)]
    events += [make_event(10 + i, "b", reward=None) for i in range(10)]

    main([str(write_log(tmp_path / "e.jsonl", events)), "--baseline", "a"])

    assert capsys.readouterr().out.endswith(
        "\nb vs a: Δreward needs 2 runs with a reward in each group, and b has none.\n"
    )


def test_main_rounds_negative_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = paired_events({"base": 0.0, "twin": 0.0})
    for e in events:
        if e["agent"] == "twin":
            e["reward"] = case_rewards(events, "base")[e["case_id"]] - 1e-7

    main([str(write_log(tmp_path / "e.jsonl", events)), "--baseline", "base"])

    assert "twin vs base  paired  40  +0.000 [+0.000, +0.000]" in (
        capsys.readouterr().out
    )


def test_main_json_output_parses(
    paired_log: tuple[Path, list[dict[str, Any]]], capsys: pytest.CaptureFixture[str]
) -> None:
    main([str(paired_log[0]), "--json", "--all-pairs"])

    assert json.loads(capsys.readouterr().out)["key"] == "agent"


def test_main_missing_default_log_hints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AGENT_TELEMETRY_PATH", raising=False)

    status = main([])

    assert status == 2
    assert capsys.readouterr().err == (
        "telemetry-compare: error: log file 'telemetry/events.jsonl' not found; "
        f"it is the default log, relative to the working directory {tmp_path}; "
        "name a log file or folder as an argument, or set AGENT_TELEMETRY_PATH\n"
    )


def test_main_missing_file_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main([str(tmp_path / "nope.jsonl")])
    err = capsys.readouterr().err

    assert status == 2
    assert err.startswith("telemetry-compare: error: log file ")
    assert err.count("\n") == 1


def test_main_bad_option_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--confidence", "95"])

    assert exit_info.value.code == 2
    assert capsys.readouterr().err == (
        "telemetry-compare: error: argument --confidence: confidence must be a "
        "number in (0, 1), got '95'; write e.g. 0.95\n"
    )


def test_main_closed_pipe_exits_quietly(
    paired_log: tuple[Path, list[dict[str, Any]]],
) -> None:
    result = run_with_closed_stdout(["-m", "telemetry.compare", str(paired_log[0])])

    assert result.stderr == ""
    assert result.returncode == 1


def test_logger_import_leaves_out_numpy_and_scipy() -> None:
    code = (
        "import telemetry, telemetry.logger, sys; "
        "assert 'numpy' not in sys.modules and 'scipy' not in sys.modules"
    )

    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Comparison:
    """Run the bundled agents on the arithmetic cases and compare them."""
    cases = [c for c in load_cases(CASES) if "arithmetic" in c.tags]
    path = tmp_path_factory.mktemp("planted") / "events.jsonl"
    with TelemetryLogger(path) as logger:
        run_eval_sync(cases, PLANTED_AGENTS, logger=logger, progress=False)
    return compare(path, baseline="arithmetic")


def planted_pair(result: Comparison, treatment: str) -> PairComparison:
    return next(p for p in result.pairs if p.treatment == treatment)


def test_planted_better_variant_is_higher(planted: Comparison) -> None:
    pair = planted_pair(planted, "arithmetic_v2")

    assert planted.reward_differs(pair) is True
    assert pair.reward is not None
    assert pair.reward.estimate > 0


def test_planted_identical_copy_not_different(planted: Comparison) -> None:
    pair = planted_pair(planted, "arithmetic_copy")

    assert planted.reward_differs(pair) is False
    assert pair.pass_p_holm == 1.0


def test_planted_flaky_fails_more_cases(planted: Comparison) -> None:
    pair = planted_pair(planted, "arithmetic_flaky")

    assert pair.pass_fail is not None
    assert pair.pass_fail.c > pair.pass_fail.b
    assert pair.pass_p_holm is not None
    assert pair.pass_p_holm < 0.05


def test_planted_pairs_by_case_and_cluster(planted: Comparison) -> None:
    pair = planted_pair(planted, "arithmetic_flaky")

    assert (pair.design, pair.cases, pair.clusters) == ("paired by case", 90, 15)


def test_main_nan_min_effect_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--min-effect", "nan"])

    assert exit_info.value.code == 2
    assert capsys.readouterr().err.endswith(
        "telemetry-compare: error: argument --min-effect: min-effect must be a "
        "finite number > 0, got 'nan'; write e.g. 0.05\n"
    )


def test_main_infinite_min_effect_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--min-effect", "inf"])

    assert exit_info.value.code == 2


def test_main_tiny_min_effect_notes_cap(
    paired_log: tuple[Path, list[dict[str, Any]]], capsys: pytest.CaptureFixture[str]
) -> None:
    status = main([str(paired_log[0]), "--baseline", "base", "--min-effect", "1e-300"])

    assert status == 0
    assert "cases for ±1e-300 is more than 10^9, so it is not computed." in (
        capsys.readouterr().out
    )


def test_compare_small_min_effect_finishes(
    paired_log: tuple[Path, list[dict[str, Any]]],
) -> None:
    result = compare(
        paired_log[0], baseline="base", options=CompareOptions(min_effect=1e-6)
    )

    assert all(p.required_cases is None for p in result.pairs)


def test_compare_huge_rewards_note_spread(tmp_path: Path) -> None:
    events = [
        make_event(i, "ab"[i % 2], reward=1e200 if i % 4 in (0, 3) else -1e200)
        for i in range(40)
    ]
    for i, e in enumerate(events):
        e["case_id"] = f"c{i // 2}"

    result = compare(write_log(tmp_path / "e.jsonl", events), baseline="a")

    assert result.pairs[0].notes == (
        "cases for ±0.05 is not computed because the rewards are too far apart "
        "for double precision",
    )


def test_compare_absent_reward_reads_null(tmp_path: Path) -> None:
    events = [make_event(i, "ab"[i % 2]) for i in range(40)]
    for key in ("reward", "error", "cost_usd"):
        del events[0][key]

    result = compare(write_log(tmp_path / "e.jsonl", events), baseline="a")

    assert result.groups[0].runs == 20


def test_compare_labels_match_summarize(tmp_path: Path) -> None:
    values = [True, [1, 2], 1.5, None]
    events = [make_event(i, "a", meta={"v": values[i % 4]}) for i in range(40)]
    path = write_log(tmp_path / "e.jsonl", events)

    compared = {g.name for g in compare(path, key="meta.v").groups}
    summarized = {g.group for g in summarize(path, by="meta.v").groups}

    assert compared == {"true", "[1,2]", "1.5", "(none)"}
    assert compared == summarized
