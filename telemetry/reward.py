"""Score one agent run as a reward in [-1, 1] from its output, latency and cost.

The formula, with every weight and budget in :class:`RewardConfig`::

    reward = error_reward                                 if event["error"] is set
    reward = clamp(quality - latency_penalty - cost_penalty, -1, 1)   otherwise

    quality          in [0, 1], from the output (see :func:`reward`)
    latency_penalty  = latency_weight * ramp(latency_ms / latency_budget_ms)
    cost_penalty     = cost_weight * ramp(cost_usd / cost_budget_usd)
    ramp(x)          = clamp((x - 1) / (penalty_cap_multiple - 1), 0, 1)

So a penalty is 0 up to its budget, grows linearly, and reaches its full weight
at ``penalty_cap_multiple`` times the budget. A latency or cost that is None
or absent adds no penalty: an unknown cost is not a free run, but guessing one
would be worse. The function is pure and deterministic.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, TypeGuard

__all__ = ["DEFAULT_REWARD_CONFIG", "RewardConfig", "reward"]

_TRAILING_PUNCTUATION = ".!?;:,"


class _Missing(enum.Enum):
    MISSING = enum.auto()


_MISSING = _Missing.MISSING


@dataclass(frozen=True)
class RewardConfig:
    """Weights and budgets of :func:`reward`.

    Attributes:
        latency_budget_ms: Latency with no penalty, ms; > 0.
        cost_budget_usd: Cost with no penalty, USD; > 0.
        latency_weight: Largest latency penalty, in [0, 1].
        cost_weight: Largest cost penalty, in [0, 1].
        penalty_cap_multiple: Multiple of a budget at which its penalty
            reaches its weight; > 1.
        error_reward: The reward of a run whose ``error`` is set, in [-1, 1].
        rel_tol: Relative tolerance when comparing numbers with ``expected``.
        abs_tol: Absolute tolerance for the same, so 0 can match 1e-12.
    """

    latency_budget_ms: float = 10_000.0
    cost_budget_usd: float = 0.05
    latency_weight: float = 0.25
    cost_weight: float = 0.25
    penalty_cap_multiple: float = 4.0
    error_reward: float = -1.0
    rel_tol: float = 1e-6
    abs_tol: float = 1e-9

    def __post_init__(self) -> None:
        for item in fields(self):
            _check_limit(item.name, getattr(self, item.name))


def _check_limit(name: str, value: object) -> None:
    low, high, low_open, fix = _LIMITS[name]
    if _is_number(value) and math.isfinite(value):
        number = float(value)
        if (low < number if low_open else low <= number) and number <= high:
            return

    bounds = _describe(low, high, low_open)
    message = f"{name} must be a finite number {bounds}, got {value!r}; {fix}"
    raise ValueError(message) if _is_number(value) else TypeError(message)


# For each field: lowest value, highest value, whether the lowest is excluded,
# and what to pass instead.
_LIMITS: dict[str, tuple[float, float, bool, str]] = {
    "latency_budget_ms": (0, math.inf, True, "pass the latency (ms) a run may take"),
    "cost_budget_usd": (0, math.inf, True, "pass the cost (USD) a run may take"),
    "latency_weight": (0, 1, False, "pass 0 to ignore latency, up to 1"),
    "cost_weight": (0, 1, False, "pass 0 to ignore cost, up to 1"),
    "penalty_cap_multiple": (1, math.inf, True, "pass e.g. 4 for 4x the budget"),
    "error_reward": (-1, 1, False, "pass e.g. -1.0"),
    "rel_tol": (0, 1, False, "pass e.g. 1e-6"),
    "abs_tol": (0, math.inf, False, "pass e.g. 1e-9"),
}


def _is_number(value: object) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _describe(low: float, high: float, low_open: bool) -> str:
    lower = f"> {low:g}" if low_open else f">= {low:g}"
    if math.isinf(high):
        return lower
    return f"in ({low:g}, {high:g}]" if low_open else f"in [{low:g}, {high:g}]"


DEFAULT_REWARD_CONFIG = RewardConfig()
"""The config :func:`reward` uses unless given another."""


def reward(
    event: Mapping[str, Any],
    output: Any,
    expected: Any = _MISSING,
    *,
    config: RewardConfig = DEFAULT_REWARD_CONFIG,
) -> float:
    """Return the reward of one run, in [-1, 1], by the formula in the module doc.

    Quality, in [0, 1], comes from ``output``:

    - with ``expected``: 1.0 when they match, else 0.0. Strings match after
      case folding, collapsing whitespace and dropping trailing punctuation.
      A number matches a number, or a string that parses as one, within
      ``rel_tol`` and ``abs_tol``. A bool matches only an equal bool, and
      anything else must be equal. A None output scores 0.
    - without ``expected``: a bool gives 1.0 or 0.0; a number is clamped to
      [0, 1] (NaN gives 0); a dict is scored by its ``"score"``, else its
      ``"correct"``, else its ``"passed"`` value, the same way; None gives 0.

    Args:
        event: The run, with ``latency_ms`` (ms), ``cost_usd`` (USD) and
            ``error``; a missing or None latency or cost adds no penalty.
        output: What the agent returned.
        expected: The right answer, when known.
        config: Weights and budgets.

    Returns:
        The reward, in [-1, 1].

    Raises:
        TypeError: ``output`` cannot be scored without ``expected``, or a
            latency or cost is not a number.
        ValueError: A latency or cost is negative or not finite.
    """
    latency = _measure(event, "latency_ms")
    cost = _measure(event, "cost_usd")
    if event.get("error") not in (None, ""):
        return config.error_reward

    if expected is _MISSING:
        quality = _score(output, "output")
    else:
        quality = _match(output, expected, config)
    penalty = _penalty(latency, config.latency_budget_ms, config.latency_weight, config)
    penalty += _penalty(cost, config.cost_budget_usd, config.cost_weight, config)
    return max(-1.0, min(1.0, quality - penalty))


def _measure(event: Mapping[str, Any], key: str) -> float | None:
    value = event.get(key)
    if value is None:
        return None
    if not _is_number(value):
        raise TypeError(
            f"{key} must be a number or None, got {type(value).__name__}; "
            "pass None when it is unknown"
        )
    if not math.isfinite(value) or value < 0:
        raise ValueError(
            f"{key} must be a finite number >= 0, got {value!r}; "
            "pass None when it is unknown"
        )
    return float(value)


def _penalty(
    value: float | None, budget: float, weight: float, config: RewardConfig
) -> float:
    if value is None:
        return 0.0

    ramp = (value / budget - 1) / (config.penalty_cap_multiple - 1)
    return weight * max(0.0, min(1.0, ramp))


def _score(output: Any, name: str) -> float:
    if output is None:
        return 0.0
    if isinstance(output, bool):
        return 1.0 if output else 0.0
    if _is_number(output):
        return 0.0 if math.isnan(output) else max(0.0, min(1.0, float(output)))
    if isinstance(output, Mapping) and name == "output":
        for key in ("score", "correct", "passed"):
            if key in output:
                return _score(output[key], f"output[{key!r}]")

    raise TypeError(
        f"{name} must be a bool, a number in [0, 1], None, or a dict with "
        f"'score', 'correct' or 'passed', got {type(output).__name__}; "
        "pass expected= to compare it with the right answer"
    )


def _match(output: Any, expected: Any, config: RewardConfig) -> float:
    if output is None:
        return 0.0

    if isinstance(output, bool) or isinstance(expected, bool):
        same = type(output) is type(expected) and output == expected
    elif _is_number(output) or _is_number(expected):
        left, right = _as_number(output), _as_number(expected)
        same = (
            left is not None
            and right is not None
            and math.isclose(
                left, right, rel_tol=config.rel_tol, abs_tol=config.abs_tol
            )
        )
    elif isinstance(output, str) and isinstance(expected, str):
        same = _normalize(output) == _normalize(expected)
    else:
        same = output == expected
    return 1.0 if same else 0.0


def _as_number(value: Any) -> float | None:
    if _is_number(value):
        return float(value)
    if not isinstance(value, str):
        return None
    try:
        return float(_normalize(value))
    except ValueError:
        return None


def _normalize(text: str) -> str:
    return " ".join(text.casefold().split()).rstrip(_TRAILING_PUNCTUATION).strip()
