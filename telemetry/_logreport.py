"""Tally of the lines that reading a log yielded and skipped, with locations."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ReadReport", "SkippedLine"]


@dataclass(frozen=True)
class SkippedLine:
    """One skipped line: where it is and why it was skipped."""

    path: Path
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line} ({self.reason})"


@dataclass
class ReadReport:
    """Tally what :func:`read_events` read, yielded and skipped.

    Attributes:
        files: The files read, in reading order.
        lines: Lines read, good and bad.
        events: Events yielded (after the ``since``/``until`` window).
        outside_window: Valid events dropped by ``since``/``until``.
        skipped: Count of skipped lines by reason, e.g. ``{"not JSON": 2}``.
        first_skipped: The first few skipped lines, in reading order.
        max_locations: How many skipped lines to keep in ``first_skipped``.
    """

    files: list[Path] = field(default_factory=list)
    lines: int = 0
    events: int = 0
    outside_window: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    first_skipped: list[SkippedLine] = field(default_factory=list)
    max_locations: int = 5

    @property
    def skipped_total(self) -> int:
        """Return the number of skipped lines over all reasons."""
        return sum(self.skipped.values())

    def skip(self, path: Path, line: int, reason: str) -> None:
        """Count one skipped line and keep its location if among the first."""
        self.skipped[reason] = self.skipped.get(reason, 0) + 1
        if len(self.first_skipped) < self.max_locations:
            self.first_skipped.append(SkippedLine(path, line, reason))

    def describe(self) -> str:
        """Return one line naming the skipped lines, or "" when none were."""
        total = self.skipped_total
        if not total:
            return ""

        reasons = ", ".join(f"{n} {r}" for r, n in sorted(self.skipped.items()))
        where = ", ".join(str(s) for s in self.first_skipped)
        noun = "line" if total == 1 else "lines"
        return f"skipped {total} {noun} ({reasons}); first at {where}"
