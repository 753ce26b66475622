"""Tests for telemetry._grouplabel: one spelling of group labels for every tool."""

from __future__ import annotations

from typing import Any

import pytest

from telemetry._grouplabel import NO_GROUP, group_label


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("planner", "planner"),
        (None, NO_GROUP),
        (True, "true"),
        (1, "1"),
        (1.0, "1.0"),
        ([1, 2], "[1,2]"),
        ({"b": 1, "a": 2}, '{"a":2,"b":1}'),
        (2**70, "1180591620717411303424"),
    ],
)
def test_group_label_spells_json(value: Any, expected: str) -> None:
    assert group_label(value) == expected
