"""Marks are sacred: read every agent's marks back into the ledger before any rewrite.

A sheet is an agent sheet when its first row holds ``ID`` and ``Resultado``, whatever its name
(a user may rename, sort, filter, insert blank rows or delete rows). Rules:

* a non-empty value that differs from the ledger is a change, recorded with its history;
* an empty cell never erases a mark (the ledger keeps it, and the next render shows it again);
* the same ID marked differently in two places is a conflict: the row with the most recent
  attempt wins, then the sheet of the record's own agent; the conflict goes to ``Bitácora``;
* a record missing from its agent's sheet is restored from the ledger and logged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from swat_xl.core.config import Settings
from swat_xl.core.dates import DATETIME_HINT, NotADate, parse_datetime, understood
from swat_xl.core.kpi import FIELD_LABELS
from swat_xl.core.marks import (
    fold_option,
    frame_state,
    key_ends,
    latest_attempt,
    may_fold_to,
    normalise_values,
)
from swat_xl.core.model import MARK_FIELDS, OUTCOMES, RESOLUTIONS
from swat_xl.core.records import as_datetime
from swat_xl.core.text import clean_code, clean_text, is_blank, label_key, mask_digits
from swat_xl.services.ports import LedgerPort, WorkbookPort
from swat_xl.services.session import Session
from swat_xl.workbook import labels as L
from swat_xl.workbook.columns import agent_columns

_HEADER_TO_FIELD = {label_key(header): name for name, header in L.MARK_HEADERS.items()}
_ATTEMPTS = ("attempt1", "attempt2", "attempt3")


@dataclass(frozen=True)
class MarkRow:
    record_id: int
    values: dict[str, str]  # non-empty mark fields only
    source: str  # sheet name or file name
    row: int  # 1-based
    unread: frozenset[str] = frozenset()  # attempt fields whose text is not a date

    @property
    def latest_attempt(self) -> str:
        return max((self.values.get(a, "") for a in _ATTEMPTS), default="")


def normalise(field: str, value: Any) -> str:
    """A cell value as the ledger stores it (ISO text for date-times)."""
    if is_blank(value):
        return ""
    if field in _ATTEMPTS:
        try:
            when = parse_datetime(value)
        except NotADate as exc:
            return exc.text  # kept as typed: shown back on the sheet and flagged
        return when.replace(microsecond=0).isoformat() if when else ""
    if field == "agent_survey":
        return clean_code(value)
    if isinstance(value, float | int) and not isinstance(value, bool):
        return clean_code(value)
    return clean_text(value)


def read_mark_rows(
    rows: list[list[Any]], source: str, drawn: Sequence[str] = ()
) -> tuple[list[MarkRow], list[str]]:
    """Mark rows of one agent-like sheet; also Spanish notes about unreadable IDs.

    ``drawn`` is the header the tool drew on this sheet: a column whose header cell was edited
    or renamed is still read where the tool put it."""
    if not rows:
        return [], []
    header = [label_key(cell) for cell in rows[0]]
    expected = [label_key(cell) for cell in drawn]
    id_key = label_key(L.ID_HEADER)
    if id_key in header:
        id_col = header.index(id_key)
    elif id_key in expected:
        id_col = expected.index(id_key)
    else:
        return [], []
    columns = {i: _HEADER_TO_FIELD[key] for i, key in enumerate(header) if key in _HEADER_TO_FIELD}
    found = set(columns.values())
    for i, key in enumerate(expected):
        field = _HEADER_TO_FIELD.get(key)
        if field and field not in found and i not in columns:
            columns[i] = field  # the header cell was edited; the column is still the tool's
    out: list[MarkRow] = []
    notes: list[str] = []
    mark_columns = list(columns.items())
    for number, row in enumerate(rows[1:], start=2):
        width = len(row)
        raw = row[id_col] if id_col < width else ""
        if raw.__class__ is float and raw.is_integer() and raw > 0:  # how Excel stores an ID
            record_id = int(raw)
        else:
            if is_blank(raw):
                if any(not is_blank(row[i]) for i in columns if i < width):
                    notes.append(
                        f"Hoja «{source}», fila {number}: hay marcas sin ID; no se pudieron asociar"
                    )
                continue
            code = clean_code(raw)
            if not code.isdigit():
                shown = mask_digits(code[:20])
                notes.append(f"Hoja «{source}», fila {number}: el ID «{shown}» no es válido")
                continue
            record_id = int(code)
        values = {}
        unread: set[str] = set()
        for i, field in mark_columns:
            if i < width:
                cell = row[i]
                if cell.__class__ is str and not cell:  # most cells: nothing marked yet
                    continue
                text = normalise(field, cell)
                if text:
                    values[field] = text
                    if field in _ATTEMPTS and not understood(cell):
                        unread.add(field)
        out.append(MarkRow(record_id, values, source, number, frozenset(unread)))
    return out, notes


def marked_columns(
    header: Sequence[Any], drawn: Sequence[str] = (), extra: Sequence[str] = ()
) -> list[int]:
    """The columns :func:`read_mark_rows` reads of a sheet with this header row: the ID and
    the marks, where their header is now and where the tool drew them (``drawn``); also the
    columns headed ``extra``."""
    wanted = {label_key(L.ID_HEADER), *_HEADER_TO_FIELD, *map(label_key, extra)}
    return sorted(
        {i for i, cell in enumerate(header) if label_key(cell) in wanted}
        | {i for i, cell in enumerate(drawn) if label_key(cell) in wanted}
    )


def apply_mark_rows(
    session: Session,
    mark_rows: list[MarkRow],
    *,
    source_label: str,
    ledger_competes: bool = False,
) -> dict[str, int]:
    """Merge mark rows into the ledger. Returns counts (changed fields, conflicts, unknown).

    With ``ledger_competes`` (collecting agent workbooks after the master's own marks were
    synced) the ledger's current marks are one more candidate: a different non-empty value on
    both sides is a conflict, and the side with the most recent attempt wins."""
    ledger = session.ledger
    # Only the records the rows name: the rest of the month (archived records above all) is
    # neither offered a mark nor compared.
    current = ledger.marks({mark.record_id for mark in mark_rows})
    ids = current["record_id"].tolist()
    agent_of = dict(zip(ids, current["agent"].tolist(), strict=True))
    position = {record_id: index for index, record_id in enumerate(ids)}
    stored_columns = [current[name].tolist() for name in MARK_FIELDS]
    by_id: dict[int, list[MarkRow]] = {}
    unknown = 0
    typed_wrong: dict[tuple[int, str, str], MarkRow] = {}
    for mark in mark_rows:
        if mark.values:
            # A value that folds to an option is stored (and drawn again) as the option.
            values, invalid = normalise_values(mark.values, session.settings)
            mark = MarkRow(mark.record_id, values, mark.source, mark.row, mark.unread)
            for field, value in invalid.items():
                typed_wrong.setdefault((mark.record_id, field, value), mark)
        if mark.record_id not in position:
            unknown += 1
            session.event(
                f"ID {mark.record_id} ({mark.source}, fila {mark.row}) no está asignado en el "
                "registro; sus marcas no se tomaron",
                level="warning",
            )
            continue
        by_id.setdefault(mark.record_id, []).append(mark)
    changes: list[tuple[int, str, str, str]] = []
    conflicts = 0
    for record_id, candidates in by_id.items():
        if not ledger_competes and not any(m.values for m in candidates):
            continue  # a row with nothing marked changes nothing
        at = position[record_id]
        stored = {
            name: column[at] for name, column in zip(MARK_FIELDS, stored_columns, strict=True)
        }
        if ledger_competes:
            kept = {f: stored.get(f) or "" for f in MARK_FIELDS if stored.get(f)}
            if kept:
                candidates = [MarkRow(record_id, kept, "libro maestro", 0), *candidates]
        for field in MARK_FIELDS:
            offered = [(m, m.values[field]) for m in candidates if field in m.values]
            if not offered:
                continue
            distinct = {value for _, value in offered}
            if len(distinct) > 1:
                conflicts += 1
                winner = _winner(offered, agent_of.get(record_id, ""))
                places = ", ".join(
                    f"«{m.source}»" + (f" fila {m.row}" if m.row else "") for m, _ in offered
                )
                session.event(
                    f"Conflicto en ID {record_id}, campo «{L.MARK_HEADERS[field]}»: "
                    f"marcado distinto en {places}; "
                    f"se tomó el de «{winner[0].source}» (el más reciente)",
                    level="conflict",
                    record_id=record_id,
                )
                taken, value = winner
            else:
                taken, value = offered[0]
            if value != (stored.get(field) or ""):
                changes.append((record_id, field, stored.get(field) or "", value))
                if field in taken.unread:
                    session.warn(
                        f"Hoja «{taken.source}», fila {taken.row}, columna "
                        f"«{L.MARK_HEADERS[field]}»: «{value}» no es una fecha y hora reconocible "
                        f"(use {DATETIME_HINT}, por ejemplo 02/12/2026 9:05 a. m.); quedó como "
                        "está y el indicador la señala"
                    )
    ledger.update_marks(
        changes, source=source_label, at=session.now, operation_id=session.operation_id
    )
    invalid = 0
    for record_id, field, _old, new in changes:
        where = typed_wrong.get((record_id, field, new))
        if where is None:
            continue
        invalid += 1
        place = f"Hoja «{where.source}»" + (f", fila {where.row}" if where.row else "")
        session.event(
            f"{place}, ID {record_id}: «{mask_digits(new)}» no es una opción de "
            f"«{FIELD_LABELS[field]}»; el registro sigue pendiente y no va al formulario hasta "
            "que elija un valor de la lista",
            level="warning",
            record_id=record_id,
        )
    if changes:
        close_records(session, {c[0] for c in changes})
    return {
        "changed": len(changes),
        "conflicts": conflicts,
        "unknown": unknown,
        "records": len({c[0] for c in changes}),
        "invalid": invalid,
    }


def close_records(session: Session, record_ids: set[int]) -> None:
    """Set ``closed_at`` of these records by the procedure's closing rules
    (:func:`swat_xl.core.marks.mark_state`): the latest attempt when the marks close the record
    (when the management happened, not when the tool read it), ``""`` while they do not."""
    marks = session.ledger.typed_marks(record_ids)
    if marks.empty:
        return
    state = frame_state(marks, session.settings)
    latest = latest_attempt(marks)
    closed: dict[int, dt.datetime | None] = {}
    for rid, done, when, marked in zip(
        marks["record_id"].tolist(),
        state.closed.tolist(),
        latest,
        marks["marked_at"].tolist(),
        strict=True,
    ):
        if not done:
            closed[int(rid)] = None
        elif np.isnat(when):
            closed[int(rid)] = as_datetime(marked)
        else:
            closed[int(rid)] = as_datetime(when)
    session.ledger.set_closed(closed)


def _winner(offered: list[tuple[MarkRow, str]], agent: str) -> tuple[MarkRow, str]:
    """Most recent attempt first; then the agent's own sheet; then the later source."""
    ranked = [
        ((mark.latest_attempt, 1 if mark.source == agent else 0, index), (mark, value))
        for index, (mark, value) in enumerate(offered)
    ]
    return max(ranked, key=lambda item: item[0])[1]


@dataclass(frozen=True)
class SheetRoles:
    """Which sheets of a workbook hold agents' marks the tool reads back."""

    agent: tuple[str, ...]  # agent sheets: their marks go to the ledger
    copies: tuple[str, ...]  # a user's copy of an agent sheet: kept as the user's, not read


def sheet_roles(workbook: WorkbookPort, ledger: LedgerPort) -> SheetRoles:
    """The agent sheets are the ones the tool drew last time (kept in the ledger), whatever
    their headers now; a sheet with an agent sheet's headers is one too unless every sheet the
    tool drew is still there (then it is a user's copy). Without that memory (an older ledger),
    the headers decide."""
    _written, notes = ledger.written_sheets()
    drawn = {str(n) for n in notes.get("records", []) if str(n) not in L.OWNED_SHEETS}
    names = [n for n in workbook.sheet_names() if n not in L.OWNED_SHEETS]
    all_there = bool(drawn) and drawn <= set(names)
    agent: list[str] = []
    copies: list[str] = []
    for name in names:
        if name in drawn:
            agent.append(name)
        elif L.is_agent_header(workbook.header(name)):
            (copies if all_there else agent).append(name)
    return SheetRoles(tuple(agent), tuple(copies))


def sync_from_workbook(session: Session) -> dict[str, int]:
    """Read the marks of every agent sheet of the workbook into the ledger; name the marks
    typed where the tool does not read them (see :func:`unread_marks`)."""
    workbook = session.workbook
    mark_rows: list[MarkRow] = []
    seen_ids: set[int] = set()
    roles = sheet_roles(workbook, session.ledger)
    agent_sheets = list(roles.agent)
    drawn = [column.header for column in agent_columns(session.settings)]
    for name in agent_sheets:
        wanted = marked_columns(workbook.header(name), drawn)
        rows, notes = read_mark_rows(workbook.rows(name, columns=wanted), name, drawn)
        for note in notes:
            session.event(note, level="warning")
        mark_rows.extend(rows)
        seen_ids.update(m.record_id for m in rows)
    counts = apply_mark_rows(session, mark_rows, source_label="libro")
    if agent_sheets:
        counts["restored"] = _log_missing(session, seen_ids)
    counts["unread"] = unread_marks(session, roles)
    return counts


def unread_marks(session: Session, roles: SheetRoles) -> int:
    """Marks typed on a sheet the tool does not read back («Sin asignar», «Base», a user's copy
    of an agent sheet): never taken, never dropped without a word — each sheet gets a Bitácora
    warning naming its rows, and the operation's summary says so."""
    workbook = session.workbook
    ledger = session.ledger
    found: dict[str, list[int]] = {}
    for name in roles.copies:
        rows, _notes = read_mark_rows(workbook.rows(name), name)
        stored = _stored_marks(ledger.marks({mark.record_id for mark in rows}))
        for mark in rows:
            values, _invalid = normalise_values(mark.values, session.settings)
            if any(stored(mark.record_id).get(f) != v for f, v in values.items()):
                found.setdefault(name, []).append(mark.row)
    names = workbook.sheet_names()
    for name in (L.SHEET_UNASSIGNED, L.SHEET_BASE):
        if name in names:
            # «Base» is read whole from a file; from Excel, where every cell read costs, only
            # its IDs and its own outcome column (reading all of it was most of a click's cells)
            wanted = None
            if name == L.SHEET_BASE:
                wanted = marked_columns(workbook.header(name), (), [L.BASE_OUTCOME_HEADER])
            typed, compare = _typed_rows(workbook.rows(name, columns=wanted))
            if compare:
                stored = _stored_marks(ledger.marks({rid for _number, rid, _canon in compare}))
                typed = sorted(
                    typed
                    + [
                        number
                        for number, rid, canon in compare
                        if stored(rid).get("outcome", "") != canon
                    ]
                )
            if typed:
                found[name] = typed
    total = 0
    if found:
        session.notices.append(
            "marcas sin leer en " + ", ".join(f"«{name}»" for name in found) + " (ver Bitácora)"
        )
    for name, rows in found.items():
        total += len(rows)
        shown = ", ".join(str(r) for r in rows[:20]) + (" …" if len(rows) > 20 else "")
        kind = "es una copia del usuario" if name in roles.copies else "no es una hoja de asesor"
        session.warn(
            f"Hoja «{name}» ({kind}): hay marcas escritas en {len(rows)} fila(s) ({shown}) que "
            "no se leen ni cuentan; márquelas en la hoja del asesor"
        )
    return total


def _stored_marks(known: pd.DataFrame) -> Callable[[int], dict[str, str]]:
    """The ledger's marks of one record (field -> value, empty ones left out), looked up by
    ID among ``known`` (the ledger's marks of the records asked about)."""
    where = dict(zip(known["record_id"].astype(int).tolist(), range(len(known)), strict=True))
    columns = [known[field].tolist() for field in MARK_FIELDS]

    def stored(record_id: int) -> dict[str, str]:
        at = where.get(record_id)
        if at is None:
            return {}
        return {
            field: str(column[at])
            for field, column in zip(MARK_FIELDS, columns, strict=True)
            if column[at]
        }

    return stored


def _typed_rows(rows: list[list[Any]]) -> tuple[list[int], list[tuple[int, int, str]]]:
    """Rows of «Sin asignar» or «Base» where a mark was typed: a value of a dropdown (an
    outcome or a Solución) in a column the tool did not put it in, or an outcome that differs
    from the ledger's in «Base»'s own «Resultado» column.

    Returns the rows typed whatever the ledger holds, and ``(row, ID, outcome)`` of the rows
    typed only if the ledger's outcome of that ID is not that outcome (the caller reads the
    ledger's marks of just those IDs)."""
    if not rows:
        return [], []
    header = [label_key(cell) for cell in rows[0]]
    id_key = label_key(L.ID_HEADER)
    if id_key not in header:
        return [], []
    id_col = header.index(id_key)
    base_outcome = label_key(L.BASE_OUTCOME_HEADER)
    own = header.index(base_outcome) if base_outcome in header else -1
    looks = {fold_option(v) for v in (*OUTCOMES, *RESOLUTIONS)}
    ends = key_ends(looks)
    option_like: dict[str, bool] = {}

    def looks_like_option(cell: Any) -> bool:
        # Only text folds to an option (a number, a date or a blank never does); each
        # distinct text is folded once («Base» repeats labels, agents, cities on every row),
        # and only when its ends are an option's.
        if not isinstance(cell, str):
            return False
        hit = option_like.get(cell)
        if hit is None:
            hit = option_like[cell] = (
                not is_blank(cell) and may_fold_to(cell, ends) and fold_option(cell) in looks
            )
        return hit

    body = rows[1:]
    width = max(map(len, body), default=0)
    elsewhere: set[int] = set()  # rows with an option outside their own «Resultado»
    in_own: dict[int, str] = {}  # rows with an option in it: the text
    # Column by column: the distinct values of a column are looked at once, and only the
    # columns holding an option-like value are walked row by row.
    for index in range(width):
        if index == id_col:
            continue
        column = [row[index] if index < len(row) else "" for row in body]
        try:
            distinct = set(column)
        except TypeError:  # pragma: no cover - a cell value that cannot be hashed
            distinct = {cell for cell in column if isinstance(cell, str)}
        found = {cell for cell in distinct if looks_like_option(cell)}
        if not found:
            continue
        for at, cell in enumerate(column):
            if isinstance(cell, str) and cell in found:
                if index == own:
                    in_own[at] = cell
                else:
                    elsewhere.add(at)
    typed: list[int] = []
    compare: list[tuple[int, int, str]] = []
    settings = Settings()
    canonical: dict[str, str] = {}
    for at in sorted(elsewhere | set(in_own)):
        number = at + 2
        if at not in elsewhere:
            row = body[at]
            code = clean_code(row[id_col] if id_col < len(row) else "")
            if code.isdigit():
                cell = in_own[at]
                canon = canonical.get(cell)
                if canon is None:
                    values = {"outcome": clean_text(cell)}
                    canon = canonical[cell] = normalise_values(values, settings)[0]["outcome"]
                compare.append((number, int(code), canon))  # typed unless the ledger has it
                continue
        typed.append(number)
    return typed, compare


def _log_missing(session: Session, seen: set[int]) -> int:
    """Records on the sheets last time but missing now (deleted rows): restored and logged."""
    open_records = session.ledger.assigned_open()
    missing = [(rid, agent) for rid, agent in open_records if rid not in seen]
    for rid, agent in missing[:200]:
        session.event(
            f"ID {rid} no estaba en la hoja de «{agent}» (fila borrada); "
            "se restauró desde el registro",
            level="restore",
            record_id=rid,
        )
    if len(missing) > 200:
        session.event(f"… y {len(missing) - 200} registros más restaurados", level="restore")
    return len(missing)
