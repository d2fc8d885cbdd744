"""What real Excel does differently, on the Excel simulation: each test here failed against the
model before the fix it guards (text retyped, agent sheets that could not be sorted, reads
sized by UsedRange, Config numbers as text, printing, what a supervisor sees)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from openpyxl import load_workbook

from swat_xl import macros
from swat_xl.demo.sample import make_export
from tests.helpers import excel_com as com
from tests.helpers.cli import FIXED_NOW, ledger_of, run_cli
from tests.helpers.excel_sim import SimBook, open_workbook

AGENTS = ("Ana Gómez", "Bruno Díaz", "Carla Ruiz")
#: Text from the export that Excel would retype if it were written as typed input.
TRICKY = ("Mar 3", "3-Jan", "Jun 2024", "#N/A", "12:30 pm", "1,5", "0193", "=1+1", "TRUE")


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWAT_NOW", FIXED_NOW)


@pytest.fixture
def export(tmp_path: Path) -> Path:
    """A Power BI cut whose reasons and customer names are text Excel would retype."""
    path = tmp_path / "descargas" / "data.xlsx"
    path.parent.mkdir()
    make_export(path, rows=60, seed=5, footer=False)
    book = load_workbook(path)
    ws = book.active
    header = [c.value for c in ws[1]]
    reason, name = header.index("MOTIVO") + 1, header.index("NOMBRE_CLIENTE") + 1
    for row in range(2, ws.max_row + 1):
        for col, shift in ((reason, 0), (name, 5)):
            cell = ws.cell(row, col)
            cell.value = TRICKY[(row + shift) % len(TRICKY)]
            cell.data_type = "s"  # text cells, as Power BI writes them (never a formula)
    book.save(path)
    return path


@pytest.fixture
def imported(new_master: Path, export: Path) -> Path:
    result = run_cli("import", export, "--workbook", new_master)
    assert result.code == 0, result.err
    return new_master


def excel(monkeypatch: pytest.MonkeyPatch, workbook: Path) -> SimBook:
    book = open_workbook(workbook)
    book.set_caller(monkeypatch)
    return book


def run(book: SimBook, action: str, *args: str) -> str:
    macros.run(action, *args)
    alert = book.sim_app.alerts[-1]
    assert alert["mode"] == "info", alert["prompt"]
    return alert["prompt"]


def header_of(sheet: com.Worksheet) -> list:
    return sheet.table()[0]


def col(sheet: com.Worksheet, name: str) -> int:
    return header_of(sheet).index(name) + 1


# -- text stays text ------------------------------------------------------------------------------
def test_text_from_the_export_stays_text_in_excel(
    monkeypatch: pytest.MonkeyPatch, new_master: Path, export: Path
) -> None:
    book = excel(monkeypatch, new_master)
    run(book, "importar_corte", str(export))
    base = book.sheet_model("Base")
    reasons = base.column("Motivo")
    names = base.column("Cliente")
    assert set(reasons) == set(TRICKY), reasons
    assert set(names) == set(TRICKY), names
    for sheet in AGENTS:
        model = book.sheet_model(sheet)
        assert all(isinstance(v, str) for v in model.column("Motivo") if v is not None)
        assert all(isinstance(v, str) for v in model.column("ANI") if v is not None)


def test_what_an_agent_types_in_a_text_column_stays_text(
    monkeypatch: pytest.MonkeyPatch, imported: Path
) -> None:
    book = excel(monkeypatch, imported)
    run(book, "asignar_repartir")
    sheet = book.sheet_model(AGENTS[0])
    order = com.col_name(col(sheet, "OT / LLS"))
    record_id = int(sheet.value(2, 1))
    assert sheet.format_of(2, col(sheet, "OT / LLS"), "NumberFormat") == "@"
    book.type_into(AGENTS[0], f"{order}2", "0193")
    run(book, "actualizar_indicador")
    with sqlite3.connect(ledger_of(imported)) as db:
        (stored,) = db.execute(
            "SELECT order_number FROM records WHERE id = ?", (record_id,)
        ).fetchone()
    assert stored == "0193"


# -- agents sort and filter their own sheet --------------------------------------------------------
def _sort_as_an_agent(book: SimBook, sheet: str) -> None:
    """Data > Sort by «Vence» (newest first) and Data > Filter, as an agent does in Excel."""
    model = book.sheet_model(sheet)
    header = header_of(model)
    rows = len(model.table())
    table = model.call_Range(f"A1:{com.col_name(len(header))}{rows}")
    due = model.call_Range(f"{com.col_name(col(model, 'Vence'))}1")
    with book.excel.as_user():
        table.call_Sort(Key1=due, Order1=2, Header=1)
        table.call_AutoFilter()


def test_agents_sort_and_filter_their_sheet_in_excel(
    monkeypatch: pytest.MonkeyPatch, imported: Path
) -> None:
    made_by_the_cli = excel(monkeypatch, imported)
    _sort_as_an_agent(made_by_the_cli, AGENTS[0])  # the file path's sheets
    run(made_by_the_cli, "asignar_repartir")
    for agent in AGENTS:  # … and what the ribbon draws
        _sort_as_an_agent(made_by_the_cli, agent)


def test_after_an_agent_sorts_her_sheet_marks_reach_the_right_record(
    monkeypatch: pytest.MonkeyPatch, imported: Path
) -> None:
    book = excel(monkeypatch, imported)
    run(book, "asignar_repartir")
    sheet = book.sheet_model(AGENTS[1])
    _sort_as_an_agent(book, AGENTS[1])
    record_id = int(sheet.value(2, col(sheet, "ID")))
    book.type_into(AGENTS[1], f"{com.col_name(col(sheet, 'Resultado'))}2", "CONTACTO EFECTIVO")
    run(book, "actualizar_indicador")
    with sqlite3.connect(ledger_of(imported)) as db:
        marked = db.execute("SELECT id FROM records WHERE outcome <> ''").fetchall()
    assert marked == [(record_id,)]


# -- reads sized by the header row ----------------------------------------------------------------
def test_reads_are_sized_by_the_header_row_not_the_used_range(
    monkeypatch: pytest.MonkeyPatch, imported: Path
) -> None:
    book = excel(monkeypatch, imported)
    sheet = book.sheet_model(AGENTS[2])
    rows, width = len(sheet.table()), len(header_of(sheet))
    with book.excel.as_user():  # someone once formatted a cell far below and to the right
        sheet.call_Range("AZ5000").set_NumberFormat("0.00")
    book.excel.reset_counts()
    run(book, "actualizar_indicador")
    reads = [e for e in book.excel.value_log if e[0] == "read" and e[1] == AGENTS[2]]
    assert reads and all(e[3] <= rows and e[4] <= width for e in reads), reads


# -- Config numbers --------------------------------------------------------------------------------
NUMBERS = {
    "meta_contacto_efectivo": 0.8,
    "horas_vencimiento": 24,
    "intentos_no_contacto": 3,
    "copias_a_conservar": 10,
    "espera_bloqueo_segundos": 5,
    "retencion_dias": 365,
}


def _config_values(rows: list) -> dict:
    return {row[0]: row[1] for row in rows[1:] if row and row[0]}


def test_config_numbers_are_numbers_in_the_file(new_master: Path) -> None:
    ws = load_workbook(new_master)["Config"]
    values = _config_values([[c.value for c in row] for row in ws.iter_rows()])
    for key, number in NUMBERS.items():
        assert isinstance(values[key], int | float) and values[key] == number, (key, values[key])
    assert values["aliado"] == "Almacontact"


def test_config_numbers_are_numbers_in_excel(
    monkeypatch: pytest.MonkeyPatch, imported: Path
) -> None:
    book = excel(monkeypatch, imported)
    run(book, "asignar_repartir")
    values = _config_values(book.sheet_model("Config").table())
    for key, number in NUMBERS.items():
        assert values[key] == number and isinstance(values[key], float), (key, values[key])


@pytest.mark.parametrize("typed", ["0,85", "0.85", "85 %", "85"])
def test_a_target_typed_in_config_is_read_whatever_the_locale(
    monkeypatch: pytest.MonkeyPatch, imported: Path, typed: str
) -> None:
    book = excel(monkeypatch, imported)
    config = book.sheet_model("Config")
    row = [r[0] for r in config.table()].index("meta_contacto_efectivo") + 1
    book.type_into("Config", f"B{row}", typed)
    text = run(book, "actualizar_indicador")
    assert "(meta 85,0 %)" in text, text


# -- printing ---------------------------------------------------------------------------------
def test_printing_in_the_file(imported: Path) -> None:
    book = load_workbook(imported)
    for name in ("Inicio", "Indicador", AGENTS[0]):
        ws = book[name]
        assert ws.page_setup.orientation == "landscape", name
        assert ws.sheet_properties.pageSetUpPr.fitToPage, name
        assert ws.page_setup.fitToWidth in (1, None) and ws.page_setup.fitToHeight == 0, name
    assert book[AGENTS[0]].print_title_rows == "$1:$1"


def test_printing_in_excel(monkeypatch: pytest.MonkeyPatch, imported: Path) -> None:
    book = excel(monkeypatch, imported)
    run(book, "asignar_repartir")
    landscape = com.enum_value("XlPageOrientation", "xlLandscape")
    for name in ("Inicio", "Indicador", AGENTS[0]):
        page = book.sheet_model(name).page_setup
        assert page["Orientation"] == landscape, name
        assert (page["Zoom"], page["FitToPagesWide"], page["FitToPagesTall"]) == (False, 1, False)
    assert book.sheet_model(AGENTS[0]).page_setup["PrintTitleRows"] == "$1:$1"


# -- what a supervisor sees first ------------------------------------------------------------
def _agent_list(rows: list) -> tuple[list, list]:
    """Inicio's list of agent sheets: its header row and the rows below it."""
    start = next(i for i, row in enumerate(rows) if row and row[0] == "Hojas de asesor")
    listed = [row for row in rows[start + 2 :] if row and row[0]]
    return rows[start + 1][:2], listed


def test_home_lists_agent_sheets_with_headers_and_links_in_the_file(imported: Path) -> None:
    ws = load_workbook(imported)["Inicio"]
    header, listed = _agent_list([[c.value for c in row] for row in ws.iter_rows()])
    assert header == ["Hoja (clic para abrirla)", "Asesor"]
    assert [row[1] for row in listed] == list(AGENTS)
    for sheet, row in zip(AGENTS, listed, strict=True):
        assert row[0] == f'=HYPERLINK("#\'{sheet}\'!A1","{sheet}")'
    cached = load_workbook(imported, data_only=True)["Inicio"]
    assert [r[0] for r in _agent_list([[c.value for c in r] for r in cached.iter_rows()])[1]] == (
        list(AGENTS)
    )


def test_home_lists_agent_sheets_with_headers_and_links_in_excel(
    monkeypatch: pytest.MonkeyPatch, imported: Path
) -> None:
    book = excel(monkeypatch, imported)
    run(book, "asignar_repartir")
    header, listed = _agent_list(book.sheet_model("Inicio").table())
    assert header == ["Hoja (clic para abrirla)", "Asesor"]
    assert [row[0] for row in listed] == [
        f'=HYPERLINK("#\'{sheet}\'!A1","{sheet}")' for sheet in AGENTS
    ]


def test_home_live_cells_carry_their_results(imported: Path) -> None:
    cached = load_workbook(imported, data_only=True)
    home, indicator = cached["Inicio"], cached["Indicador"]
    kpi = {
        name: cached[sheet][ref.replace("$", "")].value
        for name, definition in cached.defined_names.items()
        for sheet, ref in definition.destinations
    }
    shown = {home[f"B{r}"].value for r in range(1, 10)} | {
        home[f"C{r}"].value for r in range(1, 10)
    }
    assert kpi["KPI_PENDIENTES"] > 0 and indicator is not None
    for name in ("KPI_CONTACTO_EFECTIVO", "KPI_META", "KPI_PENDIENTES", "KPI_VENCIDOS"):
        assert kpi[name] in shown, (name, kpi[name], shown)
    formulas = load_workbook(imported)["Inicio"]
    assert formulas["B6"].value == "=KPI_PENDIENTES" and home["B6"].value == kpi["KPI_PENDIENTES"]
    assert home["B5"].value == pytest.approx(0.8)


def test_the_daily_chart_shows_the_target_and_dd_mm_dates_in_excel(
    monkeypatch: pytest.MonkeyPatch, imported: Path
) -> None:
    book = excel(monkeypatch, imported)
    run(book, "actualizar_indicador")  # one day of cuts: a single point per series
    (holder,) = book.sheet_model("Indicador").charts
    chart = holder._props["Chart"]
    target = next(s for s in chart.series if str(s._props["Name"]).startswith("Meta"))
    assert target._props["MarkerStyle"] == com.enum_value("XlMarkerStyle", "xlMarkerStyleDash")
    category = chart.axes[com.enum_value("XlAxisType", "xlCategory")]
    assert category._props["TickLabels"]._props["NumberFormat"] == "dd/mm"


def test_the_daily_chart_shows_the_target_and_dd_mm_dates_in_the_file(imported: Path) -> None:
    import zipfile

    with zipfile.ZipFile(imported) as package:
        charts = [n for n in package.namelist() if n.startswith("xl/charts/chart")]
        xml = package.read(charts[0]).decode("utf-8")
    target = xml[xml.index("Meta") :]
    assert '<c:symbol val="dash"/>' in target
    assert 'formatCode="dd/mm"' in xml


def _too_narrow(widths: dict[int, float], header: list, kinds: dict[str, float]) -> list:
    """Columns whose width shows «###» for their dates or breaks a header word."""
    out = []
    for index, text in enumerate(header):
        if not text:
            break  # the table ends here (a note may follow)
        width = widths.get(index + 1, 8.43)
        longest = max(len(word) for word in str(text).split())
        if width < kinds.get(str(text), 0) or width < longest + 2:
            out.append((text, width))
    return out


DATES = {"Fecha encuesta": 16, "Asignado": 16, "Vence": 16, "Intento 1": 16, "Importado": 16}


def _file_widths(ws) -> dict[int, float]:
    from openpyxl.utils import column_index_from_string

    out: dict[int, float] = {}
    for letter, dimension in ws.column_dimensions.items():
        for index in range(
            dimension.min or column_index_from_string(letter), (dimension.max or 0) + 1
        ):
            out[index] = dimension.width
    return out


def test_columns_wide_enough_in_the_file_and_agent_workbooks(
    monkeypatch: pytest.MonkeyPatch, imported: Path, tmp_path: Path
) -> None:
    book = load_workbook(imported)
    for name in (*AGENTS, "Base", "Sin asignar", "Bitácora", "Asesores"):
        ws = book[name]
        header = [c.value for c in ws[1]]
        assert not _too_narrow(_file_widths(ws), header, DATES), name
    excel_book = excel(monkeypatch, imported)
    run(excel_book, "libros_asesor")
    for path in (imported.parent / "Libros asesores").glob("*.xlsx"):
        ws = next(w for w in load_workbook(path) if w.sheet_state == "visible")
        header = [c.value for c in ws[1]]
        assert not _too_narrow(_file_widths(ws), header, DATES), path.name


def test_columns_wide_enough_in_excel(monkeypatch: pytest.MonkeyPatch, imported: Path) -> None:
    book = excel(monkeypatch, imported)
    run(book, "actualizar_indicador")
    for name in (*AGENTS, "Base", "Asesores", "Bitácora"):
        model = book.sheet_model(name)
        assert not _too_narrow(model.column_widths, header_of(model), DATES), name
    indicator = book.sheet_model("Indicador")
    importado = [(r, c) for (r, c), v in indicator.values.items() if v == "Importado"]
    assert importado and indicator.column_widths[importado[0][1]] >= 16


@pytest.mark.libreoffice
def test_home_links_and_live_cells_recalculated_by_libreoffice(
    imported: Path, tmp_path: Path
) -> None:
    from tests.helpers.libreoffice import recalculate, soffice

    if soffice() is None:
        pytest.skip("LibreOffice (soffice) no está instalado")
    (recalculated,) = recalculate([imported], tmp_path / "lo")
    book = load_workbook(recalculated, data_only=True)
    _, listed = _agent_list([[c.value for c in row] for row in book["Inicio"].iter_rows()])
    assert [row[0] for row in listed] == list(AGENTS)
    home = book["Inicio"]
    kpi = {
        name: book[sheet][ref.replace("$", "")].value
        for name, definition in book.defined_names.items()
        for sheet, ref in definition.destinations
    }
    assert home["B4"].value == pytest.approx(kpi["KPI_CONTACTO_EFECTIVO"])
    assert (home["B5"].value, home["B6"].value, home["C6"].value) == (
        pytest.approx(0.8),
        kpi["KPI_PENDIENTES"],
        kpi["KPI_VENCIDOS"],
    )


def test_freeze_panes_and_conditional_formats_land_in_the_master_with_another_book_active(
    monkeypatch: pytest.MonkeyPatch, imported: Path, tmp_path: Path
) -> None:
    book = excel(monkeypatch, imported)
    other = book.excel.open_book(str(tmp_path / "Libro de Ana.xlsx"))  # now the active workbook
    other.add_sheet("Hoja1")
    run(book, "asignar_repartir")
    sheet = book.sheet_model(AGENTS[0])
    assert sheet.freeze == (1, 2)
    assert sheet.cond_formats and all(c["anchor"] == c["area"][:2] for c in sheet.cond_formats)
    assert other.sheet("Hoja1").freeze is None and not other.sheet("Hoja1").cond_formats
