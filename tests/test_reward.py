"""Tests for telemetry.reward: quality per output kind, penalties, config checks."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest

from telemetry.reward import DEFAULT_REWARD_CONFIG, RewardConfig, reward

FAST = {"agent": "a", "latency_ms": 100.0, "cost_usd": None}


@pytest.mark.parametrize(
    ("output", "value"),
    [
        (True, 1.0),
        (False, 0.0),
        (None, 0.0),
        (0.7, 0.7),
        (1, 1.0),
        (1.5, 1.0),
        (-0.2, 0.0),
        (math.nan, 0.0),
        ({"score": 0.4}, 0.4),
        ({"score": 2}, 1.0),
        ({"score": True}, 1.0),
        ({"correct": True}, 1.0),
        ({"correct": False}, 0.0),
        ({"passed": True}, 1.0),
        ({"score": 0.3, "correct": True}, 0.3),
        ({"correct": False, "passed": True}, 0.0),
    ],
)
def test_reward_quality_without_expected(output: Any, value: float) -> None:
    assert reward(FAST, output) == value


@pytest.mark.parametrize(
    ("output", "expected", "value"),
    [
        ("Paris", "paris", 1.0),
        ("  The  answer is\nParis. ", "the answer is paris", 1.0),
        ("Paris!", "Paris", 1.0),
        ("Paris", "Lyon", 0.0),
        ("Par is", "Paris", 0.0),
        (42, 42, 1.0),
        (42.0000001, 42, 1.0),
        (42.001, 42, 0.0),
        ("42", 42, 1.0),
        ("42.", 42.0, 1.0),
        (42, "42", 1.0),
        ("forty-two", 42, 0.0),
        (0.0, 1e-12, 1.0),
        (True, True, 1.0),
        (True, 1, 0.0),
        (1, True, 0.0),
        ([1, 2], [1, 2], 1.0),
        ([1, 2], [2, 1], 0.0),
        ({"a": 1}, {"a": 1}, 1.0),
        (None, "Paris", 0.0),
        (None, None, 0.0),
    ],
)
def test_reward_quality_against_expected(
    output: Any, expected: Any, value: float
) -> None:
    assert reward(FAST, output, expected) == value


@pytest.mark.parametrize(
    ("latency_ms", "cost_usd", "value"),
    [
        (None, None, 1.0),
        (10_000, 0.05, 1.0),
        (25_000, None, 0.875),
        (40_000, None, 0.75),
        (400_000, None, 0.75),
        (None, 0.125, 0.875),
        (None, 1.0, 0.75),
        (40_000, 1.0, 0.5),
    ],
)
def test_reward_latency_and_cost_penalties(
    latency_ms: float | None, cost_usd: float | None, value: float
) -> None:
    event = {"agent": "a", "latency_ms": latency_ms, "cost_usd": cost_usd}

    assert reward(event, True) == pytest.approx(value)


def test_reward_absent_latency_and_cost() -> None:
    assert reward({"agent": "a"}, 0.5) == 0.5


def test_reward_error_gives_error_reward() -> None:
    event = {**FAST, "error": "TimeoutError: slow"}

    assert reward(event, True) == -1.0


def test_reward_empty_error_is_no_error() -> None:
    assert reward({**FAST, "error": ""}, True) == 1.0


def test_reward_error_reward_from_config() -> None:
    config = RewardConfig(error_reward=-0.5)

    assert reward({**FAST, "error": "E: x"}, True, config=config) == -0.5


def test_reward_clamped_to_minus_one() -> None:
    config = RewardConfig(latency_weight=1.0, cost_weight=1.0)
    event = {"agent": "a", "latency_ms": 1e9, "cost_usd": 1e9}

    assert reward(event, False, config=config) == -1.0


def test_reward_deterministic() -> None:
    event = {"agent": "a", "latency_ms": 12_345.6, "cost_usd": 0.07}

    assert reward(event, 0.9) == reward(event, 0.9)


@pytest.mark.parametrize(
    ("output", "kind"),
    [("Paris", "str"), ([1], "list"), ({"answer": 1}, "dict")],
)
def test_reward_unscorable_output_raises(output: Any, kind: str) -> None:
    with pytest.raises(TypeError) as caught:
        reward(FAST, output)

    assert str(caught.value) == (
        "output must be a bool, a number in [0, 1], None, or a dict with "
        f"'score', 'correct' or 'passed', got {kind}; "
        "pass expected= to compare it with the right answer"
    )


def test_reward_unscorable_score_raises() -> None:
    with pytest.raises(TypeError) as caught:
        reward(FAST, {"score": "high"})

    assert str(caught.value).startswith("output['score'] must be a bool")


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (
            "latency_ms",
            math.nan,
            "latency_ms must be a finite number >= 0, got nan; "
            "pass None when it is unknown",
        ),
        (
            "cost_usd",
            -1,
            "cost_usd must be a finite number >= 0, got -1; "
            "pass None when it is unknown",
        ),
    ],
)
def test_reward_bad_measure_raises_value_error(
    key: str, value: float, message: str
) -> None:
    with pytest.raises(ValueError) as caught:
        reward({**FAST, key: value}, True)

    assert str(caught.value) == message


def test_reward_text_latency_raises() -> None:
    with pytest.raises(TypeError) as caught:
        reward({**FAST, "latency_ms": "fast"}, True)

    assert str(caught.value) == (
        "latency_ms must be a number or None, got str; pass None when it is unknown"
    )


def test_reward_config_defaults() -> None:
    assert dataclasses.asdict(DEFAULT_REWARD_CONFIG) == {
        "latency_budget_ms": 10_000.0,
        "cost_budget_usd": 0.05,
        "latency_weight": 0.25,
        "cost_weight": 0.25,
        "penalty_cap_multiple": 4.0,
        "error_reward": -1.0,
        "rel_tol": 1e-6,
        "abs_tol": 1e-9,
    }


def test_reward_config_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT_REWARD_CONFIG.latency_weight = 0.5  # type: ignore[misc]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "latency_budget_ms",
            0,
            "latency_budget_ms must be a finite number > 0, got 0; "
            "pass the latency (ms) a run may take",
        ),
        (
            "latency_budget_ms",
            math.inf,
            "latency_budget_ms must be a finite number > 0, got inf; "
            "pass the latency (ms) a run may take",
        ),
        (
            "cost_budget_usd",
            -0.01,
            "cost_budget_usd must be a finite number > 0, got -0.01; "
            "pass the cost (USD) a run may take",
        ),
        (
            "latency_weight",
            1.5,
            "latency_weight must be a finite number in [0, 1], got 1.5; "
            "pass 0 to ignore latency, up to 1",
        ),
        (
            "cost_weight",
            -0.1,
            "cost_weight must be a finite number in [0, 1], got -0.1; "
            "pass 0 to ignore cost, up to 1",
        ),
        (
            "penalty_cap_multiple",
            1,
            "penalty_cap_multiple must be a finite number > 1, got 1; "
            "pass e.g. 4 for 4x the budget",
        ),
        (
            "error_reward",
            -2,
            "error_reward must be a finite number in [-1, 1], got -2; pass e.g. -1.0",
        ),
        (
            "rel_tol",
            math.nan,
            "rel_tol must be a finite number in [0, 1], got nan; pass e.g. 1e-6",
        ),
        (
            "abs_tol",
            -1e-9,
            "abs_tol must be a finite number >= 0, got -1e-09; pass e.g. 1e-9",
        ),
    ],
)
def test_reward_config_bad_value_raises(field: str, value: Any, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        RewardConfig(**{field: value})

    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "latency_weight",
            True,
            "latency_weight must be a finite number in [0, 1], got True; "
            "pass 0 to ignore latency, up to 1",
        ),
        (
            "cost_weight",
            "0.5",
            "cost_weight must be a finite number in [0, 1], got '0.5'; "
            "pass 0 to ignore cost, up to 1",
        ),
    ],
)
def test_reward_config_bad_type_raises(field: str, value: Any, message: str) -> None:
    with pytest.raises(TypeError) as caught:
        RewardConfig(**{field: value})

    assert str(caught.value) == message
