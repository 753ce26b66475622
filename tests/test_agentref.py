"""Tests for eval.agentref: resolving agent references."""

from __future__ import annotations

from typing import Any

import pytest

from eval.agentref import resolve_agent, resolve_agents


def test_resolve_agent_imports_reference() -> None:
    ref = resolve_agent("eval.agents.arithmetic:solve")

    assert ref.name == "arithmetic"
    assert ref.model == "small-model"
    assert not ref.is_async


def test_resolve_agent_detects_async_call() -> None:
    assert resolve_agent("eval.agents.flaky:solve").is_async


def test_resolve_agent_uses_name_prefix() -> None:
    assert resolve_agent("base=eval.agents.arithmetic:solve").name == "base"


def test_resolve_agent_names_plain_function_by_reference() -> None:
    assert resolve_agent("json:dumps").name == "json:dumps"


def test_resolve_agent_accepts_dotted_attribute() -> None:
    assert resolve_agent("eval.agents.arithmetic:solve.solve").name == (
        "eval.agents.arithmetic:solve.solve"
    )


def test_resolve_agent_wraps_callable() -> None:
    async def answer(value: Any) -> Any:
        return value

    ref = resolve_agent(answer)

    assert ref.name.endswith("answer")
    assert ref.is_async


def test_resolve_agent_rejects_missing_colon() -> None:
    with pytest.raises(ValueError) as caught:
        resolve_agent("eval.agents.arithmetic")

    assert str(caught.value) == (
        "agent 'eval.agents.arithmetic' must look like 'package.module:callable', "
        "e.g. 'eval.agents.arithmetic:solve'"
    )


def test_resolve_agent_rejects_unimportable_module() -> None:
    with pytest.raises(ValueError) as caught:
        resolve_agent("no_such_package.mod:fn")

    assert str(caught.value) == (
        "agent 'no_such_package.mod:fn': cannot import module 'no_such_package.mod' "
        "(ModuleNotFoundError: No module named 'no_such_package'); check the module "
        "path, and that the package is installed or its folder is on PYTHONPATH"
    )


def test_resolve_agent_rejects_missing_attribute() -> None:
    with pytest.raises(ValueError) as caught:
        resolve_agent("eval.agents.arithmetic:nope")

    assert str(caught.value) == (
        "agent 'eval.agents.arithmetic:nope': 'eval.agents.arithmetic' has no "
        "attribute 'nope'; check the name after the colon"
    )


def test_resolve_agent_rejects_non_callable() -> None:
    with pytest.raises(ValueError) as caught:
        resolve_agent("eval.agents.arithmetic:INSTRUCTIONS")

    assert str(caught.value) == (
        "agent 'eval.agents.arithmetic:INSTRUCTIONS': 'INSTRUCTIONS' is a str, not a "
        "callable; point at a function or a callable object"
    )


def test_resolve_agent_non_callable_int_says_an() -> None:
    with pytest.raises(ValueError) as caught:
        resolve_agent("sys:maxsize")

    assert str(caught.value) == (
        "agent 'sys:maxsize': 'maxsize' is an int, not a callable; point at a "
        "function or a callable object"
    )


def test_resolve_agent_rejects_two_argument_callable() -> None:
    with pytest.raises(ValueError) as caught:
        resolve_agent("eval.pricing:cost_usd")

    assert str(caught.value) == (
        "agent 'eval.pricing:cost_usd': callable with signature (model: 'str', "
        "tokens_in: 'int', tokens_out: 'int') -> 'float' cannot take one positional "
        "argument; accept the case input as its only required argument"
    )


def test_resolve_agent_rejects_zero_argument_callable() -> None:
    with pytest.raises(ValueError, match=r"cannot take one positional argument"):
        resolve_agent("telemetry:new_run_id")


def test_resolve_agents_rejects_duplicate_names() -> None:
    with pytest.raises(ValueError) as caught:
        resolve_agents(["eval.agents.arithmetic:solve", "eval.agents.arithmetic:solve"])

    assert str(caught.value) == (
        "agent name 'arithmetic' is used twice; give each agent its own name with "
        "NAME=package.module:callable"
    )


def test_resolve_agents_rejects_empty_list() -> None:
    with pytest.raises(ValueError) as caught:
        resolve_agents([])

    assert str(caught.value) == (
        "agents must be a non-empty list of 'package.module:callable' references or "
        "callables, got []"
    )
