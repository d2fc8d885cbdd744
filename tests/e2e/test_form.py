"""``swat-xl form``: rows for the online form, each typified once, excluded ones with reasons."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import openpyxl

from swat_xl.demo.sample import make_export
from tests.helpers.cli import agent_sheets, ledger_of, run_cli, sha
from tests.helpers.marks import MARK_TIME

HEADER = [
    "ID",
    "Id encuesta",
    "Corte",
    "Cuenta / Custcode",
    "ANI",
    "Segmento",
    "Resultado",
    "Solución",
    "OT / LLS",
    "Intentos",
    "Encuesta asesor",
    "Segundo requerimiento",
    "Observaciones",
    "Fecha de gestión",
    "Asesor",
    "Motivo de exclusión",
    "Corrección",
]
REASONS = {
    "Cortesía",
    "Pymes",
    "Cuenta CANCELADO",
    "Cuenta CANCELADO DEBE",
    "Solicitud de cancelación vigente",
}


def mark_some(
    master: Path, outcomes: dict[int, tuple[str, str]], *, calls: bool = True, order: str = "LLS-1"
) -> None:
    """Set ``Resultado`` / ``Solución`` of the given record IDs on the agent sheets (with the
    calls the procedure asks for, and an OT / LLS for a technical visit, unless told not to)."""
    book = openpyxl.load_workbook(master)
    for ws, col in agent_sheets(book):
        for r in range(2, ws.max_row + 1):
            rid = ws.cell(r, col["ID"]).value
            if rid in outcomes:
                ws.cell(r, col["Resultado"]).value = outcomes[rid][0]
                ws.cell(r, col["Solución"]).value = outcomes[rid][1] or None
                if outcomes[rid][1] == "VISITA TÉCNICA" and order:
                    ws.cell(r, col["OT / LLS"]).value = order
                if not calls:
                    continue
                for n in range(1, 4 if outcomes[rid][0] == "NO CONTACTO" else 2):
                    ws.cell(r, col[f"Intento {n}"]).value = MARK_TIME
    book.save(master)


def form_rows(path: Path) -> list[dict]:
    rows = list(openpyxl.load_workbook(path).active.iter_rows(values_only=True))
    assert list(rows[0]) == HEADER  # row 1 is the header and nothing else
    return [dict(zip(HEADER, r[: len(HEADER)], strict=True)) for r in rows[1:] if r[0] is not None]


def ledger_rows(master: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(ledger_of(master)) as db:
        return db.execute(sql).fetchall()


def test_two_runs_export_each_record_once(master: Path, tmp_path: Path):
    export = tmp_path / "data.xlsx"
    truth = make_export(export, rows=200, seed=51)
    assert run_cli("import", export, "--workbook", master).code == 0
    assigned = [
        rid
        for (rid,) in ledger_rows(master, "SELECT id FROM records WHERE agent != '' ORDER BY id")
    ]
    first_batch = {
        assigned[0]: ("CONTACTO EFECTIVO", "ESCALADO"),
        assigned[1]: ("NO CONTESTA", ""),
        assigned[2]: ("NO CONTACTO", ""),
    }
    mark_some(master, first_batch)

    out1 = tmp_path / "formulario_1.xlsx"
    result = run_cli("form", "--workbook", master, "--out", out1, "--json")
    assert result.code == 0, result.err
    payload = result.json()
    excluded_total = sum(truth.excluded.values())
    assert payload["closed"] == 3 and payload["excluded"] == excluded_total
    assert payload["exported"] == 3 + excluded_total
    rows = form_rows(out1)
    assert len(rows) == payload["exported"]
    by_id = {r["ID"]: r for r in rows}
    assert by_id[assigned[0]]["Resultado"] == "CONTACTO EFECTIVO"
    assert by_id[assigned[0]]["Solución"] == "ESCALADO"
    assert by_id[assigned[0]]["Asesor"]
    excluded_rows = [r for r in rows if r["Motivo de exclusión"]]
    assert len(excluded_rows) == excluded_total
    assert {r["Motivo de exclusión"] for r in excluded_rows} == REASONS
    assert all(r["Resultado"] is None and r["Asesor"] is None for r in excluded_rows)
    assert all(r["Cuenta / Custcode"] and r["Fecha de gestión"] for r in rows)

    # The ledger knows what was exported; the master shows it on «No gestionables».
    flagged = {
        rid for (rid,) in ledger_rows(master, "SELECT id FROM records WHERE form_exported_at != ''")
    }
    assert flagged == set(by_id)
    book = openpyxl.load_workbook(master)
    sheet = list(book["No gestionables"].iter_rows(values_only=True))
    column = sheet[0].index("Exportado al formulario")
    assert all(row[column] is not None for row in sheet[1:])

    # Second run: only what was closed since.
    mark_some(master, {assigned[3]: ("CONTACTO EFECTIVO", "VISITA TÉCNICA")})
    out2 = tmp_path / "formulario_2.xlsx"
    result = run_cli("form", "--workbook", master, "--out", out2, "--json")
    assert result.code == 0, result.err
    assert result.json()["exported"] == 1
    assert [r["ID"] for r in form_rows(out2)] == [assigned[3]]

    # Nothing new: a message and no file, nothing marked twice.
    out3 = tmp_path / "formulario_3.xlsx"
    result = run_cli("form", "--workbook", master, "--out", out3)
    assert result.code == 0, result.err
    assert "No había registros nuevos" in result.out and "no se creó ningún archivo" in result.out
    assert not out3.exists()

    # --todos re-exports everything, keeping the first export time.
    before = ledger_rows(master, "SELECT id, form_exported_at FROM records ORDER BY id")
    out4 = tmp_path / "formulario_todos.xlsx"
    result = run_cli("form", "--workbook", master, "--out", out4, "--todos", "--json")
    assert result.code == 0, result.err
    assert {r["ID"] for r in form_rows(out4)} == set(by_id) | {assigned[3]}
    assert ledger_rows(master, "SELECT id, form_exported_at FROM records ORDER BY id") == before


def test_form_never_overwrites_the_master_nor_a_previous_file(master: Path, tmp_path: Path):
    export = tmp_path / "data.xlsx"
    make_export(export, rows=80, seed=52)
    assert run_cli("import", export, "--workbook", master).code == 0
    state = (sha(master), sha(ledger_of(master)))
    result = run_cli("form", "--workbook", master, "--out", master)
    assert result.code != 0 and "libro maestro" in result.err
    previous = tmp_path / "ya_existe.xlsx"
    previous.write_bytes(b"datos anteriores")
    result = run_cli("form", "--workbook", master, "--out", previous)
    assert result.code != 0 and "ya existe" in result.err
    assert previous.read_bytes() == b"datos anteriores"
    result = run_cli("form", "--workbook", master, "--out", tmp_path / "formulario.csv")
    assert result.code != 0 and ".xlsx" in result.err
    assert (sha(master), sha(ledger_of(master))) == state
    assert ledger_rows(master, "SELECT COUNT(*) FROM records WHERE form_exported_at != ''") == [
        (0,)
    ]


def test_the_form_carries_the_whole_management_and_corrections(master: Path, tmp_path: Path):
    export = tmp_path / "data.xlsx"
    make_export(export, rows=60, seed=53)
    assert run_cli("import", export, "--workbook", master).code == 0
    (rid,) = ledger_rows(master, "SELECT MIN(id) FROM records WHERE agent != ''")[0]
    book = openpyxl.load_workbook(master)
    for ws, col in agent_sheets(book):
        for r in range(2, ws.max_row + 1):
            if ws.cell(r, col["ID"]).value == rid:
                ws.cell(r, col["Intento 1"]).value = MARK_TIME
                ws.cell(r, col["Intento 2"]).value = MARK_TIME
                ws.cell(r, col["Resultado"]).value = "CONTACTO EFECTIVO"
                ws.cell(r, col["Solución"]).value = "ESCALADO"
                ws.cell(r, col["Encuesta asesor"]).value = "4"
                ws.cell(r, col["Segundo requerimiento"]).value = "Cambio de plan"
                ws.cell(r, col["Observaciones"]).value = "Cliente satisfecho"
    book.save(master)
    out = tmp_path / "formulario.xlsx"
    assert run_cli("form", "--workbook", master, "--out", out).code == 0
    row = next(r for r in form_rows(out) if r["ID"] == rid)
    survey = ledger_rows(master, f"SELECT survey_id FROM records WHERE id = {rid}")[0][0]
    assert row["Id encuesta"] == (survey or None)
    assert row["Intentos"] == 2
    assert row["Encuesta asesor"] == "4"
    assert row["Segundo requerimiento"] == "Cambio de plan"
    assert row["Observaciones"] == "Cliente satisfecho"
    assert row["Fecha de gestión"] == MARK_TIME  # the latest attempt, not when it was read
    assert row["Corrección"] is None
    assert "Nota" in openpyxl.load_workbook(out).sheetnames

    # The mark changes after the export: exported again, as a correction, once.
    book = openpyxl.load_workbook(master)
    for ws, col in agent_sheets(book):
        for r in range(2, ws.max_row + 1):
            if ws.cell(r, col["ID"]).value == rid:
                ws.cell(r, col["Solución"]).value = "SOLUCIONADO PRIMER CONTACTO"
    book.save(master)
    again = tmp_path / "formulario_2.xlsx"
    later = "2026-11-29T11:00:00"
    result = run_cli("form", "--workbook", master, "--out", again, "--json", now=later)
    assert result.code == 0, result.err
    assert result.json()["corrections"] == 1
    (fixed,) = form_rows(again)
    assert fixed["ID"] == rid and fixed["Corrección"] == "Sí"
    assert fixed["Solución"] == "SOLUCIONADO PRIMER CONTACTO"
    third = tmp_path / "formulario_3.xlsx"
    assert run_cli("form", "--workbook", master, "--out", third, now=later).code == 0
    assert not third.exists()
