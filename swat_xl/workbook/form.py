"""The file of rows to typify in the online form «GESTION DETRACTORES ONLINE» (Microsoft Forms).

Pure: the records to export (a ledger frame) in, a one-sheet :class:`WorkbookSpec` out.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from swat_xl.core.records import as_datetime
from swat_xl.workbook import labels as L
from swat_xl.workbook.spec import Cell, Column, Sheet, Table, WorkbookSpec

SHEET_FORM = "Formulario"
FORM_COLUMNS: tuple[Column, ...] = (
    Column(L.ID_HEADER, 8, "int"),
    Column("Corte", 7, "int"),
    Column("Cuenta / Custcode", 16),
    Column("ANI", 13),
    Column("Segmento", 10),
    Column("Resultado", 21),
    Column("Solución", 28),
    Column("OT / LLS", 12),
    Column("Motivo de exclusión", 30),
    Column("Asesor", 22),
    Column("Fecha de gestión", 17, "datetime"),
)


def form_rows(records: pd.DataFrame) -> list[list[Any]]:
    """One row per record: closed ones with their outcome, excluded ones with their reason.

    «Fecha de gestión» is when the outcome was recorded (closed records) or when the cut was
    imported (no gestionables, which are never called)."""
    rows: list[list[Any]] = []
    for r in records.itertuples(index=False):
        rows.append(
            [
                int(r.id),
                int(r.cut_id),
                r.account or r.custcode,
                r.ani,
                L.SEGMENT_LABELS.get(r.segment, r.segment),
                r.outcome,
                r.resolution,
                r.order_number,
                L.EXCLUSION_LABELS.get(r.exclusion, r.exclusion),
                r.agent,
                as_datetime(r.closed_at) or as_datetime(r.cut_at),
            ]
        )
    return rows


def form_workbook(records: pd.DataFrame, now: dt.datetime) -> WorkbookSpec:
    rows = form_rows(records)
    table = Table(list(FORM_COLUMNS), rows, spare_rows=0)
    note = (
        f"Generado el {now:%d/%m/%Y %H:%M}: {len(rows)} registros para tipificar en el "
        "formulario GESTION DETRACTORES ONLINE. Ya quedaron marcados como exportados en el "
        "registro del libro maestro."
    )
    sheet = Sheet(
        SHEET_FORM,
        tables=[table],
        freeze=(1, 1),
        tab_color="#C00000",
        cells=[Cell(0, len(FORM_COLUMNS) + 1, note, "note")],
    )
    return WorkbookSpec(sheets=[sheet], active=SHEET_FORM)
