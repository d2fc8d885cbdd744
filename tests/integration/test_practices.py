"""The ``Prácticas`` sheet: catalog of section 6, the supervisors' log and weekly adherence.

A log with known entries is written with openpyxl; LibreOffice recalculates both the user's file
and the master re-rendered by the next operation; the held counts and adherence (held / goal
per week) must be the expected ones. ``SWAT_NOW`` is Sunday 29/11/2026: the last 8 ISO weeks
start on Mondays 05/10 … 23/11/2026.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from pathlib import Path

import openpyxl
import pytest

from swat_xl.core.practices import PRACTICES, recent_weeks
from swat_xl.workbook.practices import (
    ADHERENCE_FIRST_ROW,
    CATALOG_COL,
    HELD_FIRST_ROW,
    MONDAY_ROW,
    WEEKS,
)
from tests.helpers.cli import ledger_of, run_cli
from tests.helpers.libreoffice import recalculate, soffice

D = dt.datetime
LOG = [
    *((D(2026, 11, day), "Diálogo diario", "Supervisor", 15) for day in range(23, 28)),
    (D(2026, 11, 16), "Diálogo diario", "Supervisor", 15),
    (D(2026, 11, 17), "Diálogo diario", "Supervisor", 20),
    (D(2026, 11, 20), "Reuniones mejora continua", "Coordinador", 60),
    *((D(2026, 11, day), "Confirmación de funciones", "Coordinador", 30) for day in (23, 24, 25)),
    (D(2026, 11, 24), "diálogo semanal", "Gerente", 30),  # typed in lower case: still counts
    (D(2026, 11, 29), "Agenda del líder", "Supervisor", 30),  # Sunday of the current week
    (D(2026, 10, 6), "Reuniones barómetro", "Gerente", 60),
    (D(2026, 9, 1), "Diálogo diario", "Supervisor", 15),  # before the 8 weeks shown
]
# practice -> {week index (0 = oldest, 7 = current): held}
HELD = {
    "Diálogo diario": {6: 2, 7: 5},
    "Reuniones mejora continua": {6: 1},
    "Confirmación de funciones": {7: 3},
    "Diálogo semanal": {7: 1},
    "Agenda del líder": {7: 1},
    "Reuniones barómetro": {0: 1},
}


def write_log(master: Path) -> None:
    book = openpyxl.load_workbook(master)
    ws = book["Prácticas"]
    for row, (when, practice, owner, minutes) in enumerate(LOG, start=2):
        ws.cell(row, 1).value = when
        ws.cell(row, 2).value = practice
        ws.cell(row, 3).value = owner
        ws.cell(row, 4).value = minutes
        ws.cell(row, 5).value = "con el equipo"
    book.save(master)


def test_catalog_log_and_dropdowns(master: Path):
    book = openpyxl.load_workbook(master)
    ws = book["Prácticas"]
    assert [c.value for c in ws[1][:5]] == ["Fecha", "Práctica", "Responsable", "Minutos", "Notas"]
    names = [ws.cell(r, CATALOG_COL + 1).value for r in range(2, 2 + len(PRACTICES))]
    assert names == [p.name for p in PRACTICES] and len(names) == 9
    goals = {p.name: p.per_week for p in PRACTICES}
    assert goals["Diálogo diario"] == 5 and goals["Diálogo semanal"] == 1
    assert goals["Reuniones mejora continua"] == 0.5 and 0 < goals["Reuniones barómetro"] < 0.05
    sources = {str(v.sqref): v.formula1 for v in ws.data_validations.dataValidation}
    assert sources["B2:B301"] == "$H$2:$H$10"
    assert sources["C2:C301"] == '"Supervisor,Coordinador,Gerente"'
    mondays = [ws.cell(MONDAY_ROW + 1, CATALOG_COL + 2 + k).value for k in range(WEEKS)]
    assert [m.date() for m in mondays] == recent_weeks(dt.date(2026, 11, 29))
    assert mondays[0].date() == dt.date(2026, 10, 5) and mondays[-1].date() == dt.date(2026, 11, 23)


@pytest.mark.libreoffice
@pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) no está instalado")
def test_adherence_formulas_recalculated_by_libreoffice(master: Path, tmp_path: Path):
    write_log(master)
    user_copy = tmp_path / "usuario.xlsx"
    shutil.copy2(master, user_copy)
    result = run_cli("kpi", "--workbook", master)  # any operation syncs the log and re-renders
    assert result.code == 0, result.err
    with sqlite3.connect(ledger_of(master)) as db:
        logged = db.execute("SELECT held_on, practice, owner, minutes FROM practice_log").fetchall()
    assert len(logged) == len(LOG)
    assert logged[0] == ("2026-11-23", "Diálogo diario", "Supervisor", "15")

    for path in recalculate([user_copy, master], tmp_path / "recalc"):
        ws = openpyxl.load_workbook(path, data_only=True)["Prácticas"]
        for i, practice in enumerate(PRACTICES):
            held_row = HELD_FIRST_ROW + 1 + i
            adherence_row = ADHERENCE_FIRST_ROW + 1 + i
            assert ws.cell(held_row, CATALOG_COL + 1).value == practice.name
            for k in range(WEEKS):
                expected = HELD.get(practice.name, {}).get(k, 0)
                held = ws.cell(held_row, CATALOG_COL + 2 + k).value
                adherence = ws.cell(adherence_row, CATALOG_COL + 2 + k).value
                assert held == expected, (path.name, practice.name, k)
                assert adherence == pytest.approx(expected / practice.per_week), (
                    path.name,
                    practice.name,
                    k,
                )
        # Spot checks in plain words.
        first = ADHERENCE_FIRST_ROW + 1
        assert ws.cell(first, CATALOG_COL + 2 + 7).value == pytest.approx(1.0)  # 5 of 5
        assert ws.cell(first, CATALOG_COL + 2 + 6).value == pytest.approx(0.4)  # 2 of 5


def test_log_dates_typed_as_text_are_read_or_said_back(master: Path):
    book = openpyxl.load_workbook(master)
    ws = book["Prácticas"]
    for row, (typed, practice) in enumerate(
        [("2/12/26", "Diálogo diario"), ("el lunes", "Diálogo semanal")], start=2
    ):
        ws.cell(row, 1).value = typed
        ws.cell(row, 1).data_type = "s"
        ws.cell(row, 2).value = practice
    book.save(master)
    for _ in range(2):  # the second operation does not say it again
        result = run_cli("kpi", "--workbook", master, now="2026-12-03T10:00:00")
        assert result.code == 0, result.err
    with sqlite3.connect(ledger_of(master)) as db:
        logged = db.execute("SELECT held_on, practice FROM practice_log ORDER BY id").fetchall()
    assert logged == [("2026-12-02", "Diálogo diario"), ("el lunes", "Diálogo semanal")]
    book = openpyxl.load_workbook(master)
    ws = book["Prácticas"]
    assert ws.cell(2, 1).value == dt.datetime(2026, 12, 2)
    assert ws.cell(3, 1).value == "el lunes"  # shown back as typed
    warnings = [
        row[5]
        for row in book["Bitácora"].iter_rows(min_row=2, values_only=True)
        if row[2] == "Aviso" and "el lunes" in str(row[5])
    ]
    assert warnings == [
        "Hoja «Prácticas», fila 3, columna «Fecha»: «el lunes» no es una fecha reconocible "
        "(use dd/mm/aaaa); quedó como está"
    ]
