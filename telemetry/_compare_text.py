"""Render comparisons as text, and the command-line pieces compare and retire share."""

from __future__ import annotations

import argparse
from collections.abc import Collection
from datetime import datetime
from typing import TYPE_CHECKING, NoReturn

import numpy as np

from telemetry import statistics as st
from telemetry._cli import DEFAULT_PATH, format_number, log_paths, plural
from telemetry.logread import parse_instant

if TYPE_CHECKING:
    from telemetry.compare import Comparison, PairComparison

__all__ = [
    "DEFAULT_PATH",
    "OneLineParser",
    "format_comparison",
    "format_p",
    "format_table",
    "instant",
    "log_paths",
]


class OneLineParser(argparse.ArgumentParser):
    """Argument parser whose errors are one line, as for a missing file."""

    def error(self, message: str) -> NoReturn:
        """Print the message on one line and exit with status 2."""
        self.exit(2, f"{self.prog}: error: {message}\n")


def instant(text: str) -> datetime:
    """Parse a --since/--until value: a duration ago (2h, 7d) or ISO-8601."""
    try:
        return parse_instant(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def format_table(rows: list[list[str]], left: Collection[int] = (0,)) -> list[str]:
    """Align rows into columns, left-aligning the columns numbered in left."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [
            cell.ljust(width) if i in left else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return lines


def format_p(value: float | None) -> str:
    """Format a p-value to 3 decimals, or as <0.001."""
    if value is None:
        return "-"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def format_comparison(result: Comparison) -> str:
    """Render a comparison as two aligned tables and a few lines of notes."""
    confidence = f"{result.options.confidence:.0%}"
    mode = "sequential" if result.sequential else "fixed-horizon"
    against = f"baseline {result.baseline}" if result.baseline else "all pairs"
    lines = [
        f"{len(result.groups)} groups by {result.key}, {plural(result.runs, 'run')}, "
        f"{against}, {mode} tests",
        "",
        *format_table(_group_rows(result, confidence)),
        "",
        *format_table(_pair_rows(result, confidence)),
        "",
        *_notes(result, confidence),
    ]
    return "\n".join(lines)


def _group_rows(result: Comparison, confidence: str) -> list[list[str]]:
    rows = [
        [
            result.key,
            "runs",
            "cases",
            "reward",
            f"error rate [{confidence} CI]",
            "p50 ms [CI]",
            "p95 ms [CI]",
            "USD/run",
            "reward/USD",
        ]
    ]
    for g in result.groups:
        error_rate = (
            f"{g.error_rate:.1%} "
            f"[{g.error_interval.low:.1%}, {g.error_interval.high:.1%}]"
        )
        rows.append(
            [
                g.name,
                str(g.runs),
                str(g.cases),
                _fixed(g.mean_reward, 3),
                error_rate,
                _quantile(g.latency_p50_ms),
                _quantile(g.latency_p95_ms),
                _significant(g.cost_per_run_usd),
                _significant(g.reward_per_usd),
            ]
        )
    return rows


def _pair_rows(result: Comparison, confidence: str) -> list[list[str]]:
    kind = "CS" if result.sequential else "CI"
    header = ["comparison", "design", "n", f"Δreward [{confidence} {kind}]"]
    header += ["excludes 0"] if result.sequential else ["p (Holm)"]
    header += ["reward", "pass +/-", "pass p (Holm)", "ΔUSD/run"]
    header += [f"cases for ±{result.options.min_effect:g}"]
    rows = [header]
    for p in result.pairs:
        design = _design(p, result.sequential)
        row = [f"{p.treatment} vs {p.baseline}", design, str(p.cases)]
        if result.sequential:
            row += [_interval(p.sequence), _yes_no(result.reward_differs(p))]
        else:
            row += [_interval(p.reward), format_p(p.reward_p_holm)]
        row += [_direction(result, p), _passes(p), format_p(p.pass_p_holm)]
        row += [_signed(p.cost), _fixed(p.required_cases, 0)]
        rows.append(row)
    return rows


def _notes(result: Comparison, confidence: str) -> list[str]:
    options = result.options
    alpha = 1 - options.confidence
    lines = [
        "Δ is first minus second. n: cases with a reward in both (paired) or "
        "runs with a reward (unpaired).",
        "Intervals are per comparison; p (Holm) is adjusted across comparisons.",
        "pass +/-: cases only the first passes / only the second passes (paired only).",
        f"cases for ±{options.min_effect:g}: cases (per group when unpaired) "
        f"needed to detect that reward difference with {options.power:.0%} "
        f"power at alpha {alpha:.2g}, given the observed variance.",
    ]
    if result.sequential:
        lines.append(
            f"CS: {confidence} confidence sequences, tuned for "
            f"{options.target_n} cases (paired) or runs per group (unpaired), "
            "valid however often the log is checked."
        )
    lines += [
        f"{p.treatment} vs {p.baseline}: {'; '.join(p.notes)}."
        for p in result.pairs
        if p.notes
    ]
    if result.skipped_note:
        lines.append(result.skipped_note)
    return lines


def _design(pair: PairComparison, sequential: bool) -> str:
    # Confidence sequences treat cases as independent, clusters or not.
    if pair.clusters and not sequential:
        return f"paired, {pair.clusters} clusters"
    return "paired" if pair.design == "paired by case" else pair.design


def _direction(result: Comparison, pair: PairComparison) -> str:
    differs = result.reward_differs(pair)
    estimate = pair.sequence if result.sequential else pair.reward
    if differs is None or estimate is None:
        return "-"
    if not differs:
        return "no clear difference"
    return "higher" if estimate.estimate > 0 else "lower"


def _interval(
    value: st.MeanDifference | st.ConfidenceSequence | st.TwoSampleSequence | None,
) -> str:
    if value is None:
        return "-"
    figures = (value.estimate, value.interval.low, value.interval.high)
    estimate, low, high = (format_number(f, "+.3f") for f in figures)
    return f"{estimate} [{low}, {high}]"


def _passes(pair: PairComparison) -> str:
    test = pair.pass_fail
    return "-" if test is None else f"{test.b}/{test.c}"


def _quantile(q: st.QuantileEstimate) -> str:
    figures = (q.estimate, q.interval.low, q.interval.high)
    estimate, low, high = (format_number(f, ".0f") for f in figures)
    return f"{estimate} [{low}, {high}]"


def _yes_no(value: bool | None) -> str:
    if value is None:
        return "-"
    return "yes" if value else "no"


def _fixed(value: float | None, digits: int) -> str:
    return "-" if value is None else format_number(value, f".{digits}f")


def _significant(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 1e15:
        # Positional form would print all 300 digits of a figure such as 1e300.
        return np.format_float_scientific(value, precision=2, trim="-")
    text = np.format_float_positional(value, precision=3, fractional=False, trim="-")
    return "0" if float(text) == 0 else text


def _signed(value: st.MeanDifference | None) -> str:
    if value is None:
        return "-"
    # Means of float prices differ by ~1e-20 where they are equal in truth, so a
    # difference under a trillionth of a dollar per run is shown as none.
    if abs(value.estimate) < 1e-12:
        return "0"
    sign = "-" if value.estimate < 0 else "+"
    return sign + _significant(abs(value.estimate))
