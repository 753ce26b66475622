"""Label the groups of a key's values the same way in every tool."""

from __future__ import annotations

import json
from typing import Any

import orjson

__all__ = ["NO_GROUP", "group_label"]

NO_GROUP = "(none)"
"""Label of the runs that lack the key or carry null."""


def group_label(value: Any) -> str:
    """Return the label of the group a key's value puts a run in.

    A string is its own label, null is `NO_GROUP`, and any other value is
    spelled as compact JSON with sorted keys: ``true``, ``1.5``, ``[1,2]``.
    So 1, 1.0 and True stay apart, and a list gets a label at all.
    """
    if value is None:
        return NO_GROUP
    if isinstance(value, str):
        return value
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except orjson.JSONEncodeError:
        # orjson rejects integers beyond 64 bits, which JSON itself allows.
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
