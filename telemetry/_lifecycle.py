"""Process lifecycle for every logger: drain at interpreter exit, reset after fork."""

from __future__ import annotations

import atexit
import os
import time
import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._logger import TelemetryLogger

__all__ = ["exit_hook_ran", "track"]

_live_loggers: weakref.WeakSet[TelemetryLogger] = weakref.WeakSet()
_exit_hook_ran = False


def track(logger: TelemetryLogger) -> None:
    """Drain ``logger`` at exit and reset it in a forked child."""
    _live_loggers.add(logger)


def exit_hook_ran() -> bool:
    """Tell whether the exit hook has run, so no writer thread can start."""
    return _exit_hook_ran


def _drain_all_at_exit() -> None:
    """Drain every live logger at once, each for at most its ``exit_timeout``.

    Events logged after this hook (by atexit handlers registered before it, by
    finalizers or by daemon threads) are written on the caller's thread.
    """
    global _exit_hook_ran

    _exit_hook_ran = True
    loggers = list(_live_loggers)
    for logger in loggers:
        logger._request_flush(stop=True)

    started = time.monotonic()
    for logger in loggers:
        writer = logger._writer
        if writer is not None:
            remaining = started + logger.settings.exit_timeout - time.monotonic()
            writer.join(max(remaining, 0.0))
        elif logger._buffer:
            logger._write_inline()
        logger._report_unwritten_at_exit()


def _reset_all_after_fork() -> None:
    for logger in list(_live_loggers):
        logger._reset_after_fork()


atexit.register(_drain_all_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_all_after_fork)
