"""Marks are sacred: sorted, filtered, inserted, deleted rows and re-imports lose nothing."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import openpyxl
import pytest

from swat_xl.demo.sample import make_export
from tests.helpers.cli import ledger_of, run_cli
from tests.helpers.marks import (
    MARK_COLUMNS,
    agent_worksheets,
    ids_by_sheet,
    mark_like_a_user,
    marks_in_workbook,
    sheet_rows,
)


def ledger_outcomes(workbook: Path) -> dict[int, str]:
    with sqlite3.connect(ledger_of(workbook)) as db:
        return dict(db.execute("SELECT id, outcome FROM records WHERE outcome != ''").fetchall())


def test_marks_survive_sorting_blank_rows_and_a_second_cut(master: Path, tmp_path: Path):
    first = make_export(tmp_path / "data.xlsx", rows=300, seed=31)
    make_export(
        tmp_path / "data (1).xlsx", rows=300, seed=32, previous=[first], repeat_from_previous=25
    )
    assert run_cli("import", tmp_path / "data.xlsx", "--workbook", master).code == 0
    marked = mark_like_a_user(master)
    assert marked
    result = run_cli("import", tmp_path / "data (1).xlsx", "--workbook", master)
    assert result.code == 0, result.err
    assert ledger_outcomes(master) == marked
    shown = marks_in_workbook(master)
    for record_id, outcome in marked.items():
        assert shown[record_id]["Resultado"] == outcome
        assert shown[record_id]["Observaciones"] == f"nota {record_id}"
    placements = ids_by_sheet(master)
    everywhere = [i for ids in placements.values() for i in ids]
    assert len(everywhere) == len(set(everywhere)), "a record is on two sheets"


def test_deleted_row_is_restored_and_logged(master: Path, tmp_path: Path):
    make_export(tmp_path / "data.xlsx", rows=200, seed=33)
    assert run_cli("import", tmp_path / "data.xlsx", "--workbook", master).code == 0
    marked = mark_like_a_user(master, per_sheet=2, sort=False, blank_rows=False)
    assert run_cli("assign", "--workbook", master).code == 0  # marks now in the ledger
    book = openpyxl.load_workbook(master)
    ws = agent_worksheets(book)[0]
    victim = ws.cell(2, 1).value
    ws.delete_rows(2)
    book.save(master)
    assert run_cli("assign", "--workbook", master).code == 0
    placements = ids_by_sheet(master)
    assert victim in placements[ws.title]
    assert ledger_outcomes(master) == marked
    log = [r for r in openpyxl.load_workbook(master)["Bitácora"].iter_rows(values_only=True)]
    assert any(r[2] == "Restaurado" and f"ID {victim} " in r[5] for r in log[1:])


def test_conflicting_marks_are_logged_and_most_recent_wins(master: Path, tmp_path: Path):
    make_export(tmp_path / "data.xlsx", rows=200, seed=34)
    assert run_cli("import", tmp_path / "data.xlsx", "--workbook", master).code == 0
    book = openpyxl.load_workbook(master)
    first, second = agent_worksheets(book)[:2]
    header, _rows = sheet_rows(first)
    col = {h: header.index(h) + 1 for h in header if h}
    record_id = first.cell(2, col["ID"]).value
    import datetime as dt

    first.cell(2, col["Resultado"]).value = "NO CONTESTA"
    first.cell(2, col["Intento 1"]).value = dt.datetime(2026, 11, 29, 9, 0)
    # The same ID pasted on another sheet, marked later and differently.
    row = second.max_row + 1
    second.cell(row, col["ID"]).value = record_id
    second.cell(row, col["Resultado"]).value = "CONTACTO EFECTIVO"
    second.cell(row, col["Intento 1"]).value = dt.datetime(2026, 11, 29, 9, 30)
    book.save(master)
    assert run_cli("assign", "--workbook", master).code == 0
    assert ledger_outcomes(master)[record_id] == "CONTACTO EFECTIVO"
    log = [r for r in openpyxl.load_workbook(master)["Bitácora"].iter_rows(values_only=True)]
    assert any(r[2] == "Conflicto" and f"ID {record_id}," in r[5] for r in log[1:])
    assert sum(record_id in ids for ids in ids_by_sheet(master).values()) == 1


def test_agent_sheet_layout_and_dropdowns(master: Path, tmp_path: Path):
    make_export(tmp_path / "data.xlsx", rows=200, seed=35)
    assert run_cli("import", tmp_path / "data.xlsx", "--workbook", master).code == 0
    book = openpyxl.load_workbook(master)
    ws = agent_worksheets(book)[0]
    header = [c.value for c in ws[1]]
    for required in (
        "ID",
        "Corte",
        "Segmento",
        "Cuenta",
        "ANI",
        "Cliente",
        "Calificación",
        "Motivo",
        "Fecha encuesta",
        "Asignado",
        "Vence",
        *MARK_COLUMNS,
    ):
        assert required in header
    assert ws.freeze_panes is not None and ws.auto_filter.ref
    assert not ws.protection.sheet  # agents sort and filter their own sheet with Excel's menu
    lists = {
        next(iter(dv.sqref.ranges)).coord.split(":")[0].rstrip("0123456789"): dv.formula1
        for dv in ws.data_validations.dataValidation
    }
    letter = openpyxl.utils.get_column_letter(header.index("Resultado") + 1)
    assert "CONTACTO EFECTIVO" in lists[letter] and "NO CONTACTO" in lists[letter]
    assert all(dv.showErrorMessage for dv in ws.data_validations.dataValidation)
    # marking columns unlocked (column format: Excel applies it to every empty cell too),
    # data columns locked
    row = 2

    def column_locked(index: int) -> bool:
        for dim in ws.column_dimensions.values():
            if dim.min and dim.max and dim.min <= index <= dim.max:
                return dim.protection.locked
        return True

    for name in MARK_COLUMNS:
        assert column_locked(header.index(name) + 1) is False, name
    assert column_locked(header.index("Cliente") + 1) is True
    assert ws.cell(row, header.index("Cliente") + 1).protection.locked is not False
    rules = [rule.formula[0] for cf in ws.conditional_formatting for rule in cf.rules]
    assert any("NOW()" in f for f in rules), "overdue rule"
    assert any("NO CONTACTO" in f for f in rules), "too few attempts rule"
    # Vence = Asignado + 24 h
    assigned = ws.cell(row, header.index("Asignado") + 1).value
    due = ws.cell(row, header.index("Vence") + 1).value
    assert (due - assigned).total_seconds() == 24 * 3600


def test_agents_export_and_collect(master: Path, tmp_path: Path):
    make_export(tmp_path / "data.xlsx", rows=200, seed=36)
    assert run_cli("import", tmp_path / "data.xlsx", "--workbook", master).code == 0
    out = tmp_path / "asesores"
    result = run_cli("agents-export", "--workbook", master, "--out", out, "--json")
    assert result.code == 0, result.err
    files = sorted(out.glob("*.xlsx"))
    assert files
    with sqlite3.connect(ledger_of(master)) as db:
        owner = dict(db.execute("SELECT id, agent FROM records WHERE agent != ''").fetchall())
    marked = {}
    for path in files:
        book = openpyxl.load_workbook(path)
        ws = next(w for w in book.worksheets if w.sheet_state == "visible")
        header = [c.value for c in ws[1]]
        ids = [ws.cell(r, 1).value for r in range(2, ws.max_row + 1)]
        assert len({owner[i] for i in ids}) == 1, "an agent file holds another agent's rows"
        ws.cell(2, header.index("Resultado") + 1).value = "NO CONTESTA"
        marked[ids[0]] = "NO CONTESTA"
        book.save(path)
    result = run_cli("collect", out, "--workbook", master, "--json")
    assert result.code == 0, result.err
    assert ledger_outcomes(master) == marked
    assert {
        k: v["Resultado"] for k, v in marks_in_workbook(master).items() if v["Resultado"]
    } == marked


def test_collect_refuses_a_stale_or_foreign_file(master: Path, tmp_path: Path):
    make_export(tmp_path / "data.xlsx", rows=200, seed=37)
    assert run_cli("import", tmp_path / "data.xlsx", "--workbook", master).code == 0
    old = tmp_path / "old"
    assert run_cli("agents-export", "--workbook", master, "--out", old).code == 0
    new = tmp_path / "new"
    assert (
        run_cli("agents-export", "--workbook", master, "--out", new, now="2026-11-30T08:00:00").code
        == 0
    )
    result = run_cli("collect", old, "--workbook", master, now="2026-11-30T09:00:00")
    assert result.code != 0 and "entrega anterior" in result.err
    # Another agent's rows pasted into a file
    files = sorted(new.glob("*.xlsx"))
    a = openpyxl.load_workbook(files[0])
    b = openpyxl.load_workbook(files[1])
    wa = next(w for w in a.worksheets if w.sheet_state == "visible")
    wb_ = next(w for w in b.worksheets if w.sheet_state == "visible")
    wa.cell(wa.max_row + 1, 1).value = wb_.cell(2, 1).value
    a.save(files[0])
    with sqlite3.connect(ledger_of(master)) as db:
        before = db.execute("SELECT COUNT(*) FROM mark_history").fetchone()
    result = run_cli("collect", new, "--workbook", master, now="2026-11-30T09:00:00")
    assert result.code != 0 and "no se entregó" in result.err
    with sqlite3.connect(ledger_of(master)) as db:
        assert db.execute("SELECT COUNT(*) FROM mark_history").fetchone() == before


def test_reassign_moves_open_records_and_logs(master: Path, tmp_path: Path):
    make_export(tmp_path / "data.xlsx", rows=300, seed=38)
    assert run_cli("import", tmp_path / "data.xlsx", "--workbook", master).code == 0
    with sqlite3.connect(ledger_of(master)) as db:
        before = dict(db.execute("SELECT id, agent FROM records WHERE agent != ''").fetchall())
    absent = "Carla Ruiz"  # profile Ambos: her records can go to Ana (hogar) or Bruno (móvil)
    moved_ids = [i for i, a in before.items() if a == absent]
    assert moved_ids
    result = run_cli("reassign", "--workbook", master, "--from", absent, "--json")
    assert result.code == 0, result.err
    with sqlite3.connect(ledger_of(master)) as db:
        after = dict(db.execute("SELECT id, agent FROM records").fetchall())
    assert all(after[i] != absent for i in moved_ids)
    assert all(after[i] == a for i, a in before.items() if a != absent)
    log = [r for r in openpyxl.load_workbook(master)["Bitácora"].iter_rows(values_only=True)]
    assert any("Reasignar asesor" in str(r[5]) for r in log)


def test_archive_takes_closed_records_off_the_sheets(master: Path, tmp_path: Path):
    make_export(tmp_path / "data.xlsx", rows=200, seed=39)
    assert run_cli("import", tmp_path / "data.xlsx", "--workbook", master).code == 0
    marked = mark_like_a_user(master, per_sheet=3, sort=False, blank_rows=False)
    result = run_cli("archive", "--workbook", master, "--json")
    assert result.code == 0, result.err
    assert result.json()["archived"] == len(marked)
    placements = ids_by_sheet(master)
    on_sheets = {i for ids in placements.values() for i in ids}
    assert not on_sheets & set(marked)
    assert ledger_outcomes(master) == marked  # still in the ledger


@pytest.mark.parametrize("name", ["Ana/Gómez: [turno]*?", "X" * 40])
def test_agent_sheet_names_follow_excel_rules(tmp_path: Path, name: str):
    roster = tmp_path / "r.csv"
    roster.write_text(
        f"Asesor;Perfil;Activo;Capacidad\n{name};Ambos;Sí;\nInicio;Ambos;Sí;\n", encoding="utf-8"
    )
    workbook = tmp_path / "m.xlsx"
    assert run_cli("init", workbook, "--roster", roster).code == 0
    make_export(tmp_path / "data.xlsx", rows=100, seed=40)
    assert run_cli("import", tmp_path / "data.xlsx", "--workbook", workbook).code == 0
    sheets = openpyxl.load_workbook(workbook).sheetnames
    for sheet in sheets:
        assert len(sheet) <= 31 and not set(sheet) & set("[]:*?/\\")
    assert len({s.casefold() for s in sheets}) == len(sheets)


def test_new_delivery_takes_in_the_previous_one(master: Path, tmp_path: Path):
    make_export(tmp_path / "data.xlsx", rows=200, seed=41)
    assert run_cli("import", tmp_path / "data.xlsx", "--workbook", master).code == 0
    out = tmp_path / "asesores"
    assert run_cli("agents-export", "--workbook", master, "--out", out).code == 0
    first = sorted(out.glob("*.xlsx"))[0]
    book = openpyxl.load_workbook(first)
    ws = next(w for w in book.worksheets if w.sheet_state == "visible")
    header = [c.value for c in ws[1]]
    record_id = ws.cell(2, 1).value
    ws.cell(2, header.index("Resultado") + 1).value = "CONTACTO EFECTIVO"
    book.save(first)
    # A new delivery into the same folder first takes in the marks left there.
    result = run_cli(
        "agents-export", "--workbook", master, "--out", out, "--json", now="2026-11-29T14:00:00"
    )
    assert result.code == 0, result.err
    assert result.json()["previous_collected"] >= 1
    assert ledger_outcomes(master) == {record_id: "CONTACTO EFECTIVO"}
    assert run_cli("collect", out, "--workbook", master, now="2026-11-29T15:00:00").code == 0


def test_a_stale_sheet_still_marks_a_record_archived_since(master: Path, tmp_path: Path):
    """A workbook saved before an archive still shows the records archived since: a mark
    changed there for one of them reaches the ledger (as every mark of a record with an agent
    does), and an ID the ledger does not have is still named."""
    make_export(tmp_path / "data.xlsx", rows=200, seed=39)
    assert run_cli("import", tmp_path / "data.xlsx", "--workbook", master).code == 0
    marked = mark_like_a_user(master, per_sheet=3, sort=False, blank_rows=False)
    stale = tmp_path / "antes.xlsx"
    shutil.copy(master, stale)
    result = run_cli("archive", "--workbook", master, "--json")
    assert result.code == 0 and result.json()["archived"] == len(marked), result.err
    before = run_cli("kpi", "--workbook", master, "--json")
    assert before.code == 0, before.err
    with sqlite3.connect(ledger_of(master)) as db:  # the archived records' columns are kept
        assert db.execute("SELECT COUNT(*) FROM archived_columns").fetchone()[0] > 0
    book = openpyxl.load_workbook(stale)
    ws = agent_worksheets(book)[0]
    header, _rows = sheet_rows(ws)
    col = {h: header.index(h) + 1 for h in header if h}
    rid = ws.cell(3, col["ID"]).value
    assert marked[rid] == "NO CONTESTA"
    ws.cell(3, col["Resultado"]).value = "CONTACTO EFECTIVO"
    ws.cell(3, col["Solución"]).value = "ESCALADO"
    ws.cell(ws.max_row + 1, col["ID"]).value = 999999
    ws.cell(ws.max_row, col["Resultado"]).value = "NO CONTESTA"
    book.save(stale)
    shutil.copy(stale, master)
    result = run_cli("kpi", "--workbook", master, "--json")
    assert result.code == 0, result.err
    # the indicator counts the archived record's new outcome: what was kept of it is not used
    counts, counted = before.json(), result.json()
    assert counted["effective_contacts"] == counts["effective_contacts"] + 1
    assert (
        counted["by_outcome"]["NO CONTESTA"]["total_records"]
        == counts["by_outcome"]["NO CONTESTA"]["total_records"] - 1
    )
    with sqlite3.connect(ledger_of(master)) as db:
        outcome, archived = db.execute(
            "SELECT outcome, archived_at FROM records WHERE id = ?", (rid,)
        ).fetchone()
        history = db.execute(
            "SELECT old, new FROM mark_history WHERE record_id = ? AND field = 'outcome' "
            "ORDER BY id",
            (rid,),
        ).fetchall()
        messages = [m for (m,) in db.execute("SELECT message FROM events")]
    assert outcome == "CONTACTO EFECTIVO" and archived
    assert history[-1] == ("NO CONTESTA", "CONTACTO EFECTIVO")
    assert any(m.startswith("ID 999999 (") and "no está asignado" in m for m in messages)
    assert ledger_outcomes(master) == {**marked, rid: "CONTACTO EFECTIVO"}
