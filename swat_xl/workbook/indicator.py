"""The ``Indicador`` sheet: live KPI formulas over the agent sheets, plus refreshed history."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

from swat_xl.core.model import OUTCOME_EFFECTIVE
from swat_xl.workbook import labels as L
from swat_xl.workbook.spec import Cell, Sheet, quote_sheet

if TYPE_CHECKING:
    from swat_xl.workbook.layout import MasterState


def kpi_scope(records: pd.DataFrame, state: MasterState) -> pd.Series:
    """Records the live indicator covers: everything still on the sheets, plus archived records
    of the current period (``inicio_periodo`` in Config)."""
    if records.empty:
        return pd.Series([], dtype=bool)
    live = records["archived_at"] == ""
    start = state.settings.period_start
    if start is None:
        return pd.Series(True, index=records.index)
    in_period = records["cut_at"].str[:10] >= start.isoformat()
    return live | in_period


def _sum_over(sheets: Sequence[str], template: str) -> str:
    if not sheets:
        return "0"
    return "+".join(template.format(s=quote_sheet(name)) for name in sheets)


def indicator_sheet(
    state: MasterState, records: pd.DataFrame, agent_sheets: Sequence[str]
) -> tuple[Sheet, dict[str, str]]:
    from swat_xl.workbook.layout import agent_column_letter, config_row_of

    settings = state.settings
    scope = records[kpi_scope(records, state)] if not records.empty else records
    total = len(scope)
    excluded = int((scope["exclusion"] != "").sum()) if total else 0
    archived = scope[scope["archived_at"] != ""] if total else scope
    archived_effective = int((archived["outcome"] == OUTCOME_EFFECTIVE).sum()) if total else 0
    live = scope[scope["archived_at"] == ""] if total else scope
    unassigned_open = (
        int(((live["exclusion"] == "") & (live["agent"].isin(["", "Sin asignar"]))).sum())
        if total
        else 0
    )

    id_col = agent_column_letter(settings, L.ID_HEADER)
    out_col = agent_column_letter(settings, L.OUTCOME_HEADER)
    due_col = agent_column_letter(settings, "Vence")
    effective = _sum_over(agent_sheets, f'COUNTIF({{s}}!${out_col}:${out_col},"{OUTCOME_EFFECTIVE}")')
    pending = _sum_over(
        agent_sheets, f'COUNTIFS({{s}}!${id_col}:${id_col},">0",{{s}}!${out_col}:${out_col},"")'
    )
    overdue = _sum_over(
        agent_sheets,
        f'COUNTIFS({{s}}!${id_col}:${id_col},">0",{{s}}!${out_col}:${out_col},"",'
        f'{{s}}!${due_col}:${due_col},"<"&NOW())',
    )
    meta_row = config_row_of("meta_contacto_efectivo", settings) + 1
    meta_ref = f"{quote_sheet(L.SHEET_CONFIG)}!$B${meta_row}"
    sheet_ref = quote_sheet(L.SHEET_INDICATOR)

    rows = [
        ("KPI_CONTACTO_EFECTIVO", "% contacto efectivo (efectivos / registros enviados)",
         "=IF(KPI_TOTAL=0,0,KPI_EFECTIVOS/KPI_TOTAL)", "big_pct"),
        ("KPI_META", "Meta", f"=IF({meta_ref}>1,{meta_ref}/100,{meta_ref})", "pct"),
        ("KPI_TOTAL", "Registros enviados (incluye no gestionables)", total, "int"),
        ("KPI_EFECTIVOS", "Contactos efectivos", f"={archived_effective}+{effective}", "int"),
        ("KPI_PENDIENTES", "Pendientes (sin Resultado)", f"={unassigned_open}+{pending}", "int"),
        ("KPI_VENCIDOS", "Vencidos (pasada la hora de Vence sin Resultado)", f"={overdue}", "int"),
        ("KPI_NO_GESTIONABLES", "No gestionables (no se llaman)", excluded, "int"),
        ("KPI_GESTIONABLES", "Registros gestionables (sin no gestionables)",
         "=KPI_TOTAL-KPI_NO_GESTIONABLES", "int"),
        ("KPI_CONTACTO_EFECTIVO_GESTIONABLES",
         "% contacto efectivo sobre gestionables (referencia, no es el indicador oficial)",
         "=IF(KPI_GESTIONABLES=0,0,KPI_EFECTIVOS/KPI_GESTIONABLES)", "pct"),
    ]
    cells = [
        Cell(0, 0, "Indicador de contacto efectivo (se recalcula al marcar)", "title"),
        Cell(1, 0, "Fórmula del procedimiento: contactos efectivos / total de registros "
                   "enviados por el cliente × 100. Meta mínima 80 %.", "note"),
    ]
    names: dict[str, str] = {}
    for offset, (name, label, value, style) in enumerate(rows):
        row = 3 + offset
        cells.append(Cell(row, 0, label))
        if isinstance(value, str) and value.startswith("="):
            cells.append(Cell(row, 1, None, style, formula=value))
        else:
            cells.append(Cell(row, 1, value, style))
        names[name] = f"={sheet_ref}!$B${row + 1}"
    cells.append(
        Cell(3, 2, None, None,
             formula='=IF(KPI_CONTACTO_EFECTIVO>=KPI_META,"Cumple la meta","No cumple la meta")')
    )
    sheet = Sheet(L.SHEET_INDICATOR, cells=cells, widths={0: 62, 1: 14, 2: 20},
                  tab_color="#00B050")
    return sheet, names
