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


@pytest.mark.parametrize("command", ["kpi", "import"])
def test_damage_found_at_the_commit_leaves_the_folder_as_it_was(imported, command):
    """A page of the assignments' history damaged: no operation reads that page, the check
    beside it does, and the commit fails; no temporary workbook, backup or ledger copy is
    left behind."""
    ledger = ledger_of(imported)
    page = _page_size(ledger)
    with sqlite3.connect(ledger) as db:
        leaves = [
            n
            for (n,) in db.execute(
                "SELECT pageno FROM dbstat WHERE name = 'assignments' AND pagetype = 'leaf' "
                "ORDER BY pageno"
            )
        ]
    assert len(leaves) >= 2
    offset = (leaves[0] - 1) * page  # not the last leaf, where an insert goes
    data = bytearray(ledger.read_bytes())
    data[offset : offset + 200] = random.Random(7).randbytes(200)
    ledger.write_bytes(bytes(data))
    before = _snapshot(imported.parent)
    extra = [imported.parent / "data.xlsx"] if command == "import" else []
    result = run_cli(command, *extra, "--workbook", imported)
    assert result.code == 4, result.err
    assert "dañado" in result.err
    assert _snapshot(imported.parent) == before


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
    assert result.code == 7, result.err
    payload = result.json()
    assert sorted(payload["collected"]) == sorted(p.name for p in files[1:])
    refused = {item["file"]: item["reason"] for item in payload["refused"]}
    assert set(refused) == {files[0].name, "ajeno.xlsx"}
    assert "no se entregó" in refused[files[0].name]
    with sqlite3.connect(ledger_of(imported)) as db:
        outcomes = dict(db.execute("SELECT id, outcome FROM records WHERE outcome != ''"))
    assert outcomes == marked  # nothing from the refused file
    human = run_cli("collect", out, "--workbook", imported)
    assert human.code == 7
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


# -- a lost ledger comes back -------------------------------------------------------------------
def _open_ids(workbook: Path) -> list[int]:
    with sqlite3.connect(ledger_of(workbook)) as db:
        return [
            r[0] for r in db.execute("SELECT id FROM records WHERE archived_at = '' ORDER BY id")
        ]


def _ok(*args: str | Path, now: str) -> None:
    result = run_cli(*args, now=now)
    assert result.code == 0, result.err


def test_a_lost_ledger_comes_back_from_the_latest_consistent_pair(master, tmp_path):
    first = make_export(tmp_path / "uno.xlsx", rows=150, seed=1111)
    make_export(tmp_path / "dos.xlsx", rows=150, seed=1112, previous=[first])
    assert (
        run_cli("import", tmp_path / "uno.xlsx", "-w", master, now="2026-11-29T10:00:00").code == 0
    )
    after_first = _open_ids(master)
    assert (
        run_cli("import", tmp_path / "dos.xlsx", "-w", master, now="2026-11-29T13:00:00").code == 0
    )
    newest = sha(master)
    ledger_of(master).unlink()

    lost = run_cli("kpi", "-w", master)
    assert lost.code == 4 and "restore" in lost.err
    again = run_cli("init", master)
    assert again.code != 0 and "restore" in again.err

    result = run_cli("restore", "-w", master, "--json", now="2026-11-29T14:00:00")
    assert result.code == 0, result.err
    payload = result.json()
    assert payload["copy"] == "maestro-20261129-130000.xlsx"
    aside = [Path(p).name for p in payload["set_aside"]]
    assert aside == ["maestro-20261129-140000-apartado.xlsx"]  # the ledger was gone
    assert sha(master.parent / "swat_copias" / aside[0]) == newest
    with sqlite3.connect(ledger_of(master)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert _open_ids(master) == after_first  # the ledger the restored workbook was drawn from
    kpi = run_cli("kpi", "-w", master, "--json")
    assert kpi.code == 0, kpi.err
    assert kpi.json()["total_records"] == len(after_first)


def test_restore_takes_a_chosen_copy_and_sets_the_current_pair_aside(master, tmp_path):
    make_export(tmp_path / "uno.xlsx", rows=100, seed=1113)
    assert (
        run_cli("import", tmp_path / "uno.xlsx", "-w", master, now="2026-11-29T10:00:00").code == 0
    )
    assert run_cli("assign", "-w", master, now="2026-11-30T10:00:00").code == 0
    current = (sha(master), sha(ledger_of(master)))
    result = run_cli("restore", "-w", master, "--copia", "29/11/2026", now="2026-12-01T09:00:00")
    assert result.code == 0, result.err
    assert "29/11/2026 10:00" in result.out
    copies = master.parent / "swat_copias"
    aside = (
        sha(copies / "maestro-20261201-090000-apartado.xlsx"),
        sha(copies / "maestro-20261201-090000-apartado.swat.sqlite"),
    )
    assert aside == current
    assert _open_ids(master) == []  # before the import
    unknown = run_cli("restore", "-w", master, "--copia", "01/01/2020")
    assert unknown.code == 2 and "29/11/2026" in unknown.err


def test_the_ribbon_help_says_how_to_restore():
    from swat_xl.macros import help_text

    assert "swat-xl restore" in help_text()


# -- purge reaches every copy -------------------------------------------------------------------
def _every_text(path: Path) -> str:
    """All the text a workbook or a ledger file holds."""
    if path.name.endswith(".sqlite"):
        with sqlite3.connect(path) as db:
            tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            rows = [row for t in tables for row in db.execute(f'SELECT * FROM "{t}"')]
        return "\n".join(" ".join(map(str, row)) for row in rows)
    book = CalamineWorkbook.from_path(str(path))
    return "\n".join(
        " ".join(map(str, row))
        for name in book.sheet_names
        for row in book.get_sheet_by_name(name).to_python()
    )


def test_purge_reaches_every_copy_and_names_what_it_cannot_clean(tmp_path, roster_csv):
    workbook = tmp_path / "maestro.xlsx"
    _ok("init", workbook, "--roster", roster_csv, now="2026-09-01T07:00:00")
    old = make_export(tmp_path / "viejo.xlsx", rows=150, seed=1121)
    make_export(tmp_path / "reciente.xlsx", rows=150, seed=1122, previous=[old])
    _ok("import", tmp_path / "viejo.xlsx", "-w", workbook, now="2026-09-01T08:00:00")
    _ok("agents-export", "-w", workbook, "--out", tmp_path / "libros", now="2026-09-02T08:00:00")
    _ok("form", "-w", workbook, "--out", tmp_path / "form.xlsx", now="2026-09-03T08:00:00")
    # A line an earlier version wrote with a phone copied from a cell, about one old record.
    phone = old.surveys[0]["ani"]
    with sqlite3.connect(ledger_of(workbook)) as db:
        record_id = db.execute("SELECT MIN(id) FROM records").fetchone()[0]
        db.execute(
            "INSERT INTO events (operation_id, at, level, record_id, message) "
            "VALUES (1, '2026-09-01T08:00:00', 'warning', ?, ?), "
            "(1, '2026-09-01T08:00:00', 'warning', NULL, ?)",
            (record_id, f"ID «{phone} Juan» no es válido", f"fila 9: «{phone} Juan»"),
        )
    # Day 70: a new cut; the backup taken then holds every old record.
    _ok("import", tmp_path / "reciente.xlsx", "-w", workbook, now="2026-11-10T08:00:00")
    copies = tmp_path / "swat_copias"
    assert (copies / "maestro-20261110-080000.xlsx").exists()
    assert phone in _every_text(copies / "maestro-20261110-080000.xlsx")

    result = run_cli("purge", "-w", workbook, "--dias", "30", "--json", now="2026-11-20T08:00:00")
    assert result.code == 0, result.err
    payload = result.json()
    assert payload["records"] == old.new_records

    old_phones = {s["ani"] for s in old.surveys if s["ani"]}
    kept = [workbook, ledger_of(workbook), *sorted(copies.iterdir())]
    assert any(p.name == "maestro-20261110-080000.xlsx" for p in kept)  # purged, not lost
    for path in kept:
        text = _every_text(path)
        leaked = [p for p in old_phones if p in text]
        assert leaked == [], path.name
    assert payload["copies_rewritten"] == ["maestro-20261110-080000.xlsx"]
    not_cleaned = " ".join(payload["not_cleaned"])
    for name in (p.name for p in (tmp_path / "libros").glob("*.xlsx")):
        assert name in not_cleaned
    assert str(tmp_path / "form.xlsx") in not_cleaned
    assert "viejo.xlsx" in not_cleaned
    # The purged copy is still a consistent pair that can be restored.
    restored = run_cli(
        "restore", "-w", workbook, "--copia", "10/11/2026", now="2026-11-20T09:00:00"
    )
    assert restored.code == 0, restored.err
    assert run_cli("kpi", "-w", workbook, now="2026-11-20T09:05:00").code == 0
    human = run_cli("purge", "-w", workbook, "--dias", "30", now="2026-11-20T10:00:00")
    assert human.code == 0 and "Copias de seguridad" in human.out


def test_a_restore_is_written_in_the_bitacora_of_the_restored_pair(master, tmp_path):
    make_export(tmp_path / "uno.xlsx", rows=100, seed=1114)
    _ok("import", tmp_path / "uno.xlsx", "-w", master, now="2026-11-29T10:00:00")
    _ok("assign", "-w", master, now="2026-11-30T10:00:00")
    _ok("restore", "-w", master, "--copia", "29/11/2026", now="2026-12-01T09:00:00")
    with sqlite3.connect(ledger_of(master)) as db:
        command, started, summary = db.execute(
            "SELECT command, started_at, summary FROM operations ORDER BY id DESC LIMIT 1"
        ).fetchone()
    assert (command, started) == ("restore", "2026-12-01T09:00:00")
    assert "maestro-20261129-100000.xlsx" in summary and "apartado" in summary
    assert "maestro-20261201-090000-apartado" in summary
    _ok("kpi", "-w", master, now="2026-12-01T09:05:00")
    book = openpyxl.load_workbook(master, read_only=True)
    logged = [" ".join(str(c) for c in row if c is not None) for row in book["Bitácora"].values]
    assert any("restore" in line and "restaurados desde la copia" in line for line in logged)
