"""The ``Prácticas`` sheet: management practices of section 6 and their weekly adherence.

* Columns A-E: the log supervisors fill (Fecha, Práctica, Responsable, Minutos, Notas), row 1 the
  header. :mod:`swat_xl.services.practices` reads it back from there into the ledger.
* From column H: the catalog of the 9 practices (frequency, owner, goal, goal per week,
  duration), then two blocks over the last 8 ISO weeks: practices held (COUNTIFS over the log)
  and adherence (held / goal per week). Both are formulas: they move as soon as a row is logged.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from swat_xl.core.practices import OWNERS, PRACTICES, recent_weeks
from swat_xl.core.records import as_datetime
from swat_xl.core.text import clean_text
from swat_xl.workbook import labels as L
from swat_xl.workbook.spec import Cell, Column, Sheet, Table, Validation, a1, col_letter
from swat_xl.workbook.state import MasterState

LOG_COLUMNS = ("Fecha", "Práctica", "Responsable", "Minutos", "Notas")
CATALOG_COL = 7  # H
CATALOG_COLUMNS: tuple[Column, ...] = (
    Column("Práctica", 30),
    Column("Frecuencia", 12),
    Column("Meta", 14),
    Column("Meta por semana", 12, "number"),
    Column("Duración (min)", 12, "int"),
    Column("Responsable", 30),
    Column("Descripción", 14),
)
GOAL_COL = CATALOG_COL + 3  # «Meta por semana»
WEEKS = 8
HELD_TITLE_ROW = len(PRACTICES) + 3  # 0-based; catalog occupies rows 0-9
HELD_HEADER_ROW = HELD_TITLE_ROW + 1
MONDAY_ROW = HELD_TITLE_ROW + 2
HELD_FIRST_ROW = HELD_TITLE_ROW + 3
ADHERENCE_TITLE_ROW = HELD_FIRST_ROW + len(PRACTICES) + 1
ADHERENCE_HEADER_ROW = ADHERENCE_TITLE_ROW + 1
ADHERENCE_FIRST_ROW = ADHERENCE_TITLE_ROW + 2
LOG_SPARE_ROWS = 300


def _held(when: Any, typed: str) -> dt.date | str | None:
    """The day a practice was held (the ledger's log): the date, or the text typed there when it
    is not a date (shown back as typed), or ``None``."""
    day = as_datetime(when)
    return day.date() if day is not None else (typed or None)


def _minutes(value: Any) -> Any:
    text = clean_text(value)
    try:
        number = float(text.replace(",", "."))
    except ValueError:
        return text or None
    return int(number) if number.is_integer() else number


def _log_table(state: MasterState) -> Table:
    columns = [
        Column(LOG_COLUMNS[0], 12, "date", editable=True),
        Column(LOG_COLUMNS[1], 28, editable=True),
        Column(LOG_COLUMNS[2], 16, editable=True, choices=OWNERS),
        Column(LOG_COLUMNS[3], 9, "int", editable=True),
        Column(LOG_COLUMNS[4], 40, editable=True),
    ]
    rows = [
        [_held(r.held_on, r.held_on_unread), r.practice, r.owner, _minutes(r.minutes), r.notes]
        for r in state.practice_log.itertuples(index=False)
    ]
    return Table(columns, rows, spare_rows=LOG_SPARE_ROWS)


def _catalog_table() -> Table:
    rows = [
        [p.name, p.frequency, p.goal, p.per_week, p.minutes, p.owner, p.description]
        for p in PRACTICES
    ]
    return Table(list(CATALOG_COLUMNS), rows, first_col=CATALOG_COL, autofilter=False, spare_rows=0)


def _week_header(row: int, label: str, mondays: list[dt.date]) -> list[Cell]:
    cells = [Cell(row, CATALOG_COL, label, "header")]
    for k, monday in enumerate(mondays):
        year, week, _ = monday.isocalendar()
        cells.append(Cell(row, CATALOG_COL + 1 + k, f"Semana {week} de {year}", "header"))
    return cells


def _weekly_blocks(now: dt.datetime) -> list[Cell]:
    mondays = recent_weeks(now, WEEKS)
    b, a = col_letter(1), col_letter(0)  # log: Práctica, Fecha
    cells = [
        Cell(
            HELD_TITLE_ROW,
            CATALOG_COL,
            "Prácticas realizadas por semana (cuenta las filas de la bitácora, columnas A-E)",
            "subtitle",
        ),
        *_week_header(HELD_HEADER_ROW, "Práctica", mondays),
        Cell(MONDAY_ROW, CATALOG_COL, "Semana desde el lunes", "note"),
    ]
    for k, monday in enumerate(mondays):
        cells.append(Cell(MONDAY_ROW, CATALOG_COL + 1 + k, monday, "date"))
    cells += [
        Cell(
            ADHERENCE_TITLE_ROW,
            CATALOG_COL,
            "Adherencia por semana (realizadas / meta por semana)",
            "subtitle",
        ),
        *_week_header(ADHERENCE_HEADER_ROW, "Práctica", mondays),
    ]
    for i, practice in enumerate(PRACTICES):
        held_row = HELD_FIRST_ROW + i
        adherence_row = ADHERENCE_FIRST_ROW + i
        name_ref = f"${col_letter(CATALOG_COL)}{held_row + 1}"
        goal_ref = a1(1 + i, GOAL_COL, absolute=True)
        cells.append(Cell(held_row, CATALOG_COL, practice.name))
        cells.append(Cell(adherence_row, CATALOG_COL, practice.name))
        for k in range(WEEKS):
            col = CATALOG_COL + 1 + k
            letter = col_letter(col)
            monday = f"{letter}${MONDAY_ROW + 1}"
            held = (
                f'=COUNTIFS(${b}:${b},{name_ref},${a}:${a},">="&{monday},'
                f'${a}:${a},"<"&({monday}+7))'
            )
            cells.append(Cell(held_row, col, None, "int", formula=held))
            count_ref = a1(held_row, col)
            cells.append(
                Cell(
                    adherence_row,
                    col,
                    None,
                    "pct",
                    formula=f"=IF({goal_ref}=0,0,{count_ref}/{goal_ref})",
                )
            )
    return cells


def practices_sheet(state: MasterState) -> Sheet:
    log = _log_table(state)
    catalog = _catalog_table()
    sheet = Sheet(L.SHEET_PRACTICES, tables=[log, catalog], freeze=(1, 0), tab_color="#ED7D31")
    last = log.last_row + log.spare_rows
    names = f"={a1(1, CATALOG_COL, absolute=True)}:{a1(len(PRACTICES), CATALOG_COL, absolute=True)}"
    sheet.validations.append(
        Validation(
            1, 1, last, 1, source=names, message="Elija una práctica del catálogo (columna H)."
        )
    )
    sheet.validations.append(
        Validation(
            1, 2, last, 2, choices=OWNERS, message="Responsable: Supervisor, Coordinador o Gerente."
        )
    )
    sheet.cells.extend(_weekly_blocks(state.now))
    sheet.cells.append(
        Cell(
            len(PRACTICES) + 1,
            CATALOG_COL,
            "Registre cada práctica realizada en la bitácora (columnas A-E): "
            "fecha, práctica, responsable, minutos y notas.",
            "note",
        )
    )
    widths = {5: 3, 6: 3, CATALOG_COL: 30}
    widths.update({CATALOG_COL + 1 + k: 14 for k in range(WEEKS)})
    widths[CATALOG_COL + 5] = 30  # «Responsable» of the catalog
    sheet.widths = widths
    return sheet
