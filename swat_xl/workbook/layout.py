"""The master workbook's sheets, built from the ledger's frames as :mod:`spec` objects.

Pure: frames and settings in, a :class:`WorkbookSpec` out. The Indicador and Prácticas sheets
live in :mod:`indicator` and :mod:`practices`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import repeat
from typing import Any

import numpy as np
import pandas as pd

from swat_xl import __version__
from swat_xl.core.config import Settings, settings_to_rows
from swat_xl.core.fields import other_phones
from swat_xl.core.marks import RESOLUTION_VISIT, due_times
from swat_xl.core.model import OUTCOME_EFFECTIVE, OUTCOME_NO_CONTACT, UNASSIGNED, Agent
from swat_xl.core.records import as_datetime, shown_times, unread
from swat_xl.core.roster import roster_rows
from swat_xl.core.text import empty_mask
from swat_xl.workbook import labels as L
from swat_xl.workbook.columns import agent_columns, unassigned_columns
from swat_xl.workbook.indicator import indicator_sheet
from swat_xl.workbook.practices import practices_sheet
from swat_xl.workbook.spec import (
    Cell,
    Column,
    ColumnRows,
    CondFormat,
    PrintSetup,
    Sheet,
    Table,
    Validation,
    WorkbookSpec,
    col_letter,
    quote_sheet,
)
from swat_xl.workbook.state import MasterState

_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_FORBIDDEN_IN_FILES = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
EXCEL_RESERVED_SHEETS = ("History",)  # Excel keeps it for the change history
WINDOWS_DEVICES = frozenset(
    ["CON", "PRN", "AUX", "NUL", *(f"COM{n}" for n in range(1, 10))]
    + [f"LPT{n}" for n in range(1, 10)]
)
MAX_COLUMNS = 16_384  # Excel's columns per sheet


# -- agent sheets ---------------------------------------------------------------------------
def sheet_names_for(
    agents: Iterable[str], reserved: Iterable[str] = L.OWNED_SHEETS
) -> dict[str, str]:
    """A valid, unique Excel sheet name per agent (≤ 31 chars, no ``[]:*?/\\``), in order."""
    taken = {name.casefold() for name in (*reserved, *EXCEL_RESERVED_SHEETS)}
    out: dict[str, str] = {}
    for agent in agents:
        base = _FORBIDDEN.sub("_", agent).strip().strip("'") or "Asesor"
        base = base[:31]
        name, n = base, 2
        while name.casefold() in taken:
            suffix = f" ({n})"
            name = base[: 31 - len(suffix)] + suffix
            n += 1
        taken.add(name.casefold())
        out[agent] = name
    return out


def file_names_for(agents: Iterable[str]) -> dict[str, str]:
    """A file name stem per agent that Windows accepts, unique ignoring case, in order: no
    reserved device name (``CON``, ``PRN``, ``AUX``, ``NUL``, ``COM1``-``COM9``,
    ``LPT1``-``LPT9``, with any extension), no trailing dot or space, no ``<>:"/\\|?*``."""
    taken: set[str] = set()
    out: dict[str, str] = {}
    for agent in agents:
        base = _FORBIDDEN_IN_FILES.sub("_", agent).strip().rstrip(". ")[:120] or "Asesor"
        first, dot, rest = base.partition(".")
        if first.strip().upper() in WINDOWS_DEVICES:
            base = f"{first.strip()}_{dot}{rest}"
        name, n = base, 2
        while name.casefold() in taken:
            name = f"{base} ({n})"
            n += 1
        taken.add(name.casefold())
        out[agent] = name
    return out


def _ints(values: list[Any]) -> list[Any]:
    if set(map(type, values)) <= {int}:
        return values
    return [int(v) if str(v) not in ("", "nan", "None") else None for v in values]


def _texts(values: list[Any]) -> list[Any]:
    if set(map(type, values)) <= {str}:
        return values
    return ["" if v is None else str(v) for v in values]


def _table_rows(
    frame: pd.DataFrame,
    columns: Sequence[Column],
    rows: RecordRows | None = None,
    given: Mapping[str, list[Any]] | None = None,
) -> Sequence[tuple[Any, ...]]:
    """A table's data rows drawn from ``frame``, held by column (:class:`ColumnRows`): an
    ``int`` column's integers (``None`` when blank), a time column's :func:`shown_times`, any
    other column's text. With ``rows``, the records ``frame``'s rows are taken from, a
    column is drawn there once for every sheet and its values taken; ``given`` holds
    columns already at hand, by field (Base's extra columns)."""
    if frame.empty:
        return []
    positions = rows.positions(frame) if rows is not None else None
    data: list[list[Any]] = []
    for column in columns:
        if given is not None and column.field in given:
            values = _drawn(given[str(column.field)], column.kind)
        elif rows is not None and positions is not None and column.field in rows.source:
            values = rows.drawn(column, positions)
        else:
            values = _drawn_column(frame, column)
        data.append(values)
    return ColumnRows(data, [column.kind != "datetime" for column in columns])


def _drawn_column(frame: pd.DataFrame, column: Column) -> list[Any]:
    """Column ``column`` of a table drawn from ``frame`` (see :func:`_table_rows`)."""
    if column.kind == "datetime":
        return shown_times(frame, str(column.field))
    values = frame[column.field].tolist() if column.field in frame else [""] * len(frame)
    return _drawn(values, column.kind)


def _drawn(values: list[Any], kind: str) -> list[Any]:
    return _ints(values) if kind == "int" else _texts(values)


def with_display(records: pd.DataFrame) -> pd.DataFrame:
    """``records`` with the columns the sheets show besides the ledger's (labels, «Cuenta»,
    «Otros teléfonos»); ``records`` itself is left as it is."""
    frame = records.copy(deep=False)  # only columns are set: a deep copy of 85k records costs
    frame["segment_label"] = frame["segment"].map(L.SEGMENT_LABELS).fillna(frame["segment"])
    frame["exclusion_label"] = frame["exclusion"].map(L.EXCLUSION_LABELS).fillna(frame["exclusion"])
    frame["account_or_custcode"] = frame["account"].where(frame["account"] != "", frame["custcode"])
    if "extra" in frame and "ani" in frame:
        frame["other_phones"] = _other_phones(frame["extra"].tolist(), frame["ani"].tolist())
    return frame


def _other_phones(extras: list[Any], anis: list[str]) -> list[str]:
    """``[other_phones(e or {}, a) for e, a in zip(extras, anis)]``, each extra's phones found
    once: the ledger shares equal extras, and most hold no phone at all. Without the ANI,
    :func:`other_phones` gives the extra's distinct phones (digits, joined by ``" / "``);
    with it, the same less the ANI."""
    found: dict[int, tuple[str, list[str]]] = {}  # id of an extra -> its phones
    for extra in extras:
        if id(extra) not in found:
            shown = other_phones(extra or {}, "")
            found[id(extra)] = (shown, shown.split(" / ") if shown else [])
    out: list[str] = []
    for extra, ani in zip(extras, anis, strict=True):
        shown, phones = found[id(extra)]
        if shown and ani in phones:
            shown = " / ".join(phone for phone in phones if phone != ani)
        out.append(shown)
    return out


#: Agent sheets print one page wide, landscape, with the header row on every page.
AGENT_PRINT = PrintSetup(landscape=True, repeat_rows=1)


def agent_sheet(
    name: str,
    records: pd.DataFrame,
    settings: Settings,
    now: dt.datetime,
    rows: RecordRows | None = None,
) -> Sheet:
    columns = agent_columns(settings)
    table = Table(columns, _table_rows(records, columns, rows))
    # Not protected: agents sort and filter their own sheet with Excel's menu (a protected sheet
    # refuses to sort a range with a locked cell). Each operation puts IDs, rows and marks back
    # from the ledger anyway.
    sheet = Sheet(
        name,
        tables=[table],
        freeze=(1, 2),
        role="agent",
        tab_color="#2E75B6",
        print_setup=AGENT_PRINT,
    )
    last = table.last_row + table.spare_rows
    for index, column in enumerate(columns):
        if column.choices:
            sheet.validations.append(
                Validation(
                    1,
                    index,
                    last,
                    index,
                    choices=tuple(column.choices),
                    message=f"Elija un valor de la lista de «{column.header}».",
                )
            )
    id_col = col_letter(0)
    due = col_letter(table.column_index("Vence"))
    outcome = col_letter(table.column_index(L.OUTCOME_HEADER))
    first_attempt = col_letter(table.column_index(L.MARK_HEADERS["attempt1"]))
    last_attempt = col_letter(table.column_index(L.MARK_HEADERS["attempt3"]))
    width = len(columns) - 1
    sheet.cond_formats.append(
        CondFormat(
            1,
            0,
            last,
            width,
            f'=AND(${id_col}2<>"",${outcome}2="",${due}2<>"",${due}2<NOW())',
            "bad",
        )
    )
    resolution = col_letter(table.column_index(L.MARK_HEADERS["resolution"]))
    order = col_letter(table.column_index(L.MARK_HEADERS["order_number"]))
    calls = f"COUNT(${first_attempt}2:${last_attempt}2)"
    # The procedure's closing rules (swat_xl.core.marks): an incomplete mark shows orange.
    sheet.cond_formats.append(
        CondFormat(
            1,
            0,
            last,
            width,
            f'=AND(${id_col}2<>"",OR(AND(${outcome}2="{OUTCOME_NO_CONTACT}",'
            f"{calls}<{settings.min_attempts_no_contact}),"
            f'AND(${outcome}2="{OUTCOME_EFFECTIVE}",OR({calls}<1,${resolution}2="",'
            f'AND(${resolution}2="{RESOLUTION_VISIT}",${order}2="")))))',
            "warn",
        )
    )
    # A value that is not an option of its list shows red (it never closes the record).
    for index, column in enumerate(columns):
        if not column.choices:
            continue
        ref = f"TRIM(${col_letter(index)}2)"
        others = ",".join(f"{ref}<>{_quoted(choice)}" for choice in column.choices)
        sheet.cond_formats.append(
            CondFormat(1, index, last, index, f'=AND({ref}<>"",{others})', "bad")
        )
    return sheet


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


# -- plain tables ---------------------------------------------------------------------------
def _extra_values(records: pd.DataFrame) -> tuple[list[str], list[dict[str, Any]]]:
    """The extra columns' names (first seen first) and each record's extras."""
    parsed = records["extra"].tolist()
    distinct = {id(value): value for value in parsed}.values()  # the ledger shares equal ones
    return list(dict.fromkeys(key for value in distinct for key in value)), parsed


def base_columns() -> list[Column]:
    """Base's columns before the exports' extra columns."""
    return [
        Column(L.ID_HEADER, 8, "int", field="id"),
        Column("Corte", 7, "int", field="cut_id"),
        Column("Id encuesta", 14, field="survey_id"),
        Column("Fecha encuesta", 16, "datetime", field="survey_date"),
        Column("Aliado", 16, field="ally"),
        Column("Segmento", 10, field="segment_label"),
        Column("Cuenta RR", 14, field="account"),
        Column("Custcode", 14, field="custcode"),
        Column("ANI", 13, field="ani"),
        Column("Cliente", 26, field="customer_name"),
        Column("Calificación", 8, field="score"),
        Column("Motivo", 42, field="reason"),
        Column("Tipo cliente", 14, field="customer_type"),
        Column("Estado cuenta", 14, field="account_status"),
        Column("Solicitud cancelación", 14, field="cancellation_request"),
        Column("Ciudad", 14, field="city"),
        Column("No gestionable", 22, field="exclusion_label"),
        Column("Asesor", 22, field="agent"),
        Column(L.BASE_OUTCOME_HEADER, 22, field="outcome"),
    ]


def base_sheet(records: pd.DataFrame, rows: RecordRows | None = None) -> Sheet:
    extras, parsed = _extra_values(records) if not records.empty else ([], [])
    columns = base_columns()
    # Extra columns of the exports, as many as fit in a sheet (they all stay in the ledger).
    extras = extras[: MAX_COLUMNS - len(columns)]
    columns += [Column(name, 14, field=f"extra:{name}") for name in extras]
    given = {f"extra:{name}": _extra_column(parsed, name, records.index) for name in extras}
    table = Table(columns, _table_rows(records, columns, rows, given), spare_rows=0)
    return Sheet(L.SHEET_BASE, tables=[table], freeze=(1, 1), tab_color="#7F7F7F", role="records")


def _extra_column(parsed: list[dict[str, Any]], name: str, index: pd.Index) -> list[Any]:
    """Each record's value of extra column ``name`` (``""`` when it has none), as a frame's
    column of them gives them (the ledger's extras hold text: a plain list)."""
    values = list(map(dict.get, parsed, repeat(name), repeat("")))
    if set(map(type, values)) <= {str}:
        return values
    return pd.Series(values, index=index).tolist()  # pandas' types: numbers, NaN


def excluded_columns() -> list[Column]:
    return [
        Column(L.ID_HEADER, 8, "int", field="id"),
        Column("Corte", 7, "int", field="cut_id"),
        Column("Motivo de exclusión", 30, field="exclusion_label"),
        Column("Segmento", 10, field="segment_label"),
        Column("Cuenta", 15, field="account_or_custcode"),
        Column("ANI", 13, field="ani"),
        Column("Cliente", 26, field="customer_name"),
        Column("Fecha encuesta", 16, "datetime", field="survey_date"),
        Column("Exportado al formulario", 18, "datetime", field="form_exported_at"),
    ]


def excluded_sheet(records: pd.DataFrame, rows: RecordRows | None = None) -> Sheet:
    columns = excluded_columns()
    table = Table(columns, _table_rows(records, columns, rows), spare_rows=0)
    return Sheet(
        L.SHEET_EXCLUDED, tables=[table], freeze=(1, 1), tab_color="#C00000", role="records"
    )


def unassigned_sheet(records: pd.DataFrame, rows: RecordRows | None = None) -> Sheet:
    columns = unassigned_columns()
    table = Table(columns, _table_rows(records, columns, rows), spare_rows=0)
    sheet = Sheet(
        L.SHEET_UNASSIGNED, tables=[table], freeze=(1, 1), tab_color="#FFC000", role="records"
    )
    sheet.cells.append(
        Cell(
            0,
            len(columns) + 1,
            "Sin asesor con cupo o perfil: agregue o active asesores "
            "en «Asesores» y vuelva a «Asignar y repartir».",
            "note",
        )
    )
    return sheet


def roster_sheet(agents: Sequence[Agent], records: pd.DataFrame, names: dict[str, str]) -> Sheet:
    rows = roster_rows(list(agents))
    header, data = rows[0], rows[1:]
    open_mask = (
        ~empty_mask(records["agent"])
        & empty_mask(records["outcome"])
        & records["archived_at"].isna().to_numpy()
    )
    open_counts = (
        records.loc[open_mask, "agent"].value_counts().to_dict() if not records.empty else {}
    )
    columns = [
        Column(header[0], 26),
        Column(header[1], 10, choices=("Hogar", "Móvil", "Ambos")),
        Column(header[2], 8, choices=("Sí", "No")),
        Column(header[3], 11, "int"),
        Column("Abiertos (informativo)", 12, "int"),
        Column("Hoja (informativo)", 26),
    ]
    table_rows = [
        [
            *row[:3],
            row[3] if row[3] != "" else None,
            int(open_counts.get(row[0], 0)),
            names.get(row[0], ""),
        ]
        for row in data
    ]
    table = Table(columns, table_rows, spare_rows=200)
    sheet = Sheet(L.SHEET_ROSTER, tables=[table], freeze=(1, 1), tab_color="#548235")
    last = table.last_row + table.spare_rows
    sheet.validations.append(
        Validation(
            1,
            1,
            last,
            1,
            choices=("Hogar", "Móvil", "Ambos"),
            message="Perfil: Hogar, Móvil o Ambos.",
        )
    )
    sheet.validations.append(
        Validation(1, 2, last, 2, choices=("Sí", "No"), message="Activo: Sí o No.")
    )
    sheet.cells.append(
        Cell(
            0, 7, "Capacidad = máximo de registros abiertos a la vez (vacío = sin límite).", "note"
        )
    )
    return sheet


def config_sheet(settings: Settings) -> Sheet:
    columns = [Column("Clave", 28), Column("Valor", 34, "value"), Column("Descripción", 80)]
    rows = [[key, value, text] for key, value, text in settings_to_rows(settings)]
    return Sheet(
        L.SHEET_CONFIG,
        tables=[Table(columns, rows, autofilter=False, spare_rows=0)],
        freeze=(1, 1),
        tab_color="#7030A0",
    )


def log_sheet(operations: pd.DataFrame, events: pd.DataFrame) -> Sheet:
    columns = [
        Column("Fecha", 18, "datetime"),
        Column("Operación", 10, "int"),
        Column("Tipo", 12),
        Column("Usuario", 16),
        Column("Equipo", 16),
        Column("Detalle", 100),
    ]
    by_op: dict[int, list[list[Any]]] = {}
    for event in events.itertuples(index=False):
        level = {"conflict": "Conflicto", "warning": "Aviso", "restore": "Restaurado"}.get(
            event.level, "Detalle"
        )
        by_op.setdefault(int(event.operation_id), []).append(
            [as_datetime(event.at), int(event.operation_id), level, "", "", event.message]
        )
    rows: list[list[Any]] = []
    for op in operations.itertuples(index=False):
        text = op.command + (f": {op.summary}" if op.summary else " (sin terminar)")
        rows.append([as_datetime(op.started_at), int(op.id), "Operación", op.user, op.host, text])
        rows.extend(sorted(by_op.get(int(op.id), []), key=lambda r: r[0] or dt.datetime.min))
    table = Table(columns, rows, spare_rows=0)
    return Sheet(L.SHEET_LOG, tables=[table], freeze=(1, 0), tab_color="#7F7F7F")


def home_sheet(
    state: MasterState, names: dict[str, str], kpi: dict[str, Any] | None = None
) -> Sheet:
    """Inicio; ``kpi`` holds the live KPI cells' cached results (viewers that do not
    recalculate show them)."""
    s = state.settings
    kpi = kpi or {}
    cells = [
        Cell(0, 0, f"SWAT Detractores — {s.ally_name}", "title"),
        Cell(
            1,
            0,
            f"Libro maestro generado por swat_xl {__version__}. "
            "Use la pestaña SWAT de la cinta (o el comando swat-xl).",
            "note",
        ),
        Cell(3, 0, "Contacto efectivo (en vivo)", "subtitle"),
        Cell(3, 1, kpi.get("KPI_CONTACTO_EFECTIVO"), "big_pct", formula="=KPI_CONTACTO_EFECTIVO"),
        Cell(4, 0, "Meta", "subtitle"),
        Cell(4, 1, kpi.get("KPI_META"), "pct", formula="=KPI_META"),
        Cell(5, 0, "Pendientes / vencidos", "subtitle"),
        Cell(5, 1, kpi.get("KPI_PENDIENTES"), "int", formula="=KPI_PENDIENTES"),
        Cell(5, 2, kpi.get("KPI_VENCIDOS"), "int", formula="=KPI_VENCIDOS"),
        Cell(7, 0, "Última operación", "subtitle"),
        Cell(7, 1, state.last_summary or "—"),
        Cell(9, 0, "Pasos del procedimiento", "subtitle"),
    ]
    steps = [
        "1. Descargue la base de Power BI (data.xlsx) y pulse «Importar corte».",
        "2. «Asignar y repartir» asigna por volumen y perfil (Hogar / Móvil / Ambos).",
        "3. Cada asesor marca en su hoja: intentos, Resultado, Solución, encuesta.",
        "4. CONTACTO EFECTIVO, NO CONTESTA (tercero o sin información), NO CONTACTO "
        f"(sin respuesta tras {s.min_attempts_no_contact} intentos).",
        "5. Cortesía, Pymes, CANCELADO, CANCELADO DEBE y solicitud de cancelación no se "
        "llaman: se tipifican en el formulario (hoja «No gestionables»).",
        f"6. La gestión vence a las {s.due_hours:g} horas de importado el corte (asignado o no). "
        f"Meta: {s.target:.0%}.",
    ]
    cells += [Cell(10 + i, 0, text) for i, text in enumerate(steps)]
    row = 11 + len(steps)
    cells.append(Cell(row, 0, "Hojas de asesor", "subtitle"))
    cells.append(Cell(row + 1, 0, "Hoja (clic para abrirla)", "header"))
    cells.append(Cell(row + 1, 1, "Asesor", "header"))
    for i, (agent, sheet) in enumerate(names.items()):
        cells.append(Cell(row + 2 + i, 0, sheet, formula=sheet_link(sheet)))
        cells.append(Cell(row + 2 + i, 1, agent))
    return Sheet(
        L.SHEET_HOME,
        cells=cells,
        widths={0: 34, 1: 60, 2: 12},
        tab_color="#2E75B6",
        print_setup=PrintSetup(landscape=True),
    )


def sheet_link(sheet: str) -> str:
    """A formula that shows ``sheet``'s name and opens it when clicked (any viewer)."""
    target = "#" + quote_sheet(sheet) + "!A1"
    return f'=HYPERLINK("{_quoted(target)}","{_quoted(sheet)}")'


def _quoted(text: str) -> str:
    return text.replace('"', '""')


def xlwings_sheet(rows: Sequence[tuple[str, Any]]) -> Sheet:
    """xlwings' settings (key in A, value in B, contiguous; booleans stay booleans)."""
    cells = []
    for index, (key, value) in enumerate(rows):
        cells.append(Cell(index, 0, key, kind="text"))
        if value not in ("", None):
            kind = None if isinstance(value, bool) else "text"
            cells.append(Cell(index, 1, value, kind=kind))
    return Sheet(L.SHEET_XLWINGS, cells=cells, widths={0: 22, 1: 60}, hidden=False)


# -- the whole master -----------------------------------------------------------------------
def agents_with_sheets(state: MasterState) -> list[str]:
    """Active agents (roster order), then any agent still holding records on the sheets."""
    names = [a.name for a in state.agents if a.active]
    records = state.records
    live = records[records["archived_at"].isna().to_numpy() & ~empty_mask(records["agent"])]
    for name in live["agent"].unique():
        if name != UNASSIGNED and name not in names:
            names.append(name)
    return names


def build_master(state: MasterState) -> WorkbookSpec:
    agent_names = agents_with_sheets(state)
    names = sheet_names_for(
        agent_names, reserved=[*L.OWNED_SHEETS, *(s.name for s in state.user_sheets)]
    )
    record_sheets = [
        *(names[a] for a in agent_names),
        L.SHEET_UNASSIGNED,
        L.SHEET_BASE,
        L.SHEET_EXCLUDED,
    ]
    records = state.records
    if records.empty:
        records = _empty_records(records)
    else:
        records = records.assign(due_at=due_times(records["cut_at"], state.settings.due_hours))
    if set(record_sheets) <= state.reuse or state.live_records is None:
        live = records[records["archived_at"].isna().to_numpy()]  # no text of them is drawn
    else:  # every column of the records not archived: what the sheets draw
        live = state.live_records()
        if live.empty:
            live = _empty_records(live)
        else:
            live = with_display(live)
            live = live.assign(due_at=due_times(live["cut_at"], state.settings.due_hours))
    manageable = live[empty_mask(live["exclusion"])]
    keys: dict[str, str] = {}
    source = RecordRows(live)  # every record sheet's records are rows of ``live``

    def drawn(
        name: str,
        role: str,
        frame: pd.DataFrame,
        fields: Sequence[str],
        draw: Callable[[pd.DataFrame], Sheet],
    ) -> Sheet:
        if name not in state.reuse and state.key_context:
            keys[name], rows, rows_context = sheet_keys(
                state.key_context, name, frame, fields, source
            )
            if state.sheet_keys.get(name) != keys[name]:
                sheet = draw(frame)
                if len(sheet.tables) == 1 and len(sheet.tables[0].rows) == len(frame):
                    # the table's rows are the frame's, in order (see _table_rows)
                    sheet.tables[0].row_keys = rows
                    sheet.tables[0].rows_context = rows_context
                return sheet
        elif name not in state.reuse:
            return draw(frame)
        # The print titles live in the workbook part, not in the copied sheet part.
        setup = AGENT_PRINT if role == "agent" else None
        return Sheet(name, role=role, reused=True, print_setup=setup)

    # (an iterator: tuple() would ask the groupby its length, which costs as much again)
    by_agent = dict(iter(manageable.groupby("agent", sort=False))) if not manageable.empty else {}
    frames = {names[a]: by_agent.get(a, manageable.iloc[0:0]) for a in agent_names}
    agent_fields = _fields(agent_columns(state.settings))
    agent_sheets = [
        drawn(
            name,
            "agent",
            frame,
            agent_fields,
            lambda f, n=name: agent_sheet(n, f, state.settings, state.now, source),
        )
        for name, frame in frames.items()
    ]
    indicator, kpi_names = indicator_sheet(state, records, list(frames), sheet_frames=frames)
    sheets = [
        home_sheet(state, names, kpi_results(indicator, kpi_names)),
        indicator,
        *agent_sheets,
        drawn(
            L.SHEET_UNASSIGNED,
            "records",
            manageable[manageable["agent"].isin(["", UNASSIGNED])],
            _fields(unassigned_columns()),
            lambda f: unassigned_sheet(f, source),
        ),
        drawn(
            L.SHEET_BASE,
            "records",
            live,
            [*_fields(base_columns()), "extra"],
            lambda f: base_sheet(f, source),
        ),
        drawn(
            L.SHEET_EXCLUDED,
            "records",
            live[~empty_mask(live["exclusion"])],
            _fields(excluded_columns()),
            lambda f: excluded_sheet(f, source),
        ),
        roster_sheet(state.agents, records, names),
        config_sheet(state.settings),
        practices_sheet(state),
        log_sheet(state.operations, state.events),
    ]
    if state.xlwings_conf:
        sheets.append(xlwings_sheet(state.xlwings_conf))
    sheets.extend(state.user_sheets)
    return WorkbookSpec(sheets=sheets, names=kpi_names, active=L.SHEET_HOME, sheet_keys=keys)


def _fields(columns: Sequence[Column]) -> list[str]:
    return [str(column.field) for column in columns if column.field]


def sheet_key(context: str, name: str, frame: pd.DataFrame, fields: Sequence[str]) -> str:
    """A digest of what a sheet drawn from ``frame`` shows: its name, ``context`` (what every
    such sheet depends on besides its records: the code, the settings) and the values of the
    fields it draws, row by row (a time's text as typed too). Equal digests, equal sheets."""
    return sheet_keys(context, name, frame, fields)[0]


#: An odd 64-bit multiplier (FNV-1a's prime) mixing a row's column hashes into its digest.
_ROW_MIX = np.uint64(0x100000001B3)


def sheet_keys(
    context: str,
    name: str,
    frame: pd.DataFrame,
    fields: Sequence[str],
    source: RecordRows | None = None,
) -> tuple[str, bytes, str]:
    """:func:`sheet_key`, with a digest of each row (8 bytes a row, in order) and what the row
    digests depend on besides the rows' values (the context, the name, the columns hashed and
    their types): equal row digests under an equal context, equal rows.

    Each column is hashed in C (a 64-bit hash a value, :func:`_column_hashes`), then the
    hashes go into one SHA-256, and are mixed row by row into the rows' digests (xor, then
    multiply by an odd constant: a change of one value always changes its row's digest):
    turning 150.000 rows to text to hash them took over a second. Given ``source``, records
    whose rows ``frame`` takes, the columns' hashes are taken from theirs (the same values)."""
    digest = hashlib.sha256(f"{context}\x1e{name}\x1e{len(frame)}".encode())
    rows = np.zeros(len(frame), dtype=np.uint64)
    hashed: list[str] = []
    positions = source.positions(frame) if source is not None else None
    for field in fields:
        for column in (field, unread(field)):
            if column not in frame:
                continue
            described = f"\x1e{column}\x1e{frame[column].dtype}\x1e"
            hashed.append(described)
            found = None
            if source is not None and positions is not None:
                found = source.hashes(column, frame[column].dtype, positions)
            values = found if found is not None else _column_hashes(frame[column])
            digest.update(described.encode())
            digest.update(values.tobytes())
            rows ^= values
            rows *= _ROW_MIX  # wraps around modulo 2**64
    rows_context = hashlib.sha256(
        "\x1f".join([context, name, *hashed]).encode("utf-8", "surrogatepass")
    ).hexdigest()
    return digest.hexdigest(), rows.astype("<u8").tobytes(), rows_context


class RecordRows:
    """The records (``source``) that the record sheets take their rows from, with what is
    computed once for all of them: each column's hashes (:func:`_column_hashes`, for the
    digests) and each column as a table draws it (:func:`_drawn_column`). A record's values
    hash and draw the same in every sheet that shows it, so «Base» and the agents' sheets
    share one hashing and one drawing of the records. Every frame given must be made of rows
    of ``source`` as they are there (found by index label)."""

    def __init__(self, source: pd.DataFrame) -> None:
        self.source = source
        self.every = np.arange(len(source))  # the positions of a frame of every row
        self.hashed: dict[str, np.ndarray] = {}
        self.columns: dict[tuple[Any, str], np.ndarray] = {}
        self.last: tuple[pd.DataFrame, np.ndarray | None] | None = None

    def positions(self, frame: pd.DataFrame) -> np.ndarray | None:
        """Where ``frame``'s rows are in ``source``; None when a label of theirs is not
        there once."""
        if self.last is not None and self.last[0] is frame:
            return self.last[1]
        index = self.source.index
        found: np.ndarray | None = None
        if not index.is_unique:
            found = None
        elif frame.index is index or frame.index.equals(index):
            found = self.every
        else:
            found = index.get_indexer(frame.index)
            found = None if (found < 0).any() else found
        self.last = (frame, found)
        return found

    def hashes(self, column: str, dtype: Any, positions: np.ndarray) -> np.ndarray | None:
        """The hashes of ``column`` at ``positions``; None when ``source`` has no such
        column of that type."""
        if column not in self.source or self.source[column].dtype != dtype:
            return None
        if column not in self.hashed:
            self.hashed[column] = _column_hashes(self.source[column])
        return self.hashed[column][positions]

    def drawn(self, column: Column, positions: np.ndarray) -> list[Any]:
        """Table column ``column`` of the rows at ``positions``."""
        key = (column.field, column.kind)
        if key not in self.columns:
            self.columns[key] = _held_column(self.source, column)
        held = self.columns[key]
        return (held if positions is self.every else held[positions]).tolist()


def _held_column(frame: pd.DataFrame, column: Column) -> np.ndarray:
    """:func:`_drawn_column` as an array of objects, taken as it is from a column of text
    without a gap (its values are the texts drawn)."""
    values = frame.get(column.field)
    if (
        column.kind not in ("int", "datetime")
        and values is not None
        and isinstance(values.dtype, pd.StringDtype)
        and not values.hasnans
    ):
        return values.to_numpy(dtype=object)
    drawn = _drawn_column(frame, column)
    return np.fromiter(drawn, dtype=object, count=len(drawn))


def _column_hashes(column: pd.Series) -> np.ndarray:
    """pandas' hash of each value (of its text for a value that has no hash of its own, such
    as a record's ``extra`` dict). Not categorized first: most columns a sheet draws are
    nearly unique (IDs, phones, names), and factorizing them cost four times the hashing.
    pandas hashes each value on its own, so a column is hashed once per distinct value where
    that is cheaper, giving the same array: a column of objects the ledger shares (equal
    ``extra`` dicts are one object) once per object, a text column with few distinct texts
    (a city, an agent, an empty mark) once per text."""
    if len(column) >= _FEW_SAMPLE and column.dtype == object:
        values = column.to_numpy()
        ids = np.fromiter(map(id, values), dtype=np.uint64, count=len(values))
        _ids, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
        if len(first) * 2 <= len(values):
            return _hashes(pd.Series(values[first], dtype=object))[inverse.reshape(-1)]
    elif (
        len(column) >= _FEW_SAMPLE
        and isinstance(column.dtype, pd.StringDtype)
        and column.iloc[:_FEW_SAMPLE].nunique(dropna=False) <= _FEW_SAMPLE // 10
    ):
        codes, uniques = pd.factorize(column, use_na_sentinel=True)
        if codes.min() >= 0:  # a missing value hashes otherwise here
            return _hashes(pd.Series(uniques, dtype=column.dtype))[codes]
    return _hashes(column)


_FEW_SAMPLE = 1000  # values looked at to guess that a text column has few distinct ones


def _hashes(column: pd.Series) -> np.ndarray:
    return pd.util.hash_pandas_object(column, index=False, categorize=False).to_numpy()


def kpi_results(indicator: Sheet, names: dict[str, str]) -> dict[str, Any]:
    """The cached result of each ``KPI_*`` name's cell (``"='Indicador'!$B$5"``)."""
    from swat_xl.workbook.spec import a1

    by_address = {a1(c.row, c.col, absolute=True): c for c in indicator.cells}
    out: dict[str, Any] = {}
    for name, ref in names.items():
        cell = by_address.get(ref.rsplit("!", 1)[-1])
        if cell is not None:
            out[name] = cell.value
    return out


def _empty_records(template: pd.DataFrame) -> pd.DataFrame:
    frame = template.copy()
    for name in ("segment_label", "exclusion_label", "account_or_custcode", "other_phones"):
        frame[name] = pd.Series(dtype="object")
    return frame
