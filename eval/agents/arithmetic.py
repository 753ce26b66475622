"""Baseline solver for one- and two-step arithmetic word problems.

The solver reads the statement sentences clause by clause and keeps a running
total. Each clause's words pick its operation. Sharing or splitting divides, and
giving, eating or selling subtracts. "Each" or "per" multiplies, and anything else
(buying, finding, receiving) adds. It reads quantities written as digits only;
`eval.agents.arithmetic_v2` extends it to number words and comparisons.
"""

from __future__ import annotations

import enum
import math
import re
from dataclasses import dataclass, field

from eval.agents._result import AgentResult
from eval.agents._usage import billed_result

__all__ = ["ArithmeticSolver", "Operation", "Work", "format_number", "solve"]

_NUMBER = r"\d+(?:,\d{3})*(?:\.\d+)?"
_WORD = re.compile(rf"{_NUMBER}|[a-z]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
# A comma followed by three digits is a thousands separator, not a clause break.
_CLAUSE_BREAK = re.compile(
    r",(?!\d{3})\s*(?:and\s+)?(?:then\s+)?|;\s*|\s+and\s+(?:then\s+)?|\s+then\s+"
)

_DIVIDE_WORDS = frozenset(
    {"among", "divide", "divided", "divides", "equally", "groups", "share"}
    | {"shares", "split", "splits"}
)
_SUBTRACT_WORDS = frozenset(
    {"ate", "away", "breaks", "broke", "donates", "drops", "eats", "fewer", "gave"}
    | {"give", "gives", "less", "lose", "loses", "lost", "minus", "pays", "removes"}
    | {"sells", "sold", "spends", "spent", "throws", "used", "uses"}
)
_MULTIPLY_WORDS = frozenset({"each", "every", "per", "times"})

INSTRUCTIONS = (
    "You are a careful math tutor. Read the word problem, work out the answer "
    "step by step, and finish with a line 'Answer: <number>'."
)


class Operation(enum.Enum):
    """Arithmetic operation a clause applies to the running total."""

    ADD = "+"
    SUBTRACT = "-"
    MULTIPLY = "*"
    DIVIDE = "/"


@dataclass
class Work:
    """State of one solution in progress.

    Attributes:
        total: The running total, or None before the first quantity.
        quantities: The quantity each clause states, in order: the total after
            the first clause, then each later clause's operand.
        steps: The worked steps, one equation each, as the completion shows them.
    """

    total: float | None = None
    quantities: list[float] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)


class ArithmeticSolver:
    """Solve arithmetic word problems whose quantities are written as digits.

    Calling an instance with a problem returns an `AgentResult` whose output is the
    answer (an int when it is whole, else a float rounded to 2 decimals) and whose
    usage is estimated from the prompt and the worked steps.

    Attributes:
        agent_name: Name the harness logs this agent under.
        model: Model name used to price the call, from `eval.pricing.PRICES`.
    """

    instructions = INSTRUCTIONS

    def __init__(self, name: str = "arithmetic", model: str = "small-model") -> None:
        """Create a solver logged as `name` and priced as `model`."""
        self.agent_name = name
        self.model = model

    def __call__(self, problem: str) -> AgentResult:
        """Solve one problem and bill the simulated model call.

        Raises:
            TypeError: If the problem is not a str.
            ValueError: If the statement contains no quantity the solver can read.
        """
        if not isinstance(problem, str):
            raise TypeError(f"problem must be a str, got {type(problem).__name__}")

        answer, steps = self.solve(problem)

        prompt = f"{self.instructions}\n\nProblem: {problem}\n"
        completion = "\n".join([*steps, f"Answer: {format_number(answer)}"])
        return billed_result(answer, prompt, completion, self.model)

    def solve(self, problem: str) -> tuple[int | float, list[str]]:
        """Compute the answer to a problem and the steps that lead to it.

        Returns:
            The answer and the worked steps.

        Raises:
            ValueError: If the statement contains no quantity the solver can read.
        """
        statements, question = _split_problem(self.normalize(problem))

        work = Work()
        for statement in statements:
            for clause in _CLAUSE_BREAK.split(statement):
                self.apply_clause(work, _WORD.findall(clause))

        if work.total is None:
            raise ValueError(
                "problem contains no quantity written in digits; "
                "write quantities as digits, e.g. 12"
            )

        answer = self.answer(work, _WORD.findall(question))
        return _tidy(answer), work.steps

    def normalize(self, problem: str) -> str:
        """Return the problem in lower case, ready for tokenizing."""
        return problem.lower()

    def apply_clause(self, work: Work, words: list[str]) -> None:
        """Fold one clause's quantities into the running total."""
        numbers = [_to_number(word) for word in words if word[0].isdigit()]
        if not numbers:
            return

        starts = work.total is None
        if work.total is None:
            work.total = numbers.pop(0)

        vocabulary = set(words)
        operands = numbers
        if len(numbers) >= 2 and vocabulary & _MULTIPLY_WORDS:
            # "2 bags with 5 apples in each bag": the clause's quantity is the
            # product, and "each" is used up by it.
            operands = [math.prod(numbers)]
            vocabulary -= _MULTIPLY_WORDS

        operation = operation_for(vocabulary)
        for operand in operands:
            apply(work, operation, operand)

        if not starts:
            work.quantities.extend(operands)
        elif work.total is not None:
            work.quantities.append(work.total)

    def answer(self, work: Work, question: list[str]) -> float:
        """Return the final answer given the finished work and the question words."""
        assert work.total is not None
        return work.total


def operation_for(vocabulary: set[str]) -> Operation:
    """Pick the operation a clause's words call for, division first."""
    if vocabulary & _DIVIDE_WORDS:
        return Operation.DIVIDE
    if vocabulary & _SUBTRACT_WORDS:
        return Operation.SUBTRACT
    if vocabulary & _MULTIPLY_WORDS:
        return Operation.MULTIPLY
    return Operation.ADD


def apply(work: Work, operation: Operation, operand: float) -> None:
    """Apply one operation to the running total and record the step.

    Raises:
        ZeroDivisionError: If the operation divides by zero.
    """
    assert work.total is not None
    before = work.total

    if operation is Operation.ADD:
        work.total = before + operand
    elif operation is Operation.SUBTRACT:
        work.total = before - operand
    elif operation is Operation.MULTIPLY:
        work.total = before * operand
    else:
        work.total = before / operand

    left, right = format_number(before), format_number(operand)
    work.steps.append(f"{left} {operation.value} {right} = {format_number(work.total)}")


def format_number(value: float) -> str:
    """Format a quantity without a trailing ".0" and to at most 2 decimals."""
    return str(_tidy(value))


def _tidy(value: float) -> int | float:
    rounded = round(value, 2)
    if rounded == int(rounded):
        return int(rounded)
    return rounded


def _to_number(word: str) -> float:
    return float(word.replace(",", ""))


def _split_problem(problem: str) -> tuple[list[str], str]:
    statements: list[str] = []
    questions: list[str] = []
    for sentence in _SENTENCE_END.split(problem.strip()):
        if sentence.endswith("?") or sentence.startswith(("how ", "what ")):
            questions.append(sentence)
        else:
            statements.append(sentence.rstrip(".!"))
    return statements, " ".join(questions)


solve = ArithmeticSolver()
"""The baseline agent, for ``eval.agents.arithmetic:solve``."""
