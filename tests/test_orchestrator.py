"""Tests for eval.orchestrator, the async orchestrator example."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from eval.casefile import Case
from eval.orchestrator import main, orchestrate, retired_agents
from telemetry import TelemetryLogger, new_run_id

PROBLEMS = [Case(f"p{index}", index, expected=index) for index in range(30)]


def echo(value: Any) -> Any:
    return value


async def async_echo(value: Any) -> Any:
    await anyio.sleep(0.001)
    return value


def broken(value: Any) -> Any:
    raise RuntimeError("model unavailable")


AGENTS = {"echo": echo, "async_echo": async_echo, "broken": broken}


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    return tmp_path / "events.jsonl"


@pytest.fixture
def logger(log_path: Path) -> Iterator[TelemetryLogger]:
    logger = TelemetryLogger(log_path)
    yield logger
    logger.shutdown_sync()


def read_events(path: Path) -> list[dict[str, Any]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def retire(logger: TelemetryLogger, agent: str) -> None:
    logger.log_event_sync(
        agent, new_run_id(), 0.0, kind="decision", meta={"verdict": "retire"}
    )
    logger.flush_sync()


@pytest.mark.anyio
async def test_orchestrate_logs_every_call(
    logger: TelemetryLogger, log_path: Path
) -> None:
    report = await orchestrate(PROBLEMS, AGENTS, logger)

    events = read_events(log_path)

    assert report.calls == 30
    assert len(events) == 30
    assert {event["parent_run_id"] for event in events} == {report.session_id}


@pytest.mark.anyio
async def test_orchestrate_routes_round_robin(
    logger: TelemetryLogger, log_path: Path
) -> None:
    await orchestrate(PROBLEMS, AGENTS, logger)

    counts: dict[str, int] = {}
    for event in read_events(log_path):
        counts[event["agent"]] = counts.get(event["agent"], 0) + 1

    assert counts == {"echo": 10, "async_echo": 10, "broken": 10}


@pytest.mark.anyio
async def test_orchestrate_records_agent_errors(
    logger: TelemetryLogger, log_path: Path
) -> None:
    report = await orchestrate(PROBLEMS, AGENTS, logger)

    errors = {
        event["error"] for event in read_events(log_path) if event["agent"] == "broken"
    }

    assert report.errors == 10
    assert errors == {"RuntimeError: model unavailable"}


@pytest.mark.anyio
async def test_orchestrate_prints_agent_table(logger: TelemetryLogger) -> None:
    report = await orchestrate(PROBLEMS, AGENTS, logger)

    rows = {line.split()[0] for line in report.table.splitlines()[1:]}

    assert rows == {"echo", "async_echo", "broken"}


@pytest.mark.anyio
async def test_orchestrate_skips_retired_agent(
    logger: TelemetryLogger, log_path: Path
) -> None:
    retire(logger, "broken")

    report = await orchestrate(PROBLEMS, AGENTS, logger)

    runs = [event for event in read_events(log_path) if "kind" not in event]

    assert report.skipped == ("broken",)
    assert report.errors == 0
    assert {event["agent"] for event in runs} == {"echo", "async_echo"}
    assert len(runs) == 30


@pytest.mark.anyio
async def test_orchestrate_all_retired_makes_no_calls(logger: TelemetryLogger) -> None:
    for name in AGENTS:
        retire(logger, name)

    report = await orchestrate(PROBLEMS, AGENTS, logger)

    assert report.calls == 0
    assert report.skipped == ("async_echo", "broken", "echo")


@pytest.mark.anyio
async def test_retired_agents_empty_without_log(tmp_path: Path) -> None:
    retired = await retired_agents(["echo"], tmp_path / "absent.jsonl")

    assert retired == set()


@pytest.mark.anyio
async def test_orchestrate_rejects_zero_concurrency(logger: TelemetryLogger) -> None:
    with pytest.raises(ValueError, match=r"^concurrency must be an int >= 1, got 0$"):
        await orchestrate(PROBLEMS, AGENTS, logger, concurrency=0)


def test_main_runs_bundled_session(
    log_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["--log", str(log_path), "--calls", "24"])

    out = capsys.readouterr().out

    assert status == 0
    assert len(read_events(log_path)) == 24
    assert "arithmetic_v2" in out
    assert out.splitlines()[-1].startswith("24 calls, ")


def test_main_rejects_zero_calls(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["--calls", "0"])

    assert status == 2
    assert capsys.readouterr().err == (
        "python -m eval.orchestrator: error: --calls must be >= 1, got 0\n"
    )
