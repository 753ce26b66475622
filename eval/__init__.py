"""Eval harness and bundled workload for agent-telemetry.

- :mod:`eval.harness`: run a JSONL cases file through agents and log one event
  per run (``python -m eval.harness`` or ``telemetry-eval``).
- :mod:`eval.agents`: offline agents that do real work, with estimated usage.
- :mod:`eval.orchestrator`: an async orchestrator that logs every agent call.
- ``python -m eval``: the bundled cases through the bundled agents, then a
  per-agent summary table.

The package imports nothing on its own, so ``python -m eval.harness`` does not
load the harness twice.
"""

__all__: list[str] = []
