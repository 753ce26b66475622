"""End-to-end test of the main job, ``python -m eval``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parents[1]

CORE_FIELDS = [
    "ts",
    "agent",
    "run_id",
    "latency_ms",
    "cost_usd",
    "tokens_in",
    "tokens_out",
    "error",
    "reward",
]
AGENTS = [
    "arithmetic",
    "arithmetic_copy",
    "arithmetic_flaky",
    "arithmetic_v2",
    "extractor",
]


def run_main_job(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("AGENT_TELEMETRY_PATH", None)
    return subprocess.run(
        [sys.executable, "-m", "eval", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def read_events(path: Path) -> list[dict[str, Any]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


@pytest.fixture(scope="module")
def main_job(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[str, list[dict[str, Any]]]:
    tmp = tmp_path_factory.mktemp("main_job")
    log = tmp / "out" / "events.jsonl"

    completed = run_main_job(tmp, "--log", str(log))

    assert completed.returncode == 0, completed.stderr
    return completed.stdout, read_events(log)


def test_main_job_prints_agent_table(
    main_job: tuple[str, list[dict[str, Any]]],
) -> None:
    stdout, _ = main_job

    lines = stdout.splitlines()
    rows = [line.split()[0] for line in lines[1:-1]]

    assert lines[0].startswith("group")
    assert rows == AGENTS
    assert lines[-1].endswith("events.jsonl")


def test_main_job_logs_every_run(main_job: tuple[str, list[dict[str, Any]]]) -> None:
    stdout, events = main_job

    counts: dict[str, int] = defaultdict(int)
    for event in events:
        counts[event["agent"]] += 1

    assert counts == {
        "arithmetic": 180,
        "arithmetic_v2": 180,
        "arithmetic_copy": 180,
        "arithmetic_flaky": 180,
        "extractor": 80,
    }
    assert stdout.splitlines()[-1].startswith("800 runs logged to ")


def test_main_job_events_follow_format(
    main_job: tuple[str, list[dict[str, Any]]],
) -> None:
    _, events = main_job

    for event in events:
        assert list(event)[:9] == CORE_FIELDS
        assert event["case_id"]
        assert event["repeat"] in (0, 1)
        assert event["tags"]
        assert event["meta"]["cluster"]


def test_main_job_reports_usage(main_job: tuple[str, list[dict[str, Any]]]) -> None:
    _, events = main_job

    succeeded = [event for event in events if event["error"] is None]

    assert all(event["tokens_in"] > 0 for event in succeeded)
    assert all(event["cost_usd"] > 0 for event in succeeded)
    assert {event["model"] for event in events} == {"small-model", "medium-model"}


def test_main_job_v2_beats_baseline(main_job: tuple[str, list[dict[str, Any]]]) -> None:
    _, events = main_job

    mean = {
        agent: _mean_reward(events, agent) for agent in ("arithmetic", "arithmetic_v2")
    }

    assert mean["arithmetic_v2"] > mean["arithmetic"]


def test_main_job_flaky_agent_fails(main_job: tuple[str, list[dict[str, Any]]]) -> None:
    _, events = main_job

    errors = [
        event["error"] for event in events if event["agent"] == "arithmetic_flaky"
    ]

    assert "ConnectionError: model endpoint reset the connection" in errors


def _mean_reward(events: list[dict[str, Any]], agent: str) -> float:
    rewards = [float(event["reward"]) for event in events if event["agent"] == agent]
    return sum(rewards) / len(rewards)


def test_main_job_defaults_to_telemetry_folder(tmp_path: Path) -> None:
    completed = run_main_job(tmp_path, "--repeats", "1")

    log = tmp_path / "telemetry" / "events.jsonl"

    assert completed.returncode == 0, completed.stderr
    assert len(read_events(log)) == 400


def test_main_job_rejects_bad_repeats(tmp_path: Path) -> None:
    completed = run_main_job(tmp_path, "--repeats", "0")

    assert completed.returncode == 2
    assert (
        completed.stderr
        == "python -m eval: error: argument --repeats: must be an int >= 1, "
        "got '0'; pass e.g. --repeats 2\n"
    )
