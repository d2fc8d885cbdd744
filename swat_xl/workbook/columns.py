"""Where things stand in the master: the agent sheets' columns and the rows of ``Config``
(the layout draws them; the indicator's formulas point at them)."""

from __future__ import annotations

from swat_xl.core.config import Settings, settings_to_rows
from swat_xl.core.model import OUTCOMES, RESOLUTIONS
from swat_xl.workbook import labels as L
from swat_xl.workbook.spec import Column, col_letter


def agent_columns(settings: Settings) -> list[Column]:
    return [
        Column(L.ID_HEADER, 8, "int", field="id"),
        Column("Corte", 7, "int", field="cut_id"),
        Column("Segmento", 10, field="segment_label"),
        Column("Cuenta", 15, field="account_or_custcode"),
        Column("ANI", 13, field="ani"),
        Column("Cliente", 26, field="customer_name"),
        Column("Calificación", 8, field="score"),
        Column("Motivo", 42, field="reason"),
        Column("Fecha encuesta", 16, "datetime", field="survey_date"),
        Column("Asignado", 16, "datetime", field="assigned_at"),
        Column("Vence", 16, "datetime", field="due_at"),
        Column(L.MARK_HEADERS["attempt1"], 16, "datetime", editable=True, field="attempt1"),
        Column(L.MARK_HEADERS["attempt2"], 16, "datetime", editable=True, field="attempt2"),
        Column(L.MARK_HEADERS["attempt3"], 16, "datetime", editable=True, field="attempt3"),
        Column(L.OUTCOME_HEADER, 21, editable=True, choices=OUTCOMES, field="outcome"),
        Column(
            L.MARK_HEADERS["resolution"], 28, editable=True, choices=RESOLUTIONS, field="resolution"
        ),
        Column(L.MARK_HEADERS["order_number"], 12, editable=True, field="order_number"),
        Column(
            L.MARK_HEADERS["agent_survey"],
            10,
            editable=True,
            choices=settings.agent_survey_scale,
            field="agent_survey",
        ),
        Column(L.MARK_HEADERS["second_request"], 26, editable=True, field="second_request"),
        Column(L.MARK_HEADERS["notes"], 34, editable=True, field="notes"),
        # Every number the export carries besides the ANI (Teléfono 2, Celular, Teléfono fijo…).
        Column(L.OTHER_PHONES_HEADER, 26, field="other_phones"),
    ]


def agent_column_letter(settings: Settings, header: str) -> str:
    for index, column in enumerate(agent_columns(settings)):
        if column.header == header:
            return col_letter(index)
    raise KeyError(header)


def unassigned_column_letter(header: str) -> str:
    for index, column in enumerate(unassigned_columns()):
        if column.header == header:
            return col_letter(index)
    raise KeyError(header)


def unassigned_columns() -> list[Column]:
    return [
        Column(L.ID_HEADER, 8, "int", field="id"),
        Column("Corte", 7, "int", field="cut_id"),
        Column("Segmento", 10, field="segment_label"),
        Column("Cuenta", 15, field="account_or_custcode"),
        Column("ANI", 13, field="ani"),
        Column("Cliente", 26, field="customer_name"),
        Column("Fecha encuesta", 16, "datetime", field="survey_date"),
        Column("Motivo", 42, field="reason"),
        Column("Vence", 16, "datetime", field="due_at"),
    ]


def config_row_of(key: str, settings: Settings) -> int:
    """0-based row of a key in the Config sheet."""
    for index, (name, _value, _text) in enumerate(settings_to_rows(settings)):
        if name == key:
            return index + 1
    raise KeyError(key)
