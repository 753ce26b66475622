"""Crashes: a writer killed mid-stream loses at most what was queued.

A child process logs at full speed and reports on a pipe how many events each
completed ``flush_sync`` covered. The parent kills it with SIGKILL at random moments.
Every event a completed flush covered must be in the file, and every line must be
valid JSON except possibly a torn last one. The next writer on the same file must
start on a line of its own.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from faults import read_strict_lines, strict_loads

from telemetry.logread import read_events

REPO = Path(__file__).resolve().parents[1]
KILLS = 20

CHILD = """
    import sys
    from telemetry import TelemetryLogger

    path, run = sys.argv[1], int(sys.argv[2])
    log = TelemetryLogger(path, flush_interval=0.005)
    sequence = 0
    while True:
        for _ in range(300):
            pad = "x" * (sequence % 200)
            meta = {"run": run, "seq": sequence, "pad": pad}
            log.log_event("crash", "run", 1.0, meta=meta)
            sequence += 1
        if log.flush_sync(timeout=10):
            print(sequence, flush=True)
"""


@dataclass
class Child:
    """A running child and the counts its completed flushes reported."""

    process: subprocess.Popen[str]
    counts: list[int] = field(default_factory=list)
    reader: threading.Thread | None = None

    def read_counts(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.counts.append(int(line))


def start_child(path: Path, run: int, code: str = CHILD) -> Child:
    process = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), str(path), str(run)],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    child = Child(process)
    child.reader = threading.Thread(target=child.read_counts, daemon=True)
    child.reader.start()
    return child


def wait_for_first_flush(child: Child, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not child.counts:
        assert child.process.poll() is None, "child exited before its first flush"
        assert time.monotonic() < deadline, "child never completed a flush"
        time.sleep(0.005)


def kill(child: Child) -> int:
    """Kill ``child`` with SIGKILL and return the last count it reported."""
    child.process.send_signal(signal.SIGKILL)
    child.process.wait(timeout=30)
    assert child.reader is not None
    child.reader.join(timeout=30)
    return child.counts[-1]


def split_lines(raw: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """Split ``raw`` into complete lines with their offsets, and the torn tail."""
    lines = []
    offset = 0
    while (end := raw.find(b"\n", offset)) != -1:
        lines.append((offset, raw[offset:end]))
        offset = end + 1
    return lines, raw[offset:]


def parse_or_none(line: bytes) -> dict[str, object] | None:
    try:
        event = strict_loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


def run_sequences(lines: list[bytes], run: int) -> list[int]:
    """Return the ``seq`` of each valid line that child ``run`` wrote, in order."""
    sequences = []
    for line in lines:
        event = parse_or_none(line)
        meta = event.get("meta") if event else None
        if isinstance(meta, dict) and meta.get("run") == run:
            sequences.append(meta["seq"])
    return sequences


@pytest.mark.slow
def test_sigkill_loses_only_unflushed(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    rng = random.Random(1204)
    torn_offsets: set[int] = set()

    checked = 0  # Lines before this offset were checked after an earlier kill.
    for run in range(KILLS):
        child = start_child(path, run)
        wait_for_first_flush(child)
        time.sleep(rng.uniform(0.0, 0.25))
        flushed = kill(child)

        with path.open("rb") as file:
            file.seek(checked)
            raw = file.read()
        lines, tail = split_lines(raw)
        bad = {checked + at for at, line in lines if parse_or_none(line) is None}
        mine = run_sequences([line for _, line in lines], run)

        assert bad <= torn_offsets, f"run {run}: damaged lines before the last"
        assert len(mine) >= flushed, f"run {run}: flushed events missing"
        assert mine == list(range(len(mine))), f"run {run}: events out of order"
        checked += len(raw) - len(tail)
        if tail:
            torn_offsets.add(checked)

    final = start_child(path, KILLS, CHILD.replace("while True", "for _ in range(3)"))
    assert final.process.wait(timeout=60) == 0
    lines, tail = split_lines(path.read_bytes())
    bad = {offset for offset, line in lines if parse_or_none(line) is None}
    stream = read_events(path)
    valid = sum(1 for _ in stream)

    assert tail == b""
    assert bad == torn_offsets
    assert valid == len(lines) - len(torn_offsets)
    assert stream.report.skipped_total == len(torn_offsets)


OS_EXIT_CHILD = """
    import os, sys
    from telemetry import TelemetryLogger

    log = TelemetryLogger(sys.argv[1], flush_interval=60.0, batch_size=100_000)
    for index in range(500):
        log.log_event("exit", "run", 1.0, meta={"seq": index})
    assert log.flush_sync(timeout=10)
    for index in range(500, 800):
        log.log_event("exit", "run", 1.0, meta={"seq": index})
    os._exit(3)
"""


def test_os_exit_loses_only_queued(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    completed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(OS_EXIT_CHILD), str(path)],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    events = read_strict_lines(path)

    assert completed.returncode == 3, completed.stderr
    assert [event["meta"]["seq"] for event in events] == list(range(500))


def test_restarted_writer_starts_own_line(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    whole = (
        b'{"ts":"2026-12-04T16:10:37.123456+00:00","agent":"torn","run_id":"r",'
        b'"latency_ms":1,"cost_usd":null,"tokens_in":null,"tokens_out":null,'
        b'"error":null,"reward":null}\n'
    )
    path.write_bytes(whole + b'{"ts":"20')
    script = """
        import sys
        from telemetry import TelemetryLogger
        with TelemetryLogger(sys.argv[1]) as log:
            log.log_event("restarted", "run", 1.0)
    """
    for _ in range(2):
        subprocess.run(
            [sys.executable, "-c", textwrap.dedent(script), str(path)],
            env={**os.environ, "PYTHONPATH": str(REPO)},
            check=True,
            timeout=60,
        )
    lines, tail = split_lines(path.read_bytes())
    parsed = [parse_or_none(line) for _, line in lines]
    stream = read_events(path)
    agents = [event["agent"] for event in stream]

    assert tail == b""
    assert [p is None for p in parsed] == [False, True, False, False]
    assert agents == ["torn", "restarted", "restarted"]
    assert stream.report.skipped_total == 1
