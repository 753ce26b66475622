"""Example: an async orchestrator that fans problems out to agents.

This shows how an application, rather than the eval harness, instruments its
agents. Every call runs in a task group, is timed, and is reported with
``await logger.log_event(...)``. All calls of one session share the session's id
as their ``parent_run_id``. The logger is flushed before the summary is read and
shut down when the session ends. Agents that the retirement tool has retired
(see :func:`telemetry.retire.is_retired`) get no work.

Run ``python -m eval.orchestrator [--log PATH] [--calls N]`` to route the bundled
arithmetic problems round-robin over the bundled arithmetic agents and print the
per-agent summary of the session.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any, NoReturn

import anyio
import anyio.to_thread

from eval.agentref import Agent, AgentRef, resolve_agent
from eval.agents import AgentResult, arithmetic, arithmetic_v2, flaky
from eval.casefile import Case, load_cases
from eval.runner import score_run
from telemetry import LoggerSettings, TelemetryLogger, new_run_id
from telemetry._cli import quiet_on_broken_pipe
from telemetry.retire import is_retired
from telemetry.summarize import format_table, summarize

__all__ = ["DEFAULT_AGENTS", "SessionReport", "main", "orchestrate", "retired_agents"]

DEFAULT_AGENTS: dict[str, Agent] = {
    "arithmetic": arithmetic.solve,
    "arithmetic_v2": arithmetic_v2.solve,
    "arithmetic_flaky": flaky.solve,
}
"""The agents the example routes to, by the name they are logged under."""

CASES_PATH = Path(__file__).with_name("cases.jsonl")


@dataclass(frozen=True)
class SessionReport:
    """Counts and summary of one orchestrator session.

    Attributes:
        session_id: Id of the session, the ``parent_run_id`` of its events.
        calls: Agent calls made and logged.
        errors: Calls that raised.
        skipped: Agents left out because they are retired, sorted.
        table: Per-agent summary of the session's events.
    """

    session_id: str
    calls: int
    errors: int
    skipped: tuple[str, ...]
    table: str


async def orchestrate(
    problems: Sequence[Case],
    agents: Mapping[str, Agent],
    logger: TelemetryLogger,
    *,
    concurrency: int = 16,
) -> SessionReport:
    """Route each problem to one active agent, round-robin, all concurrently.

    Args:
        problems: Cases whose inputs are sent to the agents; ``expected`` is used
            to score the outputs.
        agents: Agents by the name they are logged under; sync ones run in
            worker threads.
        logger: Logger the events go to; flushed before the summary is built.
        concurrency: Maximum number of calls in flight at once, >= 1.

    Returns:
        The session's counts and its summary table.

    Raises:
        ValueError: If concurrency is below 1 or an agent cannot take one
            positional argument.
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be an int >= 1, got {concurrency}")

    path = logger.settings.path
    skipped = await retired_agents(list(agents), path)
    active = [
        (name, resolve_agent(agent))
        for name, agent in agents.items()
        if name not in skipped
    ]

    session_id = new_run_id()
    started = datetime.now(timezone.utc)
    limiter = anyio.CapacityLimiter(concurrency)
    outcomes: list[bool] = []

    async with anyio.create_task_group() as group:
        for index, case in enumerate(problems if active else ()):
            name, ref = active[index % len(active)]
            call = partial(_call_agent, name, ref, case, logger, session_id)
            group.start_soon(_limited, limiter, call, outcomes)

    await logger.flush()

    table = format_table(summarize([path], by="agent", since=started))
    errors = outcomes.count(False)
    return SessionReport(
        session_id, len(outcomes), errors, tuple(sorted(skipped)), table
    )


async def retired_agents(names: Sequence[str], path: Path) -> set[str]:
    """Return the names that the retirement tool marks as retired in a log.

    Reading the decisions reads the log file, so it runs in a worker thread.
    """
    retired = set()
    for name in names:
        try:
            if await anyio.to_thread.run_sync(is_retired, name, path):
                retired.add(name)
        except FileNotFoundError:
            # A log that does not exist yet contains no decisions.
            return set()
    return retired


async def _limited(
    limiter: anyio.CapacityLimiter,
    call: Callable[[], Any],
    outcomes: list[bool],
) -> None:
    async with limiter:
        outcomes.append(await call())


async def _call_agent(
    name: str, ref: AgentRef, case: Case, logger: TelemetryLogger, session_id: str
) -> bool:
    output: Any = None
    error: str | None = None

    started = time.perf_counter()
    try:
        output = await _invoke(ref, case.input)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
    latency_ms = round((time.perf_counter() - started) * 1000, 3)

    result = output if isinstance(output, AgentResult) else AgentResult(output)
    event = {"latency_ms": latency_ms, "cost_usd": result.cost_usd, "error": error}
    score, reward_error = score_run(event, result.output, case.expected)

    await logger.log_event(
        name,
        new_run_id(),
        latency_ms,
        result.cost_usd,
        result.tokens_in,
        result.tokens_out,
        error,
        score,
        model=result.model or ref.model,
        parent_run_id=session_id,
        case_id=case.id,
        tags=list(case.tags) or None,
        meta={"reward_error": reward_error} if reward_error else None,
    )
    return error is None


async def _invoke(ref: AgentRef, value: Any) -> Any:
    if ref.is_async:
        return await ref.call(value)
    return await anyio.to_thread.run_sync(ref.call, value)


class _UsageError(Exception):
    """A command-line mistake, reported in one line with exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


@quiet_on_broken_pipe
def main(argv: Sequence[str] | None = None) -> int:
    """Run one session over the bundled problems and print its summary.

    Returns:
        0 on success, 2 on a usage error (printed as one line on stderr).
    """
    parser = _Parser(
        prog="python -m eval.orchestrator",
        description="Route the bundled arithmetic problems to the bundled agents.",
    )
    parser.add_argument(
        "--log",
        type=Path,
        metavar="PATH",
        help="JSONL log file (default: $AGENT_TELEMETRY_PATH or "
        "telemetry/events.jsonl)",
    )
    parser.add_argument(
        "--calls", type=int, default=None, help="agent calls to make (default: all)"
    )
    try:
        args = parser.parse_args(argv)
        if args.calls is not None and args.calls < 1:
            raise _UsageError(f"--calls must be >= 1, got {args.calls}")
        report = anyio.run(_session, args.log, args.calls)
    except (_UsageError, ValueError, OSError) as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2

    print(report.table)
    skipped = ", ".join(report.skipped) or "none"
    print(
        f"{report.calls} calls, {report.errors} errors; retired and skipped: {skipped}"
    )
    return 0


async def _session(log: Path | None, calls: int | None) -> SessionReport:
    problems = [case for case in load_cases(CASES_PATH) if "arithmetic" in case.tags]
    path = LoggerSettings.from_env().path if log is None else log
    async with TelemetryLogger(path) as logger:
        return await orchestrate(problems[:calls], DEFAULT_AGENTS, logger)


if __name__ == "__main__":
    sys.exit(main())
