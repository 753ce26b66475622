"""Tests for telemetry.retire: each rule, the watch zone, and decision events."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from broken_pipe import run_with_closed_stdout

from eval.casefile import load_cases
from eval.harness import run_eval_sync
from telemetry import TelemetryLogger
from telemetry.compare import compare
from telemetry.retire import (
    RetirementPolicy,
    Verdict,
    apply_verdicts,
    assess,
    is_retired,
    main,
)

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
        "latency_ms": 100.0,
        "cost_usd": 0.001,
        "tokens_in": 100,
        "tokens_out": 20,
        "error": None,
        "reward": 0.5,
    }
    event.update(changes)
    return event


def agents_log(
    path: Path,
    agents: dict[str, dict[str, float]],
    cases: int = 60,
) -> Path:
    """Write runs of agents on shared cases.

    Each agent is given as {"shift": reward shift, "errors": error rate,
    "cost": USD per run}; errors are spread evenly over the cases.
    """
    rng = np.random.default_rng(11)
    levels = rng.uniform(0.3, 0.7, cases)
    lines, i = [], 0
    for case in range(cases):
        for agent, spec in agents.items():
            errors = spec.get("errors", 0.0)
            failed = errors > 0 and (case * errors) % 1 + errors >= 1
            reward = float(levels[case] + spec.get("shift", 0.0) + rng.normal(0, 0.05))
            event = make_event(
                i,
                agent,
                cost_usd=spec.get("cost", 0.001),
                error="RuntimeError: upstream 503" if failed else None,
                reward=None if failed else reward,
                case_id=f"case-{case}",
            )
            lines.append(orjson.dumps(event) + b"\n")
            i += 1
    path.write_bytes(b"".join(lines))
    return path


def verdict_of(verdicts: list[Verdict], agent: str) -> Verdict:
    return next(v for v in verdicts if v.agent == agent)


def test_policy_defaults_are_documented_values() -> None:
    policy = RetirementPolicy()

    assert (policy.confidence, policy.error_ceiling) == (0.95, 0.10)
    assert (policy.reward_margin, policy.min_runs) == (0.05, 30)


def test_policy_rejects_bad_confidence() -> None:
    with pytest.raises(
        ValueError,
        match=r"^confidence must be a number in \(0, 1\), got 95; use e\.g\. 0\.95$",
    ):
        RetirementPolicy(confidence=95)


def test_policy_rejects_zero_min_runs() -> None:
    with pytest.raises(
        ValueError, match=r"^min_runs must be an integer >= 1, got 0; use e\.g\. 30$"
    ):
        RetirementPolicy(min_runs=0)


def test_policy_rejects_string_ceiling() -> None:
    with pytest.raises(
        TypeError,
        match=r"^error_ceiling must be a number in \[0, 1\), got str 'high'; "
        r"use e\.g\. 0\.1$",
    ):
        RetirementPolicy(error_ceiling="high")  # type: ignore[arg-type]


def test_policy_rejects_fractional_min_runs() -> None:
    with pytest.raises(
        TypeError, match=r"^min_runs must be an integer >= 1, got float 2\.5; "
    ):
        RetirementPolicy(min_runs=2.5)  # type: ignore[arg-type]


def test_policy_rejects_bool_margin() -> None:
    with pytest.raises(
        TypeError, match=r"^reward_margin must be a number >= 0, got bool True; "
    ):
        RetirementPolicy(reward_margin=True)


def test_policy_rejects_string_sequential() -> None:
    with pytest.raises(
        TypeError,
        match=r"^sequential must be true, false or None \(decide from the case "
        r"ids\), got str 'yes'$",
    ):
        RetirementPolicy(sequential="yes")  # type: ignore[arg-type]


@pytest.mark.skipif(sys.version_info < (3, 11), reason="TOML needs Python 3.11")
def test_policy_from_toml_overrides_defaults(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text("error_ceiling = 0.2\nmin_runs = 10\n")

    policy = RetirementPolicy.from_toml(path)

    assert policy == RetirementPolicy(error_ceiling=0.2, min_runs=10)


@pytest.mark.skipif(sys.version_info < (3, 11), reason="TOML needs Python 3.11")
def test_policy_toml_bad_type_names_file(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text('error_ceiling = "high"\n')

    with pytest.raises(TypeError) as error:
        RetirementPolicy.from_toml(path)

    assert str(error.value) == (
        f"policy file {path}: error_ceiling must be a number in [0, 1), got str "
        "'high'; use e.g. 0.1"
    )


@pytest.mark.skipif(sys.version_info < (3, 11), reason="TOML needs Python 3.11")
def test_policy_toml_syntax_error_names_file(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text("error_ceiling = high\n")

    with pytest.raises(ValueError) as error:
        RetirementPolicy.from_toml(path)

    assert str(error.value) == (
        f"policy file {path} is not valid TOML: Invalid value (at line 1, "
        "column 17); write one key = value per line, e.g. error_ceiling = 0.1"
    )


@pytest.mark.skipif(sys.version_info < (3, 11), reason="TOML needs Python 3.11")
def test_policy_from_toml_rejects_unknown_key(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text("ceiling = 0.2\n")

    with pytest.raises(ValueError, match=r"^unknown policy key 'ceiling' in "):
        RetirementPolicy.from_toml(path)


def test_assess_retires_above_error_ceiling(tmp_path: Path) -> None:
    log = agents_log(tmp_path / "e.jsonl", {"ok": {}, "flaky": {"errors": 0.4}})

    verdict = verdict_of(assess(log).verdicts, "flaky")

    assert (verdict.verdict, verdict.rule) == ("retire", "error ceiling")
    assert verdict.reason.startswith("error rate 40.0% [")


def test_assess_watches_inconclusive_error_rate(tmp_path: Path) -> None:
    log = agents_log(tmp_path / "e.jsonl", {"ok": {}, "shaky": {"errors": 0.15}})

    verdict = verdict_of(assess(log).verdicts, "shaky")

    assert (verdict.verdict, verdict.rule) == ("watch", "error ceiling")


def test_assess_never_retires_below_min_runs(tmp_path: Path) -> None:
    log = agents_log(
        tmp_path / "e.jsonl", {"ok": {}, "flaky": {"errors": 0.5}}, cases=20
    )

    verdict = verdict_of(assess(log).verdicts, "flaky")

    assert (verdict.verdict, verdict.rule) == ("watch", "min runs")
    assert verdict.reason.endswith("only 20 runs, fewer than the 30 needed to retire")


def test_assess_few_runs_reason_says_run(tmp_path: Path) -> None:
    events = [make_event(i, "many") for i in range(40)] + [make_event(40, "solo")]
    log = tmp_path / "e.jsonl"
    log.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))

    verdict = verdict_of(assess(log).verdicts, "solo")

    assert "(95% CI, 0 of 1 run)" in verdict.reason
    assert verdict.reason.endswith("; only 1 run, fewer than the 30 needed")


def test_assess_rounds_negative_zero(tmp_path: Path) -> None:
    rewards = np.random.default_rng(5).uniform(0.3, 0.7, 40)
    events = [
        make_event(2 * i + k, agent, reward=float(r) - k * 1e-7, case_id=f"c{i}")
        for i, r in enumerate(rewards)
        for k, agent in enumerate(["good", "twin"])
    ]
    log = tmp_path / "e.jsonl"
    log.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))

    verdict = verdict_of(assess(log).verdicts, "twin")

    assert "reward +0.000 [+0.000, +0.000] (95% CI) against good" in verdict.reason


def test_assess_retires_below_reward_margin(tmp_path: Path) -> None:
    log = agents_log(tmp_path / "e.jsonl", {"good": {}, "poor": {"shift": -0.2}})

    verdict = verdict_of(assess(log).verdicts, "poor")

    assert (verdict.verdict, verdict.rule) == ("retire", "reward margin")
    assert "against good, the best agent costing no more per run" in verdict.reason


def test_assess_keeps_cheaper_worse_agent(tmp_path: Path) -> None:
    agents = {"cheap": {}, "premium": {"shift": 0.2, "cost": 0.01}}
    log = agents_log(tmp_path / "e.jsonl", agents)

    verdicts = assess(log).verdicts

    assert verdict_of(verdicts, "cheap").verdict == "keep"
    assert verdict_of(verdicts, "premium").verdict == "keep"


def test_assess_watches_shortfall_within_noise(tmp_path: Path) -> None:
    log = agents_log(
        tmp_path / "e.jsonl", {"good": {}, "poor": {"shift": -0.06}}, cases=30
    )
    policy = RetirementPolicy(reward_margin=0.05)

    verdict = verdict_of(assess(log, policy=policy).verdicts, "poor")

    assert (verdict.verdict, verdict.rule) == ("watch", "reward margin")


def test_assess_retires_dominated_agent(tmp_path: Path) -> None:
    agents = {"lean": {"shift": 0.03}, "costly": {"cost": 0.002}}
    log = agents_log(tmp_path / "e.jsonl", agents)
    # A margin this wide leaves dominance as the only rule that can apply.
    policy = RetirementPolicy(reward_margin=0.5)

    verdict = verdict_of(assess(log, policy=policy).verdicts, "costly")

    assert (verdict.verdict, verdict.rule) == ("retire", "dominated")
    assert verdict.reason.startswith("lean has higher reward by 0.0")


def test_assess_keep_reason_states_figures(tmp_path: Path) -> None:
    log = agents_log(tmp_path / "e.jsonl", {"a": {}, "b": {}})

    verdict = verdict_of(assess(log).verdicts, "a")

    assert verdict.verdict == "keep"
    assert verdict.reason.startswith("error rate 0.0% [0.0%, 6.0%] (95% CI, 0 of 60")


def test_assess_sequential_uses_confidence_sequences(tmp_path: Path) -> None:
    log = agents_log(tmp_path / "e.jsonl", {"ok": {}, "flaky": {"errors": 0.4}})
    policy = RetirementPolicy(sequential=True)

    verdict = verdict_of(assess(log, policy=policy).verdicts, "flaky")

    assert verdict.verdict == "retire"
    assert "(95% CS, 24 of 60 runs)" in verdict.reason


def test_apply_verdicts_writes_decision_events(tmp_path: Path) -> None:
    log = agents_log(tmp_path / "e.jsonl", {"ok": {}, "flaky": {"errors": 0.4}})

    apply_verdicts(assess(log).verdicts, log)
    decisions = [
        json.loads(line)
        for line in log.read_text().splitlines()
        if '"decision"' in line
    ]

    assert [d["agent"] for d in decisions] == ["flaky", "ok"]
    assert decisions[0]["meta"]["verdict"] == "retire"
    assert decisions[0]["latency_ms"] == 0


def test_apply_verdicts_leaves_comparison_unchanged(tmp_path: Path) -> None:
    log = agents_log(tmp_path / "e.jsonl", {"ok": {}, "flaky": {"errors": 0.4}})

    apply_verdicts(assess(log).verdicts, log)

    assert compare(log).runs == 120


def test_is_retired_reads_latest_verdict(tmp_path: Path) -> None:
    log = agents_log(tmp_path / "e.jsonl", {"ok": {}, "flaky": {"errors": 0.4}})

    apply_verdicts(assess(log).verdicts, log)

    assert is_retired("flaky", log)
    assert not is_retired("ok", log)


def test_is_retired_later_keep_reinstates(tmp_path: Path) -> None:
    log = agents_log(tmp_path / "e.jsonl", {"ok": {}, "flaky": {"errors": 0.4}})
    retire = Verdict("flaky", "retire", "error ceiling", "too many errors", 60)
    keep = Verdict("flaky", "keep", "none", "fixed upstream", 60)

    apply_verdicts([retire], log)
    apply_verdicts([keep], log)

    assert not is_retired("flaky", log)


def test_is_retired_false_without_decisions(tmp_path: Path) -> None:
    log = agents_log(tmp_path / "e.jsonl", {"ok": {}, "flaky": {"errors": 0.4}})

    assert not is_retired("flaky", log)


def test_main_apply_appends_and_prints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = agents_log(tmp_path / "e.jsonl", {"ok": {}, "flaky": {"errors": 0.4}})

    status = main([str(log), "--apply"])
    captured = capsys.readouterr()

    assert status == 0
    assert "flaky  retire   error ceiling" in captured.out
    assert captured.err == f"appended 2 decision events to {log}\n"
    assert is_retired("flaky", log)


def test_main_apply_json_keeps_stdout_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = agents_log(tmp_path / "e.jsonl", {"ok": {}, "flaky": {"errors": 0.4}})

    main([str(log), "--apply", "--json"])
    data = json.loads(capsys.readouterr().out)

    assert [v["agent"] for v in data["verdicts"]] == ["flaky", "ok"]


def test_main_json_lists_verdicts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = agents_log(tmp_path / "e.jsonl", {"ok": {}, "flaky": {"errors": 0.4}})

    main([str(log), "--json"])
    data = json.loads(capsys.readouterr().out)

    assert [v["verdict"] for v in data["verdicts"]] == ["retire", "keep"]


@pytest.mark.skipif(sys.version_info < (3, 11), reason="TOML needs Python 3.11")
def test_main_policy_file_and_override(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = agents_log(tmp_path / "e.jsonl", {"ok": {}, "flaky": {"errors": 0.4}})
    policy = tmp_path / "policy.toml"
    policy.write_text("error_ceiling = 0.5\n")

    main([str(log), "--json", "--policy", str(policy), "--min-runs", "100"])
    data = json.loads(capsys.readouterr().out)

    assert data["policy"]["error_ceiling"] == 0.5
    assert data["policy"]["min_runs"] == 100


@pytest.mark.skipif(sys.version_info < (3, 11), reason="TOML needs Python 3.11")
def test_main_bad_policy_value_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = agents_log(tmp_path / "e.jsonl", {"ok": {}, "flaky": {"errors": 0.4}})
    policy = tmp_path / "policy.toml"
    policy.write_text('error_ceiling = "high"\n')

    status = main([str(log), "--policy", str(policy)])

    assert status == 2
    assert capsys.readouterr().err == (
        f"telemetry-retire: error: policy file {policy}: error_ceiling must be a "
        "number in [0, 1), got str 'high'; use e.g. 0.1\n"
    )


def test_main_closed_pipe_exits_quietly(tmp_path: Path) -> None:
    log = agents_log(tmp_path / "e.jsonl", {"ok": {}, "flaky": {"errors": 0.4}})

    result = run_with_closed_stdout(["-m", "telemetry.retire", str(log)])

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
        "telemetry-retire: error: log file 'telemetry/events.jsonl' not found; "
        f"it is the default log, relative to the working directory {tmp_path}; "
        "name a log file or folder as an argument, or set AGENT_TELEMETRY_PATH\n"
    )


def test_main_missing_file_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main([str(tmp_path / "nope.jsonl")])
    err = capsys.readouterr().err

    assert status == 2
    assert err.startswith("telemetry-retire: error: log file ")
    assert err.count("\n") == 1


def test_main_apply_to_folder_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    agents_log(tmp_path / "e.jsonl", {"ok": {}, "flaky": {"errors": 0.4}})

    status = main([str(tmp_path), "--apply"])

    assert status == 2
    assert "is a folder; name the live log with --log" in capsys.readouterr().err


def test_assess_one_agent_names_retire_flags(tmp_path: Path) -> None:
    path = agents_log(tmp_path / "e.jsonl", {"solo": {}}, cases=3)

    with pytest.raises(ValueError) as caught:
        assess(path)

    assert str(caught.value) == (
        "need at least 2 agents to assess, found solo; pass logs with runs of "
        "more agents or widen --since/--until"
    )


def test_main_one_agent_omits_by(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = agents_log(tmp_path / "e.jsonl", {"solo": {}}, cases=3)

    status = main([str(path)])
    err = capsys.readouterr().err

    assert status == 2
    assert err.startswith("telemetry-retire: error: need at least 2 agents")
    assert "--by" not in err


def test_assess_non_events_counts_skipped(tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text('{"id": "a", "input": 1}\n' * 3)

    with pytest.raises(ValueError) as caught:
        assess(path)

    assert str(caught.value) == (
        "need at least 2 agents to assess, found no events because 3 of 3 lines "
        f"were skipped as not events (3 bad ts), first at {path}:1; a valid event "
        "line is a JSON object with the core keys ts, agent, run_id, latency_ms, "
        "cost_usd, tokens_in, tokens_out, error and reward; pass an event log"
    )


@pytest.fixture(scope="module")
def planted_verdicts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Run the bundled agents on the arithmetic cases and judge them."""
    cases = [c for c in load_cases(CASES) if "arithmetic" in c.tags]
    path = tmp_path_factory.mktemp("planted") / "events.jsonl"
    with TelemetryLogger(path) as logger:
        run_eval_sync(cases, PLANTED_AGENTS, logger=logger, progress=False)
    return {v.agent: v.verdict for v in assess(path).verdicts}


def test_planted_flaky_agent_retired(planted_verdicts: dict[str, str]) -> None:
    assert planted_verdicts["arithmetic_flaky"] == "retire"


@pytest.mark.parametrize("agent", ["arithmetic", "arithmetic_copy", "arithmetic_v2"])
def test_planted_sound_agents_kept(
    planted_verdicts: dict[str, str], agent: str
) -> None:
    assert planted_verdicts[agent] == "keep"


def test_assess_huge_rewards_keep_both(tmp_path: Path) -> None:
    lines = [
        orjson.dumps(
            make_event(
                i,
                "ab"[i % 2],
                reward=1e200 if i % 4 in (0, 3) else -1e200,
                case_id=f"c{i // 2}",
            )
        )
        + b"\n"
        for i in range(80)
    ]
    path = tmp_path / "e.jsonl"
    path.write_bytes(b"".join(lines))

    verdicts = assess(path).verdicts

    assert [v.verdict for v in verdicts] == ["keep", "keep"]


def test_assess_absent_reward_reads_null(tmp_path: Path) -> None:
    path = agents_log(tmp_path / "e.jsonl", {"a": {}, "b": {}})
    lines = path.read_bytes().splitlines(keepends=True)
    event = orjson.loads(lines[0])
    del event["reward"]
    path.write_bytes(orjson.dumps(event) + b"\n" + b"".join(lines[1:]))

    verdicts = assess(path).verdicts

    assert verdict_of(verdicts, "a").runs == 60


@pytest.mark.skipif(sys.version_info < (3, 11), reason="TOML needs Python 3.11")
def test_policy_toml_folder_raises(tmp_path: Path) -> None:
    with pytest.raises(ValueError) as error:
        RetirementPolicy.from_toml(tmp_path)

    assert str(error.value) == (
        f"policy file {str(tmp_path)!r} could not be read: Is a directory; pass a "
        "readable TOML file"
    )


def test_main_since_too_far_back_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = agents_log(tmp_path / "e.jsonl", {"a": {}, "b": {}})

    with pytest.raises(SystemExit) as exit_info:
        main([str(path), "--since", "3000000d"])

    assert exit_info.value.code == 2
    assert capsys.readouterr().err.endswith(
        "error: argument --since: duration '3000000d' reaches before the year 1; "
        "write a shorter one, e.g. '365d'\n"
    )


def unknown_cost_log(path: Path) -> Path:
    """Write a cheap agent and a better one that never reports its cost."""
    lines = []
    for i in range(60):
        cheap = make_event(
            2 * i,
            "cheap",
            cost_usd=0.0001,
            reward=0.5 + (i % 7) * 0.013,
            case_id=f"k{i}",
        )
        pricey = make_event(
            2 * i + 1,
            "pricey",
            cost_usd=None,
            reward=0.9 + (i % 5) * 0.011,
            case_id=f"k{i}",
        )
        lines += [orjson.dumps(cheap) + b"\n", orjson.dumps(pricey) + b"\n"]
    path.write_bytes(b"".join(lines))
    return path


def test_assess_unknown_cost_not_cheaper(tmp_path: Path) -> None:
    verdicts = assess(unknown_cost_log(tmp_path / "e.jsonl")).verdicts

    cheap = verdict_of(verdicts, "cheap")

    assert cheap.verdict == "keep"
    assert "pricey left out of the cost rules because its cost is unknown" in (
        cheap.reason
    )


def test_assess_unknown_own_cost_says_unchecked(tmp_path: Path) -> None:
    verdicts = assess(unknown_cost_log(tmp_path / "e.jsonl")).verdicts

    assert verdict_of(verdicts, "pricey").reason.endswith(
        "; reward margin and dominance not checked because the cost per run is unknown"
    )


def test_percent_keeps_fractional_ceiling() -> None:
    from telemetry.retire import _percent

    assert _percent(0.035) == "3.5%"
    assert _percent(0.1) == "10%"
