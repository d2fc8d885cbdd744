"""Issue 11: every fault has its name and exit code, names Windows and Excel accept, one bad
agent file does not block the others, and no personal data is echoed — each row of the issue's
table reproduced through the CLI on real files."""

from __future__ import annotations

import os
import random
import sqlite3
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from swat_xl.demo.sample import make_export
from swat_xl.workbook import labels as L
from tests.helpers.cli import FIXED_NOW, ledger_of, run_cli, sha


@pytest.fixture
def imported(master: Path, tmp_path: Path) -> Path:
    make_export(tmp_path / "data.xlsx", rows=300, seed=1101)
    result = run_cli("import", tmp_path / "data.xlsx", "--workbook", master)
    assert result.code == 0, result.err
    return master


def _page_size(ledger: Path) -> int:
    with sqlite3.connect(ledger) as db:
        return int(db.execute("PRAGMA page_size").fetchone()[0])


def _snapshot(folder: Path) -> dict[str, str]:
    return {p.name: sha(p) for p in sorted(folder.rglob("*")) if p.is_file()}


# -- a malformed ledger -------------------------------------------------------------------------
@pytest.mark.parametrize("where", ["header", "schema", "middle", "last"])
def test_random_bytes_inside_the_ledger_exit_4_with_a_spanish_message(imported, where):
    ledger = ledger_of(imported)
    size, page = ledger.stat().st_size, _page_size(ledger)
    pages = size // page
    offset = {
        "header": 0,
        "schema": 100,
        "middle": (pages // 2) * page,
        "last": (pages - 1) * page,
    }[where]
    data = bytearray(ledger.read_bytes())
    data[offset : offset + 200] = random.Random(offset).randbytes(200)
    ledger.write_bytes(bytes(data))
    before = sha(imported)
    for command in (["kpi"], ["assign"], ["import", imported.parent / "data.xlsx"]):
        result = run_cli(*command, "--workbook", imported)
        assert result.code == 4, (command, result.err)
        assert "dañado" in result.err and "restore" in result.err
        assert "Error inesperado" not in result.err and "malformed" not in result.err
    assert sha(imported) == before


# -- what cannot be written ---------------------------------------------------------------------
def test_a_folder_without_write_permission_exits_3_naming_it(imported):
    folder = imported.parent
    before = _snapshot(folder)
    mode = folder.stat().st_mode
    folder.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    try:
        result = run_cli("assign", "--workbook", imported)
    finally:
        folder.chmod(mode)
    assert result.code == 3, result.err
    assert str(folder) in result.err and "permiso de escritura" in result.err
    assert _snapshot(folder) == before


def test_a_read_only_workbook_is_not_overwritten_and_keeps_its_permissions(imported):
    mode = imported.stat().st_mode
    imported.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    before = _snapshot(imported.parent)
    result = run_cli("assign", "--workbook", imported)
    assert result.code == 3, result.err
    assert str(imported) in result.err and "solo lectura" in result.err
    assert _snapshot(imported.parent) == before
    assert imported.stat().st_mode == mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)


def test_a_read_only_ledger_exits_3(imported):
    ledger = ledger_of(imported)
    ledger.chmod(0o444)
    before = _snapshot(imported.parent)
    result = run_cli("assign", "--workbook", imported)
    assert result.code == 3, result.err
    assert str(ledger) in result.err and "solo lectura" in result.err
    assert _snapshot(imported.parent) == before


def test_init_in_a_read_only_folder_exits_3(tmp_path, roster_csv):
    folder = tmp_path / "cerrada"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        result = run_cli("init", folder / "maestro.xlsx", "--roster", roster_csv)
    finally:
        folder.chmod(0o755)
    assert result.code == 3, result.err
    assert str(folder) in result.err and "permiso de escritura" in result.err
    assert list(folder.iterdir()) == []


# -- an unexpected error ------------------------------------------------------------------------
def test_an_unexpected_error_is_logged_beside_the_workbook_with_phones_masked(imported, tmp_path):
    elsewhere = tmp_path / "otra"
    elsewhere.mkdir()
    script = textwrap.dedent(
        f"""
        import sys
        import swat_xl.services.indicator as indicator
        def boom(*args, **kwargs):
            raise RuntimeError("cliente 3224551275 no responde")
        indicator.refresh_kpi = boom
        from swat_xl.cli import main
        sys.exit(main(["kpi", "--workbook", {str(imported)!r}]))
        """
    )
    env = {**os.environ, "SWAT_NOW": FIXED_NOW}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path.cwd()), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=elsewhere, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 70, proc.stderr
    log = imported.parent / "swat_xl_error.log"
    assert log.exists() and not (elsewhere / "swat_xl_error.log").exists()
    assert str(log) in proc.stderr
    text = log.read_text(encoding="utf-8")
    assert "RuntimeError" in text and "3224551275" not in text


# -- names Windows and Excel accept -------------------------------------------------------------
def test_agents_named_like_devices_or_history_get_names_windows_and_excel_accept(tmp_path):
    roster = tmp_path / "asesores.csv"
    roster.write_text(
        "Asesor;Perfil;Activo;Capacidad\nCON;Ambos;Sí;\nHistory;Ambos;Sí;\n"
        "lpt1.;Ambos;Sí;\nAux ;Ambos;Sí;\nCON.A;Ambos;Sí;\n",
        encoding="utf-8",
    )
    workbook = tmp_path / "maestro.xlsx"
    assert run_cli("init", workbook, "--roster", roster).code == 0
    make_export(tmp_path / "data.xlsx", rows=300, seed=1102)
    assert run_cli("import", tmp_path / "data.xlsx", "--workbook", workbook).code == 0
    names = CalamineWorkbook.from_path(str(workbook)).sheet_names
    assert "history" not in {n.casefold() for n in names}
    assert len({n.casefold() for n in names}) == len(names)
    out = tmp_path / "libros"
    result = run_cli("agents-export", "--workbook", workbook, "--out", out, "--json")
    assert result.code == 0, result.err
    files = [p.name for p in out.iterdir()]
    assert len(files) == 5
    reserved = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10))}
    reserved |= {f"lpt{i}" for i in range(1, 10)}
    for name in files:
        stem = name[: -len(".xlsx")]
        assert name.split(".")[0].strip().casefold() not in reserved, name
        assert not stem.endswith((".", " ")), name
        sheets = CalamineWorkbook.from_path(str(out / name)).sheet_names
        assert "history" not in {n.casefold() for n in sheets}, name


# -- one bad file does not block the others -----------------------------------------------------
def test_collect_takes_the_good_files_and_refuses_the_bad_one(imported, tmp_path):
    out = tmp_path / "libros"
    assert run_cli("agents-export", "--workbook", imported, "--out", out).code == 0
    files = sorted(out.glob("*.xlsx"))
    assert len(files) == 3
    (out / "ajeno.xlsx").write_bytes(b"no es un libro")
    foreign_id = None
    marked: dict[int, str] = {}
    for index, path in enumerate(files):
        book = openpyxl.load_workbook(path)
        ws = next(w for w in book.worksheets if w.sheet_state == "visible")
        header = [c.value for c in ws[1]]
        ws.cell(2, header.index("Resultado") + 1).value = "NO CONTESTA"
        if index == 0:
            foreign_id = openpyxl.load_workbook(files[1]).worksheets[0].cell(3, 1).value
            ws.cell(ws.max_row + 1, 1).value = foreign_id
        else:
            marked[ws.cell(2, 1).value] = "NO CONTESTA"
        book.save(path)
    result = run_cli("collect", out, "--workbook", imported, "--json")
    assert result.code == 6, result.err
    payload = result.json()
    assert sorted(payload["collected"]) == sorted(p.name for p in files[1:])
    refused = {item["file"]: item["reason"] for item in payload["refused"]}
    assert set(refused) == {files[0].name, "ajeno.xlsx"}
    assert "no se entregó" in refused[files[0].name]
    with sqlite3.connect(ledger_of(imported)) as db:
        outcomes = dict(db.execute("SELECT id, outcome FROM records WHERE outcome != ''"))
    assert outcomes == marked  # nothing from the refused file
    human = run_cli("collect", out, "--workbook", imported)
    assert human.code == 6
    assert files[0].name in human.err and "ajeno.xlsx" in human.err


def test_collect_with_every_file_refused_changes_nothing(imported, tmp_path):
    out = tmp_path / "libros"
    out.mkdir()
    (out / "ajeno.xlsx").write_bytes(b"no es un libro")
    before = _snapshot(imported.parent)
    result = run_cli("collect", out, "--workbook", imported)
    assert result.code == 2 and "ajeno.xlsx" in result.err
    assert _snapshot(imported.parent) == before


# -- no personal data echoed --------------------------------------------------------------------
def test_text_typed_in_an_id_cell_is_not_copied_into_the_log(imported):
    book = openpyxl.load_workbook(imported)
    ws = next(w for w in book.worksheets if w.title not in L.OWNED_SHEETS and w.max_row > 2)
    ws.cell(ws.max_row + 1, 1).value = "3224551275 Juan"
    book.save(imported)
    result = run_cli("kpi", "--workbook", imported)
    assert result.code == 0, result.err
    with sqlite3.connect(ledger_of(imported)) as db:
        events = " ".join(r[0] for r in db.execute("SELECT message FROM events"))
    assert "no es válido" in events  # the row was reported ...
    assert "3224551275" not in events  # ... without its number
    log = CalamineWorkbook.from_path(str(imported)).get_sheet_by_name(L.SHEET_LOG).to_python()
    assert "3224551275" not in " ".join(map(str, log))
    assert "3224551275" not in result.out + result.err
