"""An exact copy of the baseline arithmetic agent under another name.

An A/B comparison of this agent against ``eval.agents.arithmetic:solve`` should
find no difference: it is the control for tests of the comparison tools.
"""

from __future__ import annotations

from eval.agents.arithmetic import ArithmeticSolver

__all__ = ["solve"]

solve = ArithmeticSolver(name="arithmetic_copy")
"""The baseline solver logged as ``arithmetic_copy``."""
