"""The use cases on fakes: a workbook, a ledger and files held in memory (no file, no SQLite, no
Excel). The real ``run_operation`` runs: lock, sync the marks, the use case, render, commit."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from swat_xl.core.fields import CANONICAL
from swat_xl.core.model import OUTCOME_EFFECTIVE
from swat_xl.errors import InputError, LedgerError, RosterError
from swat_xl.services.archive import archive
from swat_xl.services.build import template_spec
from swat_xl.services.importing import import_cut
from swat_xl.services.indicator import refresh_kpi
from swat_xl.services.master import assign_pending, init_workbook, reassign_agent, set_roster
from swat_xl.services.purge import purge
from swat_xl.workbook import labels as L
from tests.helpers.fakes import (
    FakeExport,
    FakeFiles,
    FakeLedgers,
    FakeWorkbook,
    fake_unit,
    spec_rows,
)

NOW = dt.datetime(2026, 12, 1, 9, 0)
EXPORT = Path("/descargas/data.xlsx")
ROSTER = Path("/descargas/asesores.csv")
ROSTER_ROWS = [
    ["Asesor", "Perfil", "Activo", "Capacidad"],
    ["Martha Pérez", "Hogar", "Sí", "80"],
    ["Fernanda Valencia", "Móvil", "Sí", "80"],
]


def export(rows: list[dict[str, object]], sha: str = "a" * 64) -> FakeExport:
    """An export as the reader returns it: canonical columns, ``survey_date`` a datetime."""
    frame = pd.DataFrame([{name: row.get(name, "") for name in CANONICAL} for row in rows])
    frame["survey_date"] = pd.to_datetime(frame["survey_date"].replace("", None))
    return FakeExport(frame, rows_read=len(rows), sha256=sha)


def survey(n: int, *, segment: str = "Hogar", ally: str = "ALMACONTACT S.A.S.") -> dict:
    hogar = segment == "Hogar"
    return {
        "survey_id": f"E{n:05d}",
        "survey_date": "2026-11-30 10:00",
        "ally": ally,
        "segment_text": segment,
        "account": f"{40000000 + n}" if hogar else "",
        "custcode": "" if hogar else f"1.{n}.1",
        "ani": f"3{n:09d}",
        "customer_name": f"Cliente {n}",
        "score": "2",
        "reason": "Demora en la visita",
        "customer_type": "Residencial",
        "account_status": "Activo",
    }


@pytest.fixture
def files() -> FakeFiles:
    files = FakeFiles()
    files.tables[ROSTER] = ROSTER_ROWS
    return files


@pytest.fixture
def master(files: FakeFiles) -> tuple[FakeWorkbook, FakeLedgers]:
    """A master created by ``init`` with the two agents, on fakes."""
    workbook, ledgers = FakeWorkbook(), FakeLedgers()
    unit = fake_unit(workbook, now=NOW, ledgers=ledgers, files=files)
    init_workbook(unit, "maestro.xlsx", roster_file=ROSTER)
    return workbook, ledgers


def unit_on(master: tuple[FakeWorkbook, FakeLedgers], files: FakeFiles, now: dt.datetime = NOW):
    workbook, ledgers = master
    return fake_unit(workbook, now=now, ledgers=ledgers, files=files)


def records(master: tuple[FakeWorkbook, FakeLedgers]) -> pd.DataFrame:
    (state,) = master[1].states.values()
    return state.records


def test_init_draws_the_master_and_creates_its_ledger(master):
    workbook, ledgers = master
    assert {L.SHEET_CONFIG, L.SHEET_ROSTER, L.SHEET_BASE} <= set(workbook.sheet_names())
    assert workbook.rows(L.SHEET_ROSTER)[1][0] == "Martha Pérez"
    assert list(ledgers.states) == [Path("/nowhere/maestro.swat.sqlite")]


def test_import_a_cut_filters_the_ally_tags_and_assigns(master, files):
    files.exports[EXPORT] = export(
        [
            survey(1),
            survey(2, segment="Movil"),
            survey(3, ally="OTRO ALIADO"),
            {**survey(4), "customer_type": "Cortesía"},
            survey(1),  # the same record twice in the file
        ]
    )
    result = import_cut(unit_on(master, files), EXPORT)

    assert (result.rows_read, result.ally_rows, result.duplicate_rows) == (5, 4, 1)
    assert result.new_records == 3 and result.by_segment == {"hogar": 2, "movil": 1}
    assert result.excluded["cortesia"] == 1 and result.assigned == 2 and result.unassigned == 0
    stored = records(master).set_index("survey_id")
    assert stored.loc["E00001", "agent"] == "Martha Pérez"
    assert stored.loc["E00002", "agent"] == "Fernanda Valencia"
    assert stored.loc["E00004", "exclusion"] == "cortesia" and stored.loc["E00004", "agent"] == ""
    workbook = master[0]
    assert "Martha Pérez" in workbook.sheet_names()  # one sheet per agent
    ids = [row[0] for row in workbook.rows("Martha Pérez")[1:] if row[0] != ""]
    assert ids == [int(stored.loc["E00001", "id"])]


def test_the_same_export_again_adds_nothing(master, files):
    files.exports[EXPORT] = export([survey(1), survey(2)])
    import_cut(unit_on(master, files), EXPORT)
    again = import_cut(unit_on(master, files), EXPORT)
    assert again.already_imported and again.new_records == 0
    assert len(records(master)) == 2


def test_a_failing_operation_leaves_ledger_and_workbook_as_they_were(master, files):
    workbook, _ = master
    files.exports[EXPORT] = export([survey(1)])
    before_sheets = {name: workbook.rows(name) for name in workbook.sheet_names()}
    (state,) = master[1].states.values()
    revision, operations = state.revision, len(state.operations)

    with pytest.raises(RosterError):
        reassign_agent(unit_on(master, files), "Nadie")  # raises inside the operation

    assert {name: workbook.rows(name) for name in workbook.sheet_names()} == before_sheets
    assert (state.revision, len(state.operations)) == (revision, operations)


def test_assign_places_what_waited_for_an_agent(master, files):
    files.exports[EXPORT] = export([survey(1), survey(2, segment="Movil")])
    files.tables[ROSTER] = ROSTER_ROWS[:2]  # only the home agent at first
    set_roster(unit_on(master, files), ROSTER)
    first = import_cut(unit_on(master, files), EXPORT)
    assert (first.assigned, first.unassigned) == (1, 1)

    files.tables[ROSTER] = ROSTER_ROWS
    set_roster(unit_on(master, files), ROSTER)
    result = assign_pending(unit_on(master, files))

    assert (result.assigned, result.unassigned) == (1, 0)
    assert result.by_agent == {"Fernanda Valencia": 1}


def test_marks_typed_in_the_workbook_reach_the_ledger_and_the_kpi(master, files):
    files.exports[EXPORT] = export([survey(1), survey(2)])
    import_cut(unit_on(master, files), EXPORT)
    workbook = master[0]
    workbook.set_cell("Martha Pérez", 1, L.OUTCOME_HEADER, OUTCOME_EFFECTIVE)
    workbook.set_cell("Martha Pérez", 1, L.MARK_HEADERS["attempt1"], "01/12/2026 08:30")
    workbook.set_cell(
        "Martha Pérez", 1, L.MARK_HEADERS["resolution"], "SOLUCIONADO PRIMER CONTACTO"
    )

    later = NOW + dt.timedelta(hours=1)
    report = refresh_kpi(unit_on(master, files, later)).report

    marked = records(master).sort_values("id").iloc[0]
    assert marked["outcome"] == OUTCOME_EFFECTIVE and marked["attempt1"] == "2026-12-01T08:30:00"
    # closed when the management happened (the attempt), not when the tool read it
    assert marked["closed_at"] == "2026-12-01T08:30:00"  # the ledger stores ISO text
    assert report.total_records == 2 and report.effective_contacts == 1
    assert report.ratio == 0.5 and not report.meets_target
    # the redrawn sheet shows the mark again (the ledger is what the workbook is drawn from)
    assert workbook.rows("Martha Pérez")[1][workbook.header("Martha Pérez").index("Resultado")] == (
        OUTCOME_EFFECTIVE
    )


def test_an_unchanged_workbook_is_not_read_again(master, files):
    files.exports[EXPORT] = export([survey(1)])
    import_cut(unit_on(master, files), EXPORT)
    workbook = master[0]
    reads: list[str] = []
    original = workbook.rows
    workbook.rows = lambda sheet: reads.append(sheet) or original(sheet)  # type: ignore[method-assign]
    assign_pending(unit_on(master, files))
    assert "Martha Pérez" not in reads  # the marks were not synced: nothing changed since


def test_archive_takes_closed_records_off_the_sheets(master, files):
    files.exports[EXPORT] = export([survey(1), survey(2)])
    import_cut(unit_on(master, files), EXPORT)
    workbook = master[0]
    workbook.set_cell("Martha Pérez", 1, L.OUTCOME_HEADER, OUTCOME_EFFECTIVE)
    workbook.set_cell("Martha Pérez", 1, L.MARK_HEADERS["attempt1"], "01/12/2026 08:30")
    workbook.set_cell(
        "Martha Pérez", 1, L.MARK_HEADERS["resolution"], "SOLUCIONADO PRIMER CONTACTO"
    )
    refresh_kpi(unit_on(master, files))

    result = archive(unit_on(master, files, NOW + dt.timedelta(days=1)))

    assert (result.archived, result.archived_excluded, result.remaining) == (1, 0, 1)
    ids = [row[0] for row in workbook.rows("Martha Pérez")[1:] if row[0] != ""]
    assert len(ids) == 1


def test_reassign_moves_an_absent_agents_records(master, files):
    files.tables[ROSTER] = [*ROSTER_ROWS, ["Natalia Díaz", "Ambos", "Sí", ""]]
    set_roster(unit_on(master, files), ROSTER)
    files.exports[EXPORT] = export([survey(1), survey(2), survey(3)])
    import_cut(unit_on(master, files), EXPORT)
    mine = set(records(master).query("agent == 'Martha Pérez'")["id"])
    assert mine  # she has open records to hand over

    result = reassign_agent(unit_on(master, files), "Martha Pérez")

    assert (result.moved, result.unassigned) == (len(mine), 0)
    assert result.by_agent == {"Natalia Díaz": len(mine)}
    stored = records(master).set_index("id")
    assert set(stored.loc[sorted(mine), "agent"]) == {"Natalia Díaz"}


def test_purge_forgets_old_cuts(master, files):
    files.exports[EXPORT] = export([survey(1), survey(2)])
    import_cut(unit_on(master, files), EXPORT)
    with pytest.raises(InputError):
        purge(unit_on(master, files), days=0)

    result = purge(unit_on(master, files, NOW + dt.timedelta(days=200)), days=90)

    assert (result.records, result.cuts, result.open_records) == (2, 1, 2)
    assert records(master).empty


def test_the_first_operation_on_a_pristine_template_creates_the_ledger(files):
    template = template_spec(FakeWorkbook(), FakeLedgers())  # what build-workbook draws
    workbook = FakeWorkbook({sheet.name: spec_rows(sheet) for sheet in template.sheets})
    ledgers = FakeLedgers()

    assign_pending(fake_unit(workbook, ledgers=ledgers, files=files))

    (state,) = ledgers.states.values()
    assert any("Se creó un registro nuevo" in e["message"] for e in state.events)


def test_a_used_master_without_its_ledger_is_refused(master, files):
    master[1].states.clear()
    with pytest.raises(LedgerError):
        assign_pending(unit_on(master, files))
    assert master[1].states == {}
