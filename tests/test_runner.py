"""Tests for eval.runner: scoring single runs."""

from __future__ import annotations

from eval.runner import score_run

FAST = {"latency_ms": 1.0, "cost_usd": 0.0, "error": None}


def test_score_run_matches_expected() -> None:
    assert score_run(FAST, 19, 19) == (1.0, None)


def test_score_run_misses_expected() -> None:
    assert score_run(FAST, 18, 19) == (0.0, None)


def test_score_run_compares_dicts() -> None:
    assert score_run(FAST, {"email": "a@b.co"}, {"email": "a@b.co"}) == (1.0, None)


def test_score_run_error_scores_lowest() -> None:
    event = {**FAST, "error": "ValueError: bad input"}

    assert score_run(event, None, 19) == (-1.0, None)


def test_score_run_without_expected_scores_output() -> None:
    assert score_run(FAST, True, None) == (1.0, None)


def test_score_run_reports_unscorable_output() -> None:
    score, error = score_run(FAST, "free text", None)

    assert score is None
    assert error == (
        "TypeError: output must be a bool, a number in [0, 1], None, or a dict "
        "with 'score', 'correct' or 'passed', got str; pass expected= to compare "
        "it with the right answer"
    )
