"""How a user marks a workbook, and what the agent sheets show, read with openpyxl."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
from python_calamine import CalamineWorkbook

from swat_xl.workbook import labels as L
from swat_xl.workbook.labels import is_agent_header

# The import time of the CLI's fixed clock: an attempt neither before the cut nor in the future.
MARK_TIME = dt.datetime(2026, 11, 29, 10, 0)
MARK_COLUMNS = (
    "Intento 1",
    "Intento 2",
    "Intento 3",
    "Resultado",
    "Solución",
    "OT / LLS",
    "Encuesta asesor",
    "Segundo requerimiento",
    "Observaciones",
)


def agent_worksheets(book: openpyxl.Workbook) -> list:
    out = []
    for ws in book.worksheets:
        header = [c.value for c in ws[1]]
        if "ID" in header and "Resultado" in header:
            out.append(ws)
    return out


def sheet_rows(ws) -> tuple[list[str], list[list]]:
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    return list(rows[0]), rows[1:]


def ids_by_sheet(path: Path) -> dict[str, list[int]]:
    book = openpyxl.load_workbook(path)
    out = {}
    for ws in agent_worksheets(book):
        header, rows = sheet_rows(ws)
        i = header.index("ID")
        out[ws.title] = [r[i] for r in rows if r[i] is not None]
    return out


def marks_in_workbook(path: Path) -> dict[int, dict[str, object]]:
    book = openpyxl.load_workbook(path)
    found: dict[int, dict[str, object]] = {}
    for ws in agent_worksheets(book):
        header, rows = sheet_rows(ws)
        i = header.index("ID")
        for row in rows:
            if row[i] is None:
                continue
            found[row[i]] = {h: row[header.index(h)] for h in MARK_COLUMNS}
    return found


def mark_like_a_user(
    path: Path, *, per_sheet: int = 4, sort: bool = True, blank_rows: bool = True
) -> dict[int, str]:
    """Mark some rows, then sort each agent sheet by Cliente and insert blank rows."""
    book = openpyxl.load_workbook(path)
    marked: dict[int, str] = {}
    outcomes = ["CONTACTO EFECTIVO", "NO CONTESTA", "NO CONTACTO"]
    for ws in agent_worksheets(book):
        header, rows = sheet_rows(ws)
        col = {h: header.index(h) for h in header if h}
        for n, row in enumerate(rows[:per_sheet]):
            outcome = outcomes[n % 3]
            row[col["Resultado"]] = outcome
            row[col["Observaciones"]] = f"nota {row[col['ID']]}"
            # Marks that close the record under the procedure: a call for every outcome,
            # a Solución for an effective contact, three attempts for NO CONTACTO.
            row[col["Intento 1"]] = MARK_TIME
            if outcome == "CONTACTO EFECTIVO":
                row[col["Solución"]] = "ESCALADO"
            if outcome == "NO CONTACTO":
                row[col["Intento 2"]] = MARK_TIME
                row[col["Intento 3"]] = MARK_TIME
            marked[row[col["ID"]]] = outcome
        if sort:
            rows.sort(key=lambda r: str(r[col["Cliente"]]), reverse=True)
        if blank_rows and rows:
            rows.insert(1, [None] * len(header))
        ws.delete_rows(2, ws.max_row)
        for r, row in enumerate(rows, start=2):
            for c, value in enumerate(row, start=1):
                ws.cell(r, c).value = value
    book.save(path)
    return marked


def shown_ids(workbook: Path) -> list[int]:
    """IDs on the agent sheets, «Sin asignar» and «No gestionables» (repeats kept)."""
    book = CalamineWorkbook.from_path(str(workbook))
    ids: list[int] = []
    for name in book.sheet_names:
        rows = book.get_sheet_by_name(name).to_python()
        if not rows:
            continue
        header = [str(cell) for cell in rows[0]]
        if name in (L.SHEET_UNASSIGNED, L.SHEET_EXCLUDED) or (
            name not in L.OWNED_SHEETS and is_agent_header(header)
        ):
            column = header.index(L.ID_HEADER)
            ids.extend(int(row[column]) for row in rows[1:] if row[column] not in ("", None))
    book.close()
    return ids
