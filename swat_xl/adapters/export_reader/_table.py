"""From the rows of a sheet or a csv file to an :class:`ExportTable`.

The header is found by content (title rows and a "Filtros aplicados" block may precede it) and
so is the footer (a ``Total`` row, the applied-filters block, the truncation note). Each field
of :data:`swat_xl.core.fields.CANONICAL` becomes a column of the frame, cleaned by
:mod:`._cleaning`; the columns no field claims follow.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from swat_xl.adapters.export_reader._cleaning import (
    _cell_is_blank,
    _clean_column,
    _clean_text,
    _datetime_series,
)
from swat_xl.core.cells import col_letter
from swat_xl.core.fields import CANONICAL, FIELD_BY_NAME, AliasMap
from swat_xl.core.text import fold, label_key
from swat_xl.errors import ExportError

HEADER_SCAN_ROWS = 50

_REQUIRED_LABELS = {"ally": "del aliado", "ani": "del teléfono (ANI)"}
_ID_FIELDS = ("segment_text", "account", "custcode")

_FILTER_PREFIXES = ("applied filters", "filtros aplicados", "filtro aplicado", "filters applied")
_TRUNCATION_PREFIXES = (
    "exported data exceeded",
    "the exported data exceeded",
    "los datos exportados superaron",
    "los datos exportados excedieron",
    "los datos exportados sobrepasaron",
)
_TRUNCATION_MARKS = (
    "exceeded the allowed volume",
    "allowed volume",
    "volumen permitido",
    *_TRUNCATION_PREFIXES,
)
_FOOTER_INITIALS = frozenset("tTaAfFeElL")

_TRUNCATION_WARNING = (
    "Atención: la exportación de Power BI fue truncada (los datos superaron el volumen "
    "permitido) y pueden faltar encuestas; exporte rangos de fechas más cortos."
)


@dataclass
class ExportTable:
    """A Power BI export read into canonical columns."""

    path: Path
    sheet: str | None  # sheet name for xlsx, None for csv
    header_row: int  # 1-based row of the header in the file
    frame: pd.DataFrame
    columns_found: dict[str, str]  # canonical field -> original header label
    extra_columns: list[str]
    rows_read: int  # data rows, without header, title, blank and footer rows
    footer_lines: list[str]
    warnings: list[str]  # Spanish
    sha256: str  # of the file bytes
    source_rows: list[int] = field(default_factory=list)  # 1-based file row of each frame row


@dataclass
class _Grid:
    """Rows of one sheet or csv file as read, before any interpretation."""

    rows: list[Any]  # list of list/tuple of raw cell values
    first_row: int  # 1-based file row of rows[0]
    first_col: int = 0  # 0-based file column of cell 0 (for "Columna X" labels)


def _row_is_blank(row: Sequence[Any]) -> bool:
    return all(_cell_is_blank(cell) for cell in row)


def _first_filled(row: Sequence[Any]) -> Any:
    for cell in row:
        if not _cell_is_blank(cell):
            return cell
    return None


def _find_header(
    rows: Sequence[Sequence[Any]], aliases: AliasMap
) -> tuple[int, dict[int, str]] | None:
    """(index in rows, column -> field) of the row with the most recognised labels (>= 2)."""
    best: tuple[int, dict[int, str]] | None = None
    for index, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        labels = [
            cell if isinstance(cell, str) and 0 < len(cell) <= 200 and label_key(cell) else ""
            for cell in row
        ]
        found = {i: f for i, f in aliases.map_header(labels).items() if labels[i]}
        if len(found) >= 2 and (best is None or len(found) > len(best[1])):
            best = (index, found)
    return best


def _footer_kind(cell: Any, cache: dict[str, str | None]) -> str | None:
    """The kind of footer row ("total", "filters", "truncated") a row starting so is, or None."""
    if cell.__class__ is not str:
        return None
    head = cell.lstrip()[:1]
    if head not in _FOOTER_INITIALS:
        return None
    if cell in cache:
        return cache[cell]
    folded = fold(cell[:200])
    kind: str | None = None
    if folded.rstrip(" :.") == "total":
        kind = "total"
    elif folded.startswith(_FILTER_PREFIXES):
        kind = "filters"
    elif folded.startswith(_TRUNCATION_PREFIXES):
        kind = "truncated"
    if len(cache) < 10_000:
        cache[cell] = kind
    return kind


def _is_truncation_note(text: str) -> bool:
    folded = fold(text[:400])
    return any(mark in folded for mark in _TRUNCATION_MARKS)


def _row_text(row: Sequence[Any]) -> list[str]:
    parts = [_clean_text(cell) for cell in row if not _cell_is_blank(cell)]
    joined = " ".join(part for part in parts if part)
    return [line.strip() for line in joined.splitlines() if line.strip()]


def _no_header_error(path: Path, sheet: str | None) -> ExportError:
    return ExportError(
        f"No se encontró la fila de encabezados en las primeras {HEADER_SCAN_ROWS} filas: "
        "ninguna tiene al menos dos columnas reconocibles como «ALIADO», «ANI», «CUENTA» o "
        "«SEGMENTO». Revise que sea la exportación de detractores de Power BI.",
        file=path,
        sheet=sheet,
    )


def _pick_sheet(
    path: Path,
    sheets: Iterable[tuple[str, tuple[int, int] | None, list[Any]]],
    aliases: AliasMap,
) -> tuple[str, _Grid, tuple[int, dict[int, str]]]:
    """The first of a workbook's ``sheets`` (name, first cell, rows) with data and a header."""
    empty: ExportError | None = None  # the first problem of each kind, to report
    headless: ExportError | None = None
    for name, start, rows in sheets:
        if not rows or all(_row_is_blank(row) for row in rows):
            empty = empty or ExportError("La hoja no tiene datos.", file=path, sheet=name)
            continue
        grid = _Grid(rows, (start[0] if start else 0) + 1, start[1] if start else 0)
        header = _find_header(grid.rows, aliases)
        if header is None:
            headless = headless or _no_header_error(path, name)
            continue
        return name, grid, header
    raise headless or empty or ExportError("El libro no tiene datos.", file=path)


def _spanish_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " y " + items[-1]


def _check_required(
    found: dict[str, int], aliases: AliasMap, path: Path, sheet: str | None
) -> None:
    problems = []
    missing = [
        (what, aliases.tried(name)) for name, what in _REQUIRED_LABELS.items() if name not in found
    ]
    if len(missing) == 1:
        what, tried = missing[0]
        problems.append(f"Falta la columna {what}; se buscaron los encabezados {tried}.")
    elif missing:
        problems.append(
            "Faltan las columnas "
            + _spanish_list([what for what, _ in missing])
            + "; se buscaron los encabezados "
            + "; ".join(f"{what}: {tried}" for what, tried in missing)
            + "."
        )
    if not any(name in found for name in _ID_FIELDS):
        tried = ", ".join(aliases.tried(name) for name in _ID_FIELDS)
        problems.append(
            "Falta una columna de segmento, cuenta o custcode (se necesita al menos una); "
            f"se buscaron los encabezados {tried}."
        )
    if problems:
        raise ExportError(" ".join(problems), file=path, sheet=sheet)


def _tabulate(
    path: Path,
    sheet: str | None,
    grid: _Grid,
    header: tuple[int, dict[int, str]],
    aliases: AliasMap,
    warnings: list[str],
    digest: str,
) -> ExportTable:
    header_index, mapping = header
    rows = grid.rows
    header_cells = list(rows[header_index])
    labels = [_clean_text(cell) for cell in header_cells]
    field_column = {name: index for index, name in mapping.items()}
    _check_required(field_column, aliases, path, sheet)

    truncated = any(
        _is_truncation_note(line) for row in rows[:header_index] for line in _row_text(row)
    )

    # data rows up to the first footer row; blank rows skipped
    data: list[Any] = []
    source_rows: list[int] = []
    footer_lines: list[str] = []
    cache: dict[str, str | None] = {}
    first_row = grid.first_row
    for offset, row in enumerate(rows[header_index + 1 :], start=header_index + 1):
        if row:  # shortcut: a first cell that is a number, a date or plain text
            first = row[0]
            kind = first.__class__
            if (
                (kind is float and first == first)
                or kind is dt.datetime
                or kind is int
                or (
                    kind is str
                    and first != ""
                    and first[0].isprintable()
                    and not first[0].isspace()
                    and first[0] not in _FOOTER_INITIALS
                )
            ):
                data.append(row)
                source_rows.append(first_row + offset)
                continue
        first = _first_filled(row)
        if first is None:
            continue
        if _footer_kind(first, cache) is not None:
            for footer_row in rows[offset:]:
                footer_lines.extend(_row_text(footer_row))
            break
        data.append(row)
        source_rows.append(first_row + offset)
    if any(_is_truncation_note(line) for line in footer_lines):
        truncated = True
    if truncated:
        warnings.append(_TRUNCATION_WARNING)

    count = len(data)
    lengths = set(map(len, data))
    width = max(len(header_cells), max(lengths, default=0))
    if lengths - {width}:
        data = [list(row) + [""] * (width - len(row)) for row in data]
    columns: list[Sequence[Any]] = list(zip(*data, strict=True)) if data else [()] * width

    frame_data: dict[str, list[str]] = {}
    dates: list[tuple[int, str, pd.Series]] = []
    columns_found: dict[str, str] = {}
    for name in CANONICAL:
        kind = FIELD_BY_NAME[name].kind
        index = field_column.get(name)
        if index is not None:
            columns_found[name] = labels[index] if index < len(labels) else name
        values = columns[index] if index is not None else ()
        if kind == "datetime":
            series = _datetime_series(values, count, FIELD_BY_NAME[name].label, warnings)
            dates.append((CANONICAL.index(name), name, series))
        else:
            # (a field the export lacks: one text in every row already)
            cleaned = _shared(_clean_column(values, kind)) if index is not None else [""] * count
            frame_data[name] = cleaned

    extra_columns: list[str] = []
    used = set(CANONICAL)
    for index in range(width):
        if index in mapping:
            continue
        label = labels[index] if index < len(labels) else ""
        values = columns[index]
        cleaned = _shared(_clean_column(values, "text"))
        if not label and not any(cleaned):
            continue
        duplicate_of = aliases.field_for(label) if label else None
        if duplicate_of and duplicate_of in field_column:
            taken = columns_found.get(duplicate_of, duplicate_of)
            warnings.append(
                f"La columna «{label}» también corresponde a «{FIELD_BY_NAME[duplicate_of].label}»;"
                f" se usó la columna «{taken}» y esta se conservó como columna adicional."
            )
        if not label:
            label = f"Columna {col_letter(grid.first_col + index)}"
        unique, suffix = label, 2
        while unique in used:
            unique, suffix = f"{label} ({suffix})", suffix + 1
        used.add(unique)
        extra_columns.append(unique)
        frame_data[unique] = cleaned

    if count == 0:
        warnings.append("La exportación no tiene filas de datos (solo el encabezado).")
    # Columns handed over as object arrays: from lists, pandas takes twice as long to make them.
    arrays = {name: np.fromiter(values, object, count) for name, values in frame_data.items()}
    frame = pd.DataFrame(arrays, index=pd.RangeIndex(count), dtype=object, copy=False)
    for position, name, series in dates:
        frame.insert(position, name, series)
    return ExportTable(
        path=path,
        sheet=sheet,
        header_row=first_row + header_index,
        frame=frame,
        columns_found=columns_found,
        extra_columns=extra_columns,
        rows_read=count,
        footer_lines=footer_lines,
        warnings=warnings,
        sha256=digest,
        source_rows=source_rows,
    )


_SHARED_SAMPLE = 1000  # values looked at to guess that a column repeats its texts


def _shared(values: list[str]) -> list[str]:
    """``values`` with equal texts made one object, when a sample shows them repeated (at
    most one distinct text in two: a city, a status, the ally; python-calamine and the csv
    reader make a new string for every cell). The texts are the same; what changes is where
    they lie in memory. Every later pass over the column (the rules, the ledger's insert, the
    digests, the drawing) then reads a few objects again and again instead of one object a
    row scattered over the heap (a 150,000-row import: 7.41 s -> 6.78 s)."""
    if len(values) < 2 * _SHARED_SAMPLE or len(set(values[:_SHARED_SAMPLE])) > _SHARED_SAMPLE // 2:
        return values
    one: dict[str, str] = {}
    return list(map(one.setdefault, values, values))
