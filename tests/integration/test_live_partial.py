"""The ribbon writes only what changed: a sheet of records drawn by the last click is brought up
to date by writing its changed rows and appending the new ones, and the workbook it leaves is,
part by part, the one a whole redraw leaves (on the Excel model, ``tests/helpers/excel_sim``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from swat_xl import macros
from swat_xl.adapters.xlwings_live import DRAWN_NAME
from swat_xl.demo.sample import make_export
from tests.helpers import excel_com as com
from tests.helpers.cli import FIXED_NOW, run_cli
from tests.helpers.excel_sim import SimBook, open_workbook

FORMATS = ("NumberFormat", "Locked", "Interior.Color", "Font.Bold", "Font.Color", "WrapText")


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWAT_NOW", FIXED_NOW)


def run(book: SimBook, monkeypatch: pytest.MonkeyPatch, action: str, *args: str) -> None:
    book.set_caller(monkeypatch)
    macros.run(action, *args)
    alert = book.sim_app.alerts[-1]
    assert alert["mode"] == "info", alert["prompt"]


def agent_sheets(book: SimBook) -> list[com.Worksheet]:
    found = []
    for name in book.sheet_names():
        table = book.sheet_model(name).table()
        if table and "ID" in table[0] and "Resultado" in table[0] and len(table) > 3:
            found.append(book.sheet_model(name))
    return found


def type_marks(book: SimBook) -> None:
    """What agents do between two clicks: marks typed (one the ledger stores differently), a
    mark erased, and a stray mark below one sheet's rows (that sheet is drawn whole)."""
    first, second = agent_sheets(book)[:2]
    header = first.table()[0]

    def cell(name: str, row: int) -> str:
        return f"{com.col_name(header.index(name) + 1)}{row}"

    when = dt.datetime.fromisoformat(FIXED_NOW) - dt.timedelta(hours=1)
    book.type_into(first.title, cell("Intento 1", 2), when)
    book.type_into(first.title, cell("Resultado", 2), "contacto efectivo")
    book.type_into(first.title, cell("Solución", 2), "ESCALADO")
    book.type_into(first.title, cell("Intento 1", 3), when)
    book.type_into(first.title, cell("Resultado", 3), "NO CONTACTO")
    book.type_into(first.title, cell("Observaciones", 3), "cliente pide llamar luego")
    below = len(second.table()) + 2
    book.type_into(second.title, cell("Resultado", below), "NO CONTACTO")


def effective(sheet: com.Worksheet, rows: list[int], cols: int) -> dict[Any, Any]:
    """Formats and validation rule of each probed cell, as the model resolves them."""
    out: dict[Any, Any] = {}
    for r in rows:
        for c in range(1, cols + 1):
            rule = next(
                (dict(v) for area, v in reversed(sheet.validations) if _covers(area, r, c)), None
            )
            formats = tuple(sheet.format_of(r, c, name) for name in FORMATS)
            out[(r, c)] = (formats, rule and (rule.get("Formula1"), rule.get("Type")))
    return out


def _covers(area: tuple[int, int, int, int], r: int, c: int) -> bool:
    return area[0] <= r <= area[2] and area[1] <= c <= area[3]


def parts(book: SimBook) -> dict[str, dict[str, Any]]:
    """Every sheet's values (formulas as their text), formats and dropdowns on probed rows,
    conditional formats, filter, widths, frozen panes and visibility."""
    out = {}
    for name in book.sheet_names():
        sheet = book.sheet_model(name)
        values = {k: com._shown(v) for k, v in sheet.values.items()}
        last = max((r for r, _ in values), default=1)
        cols = max((c for _, c in values), default=1)
        probes = sorted({*range(1, last + 520, 7), 1, 2, last, last + 1, last + 500, last + 501})
        out[name] = {
            "values": values,
            "formats": effective(sheet, probes, cols),
            "conditional": sorted(
                (c["area"], c["formula_local"], c["format"]._props.get("Interior", None) is None)
                for c in sheet.cond_formats
            ),
            "filter": sheet.autofilter,
            "widths": dict(sheet.column_widths),
            "heights": dict(sheet.row_heights),
            "freeze": sheet.freeze,
            "visible": sheet.visible,
        }
    return out


def test_a_click_after_marks_and_a_new_cut_writes_what_changed_and_leaves_a_whole_redraw(
    tmp_path: Path, roster_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first_cut, second_cut = tmp_path / "corte1.xlsx", tmp_path / "corte2.xlsx"
    make_export(first_cut, rows=300, seed=5)
    make_export(second_cut, rows=300, seed=9)
    folders = {}
    for kind in ("partial", "whole"):
        folder = tmp_path / kind
        folder.mkdir()
        master = folder / "SWAT_Detractores.xlsm"
        assert run_cli("init", master, "--roster", roster_csv).code == 0
        folders[kind] = master
    books, written = {}, {}
    for kind, master in folders.items():
        book = books[kind] = open_workbook(master)
        run(book, monkeypatch, "importar_corte", str(first_cut))
        type_marks(book)
        if kind == "whole":  # no mark of the last draw: every sheet is drawn whole
            book.model._names.pop(DRAWN_NAME)
        with book.measure() as counts:
            run(book, monkeypatch, "importar_corte", str(second_cut))
        written[kind] = (counts.cells_written, book.writes_by_sheet())
    partial, whole = books["partial"], books["whole"]
    assert partial.sheet_names() == whole.sheet_names()
    got, expected = parts(partial), parts(whole)
    for name in expected:
        for part in expected[name]:
            assert got[name][part] == expected[name][part], (name, part)
    # and it did write less: the rows drawn before and unchanged were left as they were
    base_cells = len(whole.sheet_model("Base").table()) * len(whole.sheet_model("Base").table()[0])
    assert written["partial"][0] < 0.8 * written["whole"][0]
    assert sum(1 for e in partial.writes() if e[1] == "Base") >= 1
    assert sum(e[3] * e[4] for e in partial.writes() if e[1] == "Base") < 0.8 * base_cells
    marked = agent_sheets(partial)[0]
    header = marked.table()[0]
    assert marked.table()[1][header.index("Resultado")] == "CONTACTO EFECTIVO"


def test_rows_sorted_by_a_person_are_drawn_whole(
    tmp_path: Path, roster_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    master = tmp_path / "SWAT_Detractores.xlsm"
    assert run_cli("init", master, "--roster", roster_csv).code == 0
    cut = tmp_path / "corte.xlsx"
    make_export(cut, rows=300, seed=5)
    book = open_workbook(master)
    run(book, monkeypatch, "importar_corte", str(cut))
    sheet = agent_sheets(book)[0]
    table = sheet.table()
    drawn = [row[0] for row in table[1:]]
    width = len(table[0])
    with book.excel.as_user():
        area = sheet.call_Range(f"A1:{com.col_name(width)}{len(table)}")
        area.call_Sort(Key1=sheet.call_Range("A1"), Order1=2, Header=1)
    assert [row[0] for row in sheet.table()[1:]] == drawn[::-1]
    run(book, monkeypatch, "actualizar_indicador")
    assert [row[0] for row in sheet.table()[1:]] == drawn  # the ledger's order again
    # a click that changed nothing writes none of the sheets of records
    with book.measure():
        run(book, monkeypatch, "actualizar_indicador")
    assert sheet.title not in book.writes_by_sheet()
    assert "Base" not in book.writes_by_sheet()
