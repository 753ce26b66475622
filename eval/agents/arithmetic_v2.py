"""Improved arithmetic solver: number words, comparisons and fractions.

On top of the baseline in `eval.agents.arithmetic` it reads quantities spelled as
words ("twelve", "twenty-five", "a dozen"), comparative clauses ("twice as many",
"3 times as many", "half as many"), fractions of the total ("eats half of them"),
and questions that ask for a difference ("how many more ... than") or a sum
("together", "in total"). It prompts a larger model with worked examples, so each
call costs more than the baseline's.
"""

from __future__ import annotations

import re

from eval.agents.arithmetic import (
    INSTRUCTIONS,
    ArithmeticSolver,
    Operation,
    Work,
    apply,
    format_number,
    operation_for,
)

__all__ = ["ArithmeticSolverV2", "solve"]

_UNITS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = [
    "twenty",
    "thirty",
    "forty",
    "fifty",
    "sixty",
    "seventy",
    "eighty",
    "ninety",
]
_NUMBER_WORDS = {word: value for value, word in enumerate(_UNITS)}
_NUMBER_WORDS.update({word: 20 + 10 * index for index, word in enumerate(_TENS)})
_NUMBER_WORD = re.compile(
    rf"\b(?:({'|'.join(_TENS)})-({'|'.join(_UNITS[1:10])})|"
    rf"({'|'.join(sorted(_NUMBER_WORDS, key=len, reverse=True))}))\b"
)
_DOZEN = re.compile(r"\b(?:a|one) dozen\b")

_FACTORS = {"twice": 2.0, "double": 2.0, "thrice": 3.0, "triple": 3.0, "half": 0.5}
_FRACTIONS = {"half": 0.5, "third": 1 / 3, "quarter": 0.25}
_SUM_WORDS = frozenset({"altogether", "combined", "together", "total"})

EXAMPLES = (
    "Example: Tom has 4 pens and buys 3 more. How many pens does he have?\n"
    "4 + 3 = 7\nAnswer: 7\n"
    "Example: Mia has 10 cards and Leo has twice as many. How many cards does "
    "Leo have?\n10 * 2 = 20\nAnswer: 20\n"
    "Example: Sam has 9 shells and Ida has 4. How many more shells does Sam have "
    "than Ida?\n9 - 4 = 5\nAnswer: 5"
)


class ArithmeticSolverV2(ArithmeticSolver):
    """Solve word problems with number words, comparisons and fractions."""

    instructions = f"{INSTRUCTIONS}\n\n{EXAMPLES}"

    def __init__(
        self, name: str = "arithmetic_v2", model: str = "medium-model"
    ) -> None:
        """Create a solver logged as `name` and priced as `model`."""
        super().__init__(name, model)

    def normalize(self, problem: str) -> str:
        """Return the problem in lower case with number words replaced by digits."""
        text = _DOZEN.sub("12", problem.lower())
        return _NUMBER_WORD.sub(_number_word_to_digits, text)

    def apply_clause(self, work: Work, words: list[str]) -> None:
        """Fold one clause into the total, handling comparisons and fractions."""
        vocabulary = set(words)
        if work.total is not None and {"as", "many"} <= vocabulary:
            self._compare(work, words)
            return

        fractions = vocabulary & set(_FRACTIONS)
        if work.total is not None and fractions and not _has_digits(words):
            share = work.total * _FRACTIONS[fractions.pop()]
            apply(work, operation_for(vocabulary), share)
            return

        super().apply_clause(work, words)

    def answer(self, work: Work, question: list[str]) -> float:
        """Return the difference or sum the question requests, else the total."""
        assert work.total is not None
        vocabulary = set(question)

        if len(work.quantities) < 2:
            return work.total
        first, second = work.quantities[:2]

        if "than" in vocabulary and vocabulary & {"fewer", "more"}:
            larger, smaller = max(first, second), min(first, second)
            work.steps.append(_equation(larger, smaller, "-"))
            return larger - smaller

        if vocabulary & _SUM_WORDS:
            work.steps.append(_equation(first, second, "+"))
            return first + second

        return work.total

    def _compare(self, work: Work, words: list[str]) -> None:
        # "Ben has twice as many" states Ben's quantity relative to the total so
        # far, and the question is then about Ben.
        assert work.total is not None
        numbers = [float(word) for word in words if word[0].isdigit()]
        factor = next((_FACTORS[word] for word in words if word in _FACTORS), None)
        if factor is None:
            factor = numbers[0] if numbers and "times" in words else 1.0

        compared = work.total * factor
        work.steps.append(
            f"{format_number(work.total)} {Operation.MULTIPLY.value} "
            f"{format_number(factor)} = {format_number(compared)}"
        )
        work.quantities = [work.total, compared]
        work.total = compared


def _number_word_to_digits(match: re.Match[str]) -> str:
    tens, unit, single = match.groups()
    if single is not None:
        return str(_NUMBER_WORDS[single])
    return str(_NUMBER_WORDS[tens] + _NUMBER_WORDS[unit])


def _has_digits(words: list[str]) -> bool:
    return any(word[0].isdigit() for word in words)


def _equation(left: float, right: float, symbol: str) -> str:
    result = left + right if symbol == "+" else left - right
    return (
        f"{format_number(left)} {symbol} {format_number(right)} = "
        f"{format_number(result)}"
    )


solve = ArithmeticSolverV2()
"""The improved agent, for ``eval.agents.arithmetic_v2:solve``."""
