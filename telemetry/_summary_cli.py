"""Command-line parser of telemetry-summarize and its default log path."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import NoReturn

from ._cli import DEFAULT_PATH
from .logread import parse_instant

__all__ = ["DEFAULT_PATH"]


class _Parser(argparse.ArgumentParser):
    """Argument parser whose errors are one line, as for a missing file."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _instant(text: str) -> datetime:
    try:
        return parse_instant(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be an int >= 1, got {text!r}")
    return int(text)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="telemetry-summarize",
        description="Summarize agent runs per group from JSONL event logs.",
    )
    parser.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help="log files or folders (default: $AGENT_TELEMETRY_PATH or "
        f"{DEFAULT_PATH}); rotated siblings are read too",
    )
    parser.add_argument(
        "--by",
        default="agent",
        help="group by a top-level key or meta.<name> (default: agent)",
    )
    parser.add_argument(
        "--since",
        type=_instant,
        help="only runs at or after this time: a duration ago (15m, 2h, 7d) "
        "or an ISO-8601 timestamp",
    )
    parser.add_argument(
        "--until",
        type=_instant,
        help="only runs before this time, written as for --since",
    )
    parser.add_argument(
        "--workers",
        type=_positive_int,
        default=1,
        help="processes that parse large files in parallel (default: 1)",
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print JSON")
    output.add_argument("--csv", action="store_true", help="print CSV")
    return parser
