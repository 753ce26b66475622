"""Parse time bounds: durations such as "15m" and ISO-8601 instants."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

__all__ = ["parse_duration", "parse_instant"]

_DURATION = re.compile(r"^\s*(?P<value>\d+(?:\.\d+)?)\s*(?P<unit>[smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """Parse a duration such as ``"30s"``, ``"15m"``, ``"2h"`` or ``"7d"``.

    Args:
        text: A number (decimals allowed) followed by s, m, h or d.

    Returns:
        The duration.

    Raises:
        ValueError: ``text`` is not such a duration, or it exceeds the
            range of `datetime.timedelta` (999999999 days).
    """
    match = _DURATION.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(
            f"duration must be a number followed by s, m, h or d, got {text!r}; "
            "write e.g. '30s', '15m', '2h' or '7d'"
        )

    seconds = float(match["value"]) * _UNIT_SECONDS[match["unit"]]
    try:
        return timedelta(seconds=seconds)
    except OverflowError:
        raise ValueError(_too_long(text)) from None


def parse_instant(text: str, *, now: datetime | None = None) -> datetime:
    """Parse a time bound: a duration before ``now``, or an ISO-8601 instant.

    Args:
        text: ``"15m"`` (15 minutes before ``now``) or a timestamp such as
            ``"2026-12-04T16:10:37+00:00"``; a timestamp without an offset is
            taken as UTC.
        now: The reference for durations; the current UTC time when omitted.

    Returns:
        A timezone-aware datetime.

    Raises:
        ValueError: ``text`` is neither a duration nor an ISO-8601 timestamp,
            or the duration reaches before the year 1.
    """
    if isinstance(text, str) and _DURATION.match(text):
        reference = datetime.now(timezone.utc) if now is None else now
        try:
            return reference - parse_duration(text)
        except OverflowError:
            raise ValueError(_too_long(text)) from None

    try:
        instant = datetime.fromisoformat(text.strip().removesuffix("Z"))
    except (ValueError, AttributeError):
        raise ValueError(
            f"time must be a duration such as '15m' or an ISO-8601 timestamp, "
            f"got {text!r}; write e.g. '2h' or '2026-12-04T16:10:37+00:00'"
        ) from None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=timezone.utc)
    return instant


def _too_long(text: str) -> str:
    return (
        f"duration {text!r} reaches before the year 1; write a shorter one, e.g. '365d'"
    )
