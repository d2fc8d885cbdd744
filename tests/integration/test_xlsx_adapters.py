"""The xlsx adapters on their own: the writer (XlsxWriter, public API only) numbers its formats
in a fixed order through a scratch sheet that leaves no trace, and the reader (calamine,
openpyxl) reads back what the writer wrote."""

from __future__ import annotations

import datetime as dt
import inspect
import re
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
import xlsxwriter.worksheet
from hypothesis import given, settings
from hypothesis import strategies as st

from swat_xl.adapters import xlsx_rows, xlsx_writer
from swat_xl.adapters.xlsx_reader import XlsxReader
from swat_xl.errors import WorkbookError
from swat_xl.workbook.spec import Cell, Column, CondFormat, Sheet, Table, WorkbookSpec

PACKAGE_PARTS = (
    "xl/workbook.xml",
    "xl/_rels/workbook.xml.rels",
    "[Content_Types].xml",
    "docProps/app.xml",
)


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as package:
        return {name: package.read(name) for name in package.namelist()}


def _spec() -> WorkbookSpec:
    table = Table(
        [Column("Nombre"), Column("Fecha", kind="datetime"), Column("Nota", editable=True)],
        [["Ana", dt.datetime(2026, 11, 30, 9, 15), ""], ["Luis & <Co>", None, "ok"]],
        autofilter=True,
    )
    return WorkbookSpec(
        [
            Sheet("Uno & <dos>", tables=[table], cells=[Cell(5, 0, None, "int", formula="=1+1")]),
            Sheet("Oculta", cells=[Cell(0, 0, "x", "note")], hidden=True),
            Sheet("Tres", cells=[Cell(0, 0, 0.5, "pct")]),
        ],
        names={"KPI": "='Tres'!$A$1"},
        active="Tres",
    )


def _plain_xlsxwriter(path: Path) -> Path:
    """The same workbook written with XlsxWriter directly: same sheets, names, properties."""
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    book.set_properties(
        {"title": "SWAT Detractores", "author": "swat_xl", "created": dt.datetime(2021, 12, 7)}
    )
    book.set_calc_mode("auto")
    first = book.add_worksheet("Uno & <dos>")
    first.autofilter(0, 0, 2, 2)
    book.add_worksheet("Oculta").hide()
    book.add_worksheet("Tres").activate()
    book.define_name("KPI", "='Tres'!$A$1")
    book.close()
    return path


def test_the_package_is_xlsxwriter_s_without_the_scratch_sheet(tmp_path):
    written = tmp_path / "escrito.xlsx"
    xlsx_writer.render(_spec(), written)
    parts = _parts(written)
    reference = _parts(_plain_xlsxwriter(tmp_path / "referencia.xlsx"))
    for name in PACKAGE_PARTS:
        assert parts[name] == reference[name], name
    sheets = sorted(n for n in parts if n.startswith("xl/worksheets/"))
    assert sheets == [f"xl/worksheets/sheet{n}.xml" for n in (1, 2, 3)]
    assert all(xlsx_writer.SCRATCH_SHEET.encode() not in data for data in parts.values())


def test_a_sheet_named_like_the_scratch_sheet_stays(tmp_path):
    spec = WorkbookSpec([Sheet(xlsx_writer.SCRATCH_SHEET.upper(), cells=[Cell(0, 0, "mía")])])
    xlsx_writer.render(spec, tmp_path / "libro.xlsx")
    reader = XlsxReader(tmp_path / "libro.xlsx")
    try:
        assert reader.sheet_names() == [xlsx_writer.SCRATCH_SHEET.upper()]
        assert reader.rows(xlsx_writer.SCRATCH_SHEET.upper()) == [["mía"]]
    finally:
        reader.close()


def test_format_numbers_do_not_depend_on_what_the_sheets_hold(tmp_path):
    few = WorkbookSpec([Sheet("A", cells=[Cell(0, 0, "x")])])
    many = WorkbookSpec(
        [
            Sheet(
                "B",
                cells=[Cell(0, 0, 0.25, "big_pct"), Cell(1, 0, "t", "title")],
                tables=[Table([Column("F", kind="date", editable=True)], [[dt.date(2026, 1, 2)]])],
                cond_formats=[CondFormat(0, 0, 9, 0, "=A1>0", "warn")],
            ),
            Sheet("C", cells=[Cell(0, 0, dt.datetime(2026, 1, 1))]),
        ]
    )
    xlsx_writer.render(few, tmp_path / "pocos.xlsx")
    xlsx_writer.render(many, tmp_path / "muchos.xlsx")
    styles = _parts(tmp_path / "pocos.xlsx")["xl/styles.xml"]
    assert styles == _parts(tmp_path / "muchos.xlsx")["xl/styles.xml"]
    assert styles.count(b"<xf ") > 50  # every format, used or not


def test_streamed_rows_carry_the_numbers_xlsxwriter_gave(tmp_path, monkeypatch):
    """The style of each streamed column is the one XlsxWriter gives the column's cells."""
    spec = _spec()
    streamed: list[int] = []
    splice = xlsx_rows.splice

    def spy(source, target, blocks, **options):
        streamed.extend(block.sheet_index for block in blocks)
        return splice(source, target, blocks, **options)

    monkeypatch.setattr(xlsx_rows, "splice", spy)
    for name, stream in (("rapido", True), ("lento", False)):
        monkeypatch.setattr(xlsx_writer, "STREAM_TABLES", stream)
        xlsx_writer.render(spec, tmp_path / f"{name}.xlsx")
    assert streamed == [0]
    fast, slow = (_parts(tmp_path / f"{n}.xlsx") for n in ("rapido", "lento"))
    fast, slow = fast["xl/worksheets/sheet1.xml"], slow["xl/worksheets/sheet1.xml"]
    cell = re.compile(rb'<c r="([A-Z]+[0-9]+)"(?: s="(\d+)")?')
    assert cell.findall(fast) == cell.findall(slow)
    assert rb'<c r="B2" s="' in fast  # the date column has its format


def test_the_writer_uses_xlsxwriter_s_public_api_only():
    source = Path(xlsx_writer.__file__).read_text(encoding="utf-8")
    assert not re.findall(r"\._get_\w+\(", source)


def test_the_reader_reads_back_what_the_writer_wrote(tmp_path):
    path = tmp_path / "libro.xlsx"
    xlsx_writer.render(_spec(), path)
    reader = XlsxReader(path)
    try:
        assert reader.sheet_names() == ["Uno & <dos>", "Oculta", "Tres"]
        assert reader.header("Uno & <dos>") == ["Nombre", "Fecha", "Nota"]
        rows = reader.rows("Uno & <dos>")
        assert rows[1][:2] == ["Ana", dt.datetime(2026, 11, 30, 9, 15)]
        assert rows[2] == ["Luis & <Co>", "", "ok"]
        assert reader.header("No existe") == []
        with pytest.raises(WorkbookError):
            reader.rows("No existe")
        user = reader.user_sheet("Uno & <dos>")
        assert user.role == "user"
        cells = {(c.row, c.col): c for c in user.cells}
        assert cells[(5, 0)].formula == "=1+1" and cells[(5, 0)].value is None
        assert cells[(2, 0)].value == "Luis & <Co>" and cells[(2, 0)].kind == "text"
    finally:
        reader.close()


def test_the_reader_names_a_missing_or_broken_file(tmp_path):
    with pytest.raises(WorkbookError, match="No se encontró el libro maestro"):
        XlsxReader(tmp_path / "nada.xlsx").sheet_names()
    broken = tmp_path / "roto.xlsx"
    broken.write_bytes(b"PK\x03\x04 no es un libro")
    with pytest.raises(WorkbookError, match="No se pudo leer el libro maestro") as caught:
        XlsxReader(broken).sheet_names()
    assert caught.value.file == str(broken)


@pytest.mark.parametrize("future", [False, True])
def test_formulas_prepared_once_are_prepared_as_xlsxwriter_prepares_them(future: bool) -> None:
    """The writer's worksheets keep what XlsxWriter made of each formula: the same text as a
    plain XlsxWriter worksheet gives, every time, for either flag and future-functions mode."""
    formulas = [
        '=AND($A2<>"",$O2="",$K2<NOW())',
        "=XLOOKUP(A1,B:B,C:C)+STDEV.S(D:D)",
        "{=SUM(IFERROR(1/COUNTIF(A2:A9,A2:A9),0))}",
        "=CONCAT(A1,B1)&_xlfn.IFS(TRUE,1)",
        "=SUM(A1:A3)",
    ]
    mine, plain = xlsx_writer._Worksheet(), xlsxwriter.worksheet.Worksheet()
    mine.use_future_functions = plain.use_future_functions = future
    for _ in range(2):  # the second time from what was kept
        for formula in formulas:
            for expand in (False, True):
                expected = plain._prepare_formula(formula, expand)
                assert mine._prepare_formula(formula, expand) == expected
    # what the flags change is kept apart
    assert mine._prepare_formula("=STDEV.S(D:D)", True) == "_xlfn.STDEV.S(D:D)"
    assert mine._prepare_formula("=STDEV.S(D:D)", False) == (
        "_xlfn.STDEV.S(D:D)" if future else "STDEV.S(D:D)"
    )


_NAMES = [
    "SUM",
    "IFERROR",
    "XLOOKUP",
    "FILTER",
    "SORT",
    "SORTBY",
    "SINGLE",
    "INGLE",
    "STDEV.S",
    "BETA.DIST",
    "BETA",
    "DIST",
    "LOG10",
    "CONCAT",
    "IFS",
    "_xlfn.IFS",
    "COUNTIFS",
    "NOW",
    "ACOT",
    "ACOTH",
    "AGGREGATE",
    "LET",
    "MAP",
    "XMAP",
    "TEXTSPLIT",
]
_PIECES = st.one_of(
    st.sampled_from(_NAMES).map(lambda name: name + "("),
    st.sampled_from(["A1", "$B$2", "C5:C9", ",", ")", "+", "&", '"x("', " ", ".", "0", "<>"]),
    st.text(alphabet="ABCSINGLEXO.(_=+ 1", max_size=6),
)


@settings(max_examples=400, deadline=None)
@given(
    start=st.sampled_from(["", "=", "{=", "{"]),
    pieces=st.lists(_PIECES, max_size=8),
    end=st.sampled_from(["", "}"]),
    future=st.booleans(),
    expand=st.booleans(),
)
def test_a_formula_is_prepared_as_xlsxwriter_prepares_it(start, pieces, end, future, expand):
    """Formulas XlsxWriter's rewrites skip are not run through them: prepared or not, the
    text is XlsxWriter's own, for any formula, flag and future-functions mode."""
    formula = start + "".join(pieces) + end
    mine, plain = xlsx_writer._Worksheet(), xlsxwriter.worksheet.Worksheet()
    mine.use_future_functions = plain.use_future_functions = future
    xlsx_writer._Worksheet._prepared.clear()
    assert mine._prepare_formula(formula, expand) == plain._prepare_formula(formula, expand)


def test_the_rewrites_are_known_and_a_plain_formula_skips_them(monkeypatch):
    assert xlsx_writer._rewrites() is not None
    calls: list[str] = []
    real = xlsxwriter.worksheet.Worksheet._prepare_formula

    def counted(self, formula, expand=False):
        calls.append(formula)
        return real(self, formula, expand)

    monkeypatch.setattr(xlsxwriter.worksheet.Worksheet, "_prepare_formula", counted)
    xlsx_writer._Worksheet._prepared.clear()
    sheet = xlsx_writer._Worksheet()
    assert sheet._prepare_formula('=IFERROR(C5/B5,"")') == 'IFERROR(C5/B5,"")'
    assert sheet._prepare_formula("=XLOOKUP(A1,B:B,C:C)") == "_xlfn.XLOOKUP(A1,B:B,C:C)"
    assert calls == ["=XLOOKUP(A1,B:B,C:C)"]


def test_every_function_xlsxwriter_rewrites_is_rewritten():
    """Each name XlsxWriter's source rewrites (read from the source, not from the recording
    the writer makes), in a formula, is prepared as XlsxWriter prepares it."""
    source = inspect.getsource(xlsxwriter.worksheet.Worksheet._prepare_formula)
    names = re.findall(r're\.sub\(r"\\[bS]([A-Za-z0-9_.]+)\\\(', source)
    assert len(names) > 100
    mine, plain = xlsx_writer._Worksheet(), xlsxwriter.worksheet.Worksheet()
    for future in (False, True):
        mine.use_future_functions = plain.use_future_functions = future
        for name in names:
            for formula in (f"=1+{name}(A1)", f"{{=S{name}(A1)}}", f"=X{name}(A1)"):
                for expand in (False, True):
                    expected = plain._prepare_formula(formula, expand)
                    assert mine._prepare_formula(formula, expand) == expected, formula
