"""Render a summary as an aligned text table, JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import asdict, fields
from typing import Any

import orjson

from ._cli import format_number
from ._summary_groups import GroupSummary, Summary

__all__ = ["format_csv", "format_json", "format_table"]

_TABLE_HEADER = (
    "group",
    "runs",
    "err%",
    "p50",
    "p95",
    "p99",
    "max ms",
    "cost total",
    "cost/run",
    "tokens in/out",
    "reward mean [95% CI]",
)


def format_table(summary: Summary) -> str:
    """Return the summary as an aligned text table, then a skipped-lines line.

    Latencies are in ms and costs in USD. The last line, present only when
    lines were skipped, names their count, reasons and first locations.
    """
    rows = [_TABLE_HEADER, *(_table_row(group) for group in summary.groups)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_TABLE_HEADER))]
    lines = [
        "  ".join(
            cell.ljust(width) if i in (0, len(widths) - 1) else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]
    if not summary.groups:
        lines.append("(no runs)")
    skipped = summary.report.describe()
    if skipped:
        lines.append(skipped)
    return "\n".join(lines)


def _table_row(group: GroupSummary) -> tuple[str, ...]:
    return (
        group.group,
        str(group.runs),
        f"{100 * group.error_rate:.1f}",
        f"{group.latency_p50_ms:.1f}",
        f"{group.latency_p95_ms:.1f}",
        f"{group.latency_p99_ms:.1f}",
        f"{group.latency_max_ms:.1f}",
        _usd(group.cost_total_usd) if group.cost_count else "-",
        _usd(group.cost_mean_usd),
        _tokens(group.tokens_in, group.tokens_out),
        _reward(group),
    )


def _usd(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"${value:,.0f}"
    if value >= 1 or value == 0:
        return f"${value:.2f}"

    # Three significant digits without exponents: runs often cost < $0.01.
    decimals = 2 - math.floor(math.log10(value))
    return f"${value:.{decimals}f}"


def _tokens(tokens_in: int | None, tokens_out: int | None) -> str:
    if tokens_in is None and tokens_out is None:
        return "-"
    return f"{_count(tokens_in)}/{_count(tokens_out)}"


def _count(value: int | None) -> str:
    if value is None:
        return "-"
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= limit:
            return f"{value / limit:.1f}{suffix}"
    return str(value)


def _reward(group: GroupSummary) -> str:
    if group.reward_mean is None:
        return "-"
    mean = format_number(group.reward_mean, ".3f")
    if group.reward_ci_low is None or group.reward_ci_high is None:
        return mean
    low = format_number(group.reward_ci_low, ".3f")
    high = format_number(group.reward_ci_high, ".3f")
    return f"{mean} [{low}, {high}]"


def _record(group: GroupSummary) -> dict[str, Any]:
    record = asdict(group)
    record["first_ts"] = group.first_ts.isoformat()
    record["last_ts"] = group.last_ts.isoformat()
    return record


def format_json(summary: Summary) -> str:
    """Return the summary as one JSON object, skipped lines included."""
    report = summary.report
    groups = [_record(group) for group in summary.groups]
    document = {
        "by": summary.by,
        "groups": groups,
        "other_events": summary.other_events,
        "lines": report.lines,
        "skipped": report.skipped,
        "skipped_total": report.skipped_total,
        "first_skipped": [str(line) for line in report.first_skipped],
    }
    try:
        return orjson.dumps(document, option=orjson.OPT_INDENT_2).decode()
    except orjson.JSONEncodeError:
        # orjson rejects integers beyond 64 bits, which a token total can be.
        for record in groups:
            for name, value in record.items():
                if isinstance(value, float) and not math.isfinite(value):
                    record[name] = None
        return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False)


def format_csv(summary: Summary) -> str:
    """Return the groups as CSV with a header row; skipped lines are not in it."""
    buffer = io.StringIO()
    names = [field.name for field in fields(GroupSummary)]
    writer = csv.DictWriter(buffer, fieldnames=names, lineterminator="\n")
    writer.writeheader()
    writer.writerows(_record(group) for group in summary.groups)
    return buffer.getvalue()
