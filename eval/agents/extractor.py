"""Field extractor: pull contact and payment details out of short texts.

Recognized fields, each present in the output only when found:

- ``email``: the first address, lower-cased.
- ``phone``: the first North American style number (3-3-4 digits, optional
  country code), as ``+`` and digits only, e.g. ``"+15550142398"``.
- ``date``: the first date as ISO ``YYYY-MM-DD``; reads ``2026-03-14``,
  ``March 14, 2026``, ``14 March 2026`` and US-style ``03/14/2026``.
- ``amount`` and ``currency``: the first money amount as a float and its ISO 4217
  code, from ``$``, ``€`` or ``£``, or from ``USD``, ``EUR``, ``GBP``,
  ``dollars``, ``euros`` or ``pounds`` written before or after the number.
- ``order_id``: the identifier after "order", "order #" or "order no.".
"""

from __future__ import annotations

import json
import re
from typing import Any

from eval.agents._result import AgentResult
from eval.agents._usage import billed_result

__all__ = ["FieldExtractor", "extract"]

_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_MONTH = r"(?P<month>" + "|".join(m[:3] + f"(?:{m[3:]})?" for m in _MONTHS) + r")\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>\d{4})"

_EMAIL = re.compile(
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)
_PHONE = re.compile(
    r"(?<![\w/-])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{3}\)|\d{3})[\s.-]?\d{3}[\s.-]?\d{4}\b"
)
_DATES = [
    re.compile(r"\b(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})\b"),
    re.compile(rf"\b{_MONTH}\s+{_DAY},?\s+{_YEAR}\b", re.IGNORECASE),
    re.compile(rf"\b{_DAY}\s+{_MONTH},?\s+{_YEAR}\b", re.IGNORECASE),
    re.compile(r"\b(?P<month>\d{1,2})/(?P<day>\d{1,2})/(?P<year>\d{4})\b"),
]
_AMOUNT = r"(?P<amount>\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?)"
_CODE = r"(?P<code>USD|EUR|GBP|dollars?|euros?|pounds?)"
_MONEY = [
    re.compile(rf"(?P<symbol>[$€£])\s?{_AMOUNT}"),
    re.compile(rf"\b{_CODE}\s?{_AMOUNT}\b"),
    re.compile(rf"\b{_AMOUNT}\s?{_CODE}\b"),
]
_ORDER = re.compile(
    r"\b(?i:order)\s*(?:#|(?i:no)\.?|(?i:number))?\s*:?\s*(?P<id>[A-Z0-9][A-Z0-9-]{3,})\b"
)

_CURRENCY_CODES = {
    "$": "USD",
    "€": "EUR",
    "£": "GBP",
    "dollar": "USD",
    "euro": "EUR",
    "pound": "GBP",
}

INSTRUCTIONS = (
    "Extract the email, phone, date, amount, currency and order_id from the "
    "message. Reply with a JSON object holding only the fields that are present; "
    "write dates as YYYY-MM-DD and phones as digits."
)


class FieldExtractor:
    """Extract contact and payment fields from a short text into a dict.

    Attributes:
        agent_name: Name the harness logs this agent under.
        model: Model name used to price the call, from `eval.pricing.PRICES`.
    """

    def __init__(self, name: str = "extractor", model: str = "small-model") -> None:
        """Create an extractor logged as `name` and priced as `model`."""
        self.agent_name = name
        self.model = model

    def __call__(self, text: str) -> AgentResult:
        """Extract the fields of one text and bill the simulated model call.

        Raises:
            TypeError: If the text is not a str.
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")

        fields = extract_fields(text)

        prompt = f"{INSTRUCTIONS}\n\nMessage: {text}\n"
        completion = json.dumps(fields)
        return billed_result(fields, prompt, completion, self.model)


def extract_fields(text: str) -> dict[str, Any]:
    """Return the fields found in a text, keyed by field name."""
    fields: dict[str, Any] = {}

    email = _EMAIL.search(text)
    if email:
        fields["email"] = email.group().lower()

    phone = _PHONE.search(text)
    if phone:
        fields["phone"] = re.sub(r"[^\d+]", "", phone.group())

    date = _find_date(text)
    if date:
        fields["date"] = date

    money = _find_money(text)
    if money:
        fields["amount"], fields["currency"] = money

    order = _ORDER.search(text)
    if order:
        fields["order_id"] = order.group("id")

    return fields


def _find_date(text: str) -> str | None:
    for pattern in _DATES:
        match = pattern.search(text)
        if match is None:
            continue

        month = match.group("month")
        number = int(month) if month.isdigit() else _month_number(month)
        day = int(match.group("day"))
        if 1 <= number <= 12 and 1 <= day <= 31:
            return f"{match.group('year')}-{number:02d}-{day:02d}"
    return None


def _month_number(name: str) -> int:
    prefix = name[:3].lower()
    return next(i for i, month in enumerate(_MONTHS, 1) if month.startswith(prefix))


def _find_money(text: str) -> tuple[float, str] | None:
    for pattern in _MONEY:
        match = pattern.search(text)
        if match is None:
            continue

        groups = match.groupdict()
        unit = groups.get("symbol") or groups["code"]
        amount = float(match.group("amount").replace(",", ""))
        code = _CURRENCY_CODES.get(unit.lower().rstrip("s"), unit.upper())
        return amount, code
    return None


extract = FieldExtractor()
"""The bundled extractor agent, for ``eval.agents.extractor:extract``."""
