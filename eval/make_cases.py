"""Generate ``eval/cases.jsonl``, the bundled evaluation cases.

Run ``python -m eval.make_cases`` after changing the templates below. Expected
values come from the template parameters, never from an agent, so the file is an
independent reference. The output is deterministic.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

__all__ = ["arithmetic_cases", "extraction_cases", "main"]

CASES_PATH = Path(__file__).with_name("cases.jsonl")

_NUMBER_WORDS = [
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
    "twenty",
]


class Story(NamedTuple):
    """Characters and objects shared by the questions of one cluster."""

    name: str
    pronoun: str
    friend: str
    item: str
    container: str


STORIES = [
    Story("Ana", "she", "Ben", "apples", "bag"),
    Story("Omar", "he", "Lena", "marbles", "jar"),
    Story("Priya", "she", "Tom", "stickers", "sheet"),
    Story("Kenji", "he", "Mara", "pencils", "box"),
    Story("Sofia", "she", "Ivan", "cookies", "tray"),
    Story("Lucas", "he", "Nina", "stamps", "album"),
    Story("Amara", "she", "Theo", "shells", "bucket"),
    Story("Diego", "he", "Hana", "cards", "pack"),
    Story("Freya", "she", "Raj", "beads", "tube"),
    Story("Malik", "he", "Zoe", "eggs", "carton"),
    Story("Chloe", "she", "Arjun", "books", "stack"),
    Story("Yusuf", "he", "Elena", "coins", "purse"),
    Story("Ingrid", "she", "Kofi", "oranges", "crate"),
    Story("Mateo", "he", "Aiko", "crayons", "tin"),
    Story("Leila", "she", "Sven", "buttons", "card"),
]

_ADD_VERBS = ["buys", "finds", "gets", "picks up", "receives"]
_SUBTRACT_VERBS = ["eats", "sells", "loses", "gives away", "uses"]

Question = Callable[[Story, int], tuple[str, float, list[str]]]


def _add(s: Story, i: int) -> tuple[str, float, list[str]]:
    a, b = 8 + 3 * i, 4 + i
    verb = _ADD_VERBS[i % len(_ADD_VERBS)]
    text = (
        f"{s.name} has {a} {s.item} and {verb} {b} more. "
        f"How many {s.item} does {s.pronoun} have now?"
    )
    return text, a + b, ["add", "easy"]


def _subtract(s: Story, i: int) -> tuple[str, float, list[str]]:
    a, b = 20 + 2 * i, 3 + i
    text = (
        f"{s.name} has {a} {s.item} and gives {b} to {s.friend}. "
        f"How many {s.item} does {s.name} have left?"
    )
    return text, a - b, ["subtract", "easy"]


def _multiply(s: Story, i: int) -> tuple[str, float, list[str]]:
    a, b = 2 + i % 5, 6 + i
    text = (
        f"{s.name} buys {a} {s.container}s with {b} {s.item} in each "
        f"{s.container}. How many {s.item} does {s.pronoun} buy?"
    )
    return text, a * b, ["multiply", "medium"]


def _divide(s: Story, i: int) -> tuple[str, float, list[str]]:
    each, friends = 3 + i, 2 + i % 4
    text = (
        f"{s.name} has {each * friends} {s.item} and shares them equally among "
        f"{friends} friends. How many {s.item} does each friend get?"
    )
    return text, each, ["divide", "medium"]


def _two_step(s: Story, i: int) -> tuple[str, float, list[str]]:
    a, b, c = 15 + i, 5 + i, 4 + i % 6
    verb = _SUBTRACT_VERBS[i % len(_SUBTRACT_VERBS)]
    text = (
        f"{s.name} has {a} {s.item}, buys {b} more, and then {verb} {c}. "
        f"How many {s.item} does {s.pronoun} have now?"
    )
    return text, a + b - c, ["add", "subtract", "multi-step", "hard"]


def _number_words(s: Story, i: int) -> tuple[str, float, list[str]]:
    a, b = 5 + i % 12, 2 + i % 7
    text = (
        f"{s.name} has {_NUMBER_WORDS[a]} {s.item} and finds {_NUMBER_WORDS[b]} "
        f"more. How many {s.item} does {s.pronoun} have?"
    )
    return text, a + b, ["add", "number-words", "hard"]


def _compare(s: Story, i: int) -> tuple[str, float, list[str]]:
    a, b = 18 + i, 7 + i % 5
    text = (
        f"{s.name} has {a} {s.item} and {s.friend} has {b}. "
        f"How many more {s.item} does {s.name} have than {s.friend}?"
    )
    return text, a - b, ["subtract", "comparison", "hard"]


def _twice(s: Story, i: int) -> tuple[str, float, list[str]]:
    a = 6 + i
    text = (
        f"{s.name} has {a} {s.item} and {s.friend} has twice as many. "
        f"How many {s.item} does {s.friend} have?"
    )
    return text, 2 * a, ["multiply", "comparison", "hard"]


def _half(s: Story, i: int) -> tuple[str, float, list[str]]:
    a = 2 * (7 + i)
    text = (
        f"{s.name} has {a} {s.item} and gives half of them to {s.friend}. "
        f"How many {s.item} does {s.name} have left?"
    )
    return text, a // 2, ["subtract", "fraction", "hard"]


def _together(s: Story, i: int) -> tuple[str, float, list[str]]:
    a = 5 + i
    text = (
        f"{s.name} has {a} {s.item} and {s.friend} has three times as many. "
        f"How many {s.item} do they have together?"
    )
    return text, 4 * a, ["add", "multiply", "comparison", "hard"]


_CORE: list[tuple[str, Question]] = [
    ("add", _add),
    ("subtract", _subtract),
    ("multiply", _multiply),
    ("divide", _divide),
]
_EXTRA: list[tuple[str, Question]] = [
    ("two-step", _two_step),
    ("number-words", _number_words),
    ("compare", _compare),
    ("twice", _twice),
    ("half", _half),
    ("together", _together),
]


def arithmetic_cases() -> Iterator[dict[str, Any]]:
    """Yield six questions per story: four basic ones and two harder ones."""
    for i, story in enumerate(STORIES):
        extras = [_EXTRA[(2 * i) % len(_EXTRA)], _EXTRA[(2 * i + 1) % len(_EXTRA)]]
        for kind, question in [*_CORE, *extras]:
            text, expected, tags = question(story, i)
            yield {
                "id": f"arith-{story.name.lower()}-{kind}",
                "input": text,
                "expected": expected,
                "tags": ["arithmetic", *tags],
                "cluster": f"story-{story.name.lower()}",
            }


class Customer(NamedTuple):
    """Contact details shared by the messages of one cluster."""

    name: str
    email: str
    phone_text: str
    phone: str


CUSTOMERS = [
    Customer("Priya Nair", "priya.nair@example.com", "(555) 014-2398", "5550142398"),
    Customer("Jonas Berg", "jonas.berg@example.org", "+1 555 201 7788", "+15552017788"),
    Customer("Ayo Bello", "ayo@bello.example.net", "555-310-4421", "5553104421"),
    Customer("Marta Ruiz", "m.ruiz@shop.example", "555.782.0193", "5557820193"),
    Customer("Chen Wei", "chen.wei@example.com", "+1 (555) 640-1175", "+15556401175"),
    Customer("Olga Petrova", "olga.p@example.org", "555 908 3344", "5559083344"),
    Customer("Sam Okafor", "sam.okafor@example.net", "(555) 455-0101", "5554550101"),
    Customer("Lea Martin", "lea.martin@example.fr", "555-266-8080", "5552668080"),
]

_MONTH_NAMES = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]

Message = Callable[[Customer, int], tuple[str, dict[str, Any], list[str]]]


def _contact(c: Customer, i: int) -> tuple[str, dict[str, Any], list[str]]:
    text = f"Hi, this is {c.name}. You can reach me at {c.email} any time."
    return text, {"email": c.email}, ["email", "easy"]


def _callback(c: Customer, i: int) -> tuple[str, dict[str, Any], list[str]]:
    day = 3 + i
    month = _MONTH_NAMES[i % 12]
    text = (
        f"Please call {c.name} back on {c.phone_text} before {month} {day}, 2026. "
        f"Email {c.email} if the line is busy."
    )
    expected = {
        "email": c.email,
        "phone": c.phone,
        "date": f"2026-{i % 12 + 1:02d}-{day:02d}",
    }
    return text, expected, ["email", "phone", "date", "medium"]


def _invoice(c: Customer, i: int) -> tuple[str, dict[str, Any], list[str]]:
    amount = 1250.0 + 37.5 * i
    order = f"A{4100 + 17 * i}"
    text = (
        f"Invoice for order #{order}: ${amount:,.2f} is due on 2026-{i + 2:02d}-15. "
        f"Questions go to {c.email}."
    )
    expected = {
        "email": c.email,
        "date": f"2026-{i + 2:02d}-15",
        "amount": amount,
        "currency": "USD",
        "order_id": order,
    }
    return text, expected, ["email", "date", "amount", "order", "hard"]


def _refund(c: Customer, i: int) -> tuple[str, dict[str, Any], list[str]]:
    amount = 40 + 5 * i
    currency, word = [("EUR", "euros"), ("GBP", "pounds"), ("USD", "dollars")][i % 3]
    text = (
        f"{c.name} asked for a refund of {amount} {word} for order no. R-{900 + i}. "
        f"Phone: {c.phone_text}."
    )
    expected = {
        "phone": c.phone,
        "amount": float(amount),
        "currency": currency,
        "order_id": f"R-{900 + i}",
    }
    return text, expected, ["phone", "amount", "order", "medium"]


def _meeting(c: Customer, i: int) -> tuple[str, dict[str, Any], list[str]]:
    day = 10 + i
    if i % 4 == 3:
        # Written as "the 13th of June", a form the bundled extractor misses.
        written = f"the {day}th of {_MONTH_NAMES[5]} 2026"
        difficulty = "hard"
    else:
        written = f"{day} {_MONTH_NAMES[5]} 2026"
        difficulty = "easy"
    text = f"Meeting with {c.name} confirmed for {written}."
    return text, {"date": f"2026-06-{day:02d}"}, ["date", difficulty]


_MESSAGES: list[tuple[str, Message]] = [
    ("contact", _contact),
    ("callback", _callback),
    ("invoice", _invoice),
    ("refund", _refund),
    ("meeting", _meeting),
]


def extraction_cases() -> Iterator[dict[str, Any]]:
    """Yield five messages per customer, from one field to five."""
    for i, customer in enumerate(CUSTOMERS):
        slug = customer.name.split()[0].lower()
        for kind, message in _MESSAGES:
            text, expected, tags = message(customer, i)
            yield {
                "id": f"extract-{slug}-{kind}",
                "input": text,
                "expected": expected,
                "tags": ["extraction", *tags],
                "cluster": f"customer-{slug}",
            }


def main() -> None:
    """Write every case to ``eval/cases.jsonl``, one JSON object per line."""
    cases = [*arithmetic_cases(), *extraction_cases()]
    lines = [json.dumps(case, ensure_ascii=False) for case in cases]
    CASES_PATH.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(cases)} cases to {CASES_PATH.name}")


if __name__ == "__main__":
    main()
