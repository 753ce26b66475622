"""The results of ``log_event``, awaitables that rarely wait, and loop helpers.

``log_event`` enqueues before it returns, so its result only decides whether the
caller yields to the event loop (to keep a loop of never-yielding producers
responsive) or waits for queue space. Neither is a coroutine, so a result that is
never awaited raises no "never awaited" warning.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

from ._stats import DropReason

if TYPE_CHECKING:
    from ._logger import TelemetryLogger

__all__ = [
    "READY",
    "YIELD_EVERY",
    "Accepted",
    "WaitForSpace",
    "call_soon",
    "in_event_loop",
]

YIELD_EVERY = 0.005
"""Seconds without a turn of the event loop after which ``await log_event`` yields,
so producers that never yield on their own still let the loop run its timers and
I/O. Producers that do yield (to await I/O) are never made to yield again."""


class Accepted:
    """The result of ``log_event``: already enqueued, and awaitable.

    Awaiting it returns at once, unless the event loop has not gone round for
    ``YIELD_EVERY`` seconds: then it yields, so the loop's timers and I/O run.
    Not awaiting it loses nothing, because the event was queued before
    ``log_event`` returned.
    """

    __slots__ = ("_logger",)

    def __init__(self, logger: TelemetryLogger | None) -> None:
        self._logger = logger

    def __await__(self) -> Generator[Any, None, None]:
        if self._logger is None:
            return
        yield from checkpoint().__await__()

        # The first task to resume from this checkpoint opens the next window.
        # Until then every producer yields at its next call, so a turn of the
        # loop lasts one window plus one event per task, however many tasks
        # never yield on their own.
        logger = self._logger
        if logger._checkpoint is self:
            logger._open_window(time.monotonic())


READY = Accepted(None)


class WaitForSpace:
    """The result of ``log_event`` when the queue is full under ``"block"``.

    Awaiting it waits for space, at most ``block_timeout`` seconds. If it is dropped
    without being awaited, the event is counted as dropped ("not_awaited").
    """

    __slots__ = ("_awaited", "_line", "_logger")

    def __init__(self, logger: TelemetryLogger, line: bytes) -> None:
        self._logger = logger
        self._line = line
        self._awaited = False

    def __await__(self) -> Generator[Any, None, None]:
        if self._awaited:
            raise RuntimeError(
                "this log_event result was already awaited or dropped; await it "
                "once, as a coroutine"
            )
        self._awaited = True
        return self._logger._wait_for_space(self._line).__await__()

    def drop(self, reason: str) -> None:
        """Give up on the event now and count it as dropped for ``reason``."""
        if not self._awaited:
            self._awaited = True
            self._logger._drop(1, reason)

    def __del__(self) -> None:
        self.drop(DropReason.NOT_AWAITED)


async def checkpoint() -> None:
    """Yield to the event loop once.

    The backend's own primitive is called directly: going through anyio would cost
    a backend lookup per call and an import stall on the first one.
    """
    # asyncio resumes a task whose timer or socket fired two loop turns later
    # (the callback sets a future, whose callback schedules the task), and trio
    # runs it in the same batch as this task; yielding three times (asyncio) or
    # twice (trio) lets it run before this task opens its next window, so a
    # stall lasts about one window, not two.
    if asyncio._get_running_loop() is not None:
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return
    trio = sys.modules.get("trio")
    if trio is not None:
        await trio.lowlevel.checkpoint()
        await trio.lowlevel.checkpoint()


def call_soon(callback: Callable[[], None]) -> bool:
    """Run ``callback`` at the next turn of this thread's event loop, if any."""
    loop = asyncio._get_running_loop()
    if loop is not None:
        loop.call_soon(callback)
        return True
    trio = sys.modules.get("trio")
    if trio is None:
        return False
    try:
        token = trio.lowlevel.current_trio_token()
    except RuntimeError:
        return False
    token.run_sync_soon(callback)
    return True


def in_event_loop() -> bool:
    """Tell whether this thread runs an asyncio or trio event loop."""
    if asyncio._get_running_loop() is not None:
        return True
    trio = sys.modules.get("trio")
    if trio is None:
        return False
    try:
        trio.lowlevel.current_trio_token()
    except RuntimeError:
        return False
    return True
