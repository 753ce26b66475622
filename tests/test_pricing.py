"""Tests for eval.pricing."""

from __future__ import annotations

import pytest

from eval.pricing import PRICES, cost_usd


def test_cost_usd_prices_both_directions() -> None:
    price = PRICES["small-model"]

    cost = cost_usd("small-model", 1_000_000, 2_000_000)

    assert cost == pytest.approx(
        price.input_usd_per_mtok + 2 * price.output_usd_per_mtok
    )


def test_cost_usd_zero_tokens_is_free() -> None:
    assert cost_usd("large-model", 0, 0) == 0.0


def test_cost_usd_rejects_unknown_model() -> None:
    with pytest.raises(ValueError) as caught:
        cost_usd("gpt-x", 1, 1)

    assert str(caught.value) == (
        "model must be one of large-model, medium-model, small-model, got 'gpt-x'"
    )


def test_cost_usd_rejects_negative_tokens() -> None:
    with pytest.raises(ValueError, match=r"^tokens_out must be an int >= 0, got -5$"):
        cost_usd("small-model", 1, -5)


def test_prices_grow_with_model_size() -> None:
    small, medium, large = (
        PRICES[f"{size}-model"] for size in ("small", "medium", "large")
    )

    assert (
        small.input_usd_per_mtok < medium.input_usd_per_mtok < large.input_usd_per_mtok
    )
