"""The supervisors' log of management practices (``Prácticas`` sheet) kept in the ledger."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from swat_xl.core.text import clean_text, is_blank
from swat_xl.workbook import labels as L

if TYPE_CHECKING:
    from swat_xl.services.session import Session


def _date(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = clean_text(value)
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text[:10], fmt).date().isoformat()
        except ValueError:
            continue
    return text


def sync_practice_log(session: Session) -> None:
    """The sheet's log replaces the ledger's copy (when the sheet is there at all)."""
    workbook = session.workbook
    if L.SHEET_PRACTICES not in workbook.sheet_names():
        return
    rows = workbook.rows(L.SHEET_PRACTICES)
    entries = []
    for row in rows[1:]:
        cells = [*row[:5], "", "", "", "", ""][:5]
        if all(is_blank(c) for c in cells):
            continue
        held, practice, owner, minutes, notes = cells
        entries.append(
            (
                _date(held),
                clean_text(practice),
                clean_text(owner),
                clean_text(minutes),
                clean_text(notes),
            )
        )
    db = session.ledger.db
    db.execute("DELETE FROM practice_log")
    db.executemany(
        "INSERT INTO practice_log (held_on, practice, owner, minutes, notes) "
        "VALUES (?, ?, ?, ?, ?)",
        entries,
    )
