"""The digest that decides whether a sheet drawn from the records may be copied as it was."""

from __future__ import annotations

import pandas as pd
import pytest

from swat_xl.workbook.layout import sheet_key, sheet_keys

FIELDS = ["name", "attempt_1", "extra", "score"]


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "name": ["Ana", "Luis", "Eva"],
            "attempt_1": pd.to_datetime(["2026-11-30 09:05", None, "2026-11-30 10:00"]),
            "attempt_1_unread": ["", "ayer 9", ""],
            "extra": [{"Ciudad": "Cali"}, {}, {"Ciudad": "Pasto"}],
            "score": [1, "1", None],
        }
    )


def test_the_same_rows_give_the_same_key() -> None:
    assert sheet_key("ctx", "Ana", _frame(), FIELDS) == sheet_key("ctx", "Ana", _frame(), FIELDS)


@pytest.mark.parametrize(
    ("column", "row", "value"),
    [
        ("name", 1, "Luisa"),
        ("attempt_1", 0, pd.Timestamp("2026-11-30 09:06")),
        ("attempt_1", 1, pd.Timestamp("2026-11-30 09:06")),
        ("extra", 2, {"Ciudad": "Cali"}),
        ("score", 2, ""),
        ("score", 0, "1.0"),
    ],
)
def test_any_value_shown_changes_the_key(column: str, row: int, value: object) -> None:
    changed = _frame()
    values = changed[column].tolist()
    values[row] = value
    changed[column] = pd.Series(values, dtype=changed[column].dtype)
    assert sheet_key("ctx", "Ana", changed, FIELDS) != sheet_key("ctx", "Ana", _frame(), FIELDS)


def test_the_text_of_an_unread_attempt_counts() -> None:
    changed = _frame().assign(attempt_1_unread=["", "ayer 10", ""])
    assert sheet_key("ctx", "Ana", changed, FIELDS) != sheet_key("ctx", "Ana", _frame(), FIELDS)


def test_order_name_and_context_count() -> None:
    key = sheet_key("ctx", "Ana", _frame(), FIELDS)
    assert sheet_key("ctx", "Ana", _frame().iloc[::-1].reset_index(drop=True), FIELDS) != key
    assert sheet_key("ctx", "Eva", _frame(), FIELDS) != key
    assert sheet_key("otro", "Ana", _frame(), FIELDS) != key


def _row_digests(frame: pd.DataFrame, context: str = "ctx") -> list[bytes]:
    _key, rows, _context = sheet_keys(context, "Ana", frame, FIELDS)
    assert len(rows) == 8 * len(frame)
    return [rows[i : i + 8] for i in range(0, len(rows), 8)]


@pytest.mark.parametrize(
    ("column", "row", "value"),
    [
        ("name", 1, "Luisa"),
        ("attempt_1", 0, pd.Timestamp("2026-11-30 09:06")),
        ("attempt_1", 1, pd.Timestamp("2026-11-30 09:06")),
        ("attempt_1_unread", 1, "ayer 10"),
        ("extra", 2, {"Ciudad": "Cali"}),
        ("score", 2, ""),
    ],
)
def test_a_value_changes_the_digest_of_its_row_only(column: str, row: int, value: object) -> None:
    changed = _frame()
    values = changed[column].tolist()
    values[row] = value
    changed[column] = pd.Series(values, dtype=changed[column].dtype)
    before, after = _row_digests(_frame()), _row_digests(changed)
    assert [i for i in range(3) if before[i] != after[i]] == [row]
    assert _row_digests(_frame()) == before


def test_the_rows_context_names_what_the_row_digests_depend_on() -> None:
    context = sheet_keys("ctx", "Ana", _frame(), FIELDS)[2]
    assert sheet_keys("ctx", "Ana", _frame().iloc[:2], FIELDS)[2] == context  # rows appended
    assert sheet_keys("otro", "Ana", _frame(), FIELDS)[2] != context
    assert sheet_keys("ctx", "Eva", _frame(), FIELDS)[2] != context
    assert sheet_keys("ctx", "Ana", _frame(), FIELDS[:3])[2] != context
    assert sheet_keys("ctx", "Ana", _frame().drop(columns="attempt_1_unread"), FIELDS)[2] != context
    retyped = _frame().assign(name=pd.Series(["Ana", "Luis", "Eva"], dtype="string"))
    assert sheet_keys("ctx", "Ana", retyped, FIELDS)[2] != context
