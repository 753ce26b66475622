"""Output conventions every command line of the project shares, without numpy.

summarize, compare, retire and the eval harness all print a report on stdout
that users pipe into other tools, so they end the same way when the reader
goes away early. They also write figures and counts the same way (no
negative zero, and nouns that agree with their counts), and read the same
default log when no file is named.
"""

from __future__ import annotations

import functools
import math
import os
import sys
from collections.abc import Callable, Sequence
from typing import ParamSpec

__all__ = [
    "BROKEN_PIPE_STATUS",
    "DEFAULT_PATH",
    "format_number",
    "log_paths",
    "plural",
    "quiet_on_broken_pipe",
]

P = ParamSpec("P")

BROKEN_PIPE_STATUS = 1
"""Exit status when stdout was closed before the report was written."""

DEFAULT_PATH = os.path.join("telemetry", "events.jsonl")
"""The log read when no file is named and AGENT_TELEMETRY_PATH is unset."""

_PATH_VARIABLE = "AGENT_TELEMETRY_PATH"

_FIXED_POINT_BELOW = 1e15
"""Magnitude from which "f" specs print in exponent form, not 300 digits."""


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


def log_paths(files: Sequence[str]) -> list[str]:
    """Return the log files named, or the default log when none are named.

    The default is the file AGENT_TELEMETRY_PATH names, or else
    `DEFAULT_PATH`; both are relative to the working directory.

    Raises:
        FileNotFoundError: No file is named and the default log does not
            exist. The message names where the log was expected and how to
            read another one.
    """
    if files:
        return list(files)

    from_variable = os.environ.get(_PATH_VARIABLE)
    path = from_variable or DEFAULT_PATH
    if os.path.exists(path):
        return [path]
    where = ""
    if not os.path.isabs(path):
        where = f", relative to the working directory {os.getcwd()}"
    if from_variable:
        raise FileNotFoundError(
            f"log file {path!r} not found; it is the path {_PATH_VARIABLE} "
            f"names{where}; fix {_PATH_VARIABLE} or name a log file as an argument"
        )
    raise FileNotFoundError(
        f"log file {path!r} not found; it is the default log{where}; name a log "
        f"file or folder as an argument, or set {_PATH_VARIABLE}"
    )


def format_number(value: float, spec: str) -> str:
    """Format a number with a format spec such as "+.3f", never as negative zero.

    A value that rounds to zero, such as -0.0001 under ".3f", would print as
    "-0.000" and suggest a direction the figure does not show. It prints as
    "0.000" instead, or "+0.000" when the spec has a sign. A magnitude of
    1e15 or more prints in exponent form, e.g. "1.000e+308".
    """
    if spec.endswith("f") and math.isfinite(value) and abs(value) >= _FIXED_POINT_BELOW:
        spec = spec[:-1] + "e"
    text = format(value, spec)
    if text.startswith("-") and float(text.rstrip("%")) == 0:
        return ("+" if spec.startswith("+") else "") + text[1:]
    return text


def plural(count: int, noun: str) -> str:
    """Return the count and the noun, with an "s" unless the count is 1."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
