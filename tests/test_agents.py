"""Tests for the bundled agents in eval.agents."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from eval.agents import AgentResult
from eval.agents._usage import estimate_tokens
from eval.agents.arithmetic import ArithmeticSolver
from eval.agents.arithmetic import solve as arithmetic
from eval.agents.arithmetic_copy import solve as arithmetic_copy
from eval.agents.arithmetic_v2 import solve as arithmetic_v2
from eval.agents.extractor import extract
from eval.agents.flaky import FlakySolver
from eval.pricing import cost_usd

CASES_PATH = Path(__file__).parents[1] / "eval" / "cases.jsonl"


def bundled_cases(tag: str) -> list[dict[str, Any]]:
    lines = CASES_PATH.read_text(encoding="utf-8").splitlines()
    cases = [json.loads(line) for line in lines if line.strip()]
    return [case for case in cases if tag in case["tags"]]


@pytest.mark.parametrize(
    ("problem", "expected"),
    [
        ("Ana has 12 apples and buys 7 more. How many apples does she have?", 19),
        ("Ana has 12 apples and gives 5 to Ben. How many apples are left?", 7),
        ("Ana buys 3 bags with 12 apples in each bag. How many apples?", 36),
        ("Ana has 12 apples and shares them equally among 4 friends. How many?", 3),
        ("Ana has 12 apples, buys 7 more, and then eats 4. How many are left?", 15),
        ("Ana has 4 boxes. Each box holds 6 pencils. How many pencils?", 24),
        ("Ana has 20 apples and gives 2 to each of 3 friends. How many left?", 14),
        ("Ana has $20 and spends $7.50 on lunch. How much is left?", 12.5),
        ("Ana has 1,200 stamps and sells 250. How many stamps are left?", 950),
        ("Ana splits 24 stickers into groups of 6. How many groups?", 4),
    ],
)
def test_arithmetic_solves_digit_problems(problem: str, expected: float) -> None:
    assert arithmetic(problem).output == expected


def test_arithmetic_rejects_number_words() -> None:
    with pytest.raises(ValueError) as caught:
        arithmetic("Ana has twelve apples and buys seven more. How many?")

    assert str(caught.value) == (
        "problem contains no quantity written in digits; "
        "write quantities as digits, e.g. 12"
    )


def test_arithmetic_rejects_non_string_input() -> None:
    with pytest.raises(TypeError, match=r"^problem must be a str, got int$"):
        arithmetic(12)  # type: ignore[arg-type]


def test_arithmetic_divide_by_zero_raises() -> None:
    with pytest.raises(ZeroDivisionError):
        arithmetic("Ana has 12 apples and shares them equally among 0 friends.")


def test_arithmetic_solves_easy_bundled_cases() -> None:
    cases = [case for case in bundled_cases("arithmetic") if "hard" not in case["tags"]]

    wrong = [
        case["id"]
        for case in cases
        if arithmetic(case["input"]).output != case["expected"]
    ]

    assert cases
    assert wrong == []


@pytest.mark.parametrize(
    ("problem", "expected"),
    [
        ("Ana has twelve apples and buys seven more. How many?", 19),
        ("Ana has twenty-five apples and eats a dozen. How many are left?", 13),
        ("Ana has 12 apples and Ben has twice as many. How many does Ben have?", 24),
        ("Ana has 5 apples and Ben has 3 times as many. How many does Ben have?", 15),
        ("Ana has 12 apples and Ben has 5. How many more does Ana have than Ben?", 7),
        ("Ana has 24 cookies and eats half of them. How many cookies are left?", 12),
        ("Ana has 5 pens and Ben has three times as many. How many together?", 20),
    ],
)
def test_arithmetic_v2_solves_harder_phrasings(problem: str, expected: float) -> None:
    assert arithmetic_v2(problem).output == expected


def test_arithmetic_v2_solves_every_bundled_case() -> None:
    cases = bundled_cases("arithmetic")

    wrong = [
        case["id"]
        for case in cases
        if arithmetic_v2(case["input"]).output != case["expected"]
    ]

    assert wrong == []


def test_arithmetic_v2_beats_baseline_on_hard_cases() -> None:
    cases = bundled_cases("hard")

    baseline = sum(_solves(arithmetic, case) for case in cases)
    improved = sum(_solves(arithmetic_v2, case) for case in cases)

    assert improved - baseline >= len(cases) // 2


def _solves(agent: ArithmeticSolver, case: dict[str, Any]) -> bool:
    try:
        return bool(agent(case["input"]).output == case["expected"])
    except ValueError:
        return False


def test_arithmetic_copy_matches_baseline_results() -> None:
    for case in bundled_cases("easy"):
        if "arithmetic" in case["tags"]:
            assert arithmetic_copy(case["input"]) == arithmetic(case["input"])


def test_arithmetic_copy_has_own_name() -> None:
    assert arithmetic_copy.agent_name == "arithmetic_copy"
    assert arithmetic.agent_name == "arithmetic"


def test_arithmetic_reports_priced_usage() -> None:
    result = arithmetic("Ana has 12 apples and buys 7 more. How many apples?")

    assert result.model == "small-model"
    assert result.tokens_in is not None and result.tokens_in > 20
    assert result.tokens_out is not None and result.tokens_out > 0
    assert result.cost_usd == cost_usd(
        "small-model", result.tokens_in, result.tokens_out
    )


def test_arithmetic_v2_costs_more_than_baseline() -> None:
    problem = "Ana has 12 apples and buys 7 more. How many apples?"

    baseline = arithmetic(problem)
    improved = arithmetic_v2(problem)

    assert improved.model == "medium-model"
    assert baseline.cost_usd is not None and improved.cost_usd is not None
    assert improved.cost_usd > baseline.cost_usd


def test_extractor_pulls_every_field() -> None:
    text = (
        "Invoice for order #A4100: $1,250.00 is due on March 14, 2026. "
        "Call (555) 014-2398 or write to Priya.Nair@example.com."
    )

    fields = extract(text).output

    assert fields == {
        "email": "priya.nair@example.com",
        "phone": "5550142398",
        "date": "2026-03-14",
        "amount": 1250.0,
        "currency": "USD",
        "order_id": "A4100",
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Due 2026-03-14.", {"date": "2026-03-14"}),
        ("Due 14 March 2026.", {"date": "2026-03-14"}),
        ("Due Mar. 14th, 2026.", {"date": "2026-03-14"}),
        ("Due 03/14/2026.", {"date": "2026-03-14"}),
        ("Refund 40 euros.", {"amount": 40.0, "currency": "EUR"}),
        ("Refund EUR 40.50 today.", {"amount": 40.5, "currency": "EUR"}),
        ("Refund £12.", {"amount": 12.0, "currency": "GBP"}),
        ("Call +1 555 201 7788.", {"phone": "+15552017788"}),
        ("Call 555.782.0193.", {"phone": "5557820193"}),
        ("See order no. R-900.", {"order_id": "R-900"}),
    ],
)
def test_extractor_reads_field_formats(text: str, expected: dict[str, Any]) -> None:
    assert extract(text).output == expected


def test_extractor_omits_missing_fields() -> None:
    assert extract("Thanks for your help yesterday!").output == {}


def test_extractor_matches_bundled_cases() -> None:
    # "the 13th of June" is a date form the extractor does not read.
    cases = [
        case for case in bundled_cases("extraction") if "th of" not in case["input"]
    ]

    wrong = [
        case["id"]
        for case in cases
        if extract(case["input"]).output != case["expected"]
    ]

    assert len(cases) >= 35
    assert wrong == []


@pytest.mark.anyio
async def test_flaky_matches_baseline_when_reliable() -> None:
    agent = FlakySolver(min_delay_s=0, max_delay_s=0, failure_rate=0)
    problem = "Ana has 12 apples and buys 7 more. How many apples?"

    result = await agent(problem)

    assert result.output == 19
    assert result.tokens_in == arithmetic(problem).tokens_in


@pytest.mark.anyio
async def test_flaky_raises_connection_error() -> None:
    agent = FlakySolver(min_delay_s=0, max_delay_s=0, failure_rate=1)

    with pytest.raises(ConnectionError, match=r"^model endpoint reset the connection$"):
        await agent("Ana has 12 apples and buys 7 more.")


@pytest.mark.anyio
async def test_flaky_outcome_repeats_per_problem() -> None:
    agent = FlakySolver(min_delay_s=0, max_delay_s=0, failure_rate=0.5)
    problems = [case["input"] for case in bundled_cases("easy")][:20]

    first = [await _outcome(agent, problem) for problem in problems]
    second = [await _outcome(agent, problem) for problem in problems]

    assert first == second
    assert "ConnectionError" in first
    assert any(outcome != "ConnectionError" for outcome in first)


async def _outcome(agent: FlakySolver, problem: str) -> Any:
    try:
        return (await agent(problem)).output
    except ConnectionError:
        return "ConnectionError"


def test_flaky_rejects_failure_rate_above_one() -> None:
    with pytest.raises(
        ValueError, match=r"^failure_rate must be in \[0, 1\], got 1.5$"
    ):
        FlakySolver(failure_rate=1.5)


def test_flaky_rejects_inverted_delays() -> None:
    with pytest.raises(ValueError) as caught:
        FlakySolver(min_delay_s=0.2, max_delay_s=0.1)

    assert str(caught.value) == (
        "min_delay_s and max_delay_s must satisfy 0 <= min_delay_s <= "
        "max_delay_s, got 0.2 and 0.1"
    )


def test_agent_result_rejects_negative_tokens() -> None:
    with pytest.raises(
        ValueError, match=r"^tokens_in must be an int >= 0 or None, got -1$"
    ):
        AgentResult("x", tokens_in=-1)


def test_agent_result_rejects_nan_cost() -> None:
    with pytest.raises(ValueError) as caught:
        AgentResult("x", cost_usd=float("nan"))

    assert str(caught.value) == "cost_usd must be a finite number >= 0 or None, got nan"


def test_estimate_tokens_scales_words() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("Hello, world") == 4
