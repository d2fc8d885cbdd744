"""The digest that decides whether a sheet drawn from the records may be copied as it was."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swat_xl.core.fields import other_phones
from swat_xl.core.text import clean_phone
from swat_xl.workbook.layout import (
    RecordRows,
    _column_hashes,
    _other_phones,
    sheet_key,
    sheet_keys,
)

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


# -- the shortcuts give what the straightforward computation gives -----------------------------
_TEXTS = st.sampled_from(["", "Ana", "Luis", " Eva ", "ñandú", "1", "1.0", "a\nb", "😀"])
_VALUES = st.one_of(_TEXTS, st.integers(-3, 3), st.none(), st.floats(allow_nan=True))
_EXTRAS = st.lists(
    st.dictionaries(st.sampled_from(["Ciudad", "Teléfono 2", "Celular"]), _TEXTS, max_size=2),
    min_size=1,
    max_size=4,
)


@st.composite
def _records(draw: st.DrawFn) -> pd.DataFrame:
    """Records as the ledger gives them: texts (few distinct or many), shared extras, a time,
    more rows than the shortcuts' sample so that they are taken."""
    size = draw(st.integers(0, 2600))
    few = draw(st.lists(st.one_of(_TEXTS, st.none()), min_size=1, max_size=4))
    extras = draw(_EXTRAS)
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    mixed = draw(st.lists(_VALUES, min_size=1, max_size=5))
    return pd.DataFrame(
        {
            "name": pd.Series([f"n{i % 997}" for i in rng.permutation(size)], dtype="str"),
            "city": pd.Series([few[i] for i in rng.integers(0, len(few), size)], dtype="str"),
            "extra": pd.Series(
                [extras[i] for i in rng.integers(0, len(extras), size)], dtype=object
            ),
            "score": pd.Series([mixed[i] for i in rng.integers(0, len(mixed), size)], dtype=object),
            "attempt_1": pd.to_datetime(rng.integers(0, 10**6, size), unit="s"),
        },
        index=pd.Index(rng.permutation(size) * 3, dtype="int64"),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_records(), st.integers(0, 2**32 - 1))
def test_shared_and_distinct_hashing_give_pandas_hashes(frame: pd.DataFrame, seed: int) -> None:
    for name in frame.columns:
        plain = pd.util.hash_pandas_object(frame[name], index=False, categorize=False)
        assert (_column_hashes(frame[name]) == plain.to_numpy()).all()
    # the sheets' frames are rows of one frame: their digests taken from its hashes are theirs
    hashes = RecordRows(frame)
    rows = np.random.default_rng(seed).random(len(frame)) < 0.5
    for part in (frame, frame[rows], frame[~rows].iloc[::-1], frame.iloc[0:0]):
        fields = [*FIELDS, "city"]
        assert sheet_keys("ctx", "Ana", part, fields, hashes) == sheet_keys(
            "ctx", "Ana", part, fields
        )


def test_rows_not_found_once_in_the_hashed_frame_are_hashed_themselves() -> None:
    frame = _frame().assign(name=["Ana", "Luis", "Eve"])
    for hashed in (_frame().set_axis([5, 6, 7]), _frame().set_axis([0, 0, 1])):
        hashes = RecordRows(hashed)
        expected = sheet_keys("ctx", "Ana", frame, FIELDS)
        assert sheet_keys("ctx", "Ana", frame, FIELDS, hashes) == expected


_PHONES = st.sampled_from(
    ["", "3001234567", "573001234567", "300 123 4567", "123", "x", "3109998877"]
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.dictionaries(st.sampled_from(["Teléfono 2", "Celular", "Ciudad", "ANI 2"]), _PHONES),
        ),
        min_size=1,
        max_size=4,
    ),
    st.lists(st.tuples(st.integers(0, 3), _PHONES), max_size=30),
)
def test_other_phones_of_shared_extras_are_each_rows_own(
    extras: list[dict[str, str] | None], rows: list[tuple[int, str]]
) -> None:
    chosen = [extras[i % len(extras)] for i, _ in rows]
    anis = [clean_phone(ani) for _, ani in rows]
    assert _other_phones(chosen, anis) == [
        other_phones(e or {}, a) for e, a in zip(chosen, anis, strict=True)
    ]
