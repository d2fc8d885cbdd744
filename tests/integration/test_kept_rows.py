"""Rows copied from the last workbook written (adapters.xlsx_writer / xlsx_rows).

A streamed table whose rows carry digests (``Table.row_keys``) is noted by the writer; the next
render, given those notes and that file, copies every row whose digest is unchanged at the same
place, byte for byte, and draws the others. The result must be the workbook a render without
the old file gives, part by part; a different layout (columns, first row, styles, context, the
rows' shape in the old file) copies nothing.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import re
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from swat_xl.adapters import xlsx_rows, xlsx_writer
from swat_xl.workbook.spec import Cell, Column, Sheet, Table, WorkbookSpec

COLUMNS = [
    Column("ID", kind="int"),
    Column("Texto"),
    Column("Número", kind="number"),
    Column("Fecha", kind="datetime"),
    Column("Editable", editable=True),
    Column("Raros"),
]
START = dt.datetime(2026, 11, 1, 8)


def _rows(count: int) -> list[list[Any]]:
    rows: list[list[Any]] = [
        [i, f"Cliente {i}", i / 4, START + dt.timedelta(minutes=i), "" if i % 3 else "nota", ""]
        for i in range(count)
    ]
    # values that take the slow paths of the row writer (escapes, spaces, big numbers, text
    # in a date column, blanks)
    rows[3][5] = '<&>"_x0041_'
    rows[4][1] = " lead"
    rows[5][2] = 10**17
    rows[6][3] = "texto fecha"
    rows[7][3] = None
    rows[8][5] = "tab\tnl\n"
    return rows


def _keys(rows: list[list[Any]]) -> bytes:
    return b"".join(hashlib.blake2b(repr(row).encode(), digest_size=8).digest() for row in rows)


def _spec(
    rows: list[list[Any]],
    *,
    keys: bytes | None = None,
    context: str = "ctx",
    columns: list[Column] | None = None,
    first_row: int = 0,
) -> WorkbookSpec:
    table = Table(columns or COLUMNS, rows, first_row=first_row, spare_rows=0)
    table.row_keys = _keys(rows) if keys is None else keys
    table.rows_context = context
    cells = [Cell(0, 8, "nota al lado")]
    base = Sheet("Base", tables=[table], cells=cells, role="records", freeze=(1, 1))
    other = Sheet("Otra", cells=[Cell(0, 0, "hola")])
    return WorkbookSpec([other, base])


def _uncompressed(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as package:
        assert package.testzip() is None
        return {name: package.read(name) for name in package.namelist()}


def _base_xml(path: Path) -> bytes:
    return _uncompressed(path)["xl/worksheets/sheet2.xml"]


def _values(path: Path) -> list[tuple[Any, ...]]:
    return list(openpyxl.load_workbook(path)["Base"].iter_rows(values_only=True))


@pytest.fixture
def written(tmp_path: Path) -> tuple[Path, dict[str, Any], list[list[Any]]]:
    """A workbook written with row digests, what its render noted, and its rows."""
    rows = _rows(3000)  # more than one chunk of rows
    path = tmp_path / "antes.xlsx"
    notes = xlsx_writer.render(_spec(rows), path)
    assert set(notes) == {"Base"} and notes["Base"]["copied"] == 0
    return path, notes, rows


def _both(
    spec: WorkbookSpec, tmp_path: Path, old: Path, notes: dict[str, Any]
) -> tuple[Path, Path, dict[str, Any]]:
    """``spec`` rendered copying rows from ``old``, and rendered whole."""
    partial, full = tmp_path / "parcial.xlsx", tmp_path / "completo.xlsx"
    got = xlsx_writer.render(copy.deepcopy(spec), partial, rows_from=old, drawn=notes)
    whole = xlsx_writer.render(copy.deepcopy(spec), full)
    assert whole["Base"]["copied"] == 0
    assert {k: v for k, v in got["Base"].items() if k != "copied"} == {
        k: v for k, v in whole["Base"].items() if k != "copied"
    }
    return partial, full, got


def _same(partial: Path, full: Path) -> None:
    expected, got = _uncompressed(full), _uncompressed(partial)
    assert sorted(got) == sorted(expected)
    assert [name for name in expected if got[name] != expected[name]] == []
    assert _values(partial) == _values(full)


def test_changed_and_appended_rows_are_drawn_the_rest_copied(written, tmp_path: Path) -> None:
    old, notes, rows = written
    rows = copy.deepcopy(rows)
    rows[10][1] = "Cliente cambiado"  # one value changed in the middle
    rows[2500][4] = "marcado"  # and one in the second chunk
    rows += _rows(3010)[3000:]  # ten rows appended
    partial, full, got = _both(_spec(rows), tmp_path, old, notes)
    assert got["Base"]["copied"] == 3000 - 2
    assert _base_xml(partial) == _base_xml(full)
    _same(partial, full)
    assert _values(partial)[11][1] == "Cliente cambiado"


def test_rows_are_taken_from_the_old_file_by_their_digest(written, tmp_path: Path) -> None:
    """The copy is real: a row whose digest is unchanged shows what the old file holds, even
    when (here, on purpose) its values are not the ones the spec holds."""
    old, notes, rows = written
    changed = copy.deepcopy(rows)
    changed[20][1] = "nunca escrito"
    partial = tmp_path / "parcial.xlsx"
    got = xlsx_writer.render(_spec(changed, keys=_keys(rows)), partial, rows_from=old, drawn=notes)
    assert got["Base"]["copied"] == 3000
    assert _values(partial)[21][1] == "Cliente 20"
    assert _base_xml(partial) == _base_xml(old)


def test_removed_rows_shift_the_rest_which_are_drawn_again(written, tmp_path: Path) -> None:
    old, notes, rows = written
    rows = rows[:100] + rows[101:]  # one row archived: those after it move up
    partial, full, got = _both(_spec(rows), tmp_path, old, notes)
    assert got["Base"]["copied"] == 100
    _same(partial, full)


@pytest.mark.parametrize(
    "change",
    [
        {"context": "otro código o ajustes"},
        {"columns": [*COLUMNS[:5], Column("Raros", kind="value")]},
        {"columns": [*COLUMNS, Column("Extra nueva")]},
        {"first_row": 2},
    ],
    ids=["context", "column kind", "extra column", "first row"],
)
def test_another_layout_copies_nothing(written, tmp_path: Path, change: dict[str, Any]) -> None:
    old, notes, rows = written
    if "columns" in change:
        rows = [[*row, *([""] * (len(change["columns"]) - len(row)))] for row in rows]
    partial, full, got = _both(_spec(rows, **change), tmp_path, old, notes)
    assert got["Base"]["copied"] == 0
    _same(partial, full)


def test_other_style_numbers_copy_nothing(written, tmp_path: Path, monkeypatch) -> None:
    old, notes, rows = written
    number = xlsx_writer._Formats.number
    monkeypatch.setattr(
        xlsx_writer._Formats, "number", lambda self, key: (number(self, key) or 0) + 1
    )
    got = xlsx_writer.render(_spec(rows), tmp_path / "p.xlsx", rows_from=old, drawn=notes)
    assert got["Base"]["copied"] == 0


def test_rows_not_as_the_row_writer_writes_them_are_not_copied(written, tmp_path: Path) -> None:
    """Notes that do not describe the old file's rows (here: rows rewritten with attributes of
    their own, as another writer may) copy nothing: each row is checked before it is taken."""
    old, notes, rows = written
    other = tmp_path / "otro.xlsx"
    with zipfile.ZipFile(old) as source, zipfile.ZipFile(other, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet2.xml":
                # every row but the first (which is where the copy starts reading)
                data = re.sub(rb'<row r="(\d\d+|[3-9])">', rb'<row r="\1" spans="1:6">', data)
            target.writestr(info, data)
    partial, full, got = _both(_spec(rows), tmp_path, other, notes)
    assert got["Base"]["copied"] == 1
    _same(partial, full)


def test_old_rows_are_read_across_chunk_boundaries(written) -> None:
    old, _notes, rows = written
    xml = _base_xml(old)
    expected = xml[xml.index(b'<row r="2">') : xml.index(b"</sheetData>")]
    for size in (7, 1000, 1 << 20):

        def chunks(size: int = size) -> Any:
            return iter([xml[i : i + size] for i in range(0, len(xml), size)])

        taken = xlsx_rows.OldRows(chunks(), 2, len(rows))
        first = taken.take(0, 2000, True)
        rest = taken.take(2000, 3000, False)
        assert isinstance(first, bytes) and isinstance(rest, list)
        assert first + b"".join(rest) == expected  # type: ignore[arg-type]
        # rows skipped on the way, a range taken twice, rows past the table's end
        taken = xlsx_rows.OldRows(chunks(), 2, len(rows))
        assert taken.take(2500, 2600, True) == b"".join(
            expected.split(b"</row>")[i] + b"</row>" for i in range(2500, 2600)
        )
        assert taken.take(2550, 2560, True) == [None] * 10
        assert taken.take(2990, 3010, False)[10:] == [None] * 10
    assert xlsx_rows.OldRows(iter([xml]), 5000, 10).take(0, 10, True) == [None] * 10


def test_old_parts_are_inflated_whatever_their_compression(written, tmp_path: Path) -> None:
    old, _notes, _rows = written
    xml = _base_xml(old)
    for method in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        path = tmp_path / f"{method}.zip"
        with zipfile.ZipFile(path, "w", compression=method) as package:
            package.writestr("xl/worksheets/sheet2.xml", xml)
        with zipfile.ZipFile(path) as package:
            info = package.getinfo("xl/worksheets/sheet2.xml")
        assert b"".join(xlsx_rows.inflated(path, info, size=100)) == xml
