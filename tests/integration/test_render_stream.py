"""Streamed table rows (adapters.xlsx_rows) give the very workbook XlsxWriter's cell-by-cell
path gives: the same sheet XML (style numbers aside), the same cells, values and formats."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from swat_xl.adapters import xlsx_rows, xlsx_writer
from swat_xl.workbook.spec import (
    Cell,
    Column,
    ColumnRows,
    CondFormat,
    Sheet,
    Table,
    Validation,
    WorkbookSpec,
)

COLUMNS = [
    Column("Texto"),
    Column("Entero", kind="int"),
    Column("Número", kind="number"),
    Column("Fecha", kind="datetime"),
    Column("Bool"),
    Column("Editable", editable=True),
    Column("Raros"),
    Column("XML"),
    Column("Vacía", kind="int"),
    Column("Intento", kind="datetime", editable=True),
]
MESSY = [
    [
        "a",
        1,
        2.5,
        dt.datetime(2026, 11, 29, 10, 30, 15, 123000),
        True,
        " lead",
        "x\x01y_x0041_",
        '<&>"',
        "",
        None,
    ],
    [
        "b" * 40_000,
        10**17,
        -0.1,
        dt.date(2026, 1, 2),
        False,
        "trail ",
        "tab\tnl\n",
        "\ufffe",
        3,
        4.25,
    ],
    ["ñandú 😀", 0, 1e-20, "texto fecha", None, "=SUM(A1)", "", "", "", dt.datetime(2026, 1, 1)],
    ["+57 300", -5, 7, None, 12, "@x", "\u00a0nbsp", "a&b", None, "2026-13-45"],
]


def _clean_rows(count: int) -> list[list[object]]:
    """Rows as the layout builds them for agent sheets: the fast column paths."""
    base = dt.datetime(2026, 11, 1, 8)
    return [
        [
            f"Cliente {i}",
            i,
            i / 4,
            base + dt.timedelta(minutes=i),
            "",
            "" if i % 3 else "nota",
            "Bogotá",
            "Hogar" if i % 2 else "Móvil",
            None,
            base if i % 5 == 0 else None,
        ]
        for i in range(count)
    ]


def _spec(rows: list[list[object]]) -> WorkbookSpec:
    sheet = Sheet(
        "Hoja",
        tables=[Table(COLUMNS, rows, first_row=2, first_col=1)],
        cells=[
            Cell(0, 0, "título", "title"),
            Cell(2, 12, "nota", "note"),
            Cell(len(rows) + 5, 0, "pie"),
            Cell(len(rows) + 5, 1, None, "int", formula="=1+1"),
        ],
        freeze=(3, 2),
        protect=True,
    )
    sheet.validations.append(Validation(3, 5, len(rows) + 500, 5, choices=("A", "B")))
    sheet.cond_formats.append(CondFormat(3, 1, len(rows) + 500, 10, '=$B4=""', "bad"))
    side = Sheet(
        "Otra",
        tables=[
            Table(COLUMNS[:3], [r[:3] for r in rows]),
            Table(
                COLUMNS[:2], [["x", 1]], first_row=0, first_col=5
            ),  # beside the first: not streamed
        ],
    )
    return WorkbookSpec(
        [sheet, side, Sheet("Vacía", tables=[Table(COLUMNS, [])])], names={"TOTAL": "=Hoja!$A$1"}
    )


def _render(spec: WorkbookSpec, path: Path, stream: bool, monkeypatch) -> Path:
    monkeypatch.setattr(xlsx_writer, "STREAM_TABLES", stream)
    xlsx_writer.render(spec, path)
    return path


def _sheet_xml(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as package:
        return {
            name: re.sub(r' (s|style|spans)="[^"]*"', "", package.read(name).decode())
            for name in package.namelist()
            if name.startswith("xl/worksheets/")
        }


def _cells(path: Path) -> dict[tuple[str, str], tuple[object, ...]]:
    book = openpyxl.load_workbook(path)
    return {
        (ws.title, c.coordinate): (
            c.value,
            c.data_type,
            c.number_format,
            c.font.b,
            c.font.i,
            c.fill.fgColor.rgb,
            c.protection.locked,
            c.alignment.wrap_text,
        )
        for ws in book
        for row in ws.iter_rows()
        for c in row
    }


@pytest.mark.parametrize("rows", [MESSY, _clean_rows(2500)], ids=["messy", "clean"])
def test_streamed_rows_equal_xlsxwriter(tmp_path, monkeypatch, rows):
    streamed: list[tuple[int, int]] = []
    splice = xlsx_rows.splice

    def spy(source, target, blocks, **options):
        streamed.extend((b.sheet_index, b.table.first_col) for b in blocks)
        return splice(source, target, blocks, **options)

    monkeypatch.setattr(xlsx_rows, "splice", spy)
    fast = _render(_spec(rows), tmp_path / "rapido.xlsx", True, monkeypatch)
    assert sorted(streamed) == [(0, 1)]  # the side-by-side tables of «Otra» are not streamed
    slow = _render(_spec(rows), tmp_path / "lento.xlsx", False, monkeypatch)
    assert _sheet_xml(fast) == _sheet_xml(slow)
    assert _cells(fast) == _cells(slow)
    book = CalamineWorkbook.from_path(str(fast))
    data = book.get_sheet_by_name("Hoja").to_python()
    assert data[3][1:3] == [rows[0][0][:32767], rows[0][1]]


def test_values_xlsxwriter_must_write_stay_with_it(tmp_path, monkeypatch):
    """numpy numbers, time zones, NaN and dates before 1900-03-01 are not streamed."""
    tz = dt.timezone(dt.timedelta(hours=-5))
    for odd in (np.int64(3), dt.datetime(2026, 1, 1, tzinfo=tz), dt.datetime(1900, 1, 5)):
        table = Table(COLUMNS[:4], [["a", 1, 2.0, odd]])
        assert xlsx_rows.streamable(table, [None, None, None, object()]) is None
    assert xlsx_rows.streamable(Table(COLUMNS[:3], [["a", 1, float("nan")]]), [None] * 3) is None
    table = Table(COLUMNS[:4], [["a", np.int64(3), 2.0, dt.datetime(2026, 1, 1, tzinfo=tz)]])
    fast = _render(
        WorkbookSpec([Sheet("H", tables=[table])]), tmp_path / "a.xlsx", True, monkeypatch
    )
    slow = _render(
        WorkbookSpec([Sheet("H", tables=[table])]), tmp_path / "b.xlsx", False, monkeypatch
    )
    assert _cells(fast) == _cells(slow)


def test_no_temporary_file_is_left(tmp_path, monkeypatch):
    _render(_spec(MESSY), tmp_path / "libro.xlsx", True, monkeypatch)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["libro.xlsx"]


@pytest.mark.parametrize(
    ("rows", "fast_deflate"), [(MESSY, False), (_clean_rows(2500), True)], ids=["small", "big"]
)
def test_big_streamed_parts_are_deflated_by_isal(tmp_path, monkeypatch, rows, fast_deflate):
    """A part with at least FAST_DEFLATE_CELLS streamed cells is deflated by ISA-L (speed); a
    smaller one by zlib (its bytes do not depend on the processor); both read back the same."""
    from isal import isal_zlib

    made: list[int] = []

    class Spy:
        DEFLATED = isal_zlib.DEFLATED

        @staticmethod
        def compressobj(level, method, wbits):
            made.append(level)
            return isal_zlib.compressobj(level, method, wbits)

    monkeypatch.setattr(xlsx_rows, "isal_zlib", Spy)
    assert (len(rows) * len(COLUMNS) >= xlsx_rows.FAST_DEFLATE_CELLS) is fast_deflate
    fast = _render(_spec(rows), tmp_path / "rapido.xlsx", True, monkeypatch)
    assert made == ([xlsx_rows.ISAL_LEVEL] if fast_deflate else [])
    with zipfile.ZipFile(fast) as package:
        assert package.testzip() is None
    slow = _render(_spec(rows), tmp_path / "lento.xlsx", False, monkeypatch)
    assert _sheet_xml(fast) == _sheet_xml(slow)


@pytest.mark.parametrize("rows", [MESSY, _clean_rows(2500)], ids=["messy", "clean"])
def test_rows_held_by_column_give_the_same_package(tmp_path, monkeypatch, rows):
    """A table whose rows the layout holds by column (ColumnRows, its columns of text,
    integers and blanks marked plain) is written byte for byte as the same rows as lists."""
    width = len(COLUMNS)
    columns = [[row[i] for row in rows] for i in range(width)]
    plain = [set(map(type, values)) <= {str, int, type(None)} for values in columns]
    assert any(plain) and not all(plain)
    by_column = _spec(rows)
    by_column.sheets[0].tables[0].rows = ColumnRows(columns, plain)
    listed = _render(_spec(rows), tmp_path / "filas.xlsx", True, monkeypatch)
    held = _render(by_column, tmp_path / "columnas.xlsx", True, monkeypatch)
    with zipfile.ZipFile(listed) as a, zipfile.ZipFile(held) as b:
        assert a.namelist() == b.namelist()
        assert all(a.read(name) == b.read(name) for name in a.namelist())
    # a column not marked plain is still looked at: what XlsxWriter must write stays with it
    odd = Table(COLUMNS[:2], ColumnRows([["a"], [np.int64(3)]], [True, False]))
    assert xlsx_rows.streamable(odd, [None, None]) is None


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(alphabet=" <>&_x\n\t\x01\xa0aZ0ñ😀", max_size=6),
            st.sampled_from(["", "_x0041_", "a <b", "x" * 32_768]),
        ),
        max_size=8,
    )
)
def test_plain_texts_are_those_written_without_any_escape(texts):
    """A column's texts are plain when each, on its own, is printable and free of what an
    escape or a preserved space is about; then each is written as it is (by a cell's own
    writer, _text)."""
    expected = all(
        t.isprintable()
        and not any(mark in t for mark in ("&", "<", ">", "_x"))
        and t == t.strip(" ")
        and len(t) <= xlsx_rows.MAX_TEXT
        for t in texts
    )
    assert xlsx_rows._plain_texts(texts) == expected
    if expected:
        assert all(xlsx_rows._text(t) == f' t="inlineStr"><is><t>{t}</t></is></c>' for t in texts)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.text(alphabet="\x00\x01\x1f\t\n\r\xa0 ab_x0041&<>\ufffe😀", max_size=8),
        min_size=1,
        max_size=6,
    )
)
def test_escaping_a_column_looks_for_control_characters_only_where_they_can_be(texts):
    """The escapes of a column are those of each text (_text), whether or not the quick look
    for control characters lets the expression's search be skipped."""
    escaped = xlsx_rows._escape_column(texts)
    assert escaped is not None
    values, preserve = escaped
    for text, value, kept in zip(texts, values, preserve, strict=True):
        space = ' xml:space="preserve"' if kept else ""
        assert f' t="inlineStr"><is><t{space}>{value}</t></is></c>' == xlsx_rows._text(text)
