"""What a ribbon click costs in Excel, counted on the Excel model (``tests/helpers/excel_sim``):
the live path finds each sheet of the master without walking Excel's sheet collection once per
lookup, and sizes the columns of equal width in one call."""

from __future__ import annotations

from pathlib import Path

import pytest

from swat_xl import macros
from swat_xl.demo.sample import make_export
from tests.helpers.cli import FIXED_NOW, run_cli
from tests.helpers.excel_sim import open_workbook


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWAT_NOW", FIXED_NOW)


def test_an_import_and_a_refresh_look_each_sheet_up_once(
    tmp_path: Path, roster_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    master = tmp_path / "SWAT_Detractores.xlsm"
    assert run_cli("init", master, "--roster", roster_csv).code == 0
    export = tmp_path / "data.xlsx"
    make_export(export, rows=300, seed=5)
    book = open_workbook(master)
    book.set_caller(monkeypatch)
    for action, args in (("importar_corte", (str(export),)), ("actualizar_indicador", ())):
        with book.measure() as counts:
            macros.run(action, *args)
        alert = book.sim_app.alerts[-1]
        assert alert["mode"] == "info", alert["prompt"]
        sheets = len(book.sheet_names())
        # Walking the sheets to find each one by name cost two calls per sheet per lookup
        # (Sheets.Item and Worksheet.Name): 1,917 and 2,314 of them on a 33-sheet master.
        assert counts.by_member["Sheets.Item"] <= 2 * sheets, action
        assert counts.by_member["Worksheet.Name"] <= 15 * sheets, action  # xlwings: ~10 a write
        widths = counts.by_member["Range.ColumnWidth"] + counts.by_member["Worksheet.Columns"]
        columns = sum(len(book.sheet_model(name).column_widths) for name in book.sheet_names())
        assert widths < 2 * columns, action  # not two calls for every sized column
    base = book.sheet_model("Base")
    assert base.column_widths  # the widths are there all the same


def test_a_cut_into_a_used_master_moves_cells_in_proportion_to_the_cut(
    tmp_path: Path, roster_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14 target 4, counted: a cut imported by the ribbon into a master that already
    holds earlier cuts moves (reads and writes) at most twice the cells of the same cut into a
    fresh master; the earlier rows are neither read whole nor written again."""
    cuts = []
    for seed in (5, 6, 7):
        cut = tmp_path / f"corte{seed}.xlsx"
        make_export(cut, rows=300, seed=seed)
        cuts.append(cut)
    moved = {}
    for kind, earlier in (("fresh", []), ("used", cuts[:2])):
        folder = tmp_path / kind
        folder.mkdir()
        master = folder / "SWAT_Detractores.xlsm"
        assert run_cli("init", master, "--roster", roster_csv).code == 0
        book = open_workbook(master)
        book.set_caller(monkeypatch)
        macros.run("actualizar_indicador")  # the workbook as the ribbon leaves it
        for cut in earlier:
            macros.run("importar_corte", str(cut))
        with book.measure() as counts:
            macros.run("importar_corte", str(cuts[2]))
        alert = book.sim_app.alerts[-1]
        assert alert["mode"] == "info", alert["prompt"]
        moved[kind] = counts.cells_read + counts.cells_written
        if kind == "used":
            base = book.sheet_model("Base").table()
            assert len(base) > 400  # the earlier cuts are there (about 170 records each)
            read = sum(e[3] * e[4] for e in book.excel.value_log if e[:2] == ("read", "Base"))
            assert read <= 2 * len(base) + len(base[0])  # its IDs and outcomes, and the header
    assert moved["used"] <= 2 * moved["fresh"], moved
