"""Tests for telemetry._cli: what the command lines share."""

from __future__ import annotations

from pathlib import Path

import pytest

from telemetry._cli import format_number, log_paths, plural


@pytest.mark.parametrize(
    ("value", "spec", "expected"),
    [
        (-0.0001, ".3f", "0.000"),
        (-0.0001, "+.3f", "+0.000"),
        (-0.0, ".1%", "0.0%"),
        (-0.0, ".3g", "0"),
        (-0.0006, ".3f", "-0.001"),
        (0.25, "+.3f", "+0.250"),
        (-1e-20, ".3g", "-1e-20"),
    ],
)
def test_format_number_drops_negative_zero(
    value: float, spec: str, expected: str
) -> None:
    assert format_number(value, spec) == expected


@pytest.mark.parametrize(
    ("count", "expected"), [(0, "0 runs"), (1, "1 run"), (2, "2 runs")]
)
def test_plural_agrees_with_count(count: int, expected: str) -> None:
    assert plural(count, "run") == expected


def test_log_paths_keeps_named_files() -> None:
    assert log_paths(["a.jsonl", "logs"]) == ["a.jsonl", "logs"]


def test_log_paths_reads_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "events.jsonl"
    log.write_text("")
    monkeypatch.setenv("AGENT_TELEMETRY_PATH", str(log))

    assert log_paths([]) == [str(log)]


def test_log_paths_missing_default_hints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AGENT_TELEMETRY_PATH", raising=False)

    with pytest.raises(FileNotFoundError) as error:
        log_paths([])

    assert str(error.value) == (
        "log file 'telemetry/events.jsonl' not found; it is the default log, "
        f"relative to the working directory {tmp_path}; name a log file or folder "
        "as an argument, or set AGENT_TELEMETRY_PATH"
    )


def test_log_paths_missing_variable_path_hints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "absent.jsonl"
    monkeypatch.setenv("AGENT_TELEMETRY_PATH", str(missing))

    with pytest.raises(FileNotFoundError) as error:
        log_paths([])

    assert str(error.value) == (
        f"log file '{missing}' not found; it is the path AGENT_TELEMETRY_PATH "
        "names; fix AGENT_TELEMETRY_PATH or name a log file as an argument"
    )


def test_format_number_huge_uses_exponent() -> None:
    assert format_number(1e308, ".3f") == "1.000e+308"
