"""Run eval cases through agents and log one telemetry event per run.

Every case runs once per agent and repeat, concurrently up to a limit, under a
per-case timeout. :mod:`eval.runner` times each run, records its exception as the
event's error, scores its output with :func:`telemetry.reward.reward` and logs one
event with a fresh run id. The event's ``latency_ms`` is a float in milliseconds,
rounded to 1 µs. All events of one eval share the eval's id as their
``parent_run_id``. At the end the logger is flushed, and :mod:`telemetry.summarize`
builds a per-agent table of this eval's events.

Command line::

    python -m eval.harness CASES --agent pkg.mod:fn [--agent ...] [--concurrency N]
        [--timeout S] [--repeats N] [--log PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import sys
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import NoReturn, TypeVar

import anyio

from eval.agentref import Agent, resolve_agents
from eval.casefile import Case, check_unique_ids, load_cases
from eval.progress import ProgressBar
from eval.runner import CaseRun, Runner
from telemetry import (
    FlushResult,
    LoggerSettings,
    TelemetryLogger,
    get_logger,
    new_run_id,
)
from telemetry._cli import plural, quiet_on_broken_pipe
from telemetry.summarize import format_table, summarize

__all__ = [
    "CaseRun",
    "EvalResult",
    "main",
    "run_eval",
    "run_eval_sync",
]

T = TypeVar("T")

CasesArg = str | os.PathLike[str] | Sequence[Case]


@dataclass(frozen=True)
class EvalResult:
    """Everything one eval produced.

    Attributes:
        run_id: Id of the eval, the ``parent_run_id`` of every event it logged.
        runs: One entry per case, agent and repeat, ordered by repeat, then agent
            as given, then case as given.
        table: Per-agent summary of this eval's events, as printed by the CLI.
        log_path: File the events were appended to.
        started: When the eval started, in UTC; every event it logged has a
            later ``ts``, so ``summarize(log_path, since=started)`` rebuilds the
            table.
        flushed: Result of the flush after the last run; false when some
            events were not written (see its ``pending``, ``lost`` and
            ``error``).
    """

    run_id: str
    runs: tuple[CaseRun, ...]
    table: str
    log_path: Path
    started: datetime
    flushed: FlushResult


async def run_eval(
    cases: CasesArg,
    agents: Sequence[str | Agent],
    *,
    concurrency: int = 8,
    timeout_s: float = 30.0,
    repeats: int = 1,
    logger: TelemetryLogger | None = None,
    progress: bool | None = None,
) -> EvalResult:
    """Run every case through every agent and log one event per run.

    Sync agents run in worker threads, so a slow one does not block the event
    loop. Cases, agents and settings are all validated before any case runs.

    Args:
        cases: A JSONL cases file (see :mod:`eval.casefile`) or a list of cases.
        agents: ``"package.module:callable"`` references (optionally
            ``"NAME=package.module:callable"``) or callables; see
            :mod:`eval.agentref`.
        concurrency: Maximum number of runs in flight at once, >= 1.
        timeout_s: Maximum duration of a single run in seconds, > 0. A run that
            exceeds it is cancelled and logged with the error
            ``"TimeoutError: case exceeded N s"``. A sync agent's thread cannot
            be stopped, so it is abandoned and keeps running in the background.
        repeats: How many times each case runs per agent, >= 1, to measure
            variance.
        logger: Logger to write to; the default logger when None. It is flushed
            before the summary is built, but not shut down.
        progress: Draw a progress bar on stderr; by default only when stderr is
            a terminal.

    Returns:
        The runs, the eval's id and its summary table.

    Raises:
        ValueError: If a case, an agent or a setting is invalid. Nothing has
            run then.
        TypeError: If ``cases`` is a list holding something other than `Case`.
        FileNotFoundError: If the cases file does not exist.
    """
    _check_settings(concurrency, timeout_s, repeats)
    case_list = _as_cases(cases)
    refs = resolve_agents(agents)

    sink = logger if logger is not None else get_logger()
    started = datetime.now(timezone.utc)
    total = len(case_list) * len(refs) * repeats
    bar = ProgressBar(total, enabled=progress)
    runner = Runner(sink, new_run_id(), concurrency, timeout_s, bar)

    async with anyio.create_task_group() as group:
        for repeat in range(repeats):
            for ref in refs:
                for case in case_list:
                    group.start_soon(runner.run, ref, case, repeat)

    bar.close()
    flushed = await sink.flush()

    order = {ref.name: index for index, ref in enumerate(refs)}
    position = {case.id: index for index, case in enumerate(case_list)}
    runs = sorted(
        runner.runs,
        key=lambda run: (run.repeat, order[run.agent], position[run.case_id]),
    )
    table = _summary_table(sink.settings.path, started)
    return EvalResult(
        runner.eval_id, tuple(runs), table, sink.settings.path, started, flushed
    )


def run_eval_sync(
    cases: CasesArg,
    agents: Sequence[str | Agent],
    *,
    concurrency: int = 8,
    timeout_s: float = 30.0,
    repeats: int = 1,
    logger: TelemetryLogger | None = None,
    progress: bool | None = None,
    backend: str = "asyncio",
) -> EvalResult:
    """Run :func:`run_eval` from sync code and return its result.

    Works from plain sync code and from inside a running event loop, such as a
    notebook or an async test. When this thread already runs a loop, the eval
    runs on a fresh loop in a new thread, and this call blocks until it ends.

    Args:
        backend: anyio backend of the loop the eval runs on, ``"asyncio"`` or
            ``"trio"``.

    See :func:`run_eval` for the other arguments, the result and the errors.
    """
    job = partial(
        run_eval,
        cases,
        agents,
        concurrency=concurrency,
        timeout_s=timeout_s,
        repeats=repeats,
        logger=logger,
        progress=progress,
    )
    if _event_loop_running():
        return _run_in_new_thread(job, backend)
    return anyio.run(job, backend=backend)


def _summary_table(path: Path, started: datetime) -> str:
    # Every event of this eval was stamped after it started. NOTE: another
    # process appending to the same file meanwhile would be counted too.
    summary = summarize([path], by="agent", since=started)
    return format_table(summary)


def _check_settings(concurrency: int, timeout_s: float, repeats: int) -> None:
    if not _is_int(concurrency) or concurrency < 1:
        raise ValueError(f"concurrency must be an int >= 1, got {concurrency!r}")

    valid = isinstance(timeout_s, (int, float)) and not isinstance(timeout_s, bool)
    if not valid or not math.isfinite(timeout_s) or timeout_s <= 0:
        raise ValueError(f"timeout_s must be a finite number > 0, got {timeout_s!r}")

    if not _is_int(repeats) or repeats < 1:
        raise ValueError(f"repeats must be an int >= 1, got {repeats!r}")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _as_cases(cases: CasesArg) -> list[Case]:
    if isinstance(cases, (str, os.PathLike)):
        return load_cases(cases)

    case_list = list(cases)
    if not case_list:
        raise ValueError("cases must not be empty; pass a cases file or Case objects")
    for case in case_list:
        if not isinstance(case, Case):
            raise TypeError(
                "cases must be a path or a list of eval.casefile.Case, "
                f"got an element {case!r}"
            )
    check_unique_ids(case_list)
    return case_list


def _event_loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        return True

    trio = sys.modules.get("trio")
    if trio is None:
        return False
    try:
        trio.lowlevel.current_trio_token()
    except RuntimeError:
        return False
    return True


def _run_in_new_thread(job: Callable[[], Awaitable[T]], backend: str) -> T:
    results: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            results.append(anyio.run(job, backend=backend))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target, name="eval-harness")
    thread.start()
    thread.join()

    if errors:
        raise errors[0]
    return results[0]


class _UsageError(Exception):
    """A command-line mistake, reported in one line with exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="telemetry-eval",
        description="Run eval cases through agents and log one event per run.",
    )
    parser.add_argument("cases", help="JSONL cases file: id, input, expected, ...")
    parser.add_argument(
        "--agent",
        action="append",
        required=True,
        metavar="[NAME=]PKG.MOD:FN",
        help="agent to evaluate, as package.module:callable; repeat for more",
    )
    parser.add_argument(
        "--concurrency",
        type=partial(count_argument, "--concurrency", 8),
        default=8,
        help="maximum runs in flight (default 8)",
    )
    parser.add_argument(
        "--timeout",
        type=_timeout_arg,
        default=30.0,
        metavar="S",
        help="per-run timeout in seconds (default 30)",
    )
    parser.add_argument(
        "--repeats",
        type=partial(count_argument, "--repeats", 1),
        default=1,
        help="runs per case and agent (default 1)",
    )
    parser.add_argument(
        "--log",
        type=Path,
        metavar="PATH",
        help="JSONL log file (default: $AGENT_TELEMETRY_PATH or "
        "telemetry/events.jsonl)",
    )
    return parser


def count_argument(flag: str, example: int, text: str) -> int:
    """Parse a command-line count >= 1, and name the flag when it is invalid."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"must be an int >= 1, got {text!r}; pass e.g. {flag} {example}"
        )
    return value


def _timeout_arg(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(
            f"must be a finite number of seconds > 0, got {text!r}; "
            "pass e.g. --timeout 30"
        )
    return value


@quiet_on_broken_pipe
def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the exit status.

    Agent modules are imported from the working directory first, as under
    ``python -m``. Prints the summary table on stdout. Any error is printed
    as one line on stderr and returns 2, or 1 when the runs ran but their
    events were not all written.
    """
    parser = _parser()
    _search_working_directory()
    try:
        args = parser.parse_args(argv)
        result = anyio.run(partial(_run_cli, args))
    except (_UsageError, ValueError, TypeError, OSError) as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2

    print(result.table)
    if not result.flushed:
        print(f"{parser.prog}: error: {_unwritten(result)}", file=sys.stderr)
        return 1
    print(f"{plural(len(result.runs), 'run')} logged to {result.log_path}")
    return 0


def _unwritten(result: EvalResult) -> str:
    """Return one line on the events the final flush did not write."""
    flushed = result.flushed
    parts = [
        f"{flushed.pending} still pending",
        f"{flushed.lost} lost",
        f"{flushed.durability_unknown} of unknown durability",
    ]
    cause = f": {flushed.error}" if flushed.error else ""
    return (
        f"not every event of the {plural(len(result.runs), 'run')} was written to "
        f"{result.log_path} ({', '.join(parts)}){cause}; check that the path "
        "names a writable file"
    )


def _search_working_directory() -> None:
    """Put the working directory first on sys.path, as ``python -m`` does.

    An installed console script starts with its own folder there instead, so
    an agent module next to the cases file would not import from it.
    """
    cwd = os.getcwd()
    if sys.path[:1] not in ([""], [cwd]):
        sys.path.insert(0, cwd)


async def _run_cli(args: argparse.Namespace) -> EvalResult:
    run = partial(
        run_eval,
        args.cases,
        args.agent,
        concurrency=args.concurrency,
        timeout_s=args.timeout,
        repeats=args.repeats,
    )
    if args.log is None:
        return await run()

    settings = LoggerSettings.from_env()
    async with TelemetryLogger(args.log, settings=settings) as logger:
        return await run(logger=logger)


if __name__ == "__main__":
    sys.exit(main())
