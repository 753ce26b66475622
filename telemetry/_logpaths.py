"""Expand log paths into files in reading order, rotated siblings first."""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Union

__all__ = ["PathArg", "expand_paths"]

PathArg = Union[str, "os.PathLike[str]"]

_ROTATED = re.compile(r"^(?P<stem>.+)\.\d{8}T\d{12}Z\.jsonl$")


def expand_paths(paths: PathArg | Iterable[PathArg]) -> list[Path]:
    """Expand files and folders into the log files to read, oldest first.

    A file ``events.jsonl`` comes after its rotated siblings
    ``events.<YYYYmmddTHHMMSSffffff>Z.jsonl`` from the same folder, which come
    oldest first. A folder expands to each of its ``*.jsonl`` sets in that
    order. A file named twice is read once.

    Args:
        paths: One path or several.

    Returns:
        The files in reading order.

    Raises:
        FileNotFoundError: A path does not exist.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]

    result: list[Path] = []
    seen: set[Path] = set()
    for arg in paths:
        for path in _expand_one(Path(arg)):
            if path not in seen:
                seen.add(path)
                result.append(path)
    return result


def _expand_one(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(path.glob("*.jsonl"), key=_reading_order)
    if not path.exists():
        raise FileNotFoundError(
            f"log file {str(path)!r} not found; pass an existing file or folder"
        )
    if _ROTATED.match(path.name):
        return [path]

    stem = path.name.removesuffix(".jsonl")
    siblings = [
        p
        for p in path.parent.glob(f"{glob.escape(stem)}.*Z.jsonl")
        if (m := _ROTATED.match(p.name)) and m["stem"] == stem
    ]
    return [*sorted(siblings), path]


def _reading_order(path: Path) -> tuple[str, int, str]:
    match = _ROTATED.match(path.name)
    if match:
        return (match["stem"], 0, path.name)
    return (path.name.removesuffix(".jsonl"), 1, path.name)
