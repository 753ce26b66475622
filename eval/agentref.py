"""Resolve agent references such as ``"eval.agents.arithmetic:solve"``.

An agent is any callable that takes the case input as its one positional argument
and returns the output, or an `eval.agents.AgentResult` carrying usage too. It may
be a plain function, an ``async def`` function, or an object whose ``__call__`` is
either. A reference is written ``package.module:callable`` (the attribute may be
dotted, ``module:Class.method``), optionally prefixed by ``NAME=`` to choose the
name the agent is logged under.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Agent", "AgentRef", "is_async_agent", "resolve_agent", "resolve_agents"]

Agent = Callable[[Any], Any]
"""A callable taking one case input; sync or async."""

_REFERENCE = re.compile(
    r"^(?:(?P<name>[^=:]+)=)?(?P<module>[\w.]+):(?P<attribute>[\w.]+)$"
)


@dataclass(frozen=True)
class AgentRef:
    """A resolved agent.

    Attributes:
        name: Name logged as the event's ``agent``: the ``NAME=`` prefix if given,
            else the callable's ``agent_name`` attribute if it is a string, else
            the reference itself (or the callable's qualified name).
        call: The callable.
        is_async: Whether calling it returns a coroutine to await.
        model: The callable's ``model`` attribute if it is a string, logged when
            a call fails before reporting its model.
    """

    name: str
    call: Agent
    is_async: bool
    model: str | None = None


def resolve_agents(agents: Sequence[str | Agent]) -> list[AgentRef]:
    """Resolve references and callables, checking that names are distinct.

    Raises:
        ValueError: If the list is empty, a reference is invalid, or two agents
            would be logged under the same name.
    """
    if isinstance(agents, str) or not agents:
        raise ValueError(
            "agents must be a non-empty list of 'package.module:callable' "
            f"references or callables, got {agents!r}"
        )

    refs = [resolve_agent(agent) for agent in agents]

    seen: set[str] = set()
    for ref in refs:
        if ref.name in seen:
            raise ValueError(
                f"agent name {ref.name!r} is used twice; give each agent its own "
                "name with NAME=package.module:callable"
            )
        seen.add(ref.name)
    return refs


def resolve_agent(agent: str | Agent) -> AgentRef:
    """Import a reference, or wrap a callable, and check it takes one argument.

    Raises:
        ValueError: If the reference is malformed, its module fails to import,
            its attribute is missing, or the callable cannot take one positional
            argument. The message names the reference.
    """
    if isinstance(agent, str):
        name, call = _import_reference(agent)
    elif callable(agent):
        name, call = None, agent
        agent = _qualified_name(agent)
    else:
        raise ValueError(
            "agent must be a 'package.module:callable' reference or a callable, "
            f"got {agent!r}"
        )

    _check_signature(agent, call)

    own_name = getattr(call, "agent_name", None)
    model = getattr(call, "model", None)
    return AgentRef(
        name=name or (own_name if isinstance(own_name, str) else agent),
        call=call,
        is_async=is_async_agent(call),
        model=model if isinstance(model, str) else None,
    )


def _import_reference(reference: str) -> tuple[str | None, Agent]:
    match = _REFERENCE.match(reference.strip())
    if match is None:
        raise ValueError(
            f"agent {reference!r} must look like 'package.module:callable', "
            "e.g. 'eval.agents.arithmetic:solve'"
        )

    module_name, attribute = match["module"], match["attribute"]
    try:
        target: Any = importlib.import_module(module_name)
    except Exception as exc:
        raise ValueError(
            f"agent {reference!r}: cannot import module {module_name!r} "
            f"({type(exc).__name__}: {exc}); check the module path, and that the "
            "package is installed or its folder is on PYTHONPATH"
        ) from exc

    for part in attribute.split("."):
        if not hasattr(target, part):
            raise ValueError(
                f"agent {reference!r}: {module_name!r} has no attribute "
                f"{attribute!r}; check the name after the colon"
            )
        target = getattr(target, part)

    if not callable(target):
        kind = _article(type(target).__name__)
        raise ValueError(
            f"agent {reference!r}: {attribute!r} is {kind}, "
            "not a callable; point at a function or a callable object"
        )

    name = match["name"].strip() if match["name"] else None
    return name, target


def _check_signature(reference: str, call: Agent) -> None:
    try:
        signature = inspect.signature(call)
    except (TypeError, ValueError):
        # Some builtins have no introspectable signature; let the call decide.
        return

    try:
        signature.bind(None)
    except TypeError:
        raise ValueError(
            f"agent {reference!r}: callable with signature {signature} cannot take "
            "one positional argument; accept the case input as its only required "
            "argument"
        ) from None


def is_async_agent(call: Agent) -> bool:
    """Tell whether calling an agent returns a coroutine to await."""
    if inspect.iscoroutinefunction(call):
        return True
    # A callable object is async when its class defines an async __call__.
    dunder_call: object = type(call).__call__
    return inspect.iscoroutinefunction(dunder_call)


def _article(noun: str) -> str:
    """Return the noun after "a", or "an" before a vowel, as in "an int"."""
    return f"an {noun}" if noun[:1].lower() in "aeiou" else f"a {noun}"


def _qualified_name(call: Agent) -> str:
    name = getattr(call, "__qualname__", None) or type(call).__qualname__
    return str(name)
