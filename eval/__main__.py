"""Run the bundled cases through the bundled agents and print a summary table.

``python -m eval [--log PATH] [--repeats N] [--concurrency N]`` sends the
arithmetic cases to the baseline, improved, copied and flaky arithmetic agents
and the extraction cases to the extractor, ``--repeats`` times each (default 2),
logging one event per run to ``--log`` (default: ``$AGENT_TELEMETRY_PATH`` or
``telemetry/events.jsonl``). It then prints the per-agent summary of these runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import NoReturn

import anyio

from eval.casefile import load_cases
from eval.harness import count_argument, run_eval
from telemetry import LoggerSettings, TelemetryLogger, get_logger
from telemetry._cli import plural, quiet_on_broken_pipe
from telemetry.summarize import format_table, summarize

__all__ = ["ARITHMETIC_AGENTS", "CASES_PATH", "EXTRACTION_AGENTS", "main"]

CASES_PATH = Path(__file__).with_name("cases.jsonl")
"""The bundled cases."""

ARITHMETIC_AGENTS = (
    "eval.agents.arithmetic:solve",
    "eval.agents.arithmetic_v2:solve",
    "eval.agents.arithmetic_copy:solve",
    "eval.agents.flaky:solve",
)
"""Agents run on the cases tagged ``arithmetic``."""

EXTRACTION_AGENTS = ("eval.agents.extractor:extract",)
"""Agents run on the cases tagged ``extraction``."""


class _UsageError(Exception):
    """A command-line mistake, reported in one line with exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


@quiet_on_broken_pipe
def main(argv: Sequence[str] | None = None) -> int:
    """Run the bundled workload and print its summary.

    Returns:
        0 on success, 2 on an error (printed as one line on stderr).
    """
    parser = _Parser(
        prog="python -m eval",
        description="Run the bundled cases through the bundled agents.",
    )
    parser.add_argument(
        "--log",
        type=Path,
        metavar="PATH",
        help="JSONL log file (default: $AGENT_TELEMETRY_PATH or "
        "telemetry/events.jsonl)",
    )
    parser.add_argument(
        "--repeats",
        type=partial(count_argument, "--repeats", 2),
        default=2,
        help="runs per case and agent (default 2)",
    )
    parser.add_argument(
        "--concurrency",
        type=partial(count_argument, "--concurrency", 8),
        default=8,
        help="maximum runs in flight (default 8)",
    )
    try:
        args = parser.parse_args(argv)
        table, runs, path = anyio.run(
            _workload, args.log, args.repeats, args.concurrency
        )
    except (_UsageError, ValueError, OSError) as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2

    print(table)
    print(f"{plural(runs, 'run')} logged to {path}")
    return 0


async def _workload(
    log: Path | None, repeats: int, concurrency: int
) -> tuple[str, int, Path]:
    cases = load_cases(CASES_PATH)
    arithmetic = [case for case in cases if "arithmetic" in case.tags]
    extraction = [case for case in cases if "extraction" in case.tags]

    if log is None:
        logger = get_logger()
    else:
        logger = TelemetryLogger(log, settings=LoggerSettings.from_env())
    started = datetime.now(timezone.utc)
    runs = 0
    try:
        for subset, agents in (
            (arithmetic, ARITHMETIC_AGENTS),
            (extraction, EXTRACTION_AGENTS),
        ):
            result = await run_eval(
                subset, agents, repeats=repeats, concurrency=concurrency, logger=logger
            )
            runs += len(result.runs)
    finally:
        await logger.shutdown()

    path = logger.settings.path
    table = format_table(summarize([path], by="agent", since=started))
    return table, runs, path


if __name__ == "__main__":
    sys.exit(main())
