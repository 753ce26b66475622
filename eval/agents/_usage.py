"""Token estimates and billing for the bundled agents' simulated model calls."""

from __future__ import annotations

import math
import re
from typing import Any

from eval.agents._result import AgentResult
from eval.pricing import cost_usd

__all__ = ["billed_result", "estimate_tokens"]

_PIECE = re.compile(r"\w+|[^\w\s]")

# English text averages about 4 BPE tokens per 3 words in common tokenizers.
_TOKENS_PER_PIECE = 4 / 3


def estimate_tokens(text: str) -> int:
    """Estimate the number of LLM tokens in a text.

    Counts words and punctuation marks and scales by 4/3, the usual ratio of
    tokens to words in English. This is an estimate, not a real tokenizer.

    Args:
        text: The text a model would read or write.

    Returns:
        The estimated token count, >= 0.
    """
    return math.ceil(len(_PIECE.findall(text)) * _TOKENS_PER_PIECE)


def billed_result(output: Any, prompt: str, completion: str, model: str) -> AgentResult:
    """Wrap an output with the estimated usage and cost of one model call.

    Args:
        output: The agent's output.
        prompt: The full prompt the call would send.
        completion: The full text the model would return.
        model: A model name from `eval.pricing.PRICES`.

    Returns:
        The output with token counts and a cost in USD.
    """
    tokens_in = estimate_tokens(prompt)
    tokens_out = estimate_tokens(completion)
    cost = cost_usd(model, tokens_in, tokens_out)
    return AgentResult(output, tokens_in, tokens_out, cost, model)
