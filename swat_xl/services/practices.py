"""The supervisors' log of management practices (``Prácticas`` sheet) kept in the ledger."""

from __future__ import annotations

from swat_xl.core.dates import DATE_HINT, NotADate, parse_date, understood
from swat_xl.core.text import clean_text, is_blank
from swat_xl.services.session import Session
from swat_xl.workbook import labels as L


def _date(value: object) -> str:
    """The day as the ledger keeps it (ISO); what is not a date stays as typed."""
    try:
        day = parse_date(value)
    except NotADate as exc:
        return exc.text
    return day.isoformat() if day else ""


def sync_practice_log(session: Session) -> None:
    """The sheet's log replaces the ledger's copy (when the sheet is there at all)."""
    workbook = session.workbook
    if L.SHEET_PRACTICES not in workbook.sheet_names():
        return
    rows = workbook.rows(L.SHEET_PRACTICES)
    kept = session.ledger.practice_days()
    entries = []
    for number, row in enumerate(rows[1:], start=2):
        cells = [*row[:5], "", "", "", "", ""][:5]
        if all(is_blank(c) for c in cells):
            continue
        held, practice, owner, minutes, notes = cells
        day = _date(held)
        if day and day not in kept and not understood(held):  # said once, when first typed
            session.warn(
                f"Hoja «{L.SHEET_PRACTICES}», fila {number}, columna «Fecha»: «{day}» no es una "
                f"fecha reconocible (use {DATE_HINT}); quedó como está"
            )
        entries.append(
            (
                day,
                clean_text(practice),
                clean_text(owner),
                clean_text(minutes),
                clean_text(notes),
            )
        )
    session.ledger.replace_practice_log(entries)
