"""Record tables drawn by column: the same rows, whichever way they are drawn."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swat_xl.core.records import shown_times
from swat_xl.workbook.layout import RecordRows, _table_rows, base_sheet, with_display
from swat_xl.workbook.spec import Column, ColumnRows

COLUMNS = [
    Column("Id", kind="int", field="id"),
    Column("Nombre", field="name"),
    Column("Puntaje", field="score"),
    Column("Intento", kind="datetime", field="attempt1"),
    Column("Falta", field="missing"),
    Column("Falta entero", kind="int", field="missing"),
]
_VALUES = st.one_of(
    st.sampled_from(["", "Ana", " Eva ", "ñandú", "1.0"]),
    st.integers(-5, 5),
    st.none(),
    st.floats(-3, 3),
)


def _straightforward(frame: pd.DataFrame) -> list[tuple[object, ...]]:
    """The rows as the layout drew them before it drew by column."""

    def texts(values: list[object]) -> list[object]:
        return ["" if v is None else str(v) for v in values]

    data = [
        [int(v) if str(v) not in ("", "nan", "None") else None for v in frame["id"].tolist()],
        texts(frame["name"].tolist()),
        texts(frame["score"].tolist()),
        shown_times(frame, "attempt1"),
        [""] * len(frame),
        [None] * len(frame),
    ]
    return list(zip(*data, strict=True))


@st.composite
def _records(draw: st.DrawFn) -> pd.DataFrame:
    size = draw(st.integers(1, 60))
    times = draw(
        st.lists(
            st.one_of(st.none(), st.datetimes(dt.datetime(2026, 1, 1), dt.datetime(2027, 1, 1))),
            min_size=size,
            max_size=size,
        )
    )
    return pd.DataFrame(
        {
            "id": pd.Series(draw(st.lists(st.integers(1, 10**6), min_size=size, max_size=size))),
            "name": pd.Series(
                draw(
                    st.lists(
                        st.sampled_from(["Ana", "", " x ", None]), min_size=size, max_size=size
                    )
                ),
                dtype="str",
            ),
            "score": pd.Series(draw(st.lists(_VALUES, min_size=size, max_size=size)), dtype=object),
            "attempt1": pd.to_datetime(pd.Series(times, dtype=object)),
            "attempt1_unread": pd.Series(
                draw(st.lists(st.sampled_from(["", "ayer"]), min_size=size, max_size=size)),
                dtype="str",
            ),
        },
        index=pd.Index(draw(st.permutations(range(size))), dtype="int64") * 7,
    )


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_records(), st.integers(0, 2**32 - 1))
def test_rows_taken_from_the_records_drawn_once_are_the_rows_drawn(
    records: pd.DataFrame, seed: int
) -> None:
    source = RecordRows(records)
    chosen = np.random.default_rng(seed).random(len(records)) < 0.6
    for frame in (records, records[chosen], records[~chosen].iloc[::-1]):
        expected = _straightforward(frame) if not frame.empty else []
        for drawn in (_table_rows(frame, COLUMNS, source), _table_rows(frame, COLUMNS)):
            assert list(drawn) == expected
            assert [[type(v) for v in row] for row in drawn] == [
                [type(v) for v in row] for row in expected
            ]
            if isinstance(drawn, ColumnRows):  # the columns said plain hold text, ints, blanks
                for values, plain in zip(drawn.columns, drawn.plain, strict=True):
                    assert not plain or set(map(type, values)) <= {str, int, type(None)}


def test_base_extra_columns_keep_pandas_types() -> None:
    """Extra values that are not all text are shown as a frame's column of them showed them."""
    records = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "extra": [{"Canal": "APP", "N": 1}, {"N": None}, {"Canal": "WEB", "N": 2.5}],
        }
    )
    table = base_sheet(records).tables[0]
    shown = {c.header: [row[i] for row in table.rows] for i, c in enumerate(table.columns)}
    assert shown["Canal"] == ["APP", "", "WEB"]
    assert shown["N"] == ["1.0", "nan", "2.5"]


def test_column_rows_behave_as_the_list_of_rows() -> None:
    rows = ColumnRows([[1, 2, 3], ["a", "b", "c"]], [True, True])
    listed = [(1, "a"), (2, "b"), (3, "c")]
    assert len(rows) == 3 and list(rows) == listed and rows == listed
    assert rows[0] == (1, "a") and rows[-1] == (3, "c") and rows[1:] == listed[1:]
    assert list(reversed(rows)) == listed[::-1] and (2, "b") in rows
    with pytest.raises(IndexError):
        rows[3]
    with pytest.raises(ValueError, match="different lengths"):
        ColumnRows([[1], [1, 2]])
    assert not ColumnRows([]) and ColumnRows([]) == []


def test_the_display_columns_leave_the_records_as_they_are() -> None:
    records = pd.DataFrame(
        {
            "segment": ["hogar", "movil"],
            "exclusion": ["", "cortesia"],
            "account": ["", "77"],
            "custcode": ["C1", "C2"],
            "ani": ["3001234567", "3109998877"],
            "extra": [{"Celular": "3015550000"}, {}],
        }
    )
    before = records.copy()
    shown = with_display(records)
    pd.testing.assert_frame_equal(records, before)
    assert shown["account_or_custcode"].tolist() == ["C1", "77"]
    assert shown["other_phones"].tolist() == ["3015550000", ""]
    again = with_display(shown.assign(account=["9", "77"]))  # display columns there already
    assert again["account_or_custcode"].tolist() == ["9", "77"]
    assert shown["account_or_custcode"].tolist() == ["C1", "77"]
    pd.testing.assert_frame_equal(records, before)
