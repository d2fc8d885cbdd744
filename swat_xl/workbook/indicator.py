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
from typing import Any

import numpy as np
import pandas as pd

from swat_xl.core.config import Settings
from swat_xl.core.kpi import (
    ATTEMPTS,
    EXCLUDED,
    INVALID,
    NO_OUTCOME,
    NO_SEGMENT,
    RULES,
    KpiReport,
    live_parts,
)
from swat_xl.core.marks import frame_state
from swat_xl.core.model import UNASSIGNED
from swat_xl.workbook import labels as L
from swat_xl.workbook.columns import agent_column_letter, config_row_of, unassigned_column_letter
from swat_xl.workbook.live_rules import MarkRanges
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
from swat_xl.workbook.state import MasterState

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
    (
        "KPI_MARCAS_NO_VALIDAS",
        "Marcas no válidas (valor fuera de la lista: el registro sigue pendiente)",
        "int",
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
    "Marcas no válidas",
)
SPARE_ROWS = Table([], []).spare_rows  # rows below the data an agent sheet keeps ready

OUTCOME_LABELS = {
    NO_OUTCOME: "Sin resultado",
    EXCLUDED: "No gestionable",
    INVALID: "Valor no válido",
}
_RANGE_HEADERS = (
    L.ID_HEADER,
    L.OUTCOME_HEADER,
    *(L.MARK_HEADERS[f] for f in ("resolution", "order_number", "agent_survey", *ATTEMPTS)),
    "Vence",
)
SEGMENT_LABELS = {**L.SEGMENT_LABELS, NO_SEGMENT: "Sin segmento"}
_GOOD = "#00B050"
_TARGET = "#C00000"


Counts = tuple[int, int, int, int, int]  # records, effective, pending, overdue, invalid marks
NO_COUNTS: Counts = (0, 0, 0, 0, 0)


def sheet_counts(frame: pd.DataFrame, now: dt.datetime, settings: Settings) -> Counts:
    """What the live formulas of one agent sheet evaluate to right after a render:
    (records, effective, pending, overdue, invalid marks)."""
    if frame.empty:
        return NO_COUNTS
    state = frame_state(frame, settings)
    due = frame["due_at"].to_numpy(dtype="datetime64[us]")
    open_ = ~state.closed
    overdue = open_ & (due < np.datetime64(now, "us"))  # NaT compares False
    invalid = sum(mask.astype(int) for mask in state.invalid.values())
    return (
        len(frame),
        int(state.effective.sum()),
        int(open_.sum()),
        int(overdue.sum()),
        int(np.sum(invalid)),
    )


def _per_sheet_block(
    agent_sheets: Sequence[str],
    settings: Settings,
    counts: Mapping[str, Counts],
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

    letter = {h: agent_column_letter(settings, h) for h in _RANGE_HEADERS}
    for offset, name in enumerate(agent_sheets):
        row = top + 1 + offset
        s = quote_sheet(name)
        n, e, p, o, bad = counts.get(name, NO_COUNTS)
        # Rows the agent sheet keeps ready (its dropdowns reach as far).
        last = n + 1 + SPARE_ROWS

        def ref(header: str, sheet: str = s, end: int = last) -> str:
            col = letter[header]
            return f"{sheet}!${col}$2:${col}${end}"

        marks = MarkRanges(
            ids=ref(L.ID_HEADER),
            outcome=ref(L.OUTCOME_HEADER),
            resolution=ref(L.MARK_HEADERS["resolution"]),
            order=ref(L.MARK_HEADERS["order_number"]),
            survey=ref(L.MARK_HEADERS["agent_survey"]),
            attempts=tuple(ref(L.MARK_HEADERS[a]) for a in ATTEMPTS),  # type: ignore[arg-type]
            due=ref("Vence"),
        )
        ids = f"{s}!${letter[L.ID_HEADER]}:${letter[L.ID_HEADER]}"
        total, eff = (a1(row, PER_SHEET_COL + k) for k in (1, 2))
        formulas = (
            f'=COUNTIF({ids},">0")',
            marks.effective(settings),
            f"={total}-{marks.closed_count(settings)}",
            marks.overdue(settings),
            f"=IF({total}=0,0,{eff}/{total})",
            marks.invalid_count(settings),
        )
        cells.append(Cell(row, PER_SHEET_COL, name, kind="text"))
        cached = (n, e, p, o, e / n if n else 0, bad)
        styles = ("int", "int", "int", "int", "pct", "int")
        for k, (formula, style, value) in enumerate(
            zip(formulas, styles, cached, strict=True), start=1
        ):
            cells.append(Cell(row, PER_SHEET_COL + k, value, style, formula=formula))
    sums: dict[str, str] = {}
    first, last = top + 1, top + len(agent_sheets)
    for k, key in ((2, "effective"), (3, "pending"), (4, "overdue"), (6, "invalid")):
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
    counts: Mapping[str, Counts],
) -> tuple[list[Cell], dict[str, str], list[CondFormat]]:
    settings = state.settings
    parts = live_parts(records, settings.period_start, UNASSIGNED, settings, state.archived)
    # «Sin asignar» goes overdue too: its clock started with the import of the cut.
    waiting = quote_sheet(L.SHEET_UNASSIGNED)
    w_ids, w_due = (unassigned_column_letter(h) for h in (L.ID_HEADER, "Vence"))
    waiting_overdue = (
        f'COUNTIFS({waiting}!${w_ids}:${w_ids},">0",{waiting}!${w_due}:${w_due},"<"&NOW())'
    )
    per_sheet, per_sheet_conds, sums = _per_sheet_block(agent_sheets, settings, counts)
    meta_row = config_row_of("meta_contacto_efectivo", settings) + 1
    meta = f"{quote_sheet(L.SHEET_CONFIG)}!$B${meta_row}"
    # Config holds the target as a number; a percentage typed there (80) counts as 80 %.
    values: dict[str, Any] = {
        "KPI_CONTACTO_EFECTIVO": "=IF(KPI_TOTAL=0,0,KPI_EFECTIVOS/KPI_TOTAL)",
        "KPI_META": f"=IF(ISNUMBER({meta}),IF({meta}>1,{meta}/100,{meta}),{settings.target!r})",
        "KPI_TOTAL": parts.total,
        "KPI_EFECTIVOS": f"={parts.archived_effective}+{sums['effective']}",
        "KPI_PENDIENTES": f"={parts.unassigned_open}+{sums['pending']}",
        "KPI_VENCIDOS": f"={sums['overdue']}+{waiting_overdue}",
        "KPI_NO_GESTIONABLES": parts.excluded,
        "KPI_GESTIONABLES": "=KPI_TOTAL-KPI_NO_GESTIONABLES",
        "KPI_CONTACTO_EFECTIVO_GESTIONABLES": (
            "=IF(KPI_GESTIONABLES=0,0,KPI_EFECTIVOS/KPI_GESTIONABLES)"
        ),
        "KPI_MARCAS_NO_VALIDAS": f"={sums['invalid']}",
    }
    # Cached results, so a viewer that does not recalculate still shows the right numbers.
    live_counts = [counts.get(name, NO_COUNTS) for name in agent_sheets]
    effective = parts.archived_effective + sum(c[1] for c in live_counts)
    manageable = parts.total - parts.excluded
    cached: dict[str, Any] = {
        "KPI_CONTACTO_EFECTIVO": effective / parts.total if parts.total else 0,
        "KPI_META": settings.target,
        "KPI_EFECTIVOS": effective,
        "KPI_PENDIENTES": parts.unassigned_open + sum(c[2] for c in live_counts),
        "KPI_VENCIDOS": sum(c[3] for c in live_counts) + _waiting_overdue(records, state.now),
        "KPI_GESTIONABLES": manageable,
        "KPI_CONTACTO_EFECTIVO_GESTIONABLES": effective / manageable if manageable else 0,
        "KPI_MARCAS_NO_VALIDAS": sum(c[4] for c in live_counts),
    }
    sheet_ref = quote_sheet(L.SHEET_INDICATOR)
    cells = [
        Cell(0, 0, "Indicador de contacto efectivo (se recalcula al marcar)", "title"),
        Cell(
            1,
            0,
            "Fórmula del procedimiento: contactos efectivos / total de registros enviados "
            "por el cliente × 100. Meta mínima 80 %. La gestión vence a las "
            f"{settings.due_hours:g} horas de importado el corte.",
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
    # Config «base_meta»: the procedure's indicator (records sent) decides by default; both
    # rates are always shown.
    by_manageable = settings.target_base == "gestionables"
    rate = "KPI_CONTACTO_EFECTIVO_GESTIONABLES" if by_manageable else "KPI_CONTACTO_EFECTIVO"
    base = parts.total - parts.excluded if by_manageable else parts.total
    meets = base > 0 and cached[rate] >= settings.target
    cells.append(
        Cell(
            head,
            2,
            "Cumple la meta" if meets else "No cumple la meta",
            "subtitle",
            formula=f'=IF({rate}>=KPI_META,"Cumple la meta","No cumple la meta")',
        )
    )
    cells.append(
        Cell(
            head + 1,
            2,
            f"Meta medida sobre registros {settings.target_base} (Config «base_meta»)",
            "note",
        )
    )
    live = a1(head, 1, absolute=True)
    conds = [
        CondFormat(head, 1, head, 2, f"={live}>=KPI_META", "good"),
        CondFormat(head, 1, head, 2, f"={live}<KPI_META", "bad"),
    ]
    return [*cells, *per_sheet], names, [*conds, *per_sheet_conds]


def _waiting_overdue(records: pd.DataFrame, now: dt.datetime) -> int:
    """Records on «Sin asignar» past their due time (what its live count gives after a render)."""
    if records.empty:
        return 0
    agent = records["agent"].to_numpy(dtype=object)
    due = records["due_at"].to_numpy(dtype="datetime64[us]")
    waiting = (
        records["archived_at"].isna().to_numpy()
        & (records["exclusion"].to_numpy(dtype=object) == "")
        & ((agent == "") | (agent == UNASSIGNED))
    )
    return int((waiting & (due < np.datetime64(now, "us"))).sum())  # NaT compares False


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
        (
            "Cumple la meta sobre enviados",
            "Sí" if report.meets_target_sent else "No",
            "subtitle",
        ),
        (
            "Cumple la meta sobre gestionables",
            "Sí" if report.meets_target_manageable else "No",
            "subtitle",
        ),
        (f"Base de «Cumple la meta» (Config «base_meta»): {report.target_base}", None, "note"),
        ("Pendientes", report.pending, "int"),
        ("Vencidos", report.overdue, "int"),
        ("Cerrados después del vencimiento", report.closed_late, "int"),
        ("Marcas no válidas (valor fuera de la lista)", report.invalid_marks, "int"),
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
        "Horas de cierre = último intento − importación del corte.",
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
    counts = {
        name: sheet_counts(frame, state.now, state.settings)
        for name, frame in (sheet_frames or {}).items()
    }
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
