"""Dates as people type them: an attempt typed as text on an agent sheet and the CLI's
``--desde`` / ``--hasta`` are understood; what is not understood is said back, never dropped."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import openpyxl

from swat_xl.demo.sample import make_export
from tests.helpers.cli import agent_sheets, ledger_of, run_cli

IMPORTED = "2026-12-01T08:00:00"  # Tuesday
LATER = "2026-12-03T10:00:00"


def _attempts(workbook: Path) -> dict[int, str]:
    with sqlite3.connect(ledger_of(workbook)) as db:
        return dict(db.execute("SELECT id, attempt1 FROM records WHERE attempt1 != ''"))


def _type_attempts(workbook: Path, typed: list[str]) -> tuple[str, list[tuple[int, int]]]:
    """Type ``typed`` as text in «Intento 1» of the first rows of the first agent sheet.
    Returns the sheet and the (row, ID) of each."""
    book = openpyxl.load_workbook(workbook)
    ws, col = next(agent_sheets(book))
    placed = []
    for row, text in enumerate(typed, start=2):
        cell = ws.cell(row, col["Intento 1"])
        cell.value = text
        cell.data_type = "s"
        placed.append((row, ws.cell(row, col["ID"]).value))
    title = ws.title
    book.save(workbook)
    return title, placed


def test_an_attempt_typed_the_colombian_way_is_understood(master: Path, tmp_path: Path):
    make_export(tmp_path / "data.xlsx", rows=120, seed=71)
    assert run_cli("import", tmp_path / "data.xlsx", "--workbook", master, now=IMPORTED).code == 0
    _sheet, [(_row, record_id)] = _type_attempts(master, ["02/12/2026 9:05 a. m."])

    result = run_cli("kpi", "--json", "--workbook", master, now=LATER)
    assert result.code == 0, result.err
    assert _attempts(master) == {record_id: "2026-12-02T09:05:00"}
    assert "attempt_not_a_date" not in result.json()["inconsistencies_by_rule"]
    book = openpyxl.load_workbook(master)
    shown = {
        ws.cell(r, col["ID"]).value: ws.cell(r, col["Intento 1"]).value
        for ws, col in agent_sheets(book)
        for r in range(2, ws.max_row + 1)
    }
    assert shown[record_id] == dt.datetime(2026, 12, 2, 9, 5)  # drawn back as a date


def test_an_attempt_not_understood_is_said_back_and_kept(master: Path, tmp_path: Path):
    make_export(tmp_path / "data.xlsx", rows=120, seed=72)
    assert run_cli("import", tmp_path / "data.xlsx", "--workbook", master, now=IMPORTED).code == 0
    sheet, placed = _type_attempts(master, ["2/12/26 21:05", "ayer 3 pm"])
    (_, good), (bad_row, bad) = placed

    result = run_cli("kpi", "--json", "--workbook", master, now=LATER)
    assert result.code == 0, result.err
    assert _attempts(master) == {good: "2026-12-02T21:05:00", bad: "ayer 3 pm"}
    assert result.json()["inconsistencies_by_rule"]["attempt_not_a_date"] == 1

    book = openpyxl.load_workbook(master)
    warnings = [
        row[5]
        for row in book["Bitácora"].iter_rows(min_row=2, values_only=True)
        if row[2] == "Aviso" and "ayer 3 pm" in str(row[5])
    ]
    assert len(warnings) == 1
    assert f"Hoja «{sheet}», fila {bad_row}" in warnings[0]
    assert "Intento 1" in warnings[0]
    shown = {
        ws.cell(r, col["ID"]).value: ws.cell(r, col["Intento 1"]).value
        for ws, col in agent_sheets(book)
        for r in range(2, ws.max_row + 1)
    }
    assert shown[bad] == "ayer 3 pm"  # still on the sheet, as typed

    # Said once: the next operation does not repeat it.
    assert run_cli("kpi", "--workbook", master, now=LATER).code == 0
    book = openpyxl.load_workbook(master)
    repeated = [
        row
        for row in book["Bitácora"].iter_rows(min_row=2, values_only=True)
        if row[2] == "Aviso" and "ayer 3 pm" in str(row[5])
    ]
    assert len(repeated) == 1


def test_desde_and_hasta_typed_the_short_way(master: Path, tmp_path: Path):
    make_export(tmp_path / "data.xlsx", rows=80, seed=73)
    make_export(tmp_path / "data (1).xlsx", rows=80, seed=74)
    assert run_cli("import", tmp_path / "data.xlsx", "--workbook", master, now=IMPORTED).code == 0
    second = "2026-12-02T08:00:00"
    assert run_cli("import", tmp_path / "data (1).xlsx", "--workbook", master, now=second).code == 0
    with sqlite3.connect(ledger_of(master)) as db:
        (on_second,) = db.execute(
            "SELECT COUNT(*) FROM records r JOIN cuts c ON c.id = r.cut_id WHERE c.imported_at = ?",
            (second,),
        ).fetchone()

    result = run_cli(
        "kpi",
        "--json",
        "--desde",
        "2/12/26",
        "--hasta",
        "2-12-2026",
        "--workbook",
        master,
        now=LATER,
    )
    assert result.code == 0, result.err
    report = result.json()
    assert (report["desde"], report["hasta"]) == ("2026-12-02", "2026-12-02")
    assert report["total_records"] == on_second > 0

    refused = run_cli("kpi", "--desde", "2 dic", "--workbook", master, now=LATER)
    assert refused.code == 2
    assert "«2 dic»" in refused.err
