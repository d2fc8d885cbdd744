"""A large export sheet parsed in two halves at once (``_halves``) gives the rows the whole
sheet gives: generated workbooks are read both ways and compared cell by cell."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swat_xl.adapters.export_reader import _halves as halves
from swat_xl.adapters.export_reader import _xlsx as xlsx
from swat_xl.adapters.export_reader import read_export
from swat_xl.demo.sample import make_export

WHOLE = 1 << 40  # a threshold no sheet reaches: the whole sheet, as before


class _Counting:
    """``parse_in_halves`` counting how often it gave the rows (not None)."""

    def __init__(self) -> None:
        self.split = 0
        self.declined = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        parsed = halves.parse_in_halves(*args, **kwargs)
        if parsed is None:
            self.declined += 1
        else:
            self.split += 1
        return parsed


def sheets_both_ways(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[Any], list[Any], _Counting]:
    """The sheets as parsed whole, then in halves (every sheet big enough to be cut)."""
    monkeypatch.setattr(xlsx, "SPLIT_FROM_BYTES", WHOLE)
    whole = list(xlsx._workbook_sheets(path))
    counting = _Counting()
    monkeypatch.setattr(xlsx, "SPLIT_FROM_BYTES", 0)
    monkeypatch.setattr(xlsx, "parse_in_halves", counting)
    cut = list(xlsx._workbook_sheets(path))
    return whole, cut, counting


_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12
)
_VALUE = st.one_of(
    _TEXT,
    st.integers(-(10**9), 10**9),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
    st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2030, 12, 31)).map(
        lambda moment: moment.replace(microsecond=0)
    ),
)
_CELLS = st.dictionaries(
    st.tuples(st.integers(0, 80), st.integers(0, 9)), _VALUE, min_size=0, max_size=120
)


def write_book(
    path: Path, cells: dict[tuple[int, int], Any], *, inline: bool, date_1904: bool = False
) -> Path:
    """``cells`` in a workbook by XlsxWriter: shared strings, or inline strings (its
    constant-memory mode) with ``inline``."""
    options = {"constant_memory": inline, "date_1904": date_1904, "in_memory": True}
    with xlsxwriter.Workbook(path, options) as book:
        sheet = book.add_worksheet("Datos")
        when = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        for (row, col), value in sorted(cells.items()):
            if isinstance(value, dt.datetime):
                sheet.write_datetime(row, col, value, when)
            elif isinstance(value, str):
                sheet.write_string(row, col, value)
            else:
                sheet.write(row, col, value)
    return path


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cells=_CELLS, inline=st.booleans(), date_1904=st.booleans())
def test_halves_give_the_rows_of_the_whole_sheet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cells: Any, inline: bool, date_1904: bool
) -> None:
    path = write_book(tmp_path / "corte.xlsx", cells, inline=inline, date_1904=date_1904)
    whole, cut, counting = sheets_both_ways(path, monkeypatch)
    assert cut == whole
    if len({row for row, _ in cells}) >= 2:
        assert counting.split == 1  # rows in two places: cut in two


def test_halves_of_different_widths_and_a_gap_between_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first half spans columns C-D, the second B-F, with empty rows between.
    cells: dict[tuple[int, int], Any] = {(row, 2): f"c{row}" for row in range(3, 40)}
    cells |= {(row, 3): row * 1.5 for row in range(3, 40)}
    cells |= {(row, 1): "izquierda" for row in range(60, 70)}
    cells |= {(row, 5): dt.datetime(2026, 11, 30, 8, row - 60) for row in range(60, 70)}
    path = write_book(tmp_path / "corte.xlsx", cells, inline=True)
    whole, cut, counting = sheets_both_ways(path, monkeypatch)
    assert counting.split == 1
    assert cut == whole
    _, start, rows = cut[0]
    assert start == (3, 1)
    assert rows[0][:3] == ["", "c3", 4.5]
    assert rows[40 - 3] == rows[59 - 3] == ["", "", "", "", ""]  # rows 41 to 60: empty
    assert rows[60 - 3][0] == "izquierda"
    assert rows[-1][0] == "izquierda"


def test_joined_pads_the_narrower_half_and_fills_the_gap() -> None:
    first = (2, 3), [["a", 1.0], ["b", 2.0]]  # rows 3-4, columns D-E
    second = (6, 1), [["x", "", "", "", "z"]]  # row 7, columns B-F
    assert halves._joined(first, second) == (
        (2, 1),
        [
            ["", "", "a", 1.0, ""],
            ["", "", "b", 2.0, ""],
            ["", "", "", "", ""],
            ["", "", "", "", ""],
            ["x", "", "", "", "z"],
        ],
    )
    assert halves._joined(first, (None, [])) == first
    assert halves._joined((None, []), second) == second
    assert halves._joined(second, first) is None  # the second half starts above the first


def test_the_export_reads_the_same_in_halves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export = tmp_path / "data.xlsx"
    make_export(export, rows=300, seed=5)
    monkeypatch.setattr(xlsx, "SPLIT_FROM_BYTES", WHOLE)
    whole = read_export(export)
    counting = _Counting()
    monkeypatch.setattr(xlsx, "SPLIT_FROM_BYTES", 0)
    monkeypatch.setattr(xlsx, "parse_in_halves", counting)
    cut = read_export(export)
    assert counting.split == 1
    assert cut.frame.equals(whole.frame)
    assert (cut.header_row, cut.footer_lines, cut.source_rows, cut.warnings) == (
        whole.header_row,
        whole.footer_lines,
        whole.source_rows,
        whole.warnings,
    )


def test_the_other_sheets_of_the_workbook_are_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "corte.xlsx"
    with xlsxwriter.Workbook(path) as book:
        notes = book.add_worksheet("Notas")
        notes.write_column("A1", ["no es la exportación", "otra nota"])
        data = book.add_worksheet("Datos")
        for row in range(30):
            data.write_row(row, 0, [f"fila {row}", row])
    whole, cut, counting = sheets_both_ways(path, monkeypatch)
    assert counting.split == 2  # both sheets, each cut in two
    assert cut == whole
    assert [name for name, _, _ in cut] == ["Notas", "Datos"]


def rewritten(tmp_path: Path, change: Any) -> Path:
    """A 20 × 3 grid of texts ("row-col") in a workbook whose sheet's XML ``change`` changed."""
    cells = {(row, col): f"{row}-{col}" for row in range(20) for col in range(3)}
    path = write_book(tmp_path / "original.xlsx", cells, inline=True)
    target = tmp_path / "cambiado.xlsx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(target, "w") as copy:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.startswith("xl/worksheets/sheet"):
                data = change(data)
            copy.writestr(info, data)
    return target


def test_rows_out_of_order_are_parsed_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The rows' XML in reverse order: each cell's reference still places it, but the two
    # halves overlap; the sheet is parsed whole.
    def reverse_rows(xml: bytes) -> bytes:
        rows = re.findall(rb"<row .*?</row>", xml, flags=re.S)
        start, end = xml.index(rows[0]), xml.index(rows[-1]) + len(rows[-1])
        return xml[:start] + b"".join(reversed(rows)) + xml[end:]

    path = rewritten(tmp_path, reverse_rows)
    whole, cut, counting = sheets_both_ways(path, monkeypatch)
    assert (counting.split, counting.declined) == (0, 1)
    assert cut == whole
    assert cut[0][2][0] == ["0-0", "0-1", "0-2"]


def test_a_cell_without_its_reference_is_parsed_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A cell placed by the cells before it (no r="...") cannot be moved to another sheet.
    def drop_a_reference(xml: bytes) -> bytes:
        return xml.replace(b'<c r="B15"', b"<c", 1)

    path = rewritten(tmp_path, drop_a_reference)
    whole, cut, counting = sheets_both_ways(path, monkeypatch)
    assert (counting.split, counting.declined) == (0, 0)  # not even tried
    assert cut == whole
    assert cut[0][2][14][1] == "14-1"


def test_a_sheet_without_rows_to_cut_is_parsed_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_book(tmp_path / "una-fila.xlsx", {(4, 2): "sola"}, inline=False)
    whole, cut, counting = sheets_both_ways(path, monkeypatch)
    assert (counting.split, counting.declined) == (0, 1)
    assert cut == whole == [("Datos", (4, 2), [["sola"]])]


def test_halves_that_cannot_be_written_give_way_to_the_whole_sheet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(*args: Any, **kwargs: Any) -> Any:
        raise OSError(28, "No space left on device")

    cells = {(row, 0): row for row in range(50)}
    path = write_book(tmp_path / "corte.xlsx", cells, inline=True)
    monkeypatch.setattr(zipfile.ZipFile, "writestr", full_disk)  # only the halves write
    whole, cut, counting = sheets_both_ways(path, monkeypatch)
    assert (counting.split, counting.declined) == (0, 1)
    assert cut == whole


def test_without_a_temporary_folder_the_sheet_is_parsed_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(halves.tempfile, "tempdir", str(tmp_path / "no-existe"))
    cells = {(row, 0): row for row in range(50)}
    path = write_book(tmp_path / "corte.xlsx", cells, inline=True)
    whole, cut, counting = sheets_both_ways(path, monkeypatch)
    assert (counting.split, counting.declined) == (0, 1)
    assert cut == whole


def test_the_halves_leave_nothing_on_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path / "temporal"))
    (tmp_path / "temporal").mkdir()
    monkeypatch.setattr(halves.tempfile, "tempdir", None)  # TMPDIR is read again
    cells = {(row, 0): row for row in range(50)}
    path = write_book(tmp_path / "corte.xlsx", cells, inline=True)
    _, _, counting = sheets_both_ways(path, monkeypatch)
    assert counting.split == 1
    assert list((tmp_path / "temporal").iterdir()) == []
