"""Issue 11, item 7: a CLI that speaks Spanish throughout — argparse's own words, placeholders,
``-w``, examples under each command, ``--json`` everywhere, human labels, full paths, a
``reassign`` tolerant of accents and case, and ``.xls`` exports read like ``.xlsx``."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from swat_xl.demo.sample import make_export
from tests.helpers.cli import ledger_of, run_cli
from tests.helpers.libreoffice import recalculate, soffice

COMMANDS = (
    "init",
    "import",
    "roster",
    "assign",
    "reassign",
    "archive",
    "purge",
    "restore",
    "agents-export",
    "collect",
    "kpi",
    "form",
    "build-workbook",
    "demo",
    "bundle",
    "doctor",
)
ENGLISH = ("usage:", "show this help", "positional arguments", "options:", "WORKBOOK", "EXPORT")


def test_the_main_help_is_spanish_and_lists_every_command():
    result = run_cli("-h")
    assert result.code == 0
    assert result.out.startswith("uso: swat-xl")
    for word in ENGLISH:
        assert word not in result.out, word
    for command in COMMANDS:
        assert command in result.out


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_help_is_spanish_with_examples_and_json(command):
    result = run_cli(command, "-h")
    assert result.code == 0, result.err
    assert result.out.startswith(f"uso: swat-xl {command}")
    for word in ENGLISH:
        assert word not in result.out, word
    assert "muestra esta ayuda y termina" in result.out
    assert "--json" in result.out
    examples = result.out.split("ejemplos:\n", 1)[1]
    lines = [line for line in examples.splitlines() if line.strip().startswith("swat-xl")]
    assert 2 <= len(lines) <= 3
    if command not in ("init", "build-workbook", "demo", "bundle", "doctor"):
        assert "-w LIBRO, --workbook LIBRO" in result.out


@pytest.mark.parametrize(
    ("args", "spanish"),
    [
        (["kpi"], "faltan estos argumentos: -w/--workbook"),
        (["kpi", "-w", "x.xlsx", "--dias", "3"], "argumentos no reconocidos: --dias 3"),
        (["bogus"], "opción no válida: 'bogus' (elija entre"),
        (["purge", "-w", "x.xlsx", "--dias", "tres"], "'tres' no es un número entero"),
        (["kpi", "-w"], "argumento -w/--workbook: falta su valor"),
    ],
)
def test_argparse_errors_are_spanish(args, spanish):
    result = run_cli(*args)
    assert result.code == 2
    assert result.err.startswith("uso: swat-xl")
    assert spanish in result.err
    assert "error:" in result.err and "the following" not in result.err


def test_json_on_every_command_that_writes(master, roster_csv, tmp_path):
    result = run_cli("roster", roster_csv, "-w", master, "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out) == {"agents": 4}


def test_import_summary_uses_human_labels(master, tmp_path):
    make_export(tmp_path / "data.xlsx", rows=400, seed=1131)
    result = run_cli("import", tmp_path / "data.xlsx", "-w", master)
    assert result.code == 0, result.err
    line = next(x for x in result.out.splitlines() if x.startswith("No gestionables"))
    assert "Cortesía" in line and "Cancelado debe" in line and "Solicitud de cancelación" in line
    assert not re.search(r"cancelado_debe|solicitud_cancelacion|cortesia", line)


def test_missing_columns_are_named_together_with_the_full_path(master, tmp_path):
    export = tmp_path / "exportes" / "sin_columnas.csv"
    export.parent.mkdir()
    export.write_text("SEGMENTO;CUENTA\nHOGAR;123\n", encoding="utf-8")
    result = run_cli("import", export, "-w", master)
    assert result.code == 2
    assert "Faltan las columnas del aliado y del teléfono (ANI)" in result.err
    assert f"«{export}»" in result.err


def test_a_file_given_by_a_relative_name_is_named_by_its_full_path(master, tmp_path):
    """A name typed relative to the current folder is shown in full in the message."""
    folder = tmp_path / "descargas"
    folder.mkdir()
    result = run_cli("import", "data.xlsx", "-w", master, cwd=folder)
    assert result.code == 2
    assert f"«{folder / 'data.xlsx'}»" in result.err


def _owners(workbook: Path) -> dict[str, int]:
    with sqlite3.connect(ledger_of(workbook)) as db:
        rows = db.execute(
            "SELECT agent, COUNT(*) FROM records WHERE agent != '' AND outcome = '' "
            "AND exclusion = '' GROUP BY agent"
        )
        return dict(rows.fetchall())


def test_reassign_is_tolerant_of_accents_and_case_and_names_who_received(master, tmp_path):
    make_export(tmp_path / "data.xlsx", rows=300, seed=1132)
    assert run_cli("import", tmp_path / "data.xlsx", "-w", master).code == 0
    held = _owners(master)["Ana Gómez"]
    assert held > 0
    result = run_cli("reassign", "-w", master, "--from", "ANA GOMEZ", "--to", "carla ruiz")
    assert result.code == 0, result.err
    assert "Ana Gómez" in result.out and f"Carla Ruiz: {held} registros" in result.out
    assert "Ana Gómez" not in _owners(master)

    unknown = run_cli("reassign", "-w", master, "--from", "Nadie Pérez")
    assert unknown.code == 2 and "Asesor desconocido" in unknown.err
    empty = run_cli("reassign", "-w", master, "--from", "ana gómez")
    assert empty.code == 2 and "sin registros abiertos" in empty.err
    assert "desconocido" not in empty.err


@pytest.mark.libreoffice
@pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) no está instalado")
def test_an_xls_export_is_imported_like_the_xlsx(master, tmp_path):
    source = tmp_path / "data.xlsx"
    make_export(source, rows=200, seed=1133)
    (converted,) = recalculate([source], tmp_path / "lo", fmt="xls")
    xls = tmp_path / "data.xls"
    converted.replace(xls)
    assert xls.read_bytes()[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    twin = tmp_path / "gemelo.xlsx"
    twin.write_bytes(master.read_bytes())
    ledger_of(twin).write_bytes(ledger_of(master).read_bytes())
    from_xls = run_cli("import", xls, "-w", master, "--json")
    from_xlsx = run_cli("import", source, "-w", twin, "--json")
    assert from_xls.code == 0, from_xls.err
    counts = ("rows_read", "ally_rows", "duplicate_rows", "new_records", "by_segment", "excluded")
    assert {k: from_xls.json()[k] for k in counts} == {k: from_xlsx.json()[k] for k in counts}


def test_every_config_value_not_understood_is_named_with_its_row(master, tmp_path):
    """Two values typed wrong in Config, below a blank row: both are named with their sheet
    rows, the command exits 2, and neither the workbook nor the ledger changes."""
    import openpyxl

    book = openpyxl.load_workbook(master)
    ws = book["Config"]
    ws.insert_rows(4)  # a blank row a user left: the rows below keep their sheet numbers
    rows = {ws.cell(r, 1).value: r for r in range(2, ws.max_row + 1)}
    ws.cell(rows["horas_vencimiento"], 2).value = "mañana"
    ws.cell(rows["copias_a_conservar"], 2).value = "diez"
    book.save(master)
    before = (master.read_bytes(), ledger_of(master).read_bytes())
    make_export(tmp_path / "data.xlsx", rows=50, seed=7)
    result = run_cli("import", tmp_path / "data.xlsx", "-w", master)
    assert result.code == 2, result.err
    assert f"fila {rows['horas_vencimiento']}: «horas_vencimiento» debe ser un número" in result.err
    assert f"fila {rows['copias_a_conservar']}: «copias_a_conservar» debe ser" in result.err
    assert "hoja «Config»" in result.err
    assert (master.read_bytes(), ledger_of(master).read_bytes()) == before
