"""Validate one event at the call and encode it as one JSON line.

Encoding happens on the caller's thread, at the call, for three reasons: a bad value
raises where the caller can see it, a ``meta`` dict the caller mutates afterwards
cannot change what was logged, and the writer thread holds the GIL only for a join
and a write, so the event loop is never starved by serialization.
"""

from __future__ import annotations

import math
import numbers
import operator
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

try:
    import orjson
except ImportError:  # pragma: no cover - exercised only without the dependency
    orjson = None  # type: ignore[assignment]

import json

__all__ = [
    "CORE_FIELDS",
    "EXTRA_FIELDS",
    "MAX_ERROR_CHARS",
    "MAX_ID_CHARS",
    "MAX_META_DEPTH",
    "encode_event",
    "format_ts",
]

CORE_FIELDS = (
    "ts",
    "agent",
    "run_id",
    "latency_ms",
    "cost_usd",
    "tokens_in",
    "tokens_out",
    "error",
    "reward",
)
"""The nine keys every line starts with, in this order, ``null`` when not given."""

EXTRA_FIELDS = ("model", "parent_run_id", "case_id", "repeat", "tags", "kind", "meta")
"""Optional keys written after the core ones, in this order, only when given."""

MAX_ID_CHARS = 256
"""Longest accepted ``agent``, ``run_id``, ``model``, ``parent_run_id``, ``case_id``."""

MAX_ERROR_CHARS = 8192
"""Longer ``error`` text is truncated to this many characters, with a marker."""

MAX_META_DEPTH = 32
"""Deepest accepted nesting of lists and dicts inside ``meta``."""

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_REPLACEMENT = "\ufffd"
_INF = math.inf

# ISO-8601 formatting of the whole-second part is cached: within one second only the
# microseconds change, so most calls pay for one integer format instead of a
# datetime construction.
_ts_second = -1
_ts_prefix = ""


def format_ts(epoch: float) -> str:
    """Format seconds since the epoch as ISO-8601 UTC with microseconds.

    The result always carries six fractional digits and ``+00:00``, for example
    ``2026-12-04T16:10:37.123456+00:00``.
    """
    global _ts_second, _ts_prefix

    micros = round(epoch * 1_000_000)
    second, micro = divmod(micros, 1_000_000)
    if second != _ts_second:
        prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        _ts_second, _ts_prefix = second, prefix
    return f"{_ts_prefix}.{micro:06d}+00:00"


def encode_event(
    epoch: float,
    agent: object,
    run_id: object,
    latency_ms: object,
    cost_usd: object,
    tokens_in: object,
    tokens_out: object,
    error: object,
    reward: object,
    extras: Mapping[str, object] | None,
    max_event_bytes: int,
) -> bytes:
    """Validate the fields of one event and return its JSON line, newline included.

    Raises:
        TypeError: a field has the wrong type.
        ValueError: a field has a value outside its range, or the encoded event is
            longer than ``max_event_bytes``.
    """
    # Each check is inlined for the common valid case and falls back to the helper,
    # which validates fully and raises, only when the value looks unusual. This
    # keeps a typical call under two microseconds.
    if not (
        type(agent) is str and 0 < len(agent) <= MAX_ID_CHARS and agent.isprintable()
    ):
        agent = _identifier("agent", agent)
    if not (
        type(run_id) is str and 0 < len(run_id) <= MAX_ID_CHARS and run_id.isprintable()
    ):
        run_id = _identifier("run_id", run_id)
    if not _is_plain_amount(latency_ms):
        latency_ms = _number("latency_ms", latency_ms, minimum=0.0)
    if cost_usd is not None and not _is_plain_amount(cost_usd):
        cost_usd = _number("cost_usd", cost_usd, minimum=0.0)
    if tokens_in is not None and not (type(tokens_in) is int and tokens_in >= 0):
        tokens_in = _token_count("tokens_in", tokens_in)
    if tokens_out is not None and not (type(tokens_out) is int and tokens_out >= 0):
        tokens_out = _token_count("tokens_out", tokens_out)
    if error is not None:
        error = _error_text(error)
    if reward is not None and not (type(reward) is float and _INF > reward > -_INF):
        reward = _optional_number("reward", reward, minimum=None)

    event: dict[str, Any] = {
        "ts": format_ts(epoch),
        "agent": agent,
        "run_id": run_id,
        "latency_ms": latency_ms,
        "cost_usd": cost_usd,
        "tokens_in": tokens_in,
        "tokens_out": tokens_out,
        "error": error,
        "reward": reward,
    }
    if extras:
        _add_extras(event, extras)

    line = _dumps(event)
    if len(line) > max_event_bytes:
        raise ValueError(
            f"event is {len(line)} bytes encoded, over the limit of "
            f"{max_event_bytes} bytes; shorten meta or error, or raise "
            f"max_event_bytes"
        )
    return line


def _is_plain_amount(value: object) -> bool:
    """Tell whether ``value`` is a plain int or float in [0, inf), NaN excluded."""
    kind = type(value)
    return (kind is float or kind is int) and 0 <= value < _INF  # type: ignore[operator]


def _dumps(event: dict[str, Any]) -> bytes:
    if orjson is not None:
        try:
            return orjson.dumps(event) + b"\n"
        except orjson.JSONEncodeError as exc:
            # Validation has ruled out every other cause; what is left is an int
            # outside the 64-bit range that strict JSON readers accept.
            raise ValueError(_encode_error(event, exc)) from None
    text = json.dumps(event, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.encode("utf-8") + b"\n"


def _encode_error(event: dict[str, Any], exc: Exception) -> str:
    for name, value in event.items():
        if type(value) is int and not -(2**63) <= value < 2**64:
            return (
                f"{name} must fit in 64 bits, got an int of {value.bit_length()} "
                f"bits; log it as a float or a string instead"
            )
    return (
        f"event could not be encoded as JSON ({exc}); integers must fit in 64 bits, "
        f"so log larger ones as strings"
    )


# --- core fields -------------------------------------------------------------------

# Fixes that end the error messages of the slow-path checks, by field name.
_IDENTIFIER_FIXES = {
    "agent": "pass the agent's name",
    "run_id": "pass a fresh id from new_run_id()",
    "model": "pass the model's name, or None",
    "parent_run_id": "pass the calling run's run_id, or None",
    "case_id": "pass the eval case's id, or None",
    "kind": "pass 'decision' for a verdict, or None for a run",
    "tags item": "pass each tag as a non-empty string",
}
_NUMBER_FIXES = {
    "latency_ms": "pass the run's wall time in milliseconds",
    "cost_usd": "pass the run's cost in US dollars, or None if unknown",
    "reward": "pass the run's score, or None if it has none",
}
_COUNT_NAMES = {
    "tokens_in": "the prompt token count",
    "tokens_out": "the completion token count",
    "repeat": "the repeat index",
}
_NEGATIVE_COUNT_FIXES = {
    "tokens_in": "pass the prompt token count, or None if unknown",
    "tokens_out": "pass the completion token count, or None if unknown",
    "repeat": "count repeats from 0",
}


def _identifier(name: str, value: object) -> str:
    if type(value) is not str:
        if not isinstance(value, str):
            raise TypeError(
                f"{name} must be a non-empty string, got {_describe(value)}; "
                f"{_IDENTIFIER_FIXES[name]}"
            )
        # The plain string content: str() of a (str, Enum) member is its name.
        value = str.__str__(value)

    if not value:
        raise ValueError(
            f"{name} must be a non-empty string, got ''; {_IDENTIFIER_FIXES[name]}"
        )
    if len(value) > MAX_ID_CHARS:
        raise ValueError(
            f"{name} must be at most {MAX_ID_CHARS} characters, got "
            f"{len(value)} characters: {value[:40]!r}..."
        )
    if not value.isprintable() and (_CONTROL.search(value) or _SURROGATE.search(value)):
        raise ValueError(
            f"{name} must not contain control characters or lone surrogates, "
            f"got {value!r}"
        )
    return value


def _number(name: str, value: object, minimum: float | None) -> float | int:
    kind = type(value)
    if kind is not int and kind is not float:
        value = _coerce_number(name, value)

    try:
        finite = math.isfinite(value)  # type: ignore[arg-type]
    except OverflowError:
        # An int beyond the float range; its repr may be too long to print.
        bits = value.bit_length()  # type: ignore[attr-defined]
        raise ValueError(
            f"{name} must be a finite number, got an int of {bits} bits; "
            f"log a float instead"
        ) from None
    if not finite:
        raise ValueError(
            f"{name} must be a finite number, got {value!r}; {_NUMBER_FIXES[name]}"
        )
    if minimum is not None and value < minimum:  # type: ignore[operator]
        raise ValueError(
            f"{name} must be a finite number >= 0, got {value!r}; {_NUMBER_FIXES[name]}"
        )
    return value  # type: ignore[return-value]


def _optional_number(name: str, value: object, minimum: float | None) -> float | None:
    if value is None:
        return None
    return _number(name, value, minimum)


def _coerce_number(name: str, value: object) -> float | int:
    # Other real numbers (numpy scalars, Fraction) are stored as plain ones; bool
    # is rejected because True in a latency column is always a bug.
    if value is None:
        raise TypeError(f"{name} is required: pass an int or float, got None")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{name} must be an int or float, got {_describe(value)}; convert it "
            f"with float()"
        )
    if isinstance(value, numbers.Integral):
        return operator.index(value)
    return float(value)


def _token_count(name: str, value: object) -> int | None:
    if value is None:
        return None
    if type(value) is not int:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(
                f"{name} must be an int >= 0 or None, got {_describe(value)}; "
                f"{_count_fix(name, value)}"
            )
        value = operator.index(value)
    if value < 0:
        raise ValueError(
            f"{name} must be >= 0, got {value!r}; {_NEGATIVE_COUNT_FIXES[name]}"
        )
    return value


def _count_fix(name: str, value: object) -> str:
    """Return the fix for a count that is not an int, for its error message."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        try:
            finite = math.isfinite(value)
        except OverflowError:
            # A Fraction beyond the float range: int() still converts it.
            finite = True
        if finite:
            return "convert it with int()"
    return f"pass {_COUNT_NAMES[name]} as an int"


def _error_text(error: object) -> str | None:
    if error is None:
        return None
    if isinstance(error, BaseException):
        text = _exception_text(error)
    elif isinstance(error, str):
        text = error
    else:
        raise TypeError(
            f"error must be a string, an exception or None, got {_describe(error)}"
        )
    return _clean_text(text, MAX_ERROR_CHARS)


def _exception_text(error: BaseException) -> str:
    name = type(error).__name__
    try:
        message = str(error)
    except Exception:
        message = f"<unprintable {name}>"
    return f"{name}: {message}" if message else name


def _clean_text(text: str, limit: int) -> str:
    """Return ``text`` with lone surrogates replaced and its length capped."""
    if not text.isascii() and _SURROGATE.search(text):
        text = _SURROGATE.sub(_REPLACEMENT, text)
    if len(text) > limit:
        text = f"{text[:limit]}... [truncated, {len(text)} characters in all]"
    return text


# --- optional fields ---------------------------------------------------------------


def _add_extras(event: dict[str, Any], extras: Mapping[str, object]) -> None:
    for name in EXTRA_FIELDS:
        value = extras.get(name)
        if value is None:
            continue
        if name in ("model", "parent_run_id", "case_id", "kind"):
            event[name] = _identifier(name, value)
        elif name == "repeat":
            event[name] = _token_count("repeat", value)
        elif name == "tags":
            event[name] = _tags(value)
        else:
            event[name] = _meta(value)


def _tags(value: object) -> list[str]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(f"tags must be a list of strings, got {_describe(value)}")
    return [_identifier("tags item", tag) for tag in value]


def _meta(value: object) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError(
            f"meta must be a dict of JSON values (str, int, float, bool, None, list, "
            f"dict), got {_describe(value)}"
        )
    copied: dict[str, Any] = _json_copy(value, "meta", 0)
    return copied


def _json_copy(value: object, where: str, depth: int) -> Any:
    """Copy a JSON-safe value, so later mutation by the caller cannot reach the log."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, numbers.Integral):
        # Any integer type (numpy's included) is stored as a plain int.
        value = operator.index(value)
        if not -(2**63) <= value < 2**64:
            raise ValueError(
                f"{where} must fit in 64 bits, got an int of {value.bit_length()} "
                f"bits; log it as a float or a string instead"
            )
        return value
    if isinstance(value, numbers.Real):
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(
                f"{where} must be a finite number, got {value!r}; JSON has no "
                f"NaN or Infinity, so log None or a string instead"
            )
        return number
    if isinstance(value, str):
        return _clean_text(str.__str__(value), len(value))
    if depth >= MAX_META_DEPTH:
        raise ValueError(
            f"{where} is nested deeper than {MAX_META_DEPTH} levels; flatten meta"
        )
    if isinstance(value, Mapping):
        return _copy_mapping(value, where, depth)
    if isinstance(value, (list, tuple)):
        return [
            _json_copy(item, f"{where}[{index}]", depth + 1)
            for index, item in enumerate(value)
        ]
    raise TypeError(
        f"{where} must be a JSON value (str, int, float, bool, None, list, dict), "
        f"got {_describe(value)}; convert it to one of these first"
    )


def _copy_mapping(value: Mapping[Any, Any], where: str, depth: int) -> dict[str, Any]:
    copied: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise TypeError(f"{where} keys must be strings, got {_describe(key)}")
        # The plain str content, which orjson takes as a key.
        key = _clean_text(str.__str__(key), len(key))
        if key in copied:
            raise ValueError(
                f"{where} has two keys equal to {key!r} once lone surrogates are "
                f"replaced with U+FFFD; rename one of them"
            )
        copied[key] = _json_copy(item, f"{where}[{key!r}]", depth + 1)
    return copied


def _describe(value: object) -> str:
    """Name the type and value of a rejected argument without trusting its repr."""
    kind = type(value).__name__
    try:
        text = repr(value)
    except Exception:
        return f"a {kind} whose repr raised"
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{kind} {text}"
