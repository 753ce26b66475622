"""Tests for eval.progress."""

from __future__ import annotations

import io

from eval.progress import ProgressBar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_silent_off_terminal() -> None:
    stream = io.StringIO()

    bar = ProgressBar(2, stream)
    bar.advance()
    bar.close()

    assert stream.getvalue() == ""


def test_progress_bar_draws_on_terminal() -> None:
    stream = Terminal()

    bar = ProgressBar(2, stream)
    bar.advance()
    bar.close()

    assert stream.getvalue() == (
        f"\r[{'.' * 30}] 0/2 runs\r[{'#' * 15}{'.' * 15}] 1/2 runs\n"
    )


def test_progress_bar_forced_on() -> None:
    stream = io.StringIO()

    ProgressBar(4, stream, enabled=True)

    assert stream.getvalue() == f"\r[{'.' * 30}] 0/4 runs"


def test_progress_bar_handles_zero_total() -> None:
    stream = Terminal()

    bar = ProgressBar(0, stream)
    bar.close()

    assert stream.getvalue() == f"\r[{'.' * 30}] 0/0 runs\n"
