"""What agents type is normalised, checked against the procedure and never silently dropped
(issue 10, items 1-3): the CLI as a subprocess on a master marked with openpyxl."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from swat_xl.demo.sample import make_export
from tests.helpers.cli import agent_sheets, ledger_of, run_cli, sha
from tests.helpers.marks import MARK_TIME

EFFECTIVE = {"Intento 1": MARK_TIME, "Solución": "ESCALADO"}


@pytest.fixture
def imported(master: Path, tmp_path: Path) -> tuple[Path, list[int]]:
    make_export(tmp_path / "data.xlsx", rows=80, seed=71)
    assert run_cli("import", tmp_path / "data.xlsx", "--workbook", master).code == 0
    with sqlite3.connect(ledger_of(master)) as db:
        ids = [r[0] for r in db.execute("SELECT id FROM records WHERE agent != '' ORDER BY id")]
    return master, ids


def write_marks(master: Path, marks: dict[int, dict[str, Any]]) -> dict[int, tuple[str, int]]:
    """Type marks on the agent sheets by record ID; returns where each went (sheet, row)."""
    book = openpyxl.load_workbook(master)
    placed = {}
    for ws, col in agent_sheets(book):
        for r in range(2, ws.max_row + 1):
            rid = ws.cell(r, col["ID"]).value
            if rid in marks:
                for header, value in marks[rid].items():
                    ws.cell(r, col[header]).value = value
                placed[rid] = (ws.title, r)
    book.save(master)
    assert set(placed) == set(marks)
    return placed


def sheet_values(master: Path, header: str) -> dict[int, Any]:
    book = openpyxl.load_workbook(master)
    return {
        ws.cell(r, col["ID"]).value: ws.cell(r, col[header]).value
        for ws, col in agent_sheets(book)
        for r in range(2, ws.max_row + 1)
        if ws.cell(r, col["ID"]).value is not None
    }


def ledger(master: Path, sql: str, *params: Any) -> list[tuple]:
    with sqlite3.connect(ledger_of(master)) as db:
        return db.execute(sql, params).fetchall()


def kpi(master: Path) -> dict[str, Any]:
    result = run_cli("kpi", "--workbook", master, "--json")
    assert result.code == 0, result.err
    return result.json()


def form(master: Path, out: Path) -> tuple[dict[str, Any], set[int]]:
    result = run_cli("form", "--workbook", master, "--out", out, "--json")
    assert result.code == 0, result.err
    rows = list(openpyxl.load_workbook(out).worksheets[0].iter_rows(values_only=True))
    return result.json(), {r[0] for r in rows[1:] if isinstance(r[0], int)}


# -- 1. normalisation ---------------------------------------------------------------------------
def test_typed_variants_fold_to_the_option_and_count_everywhere(imported, tmp_path):
    master, ids = imported
    typed = {
        ids[0]: {"Resultado": "contacto efectivo", **EFFECTIVE},
        ids[1]: {"Resultado": "  Contacto   Efectivo ", **EFFECTIVE},
        ids[2]: {"Resultado": "Contacto\u00a0efectivo.", **EFFECTIVE, "Solución": "escalado."},
        ids[3]: {
            "Resultado": "CONTACTO EFECTIVO",
            "Intento 1": MARK_TIME,
            "Solución": " visita tecnica ",
            "OT / LLS": "LLS-77",
            "Encuesta asesor": " 5 ",
        },
        ids[4]: {"Resultado": "no contesta", "Intento 1": MARK_TIME},
    }
    write_marks(master, typed)
    payload = kpi(master)
    assert payload["effective_contacts"] == 4
    assert payload["invalid_marks"] == 0
    assert payload["by_outcome"]["CONTACTO EFECTIVO"]["total_records"] == 4
    # Stored and drawn back canonically.
    stored = dict(ledger(master, "SELECT id, outcome FROM records WHERE outcome != ''"))
    assert {stored[i] for i in ids[:4]} == {"CONTACTO EFECTIVO"}
    assert stored[ids[4]] == "NO CONTESTA"
    shown = sheet_values(master, "Resultado")
    assert [shown[i] for i in ids[:5]] == ["CONTACTO EFECTIVO"] * 4 + ["NO CONTESTA"]
    assert sheet_values(master, "Solución")[ids[3]] == "VISITA TÉCNICA"
    assert sheet_values(master, "Solución")[ids[2]] == "ESCALADO"
    # Counted as such in the form too.
    _payload, exported = form(master, tmp_path / "formulario.xlsx")
    assert set(ids[:5]) <= exported


# -- 2. invalid values ----------------------------------------------------------------------------
def test_invalid_values_stay_visible_pending_counted_and_out_of_the_form(imported, tmp_path):
    master, ids = imported
    typed = {
        ids[0]: {"Resultado": "SI", **EFFECTIVE},
        ids[1]: {"Resultado": 5, "Intento 1": MARK_TIME},
        ids[2]: {"Resultado": "EFECTIVO", **EFFECTIVE},
        ids[3]: {"Resultado": "CONTACTO EFECTIVO", **EFFECTIVE, "Encuesta asesor": "10"},
    }
    placed = write_marks(master, typed)
    before = kpi(master)  # the same call syncs and reports
    assert before["invalid_marks"] == 4
    assert before["effective_contacts"] == 0
    assert before["by_outcome"]["VALOR NO VÁLIDO"]["total_records"] == 3
    assert before["by_outcome"]["VALOR NO VÁLIDO"]["pending"] == 3
    assert before["inconsistencies_by_rule"]["invalid_value"] == 4
    detail = [d for d in before["inconsistency_detail"] if d["rule"] == "invalid_value"]
    assert {d["record_id"] for d in detail} == set(ids[:4])
    assert all(d["blocks_form"] for d in detail)
    assert any("«SI» no es una opción de «Resultado»" in d["detail"] for d in detail)
    # Kept on the sheet as typed, never closed.
    shown = sheet_values(master, "Resultado")
    assert [shown[i] for i in ids[:3]] == ["SI", "5", "EFECTIVO"]
    closed = ledger(master, "SELECT COUNT(*) FROM records WHERE closed_at != ''")
    assert closed == [(0,)]
    # A Bitácora line names sheet, row and value.
    events = [m for (m,) in ledger(master, "SELECT message FROM events")]
    sheet, row = placed[ids[0]]
    assert any(f"Hoja «{sheet}», fila {row}" in m and "«SI»" in m for m in events), events
    log = openpyxl.load_workbook(master)["Bitácora"]
    assert any("«EFECTIVO» no es una opción" in str(c.value) for c in log["F"])
    # Never to the form.
    payload, exported = form(master, tmp_path / "formulario.xlsx")
    assert not exported & set(ids[:4])
    assert payload["held"] == 4
    # Fixed: closes and goes.
    write_marks(master, {ids[0]: {"Resultado": "CONTACTO EFECTIVO"}})
    after = kpi(master)
    assert after["invalid_marks"] == 3 and after["effective_contacts"] == 1
    _payload, exported = form(master, tmp_path / "formulario_2.xlsx")
    assert exported == {ids[0]}


# -- 3. the procedure's closing rules -------------------------------------------------------------
def test_incomplete_marks_stay_pending_flagged_and_out_of_the_form(imported, tmp_path):
    master, ids = imported
    typed = {
        ids[0]: {"Resultado": "NO CONTACTO", "Intento 1": MARK_TIME},
        ids[1]: {"Resultado": "CONTACTO EFECTIVO", "Solución": "ESCALADO"},
        ids[2]: {"Resultado": "CONTACTO EFECTIVO", "Intento 1": MARK_TIME},
        ids[3]: {
            "Resultado": "CONTACTO EFECTIVO",
            "Intento 1": MARK_TIME,
            "Solución": "VISITA TÉCNICA",
        },
        ids[4]: {"Resultado": "NO CONTESTA", "Intento 1": MARK_TIME.replace(year=2030)},
    }
    write_marks(master, typed)
    payload = kpi(master)
    assert payload["effective_contacts"] == 0
    rules = {(d["record_id"], d["rule"]) for d in payload["inconsistency_detail"]}
    assert {
        (ids[0], "no_contact_attempts"),
        (ids[1], "effective_without_attempt"),
        (ids[2], "effective_without_resolution"),
        (ids[3], "visit_without_order"),
        (ids[4], "attempt_in_future"),
    } <= rules
    assert payload["flagged_records"] == 5
    pending_before = payload["pending"]
    book = openpyxl.load_workbook(master)
    table = [c.value for c in book["Indicador"]["D"]]
    assert "VISITA TÉCNICA sin número de OT / LLS" in table
    _form, exported = form(master, tmp_path / "formulario.xlsx")
    assert not exported & set(ids[:5])
    # Completed: closed, counted and exported.
    write_marks(
        master,
        {
            ids[0]: {"Intento 2": MARK_TIME, "Intento 3": MARK_TIME},
            ids[1]: {"Intento 1": MARK_TIME},
            ids[2]: {"Solución": "SOLUCIONADO PRIMER CONTACTO"},
            ids[3]: {"OT / LLS": "OT-123"},
            ids[4]: {"Intento 1": MARK_TIME},
        },
    )
    payload = kpi(master)
    assert payload["effective_contacts"] == 3
    assert payload["flagged_records"] == 0
    assert payload["pending"] == pending_before - 4  # NO CONTESTA closed, its date was flagged
    _form, exported = form(master, tmp_path / "formulario_2.xlsx")
    assert set(ids[:5]) <= exported


def test_no_contact_minimum_comes_from_config(imported):
    master, ids = imported
    write_marks(master, {ids[0]: {"Resultado": "NO CONTACTO", "Intento 1": MARK_TIME}})
    assert any(d["rule"] == "no_contact_attempts" for d in kpi(master)["inconsistency_detail"])
    book = openpyxl.load_workbook(master)
    config = book["Config"]
    for row in config.iter_rows(min_row=2):
        if row[0].value == "intentos_no_contacto":
            row[1].value = 1
    book.save(master)
    payload = kpi(master)
    assert not any(d["rule"] == "no_contact_attempts" for d in payload["inconsistency_detail"])
    assert payload["by_outcome"]["NO CONTACTO"]["pending"] == 0


def test_bad_input_still_leaves_everything_as_it_was(imported, tmp_path):
    master, ids = imported
    write_marks(master, {ids[0]: {"Resultado": "SI"}})
    state = (sha(master), sha(ledger_of(master)))
    result = run_cli("kpi", "--workbook", master, "--desde", "31/02/2026")
    assert result.code != 0 and "no es válida" in result.err
    assert (sha(master), sha(ledger_of(master))) == state
