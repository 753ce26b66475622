"""The result type an agent returns when it can report usage."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = ["AgentResult"]


@dataclass(frozen=True)
class AgentResult:
    """An agent's output together with the usage of the model call behind it.

    An agent may return a plain output instead; the harness then logs null tokens
    and cost. Returning this class lets realistic token counts and cost reach the
    event log.

    Attributes:
        output: The agent's output, scored against the case's expected value.
        tokens_in: Prompt tokens sent to the model, or None if unknown.
        tokens_out: Completion tokens received, or None if unknown.
        cost_usd: Cost of the call in USD, or None if unknown.
        model: Name of the model that served the call, or None if unknown.
    """

    output: Any
    tokens_in: int | None = None
    tokens_out: int | None = None
    cost_usd: float | None = None
    model: str | None = None

    def __post_init__(self) -> None:
        """Reject usage values the event log could not store."""
        for name in ("tokens_in", "tokens_out"):
            count = getattr(self, name)
            valid = isinstance(count, int) and not isinstance(count, bool)
            if count is not None and not (valid and count >= 0):
                raise ValueError(f"{name} must be an int >= 0 or None, got {count!r}")

        cost = self.cost_usd
        if cost is not None and not _is_finite_non_negative(cost):
            raise ValueError(
                f"cost_usd must be a finite number >= 0 or None, got {cost!r}"
            )

        if self.model is not None and not isinstance(self.model, str):
            raise TypeError(f"model must be a str or None, got {self.model!r}")


def _is_finite_non_negative(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return math.isfinite(value) and value >= 0
