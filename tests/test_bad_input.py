"""Hostile arguments to log_event: each is rejected at the call or coerced as
documented, the file stays strict UTF-8 JSON, and the writer lives on.

A rejection is a TypeError or ValueError whose message names the field, the value
and the fix; the messages are pinned here. The documented coercions are: lone
surrogates in ``error`` and ``meta`` become U+FFFD, and ``error`` text over 8,192
characters is truncated with a marker.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Iterator
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from faults import FaultyOps, ledger_balances, read_strict_lines
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from telemetry import TelemetryLogger

BASE: dict[str, Any] = {"agent": "agent", "run_id": "run", "latency_ms": 1.0}
NUMBER_FIELDS = ("latency_ms", "cost_usd", "reward")
COUNT_FIELDS = ("tokens_in", "tokens_out", "repeat")
TEXT_FIELDS = ("agent", "run_id", "model", "parent_run_id", "case_id", "kind")
COUNT_NAMES = {
    "tokens_in": "the prompt token count",
    "tokens_out": "the completion token count",
    "repeat": "the repeat index",
}


class ReprRaises:
    """An object whose repr raises, as a broken proxy's might."""

    def __repr__(self) -> str:
        raise RuntimeError("repr failed")


class StrRaises(Exception):
    """An exception whose message cannot be formatted."""

    def __str__(self) -> str:
        raise RuntimeError("str failed")


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "events.jsonl"


@pytest.fixture
def log(path: Path) -> Iterator[TelemetryLogger]:
    """Return a logger that has already accepted one event, ``before``."""
    logger = TelemetryLogger(path)
    logger.log_event("before", "run", 1.0)
    yield logger
    logger.shutdown_sync(timeout=5)


def call(**changes: Any) -> dict[str, Any]:
    return {**BASE, **changes}


def finish(log: TelemetryLogger, path: Path) -> list[dict[str, Any]]:
    """Log ``after``, shut down, and return the strictly parsed lines."""
    log.log_event("after", "run", 1.0)
    assert log.shutdown_sync(timeout=5)
    assert ledger_balances(log.stats())
    return read_strict_lines(path)


def assert_rejected_and_survived(
    log: TelemetryLogger,
    path: Path,
    expected_type: type[Exception],
    message: str,
    /,
    **changes: Any,
) -> None:
    with pytest.raises(expected_type) as caught:
        log.log_event(**call(**changes))
    events = finish(log, path)

    assert str(caught.value) == message
    assert [event["agent"] for event in events] == ["before", "after"]


# --- NaN, infinities and bools in numeric fields -------------------------------------


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf], ids=repr)
@pytest.mark.parametrize("field", NUMBER_FIELDS)
def test_non_finite_number_rejected(
    log: TelemetryLogger, path: Path, field: str, value: float
) -> None:
    fixes = {
        "latency_ms": "pass the run's wall time in milliseconds",
        "cost_usd": "pass the run's cost in US dollars, or None if unknown",
        "reward": "pass the run's score, or None if it has none",
    }
    message = f"{field} must be a finite number, got {value!r}; {fixes[field]}"

    assert_rejected_and_survived(log, path, ValueError, message, **{field: value})


@pytest.mark.parametrize("value", [math.nan, math.inf], ids=repr)
@pytest.mark.parametrize("field", COUNT_FIELDS)
def test_non_finite_count_rejected(
    log: TelemetryLogger, path: Path, field: str, value: float
) -> None:
    message = (
        f"{field} must be an int >= 0 or None, got float {value!r}; "
        f"pass {COUNT_NAMES[field]} as an int"
    )

    assert_rejected_and_survived(log, path, TypeError, message, **{field: value})


@pytest.mark.parametrize("value", [math.nan, -math.inf], ids=repr)
def test_non_finite_meta_rejected(
    log: TelemetryLogger, path: Path, value: float
) -> None:
    message = (
        f"meta['deep'][1] must be a finite number, got {value!r}; JSON has no NaN "
        f"or Infinity, so log None or a string instead"
    )

    assert_rejected_and_survived(
        log, path, ValueError, message, meta={"deep": [0.5, value]}
    )


@pytest.mark.parametrize("field", NUMBER_FIELDS)
def test_bool_as_number_rejected(log: TelemetryLogger, path: Path, field: str) -> None:
    message = f"{field} must be an int or float, got bool True; convert it with float()"

    assert_rejected_and_survived(log, path, TypeError, message, **{field: True})


@pytest.mark.parametrize("field", COUNT_FIELDS)
def test_bool_as_count_rejected(log: TelemetryLogger, path: Path, field: str) -> None:
    message = (
        f"{field} must be an int >= 0 or None, got bool False; "
        f"pass {COUNT_NAMES[field]} as an int"
    )

    assert_rejected_and_survived(log, path, TypeError, message, **{field: False})


@pytest.mark.parametrize("field", NUMBER_FIELDS)
def test_negative_int_beyond_float_rejected(
    log: TelemetryLogger, path: Path, field: str
) -> None:
    message = (
        f"{field} must be a finite number, got an int of 1329 bits; log a float instead"
    )

    assert_rejected_and_survived(log, path, ValueError, message, **{field: -(10**400)})


@pytest.mark.parametrize("field", [*NUMBER_FIELDS, "tokens_in", "tokens_out", "repeat"])
def test_int_beyond_64_bits_rejected(
    log: TelemetryLogger, path: Path, field: str
) -> None:
    message = (
        f"{field} must fit in 64 bits, got an int of 65 bits; log it as a float or "
        f"a string instead"
    )

    assert_rejected_and_survived(log, path, ValueError, message, **{field: 2**64})


def test_int_beyond_64_bits_in_meta_rejected(log: TelemetryLogger, path: Path) -> None:
    message = (
        "meta['n'] must fit in 64 bits, got an int of 65 bits; log it as a float or a "
        "string instead"
    )

    assert_rejected_and_survived(log, path, ValueError, message, meta={"n": 2**64})


# --- wrong types ---------------------------------------------------------------------

WRONG_TYPES = [
    (
        "agent",
        b"agent",
        TypeError,
        "agent must be a non-empty string, got bytes b'agent'; pass the agent's name",
    ),
    (
        "run_id",
        42,
        TypeError,
        "run_id must be a non-empty string, got int 42; pass a fresh id from "
        "new_run_id()",
    ),
    (
        "latency_ms",
        "12",
        TypeError,
        "latency_ms must be an int or float, got str '12'; convert it with float()",
    ),
    (
        "cost_usd",
        [1],
        TypeError,
        "cost_usd must be an int or float, got list [1]; convert it with float()",
    ),
    (
        "reward",
        {},
        TypeError,
        "reward must be an int or float, got dict {}; convert it with float()",
    ),
    (
        "tokens_in",
        "3",
        TypeError,
        "tokens_in must be an int >= 0 or None, got str '3'; pass the prompt token "
        "count as an int",
    ),
    (
        "tokens_out",
        2.0,
        TypeError,
        "tokens_out must be an int >= 0 or None, got float 2.0; convert it with int()",
    ),
    (
        "error",
        ["x"],
        TypeError,
        "error must be a string, an exception or None, got list ['x']",
    ),
    (
        "model",
        3.5,
        TypeError,
        "model must be a non-empty string, got float 3.5; pass the model's name, "
        "or None",
    ),
    (
        "parent_run_id",
        b"r",
        TypeError,
        "parent_run_id must be a non-empty string, got bytes b'r'; pass the "
        "calling run's run_id, or None",
    ),
    (
        "case_id",
        7,
        TypeError,
        "case_id must be a non-empty string, got int 7; pass the eval case's id, "
        "or None",
    ),
    (
        "repeat",
        "1",
        TypeError,
        "repeat must be an int >= 0 or None, got str '1'; pass the repeat index as "
        "an int",
    ),
    ("repeat", -1, ValueError, "repeat must be >= 0, got -1; count repeats from 0"),
    ("tags", "a,b", TypeError, "tags must be a list of strings, got str 'a,b'"),
    ("tags", {"a": 1}, TypeError, "tags must be a list of strings, got dict {'a': 1}"),
    (
        "tags",
        ["a", 2],
        TypeError,
        "tags item must be a non-empty string, got int 2; pass each tag as a "
        "non-empty string",
    ),
    (
        "kind",
        ("decision",),
        TypeError,
        "kind must be a non-empty string, got tuple ('decision',); pass 'decision' "
        "for a verdict, or None for a run",
    ),
    (
        "meta",
        ["a"],
        TypeError,
        "meta must be a dict of JSON values (str, int, float, bool, None, list, "
        "dict), got list ['a']",
    ),
    ("meta", {1: "a"}, TypeError, "meta keys must be strings, got int 1"),
]


@pytest.mark.parametrize(
    ("field", "value", "error", "message"),
    WRONG_TYPES,
    ids=[f"{row[0]}-{type(row[1]).__name__}" for row in WRONG_TYPES],
)
def test_wrong_type_rejected(
    log: TelemetryLogger,
    path: Path,
    field: str,
    value: object,
    error: type[Exception],
    message: str,
) -> None:
    assert_rejected_and_survived(log, path, error, message, **{field: value})


IDENTIFIER_FIXES = {
    "agent": "pass the agent's name",
    "run_id": "pass a fresh id from new_run_id()",
    "model": "pass the model's name, or None",
    "parent_run_id": "pass the calling run's run_id, or None",
    "case_id": "pass the eval case's id, or None",
    "kind": "pass 'decision' for a verdict, or None for a run",
}


@pytest.mark.parametrize("field", ["agent", "run_id"])
def test_none_identifier_names_fix(
    log: TelemetryLogger, path: Path, field: str
) -> None:
    message = (
        f"{field} must be a non-empty string, got NoneType None; "
        f"{IDENTIFIER_FIXES[field]}"
    )

    assert_rejected_and_survived(log, path, TypeError, message, **{field: None})


@pytest.mark.parametrize("field", TEXT_FIELDS)
def test_empty_identifier_names_fix(
    log: TelemetryLogger, path: Path, field: str
) -> None:
    message = f"{field} must be a non-empty string, got ''; {IDENTIFIER_FIXES[field]}"

    assert_rejected_and_survived(log, path, ValueError, message, **{field: ""})


@pytest.mark.parametrize("value", [2.0, Fraction(5, 2)], ids=["float", "fraction"])
@pytest.mark.parametrize("field", COUNT_FIELDS)
def test_fractional_count_suggests_int(
    log: TelemetryLogger, path: Path, field: str, value: object
) -> None:
    message = (
        f"{field} must be an int >= 0 or None, got {type(value).__name__} "
        f"{value!r}; convert it with int()"
    )

    assert_rejected_and_survived(log, path, TypeError, message, **{field: value})


def test_huge_fraction_count_suggests_int(log: TelemetryLogger, path: Path) -> None:
    # Too large for a float, so the finiteness check behind the fix overflows.
    with pytest.raises(TypeError) as caught:
        log.log_event(**call(tokens_in=Fraction(10**400, 3)))
    events = finish(log, path)

    assert str(caught.value).startswith("tokens_in must be an int >= 0 or None, got ")
    assert str(caught.value).endswith("; convert it with int()")
    assert [event["agent"] for event in events] == ["before", "after"]


@pytest.mark.parametrize("field", ["tokens_in", "tokens_out"])
def test_negative_token_count_rejected(
    log: TelemetryLogger, path: Path, field: str
) -> None:
    message = (
        f"{field} must be >= 0, got -3; pass {COUNT_NAMES[field]}, or None if unknown"
    )

    assert_rejected_and_survived(log, path, ValueError, message, **{field: -3})


@pytest.mark.parametrize(
    "value",
    [{1, 2}, b"raw", object(), datetime(2026, 1, 1), 1j],
    ids=["set", "bytes", "object", "datetime", "complex"],
)
def test_unserializable_meta_rejected(
    log: TelemetryLogger, path: Path, value: object
) -> None:
    message = (
        f"meta['value'] must be a JSON value (str, int, float, bool, None, list, "
        f"dict), got {type(value).__name__} {value!r}; convert it to one of these "
        f"first"
    )

    assert_rejected_and_survived(log, path, TypeError, message, meta={"value": value})


def test_repr_raising_agent_rejected(log: TelemetryLogger, path: Path) -> None:
    message = (
        "agent must be a non-empty string, got a ReprRaises whose repr raised; "
        "pass the agent's name"
    )

    assert_rejected_and_survived(log, path, TypeError, message, agent=ReprRaises())


def test_repr_raising_meta_rejected(log: TelemetryLogger, path: Path) -> None:
    message = (
        "meta['x'] must be a JSON value (str, int, float, bool, None, list, dict), "
        "got a ReprRaises whose repr raised; convert it to one of these first"
    )

    assert_rejected_and_survived(
        log, path, TypeError, message, meta={"x": ReprRaises()}
    )


def test_unprintable_exception_recorded(log: TelemetryLogger, path: Path) -> None:
    log.log_event(**call(error=StrRaises()))
    events = finish(log, path)

    assert events[1]["error"] == "StrRaises: <unprintable StrRaises>"


# --- subclasses of the JSON types ----------------------------------------------------


class Label(str):
    """A str subclass, as enum-like label types often are."""


class Score(float):
    """A float subclass, as numpy.float64 is."""


def test_float_subclass_in_meta_stored_plain(log: TelemetryLogger, path: Path) -> None:
    log.log_event(**call(meta={"score": Score(0.25)}))
    events = finish(log, path)

    assert events[1]["meta"] == {"score": 0.25}


def test_str_subclass_meta_key_stored_plain(log: TelemetryLogger, path: Path) -> None:
    log.log_event(**call(meta={Label("label"): Label("value")}))
    events = finish(log, path)

    assert events[1]["meta"] == {"label": "value"}


def test_numpy_scalars_in_meta(log: TelemetryLogger, path: Path) -> None:
    numpy = pytest.importorskip("numpy")
    log.log_event(**call(reward=numpy.float64(0.5), meta={"p": numpy.float64(0.75)}))
    events = finish(log, path)

    assert events[1]["reward"] == 0.5
    assert events[1]["meta"] == {"p": 0.75}


# --- text: surrogates, control characters, length ------------------------------------


@pytest.mark.parametrize("field", TEXT_FIELDS)
def test_surrogate_in_identifier_rejected(
    log: TelemetryLogger, path: Path, field: str
) -> None:
    message = (
        f"{field} must not contain control characters or lone surrogates, "
        f"got 'a\\ud800b'"
    )

    assert_rejected_and_survived(log, path, ValueError, message, **{field: "a\ud800b"})


@pytest.mark.parametrize("field", TEXT_FIELDS)
def test_control_character_in_identifier_rejected(
    log: TelemetryLogger, path: Path, field: str
) -> None:
    message = (
        f"{field} must not contain control characters or lone surrogates, got 'a\\nb'"
    )

    assert_rejected_and_survived(log, path, ValueError, message, **{field: "a\nb"})


@pytest.mark.parametrize("field", TEXT_FIELDS)
def test_long_identifier_rejected(log: TelemetryLogger, path: Path, field: str) -> None:
    message = (
        f"{field} must be at most 256 characters, got 257 characters: {'x' * 40!r}..."
    )

    assert_rejected_and_survived(log, path, ValueError, message, **{field: "x" * 257})


def test_surrogates_in_error_replaced(log: TelemetryLogger, path: Path) -> None:
    log.log_event(**call(error="bad \udc80 byte \ud83d"))
    events = finish(log, path)

    assert events[1]["error"] == "bad \ufffd byte \ufffd"


def test_surrogates_in_meta_replaced(log: TelemetryLogger, path: Path) -> None:
    log.log_event(**call(meta={"k\udfff": ["v\ud800", {"\udc00": "x"}]}))
    events = finish(log, path)

    assert events[1]["meta"] == {"k\ufffd": ["v\ufffd", {"\ufffd": "x"}]}


def test_control_characters_in_error_escaped(log: TelemetryLogger, path: Path) -> None:
    text = "line one\nline two\x00\x1b[31m\x7f"
    log.log_event(**call(error=text, meta={"raw": text}))
    events = finish(log, path)
    raw = path.read_bytes()

    assert events[1]["error"] == text
    assert events[1]["meta"] == {"raw": text}
    assert raw.count(b"\n") == 3


def test_long_error_truncated_with_marker(log: TelemetryLogger, path: Path) -> None:
    log.log_event(**call(error="e" * 10_000))
    events = finish(log, path)

    assert events[1]["error"] == "e" * 8192 + "... [truncated, 10000 characters in all]"


def test_long_exception_truncated_with_marker(log: TelemetryLogger, path: Path) -> None:
    log.log_event(**call(error=RuntimeError("x" * 9000)))
    events = finish(log, path)

    expected = ("RuntimeError: " + "x" * 9000)[:8192]
    assert events[1]["error"] == expected + "... [truncated, 9014 characters in all]"


def test_long_meta_string_kept_whole(log: TelemetryLogger, path: Path) -> None:
    log.log_event(**call(meta={"text": "m" * 100_000}))
    events = finish(log, path)

    assert events[1]["meta"]["text"] == "m" * 100_000


# --- nesting, size and mutation of meta ----------------------------------------------


def test_deep_meta_rejected(log: TelemetryLogger, path: Path) -> None:
    meta: dict[str, Any] = {}
    inner = meta
    for _ in range(40):
        inner["d"] = {}
        inner = inner["d"]
    where = "meta" + "['d']" * 32
    message = f"{where} is nested deeper than 32 levels; flatten meta"

    assert_rejected_and_survived(log, path, ValueError, message, meta=meta)


def test_meta_at_depth_limit_accepted(log: TelemetryLogger, path: Path) -> None:
    meta: dict[str, Any] = {}
    inner = meta
    for _ in range(31):
        inner["d"] = {}
        inner = inner["d"]
    log.log_event(**call(meta=meta))
    events = finish(log, path)

    assert events[1]["meta"] == meta


def test_self_referencing_meta_rejected(log: TelemetryLogger, path: Path) -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="is nested deeper than 32 levels"):
        log.log_event(**call(meta={"loop": loop}))
    events = finish(log, path)

    assert len(events) == 2


def test_huge_meta_rejected(log: TelemetryLogger, path: Path) -> None:
    meta = {f"key{index}": "v" * 1000 for index in range(2000)}
    with pytest.raises(ValueError) as caught:
        log.log_event(**call(meta=meta))
    events = finish(log, path)

    assert re.fullmatch(
        r"event is \d+ bytes encoded, over the limit of 1048576 bytes; shorten meta "
        r"or error, or raise max_event_bytes",
        str(caught.value),
    )
    assert len(events) == 2


def test_mutation_while_queued_not_logged(path: Path) -> None:
    ops = FaultyOps()
    ops.block_writes(30.0)
    log = TelemetryLogger(path, file_ops=ops)
    meta: dict[str, Any] = {"nested": {"list": [1]}, "n": 1}
    tags = ["first"]
    log.log_event(**call(meta=meta, tags=tags))
    assert ops.blocked.wait(5)
    log.log_event(**call(meta=meta, tags=tags))
    meta["nested"]["list"].append(2)
    meta["n"] = 2
    del meta["nested"]
    tags[0] = "changed"
    ops.release()
    assert log.shutdown_sync(timeout=5)
    events = read_strict_lines(path)

    assert [event["meta"] for event in events] == [
        {"nested": {"list": [1]}, "n": 1}
    ] * 2
    assert [event["tags"] for event in events] == [["first"]] * 2


def test_mutation_from_thread_never_tears_line(path: Path) -> None:
    meta: dict[str, Any] = {"items": list(range(50))}
    stop = threading.Event()

    def mutate() -> None:
        while not stop.is_set():
            meta["items"] = list(range(50))
            meta["extra"] = "x" * 10

    thread = threading.Thread(target=mutate)
    thread.start()
    accepted = 0
    try:
        with TelemetryLogger(path) as log:
            for _ in range(2000):
                try:
                    log.log_event(**call(meta=meta))
                except RuntimeError:
                    continue  # "dictionary changed size during iteration"
                accepted += 1
    finally:
        stop.set()
        thread.join()
    events = read_strict_lines(path)

    assert len(events) == accepted
    assert all(event["meta"]["items"] == list(range(50)) for event in events)


# --- fuzzing -------------------------------------------------------------------------

ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=20)
NAME = st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=30)
INT64 = st.integers(-(2**63), 2**63 - 1)
FINITE = st.floats(allow_nan=False, allow_infinity=False)
JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    ANY_TEXT,
    st.binary(max_size=4),
    st.lists(st.integers(), max_size=2),
)


def json_values(leaves: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        leaves,
        lambda children: st.one_of(
            st.lists(children, max_size=3),
            st.dictionaries(ANY_TEXT, children, max_size=3),
        ),
        max_leaves=10,
    )


VALID_META = st.dictionaries(
    ANY_TEXT,
    json_values(st.one_of(st.none(), st.booleans(), INT64, FINITE, ANY_TEXT)),
    max_size=4,
)
RISKY_META = st.dictionaries(
    ANY_TEXT,
    json_values(st.one_of(st.integers(), st.floats(), ANY_TEXT, st.binary())),
    max_size=4,
)


def mostly(
    valid: st.SearchStrategy[Any], bad: st.SearchStrategy[Any]
) -> st.SearchStrategy[Any]:
    """Draw from ``valid`` nine times in ten, else from ``bad``."""
    return st.integers(0, 9).flatmap(lambda roll: bad if roll == 0 else valid)


def argument_strategy() -> st.SearchStrategy[dict[str, Any]]:
    amounts = mostly(st.one_of(FINITE.map(abs), st.integers(0, 2**63 - 1)), JUNK)
    counts = mostly(
        st.integers(0, 2**63 - 1), st.one_of(st.integers(max_value=-1), JUNK)
    )
    return st.fixed_dictionaries(
        {
            "agent": mostly(NAME, JUNK),
            "run_id": mostly(NAME, JUNK),
            "latency_ms": amounts,
            "cost_usd": mostly(st.none(), amounts),
            "tokens_in": mostly(st.none(), counts),
            "tokens_out": counts,
            "error": mostly(st.one_of(st.none(), ANY_TEXT), JUNK),
            "reward": mostly(st.one_of(st.none(), FINITE, INT64), JUNK),
        },
        optional={
            "model": mostly(NAME, JUNK),
            "case_id": mostly(NAME, JUNK),
            "repeat": counts,
            "tags": mostly(st.lists(NAME, max_size=3), JUNK),
            "kind": mostly(NAME, JUNK),
            "meta": mostly(VALID_META, st.one_of(RISKY_META, JUNK)),
        },
    )


def replace_surrogates(value: Any) -> Any:
    """Apply the documented coercion of lone surrogates to U+FFFD."""
    if isinstance(value, str):
        return re.sub("[\ud800-\udfff]", "\ufffd", value)
    if isinstance(value, list):
        return [replace_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {replace_surrogates(k): replace_surrogates(v) for k, v in value.items()}
    return value


def expected_line(arguments: dict[str, Any]) -> dict[str, Any]:
    expected = {key: value for key, value in arguments.items() if value is not None}
    if "error" in expected:
        text = replace_surrogates(expected["error"])
        if len(text) > 8192:
            text = f"{text[:8192]}... [truncated, {len(text)} characters in all]"
        expected["error"] = text
    if "meta" in expected:
        expected["meta"] = replace_surrogates(expected["meta"])
    return expected


@pytest.mark.slow
def test_fuzzed_arguments_raise_or_round_trip(path: Path) -> None:
    log = TelemetryLogger(path)
    written = 0

    @settings(
        max_examples=400,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(arguments=argument_strategy())
    def check(arguments: dict[str, Any]) -> None:
        nonlocal written
        try:
            log.log_event(**arguments)
        except (TypeError, ValueError):
            return
        assert log.flush_sync(timeout=5)
        written += 1
        line = read_strict_lines(path)[-1]
        present = {key: value for key, value in line.items() if value is not None}

        assert present.pop("ts")
        assert present == expected_line(arguments)

    try:
        check()
    finally:
        log.shutdown_sync(timeout=5)

    assert written >= 50, "too few examples were valid to test the round trip"
    assert log.stats().written == written
    assert len(read_strict_lines(path)) == written
