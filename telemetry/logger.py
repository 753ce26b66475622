"""The single choke point through which every agent reports a run.

``log_event`` validates an event, stamps it with the time of the call and puts it on
an in-memory queue; a background thread appends queued events to a JSONL file in
batches, so no agent ever waits on the disk. Await it in async code, or call it
plainly from sync code: either way the event is queued before the call returns and
written by the time the process exits.

The module-level functions use one default logger, built on first use from the
``AGENT_TELEMETRY_*`` environment variables (see :class:`LoggerSettings`). It writes
to ``telemetry/events.jsonl`` relative to the working directory unless
``AGENT_TELEMETRY_PATH`` says otherwise.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._logger import Accepted, TelemetryLogger
from ._settings import DEFAULT_PATH, LoggerSettings
from ._stats import FlushResult, LoggerStats

__all__ = [
    "LOG_PATH",
    "TelemetryLogger",
    "configure",
    "flush",
    "flush_sync",
    "get_logger",
    "log_event",
    "log_event_sync",
    "new_run_id",
    "shutdown",
    "shutdown_sync",
    "stats",
]

LOG_PATH = DEFAULT_PATH
"""Default log file, relative to the working directory."""

_default: TelemetryLogger | None = None
_default_lock = threading.Lock()


def new_run_id() -> str:
    """Return a fresh random run id, a UUID4 string."""
    return str(uuid.uuid4())


def get_logger() -> TelemetryLogger:
    """Return the default logger, building it from the environment on first use.

    Raises:
        ValueError: an ``AGENT_TELEMETRY_*`` variable contains an invalid value.
    """
    global _default

    logger = _default
    if logger is not None:
        return logger
    with _default_lock:
        if _default is None:
            _default = TelemetryLogger(settings=LoggerSettings.from_env())
        return _default


def configure(
    path: str | Path | None = None, *, timeout: float = 5.0, **changes: Any
) -> TelemetryLogger:
    """Replace the default logger with one built from the given settings.

    Settings not given keep their environment or built-in defaults. The previous
    default logger is shut down first, waiting at most ``timeout`` seconds.
    """
    global _default

    settings = LoggerSettings.from_env()
    replacement = TelemetryLogger(path, settings=settings, **changes)
    with _default_lock:
        previous, _default = _default, replacement
    if previous is not None:
        previous.shutdown_sync(timeout)
    return replacement


def log_event(
    agent: str,
    run_id: str,
    latency_ms: float,
    cost_usd: float | None = None,
    tokens_in: int | None = None,
    tokens_out: int | None = None,
    error: str | BaseException | None = None,
    reward: float | None = None,
    *,
    model: str | None = None,
    parent_run_id: str | None = None,
    case_id: str | None = None,
    repeat: int | None = None,
    tags: Sequence[str] | None = None,
    kind: str | None = None,
    meta: dict[str, Any] | None = None,
) -> Accepted | Any:
    """Log one event on the default logger; see :meth:`TelemetryLogger.log_event`.

    ``await log_event(...)`` in async code; a plain call in sync code also logs.
    """
    return get_logger().log_event(
        agent,
        run_id,
        latency_ms,
        cost_usd,
        tokens_in,
        tokens_out,
        error,
        reward,
        model=model,
        parent_run_id=parent_run_id,
        case_id=case_id,
        repeat=repeat,
        tags=tags,
        kind=kind,
        meta=meta,
    )


def log_event_sync(
    agent: str,
    run_id: str,
    latency_ms: float,
    cost_usd: float | None = None,
    tokens_in: int | None = None,
    tokens_out: int | None = None,
    error: str | BaseException | None = None,
    reward: float | None = None,
    *,
    model: str | None = None,
    parent_run_id: str | None = None,
    case_id: str | None = None,
    repeat: int | None = None,
    tags: Sequence[str] | None = None,
    kind: str | None = None,
    meta: dict[str, Any] | None = None,
) -> None:
    """Log one event from sync code or any thread, never blocking an event loop.

    Takes the same arguments as :func:`log_event`; see
    :meth:`TelemetryLogger.log_event_sync` for what happens when the queue is full.
    """
    get_logger().log_event_sync(
        agent,
        run_id,
        latency_ms,
        cost_usd,
        tokens_in,
        tokens_out,
        error,
        reward,
        model=model,
        parent_run_id=parent_run_id,
        case_id=case_id,
        repeat=repeat,
        tags=tags,
        kind=kind,
        meta=meta,
    )


async def flush(timeout: float = 5.0) -> FlushResult:
    """Wait until every event logged before the call is written, at most ``timeout``."""
    return await get_logger().flush(timeout)


def flush_sync(timeout: float = 5.0) -> FlushResult:
    """Block until every event logged before the call is written, or ``timeout``."""
    return get_logger().flush_sync(timeout)


async def shutdown(timeout: float = 5.0) -> FlushResult:
    """Drain and close the default logger; a later event opens it again."""
    return await get_logger().shutdown(timeout)


def shutdown_sync(timeout: float = 5.0) -> FlushResult:
    """Drain and close the default logger, blocking the calling thread."""
    return get_logger().shutdown_sync(timeout)


def stats() -> LoggerStats:
    """Return a snapshot of the default logger's counters."""
    return get_logger().stats()
