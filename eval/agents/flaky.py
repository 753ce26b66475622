"""A slow, unreliable wrapper around the baseline arithmetic agent.

It imitates a model endpoint under load: every call waits a random latency and a
fraction of calls fail with a connection error. The randomness is keyed on the
problem text, so a given problem always gets the same latency and the same
outcome, and a rerun of the same cases reproduces the same log.
"""

from __future__ import annotations

import hashlib
import random

import anyio

from eval.agents._result import AgentResult
from eval.agents.arithmetic import ArithmeticSolver

__all__ = ["FlakySolver", "solve"]


class FlakySolver:
    """Solve arithmetic problems slowly and sometimes fail.

    Attributes:
        agent_name: Name the harness logs this agent under.
        model: Model name of the wrapped solver, logged with failed calls too.
        min_delay_s: Shortest added latency in seconds.
        max_delay_s: Longest added latency in seconds.
        failure_rate: Fraction of problems, in [0, 1], whose calls raise.
    """

    def __init__(
        self,
        name: str = "arithmetic_flaky",
        *,
        min_delay_s: float = 0.005,
        max_delay_s: float = 0.060,
        failure_rate: float = 0.15,
        key: str = "flaky",
    ) -> None:
        """Create a flaky solver.

        Args:
            name: Name the harness logs this agent under.
            min_delay_s: Shortest added latency in seconds, >= 0.
            max_delay_s: Longest added latency in seconds, >= min_delay_s.
            failure_rate: Fraction of problems whose calls raise, in [0, 1].
            key: Mixed into the per-problem randomness; another key picks other
                latencies and other failing problems.

        Raises:
            ValueError: If a delay or the failure rate is out of range.
        """
        if not 0 <= min_delay_s <= max_delay_s:
            raise ValueError(
                "min_delay_s and max_delay_s must satisfy 0 <= min_delay_s <= "
                f"max_delay_s, got {min_delay_s} and {max_delay_s}"
            )
        if not 0 <= failure_rate <= 1:
            raise ValueError(f"failure_rate must be in [0, 1], got {failure_rate}")

        self.agent_name = name
        self.min_delay_s = min_delay_s
        self.max_delay_s = max_delay_s
        self.failure_rate = failure_rate
        self._key = key
        self._solver = ArithmeticSolver(name=name)
        self.model = self._solver.model

    async def __call__(self, problem: str) -> AgentResult:
        """Wait, then fail or solve the problem like the baseline.

        Raises:
            ConnectionError: For the fraction of problems picked to fail.
        """
        rng = random.Random(self._digest(problem))
        await anyio.sleep(rng.uniform(self.min_delay_s, self.max_delay_s))

        if rng.random() < self.failure_rate:
            raise ConnectionError("model endpoint reset the connection")
        return self._solver(problem)

    def _digest(self, problem: object) -> int:
        text = f"{self._key}\x00{problem}".encode()
        return int.from_bytes(hashlib.sha256(text).digest()[:8], "big")


solve = FlakySolver()
"""The flaky agent, for ``eval.agents.flaky:solve``."""
