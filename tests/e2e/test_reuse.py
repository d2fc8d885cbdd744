"""Rewriting only what changed.

When the workbook on disk is the one the last operation wrote and the records have not changed
since, the sheets drawn from the records alone (agent sheets, «Sin asignar», «Base», «No
gestionables») and the user's own sheets are copied from it as they are. The result must be
the very workbook a full redraw gives, part for part; anything else (marks typed since, a new
cut, a different version of the code) draws everything again.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from swat_xl.adapters.ledger import Ledger
from swat_xl.adapters.packages import copy_member, sheet_parts
from swat_xl.demo.sample import make_export
from tests.helpers.cli import agent_sheets, ledger_of, master_with_two_cuts, run_cli, written_notes
from tests.helpers.libreoffice import defined_values, recalculate, soffice

# LibreOffice's NOW() is the real clock, so the tool's clock is derived from it too (never a
# frozen date against a real one): the master is built three hours ago, marked and refreshed
# since, and every time stays in the past.
_START = (dt.datetime.now() - dt.timedelta(hours=3)).replace(second=0, microsecond=0)
NOW = _START.isoformat()
LATER = (_START + dt.timedelta(minutes=90)).isoformat()
ATTEMPT = _START + dt.timedelta(minutes=30)


def ok(*args: Any, now: str = NOW, env: dict[str, str] | None = None) -> Any:
    result = run_cli(*args, now=now, env=env)
    assert result.code == 0, result.err
    return result


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as package:
        assert package.testzip() is None
        return {name: package.read(name) for name in package.namelist()}


def mark_first_rows(workbook: Path, count: int, outcome: str = "NO CONTESTA") -> list[int]:
    """Mark ``count`` rows of the first agent sheet like a user; returns their IDs."""
    book = openpyxl.load_workbook(workbook)
    marked: list[int] = []
    for ws, column in agent_sheets(book):
        for row in range(2, ws.max_row + 1):
            record_id = ws.cell(row, column["ID"]).value
            if record_id is None or ws.cell(row, column["Resultado"]).value:
                continue
            ws.cell(row, column["Intento 1"]).value = ATTEMPT
            ws.cell(row, column["Resultado"]).value = outcome
            marked.append(int(record_id))
            if len(marked) == count:
                break
        if marked:
            break
    book.create_sheet("Notas del supervisor").append(["Revisar el corte 2", 42])
    book.save(workbook)
    return marked


@pytest.fixture(scope="module")
def used_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A master with two cuts, marks typed by a user, a sheet of the supervisor's own, and one
    «kpi» after them (so the file on disk is the one the tool wrote)."""
    workbook = master_with_two_cuts(tmp_path_factory.mktemp("reuse"), ok, seeds=(31, 32))
    mark_first_rows(workbook, 12)
    ok("kpi", "--workbook", workbook)
    return workbook


def copy_of(master: Path, folder: Path) -> Path:
    shutil.copytree(master.parent, folder)
    return folder / master.name


def test_an_unchanged_workbook_gives_the_same_parts_with_or_without_copying(
    used_master: Path, tmp_path: Path
) -> None:
    reused = copy_of(used_master, tmp_path / "copia")
    redrawn = copy_of(used_master, tmp_path / "dibujo")
    ok("kpi", "--workbook", reused, now=LATER)
    ok("kpi", "--workbook", redrawn, now=LATER, env={"SWAT_REUSE": "0"})

    copied = written_notes(reused)["reused"]
    assert {"Base", "No gestionables", "Sin asignar", "Notas del supervisor"} <= set(copied)
    assert {"Ana Gómez", "Bruno Díaz", "Carla Ruiz"} <= set(copied)
    assert written_notes(redrawn)["reused"] == []

    expected, got = parts(redrawn), parts(reused)
    assert sorted(got) == sorted(expected)
    different = [name for name in expected if got[name] != expected[name]]
    assert different == []


def test_copied_sheets_keep_their_compressed_bytes(used_master: Path, tmp_path: Path) -> None:
    workbook = copy_of(used_master, tmp_path / "m")
    with zipfile.ZipFile(workbook) as before:
        base = sheet_parts(before)["Base"]
        old = before.getinfo(base.part)
        old_raw = (old.CRC, old.compress_size)
    ok("kpi", "--workbook", workbook, now=LATER)
    with zipfile.ZipFile(workbook) as after:
        new = after.getinfo(sheet_parts(after)["Base"].part)
    assert (new.CRC, new.compress_size) == old_raw
    assert "Base" in written_notes(workbook)["reused"]


def test_marks_typed_since_the_last_rewrite_are_read_and_drawn_again(
    used_master: Path, tmp_path: Path
) -> None:
    workbook = copy_of(used_master, tmp_path / "m")
    marked = mark_first_rows(workbook, 3, outcome="CONTACTO EFECTIVO")
    assert len(marked) == 3
    ok("kpi", "--workbook", workbook, now=LATER)
    assert written_notes(workbook)["reused"] == []  # the file changed: everything is drawn again
    with sqlite3.connect(ledger_of(workbook)) as db:
        outcomes = dict(
            db.execute(
                f"SELECT id, outcome FROM records WHERE id IN ({','.join('?' * len(marked))})",
                marked,
            ).fetchall()
        )
    assert outcomes == {record_id: "CONTACTO EFECTIVO" for record_id in marked}
    book = openpyxl.load_workbook(workbook, read_only=True)
    shown = {
        row[0]: row[1]
        for ws in book.worksheets
        if ws.title in {"Ana Gómez", "Bruno Díaz", "Carla Ruiz"}
        for row in ws.iter_rows(min_row=2, values_only=True)
        if row and row[0] in marked
        for row in [(row[0], row[14])]
    }
    book.close()
    assert shown == {record_id: "CONTACTO EFECTIVO" for record_id in marked}

    ok("kpi", "--workbook", workbook, now=LATER)  # untouched since: copied again
    assert "Base" in written_notes(workbook)["reused"]


def test_a_new_cut_draws_the_record_sheets_again(used_master: Path, tmp_path: Path) -> None:
    workbook = copy_of(used_master, tmp_path / "m")
    make_export(workbook.parent / "corte3.xlsx", rows=80, seed=33)
    before = ok("kpi", "--workbook", workbook, "--json", now=LATER).json()["total_records"]
    ok("import", workbook.parent / "corte3.xlsx", "--workbook", workbook, now=LATER)
    # the records changed: their sheets are drawn again; the supervisor's own sheet is copied
    assert written_notes(workbook)["reused"] == ["Notas del supervisor"]
    after = ok("kpi", "--workbook", workbook, "--json", now=LATER).json()
    assert after["total_records"] > before
    assert "Base" in written_notes(workbook)["reused"]
    book = openpyxl.load_workbook(workbook, read_only=True)
    base_rows = sum(1 for row in book["Base"].iter_rows(min_row=2, values_only=True) if row[0])
    book.close()
    with sqlite3.connect(ledger_of(workbook)) as db:
        (live,) = db.execute("SELECT COUNT(*) FROM records WHERE archived_at = ''").fetchone()
    assert base_rows == live


def test_a_workbook_edited_by_hand_is_never_copied_from(used_master: Path, tmp_path: Path):
    """A byte changed in the file (here: a note in a cell of «Base») means the tool did not
    write it: its sheets are read and drawn again, never copied."""
    workbook = copy_of(used_master, tmp_path / "m")
    book = openpyxl.load_workbook(workbook)
    book["Base"]["A1"].comment = None
    book.save(workbook)
    ok("kpi", "--workbook", workbook, now=LATER)
    assert written_notes(workbook)["reused"] == []


@pytest.mark.libreoffice
@pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is not installed")
def test_a_workbook_with_copied_sheets_recalculates_to_the_ledgers_numbers(
    used_master: Path, tmp_path: Path
) -> None:
    workbook = copy_of(used_master, tmp_path / "m")
    payload = ok("kpi", "--workbook", workbook, "--json", now=LATER).json()
    assert "Base" in written_notes(workbook)["reused"]
    (recalculated,) = recalculate([workbook], tmp_path / "lo")
    values = defined_values(recalculated)
    assert values["KPI_TOTAL"] == payload["total_records"]
    assert values["KPI_EFECTIVOS"] == payload["effective_contacts"]
    assert values["KPI_PENDIENTES"] == payload["pending"]
    assert values["KPI_VENCIDOS"] == payload["overdue"]
    assert values["KPI_CONTACTO_EFECTIVO"] == pytest.approx(
        payload["effective_contact_pct"] / 100, abs=5e-4
    )


def test_styles_do_not_depend_on_what_the_sheets_hold(master: Path, used_master: Path) -> None:
    """Every format is registered in a fixed order, so a sheet part written by one rewrite
    points at the same styles in the next."""
    assert parts(master)["xl/styles.xml"] == parts(used_master)["xl/styles.xml"]


def test_the_records_revision_moves_with_every_change(tmp_path: Path) -> None:
    ledger = Ledger.open(tmp_path / "registro.sqlite", create=True)
    try:
        seen = [ledger.records_revision()]
        db = ledger.db
        db.execute(
            "INSERT INTO cuts (file_name, sha256, imported_at, rows_read, ally_rows, "
            "duplicate_rows, new_records, excluded) "
            "VALUES ('c.xlsx', 'x', '2026-11-29', 1, 1, 0, 1, 0)"
        )
        seen.append(ledger.records_revision())  # a cut alone changes no record
        db.execute("INSERT INTO records (key, cut_id) VALUES ('E:1', 1)")
        seen.append(ledger.records_revision())
        db.execute("UPDATE records SET outcome = 'NO CONTESTA' WHERE id = 1")
        seen.append(ledger.records_revision())
        db.execute("DELETE FROM records WHERE id = 1")
        seen.append(ledger.records_revision())
    finally:
        ledger.close()
    assert seen == [0, 0, 1, 2, 3]


def test_copy_member_copies_compressed_bytes_under_a_new_name(tmp_path: Path) -> None:
    source = tmp_path / "a.zip"
    text = ("<row>" + "x" * 5000 + "</row>").encode() * 50
    with zipfile.ZipFile(source, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("uno.xml", b"<a/>")
        out.writestr("dos.xml", text)
    target = tmp_path / "b.zip"
    header = zipfile.ZipInfo("ignored", date_time=(1980, 1, 1, 0, 0, 0))
    header.external_attr = 0o644 << 16
    with zipfile.ZipFile(source) as package, zipfile.ZipFile(target, "w") as out:
        out.writestr("primero.xml", b"<b/>")
        copy_member(package, package.getinfo("dos.xml"), out, "xl/copia.xml", header=header)
        out.writestr("ultimo.xml", b"<c/>")
    with zipfile.ZipFile(source) as a, zipfile.ZipFile(target) as b:
        assert b.testzip() is None
        assert b.namelist() == ["primero.xml", "xl/copia.xml", "ultimo.xml"]
        assert b.read("xl/copia.xml") == text
        copied, original = b.getinfo("xl/copia.xml"), a.getinfo("dos.xml")
        assert (copied.CRC, copied.compress_size) == (original.CRC, original.compress_size)
        assert copied.date_time == (1980, 1, 1, 0, 0, 0)
        assert b.read("ultimo.xml") == b"<c/>"


def test_holidays_are_computed_once_per_year_and_package_version(used_master: Path) -> None:
    """The holidays package is slower to import than the indicator is to compute: the ledger
    keeps each year's holidays, tagged with the package's version."""
    from importlib import metadata

    import holidays

    with sqlite3.connect(ledger_of(used_master)) as db:
        rows = db.execute("SELECT country, year, source, days FROM holidays").fetchall()
    assert rows, "the first indicator keeps the holidays it used"
    for country, year, source, days in rows:
        assert (country, source) == ("CO", f"holidays {metadata.version('holidays')}")
        expected = sorted(d.isoformat() for d in holidays.Colombia(years=year))
        assert json.loads(days) == expected
    assert {2026, 2027} <= {year for _c, year, _s, _d in rows}


# -- redrawing only the sheets whose content changed ----------------------------------------
def _written_copy(workbook: Path) -> Path:
    return workbook.parent / "swat_copias" / (workbook.name + ".escrito")


def _record_sheets(workbook: Path) -> set[str]:
    return set(written_notes(workbook)["records"])


def _same_parts(partial: Path, full: Path) -> None:
    """The workbook a partial redraw wrote is, part by part, the one a full redraw wrote."""
    expected, got = parts(full), parts(partial)
    assert sorted(got) == sorted(expected)
    assert [name for name in expected if got[name] != expected[name]] == []


def test_marks_typed_in_the_file_redraw_only_the_sheets_they_change(
    used_master: Path, tmp_path: Path
) -> None:
    partial = copy_of(used_master, tmp_path / "parcial")
    full = copy_of(used_master, tmp_path / "completo")
    assert _written_copy(partial).exists()
    for workbook in (partial, full):
        marked = mark_first_rows(workbook, 2, outcome="CONTACTO EFECTIVO")
    ok("kpi", "--workbook", partial, now=LATER)
    ok("kpi", "--workbook", full, now=LATER, env={"SWAT_REUSE": "0"})

    kept = set(written_notes(partial)["kept"])
    with sqlite3.connect(ledger_of(partial)) as db:
        (marked_agent,) = {
            agent
            for (agent,) in db.execute(
                f"SELECT agent FROM records WHERE id IN ({','.join('?' * len(marked))})", marked
            )
        }
    # the marked agent's sheet and Base (its «Resultado» column) changed; the rest did not
    assert marked_agent not in kept and "Base" not in kept
    assert kept == _record_sheets(partial) - {marked_agent, "Base"}
    assert written_notes(partial)["reused"] == []  # nothing is copied from the file someone saved
    assert written_notes(full)["kept"] == []
    _same_parts(partial, full)


def test_a_new_cut_redraws_only_the_sheets_it_changes(used_master: Path, tmp_path: Path) -> None:
    partial = copy_of(used_master, tmp_path / "parcial")
    full = copy_of(used_master, tmp_path / "completo")
    make_export(tmp_path / "corte3.xlsx", rows=6, seed=34)
    ok("import", tmp_path / "corte3.xlsx", "--workbook", partial, now=LATER)
    ok("import", tmp_path / "corte3.xlsx", "--workbook", full, now=LATER, env={"SWAT_REUSE": "0"})
    kept = set(written_notes(partial)["kept"])
    assert kept and "Base" not in kept  # six rows: some agents got nothing new
    assert kept < _record_sheets(partial)
    _same_parts(partial, full)


def test_the_tools_copy_is_used_only_when_it_is_the_workbook_it_wrote(
    used_master: Path, tmp_path: Path
) -> None:
    partial = copy_of(used_master, tmp_path / "parcial")
    full = copy_of(used_master, tmp_path / "completo")
    copy = _written_copy(partial)
    # The copy is no longer the workbook the tool wrote: its sheets are never taken.
    with zipfile.ZipFile(copy, "a") as package:
        package.writestr("docProps/custom-extra.xml", "<x/>")
    for workbook in (partial, full):
        mark_first_rows(workbook, 2)
    ok("kpi", "--workbook", partial, now=LATER)
    ok("kpi", "--workbook", full, now=LATER, env={"SWAT_REUSE": "0"})
    assert written_notes(partial)["kept"] == []
    _same_parts(partial, full)
    # the copy is the workbook written now: the next change copies from it again
    assert copy.read_bytes() == partial.read_bytes()
    mark_first_rows(partial, 1)
    ok("kpi", "--workbook", partial, now=LATER)
    assert written_notes(partial)["kept"]
