"""Tests for eval.casefile: loading and validating cases files."""

from __future__ import annotations

from pathlib import Path

import pytest

from eval.casefile import Case, check_unique_ids, load_cases, parse_case

BUNDLED = Path(__file__).parents[1] / "eval" / "cases.jsonl"


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_load_cases_reads_every_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '{"id": "a", "input": "x", "expected": 1, "tags": ["t"], "cluster": "c"}',
    )

    assert load_cases(path) == [Case("a", "x", 1, ("t",), "c")]


def test_load_cases_defaults_optional_fields(tmp_path: Path) -> None:
    path = write(tmp_path, '{"id": "a", "input": {"q": 1}}')

    assert load_cases(path) == [Case("a", {"q": 1}, None, (), None)]


def test_load_cases_skips_blank_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path, '{"id": "a", "input": 1}', "", "  ", '{"id": "b", "input": 2}'
    )

    assert [case.id for case in load_cases(path)] == ["a", "b"]


def test_load_cases_rejects_invalid_json(tmp_path: Path) -> None:
    path = write(tmp_path, '{"id": "a", "input": 1}', "{id: b}")

    with pytest.raises(ValueError) as caught:
        load_cases(path)

    assert str(caught.value) == (
        f"{path}:2: invalid JSON (Expecting property name enclosed in double quotes "
        "at column 2); write one JSON object per line"
    )


def test_load_cases_rejects_missing_id(tmp_path: Path) -> None:
    path = write(tmp_path, '{"input": 1}')

    with pytest.raises(ValueError) as caught:
        load_cases(path)

    assert (
        str(caught.value)
        == f'{path}:1: missing "id"; every case needs "id" and "input"'
    )


def test_load_cases_rejects_missing_input(tmp_path: Path) -> None:
    path = write(tmp_path, '{"id": "a"}')

    with pytest.raises(ValueError) as caught:
        load_cases(path)

    assert (
        str(caught.value)
        == f'{path}:1: missing "input"; every case needs "id" and "input"'
    )


def test_load_cases_rejects_duplicate_id(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '{"id": "a", "input": 1}',
        '{"id": "b", "input": 2}',
        '{"id": "a", "input": 3}',
    )

    with pytest.raises(ValueError) as caught:
        load_cases(path)

    assert str(caught.value) == (
        f"{path}:3: duplicate id 'a', first used on line 1; give every case a unique id"
    )


def test_load_cases_rejects_non_object(tmp_path: Path) -> None:
    path = write(tmp_path, '["a", 1]')

    with pytest.raises(ValueError) as caught:
        load_cases(path)

    assert str(caught.value) == (
        f"{path}:1: a case must be a JSON object, got list; "
        'write {"id": ..., "input": ...}'
    )


def test_load_cases_rejects_empty_file(tmp_path: Path) -> None:
    path = write(tmp_path, "")

    with pytest.raises(ValueError) as caught:
        load_cases(path)

    assert (
        str(caught.value) == f"{path} contains no cases; write one JSON object per line"
    )


def test_load_cases_missing_file_raises(tmp_path: Path) -> None:
    path = tmp_path / "absent.jsonl"

    with pytest.raises(FileNotFoundError) as caught:
        load_cases(path)

    assert str(caught.value) == (
        f"cases file '{path}' not found; pass an existing JSONL file of cases"
    )


def test_load_cases_folder_raises(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError) as caught:
        load_cases(tmp_path)

    assert str(caught.value) == (
        f"cases file '{tmp_path}' is a folder; pass a JSONL file of cases"
    )


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"id": "", "input": 1}, "case: \"id\" must be a non-empty string, got ''"),
        ({"id": 7, "input": 1}, 'case: "id" must be a non-empty string, got 7'),
        (
            {"id": "a", "input": 1, "tags": "easy"},
            "case: \"tags\" must be a list of strings, got 'easy'",
        ),
        (
            {"id": "a", "input": 1, "tags": [1]},
            'case: "tags" must be a list of strings, got [1]',
        ),
        (
            {"id": "a", "input": 1, "cluster": 3},
            'case: "cluster" must be a string, got 3',
        ),
    ],
)
def test_parse_case_rejects_bad_field(record: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_case(record)

    assert str(caught.value) == message


def test_check_unique_ids_rejects_repeat() -> None:
    cases = [Case("a", 1), Case("a", 2)]

    with pytest.raises(
        ValueError, match=r"^case id 'a' is used twice; give every case a unique id$"
    ):
        check_unique_ids(cases)


def test_bundled_cases_are_valid() -> None:
    cases = load_cases(BUNDLED)

    assert len(cases) >= 120
    assert all(case.cluster for case in cases)
    assert all(case.tags for case in cases)


def test_bundled_clusters_group_several_cases() -> None:
    cases = load_cases(BUNDLED)

    sizes: dict[str | None, int] = {}
    for case in cases:
        sizes[case.cluster] = sizes.get(case.cluster, 0) + 1

    assert min(sizes.values()) >= 3
