"""The ``Prácticas`` sheet: management practices of section 6 and their adherence."""

from __future__ import annotations

from typing import TYPE_CHECKING

from swat_xl.workbook import labels as L
from swat_xl.workbook.spec import Column, Sheet, Table

if TYPE_CHECKING:
    from swat_xl.workbook.layout import MasterState

LOG_COLUMNS = ("Fecha", "Práctica", "Responsable", "Minutos", "Notas")


def practices_sheet(state: MasterState) -> Sheet:
    columns = [
        Column("Fecha", 12, "date"),
        Column("Práctica", 28),
        Column("Responsable", 22),
        Column("Minutos", 9, "int"),
        Column("Notas", 40),
    ]
    rows = [
        [r.held_on, r.practice, r.owner, r.minutes, r.notes]
        for r in state.practice_log.itertuples(index=False)
    ]
    return Sheet(L.SHEET_PRACTICES, tables=[Table(columns, rows, spare_rows=300)], freeze=(1, 0))
