"""Tests for eval.harness: running cases through agents and logging each run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from broken_pipe import run_with_closed_stdout

from eval.agents import AgentResult
from eval.casefile import Case
from eval.harness import main, run_eval, run_eval_sync
from telemetry import TelemetryLogger

ROOT = Path(__file__).parents[1]

CASES = [
    Case("a", 1, expected=1, tags=("math", "easy"), cluster="first"),
    Case("b", 2, expected=2, tags=("math",)),
    Case("c", 3, expected=3),
]


def echo(value: Any) -> Any:
    return value


async def async_echo(value: Any) -> Any:
    await anyio.sleep(0)
    return value


def fail_on_two(value: Any) -> Any:
    if value == 2:
        raise ValueError("bad input")
    return value


async def hang_on_two(value: Any) -> Any:
    if value == 2:
        await anyio.sleep_forever()
    return value


def block_on_two(value: Any) -> Any:
    if value == 2:
        time.sleep(0.5)
    return value


async def sleep_20_ms(value: Any) -> Any:
    await anyio.sleep(0.02)
    return value


def with_usage(value: Any) -> AgentResult:
    return AgentResult(value, tokens_in=10, tokens_out=4, cost_usd=0.002, model="m1")


def bad_model(value: Any) -> AgentResult:
    return AgentResult(value, model="gpt\n4", tokens_in=10)


def huge_tokens_on_two(value: Any) -> AgentResult:
    return AgentResult(value, tokens_in=2**64 if value == 2 else 5)


class InFlight:
    """An agent that records the most calls it saw running at once."""

    agent_name = "in_flight"

    def __init__(self) -> None:
        self.current = 0
        self.max = 0

    async def __call__(self, value: Any) -> Any:
        self.current += 1
        self.max = max(self.max, self.current)
        await anyio.sleep(0.01)
        self.current -= 1
        return value


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    return tmp_path / "events.jsonl"


@pytest.fixture
def logger(log_path: Path) -> Iterator[TelemetryLogger]:
    logger = TelemetryLogger(log_path)
    yield logger
    logger.shutdown_sync()


def read_events(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def write_cases(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.anyio
async def test_run_eval_logs_every_run(logger: TelemetryLogger, log_path: Path) -> None:
    result = await run_eval(CASES, [echo, async_echo], repeats=2, logger=logger)

    events = read_events(log_path)

    assert len(result.runs) == 12
    assert len(events) == 12
    assert {event["run_id"] for event in events} == {run.run_id for run in result.runs}


@pytest.mark.anyio
async def test_run_eval_events_carry_case_fields(
    logger: TelemetryLogger, log_path: Path
) -> None:
    result = await run_eval(CASES[:1], [with_usage], logger=logger)

    (event,) = read_events(log_path)

    assert event["agent"] == "with_usage"
    assert event["case_id"] == "a"
    assert event["repeat"] == 0
    assert event["tags"] == ["math", "easy"]
    assert event["meta"] == {"cluster": "first"}
    assert event["parent_run_id"] == result.run_id
    assert event["model"] == "m1"
    assert event["tokens_in"] == 10
    assert event["tokens_out"] == 4
    assert event["cost_usd"] == 0.002
    assert event["error"] is None


@pytest.mark.anyio
async def test_run_eval_omits_empty_tags_and_meta(
    logger: TelemetryLogger, log_path: Path
) -> None:
    await run_eval(CASES[2:], [echo], logger=logger)

    (event,) = read_events(log_path)

    assert "tags" not in event
    assert "meta" not in event
    assert "model" not in event
    assert event["tokens_in"] is None


@pytest.mark.anyio
async def test_run_eval_uses_fresh_run_ids(logger: TelemetryLogger) -> None:
    result = await run_eval(CASES, [echo], repeats=2, logger=logger)

    run_ids = [run.run_id for run in result.runs]

    assert len(set(run_ids)) == len(run_ids)
    assert all(uuid.UUID(run_id).version == 4 for run_id in run_ids)
    assert result.run_id not in run_ids


@pytest.mark.anyio
async def test_run_eval_times_each_run(logger: TelemetryLogger) -> None:
    result = await run_eval(CASES[:1], [sleep_20_ms], logger=logger)

    (run,) = result.runs

    assert run.latency_ms >= 20
    assert run.latency_ms == round(run.latency_ms, 3)


@pytest.mark.anyio
async def test_run_eval_records_agent_error(
    logger: TelemetryLogger, log_path: Path
) -> None:
    result = await run_eval(CASES, [fail_on_two], logger=logger)

    errors = {run.case_id: run.error for run in result.runs}
    outputs = {run.case_id: run.output for run in result.runs}
    logged = {event["case_id"]: event["error"] for event in read_events(log_path)}

    assert errors == {"a": None, "b": "ValueError: bad input", "c": None}
    assert outputs == {"a": 1, "b": None, "c": 3}
    assert logged == errors


@pytest.mark.anyio
async def test_run_eval_times_out_hanging_case(logger: TelemetryLogger) -> None:
    result = await run_eval(CASES, [hang_on_two], timeout_s=0.1, logger=logger)

    errors = {run.case_id: run.error for run in result.runs}
    timed_out = next(run for run in result.runs if run.case_id == "b")

    assert errors == {"a": None, "b": "TimeoutError: case exceeded 0.1 s", "c": None}
    assert timed_out.latency_ms >= 100


@pytest.mark.anyio
async def test_run_eval_abandons_blocking_sync_case(logger: TelemetryLogger) -> None:
    result = await run_eval(CASES, [block_on_two], timeout_s=0.05, logger=logger)

    errors = {run.case_id: run.error for run in result.runs}

    assert errors == {"a": None, "b": "TimeoutError: case exceeded 0.05 s", "c": None}


@pytest.mark.anyio
async def test_run_eval_limits_concurrency(logger: TelemetryLogger) -> None:
    agent = InFlight()
    cases = [Case(str(index), index) for index in range(12)]

    await run_eval(cases, [agent], concurrency=3, logger=logger)

    assert agent.max == 3


@pytest.mark.anyio
async def test_run_eval_runs_sync_agent_in_thread(logger: TelemetryLogger) -> None:
    threads: list[threading.Thread] = []

    def record_thread(value: Any) -> Any:
        threads.append(threading.current_thread())
        return value

    await run_eval(CASES, [record_thread], logger=logger)

    assert len(threads) == 3
    assert threading.current_thread() not in threads


@pytest.mark.anyio
async def test_run_eval_repeats_each_case(
    logger: TelemetryLogger, log_path: Path
) -> None:
    await run_eval(CASES, [echo], repeats=3, logger=logger)

    repeats: dict[str, list[int]] = {}
    for event in read_events(log_path):
        repeats.setdefault(event["case_id"], []).append(event["repeat"])

    assert {case: sorted(seen) for case, seen in repeats.items()} == {
        "a": [0, 1, 2],
        "b": [0, 1, 2],
        "c": [0, 1, 2],
    }


@pytest.mark.anyio
async def test_run_eval_orders_runs(logger: TelemetryLogger) -> None:
    result = await run_eval(CASES, [echo, async_echo], repeats=2, logger=logger)

    order = [(run.repeat, run.agent, run.case_id) for run in result.runs]

    assert order == [
        (repeat, agent, case)
        for repeat in (0, 1)
        for agent in ("echo", "async_echo")
        for case in ("a", "b", "c")
    ]


@pytest.mark.anyio
async def test_run_eval_scores_against_expected(logger: TelemetryLogger) -> None:
    cases = [Case("right", 1, expected=1), Case("wrong", 1, expected=2)]

    result = await run_eval(cases, [echo], logger=logger)

    rewards = {run.case_id: run.reward for run in result.runs}

    assert rewards == {"right": 1.0, "wrong": 0.0}


@pytest.mark.anyio
async def test_run_eval_scores_error_lowest(logger: TelemetryLogger) -> None:
    result = await run_eval(CASES, [fail_on_two], logger=logger)

    rewards = {run.case_id: run.reward for run in result.runs}

    assert rewards == {"a": 1.0, "b": -1.0, "c": 1.0}


@pytest.mark.anyio
async def test_run_eval_logs_reward_error(
    logger: TelemetryLogger, log_path: Path
) -> None:
    await run_eval([Case("text", "free text")], [echo], logger=logger)

    (event,) = read_events(log_path)

    assert event["reward"] is None
    assert event["meta"]["reward_error"].startswith(
        "TypeError: output must be a bool, a number in [0, 1], None, or a dict"
    )


@pytest.mark.anyio
async def test_run_eval_flushes_before_returning(
    logger: TelemetryLogger, log_path: Path
) -> None:
    await run_eval(CASES, [echo], repeats=4, logger=logger)

    assert len(read_events(log_path)) == 12


@pytest.mark.anyio
async def test_run_eval_table_lists_agents(logger: TelemetryLogger) -> None:
    result = await run_eval(CASES, [echo, async_echo], logger=logger)

    lines = result.table.splitlines()

    assert lines[0].startswith("group")
    assert any(line.startswith("echo ") for line in lines)
    assert any(line.startswith("async_echo ") for line in lines)


@pytest.mark.anyio
async def test_run_eval_table_covers_only_this_run(
    logger: TelemetryLogger, log_path: Path
) -> None:
    await run_eval(CASES, [echo], logger=logger)

    result = await run_eval(CASES, [async_echo], logger=logger)

    assert "async_echo" in result.table
    assert not any(line.startswith("echo ") for line in result.table.splitlines())


@pytest.mark.anyio
async def test_run_eval_rejects_bad_case_file(
    logger: TelemetryLogger, log_path: Path, tmp_path: Path
) -> None:
    cases = write_cases(tmp_path / "cases.jsonl", '{"id": "a", "input": 1}', "oops")

    with pytest.raises(ValueError) as caught:
        await run_eval(cases, [echo], logger=logger)

    assert str(caught.value) == (
        f"{cases}:2: invalid JSON (Expecting value at column 1); "
        "write one JSON object per line"
    )
    assert read_events(log_path) == []


@pytest.mark.anyio
async def test_run_eval_rejects_duplicate_case_objects(logger: TelemetryLogger) -> None:
    with pytest.raises(ValueError) as caught:
        await run_eval([CASES[0], CASES[0]], [echo], logger=logger)

    assert str(caught.value) == "case id 'a' is used twice; give every case a unique id"


@pytest.mark.anyio
async def test_run_eval_rejects_non_case_items(logger: TelemetryLogger) -> None:
    with pytest.raises(TypeError) as caught:
        await run_eval([{"id": "a", "input": 1}], [echo], logger=logger)  # type: ignore[list-item]

    assert str(caught.value) == (
        "cases must be a path or a list of eval.casefile.Case, "
        "got an element {'id': 'a', 'input': 1}"
    )


@pytest.mark.anyio
async def test_run_eval_rejects_missing_attribute(
    logger: TelemetryLogger, log_path: Path
) -> None:
    with pytest.raises(ValueError) as caught:
        await run_eval(CASES, ["eval.agents.arithmetic:missing"], logger=logger)

    assert str(caught.value) == (
        "agent 'eval.agents.arithmetic:missing': 'eval.agents.arithmetic' has no "
        "attribute 'missing'; check the name after the colon"
    )
    assert read_events(log_path) == []


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("concurrency", 0, "concurrency must be an int >= 1, got 0"),
        ("concurrency", 2.5, "concurrency must be an int >= 1, got 2.5"),
        ("timeout_s", 0, "timeout_s must be a finite number > 0, got 0"),
        ("timeout_s", float("inf"), "timeout_s must be a finite number > 0, got inf"),
        ("repeats", 0, "repeats must be an int >= 1, got 0"),
        ("repeats", True, "repeats must be an int >= 1, got True"),
    ],
)
def test_run_eval_rejects_bad_setting(
    logger: TelemetryLogger, setting: str, value: Any, message: str
) -> None:
    with pytest.raises(ValueError) as caught:
        run_eval_sync(CASES, [echo], logger=logger, **{setting: value})

    assert str(caught.value) == message


def test_run_eval_sync_from_plain_code(logger: TelemetryLogger) -> None:
    result = run_eval_sync(CASES, [echo], logger=logger)

    assert [run.output for run in result.runs] == [1, 2, 3]


def test_run_eval_sync_on_trio(logger: TelemetryLogger) -> None:
    result = run_eval_sync(CASES, [async_echo], logger=logger, backend="trio")

    assert [run.output for run in result.runs] == [1, 2, 3]


@pytest.mark.anyio
async def test_run_eval_sync_inside_event_loop(logger: TelemetryLogger) -> None:
    result = run_eval_sync(CASES, [echo, async_echo], logger=logger)

    assert len(result.runs) == 6
    assert all(run.error is None for run in result.runs)


@pytest.mark.anyio
async def test_run_eval_sync_reraises_in_loop(logger: TelemetryLogger) -> None:
    with pytest.raises(ValueError, match=r"^repeats must be an int >= 1, got 0$"):
        run_eval_sync(CASES, [echo], repeats=0, logger=logger)


def test_run_eval_draws_progress_bar(
    logger: TelemetryLogger, capsys: pytest.CaptureFixture[str]
) -> None:
    run_eval_sync(CASES, [echo], logger=logger, progress=True)

    err = capsys.readouterr().err

    assert err.endswith(f"\r[{'#' * 30}] 3/3 runs\n")
    assert "\r[" + "." * 30 + "] 0/3 runs" in err


def test_run_eval_hides_progress_off_terminal(
    logger: TelemetryLogger, capsys: pytest.CaptureFixture[str]
) -> None:
    run_eval_sync(CASES, [echo], logger=logger)

    assert capsys.readouterr().err == ""


def test_main_runs_bundled_agent(
    tmp_path: Path, log_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = write_cases(
        tmp_path / "cases.jsonl",
        '{"id": "a", "input": "Ana has 2 pens and buys 3 more.", "expected": 5}',
        '{"id": "b", "input": "Ana has 9 pens and loses 4.", "expected": 5}',
    )

    status = main(
        [str(cases), "--agent", "eval.agents.arithmetic:solve", "--log", str(log_path)]
    )
    out = capsys.readouterr().out

    assert status == 0
    assert any(line.startswith("arithmetic ") for line in out.splitlines())
    assert out.endswith(f"2 runs logged to {log_path}\n")
    assert len(read_events(log_path)) == 2


def test_main_one_run_says_run(
    tmp_path: Path, log_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = write_cases(tmp_path / "cases.jsonl", '{"id": "a", "input": 1}')

    main([str(cases), "--agent", "json:dumps", "--log", str(log_path)])

    assert capsys.readouterr().out.endswith(f"\n1 run logged to {log_path}\n")


def test_main_imports_agent_from_working_directory(
    tmp_path: Path,
    log_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A console script starts with its own folder first on sys.path, not the
    # working directory, whatever the test runner put there.
    (tmp_path / "cwd_agents.py").write_text("def echo(value):\n    return value\n")
    cases = write_cases(tmp_path / "cases.jsonl", '{"id": "a", "input": 1}')
    monkeypatch.chdir(tmp_path)
    away = ("", os.getcwd())
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in away])

    try:
        status = main(
            [str(cases), "--agent", "cwd_agents:echo", "--log", str(log_path)]
        )
    finally:
        sys.modules.pop("cwd_agents", None)

    assert status == 0
    assert capsys.readouterr().out.endswith(f"\n1 run logged to {log_path}\n")


def test_main_reports_missing_cases_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "absent.jsonl"

    status = main([str(missing), "--agent", "eval.agents.arithmetic:solve"])
    err = capsys.readouterr().err

    assert status == 2
    assert err == (
        f"telemetry-eval: error: cases file '{missing}' not found; pass an existing "
        "JSONL file of cases\n"
    )


def test_main_reports_cases_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main([str(tmp_path), "--agent", "eval.agents.arithmetic:solve"])
    err = capsys.readouterr().err

    assert status == 2
    assert err == (
        f"telemetry-eval: error: cases file '{tmp_path}' is a folder; pass a JSONL "
        "file of cases\n"
    )


def test_main_reports_bad_agent_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = write_cases(tmp_path / "cases.jsonl", '{"id": "a", "input": 1}')

    status = main([str(cases), "--agent", "eval.agents.arithmetic"])
    err = capsys.readouterr().err

    assert status == 2
    assert err == (
        "telemetry-eval: error: agent 'eval.agents.arithmetic' must look like "
        "'package.module:callable', e.g. 'eval.agents.arithmetic:solve'\n"
    )


def test_main_reports_usage_error_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = main(["cases.jsonl"])
    err = capsys.readouterr().err

    assert status == 2
    assert (
        err == "telemetry-eval: error: the following arguments are required: --agent\n"
    )


def test_main_reports_bad_concurrency(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = write_cases(tmp_path / "cases.jsonl", '{"id": "a", "input": 1}')

    status = main([str(cases), "--agent", "json:dumps", "--concurrency", "0"])

    assert status == 2
    assert capsys.readouterr().err == (
        "telemetry-eval: error: argument --concurrency: must be an int >= 1, got "
        "'0'; pass e.g. --concurrency 8\n"
    )


@pytest.mark.parametrize("value", ["-1", "0", "nan", "inf", "soon"])
def test_main_reports_bad_timeout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    cases = write_cases(tmp_path / "cases.jsonl", '{"id": "a", "input": 1}')

    status = main([str(cases), "--agent", "json:dumps", "--timeout", value])

    assert status == 2
    assert capsys.readouterr().err == (
        "telemetry-eval: error: argument --timeout: must be a finite number of "
        f"seconds > 0, got '{value}'; pass e.g. --timeout 30\n"
    )


@pytest.mark.parametrize("value", ["0", "2.5"])
def test_main_reports_bad_repeats(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    cases = write_cases(tmp_path / "cases.jsonl", '{"id": "a", "input": 1}')

    status = main([str(cases), "--agent", "json:dumps", "--repeats", value])

    assert status == 2
    assert capsys.readouterr().err == (
        f"telemetry-eval: error: argument --repeats: must be an int >= 1, got "
        f"'{value}'; pass e.g. --repeats 1\n"
    )


def test_main_closed_pipe_exits_quietly(tmp_path: Path) -> None:
    cases = write_cases(
        tmp_path / "cases.jsonl",
        '{"id": "a", "input": "Ana has 2 pens and buys 3 more.", "expected": 5}',
    )
    log = tmp_path / "events.jsonl"
    args = ["-m", "eval.harness", str(cases), "--agent", "eval.agents.arithmetic:solve"]

    result = run_with_closed_stdout([*args, "--log", str(log)], cwd=tmp_path)

    assert result.stderr == ""
    assert result.returncode == 1


def test_module_entry_point_exits_2(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "eval.harness", "absent.jsonl", "--agent", "json:dumps"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )

    assert completed.returncode == 2
    assert completed.stderr == (
        "telemetry-eval: error: cases file 'absent.jsonl' not found; pass an "
        "existing JSONL file of cases\n"
    )


@pytest.mark.anyio
async def test_run_eval_bad_model_logs_error(
    logger: TelemetryLogger, log_path: Path
) -> None:
    await run_eval(CASES[:1], [bad_model], logger=logger)
    await logger.flush()

    event = read_events(log_path)[0]

    assert event["error"].startswith(
        "invalid agent result: model must not contain control characters"
    )
    assert "model" not in event
    assert event["tokens_in"] == 10


@pytest.mark.anyio
async def test_run_eval_bad_tokens_spare_other_runs(
    logger: TelemetryLogger, log_path: Path
) -> None:
    result = await run_eval(CASES, [huge_tokens_on_two], logger=logger)

    errors = {run.case_id: run.error for run in result.runs}
    tokens = {run.case_id: run.tokens_in for run in result.runs}

    assert errors["a"] is None
    assert str(errors["b"]).startswith("invalid agent result: tokens_in must fit")
    assert tokens == {"a": 5, "b": None, "c": 5}


@pytest.mark.filterwarnings("ignore:telemetry dropped events")
def test_main_unwritten_log_exits_1(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A short retry lets the writer give up, and warn, within this test.
    monkeypatch.setenv("AGENT_TELEMETRY_RETRY_TIMEOUT", "0.2")
    cases = write_cases(tmp_path / "cases.jsonl", '{"id": "a", "input": 1}')
    folder = tmp_path / "logs"
    folder.mkdir()

    status = main([str(cases), "--agent", "json:dumps", "--log", str(folder)])
    captured = capsys.readouterr()
    expected = (
        f"telemetry-eval: error: not every event of the 1 run was written to {folder} ("
    )

    assert status == 1
    assert expected in captured.err
    assert "IsADirectoryError" in captured.err
    assert "logged to" not in captured.out
