"""A one-line progress bar for eval runs, drawn on a terminal only."""

from __future__ import annotations

import sys
from typing import TextIO

__all__ = ["ProgressBar"]


class ProgressBar:
    """Count finished runs on one line, redrawn in place with carriage returns.

    Args:
        total: Number of runs expected.
        stream: Where to draw; stderr by default.
        enabled: Draw at all; by default only when the stream is a terminal,
            so logs and pipes never receive carriage returns.
    """

    width = 30
    """Characters between the brackets."""

    def __init__(
        self, total: int, stream: TextIO | None = None, enabled: bool | None = None
    ) -> None:
        self._total = total
        self._done = 0
        self._stream = sys.stderr if stream is None else stream
        self._enabled = _is_terminal(self._stream) if enabled is None else enabled
        self._draw()

    def advance(self) -> None:
        """Count one more finished run and redraw."""
        self._done += 1
        self._draw()

    def close(self) -> None:
        """End the line so later output starts on a fresh one."""
        if self._enabled:
            self._stream.write("\n")
            self._stream.flush()

    def _draw(self) -> None:
        if not self._enabled:
            return

        filled = self.width * self._done // max(self._total, 1)
        bar = "#" * filled + "." * (self.width - filled)
        self._stream.write(f"\r[{bar}] {self._done}/{self._total} runs")
        self._stream.flush()


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
