"""What the services read from the master's own sheets: ``Config``, ``Asesores``, the sheets
of the user (carried over as they are) and ``xlwings.conf``; and whether a master is untouched."""

from __future__ import annotations

from typing import Any

from swat_xl.core.config import Settings, settings_from_rows
from swat_xl.core.model import Agent
from swat_xl.core.roster import parse_roster
from swat_xl.core.text import is_blank
from swat_xl.errors import WorkbookError
from swat_xl.services.marks import sheet_roles
from swat_xl.services.ports import LedgerPort, SheetReader, WorkbookPort
from swat_xl.workbook import labels as L
from swat_xl.workbook.spec import Sheet
from swat_xl.workbook.xlwings_conf import XLWINGS_CONF


def read_settings(workbook: SheetReader) -> Settings:
    if L.SHEET_CONFIG not in workbook.sheet_names():
        raise WorkbookError(
            f"El libro no tiene la hoja «{L.SHEET_CONFIG}»: no parece un libro maestro de swat_xl "
            "(créelo con «swat-xl init»)",
            file=workbook.path,
        )
    rows = workbook.rows(L.SHEET_CONFIG)
    # blank rows go along: each value keeps its row number for the messages
    return settings_from_rows(
        ((row[0] if row else "", row[1] if len(row) > 1 else "") for row in rows[1:]),
        first_row=2,
    )


def read_agents(workbook: WorkbookPort) -> list[Agent]:
    if L.SHEET_ROSTER not in workbook.sheet_names():
        return []
    rows = [[c for c in row[:4]] for row in workbook.rows(L.SHEET_ROSTER)]
    if not rows:
        return []
    return parse_roster(rows, source=L.SHEET_ROSTER)


def is_pristine(workbook: WorkbookPort) -> bool:
    """A master no operation has touched yet (the built template): ``Base`` and ``Bitácora``
    have no data rows and there is no agent sheet."""
    names = workbook.sheet_names()
    if L.SHEET_BASE not in names:
        return False
    for sheet in (L.SHEET_LOG, L.SHEET_BASE):  # the log first: any used master has lines there
        rows = workbook.rows(sheet) if sheet in names else []
        if any(not is_blank(cell) for row in rows[1:] for cell in row):
            return False
    return not any(
        L.is_agent_header(workbook.header(name)) for name in names if name not in L.OWNED_SHEETS
    )


def collect_user_sheets(workbook: WorkbookPort, ledger: LedgerPort) -> list[Sheet]:
    """Sheets the tool does not own and that are not agent sheets: carried over as they are,
    whatever their headers (a user's copy of an agent sheet stays, as the user's)."""
    agent = set(sheet_roles(workbook, ledger).agent)
    return [
        workbook.user_sheet(name)
        for name in workbook.sheet_names()
        if name not in L.OWNED_SHEETS and name not in agent
    ]


def xlwings_conf(workbook: WorkbookPort) -> list[tuple[str, Any]]:
    """The rows of ``xlwings.conf`` of a macro-enabled master (the shipped ones when the sheet
    is missing); none for an ``.xlsx``."""
    if workbook.path.suffix.lower() != ".xlsm":
        return []
    if L.SHEET_XLWINGS in workbook.sheet_names():
        rows = workbook.rows(L.SHEET_XLWINGS)
        return [(str(r[0]), "" if len(r) < 2 else r[1]) for r in rows if r and str(r[0])]
    return list(XLWINGS_CONF)
