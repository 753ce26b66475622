"""Run this project's commands with their output going nowhere, as after ``| head``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def run_with_closed_stdout(
    args: list[str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run Python with args, its stdout a pipe whose reader is gone, as after head."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [sys.executable, *args],
            cwd=ROOT if cwd is None else cwd,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
            timeout=120,
        )
    finally:
        os.close(write_end)
