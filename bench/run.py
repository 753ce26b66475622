"""Benchmark agent-telemetry against the loggers a user would pick instead.

Run ``python -m bench.run`` for the full benchmark (about 25 minutes on two cores)
or ``python -m bench.run --quick`` for a run of under a minute. The Markdown report
goes to stdout and progress to stderr. Every contender runs once per round in a
fresh process, contenders interleaved and their order rotated between rounds.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import orjson

from telemetry import LoggerSettings
from telemetry._event import CORE_FIELDS

from .contenders import (
    CONTENDERS,
    FAST_ENCODERS,
    encoder_costs,
    make_contender,
)
from .report import REFERENCE, Targets, render, summarize
from .workloads import FULL, QUICK, RunResult, Workload, field_pool

__all__ = ["check_file", "machine_line", "main"]

_ROOT = Path(__file__).resolve().parent.parent

_PACKAGES = (
    "orjson",
    "anyio",
    "msgspec",
    "aiofiles",
    "aiologger",
    "loguru",
    "picologging",
    "structlog",
    "trio",
)

_GRACE_S = {True: 20.0, False: 120.0}
"""Seconds a run may take beyond its cap (quick, full) before it is killed."""

_UNCAPPED_S = {True: 30.0, False: 120.0}
"""Seconds an uncapped run may take (quick, full) before it is killed."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the Markdown report."""
    args = _parse(argv)
    workloads = _select_workloads(args.workload, args.quick)
    names = _select_contenders(args.only)
    settings = dict(_parse_setting(text) for text in args.set)
    repeats = args.repeats or (1 if args.quick else 3)

    costs = encoder_costs(FAST_ENCODERS, field_pool())
    fast = min(costs, key=costs.__getitem__)
    results = []
    line_bytes: list[float] = []
    for workload in workloads:
        # A contender killed once (hung) is not run again on this workload.
        killed: set[str] = set()
        for index in range(repeats):
            shift = index % len(names)
            for name in names[shift:] + names[:shift]:
                if name in killed or not _supports(name, workload, args.backend):
                    continue
                result, check, size = _run_one(name, workload, args, fast, settings)
                results.append((index, result, check))
                if result.error and result.error.startswith("killed"):
                    killed.add(name)
                if name == "telemetry" and size:
                    line_bytes.append(size)
                _progress(workload, index, repeats, result, check)

    report = _report(args, workloads, names, results, costs, fast, settings, line_bytes)
    print(report)
    if args.output:
        Path(args.output).write_text(report, encoding="utf-8")
    return 0


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description="Benchmark agent-telemetry against other Python loggers.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer events and one round; finishes in under a minute",
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help=f"run only this contender (repeatable): {', '.join(CONTENDERS)}; "
        f"{REFERENCE} always runs, as the reference",
    )
    parser.add_argument(
        "--workload",
        action="append",
        default=[],
        choices=sorted(FULL),
        help="run only this workload (repeatable)",
    )
    parser.add_argument(
        "--repeats", type=int, default=0, help="rounds (default 3, or 1 with --quick)"
    )
    parser.add_argument(
        "--backend",
        choices=("asyncio", "trio"),
        default="asyncio",
        help="event loop of the async workloads; asyncio-only peers skip trio",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a LoggerSettings field for telemetry, e.g. batch_size=256",
    )
    parser.add_argument("--output", metavar="FILE", help="also write the report here")
    return parser.parse_args(argv)


def _select_workloads(keys: Sequence[str], quick: bool) -> list[Workload]:
    table = QUICK if quick else FULL
    return [table[key] for key in sorted(table) if not keys or key in keys]


def _select_contenders(only: Sequence[str]) -> list[str]:
    unknown = [name for name in only if name not in CONTENDERS]
    if unknown:
        raise SystemExit(
            f"--only must name a contender ({', '.join(CONTENDERS)}), "
            f"got {unknown[0]!r}"
        )
    if not only:
        return list(CONTENDERS)
    return [name for name in CONTENDERS if name in only or name == REFERENCE]


def _parse_setting(text: str) -> tuple[str, object]:
    name, sep, raw = text.partition("=")
    fields = {field.name for field in dataclasses.fields(LoggerSettings)}
    if not sep or name not in fields:
        raise SystemExit(
            f"--set must be KEY=VALUE with KEY a LoggerSettings field, got {text!r}"
        )
    value: object = raw
    for kind in (int, float):
        try:
            value = kind(raw)
            break
        except ValueError:
            continue
    LoggerSettings().replace(**{name: value})
    return name, value


def _supports(name: str, workload: Workload, backend: str) -> bool:
    contender = make_contender(name)
    if workload.threads:
        return contender.has_sync
    return backend in contender.backends


def _run_one(
    name: str,
    workload: Workload,
    args: argparse.Namespace,
    fast: str,
    settings: dict[str, object],
) -> tuple[RunResult, str, float]:
    """Run one contender on one workload in a fresh process; check its file."""
    folder = Path(tempfile.mkdtemp(prefix="agent-telemetry-bench-"))
    path = folder / "events.jsonl"
    spec = {
        "contender": name,
        "workload": dataclasses.asdict(workload),
        "path": str(path),
        "backend": args.backend,
        "fast_encoder": fast,
        "settings": settings if name == "telemetry" else {},
    }
    if workload.cap_s is None:
        timeout = _UNCAPPED_S[args.quick]
    else:
        timeout = workload.cap_s + _GRACE_S[args.quick]
    backend = "threads" if workload.threads else args.backend
    killed = False
    try:
        result = _spawn(spec, timeout)
    except subprocess.TimeoutExpired:
        killed = True
        result = RunResult(name, workload.key, backend, planned=workload.events)
    except (RuntimeError, ValueError) as exc:
        result = RunResult(name, workload.key, backend, planned=workload.events)
        result.error = str(exc)

    try:
        check, size = check_file(path, result.events)
        if killed:
            lines = _scan(path)[0]
            result.error = f"killed after {timeout:g} s with {lines:,} lines on disk"
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return result, check, size


def _spawn(spec: dict[str, object], timeout: float) -> RunResult:
    command = [sys.executable, "-m", "bench.workloads", json.dumps(spec)]
    done = subprocess.run(
        command, cwd=_ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"exit status {done.returncode}: {tail[0]}")
    return RunResult(**json.loads(lines[-1]))


def check_file(path: Path, expected: int) -> tuple[str, float]:
    """Check that ``path`` contains exactly ``expected`` valid event lines.

    A valid line is one strict JSON object, newline-terminated, whose keys are the
    nine core fields in order.

    Returns:
        "ok" or what is wrong, and the mean bytes per line.
    """
    if not path.exists():
        return ("ok" if expected == 0 else "no file"), 0.0
    lines, valid, size = _scan(path)
    mean = size / lines if lines else 0.0
    if lines == valid == expected:
        return "ok", mean
    return f"{valid:,} valid of {lines:,} lines, {expected:,} logged", mean


def _scan(path: Path) -> tuple[int, int, int]:
    """Return the lines, valid lines and bytes in ``path`` (zeros when absent)."""
    lines = valid = size = 0
    if not path.exists():
        return lines, valid, size
    with open(path, "rb") as file:
        for line in file:
            lines += 1
            size += len(line)
            valid += _valid_line(line)
    return lines, valid, size


def _valid_line(line: bytes) -> bool:
    if not line.endswith(b"\n"):
        return False
    try:
        event = orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    return isinstance(event, dict) and tuple(event) == CORE_FIELDS


def _progress(
    workload: Workload, index: int, repeats: int, result: RunResult, check: str
) -> None:
    status = result.error or check
    print(
        f"({workload.key}) round {index + 1}/{repeats} {result.contender:12s} "
        f"{result.throughput:12,.0f} events/s  p99 {result.p99_us:9.1f} µs  "
        f"{status}",
        file=sys.stderr,
        flush=True,
    )


def _report(
    args: argparse.Namespace,
    workloads: Sequence[Workload],
    names: Sequence[str],
    results: list[tuple[int, RunResult, str]],
    costs: dict[str, float],
    fast: str,
    settings: dict[str, object],
    line_bytes: list[float],
) -> str:
    queue_size = LoggerSettings().replace(**settings).queue_size
    targets = Targets(queue_size=queue_size) if "telemetry" in names else None
    mean_line = sum(line_bytes) / len(line_bytes) if line_bytes else 250.0
    encoders = ", ".join(f"{name} {cost:.2f} µs" for name, cost in costs.items())
    mode = "quick" if args.quick else "full"
    rounds = args.repeats or (1 if args.quick else 3)
    header = [
        "## Results",
        "",
        f"Machine: {machine_line()}.",
        "",
        f"Run: {mode}, {rounds} round(s), async workloads on {args.backend}. "
        f"Building and encoding one event: {encoders}; the fast floor uses {fast}.",
    ]
    if settings:
        changed = ", ".join(f"{key}={value}" for key, value in settings.items())
        header.append(f"telemetry settings changed from the defaults: {changed}.")
    tables = render(summarize(results), workloads, names, targets, mean_line)
    return "\n".join(header) + "\n\n" + tables


def machine_line() -> str:
    """Describe the CPU, Python and package versions, and today's date (UTC)."""
    versions = []
    for package in _PACKAGES:
        try:
            versions.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{package} absent")
    today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    return (
        f"{_cpu_model()}, {os.cpu_count()} cores, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}; "
        f"{', '.join(versions)}; {today}"
    )


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


if __name__ == "__main__":
    raise SystemExit(main())
