"""The Excel simulation itself: xlwings' front end on the test engine, the strict object model
generated from Excel's type library, and the Excel behaviours it models."""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib.util
import json
from pathlib import Path

import pytest
import xlwings as xw

from tests.helpers import excel_com as com
from tests.helpers import excel_sim
from tests.helpers.excel_sim import SimBook, empty_book

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def book(tmp_path: Path) -> SimBook:
    return empty_book(tmp_path / "Libro.xlsm")


def refused(book: SimBook) -> list[str]:
    """The object-model violations seen so far (forgotten, so the test can go on)."""
    found = list(book.excel.violations)
    book.excel.violations.clear()
    return found


# -- the type library ---------------------------------------------------------------------------
def _generator():
    spec = importlib.util.spec_from_file_location(
        "generate", ROOT / "tests/excel_model/generate.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_typelib_is_the_generators_output() -> None:
    generate = _generator()
    text = (ROOT / "tests/excel_model/typelib.json").read_text(encoding="utf-8")
    data = json.loads(text)
    assert generate.dump(data) == text
    assert data["source"]["@types/activex-excel"]["license"] == "MIT"
    assert data["enums"]["XlApplicationInternationalStrings"]["xlListSeparator"] == 5
    assert "Sort" in data["classes"]["Range"] and "Protect" in data["classes"]["Worksheet"]


def test_generator_reads_classes_enums_overloads_and_parameterized_properties(
    tmp_path: Path,
) -> None:
    generate = _generator()
    folder = tmp_path / "activex-excel"
    folder.mkdir()
    (folder / "package.json").write_text(
        '{"name": "@types/activex-excel", "version": "1.0.0", "license": "MIT"}'
    )
    (folder / "index.d.ts").write_text(
        "declare namespace Excel {\n"
        "    type Aligns = Constants.xlCenter | Constants.xlLeft;\n"
        "    const enum Constants {\n        xlCenter = -4108,\n        xlLeft = -4131,\n    }\n"
        "    const enum XlSortOrder {\n        xlAscending = 1,\n        xlDescending = 2,\n    }\n"
        "    class Range {\n"
        "        private 'Excel.Range_typekey': Range;\n"
        "        readonly Cells: Range;\n"
        "        HorizontalAlignment: Aligns;\n"
        "        Value: Exclude<any, Function> & ((RangeValueDataType?: number) => any);\n"
        "        /** @param Order1 [Order1=1] */\n"
        "        Sort(\n            Key1?: Range | string,\n            Order1?: XlSortOrder,\n"
        "        ): any;\n"
        "        Item(RowIndex: number, ColumnIndex?: number): Range;\n"
        "        Item(Address: string): Range;\n"
        "    }\n"
        "}\n"
    )
    data = generate.generate([folder])
    assert data["enums"]["XlSortOrder"] == {"xlAscending": 1, "xlDescending": 2}
    members = data["classes"]["Range"]
    assert members["Cells"] == {"t": ["Range"], "ro": 1}
    assert members["HorizontalAlignment"]["t"] == ["Constants.xlCenter", "Constants.xlLeft"]
    assert members["Value"]["p"] == [["RangeValueDataType?", ["number"]]]
    assert members["Sort"] == [
        [[["Key1?", ["Range", "string"]], ["Order1?", ["XlSortOrder"]]], ["any"]]
    ]
    assert len(members["Item"]) == 2


# -- strictness ---------------------------------------------------------------------------------
def test_unknown_member_wrong_parameter_and_wrong_constant_are_refused(book: SimBook) -> None:
    api = book.sheets[0].api
    with pytest.raises(com.ObjectModelError):
        api.Range("A1").Vallue = 1
    with pytest.raises(com.ObjectModelError):
        api.Range("A1").Validation.Add(Typ=3, Formula1="a;b")
    with pytest.raises(com.ObjectModelError):
        api.Range("A1").Validation.Add(Type=99, Formula1="a;b")  # no XlDVType is 99
    with pytest.raises(com.ObjectModelError):
        api.PageSetup.Orientation = 3  # xlPortrait = 1, xlLandscape = 2
    with pytest.raises(com.ObjectModelError):
        api.Range("A1").Row = 2  # read-only
    with pytest.raises(com.ObjectModelError):
        api.Protect("clave", True, True, True, True, AllowSorting=True, AllowSortin=True)
    assert len(refused(book)) == 6
    # The same calls, right, go through.
    api.Range("A1").Validation.Add(Type=3, AlertStyle=1, Operator=1, Formula1="a;b")
    api.PageSetup.Orientation = com.enum_value("XlPageOrientation", "xlLandscape")
    api.Protect(Password="clave", AllowSorting=True)
    assert not refused(book)


def test_a_swallowed_violation_still_fails_the_test(book: SimBook) -> None:
    with contextlib.suppress(Exception):  # as the adapter's best-effort helpers do
        book.sheets[0].api.Rangee("A1")
    assert excel_sim.take_violations() == [
        "Worksheet no tiene el miembro «Rangee» en el modelo de objetos"
    ]


def test_international_list_separator_is_colombian(book: SimBook) -> None:
    app = book.app.api
    assert (
        app.International(com.enum_value("XlApplicationInternationalStrings", "xlListSeparator"))
        == ";"
    )
    assert app.International(3) == ","  # xlDecimalSeparator


# -- Excel's typing of text ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "becomes"),
    [
        ("Mar 3", dt.datetime),
        ("3-Jan", dt.datetime),
        ("3-ene", dt.datetime),
        ("Jun 2024", dt.datetime),
        ("12:30 pm", dt.datetime),
        ("1,5", float),
        ("0193", float),
        ("85 %", float),
        ("TRUE", bool),
        ("VERDADERO", bool),
    ],
)
def test_text_written_through_value_is_retyped(book: SimBook, text: str, becomes: type) -> None:
    cell = book.sheets[0].range("A1")
    cell.value = text
    assert isinstance(cell.value, becomes), cell.value
    # … unless the cell is text (@) or the text starts with Excel's apostrophe.
    cell.number_format = "@"
    cell.value = text
    assert cell.value == text
    other = book.sheets[0].range("B1")
    other.value = "'" + text
    assert other.value == text


def test_retyped_values_are_what_excel_makes_of_them(book: SimBook) -> None:
    sheet = book.sheets[0]
    sheet.range("A1").value = [["Jun 2024", "12:30 pm", "1,5", "0193", "#N/A", "=1+1", "85 %"]]
    values = sheet.range("A1:G1").value
    assert values[0] == dt.datetime(2024, 6, 1)
    assert (values[1].hour, values[1].minute) == (12, 30)
    assert values[2:4] == [1.5, 193.0]
    assert values[4] is None  # an error: xlwings reads it as empty
    assert sheet.range("E1").options(err_to_str=True).value == "#N/A"
    assert isinstance(book.sheet_model("Hoja1").value(1, 6), com.Formula)
    assert values[6] == pytest.approx(0.85)


# -- behaviours that bite --------------------------------------------------------------------------
def test_sorting_a_protected_sheet_needs_every_cell_unlocked(book: SimBook) -> None:
    sheet = book.sheets[0]
    sheet.range("A1").value = [["ID", "Resultado"], [2, "b"], [1, "a"]]
    api = sheet.api
    api.Range("B2:B3").Locked = False
    api.Protect(Password="", UserInterfaceOnly=True, AllowSorting=True, AllowFiltering=True)
    table = api.Range("A1:B3")
    with book.excel.as_user(), pytest.raises(com.ComError, match="protegida"):
        table.Sort(Key1=api.Range("A1"), Order1=1, Header=1)
    assert sheet.range("A2:A3").value == [2, 1]
    api.Range("A2:A3").Locked = False
    with book.excel.as_user():
        table.Sort(Key1=api.Range("A1"), Order1=1, Header=1)
    assert sheet.range("A2:B3").value == [[1, "a"], [2, "b"]]


def test_a_user_cannot_type_into_a_locked_cell_but_a_macro_can(book: SimBook) -> None:
    api = book.sheets[0].api
    api.Protect(Password="", UserInterfaceOnly=True)
    book.sheets[0].range("A1").value = "macro"
    with pytest.raises(com.ComError):
        book.type_into("Hoja1", "A1", "persona")
    assert book.sheets[0].range("A1").value == "macro"


def test_select_fails_on_an_inactive_sheet(book: SimBook) -> None:
    first = book.sheets[0]
    second = book.sheets.add("Otra", after=first)
    first.activate()
    with pytest.raises(com.ComError, match="Select"):
        second.api.Range("B2").Select()
    second.activate()
    second.api.Range("B2").Select()
    assert book.app.api.ActiveCell.Address == "$B$2"


def test_used_range_counts_formatted_and_validated_cells(book: SimBook) -> None:
    sheet = book.sheets[0]
    sheet.range("A1").value = [["a", "b"]]
    assert sheet.used_range.address == "$A$1:$B$1"
    sheet.api.Range("A2:A500").NumberFormat = "@"
    sheet.api.Range("C2:C40").Validation.Add(Type=3, Formula1="x;y")
    assert sheet.used_range.address == "$A$1:$C$500"
    sheet.api.Cells.Clear()
    assert sheet.used_range.address == "$A$1:$C$500"  # until the book is saved
    book.save()
    assert sheet.used_range.address == "$A$1"


# -- xlwings' converters on the engine ----------------------------------------------------------
def test_xlwings_shapes_dates_and_empty_cells(book: SimBook) -> None:
    sheet = book.sheets[0]
    when = dt.datetime(2026, 11, 29, 10, 30)
    sheet.range("A1").value = [[1, "x", when], [None, dt.date(2026, 1, 2), 2.5]]
    assert sheet.range("A1").value == 1.0
    assert sheet.range("A1:C1").value == [1.0, "x", when]
    assert sheet.range("A1:A2").value == [1.0, None]
    assert sheet.range("A1").options(ndim=2).value == [[1.0]]
    assert sheet.range("A1:C1").options(ndim=2).value == [[1.0, "x", when]]
    assert sheet.range("B2").value == dt.datetime(2026, 1, 2)
    assert sheet.range("B2").options(dates=dt.date).value == dt.date(2026, 1, 2)


def test_big_writes_and_reads_are_chunked_by_xlwings(book: SimBook) -> None:
    sheet = book.sheets[0]
    rows = [[i, "t", i * 2.0, "u"] for i in range(30_000)]  # 120,000 cells
    book.excel.reset_counts()
    sheet.range("A1").value = rows
    writes = book.writes()
    assert len(writes) == 2 and {w[4] for w in writes} == {4}  # xlwings: 100,000 cells a call
    assert book.counts.cells_written == 120_000
    back = sheet.range("A1:D30000").options(chunksize=10_000).value
    assert back[-1] == [29999.0, "t", 59998.0, "u"]
    assert len([e for e in book.excel.value_log if e[0] == "read"]) == 3


def test_costs_are_counted(book: SimBook) -> None:
    sheet = book.sheets[0]
    with book.measure() as counts:
        sheet.range("A1").value = [[1, 2], [3, 4], [5, 6]]
        sheet.range("A1:B3").value  # noqa: B018
    assert (counts.cells_written, counts.cells_read) == (6, 6)
    assert counts.com_calls == sum(counts.by_member.values()) > 0
    assert counts.by_member["Range.Value"] == 2


def test_book_caller_is_the_simulated_book(book: SimBook, monkeypatch: pytest.MonkeyPatch) -> None:
    book.set_caller(monkeypatch)
    caller = xw.Book.caller()
    assert caller.fullname == book.fullname
    caller.sheets[0].range("A1").value = "hola"
    assert book.sheet_model("Hoja1").value(1, 1) == "hola"
