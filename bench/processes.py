"""Several processes appending to one log file: throughput and a whole-line check.

Run ``python -m bench.processes``. Each configuration starts N processes that
each log M events to one shared file through the sync shim. They either keep the
default batching and flush once at the end, or flush after every event, which
makes each event its own write and its own turn at the file's lock. The clock
starts when every process has imported the logger and stops when the last
one exits. The file must then hold exactly N times M valid lines.

``--source DIR`` (repeatable) runs another checkout of the project in the same
rounds, interleaved, to measure a change: for example a ``git worktree`` of an
earlier commit. The Markdown report goes to stdout, progress to stderr.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from bench.run import check_file, machine_line

ROOT = Path(__file__).resolve().parents[1]

WORKER = """
    import sys
    from telemetry import TelemetryLogger

    path, events, flush_each = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
    sys.stdout.write("ready\\n")
    sys.stdout.flush()
    sys.stdin.readline()
    with TelemetryLogger(path) as log:
        for index in range(events):
            log.log_event_sync("worker", "r", float(index))
            if flush_each:
                assert log.flush_sync(timeout=60)
        assert log.flush_sync(timeout=120)
"""

CONFIGS = [
    # (processes, events per process, flush after every event)
    (1, 100_000, False),
    (8, 50_000, False),
    (1, 5_000, True),
    (2, 5_000, True),
    (8, 3_000, True),
]

QUICK_CONFIGS = [(2, 20_000, False), (8, 1_000, True)]


def run_once(source: Path, processes: int, events: int, flush_each: bool) -> float:
    """Run one configuration from ``source`` and return its events per second.

    Raises:
        RuntimeError: a worker failed, or the file is not exactly the lines logged.
    """
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "events.jsonl"
        workers = [_start(source, path, events, flush_each) for _ in range(processes)]
        for worker in workers:
            assert worker.stdout is not None
            worker.stdout.readline()  # Imported and ready.

        started = time.perf_counter()
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        failures = [worker.wait() for worker in workers]
        elapsed = time.perf_counter() - started

        if any(failures):
            raise RuntimeError(
                f"a worker from {source} failed with exit codes {failures}; "
                "its traceback is above"
            )
        check, _ = check_file(path, processes * events)
        if check != "ok":
            raise RuntimeError(
                f"file check failed for {source}: {check}; "
                "run tests/test_multiprocess.py to find the cause"
            )
    return processes * events / elapsed


def _start(
    source: Path, path: Path, events: int, flush_each: bool
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(WORKER),
            str(path),
            str(events),
            "1" if flush_each else "0",
        ],
        env={**os.environ, "PYTHONPATH": str(source)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def render(
    results: dict[tuple[int, int, bool], dict[Path, list[float]]],
    sources: Sequence[Path],
    rounds: int,
) -> str:
    """Return the Markdown report: the median events/s of each source."""
    names = [source.name or str(source) for source in sources]
    rows = [
        ["processes", "events each", "writes", *names],
        ["---"] * (3 + len(names)),
    ]
    for (processes, events, flush_each), by_source in results.items():
        rates = [f"{statistics.median(by_source[source]):,.0f}" for source in sources]
        writes = "one per event" if flush_each else "batched"
        rows.append([str(processes), f"{events:,}", writes, *rates])

    header = [
        "## Several processes, one file",
        "",
        f"Machine: {machine_line()}.",
        "",
        f"Median events/s over {rounds} interleaved round(s).",
        "",
    ]
    return "\n".join(header + ["| " + " | ".join(row) + " |" for row in rows])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.processes", description=__doc__.partition("\n")[0]
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds (default 3)")
    parser.add_argument(
        "--quick", action="store_true", help="two small configurations, one round"
    )
    parser.add_argument(
        "--source",
        action="append",
        type=Path,
        default=[],
        metavar="DIR",
        help="another checkout to run in the same rounds (repeatable)",
    )
    args = parser.parse_args(argv)

    sources = [ROOT, *(source.resolve() for source in args.source)]
    configs = QUICK_CONFIGS if args.quick else CONFIGS
    rounds = 1 if args.quick else args.rounds
    results: dict[tuple[int, int, bool], dict[Path, list[float]]] = {}
    for config in configs:
        results[config] = defaultdict(list)
        for index in range(rounds):
            for source in sources:
                rate = run_once(source, *config)
                results[config][source].append(rate)
                print(
                    f"{config} round {index + 1}/{rounds} {source.name}: "
                    f"{rate:,.0f} events/s",
                    file=sys.stderr,
                    flush=True,
                )
    print(render(results, sources, rounds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
