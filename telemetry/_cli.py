"""Behaviour every command line of the project shares, without numpy.

summarize, compare, retire and the eval harness all print a report on stdout
that users pipe into other tools, so they end the same way when the reader
goes away early.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import ParamSpec

__all__ = ["BROKEN_PIPE_STATUS", "quiet_on_broken_pipe"]

P = ParamSpec("P")

BROKEN_PIPE_STATUS = 1
"""Exit status when stdout was closed before the report was written."""


def quiet_on_broken_pipe(main: Callable[P, int]) -> Callable[P, int]:
    """Wrap a command-line main so that a closed stdout ends it quietly.

    When the reader of a pipe exits early, as ``head`` does, the next write
    to stdout raises BrokenPipeError. The wrapper catches it, points stdout
    at the null device so that the interpreter's flush at exit cannot raise
    again, and returns `BROKEN_PIPE_STATUS`: the report was cut short, so the
    status is not 0. This is the recipe of "Note on SIGPIPE" in the Python
    documentation of the signal module.
    """

    @functools.wraps(main)
    def run(*args: P.args, **kwargs: P.kwargs) -> int:
        try:
            status = main(*args, **kwargs)
            sys.stdout.flush()
        except BrokenPipeError:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return BROKEN_PIPE_STATUS
        return status

    return run
