"""The ``Indicador`` sheet: live KPI formulas over the agent sheets, plus refreshed detail.

Top (rows 1-13, columns A-C): the live block. Its cells are what the workbook-scope names
``KPI_*`` point to; they hold COUNTIF(S) formulas over the agent sheets (recomputed the moment an
agent picks a ``Resultado``, macros or not) plus constants for what is no longer on a sheet
(archived records of the period, records «Sin asignar», the no gestionables).

Below (from row 15, columns A-H): the detail computed from the ledger by
:func:`swat_xl.core.kpi.compute_kpi` at the last operation — by outcome, segment, agent, day and
cut, and the inconsistencies — and, to the right (column J), a line chart of the daily rate
against the target.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from swat_xl.core.kpi import EXCLUDED, NO_OUTCOME, NO_SEGMENT, RULES, KpiReport, live_parts
from swat_xl.core.model import OUTCOME_EFFECTIVE, UNASSIGNED
from swat_xl.workbook import labels as L
from swat_xl.workbook.spec import (
    Cell,
    Chart,
    Column,
    CondFormat,
    PrintSetup,
    Series,
    Sheet,
    Table,
    a1,
    col_letter,
    quote_sheet,
)

if TYPE_CHECKING:
    from swat_xl.workbook.layout import MasterState

# The live block: (defined name, label, style). Row of the n-th entry = LIVE_FIRST_ROW + n.
LIVE_FIRST_ROW = 3
LIVE_ROWS: tuple[tuple[str, str, str], ...] = (
    ("KPI_CONTACTO_EFECTIVO", "% contacto efectivo (efectivos / registros enviados)", "big_pct"),
    ("KPI_META", "Meta", "pct"),
    ("KPI_TOTAL", "Registros enviados por el cliente (incluye no gestionables)", "int"),
    ("KPI_EFECTIVOS", "Contactos efectivos", "int"),
    ("KPI_PENDIENTES", "Pendientes (sin Resultado)", "int"),
    ("KPI_VENCIDOS", "Vencidos (pasada la hora de Vence sin Resultado)", "int"),
    ("KPI_NO_GESTIONABLES", "No gestionables (no se llaman)", "int"),
    ("KPI_GESTIONABLES", "Registros gestionables (sin no gestionables)", "int"),
    (
        "KPI_CONTACTO_EFECTIVO_GESTIONABLES",
        "% contacto efectivo sobre gestionables (referencia, no es el indicador oficial)",
        "pct",
    ),
)
DETAIL_FIRST_ROW = LIVE_FIRST_ROW + len(LIVE_ROWS) + 3  # 0-based row 15 = Excel row 16
CHART_COL = 9  # column J, right of the detail tables (A-H)
PER_SHEET_COL = CHART_COL  # the live rows per agent sheet sit above the chart
PER_SHEET_HEADERS = (
    "Hoja",
    "Registros",
    "Efectivos",
    "Pendientes",
    "Vencidos",
    "% contacto efectivo",
)

OUTCOME_LABELS = {NO_OUTCOME: "Sin resultado", EXCLUDED: "No gestionable"}
SEGMENT_LABELS = {**L.SEGMENT_LABELS, NO_SEGMENT: "Sin segmento"}
_GOOD = "#00B050"
_TARGET = "#C00000"


def sheet_counts(frame: pd.DataFrame, now: dt.datetime) -> tuple[int, int, int, int]:
    """What the live formulas of one agent sheet evaluate to right after a render:
    (records, effective, pending, overdue)."""
    if frame.empty:
        return (0, 0, 0, 0)
    outcome = frame["outcome"].to_numpy(dtype=object)
    due = frame["due_at"].to_numpy(dtype="datetime64[us]")
    open_ = outcome == ""
    overdue = open_ & (due < np.datetime64(now, "us"))  # NaT compares False
    return (
        len(frame),
        int((outcome == OUTCOME_EFFECTIVE).sum()),
        int(open_.sum()),
        int(overdue.sum()),
    )


def _per_sheet_block(
    agent_sheets: Sequence[str],
    id_col: str,
    out_col: str,
    due_col: str,
    counts: Mapping[str, tuple[int, int, int, int]],
) -> tuple[list[Cell], list[CondFormat], dict[str, str]]:
    """One live row per agent sheet (right of the live block, from column J): records,
    effective, pending, overdue and rate, each formula over that sheet only. The KPI cells sum
    these columns, so no formula grows with the number of agents (Excel caps a formula at 8,192
    characters)."""
    top = LIVE_FIRST_ROW - 1
    cells = [
        Cell(top - 1, PER_SHEET_COL, "En vivo por hoja de asesor", "subtitle"),
        *(Cell(top, PER_SHEET_COL + i, h, "header") for i, h in enumerate(PER_SHEET_HEADERS)),
    ]
    for offset, name in enumerate(agent_sheets):
        row = top + 1 + offset
        s = quote_sheet(name)
        ids, outcome, due = (f"{s}!${c}:${c}" for c in (id_col, out_col, due_col))
        total, eff = (a1(row, PER_SHEET_COL + k) for k in (1, 2))
        formulas = (
            f'=COUNTIF({ids},">0")',
            f'=COUNTIF({outcome},"{OUTCOME_EFFECTIVE}")',
            f'=COUNTIFS({ids},">0",{outcome},"")',
            f'=COUNTIFS({ids},">0",{outcome},"",{due},"<"&NOW())',
            f"=IF({total}=0,0,{eff}/{total})",
        )
        cells.append(Cell(row, PER_SHEET_COL, name, kind="text"))
        n, e, p, o = counts.get(name, (0, 0, 0, 0))
        cached = (n, e, p, o, e / n if n else 0)
        for k, (formula, style, value) in enumerate(
            zip(formulas, ("int", "int", "int", "int", "pct"), cached, strict=True), start=1
        ):
            cells.append(Cell(row, PER_SHEET_COL + k, value, style, formula=formula))
    sums: dict[str, str] = {}
    first, last = top + 1, top + len(agent_sheets)
    for k, key in enumerate(("effective", "pending", "overdue"), start=2):
        if not agent_sheets:
            sums[key] = "0"
        else:
            col = PER_SHEET_COL + k
            sums[key] = f"SUM({a1(first, col, absolute=True)}:{a1(last, col, absolute=True)})"
    conds = []
    if agent_sheets:
        rate = PER_SHEET_COL + 5
        ref = f"${col_letter(rate)}{first + 1}"
        conds = [
            CondFormat(first, rate, last, rate, f"={ref}>=KPI_META", "good"),
            CondFormat(first, rate, last, rate, f"={ref}<KPI_META", "bad"),
        ]
    return cells, conds, sums


def _live_block(
    state: MasterState,
    records: pd.DataFrame,
    agent_sheets: Sequence[str],
    counts: Mapping[str, tuple[int, int, int, int]],
) -> tuple[list[Cell], dict[str, str], list[CondFormat]]:
    from swat_xl.workbook.layout import agent_column_letter, config_row_of

    settings = state.settings
    parts = live_parts(records, settings.period_start, UNASSIGNED)
    per_sheet, per_sheet_conds, sums = _per_sheet_block(
        agent_sheets,
        agent_column_letter(settings, L.ID_HEADER),
        agent_column_letter(settings, L.OUTCOME_HEADER),
        agent_column_letter(settings, "Vence"),
        counts,
    )
    meta_row = config_row_of("meta_contacto_efectivo", settings) + 1
    meta = f"{quote_sheet(L.SHEET_CONFIG)}!$B${meta_row}"
    # Config holds the target as a number; a percentage typed there (80) counts as 80 %.
    values: dict[str, Any] = {
        "KPI_CONTACTO_EFECTIVO": "=IF(KPI_TOTAL=0,0,KPI_EFECTIVOS/KPI_TOTAL)",
        "KPI_META": f"=IF(ISNUMBER({meta}),IF({meta}>1,{meta}/100,{meta}),{settings.target!r})",
        "KPI_TOTAL": parts.total,
        "KPI_EFECTIVOS": f"={parts.archived_effective}+{sums['effective']}",
        "KPI_PENDIENTES": f"={parts.unassigned_open}+{sums['pending']}",
        "KPI_VENCIDOS": f"={sums['overdue']}",
        "KPI_NO_GESTIONABLES": parts.excluded,
        "KPI_GESTIONABLES": "=KPI_TOTAL-KPI_NO_GESTIONABLES",
        "KPI_CONTACTO_EFECTIVO_GESTIONABLES": (
            "=IF(KPI_GESTIONABLES=0,0,KPI_EFECTIVOS/KPI_GESTIONABLES)"
        ),
    }
    # Cached results, so a viewer that does not recalculate still shows the right numbers.
    live_counts = [counts.get(name, (0, 0, 0, 0)) for name in agent_sheets]
    effective = parts.archived_effective + sum(c[1] for c in live_counts)
    manageable = parts.total - parts.excluded
    cached: dict[str, Any] = {
        "KPI_CONTACTO_EFECTIVO": effective / parts.total if parts.total else 0,
        "KPI_META": settings.target,
        "KPI_EFECTIVOS": effective,
        "KPI_PENDIENTES": parts.unassigned_open + sum(c[2] for c in live_counts),
        "KPI_VENCIDOS": sum(c[3] for c in live_counts),
        "KPI_GESTIONABLES": manageable,
        "KPI_CONTACTO_EFECTIVO_GESTIONABLES": effective / manageable if manageable else 0,
    }
    sheet_ref = quote_sheet(L.SHEET_INDICATOR)
    cells = [
        Cell(0, 0, "Indicador de contacto efectivo (se recalcula al marcar)", "title"),
        Cell(
            1,
            0,
            "Fórmula del procedimiento: contactos efectivos / total de registros enviados "
            "por el cliente × 100. Meta mínima 80 %. La gestión vence a las "
            f"{settings.due_hours:g} horas de asignada.",
            "note",
        ),
    ]
    names: dict[str, str] = {}
    for offset, (name, label, style) in enumerate(LIVE_ROWS):
        row = LIVE_FIRST_ROW + offset
        value = values[name]
        cells.append(Cell(row, 0, label))
        if isinstance(value, str) and value.startswith("="):
            cells.append(Cell(row, 1, cached.get(name), style, formula=value))
        else:
            cells.append(Cell(row, 1, value, style))
        names[name] = f"={sheet_ref}!$B${row + 1}"
    head = LIVE_FIRST_ROW
    meets = cached["KPI_CONTACTO_EFECTIVO"] >= settings.target
    cells.append(
        Cell(
            head,
            2,
            "Cumple la meta" if meets else "No cumple la meta",
            "subtitle",
            formula='=IF(KPI_CONTACTO_EFECTIVO>=KPI_META,"Cumple la meta","No cumple la meta")',
        )
    )
    live = a1(head, 1, absolute=True)
    conds = [
        CondFormat(head, 1, head, 2, f"={live}>=KPI_META", "good"),
        CondFormat(head, 1, head, 2, f"={live}<KPI_META", "bad"),
    ]
    return [*cells, *per_sheet], names, [*conds, *per_sheet_conds]


# -- refreshed detail ---------------------------------------------------------------------------
def _pct_col(header: str = "% contacto efectivo") -> Column:
    return Column(header, 14, "pct")


def _int_col(header: str) -> Column:
    return Column(header, 12, "int")


def _on_target(sheet: Sheet, table: Table, header: str) -> None:
    """Green / red on a rate column of a table, against KPI_META."""
    if not table.rows:
        return
    col = table.column_index(header)
    first, last = table.first_row + 1, table.last_row
    top = f"${col_letter(col)}{first + 1}"
    sheet.cond_formats.append(CondFormat(first, col, last, col, f"={top}>=KPI_META", "good"))
    sheet.cond_formats.append(CondFormat(first, col, last, col, f"={top}<KPI_META", "bad"))


def _period_text(report: KpiReport) -> str:
    if report.desde is None and report.hasta is None:
        span = "todos los cortes del periodo"
    elif report.hasta is None:
        span = f"cortes importados desde el {report.desde:%d/%m/%Y}"
    elif report.desde is None:
        span = f"cortes importados hasta el {report.hasta:%d/%m/%Y}"
    else:
        span = f"cortes importados del {report.desde:%d/%m/%Y} al {report.hasta:%d/%m/%Y}"
    return (
        f"Detalle desde el registro ({span}); calculado el {report.now:%d/%m/%Y %H:%M}. "
        "Se actualiza con cada operación y con «Actualizar indicador»."
    )


def _detail(sheet: Sheet, report: KpiReport, chart_row: int) -> None:
    row = DETAIL_FIRST_ROW
    sheet.cells.append(Cell(row, 0, "Detalle del indicador", "title"))
    sheet.cells.append(Cell(row + 1, 0, _period_text(report), "note"))
    row += 3

    # Summary of the (possibly filtered) period.
    summary: list[tuple[str, Any, str]] = [
        ("% contacto efectivo del periodo", report.ratio, "pct"),
        ("Meta", report.target, "pct"),
        ("Registros enviados", report.total_records, "int"),
        ("Contactos efectivos", report.effective_contacts, "int"),
        ("No gestionables", report.excluded, "int"),
        ("% contacto efectivo sobre gestionables (referencia)", report.ratio_manageable, "pct"),
        ("Pendientes", report.pending, "int"),
        ("Vencidos", report.overdue, "int"),
        ("Inconsistencias de marcación", report.inconsistency_total, "int"),
    ]
    sheet.cells.append(Cell(row, 0, "Resumen", "subtitle"))
    for offset, (label, value, style) in enumerate(summary, start=1):
        sheet.cells.append(Cell(row + offset, 0, label))
        sheet.cells.append(Cell(row + offset, 1, value, style))
    row += len(summary) + 3

    def place(title: str, columns: list[Column], rows: list[list[Any]], note: str = "") -> Table:
        nonlocal row
        sheet.cells.append(Cell(row, 0, title, "subtitle"))
        if note:
            sheet.cells.append(Cell(row, 2, note, "note"))
        table = Table(columns, rows, first_row=row + 1, autofilter=False, spare_rows=0)
        sheet.tables.append(table)
        row = table.last_row + 3
        return table

    total = report.total_records
    place(
        "Por resultado",
        [Column("Resultado", 24), _int_col("Registros"), Column("% del total", 12, "pct")],
        [
            [
                OUTCOME_LABELS.get(name, name),
                g.total_records,
                g.total_records / total if total else 0.0,
            ]
            for name, g in report.by_outcome.items()
        ],
    )
    segments = place(
        "Por segmento",
        [
            Column("Segmento", 24),
            _int_col("Registros"),
            _int_col("No gestionables"),
            _int_col("Efectivos"),
            _pct_col(),
            _int_col("Pendientes"),
            _int_col("Vencidos"),
        ],
        [
            [
                SEGMENT_LABELS.get(name, name),
                g.total_records,
                g.excluded,
                g.effective_contacts,
                g.ratio,
                g.pending,
                g.overdue,
            ]
            for name, g in report.by_segment.items()
        ],
    )
    _on_target(sheet, segments, "% contacto efectivo")
    agents = place(
        "Por asesor",
        [
            Column("Asesor", 24),
            _int_col("Registros"),
            _int_col("Efectivos"),
            _pct_col(),
            _int_col("Pendientes"),
            _int_col("Vencidos"),
            Column("Horas promedio de cierre", 14, "number"),
            Column("Encuesta asesor promedio", 14, "number"),
        ],
        [
            [
                name,
                a.total_records,
                a.effective_contacts,
                a.ratio,
                a.pending,
                a.overdue,
                a.avg_close_hours,
                a.avg_agent_survey,
            ]
            for name, a in report.by_agent.items()
        ],
        "Horas de cierre = Resultado registrado − asignación.",
    )
    _on_target(sheet, agents, "% contacto efectivo")
    days = place(
        "Por día (fecha de importación del corte)",
        [
            Column("Día", 24, "date"),
            _int_col("Registros"),
            _int_col("Efectivos"),
            _pct_col(),
            Column("Meta", 12, "pct"),
        ],
        [
            [d.day, d.total_records, d.effective_contacts, d.ratio, report.target]
            for d in report.by_day
        ],
    )
    _on_target(sheet, days, "% contacto efectivo")
    place(
        "Por corte",
        [
            Column("Corte", 24, "int"),
            Column("Importado", 16, "datetime"),
            Column("Archivo", 24),
            _int_col("Registros"),
            _int_col("No gestionables"),
            _int_col("Efectivos"),
            _pct_col(),
            _int_col("Pendientes"),
        ],
        [
            [
                c.cut_id,
                c.imported_at,
                c.file_name,
                c.total_records,
                c.excluded,
                c.effective_contacts,
                c.ratio,
                c.pending,
            ]
            for c in report.by_cut
        ],
    )
    shown = report.inconsistencies
    note = ""
    if report.inconsistency_total > len(shown):
        note = (
            f"Se muestran {len(shown)} de {report.inconsistency_total}; corrija y actualice "
            "para ver el resto."
        )
    place(
        "Inconsistencias de marcación (solo ID y asesor)",
        [Column("ID", 24, "int"), Column("Asesor", 14), Column("Regla", 14), Column("Detalle", 14)],
        [[p.record_id, p.agent, RULES.get(p.rule, p.rule), p.detail] for p in shown],
        note,
    )
    if not shown:
        sheet.cells.append(Cell(row - 2, 0, "Sin inconsistencias.", "note"))

    # The trend chart reads the «Por día» table.
    ref = quote_sheet(L.SHEET_INDICATOR)
    first = days.first_row + 1
    last = max(days.last_row, first)

    def column_range(header: str) -> str:
        col = days.column_index(header)
        return f"={ref}!{a1(first, col, absolute=True)}:{a1(last, col, absolute=True)}"

    sheet.charts.append(
        Chart(
            title="Contacto efectivo por día vs meta",
            categories=column_range("Día"),
            series=(
                Series("% contacto efectivo", column_range("% contacto efectivo"), _GOOD),
                Series(f"Meta {report.target:.0%}", column_range("Meta"), _TARGET, dash=True),
            ),
            anchor_row=chart_row,
            anchor_col=CHART_COL,
            dates="dd/mm",
        )
    )


def indicator_sheet(
    state: MasterState,
    records: pd.DataFrame,
    agent_sheets: Sequence[str],
    sheet_frames: Mapping[str, pd.DataFrame] | None = None,
) -> tuple[Sheet, dict[str, str]]:
    """The Indicador sheet. ``sheet_frames`` (agent sheet name -> its records) gives the live
    formulas their cached results."""
    counts = {name: sheet_counts(frame, state.now) for name, frame in (sheet_frames or {}).items()}
    cells, names, conds = _live_block(state, records, agent_sheets, counts)
    sheet = Sheet(
        L.SHEET_INDICATOR,
        cells=cells,
        cond_formats=conds,
        tab_color="#00B050",
        print_setup=PrintSetup(landscape=True),
    )
    if state.kpi is not None:
        below_live = LIVE_FIRST_ROW + len(agent_sheets) + 2
        _detail(sheet, state.kpi, max(DETAIL_FIRST_ROW, below_live))
    # Explicit widths last: they also clear the column formats the detail tables would set.
    sheet.widths = {0: 52, 1: 14, 2: 20, **{c: 14 for c in range(3, 8)}, 8: 3, PER_SHEET_COL: 24}
    sheet.widths.update({PER_SHEET_COL + k: 12 for k in range(1, len(PER_SHEET_HEADERS))})
    return sheet, names
