"""Put every logger in the benchmark behind the same three steps.

A contender starts on a path and returns a callable that logs one event from its
eight fields and takes the timestamp at the call. Its stop step returns once every
event is on disk. Async and sync variants exist where the library offers them. Each
peer is set up the way its documentation recommends for speed, and writes exactly
the nine fields of the event format, in order, one JSON object per line.

Peer libraries are imported when a contender starts, so each run in its own process
loads only what it measures.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import orjson

from telemetry import LoggerSettings, TelemetryLogger
from telemetry._event import format_ts

__all__ = [
    "CONTENDERS",
    "FAST_ENCODERS",
    "PEERS",
    "AsyncLog",
    "Contender",
    "SyncLog",
    "encoder_costs",
    "event_dict",
    "line_encoder",
    "make_contender",
]

AsyncLog = Callable[..., Awaitable[object]]
"""Log one event from its eight fields. The caller awaits the result."""

SyncLog = Callable[..., object]
"""Log one event from its eight fields, from any thread."""

FAST_ENCODERS = ("orjson", "msgspec")
"""Encoders the fast floor may use; the benchmark keeps the faster one."""


def event_dict(
    agent: str,
    run_id: str,
    latency_ms: float,
    cost_usd: float | None,
    tokens_in: int | None,
    tokens_out: int | None,
    error: str | None,
    reward: float | None,
) -> dict[str, object]:
    """Return the nine fields of one event, in order, stamped with the time now.

    Every peer uses this builder and the logger's own cached timestamp formatter,
    so the comparison measures the logging path, not event construction.
    """
    return {
        "ts": format_ts(time.time()),
        "agent": agent,
        "run_id": run_id,
        "latency_ms": latency_ms,
        "cost_usd": cost_usd,
        "tokens_in": tokens_in,
        "tokens_out": tokens_out,
        "error": error,
        "reward": reward,
    }


class Contender:
    """One logger set up for the benchmark.

    Subclasses override the variants they support. ``start`` and ``astart`` return
    the callable the workload calls once per event.
    """

    name: str
    summary: str
    backends: ClassVar[tuple[str, ...]] = ("asyncio", "trio")
    has_sync: ClassVar[bool] = True

    def start(self, path: Path) -> SyncLog:
        """Set up on ``path`` and return the sync logging callable."""
        raise NotImplementedError(f"{self.name} has no sync API")

    def stop(self) -> None:
        """Shut down with every event logged so far on disk."""
        raise NotImplementedError(f"{self.name} has no sync API")

    async def astart(self, path: Path) -> AsyncLog:
        """Set up on ``path`` and return the async logging callable."""
        log = self.start(path)

        async def alog(*fields: Any) -> None:
            log(*fields)

        return alog

    async def astop(self) -> None:
        """Shut down from async code with every event logged so far on disk."""
        self.stop()


class Telemetry(Contender):
    """This project's logger, with default settings unless ``changes`` are given."""

    name = "telemetry"
    summary = "`TelemetryLogger(path)`; `await log.log_event(...)`, writer thread"

    def __init__(self, changes: Mapping[str, object] | None = None) -> None:
        self._changes = dict(changes or {})
        self._logger: TelemetryLogger | None = None

    def start(self, path: Path) -> SyncLog:
        self._logger = self._make(path)
        return self._logger.log_event_sync

    def stop(self) -> None:
        assert self._logger is not None
        _require_complete(self._logger.shutdown_sync(120.0).complete)

    async def astart(self, path: Path) -> AsyncLog:
        self._logger = self._make(path)
        return self._logger.log_event

    async def astop(self) -> None:
        assert self._logger is not None
        _require_complete((await self._logger.shutdown(120.0)).complete)

    def _make(self, path: Path) -> TelemetryLogger:
        if not self._changes:
            return TelemetryLogger(path)
        return TelemetryLogger(path, settings=LoggerSettings().replace(**self._changes))


class Naive(Contender):
    """The original design: open, ``json.dumps``, write and close per event."""

    name = "naive"
    summary = "open, `json.dumps`, write, close the file per event"

    def start(self, path: Path) -> SyncLog:
        def log(*fields: Any) -> None:
            line = json.dumps(event_dict(*fields)) + "\n"
            with open(path, "a", encoding="utf-8") as file:
                file.write(line)

        return log

    def stop(self) -> None:
        return None


class Aiofiles(Contender):
    """The naive design made async: aiofiles opens and writes the file per event."""

    name = "aiofiles"
    summary = "`aiofiles.open` and `await write` per event (`json.dumps`)"
    backends = ("asyncio",)
    has_sync = False

    async def astart(self, path: Path) -> AsyncLog:
        import aiofiles

        async def alog(*fields: Any) -> None:
            line = json.dumps(event_dict(*fields)) + "\n"
            async with aiofiles.open(path, "a", encoding="utf-8") as file:
                await file.write(line)

        return alog

    async def astop(self) -> None:
        return None


class StdlibQueue(Contender):
    """Stdlib ``QueueHandler`` and ``QueueListener`` feeding a ``FileHandler``."""

    name = "logging"
    summary = "stdlib `QueueHandler` + `QueueListener` -> `FileHandler`, orjson"

    def start(self, path: Path) -> SyncLog:
        import logging
        import logging.handlers
        import queue

        class JsonLine(logging.Formatter):
            def format(self, record: logging.LogRecord) -> str:
                return orjson.dumps(record.__dict__["event"]).decode()

        records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
        self._file = logging.FileHandler(path, encoding="utf-8")
        self._file.setFormatter(JsonLine())
        self._listener = logging.handlers.QueueListener(records, self._file)
        self._listener.start()

        logger = logging.getLogger("bench.logging")
        logger.propagate = False
        logger.setLevel(logging.INFO)
        logger.addHandler(logging.handlers.QueueHandler(records))
        info = logger.info

        def log(*fields: Any) -> None:
            info("event", extra={"event": event_dict(*fields)})

        return log

    def stop(self) -> None:
        self._listener.stop()
        self._file.close()


class Aiologger(Contender):
    """aiologger's ``AsyncFileHandler`` with its JSON formatter on orjson."""

    name = "aiologger"
    summary = "`await logger.info(event)`, `AsyncFileHandler`, `JsonFormatter`"
    backends = ("asyncio",)
    has_sync = False

    async def astart(self, path: Path) -> AsyncLog:
        from aiologger import Logger
        from aiologger.formatters.json import JsonFormatter
        from aiologger.handlers.files import AsyncFileHandler
        from aiologger.levels import LogLevel

        self._logger = Logger(name="bench", level=LogLevel.INFO)
        handler = AsyncFileHandler(str(path), encoding="utf-8")
        handler.formatter = JsonFormatter(serializer=orjson.dumps)
        self._logger.add_handler(handler)
        info = self._logger.info

        async def alog(*fields: Any) -> None:
            await info(event_dict(*fields))

        return alog

    async def astop(self) -> None:
        await self._logger.shutdown()


class Loguru(Contender):
    """loguru with ``enqueue=True`` and a format function that emits the event."""

    name = "loguru"
    summary = "`logger.info` with `enqueue=True`, format function, orjson"

    def start(self, path: Path) -> SyncLog:
        from loguru import logger

        def line(record: Any) -> str:
            record["extra"]["line"] = orjson.dumps(record["extra"]["event"]).decode()
            return "{extra[line]}\n"

        logger.remove()
        self._logger = logger
        self._handler = logger.add(path, format=line, enqueue=True, encoding="utf-8")
        info = logger.info

        def log(*fields: Any) -> None:
            info("", event=event_dict(*fields))

        return log

    def stop(self) -> None:
        self._logger.remove(self._handler)

    async def astop(self) -> None:
        await self._logger.complete()
        self._logger.remove(self._handler)


class Picologging(Contender):
    """picologging's ``QueueHandler`` and ``QueueListener`` feeding a file."""

    name = "picologging"
    summary = "picologging `QueueHandler` + `QueueListener` -> `FileHandler`"

    def start(self, path: Path) -> SyncLog:
        import queue

        import picologging
        from picologging.handlers import QueueHandler, QueueListener

        # Its QueueHandler keeps only the formatted message, so the JSON is made
        # on the caller's side and the file handler writes the message as is.
        class JsonLine(picologging.Formatter):
            def format(self, record: Any) -> str:
                return orjson.dumps(record.msg).decode()

        records: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._file = picologging.FileHandler(str(path), encoding="utf-8")
        self._listener = QueueListener(records, self._file)
        self._listener.start()

        handler = QueueHandler(records)
        handler.setFormatter(JsonLine())
        logger = picologging.getLogger("bench.picologging")
        logger.setLevel(picologging.INFO)
        logger.addHandler(handler)
        info = logger.info

        def log(*fields: Any) -> None:
            info(event_dict(*fields))

        return log

    def stop(self) -> None:
        self._listener.stop()
        self._file.close()


class Structlog(Contender):
    """structlog's filtering bound logger, JSON renderer on orjson, bytes file."""

    name = "structlog"
    summary = "`await log.ainfo(...)`, `JSONRenderer(orjson)`, `BytesLogger`"
    backends = ("asyncio",)

    def start(self, path: Path) -> SyncLog:
        self._bound = self._configure(path)
        info = self._bound.info

        def log(*fields: Any) -> None:
            info(None, **event_dict(*fields))

        return log

    def stop(self) -> None:
        self._file.close()

    async def astart(self, path: Path) -> AsyncLog:
        self._bound = self._configure(path)
        ainfo = self._bound.ainfo

        async def alog(*fields: Any) -> None:
            await ainfo(None, **event_dict(*fields))

        return alog

    async def astop(self) -> None:
        self._file.close()

    def _configure(self, path: Path) -> Any:
        import logging

        import structlog

        self._file = open(path, "ab")  # noqa: SIM115 - closed by stop()
        structlog.configure(
            processors=[structlog.processors.JSONRenderer(serializer=orjson.dumps)],
            wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
            logger_factory=structlog.BytesLoggerFactory(self._file),
            cache_logger_on_first_use=True,
        )
        return structlog.get_logger()


class Floor(Contender):
    """The physical floor: serialize each event at the call, write all at the end.

    No queue, no thread and no syscall per event: the cost of building and
    encoding the events plus one write. Nothing slower than the encoder can beat
    it, so every other contender is reported as a fraction of it.
    """

    summary = "build and encode each event, one write of them all at the end"

    def __init__(self, name: str, encoder: str) -> None:
        self.name = name
        self.encoder = encoder
        self._buffer = bytearray()
        self._path: Path | None = None

    def start(self, path: Path) -> SyncLog:
        # One growing buffer, not a list of lines, because a list would keep
        # every encoder output alive and orjson's cost about 4 KiB of memory each.
        self._path = path
        self._buffer = bytearray()
        extend = self._buffer.extend
        encode = line_encoder(self.encoder)

        def log(*fields: Any) -> None:
            extend(encode(event_dict(*fields)))

        return log

    def stop(self) -> None:
        assert self._path is not None
        with open(self._path, "wb") as file:
            file.write(self._buffer)
        self._buffer = bytearray()


def line_encoder(encoder: str) -> Callable[[dict[str, object]], bytes]:
    """Return a function encoding one event as a JSON line with ``encoder``.

    Raises:
        ValueError: ``encoder`` is not "json", "orjson" or "msgspec".
    """
    if encoder == "json":
        dumps = json.dumps
        return lambda event: (dumps(event) + "\n").encode()
    if encoder == "orjson":
        option = orjson.OPT_APPEND_NEWLINE
        return lambda event: orjson.dumps(event, option=option)
    if encoder == "msgspec":
        import msgspec

        encode = msgspec.json.Encoder().encode
        return lambda event: encode(event) + b"\n"
    raise ValueError(f"encoder must be 'json', 'orjson' or 'msgspec', got {encoder!r}")


def encoder_costs(
    encoders: Sequence[str], events: list[tuple[Any, ...]], rounds: int = 7
) -> dict[str, float]:
    """Return each encoder's best time, in µs per event, to build and encode ``events``.

    The encoders take turns, round after round, after one untimed pass each, so a
    burst of load or a warm-up (imports, page faults) cannot fall on one of them
    alone and hand the fast floor to the slower encoder.
    """
    encoders_by_name = {name: line_encoder(name) for name in encoders}
    best = dict.fromkeys(encoders, float("inf"))
    for index in range(rounds + 1):
        for name, encode in encoders_by_name.items():
            start = time.perf_counter()
            for fields in events:
                encode(event_dict(*fields))
            if index:
                best[name] = min(best[name], time.perf_counter() - start)
    return {name: value / len(events) * 1e6 for name, value in best.items()}


PEERS: tuple[type[Contender], ...] = (
    Naive,
    Aiofiles,
    StdlibQueue,
    Aiologger,
    Loguru,
    Picologging,
    Structlog,
)
"""The loggers a user might pick instead, in report order."""

CONTENDERS = ("telemetry", *(peer.name for peer in PEERS), "floor-json", "floor-fast")
"""Every contender name, in report order; ``floor-fast`` is the reference."""


def make_contender(
    name: str,
    *,
    fast_encoder: str = "orjson",
    telemetry: Mapping[str, object] | None = None,
) -> Contender:
    """Build the contender called ``name``.

    Args:
        name: One of :data:`CONTENDERS`.
        fast_encoder: Encoder of ``floor-fast``, one of :data:`FAST_ENCODERS`.
        telemetry: Settings passed to this project's logger over its defaults.

    Raises:
        ValueError: ``name`` is not a contender.
    """
    if name == "telemetry":
        return Telemetry(telemetry)
    if name == "floor-json":
        return Floor(name, "json")
    if name == "floor-fast":
        return Floor(name, fast_encoder)
    for peer in PEERS:
        if peer.name == name:
            return peer()
    raise ValueError(f"contender must be one of {', '.join(CONTENDERS)}, got {name!r}")


def _require_complete(complete: bool) -> None:
    if not complete:
        raise RuntimeError("telemetry shutdown timed out with events still queued")
