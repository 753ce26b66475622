"""Tests for telemetry._cli: number formats and plurals the command lines share."""

from __future__ import annotations

import pytest

from telemetry._cli import format_number, plural


@pytest.mark.parametrize(
    ("value", "spec", "expected"),
    [
        (-0.0001, ".3f", "0.000"),
        (-0.0001, "+.3f", "+0.000"),
        (-0.0, ".1%", "0.0%"),
        (-0.0, ".3g", "0"),
        (-0.0006, ".3f", "-0.001"),
        (0.25, "+.3f", "+0.250"),
        (-1e-20, ".3g", "-1e-20"),
    ],
)
def test_format_number_drops_negative_zero(
    value: float, spec: str, expected: str
) -> None:
    assert format_number(value, spec) == expected


@pytest.mark.parametrize(
    ("count", "expected"), [(0, "0 runs"), (1, "1 run"), (2, "2 runs")]
)
def test_plural_agrees_with_count(count: int, expected: str) -> None:
    assert plural(count, "run") == expected
