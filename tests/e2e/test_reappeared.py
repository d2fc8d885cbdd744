"""A record already typified in the form that comes back in a later cut (issue 10, item 8)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import openpyxl

from tests.helpers.cli import agent_sheets, ledger_of, run_cli
from tests.helpers.marks import MARK_TIME

HEADER = (
    "ID_ENCUESTA;FECHA_ENCUESTA;ALIADO;SEGMENTO;CUENTA;CUSTCODE;ANI;NOMBRE_CLIENTE;CALIFICACION"
)


def export(path: Path, numbers: range) -> Path:
    lines = [HEADER] + [
        f"{88000 + i};28/11/2026 09:{i:02d};ALMACONTACT;HOGAR;7{1000 + i};;31{i:08d};Cliente {i};2"
        for i in numbers
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_typified_record_that_comes_back_is_counted_and_not_sent_again(
    master: Path, tmp_path: Path
):
    first = run_cli("import", export(tmp_path / "corte1.csv", range(4)), "--workbook", master)
    assert first.code == 0, first.err
    book = openpyxl.load_workbook(master)
    ws, col = next((ws, col) for ws, col in agent_sheets(book) if ws.cell(2, 1).value)
    rid = ws.cell(2, col["ID"]).value
    ws.cell(2, col["Intento 1"]).value = MARK_TIME
    ws.cell(2, col["Resultado"]).value = "NO CONTESTA"
    book.save(master)
    assert run_cli("form", "--workbook", master, "--out", tmp_path / "f.xlsx").code == 0

    result = run_cli(
        "import", export(tmp_path / "corte2.csv", range(6)), "--workbook", master, "--json"
    )
    assert result.code == 0, result.err
    payload = result.json()
    assert payload["reappeared_closed"] == 1
    assert payload["reappeared_ids"] == [rid]
    assert payload["new_records"] == 2 and payload["duplicate_rows"] == 4
    assert any(f"IDs {rid})" in w and "falta su tipificación" in w for w in payload["warnings"])
    with sqlite3.connect(ledger_of(master)) as db:
        assert db.execute("SELECT COUNT(*) FROM records").fetchone() == (6,)
        assert db.execute("SELECT outcome FROM records WHERE id = ?", (rid,)).fetchone() == (
            "NO CONTESTA",
        )


def test_the_agent_sees_every_number_of_the_export(master: Path, tmp_path: Path):
    path = tmp_path / "corte.csv"
    path.write_text(
        HEADER + ";Teléfono 2;Celular;Teléfono fijo;Zona\n"
        "99001;28/11/2026 09:00;ALMACONTACT;HOGAR;71000;;3100000001;Cliente;2;"
        "300 111 2222;3100000001;601 555 1234;Norte\n",
        encoding="utf-8",
    )
    result = run_cli("import", path, "--workbook", master)
    assert result.code == 0, result.err
    book = openpyxl.load_workbook(master)
    shown = [
        ws.cell(2, col["Otros teléfonos"]).value
        for ws, col in agent_sheets(book)
        if ws.cell(2, col["ID"]).value
    ]
    assert shown == ["3001112222 / 6015551234"]
