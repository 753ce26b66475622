"""Bundled agents that do real work offline, for evaluating the telemetry tools.

Each agent is a callable taking one input and returning an `AgentResult` with an
estimated token count and a cost from `eval.pricing`. Pass them to the harness as
``package.module:callable`` paths:

- ``eval.agents.arithmetic:solve``: baseline arithmetic word-problem solver.
- ``eval.agents.arithmetic_v2:solve``: better solver (number words, comparisons),
  priced as a larger model.
- ``eval.agents.arithmetic_copy:solve``: the baseline under another name, the
  control for A/B comparisons.
- ``eval.agents.flaky:solve``: the baseline behind a slow, failing endpoint.
- ``eval.agents.extractor:extract``: pulls email, phone, date, amount, currency and
  order id out of short texts.
"""

from __future__ import annotations

from eval.agents._result import AgentResult

__all__ = ["AgentResult"]
