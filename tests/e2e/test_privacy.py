"""Personal data: the operation log never names customers or their phones, and ``purge``
forgets what is older than the retention (ledger rows, sheets and old backup copies)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import openpyxl
from python_calamine import CalamineWorkbook

from swat_xl.core.text import fold
from swat_xl.demo.sample import make_export
from swat_xl.workbook import labels as L
from tests.helpers.cli import ledger_of, run_cli
from tests.helpers.marks import shown_ids

AGENTS = ("Ana Gómez", "Bruno Díaz", "Carla Ruiz", "Diego Mora")  # conftest's roster


def _log_text(workbook: Path) -> str:
    """The ledger's operation log and events, and the «Bitácora» sheet, as one text."""
    with sqlite3.connect(ledger_of(workbook)) as db:
        parts = [" ".join(map(str, row)) for row in db.execute("SELECT * FROM operations")]
        parts += [" ".join(map(str, row)) for row in db.execute("SELECT * FROM events")]
    rows = CalamineWorkbook.from_path(str(workbook)).get_sheet_by_name(L.SHEET_LOG).to_python()
    parts += [" ".join(map(str, row)) for row in rows]
    return "\n".join(parts)


def test_logs_name_no_customer_and_no_phone(master, tmp_path):
    first = make_export(tmp_path / "uno.xlsx", rows=300, seed=41)
    make_export(tmp_path / "dos.xlsx", rows=300, seed=42, previous=[first], repeat_from_previous=30)
    assert run_cli("import", tmp_path / "uno.xlsx", "--workbook", master).code == 0
    # An agent deletes a row and marks another: restored, synced and logged by ID.
    book = openpyxl.load_workbook(master)
    sheet = next(ws for ws in book if ws.title not in L.OWNED_SHEETS and ws.max_row > 3)
    header = [cell.value for cell in sheet[1]]
    sheet.delete_rows(2)
    sheet.cell(2, header.index(L.OUTCOME_HEADER) + 1, "NO CONTESTA")
    sheet.cell(2, header.index(L.MARK_HEADERS["notes"]) + 1, "cliente pide no volver a llamar")
    book.save(master)
    assert run_cli("import", tmp_path / "dos.xlsx", "--workbook", master).code == 0
    assert run_cli("reassign", "--workbook", master, "--from", "Ana Gómez").code == 0
    with sqlite3.connect(ledger_of(master)) as db:
        people = db.execute("SELECT ani, customer_name FROM records").fetchall()
        restored = db.execute("SELECT COUNT(*) FROM events WHERE level = 'restore'").fetchone()
    assert restored[0] >= 1  # the log did describe the deleted row (by its ID)
    agents = {fold(name) for name in AGENTS}
    log = _log_text(master)
    folded = fold(log)
    for ani, name in people:
        assert ani not in log
        if name and fold(name) not in agents:
            assert fold(name) not in folded


def _backups(workbook: Path) -> list[str]:
    return sorted(p.name for p in (workbook.parent / "swat_copias").glob("*.xlsx"))


def test_purge_forgets_records_and_backups_older_than_the_retention(tmp_path, roster_csv):
    workbook = tmp_path / "maestro.xlsx"
    old = make_export(tmp_path / "viejo.xlsx", rows=120, seed=51)
    recent = make_export(tmp_path / "reciente.xlsx", rows=120, seed=52)
    assert run_cli("init", workbook, "--roster", roster_csv, now="2025-09-30T08:00:00").code == 0
    assert (
        run_cli(
            "import", tmp_path / "viejo.xlsx", "--workbook", workbook, now="2025-10-01T08:00:00"
        ).code
        == 0
    )
    assert (
        run_cli(
            "import", tmp_path / "reciente.xlsx", "--workbook", workbook, now="2026-11-20T08:00:00"
        ).code
        == 0
    )
    assert _backups(workbook) == ["maestro-20251001-080000.xlsx", "maestro-20261120-080000.xlsx"]

    refused = run_cli("purge", "--workbook", workbook, "--dias", "0")
    assert refused.code == 2 and "al menos 1" in refused.err

    result = run_cli("purge", "--workbook", workbook, "--json")  # Config: retencion_dias = 365
    assert result.code == 0, result.err
    counts = result.json()
    assert counts["retention_days"] == 365
    assert counts["cuts"] == 1
    assert counts["records"] == old.new_records
    assert counts["backups"] == 2  # the one older than the retention, the purge's own copy
    assert counts["copies_rewritten"] == ["maestro-20261120-080000.xlsx"]
    with sqlite3.connect(ledger_of(workbook)) as db:
        keys = {r[0] for r in db.execute("SELECT key FROM records")}
        open_ids = [r[0] for r in db.execute("SELECT id FROM records WHERE archived_at = ''")]
        orphans = db.execute(
            "SELECT (SELECT COUNT(*) FROM assignments WHERE record_id NOT IN "
            "(SELECT id FROM records)) + (SELECT COUNT(*) FROM mark_history WHERE record_id "
            "NOT IN (SELECT id FROM records))"
        ).fetchone()[0]
        cuts = db.execute("SELECT COUNT(*) FROM cuts").fetchone()[0]
        summary = db.execute(
            "SELECT summary FROM operations WHERE command = 'Depurar datos'"
        ).fetchone()[0]
    assert keys == set(recent.keys)
    assert orphans == 0
    assert cuts == 2  # the cut itself is kept: importing the old file again adds nothing
    assert sorted(shown_ids(workbook)) == sorted(open_ids)
    assert f"{old.new_records} registros de 1 cortes" in summary
    # The copy older than the retention and the copy of the workbook the purge replaced
    # (it held the purged records) are gone; the recent one stays, purged as well.
    assert _backups(workbook) == ["maestro-20261120-080000.xlsx"]
    log = _log_text(workbook)
    assert "Depurar datos" in log
    for survey in old.surveys:
        assert survey["ani"] not in log

    again = run_cli("import", tmp_path / "viejo.xlsx", "--workbook", workbook, "--json")
    assert again.code == 0 and again.json()["already_imported"] is True
