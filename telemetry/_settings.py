"""Logger settings: validated defaults, and the environment variables that set them."""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["DEFAULT_PATH", "ENV_PREFIX", "FsyncPolicy", "LoggerSettings", "WhenFull"]

DEFAULT_PATH = Path("telemetry/events.jsonl")
"""The default logger's file, relative to the working directory."""

ENV_PREFIX = "AGENT_TELEMETRY_"
"""Prefix of the environment variables read by :meth:`LoggerSettings.from_env`."""

WhenFull = Literal["block", "drop"]
FsyncPolicy = Literal["never", "batch", "interval"]


@dataclass(frozen=True)
class LoggerSettings:
    """How a :class:`~telemetry.TelemetryLogger` queues and writes.

    The defaults come from the benchmarks in docs/BENCHMARKS.md: past a batch of a
    thousand events the writer gains nothing, and a tenth of a second between writes
    costs nothing measurable while bounding what a crash can lose.

    Attributes:
        path: JSONL file to append to. Environment: ``AGENT_TELEMETRY_PATH``.
        queue_size: Most events held in memory, waiting or being written.
            Environment: ``AGENT_TELEMETRY_QUEUE_SIZE``.
        queue_bytes: Most encoded bytes held in memory, a second bound for large
            events. Environment: ``AGENT_TELEMETRY_QUEUE_BYTES``.
        batch_size: Wake the writer once this many events wait, without waiting
            for ``flush_interval``. Environment: ``AGENT_TELEMETRY_BATCH_SIZE``.
        flush_interval: Maximum time in seconds an event waits before the writer
            takes it. Environment: ``AGENT_TELEMETRY_FLUSH_INTERVAL``.
        when_full: ``"block"`` makes the producer wait for space, at most
            ``block_timeout`` seconds; ``"drop"`` drops the event at once. Both
            count what they drop. Environment: ``AGENT_TELEMETRY_WHEN_FULL``.
        block_timeout: Maximum wait in seconds for queue space before the event is
            dropped and counted. Environment: ``AGENT_TELEMETRY_BLOCK_TIMEOUT``.
        fsync: ``"never"`` leaves durability to the kernel, ``"batch"`` fsyncs after
            every write, ``"interval"`` at most every ``fsync_interval`` seconds.
            ``flush()`` fsyncs under both of the last two. Environment:
            ``AGENT_TELEMETRY_FSYNC``.
        fsync_interval: Seconds between fsyncs under ``fsync="interval"``.
            Environment: ``AGENT_TELEMETRY_FSYNC_INTERVAL``.
        max_event_bytes: Largest encoded event accepted; a larger one raises
            ValueError at the call. Environment: ``AGENT_TELEMETRY_MAX_EVENT_BYTES``.
        rotate_bytes: Rotate the file once it reaches this size, or never when None
            (the default). Environment: ``AGENT_TELEMETRY_ROTATE_BYTES``.
        retry_timeout: Seconds the writer keeps retrying a failed write before it
            drops that batch and counts it. Environment:
            ``AGENT_TELEMETRY_RETRY_TIMEOUT``.
        exit_timeout: Seconds the exit hook waits for the queue to drain.
            Environment: ``AGENT_TELEMETRY_EXIT_TIMEOUT``.
    """

    path: Path = DEFAULT_PATH
    queue_size: int = 100_000
    queue_bytes: int = 64 * 1024 * 1024
    batch_size: int = 1024
    flush_interval: float = 0.1
    when_full: WhenFull = "block"
    block_timeout: float = 5.0
    fsync: FsyncPolicy = "never"
    fsync_interval: float = 1.0
    max_event_bytes: int = 1024 * 1024
    rotate_bytes: int | None = None
    retry_timeout: float = 10.0
    exit_timeout: float = 10.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", _as_path(self.path))
        for name in ("queue_size", "queue_bytes", "batch_size", "max_event_bytes"):
            _require_positive_int(name, getattr(self, name))
        if self.rotate_bytes is not None:
            _require_positive_int("rotate_bytes", self.rotate_bytes)
        for name in (
            "flush_interval",
            "block_timeout",
            "fsync_interval",
            "retry_timeout",
            "exit_timeout",
        ):
            _require_positive_seconds(name, getattr(self, name))
        _require_choice("when_full", self.when_full, ("block", "drop"))
        _require_choice("fsync", self.fsync, ("never", "batch", "interval"))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> LoggerSettings:
        """Build settings from ``AGENT_TELEMETRY_*`` variables over the defaults.

        Raises:
            ValueError: a variable contains a value that does not parse or is out of
                range; the message names the variable.
        """
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for field in dataclasses.fields(cls):
            raw = environ.get(ENV_PREFIX + field.name.upper())
            if raw is None or raw.strip() == "":
                continue
            values[field.name] = _parse_env(field.name, raw.strip())

        # Validate one variable at a time, so the error names the variable.
        for name, value in values.items():
            try:
                cls(**{name: value})  # type: ignore[arg-type]
            except (TypeError, ValueError) as exc:
                variable = ENV_PREFIX + name.upper()
                raise ValueError(
                    f"{variable} is invalid: {exc}; unset it or fix the value"
                ) from None
        return cls(**values)  # type: ignore[arg-type]

    def replace(self, **changes: object) -> LoggerSettings:
        """Return a copy with ``changes`` applied and validated."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


_INT_FIELDS = {"queue_size", "queue_bytes", "batch_size", "max_event_bytes"}
_FLOAT_FIELDS = {
    "flush_interval",
    "block_timeout",
    "fsync_interval",
    "retry_timeout",
    "exit_timeout",
}


def _parse_env(name: str, raw: str) -> object:
    variable = ENV_PREFIX + name.upper()
    if name == "rotate_bytes" and raw.lower() in ("none", "off", "0"):
        return None
    if name in _INT_FIELDS or name == "rotate_bytes":
        unit = "an integer number of bytes" if "bytes" in name else "an integer"
        parse: type[int] | type[float] = int
    elif name in _FLOAT_FIELDS:
        unit, parse = "a number of seconds", float
    else:
        return raw

    try:
        return parse(raw)
    except ValueError:
        raise ValueError(
            f"{variable} must be {unit}, got {raw!r}; unset it or fix the value"
        ) from None


def _as_path(value: object) -> Path:
    if isinstance(value, Path):
        return value
    if isinstance(value, str) and value:
        return Path(value)
    raise TypeError(f"path must be a non-empty str or Path, got {value!r}")


def _require_positive_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int > 0, got {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be an int > 0, got {value!r}")


_MAX_SECONDS = 1_000_000.0
"""Longest accepted duration (about 11.6 days), well inside what thread waits take."""


def _require_positive_seconds(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds > 0, got {value!r}")
    if not math.isfinite(value) or value <= 0 or value > _MAX_SECONDS:
        raise ValueError(
            f"{name} must be a number of seconds > 0 and <= {_MAX_SECONDS:g}, "
            f"got {value!r}"
        )


def _require_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        allowed = ", ".join(repr(choice) for choice in choices)
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
