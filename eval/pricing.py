"""Price table for the bundled agents' models, in USD per 1M tokens.

The model names are generic placeholders rather than real products, and the prices
are illustrative. There is a small, a medium and a large tier. Each charges four
times as much for an output token as for an input token, a ratio common among
hosted LLM APIs.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PRICES", "ModelPrice", "cost_usd"]


@dataclass(frozen=True)
class ModelPrice:
    """Prices of one model in USD per 1M tokens.

    Attributes:
        input_usd_per_mtok: Price of 1M prompt (input) tokens in USD.
        output_usd_per_mtok: Price of 1M completion (output) tokens in USD.
    """

    input_usd_per_mtok: float
    output_usd_per_mtok: float


PRICES: dict[str, ModelPrice] = {
    "small-model": ModelPrice(input_usd_per_mtok=0.15, output_usd_per_mtok=0.60),
    "medium-model": ModelPrice(input_usd_per_mtok=1.00, output_usd_per_mtok=4.00),
    "large-model": ModelPrice(input_usd_per_mtok=5.00, output_usd_per_mtok=20.00),
}


def cost_usd(model: str, tokens_in: int, tokens_out: int) -> float:
    """Compute the cost of one call in USD from the price table.

    Args:
        model: A model name from `PRICES`.
        tokens_in: Prompt tokens sent, >= 0.
        tokens_out: Completion tokens received, >= 0.

    Returns:
        The cost in USD, rounded to 12 decimal places so that float noise such
        as 1.7100000000000002e-05 does not reach the log.

    Raises:
        ValueError: If the model is not in the table or a token count is negative.
    """
    price = PRICES.get(model)
    if price is None:
        known = ", ".join(sorted(PRICES))
        raise ValueError(f"model must be one of {known}, got {model!r}")

    for name, count in (("tokens_in", tokens_in), ("tokens_out", tokens_out)):
        if count < 0:
            raise ValueError(f"{name} must be an int >= 0, got {count}")

    total = tokens_in * price.input_usd_per_mtok
    total += tokens_out * price.output_usd_per_mtok
    return round(total / 1_000_000, 12)
