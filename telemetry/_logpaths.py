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

_ROTATED = re.compile(r"^(?P<stem>.+)\.\d{8}T\d{12}Z(?P<suffix>\.[^.]+)?$")
"""Name of a rotated file: the live stem, a UTC stamp, then the live suffix."""


def expand_paths(paths: PathArg | Iterable[PathArg]) -> list[Path]:
    """Expand files and folders into the log files to read, oldest first.

    A file ``events.jsonl`` comes after its rotated siblings
    ``events.<YYYYmmddTHHMMSSffffff>Z.jsonl`` from the same folder, which come
    oldest first. Other names rotate as the logger names them: ``events.log``
    to ``events.<stamp>Z.log`` and ``events`` to ``events.<stamp>Z``. A
    folder expands to each of its ``*.jsonl`` sets in that order. A file named
    twice is read once.

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

    live = _live_parts(path)
    pattern = f"{glob.escape(live[0])}.*Z{glob.escape(live[1])}"
    siblings = [p for p in path.parent.glob(pattern) if _rotated_parts(p) == live]
    return [*sorted(siblings), path]


def _live_parts(path: Path) -> tuple[str, str]:
    """Return the stem and suffix of a live file, as the logger splits them."""
    if path.suffix:
        return path.stem, path.suffix
    return path.name, ""


def _rotated_parts(path: Path) -> tuple[str, str] | None:
    """Return the live stem and suffix a rotated file came from, or None."""
    match = _ROTATED.match(path.name)
    if match is None:
        return None
    return match["stem"], match["suffix"] or ""


def _reading_order(path: Path) -> tuple[str, int, str]:
    rotated = _rotated_parts(path)
    if rotated is not None:
        return (rotated[0], 0, path.name)
    return (_live_parts(path)[0], 1, path.name)
