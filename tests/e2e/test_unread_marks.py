"""Nothing typed is dropped without a word (issue 10, item 7): the CLI as a subprocess on a
master edited with openpyxl the way users do."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import openpyxl
import pytest

from swat_xl.demo.sample import make_export
from tests.helpers.cli import agent_sheets, ledger_of, run_cli
from tests.helpers.marks import MARK_TIME


@pytest.fixture
def imported(master: Path, tmp_path: Path) -> Path:
    make_export(tmp_path / "data.xlsx", rows=60, seed=81)
    assert run_cli("import", tmp_path / "data.xlsx", "--workbook", master).code == 0
    return master


def events(master: Path) -> list[str]:
    with sqlite3.connect(ledger_of(master)) as db:
        return [m for (m,) in db.execute("SELECT message FROM events ORDER BY id")]


def outcome_of(master: Path, rid: int) -> str:
    with sqlite3.connect(ledger_of(master)) as db:
        return db.execute("SELECT outcome FROM records WHERE id = ?", (rid,)).fetchone()[0]


def test_a_renamed_header_does_not_hide_the_marks_and_is_drawn_back(imported: Path):
    book = openpyxl.load_workbook(imported)
    ws, col = next(agent_sheets(book))
    name = ws.title
    rid = ws.cell(2, col["ID"]).value
    ws.cell(1, col["Resultado"]).value = "Resultado final"
    ws.cell(2, col["Resultado"]).value = "NO CONTESTA"
    ws.cell(2, col["Intento 1"]).value = MARK_TIME
    book.save(imported)
    result = run_cli("kpi", "--workbook", imported, "--json")
    assert result.code == 0, result.err
    assert outcome_of(imported, rid) == "NO CONTESTA"
    after = openpyxl.load_workbook(imported)
    assert f"{name} (2)" not in after.sheetnames
    assert after[name].cell(1, col["Resultado"]).value == "Resultado"
    assert after[name].cell(2, col["Resultado"]).value == "NO CONTESTA"


def test_a_users_copy_stays_and_its_marks_are_named_not_taken(imported: Path):
    book = openpyxl.load_workbook(imported)
    ws, col = next(agent_sheets(book))
    copy = book.copy_worksheet(ws)
    copy.title = "Copia de trabajo"
    rid = copy.cell(2, col["ID"]).value
    copy.cell(2, col["Resultado"]).value = "CONTACTO EFECTIVO"
    book.save(imported)
    result = run_cli("kpi", "--workbook", imported)
    assert result.code == 0, result.err
    after = openpyxl.load_workbook(imported)
    assert "Copia de trabajo" in after.sheetnames
    assert after["Copia de trabajo"].cell(2, col["Resultado"]).value == "CONTACTO EFECTIVO"
    assert outcome_of(imported, rid) == ""
    warning = [m for m in events(imported) if "«Copia de trabajo»" in m]
    assert warning and "fila(s) (2)" in warning[0] and "copia del usuario" in warning[0]
    assert "marcas sin leer en «Copia de trabajo»" in result.out + result.err or any(
        "marcas sin leer" in str(c.value) for c in after["Inicio"]["B"]
    )


def test_marks_typed_on_sin_asignar_and_base_are_named(imported: Path):
    book = openpyxl.load_workbook(imported)
    base = book["Base"]
    header = [c.value for c in base[1]]
    column = header.index("Resultado (última actualización)") + 1
    base.cell(3, column).value = "contacto efectivo"
    waiting = book["Sin asignar"]
    waiting.cell(1, 1).value = "ID"
    waiting.cell(2, 1).value = 999999
    waiting.cell(2, 20).value = "NO CONTESTA"
    book.save(imported)
    result = run_cli("kpi", "--workbook", imported)
    assert result.code == 0, result.err
    found = events(imported)
    assert any("Hoja «Base»" in m and "fila(s) (3)" in m for m in found), found
    assert any("Hoja «Sin asignar»" in m and "fila(s) (2)" in m for m in found), found
    summary = openpyxl.load_workbook(imported)["Inicio"]["B8"].value
    assert "marcas sin leer en «Sin asignar», «Base»" in summary


def test_base_outcomes_are_compared_with_their_own_records_outcome(imported: Path):
    """«Base»'s own «Resultado» column shows the ledger's outcome: the same outcome typed
    again (in another case, with a dot) is no mark; another outcome is one, and so is an option
    typed in any other column of a row whose own outcome agrees."""
    book = openpyxl.load_workbook(imported)
    ws, col = next(agent_sheets(book))
    ids = [ws.cell(row, col["ID"]).value for row in (2, 3, 4)]
    for row in (2, 3, 4):
        ws.cell(row, col["Resultado"]).value = "NO CONTESTA"
        ws.cell(row, col["Intento 1"]).value = MARK_TIME
    book.save(imported)
    assert run_cli("kpi", "--workbook", imported).code == 0
    assert [outcome_of(imported, rid) for rid in ids] == ["NO CONTESTA"] * 3
    book = openpyxl.load_workbook(imported)
    base = book["Base"]
    header = [c.value for c in base[1]]
    own = header.index("Resultado (última actualización)") + 1
    id_col = header.index("ID") + 1
    where = {base.cell(row, id_col).value: row for row in range(2, base.max_row + 1)}
    same, other, beside = (where[rid] for rid in ids)
    assert base.cell(same, own).value == "NO CONTESTA"
    base.cell(same, own).value = " no contesta. "
    base.cell(other, own).value = "CONTACTO EFECTIVO"
    base.cell(beside, len(header)).value = "escalado"
    book.save(imported)
    result = run_cli("kpi", "--workbook", imported)
    assert result.code == 0, result.err
    rows = ", ".join(str(r) for r in sorted((other, beside)))
    found = [m for m in events(imported) if "Hoja «Base»" in m]
    assert len(found) == 1 and f"2 fila(s) ({rows})" in found[0], found
    assert [outcome_of(imported, rid) for rid in ids] == ["NO CONTESTA"] * 3
