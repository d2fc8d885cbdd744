"""The file of rows to typify in the online form «GESTION DETRACTORES ONLINE» (Microsoft Forms).

Pure: the records to export (a ledger frame) in, a one-sheet :class:`WorkbookSpec` out.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from swat_xl.core.config import Settings
from swat_xl.core.marks import frame_state, latest_attempt
from swat_xl.core.records import as_datetime
from swat_xl.workbook import labels as L
from swat_xl.workbook.spec import Cell, Column, Sheet, Table, WorkbookSpec

SHEET_FORM = "Formulario"
SHEET_NOTE = "Nota"
CORRECTION = "Corrección"
FORM_COLUMNS: tuple[Column, ...] = (
    Column(L.ID_HEADER, 8, "int"),
    Column("Id encuesta", 14),
    Column("Corte", 7, "int"),
    Column("Cuenta / Custcode", 16),
    Column("ANI", 13),
    Column("Segmento", 10),
    Column("Resultado", 21),
    Column("Solución", 28),
    Column("OT / LLS", 12),
    Column("Intentos", 9, "int"),
    Column("Encuesta asesor", 10),
    Column("Segundo requerimiento", 26),
    Column("Observaciones", 34),
    Column("Fecha de gestión", 17, "datetime"),
    Column("Asesor", 22),
    Column("Motivo de exclusión", 30),
    Column(CORRECTION, 12),
)


def form_rows(records: pd.DataFrame, settings: Settings | None = None) -> list[list[Any]]:
    """One row per record: closed ones with their marks, excluded ones with their reason.

    «Fecha de gestión» is the latest attempt (when the call was made), or when the cut was
    imported for the no gestionables, which are never called. A record whose marks changed
    after it was exported (column ``correction`` true) says so in «Corrección»."""
    if records.empty:
        return []
    state = frame_state(records, settings or Settings())
    latest = latest_attempt(records)
    corrections = (
        records["correction"].tolist() if "correction" in records else [False] * len(records)
    )
    rows: list[list[Any]] = []
    for r, calls, when, again in zip(
        records.itertuples(index=False), state.attempts, latest, corrections, strict=True
    ):
        called = not np.isnat(when)
        managed = as_datetime(when) if called else as_datetime(r.cut_at)
        rows.append(
            [
                int(r.id),
                r.survey_id,
                int(r.cut_id),
                r.account or r.custcode,
                r.ani,
                L.SEGMENT_LABELS.get(r.segment, r.segment),
                r.outcome,
                r.resolution,
                r.order_number,
                int(calls) if r.outcome else None,
                r.agent_survey,
                r.second_request,
                r.notes,
                managed,
                r.agent,
                L.EXCLUSION_LABELS.get(r.exclusion, r.exclusion),
                "Sí" if again else "",
            ]
        )
    return rows


def form_workbook(
    records: pd.DataFrame, now: dt.datetime, settings: Settings | None = None
) -> WorkbookSpec:
    """Row 1 of «Formulario» is the header and nothing else (the note is on «Nota»)."""
    rows = form_rows(records, settings)
    table = Table(list(FORM_COLUMNS), rows, spare_rows=0)
    corrections = sum(1 for row in rows if row[-1])
    note = (
        f"Generado el {now:%d/%m/%Y %H:%M}: {len(rows)} registros para tipificar en el "
        "formulario GESTION DETRACTORES ONLINE. Ya quedaron marcados como exportados en el "
        "registro del libro maestro."
    )
    lines = [note]
    if corrections:
        lines.append(
            f"{corrections} son correcciones (columna «{CORRECTION}»): sus marcas cambiaron "
            "después de exportarse; actualice esa tipificación en el formulario."
        )
    sheet = Sheet(SHEET_FORM, tables=[table], freeze=(1, 1), tab_color="#C00000")
    notes = Sheet(
        SHEET_NOTE,
        cells=[Cell(i, 0, text, "note") for i, text in enumerate(lines)],
        widths={0: 120},
    )
    return WorkbookSpec(sheets=[sheet, notes], active=SHEET_FORM)
