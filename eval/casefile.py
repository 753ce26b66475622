"""Eval cases and the JSONL files that hold them.

A cases file has one JSON object per line::

    {"id": "arith-1", "input": "Ana has 12 apples ...", "expected": 19,
     "tags": ["arithmetic", "easy"], "cluster": "story-ana"}

Two keys are required: ``id``, a unique non-empty string, and ``input``, any JSON
value, passed to the agent as is. Three are optional: ``expected``, any JSON value,
passed to the reward function; ``tags``, a list of strings; and ``cluster``, a
string that groups related cases. Other keys are ignored, and so are blank lines.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

__all__ = ["Case", "check_unique_ids", "load_cases", "parse_case"]


@dataclass(frozen=True)
class Case:
    """One eval case.

    Attributes:
        id: Unique id, logged as ``case_id`` so runs of two agents can be paired.
        input: The value passed to the agent.
        expected: The reference output given to the reward function, or None.
        tags: Labels logged with every run of the case.
        cluster: Name of a group of related cases, or None.
    """

    id: str
    input: Any
    expected: Any = None
    tags: tuple[str, ...] = ()
    cluster: str | None = None


def load_cases(path: str | os.PathLike[str]) -> list[Case]:
    """Read and validate every case in a JSONL file.

    Args:
        path: The cases file.

    Returns:
        The cases in file order.

    Raises:
        FileNotFoundError: If the file does not exist.
        IsADirectoryError: If the path is a folder.
        ValueError: If a line is not a valid case or an id repeats; the message
            names the file, the line number and the fix.
    """
    path = Path(path)
    cases: list[Case] = []
    first_line: dict[str, int] = {}

    with _open_cases(path) as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue

            where = f"{path}:{number}"
            case = parse_case(_decode(line, where), where)
            if case.id in first_line:
                raise ValueError(
                    f"{where}: duplicate id {case.id!r}, first used on line "
                    f"{first_line[case.id]}; give every case a unique id"
                )

            first_line[case.id] = number
            cases.append(case)

    if not cases:
        raise ValueError(f"{path} contains no cases; write one JSON object per line")
    return cases


def _open_cases(path: Path) -> TextIO:
    try:
        return path.open(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(
            f"cases file {str(path)!r} not found; pass an existing JSONL file of cases"
        ) from None
    except IsADirectoryError:
        raise IsADirectoryError(
            f"cases file {str(path)!r} is a folder; pass a JSONL file of cases"
        ) from None


def parse_case(record: Any, where: str = "case") -> Case:
    """Build a case from one decoded JSON object.

    Args:
        record: The decoded line.
        where: Prefix for error messages, e.g. ``"cases.jsonl:3"``.

    Raises:
        ValueError: If the record is not an object, lacks ``id`` or ``input``, or
            has a field of the wrong type.
    """
    if not isinstance(record, Mapping):
        raise ValueError(
            f"{where}: a case must be a JSON object, got {type(record).__name__}; "
            'write {"id": ..., "input": ...}'
        )

    for key in ("id", "input"):
        if key not in record:
            raise ValueError(
                f'{where}: missing "{key}"; every case needs "id" and "input"'
            )

    case_id = record["id"]
    if not isinstance(case_id, str) or not case_id:
        raise ValueError(f'{where}: "id" must be a non-empty string, got {case_id!r}')

    return Case(
        id=case_id,
        input=record["input"],
        expected=record.get("expected"),
        tags=_tags(record.get("tags", []), where),
        cluster=_cluster(record.get("cluster"), where),
    )


def _decode(line: str, where: str) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{where}: invalid JSON ({exc.msg} at column {exc.colno}); "
            "write one JSON object per line"
        ) from None


def _tags(tags: Any, where: str) -> tuple[str, ...]:
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ValueError(f'{where}: "tags" must be a list of strings, got {tags!r}')
    return tuple(tags)


def _cluster(cluster: Any, where: str) -> str | None:
    if cluster is not None and not isinstance(cluster, str):
        raise ValueError(f'{where}: "cluster" must be a string, got {cluster!r}')
    return cluster


def check_unique_ids(cases: Iterable[Case]) -> None:
    """Raise ValueError if two cases share an id."""
    seen: set[str] = set()
    for case in cases:
        if case.id in seen:
            raise ValueError(
                f"case id {case.id!r} is used twice; give every case a unique id"
            )
        seen.add(case.id)
