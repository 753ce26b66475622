"""Run one eval case through one agent: time it, score it, log it.

A run is timed with :func:`time.perf_counter` around the agent call. An exception
from the agent is caught and recorded as ``"TypeName: message"``, and a run that
outlives the timeout is cancelled and recorded as ``"TimeoutError: case exceeded
N s"``. The output is scored with :func:`telemetry.reward.reward` against the
case's expected value, and one event is logged with a fresh run id. When the
logger rejects a field the agent reported (cost, tokens or model), the run is
logged without it and its error reads ``"invalid agent result: <message>"``.
"""

from __future__ import annotations

import inspect
import time
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.to_thread

from eval.agentref import AgentRef
from eval.agents import AgentResult
from eval.casefile import Case
from eval.progress import ProgressBar
from telemetry import TelemetryLogger, new_run_id
from telemetry.reward import reward

__all__ = ["CaseRun", "Runner", "score_run"]

_INVALID_RESULT = "invalid agent result: "
"""Prefix of the error of a run whose reported fields the logger rejected."""


@dataclass(frozen=True)
class CaseRun:
    """One run of one case by one agent, as logged.

    Attributes:
        agent: Name the run was logged under.
        case_id: Id of the case.
        repeat: Index of the repeat, from 0.
        run_id: Id of the logged event.
        output: What the agent returned, or None if it failed.
        error: ``"TypeName: message"`` if the agent raised or timed out, else None.
        latency_ms: Wall time of the call in milliseconds, rounded to 1 µs.
        reward: Score from :func:`telemetry.reward.reward`, or None if scoring
            raised.
        tokens_in: Prompt tokens the agent reported, or None.
        tokens_out: Completion tokens the agent reported, or None.
        cost_usd: Cost the agent reported in USD, or None.
        model: Model the agent reported, or None.
    """

    agent: str
    case_id: str
    repeat: int
    run_id: str
    output: Any
    error: str | None
    latency_ms: float
    reward: float | None
    tokens_in: int | None = None
    tokens_out: int | None = None
    cost_usd: float | None = None
    model: str | None = None


class Runner:
    """Run single cases under an eval's limits and log each run.

    Args:
        sink: Logger the events go to.
        eval_id: Id of the eval, logged as every event's ``parent_run_id``.
        concurrency: Maximum number of runs in flight at once.
        timeout_s: Maximum duration of a single run in seconds.
        bar: Progress bar advanced after each run.
    """

    def __init__(
        self,
        sink: TelemetryLogger,
        eval_id: str,
        concurrency: int,
        timeout_s: float,
        bar: ProgressBar,
    ) -> None:
        self.sink = sink
        self.eval_id = eval_id
        self.timeout_s = timeout_s
        self.runs: list[CaseRun] = []
        self._bar = bar
        self._limiter = anyio.CapacityLimiter(concurrency)
        # Sync agents get their own thread limiter of the same size, because
        # anyio's default limiter (40 threads) would cap a larger concurrency.
        self._threads = anyio.CapacityLimiter(concurrency)

    async def run(self, ref: AgentRef, case: Case, repeat: int) -> None:
        """Run one case once, log the event and record the run."""
        async with self._limiter:
            output, error, latency_ms = await self._timed_call(ref, case.input)
            run = await self._log(ref, case, repeat, output, error, latency_ms)

        self.runs.append(run)
        self._bar.advance()

    async def _timed_call(
        self, ref: AgentRef, value: Any
    ) -> tuple[Any, str | None, float]:
        output: Any = None
        error: str | None = None

        started = time.perf_counter()
        with anyio.move_on_after(self.timeout_s) as scope:
            try:
                output = await self._call(ref, value)
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
        latency_ms = round((time.perf_counter() - started) * 1000, 3)

        if scope.cancelled_caught:
            output = None
            error = f"TimeoutError: case exceeded {self.timeout_s:g} s"
        return output, error, latency_ms

    async def _call(self, ref: AgentRef, value: Any) -> Any:
        if ref.is_async:
            return await ref.call(value)

        output = await anyio.to_thread.run_sync(
            ref.call, value, abandon_on_cancel=True, limiter=self._threads
        )
        # A sync callable may still return an awaitable, e.g. a lambda that
        # calls an async function.
        if inspect.isawaitable(output):
            output = await output
        return output

    async def _log(
        self,
        ref: AgentRef,
        case: Case,
        repeat: int,
        output: Any,
        error: str | None,
        latency_ms: float,
    ) -> CaseRun:
        result = output if isinstance(output, AgentResult) else AgentResult(output)
        reported: dict[str, Any] = {
            "cost_usd": result.cost_usd,
            "tokens_in": result.tokens_in,
            "tokens_out": result.tokens_out,
            "model": result.model or ref.model,
        }
        run_id = new_run_id()

        # Each failed attempt drops one field, so this ends once none is left.
        for _ in range(len(reported) + 1):
            try:
                score = await self._send(
                    ref,
                    case,
                    repeat,
                    run_id,
                    latency_ms,
                    result.output,
                    reported,
                    error,
                )
                break
            except (TypeError, ValueError) as exc:
                if not any(value is not None for value in reported.values()):
                    raise
                if error is None or not error.startswith(_INVALID_RESULT):
                    error = f"{_INVALID_RESULT}{exc}"
                reported = _without_invalid(reported, str(exc))

        return CaseRun(
            agent=ref.name,
            case_id=case.id,
            repeat=repeat,
            run_id=run_id,
            output=result.output,
            error=error,
            latency_ms=latency_ms,
            reward=score,
            tokens_in=reported["tokens_in"],
            tokens_out=reported["tokens_out"],
            cost_usd=reported["cost_usd"],
            model=reported["model"],
        )

    async def _send(
        self,
        ref: AgentRef,
        case: Case,
        repeat: int,
        run_id: str,
        latency_ms: float,
        output: Any,
        reported: dict[str, Any],
        error: str | None,
    ) -> float | None:
        """Score the run, log its event and return the score.

        Raises:
            TypeError, ValueError: The logger rejected a field of the event.
        """
        event: dict[str, Any] = {
            "agent": ref.name,
            "latency_ms": latency_ms,
            "cost_usd": reported["cost_usd"],
            "tokens_in": reported["tokens_in"],
            "tokens_out": reported["tokens_out"],
            "error": error,
        }
        score, reward_error = score_run(event, output, case.expected)
        meta: dict[str, Any] = {}
        if case.cluster is not None:
            meta["cluster"] = case.cluster
        if reward_error is not None:
            meta["reward_error"] = reward_error

        await self.sink.log_event(
            ref.name,
            run_id,
            latency_ms,
            reported["cost_usd"],
            reported["tokens_in"],
            reported["tokens_out"],
            error,
            score,
            model=reported["model"],
            parent_run_id=self.eval_id,
            case_id=case.id,
            repeat=repeat,
            tags=list(case.tags) or None,
            meta=meta or None,
        )
        return score


def _without_invalid(reported: dict[str, Any], message: str) -> dict[str, Any]:
    """Return the fields without the one the logger's message names.

    The logger's messages start with the field name, e.g. "tokens_in must be
    an int >= 0". When no field is named, every reported field is dropped.
    """
    name = message.split(" ", 1)[0]
    if name in reported:
        return {**reported, name: None}
    return dict.fromkeys(reported)


def score_run(
    event: dict[str, Any], output: Any, expected: Any
) -> tuple[float | None, str | None]:
    """Score one run with :func:`telemetry.reward.reward`.

    Args:
        event: The run's ``latency_ms`` (ms), ``cost_usd`` (USD) and ``error``.
        output: What the agent returned.
        expected: The case's expected value. None means the case has none, so
            the output is scored on its own (a bool, a number or a dict with a
            score).

    Returns:
        The reward, or None with ``"TypeName: message"`` when scoring raised.
        An output that cannot be scored must not stop the other runs, so the
        caller logs the failure with the event instead.
    """
    try:
        if expected is None:
            return reward(event, output), None
        return reward(event, output, expected=expected), None
    except (TypeError, ValueError) as exc:
        return None, f"{type(exc).__name__}: {exc}"
