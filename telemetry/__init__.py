"""Queue-buffered JSONL telemetry for async LLM agents."""

from ._logger import Accepted, TelemetryLogger
from ._settings import LoggerSettings
from ._sink import FileOps
from ._stats import DropReason, FlushResult, LoggerStats
from .logger import (
    configure,
    flush,
    flush_sync,
    get_logger,
    log_event,
    log_event_sync,
    new_run_id,
    shutdown,
    shutdown_sync,
    stats,
)

__all__ = [
    "Accepted",
    "DropReason",
    "FileOps",
    "FlushResult",
    "LoggerSettings",
    "LoggerStats",
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
