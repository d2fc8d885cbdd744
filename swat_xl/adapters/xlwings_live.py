"""The master workbook open in Excel, driven through classic (open-source) xlwings.

:class:`LiveWorkbook` wraps the ``xlwings.Book`` that called a ribbon macro. It never imports
xlwings itself (it only touches the objects it is given), so the module imports anywhere and
the tests drive it with a fake of the few xlwings objects it uses.

Reading is in bulk: one ``.value`` read of ``A1:<last used cell>`` per sheet, normalised to a
list of lists with ``""`` for empty cells (what the file adapter returns).

Drawing a :class:`~swat_xl.workbook.spec.WorkbookSpec` is in bulk too: each sheet is one 2-D
block written with a single ``.value`` assignment (split every :data:`CHUNK_ROWS` rows for
very large sheets), formulas included as ``"=…"`` strings. Excel types a string written through
``.value`` as if a person had typed it (``"Mar 3"`` becomes a date, ``"0193"`` a number,
``"#N/A"`` an error): the tables' text columns are formatted as text (``@``) before they are
written, and any other string that Excel could retype gets a leading apostrophe, so text stays
the text the export had. Formats, validations, conditional formats, protection, freeze panes,
printing and the chart go through Excel's object model (``.api``), each in one small helper.

Reads are sized by the sheet's header row and its last filled row (``Range.Find``), never by
``UsedRange``, which also spans formatted and validated cells (and a stray edit far away).

Only the sheets the spec owns (the tool's sheets and the agent sheets) are cleared and
rewritten; sheets with ``role == "user"`` and any sheet the spec does not name are never
touched, except the stale agent sheets the caller asks to delete.

Every cell moved through COM costs, so the sheets of records (agent sheets, «Base», «Sin
asignar», «No gestionables») are not redrawn on every click. Each draw notes what it left in
them (:func:`drawn_notes`: the records' IDs in order and a digest of each row, kept in the
ledger by the services, with a mark of the notes in the book's defined name
:data:`DRAWN_NAME`). The next draw reads back only their ID and mark columns (the marks are
read anyway) and, when the book still holds that mark and a sheet still holds the noted rows in
order with nothing below them, writes only the rows whose content changed or whose typed cells
differ from what the sheet shows, and appends the new rows; otherwise (rows sorted, deleted or
inserted, a header edited, a book reopened from an older file, a draw that stopped half way)
the sheet is drawn whole. What a person typed into a column that is neither the ID nor a mark
is not read back, so it stays until its row is drawn again. The ``xlwings.conf`` sheet
is only added when missing: it is the file xlwings itself is running from.

Windows Excel specifics handled here: conditional-format formulas are translated to the
user's formula language (``FormulaLocal``) and entered with the range's top-left cell active
(relative references are relative to the active cell) in the master's own window (never
``Application.ActiveWindow``, which may belong to another workbook); list validations use the
user's list separator (``Application.International(xlListSeparator)``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import math
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swat_xl.core.model import MARK_FIELDS
from swat_xl.errors import WorkbookError
from swat_xl.workbook import labels as L
from swat_xl.workbook.spec import (
    STYLE_LOOKS,
    Cell,
    Chart,
    CondFormat,
    PrintSetup,
    Sheet,
    Table,
    Validation,
    WorkbookSpec,
    sheet_widths,
)

#: Rows per ``.value`` write of a sheet block (huge COM arrays can exhaust Excel's memory).
CHUNK_ROWS = 20_000
_MAX_TEXT = 32767
_MAX_ADDRESS = 240  # Range("A1,B2,…") takes at most 255 characters

# Excel constants (so that nothing here needs win32com's makepy constants).
XL_CENTER = -4108
XL_CONTINUOUS = 1
XL_EXPRESSION = 2
XL_LIST_SEPARATOR = 5
XL_VALIDATE_LIST = 3
XL_VALID_ALERT_STOP = 1
XL_BETWEEN = 1
XL_SHEET_VISIBLE = -1
XL_SHEET_HIDDEN = 0
XL_LINE = 4
XL_VALUE_AXIS = 2
XL_LEGEND_BOTTOM = -4107
XL_MARKER_DASH = -4115
XL_MARKER_CIRCLE = 8
XL_CATEGORY_AXIS = 1
XL_LANDSCAPE = 2
XL_FORMULAS = -4123
XL_BY_ROWS = 1
XL_BY_COLUMNS = 2
XL_PREVIOUS = 2
MSO_LINE_DASH = 4
PIXELS_TO_POINTS = 0.75

_KIND_FORMATS = {
    "int": "0",
    "number": "0.0",
    "pct": "0.0%",
    "datetime": "dd/mm/yyyy hh:mm",
    "date": "dd/mm/yyyy",
}

#: Named styles (spec.STYLES) as Excel object-model properties; "*Color" values are hex RGB.
_COM_KEYS = {
    "bold": "Font.Bold",
    "italic": "Font.Italic",
    "font_size": "Font.Size",
    "font_color": "Font.Color",
    "fill": "Interior.Color",
    "wrap": "WrapText",
    "num_format": "NumberFormat",
}


def _com_props(look: dict[str, Any]) -> dict[str, Any]:
    props = {_COM_KEYS[k]: v for k, v in look.items() if k in _COM_KEYS}
    if look.get("vcenter"):
        props["VerticalAlignment"] = XL_CENTER
    return props  # borders are left to Excel's gridlines in the live book


STYLE_PROPS: dict[str, dict[str, Any]] = {
    name: _com_props(look) for name, look in STYLE_LOOKS.items()
}
_EDITABLE_PROPS: dict[str, Any] = {"Locked": False, "Interior.Color": "#FFF9E6"}

# Text Excel may not keep as text when typed into a General cell: formulas (= + - @), errors
# (#N/A), a leading apostrophe (eaten as the text prefix), booleans, and anything with a digit
# (numbers, "0193", "1,5", "85 %", dates such as "Mar 3", "3-Jan", "Jun 2024", "12:30 pm").
_RISKY_START = ("=", "+", "-", "@", "'", "#")
_DIGIT = re.compile(r"\d")
_BOOLEANS = frozenset({"TRUE", "FALSE", "VERDADERO", "FALSO"})


def bgr(color: str) -> int:
    """``"#RRGGBB"`` as the BGR integer Excel's ``Color`` properties take."""
    value = color.lstrip("#")
    red, green, blue = int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)
    return red + green * 256 + blue * 65536


def as_text(text: str) -> str:
    """``text`` as it must be written so that Excel stores exactly ``text``."""
    text = text[:_MAX_TEXT]
    if not text:
        return text
    if text.startswith(_RISKY_START) or _DIGIT.search(text) or text.strip().upper() in _BOOLEANS:
        return "'" + text
    return text


def address(
    first_row: int, first_col: int, last_row: int | None = None, last_col: int | None = None
) -> str:
    """A1 address of a 0-based cell or block (``"B2"`` or ``"B2:D9"``)."""
    from swat_xl.workbook.spec import a1

    start = a1(first_row, first_col)
    if last_row is None or last_col is None or (last_row, last_col) == (first_row, first_col):
        return start
    return f"{start}:{a1(last_row, last_col)}"


def _plain(value: Any) -> Any:
    """A value xlwings can write: numpy scalars unwrapped, NaN as empty."""
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        with contextlib.suppress(TypeError, ValueError):
            value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    return value


def _normalise(block: Any) -> list[list[Any]]:
    """xlwings' 2-D value as rows of Python values, ``""`` for empty cells, no empty tail."""
    if block is None:
        return []
    if not isinstance(block, list):
        block = [[block]]
    elif block and not isinstance(block[0], list):
        block = [block]
    rows = [["" if cell is None else cell for cell in row] for row in block]
    while rows and all(cell == "" for cell in rows[-1]):
        rows.pop()
    return rows


@dataclass
class _Block:
    """The values of a sheet as one grid from ``(top, left)``; formulas as ``"=…"``."""

    top: int
    left: int
    rows: list[list[Any]]


@dataclass
class Plan:
    """What :meth:`LiveWorkbook.draw` will do, checked before the ledger commits."""

    spec: WorkbookSpec
    delete: list[str]  # stale agent sheets
    #: What the last draw into this book noted (see :func:`drawn_notes`); empty: none.
    before: Mapping[str, Any] = field(default_factory=dict)
    #: What this draw notes, for the next one.
    notes: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Columns:
    """Some columns of a sheet as Excel holds them: its header row, then each column's cells
    below it (``""`` when empty) down to the sheet's last filled row."""

    header: list[Any]
    height: int  # data rows (below the header)
    values: dict[int, list[Any]]


@dataclass
class LivePublication:
    """Drawing a checked plan into the open book and saving it (after the ledger commits)."""

    workbook: LiveWorkbook
    plan: Plan

    @property
    def fingerprint(self) -> str | None:
        """Not the file's bytes (Excel owns the file): the mark this draw leaves in the book,
        so that the ledger keeps what it noted about the sheets drawn."""
        mark = self.plan.notes.get("mark")
        return f"excel:{mark}" if mark else None

    @property
    def drawn(self) -> dict[str, Any]:
        return self.plan.notes

    def discard(self) -> None:
        """Nothing was drawn yet: the open book is as it was."""

    def finish(self) -> None:
        self.workbook.say("Dibujando las hojas en Excel…")
        self.workbook.draw(self.plan)
        self.workbook.say("Guardando el libro…")
        self.workbook.save()


class LiveWorkbook:
    """The master workbook open in Excel (an ``xlwings.Book``), as the services see it.

    Excel owns the file: nothing is replaced on disk. :meth:`publish` checks the book can take
    the new content before the ledger commits; the publication's ``finish()`` draws into the
    open book and saves it, so the file on disk and the ledger agree."""

    keeps_backups = False  # Excel saves the book in place: no copy in «swat_copias»

    def __init__(self, book: Any, *, progress: Callable[[str], None] | None = None) -> None:
        self.book = book
        self.path = Path(str(book.fullname))
        self.say = progress or (lambda _text: None)
        #: Spanish notes about what could not be drawn (best-effort parts such as the chart).
        self.problems: list[str] = []
        self._rows: dict[str, list[list[Any]]] = {}
        self._columns: dict[str, _Columns] = {}  # sheets read column by column
        self._headers: dict[str, list[Any]] = {}
        #: The book's sheets by case-folded name, in the book's order (None: ask Excel again).
        #: Walking ``book.sheets`` costs two COM calls a sheet; finding each sheet of a
        #: 30-sheet master that way was a third of an import's COM calls.
        self._sheets: dict[str, tuple[str, Any]] | None = None
        self._ordered = True  # False once a sheet was added: the names' order must be read

    def fingerprint(self) -> str | None:
        """Unknown: the book in Excel may differ from its file (marks are always read)."""
        return None

    def reusable_sheets(self) -> set[str]:
        """None: every sheet the spec owns is drawn again."""
        return set()

    def written_copy_sheets(self, written: str) -> set[str]:
        """None: the book in Excel is written cell by cell, nothing is copied."""
        return set()

    def stale_agent_sheets(self, spec: WorkbookSpec) -> list[str]:
        """Agent sheets the spec no longer has (their marks were synced by this operation)."""
        keep = {sheet.name.casefold() for sheet in spec.sheets}
        return [
            name
            for name in self.sheet_names()
            if name.casefold() not in keep
            and name not in L.OWNED_SHEETS
            and L.is_agent_header(self.header(name))
        ]

    def publish(
        self,
        spec: WorkbookSpec,
        *,
        backups_to_keep: int = 0,
        now: dt.datetime | None = None,
        ledger_copy: Path | None = None,
        drawn: Mapping[str, Any] | None = None,
    ) -> LivePublication:
        """Check the book can take ``spec`` (Excel keeps no backups of its own: the ribbon's
        «Nuevo periodo» saves a copy). ``drawn``: what the last draw into this book noted."""
        plan = self.prepare(spec, delete=self.stale_agent_sheets(spec))
        plan.before = drawn or {}
        plan.notes = drawn_notes(spec)
        return LivePublication(self, plan)

    # -- reading ----------------------------------------------------------------------------
    def refresh(self) -> None:
        """Forget the sheets read so far: the next reads go to Excel again."""
        self._forget()
        self._sheets = None

    def _forget(self) -> None:
        self._rows.clear()
        self._columns.clear()
        self._headers.clear()

    def _index(self) -> dict[str, Any]:
        if self._sheets is None:
            self._sheets = {}
            for sheet in self.book.sheets:
                name = str(sheet.name)
                self._sheets.setdefault(name.casefold(), (name, sheet))
            self._ordered = True
        return self._sheets

    def sheet_names(self) -> list[str]:
        if not self._ordered:  # a sheet was added since Excel was asked: ask again
            self._sheets = None
        return [name for name, _sheet in self._index().values()]

    def _sheet(self, name: str) -> Any:
        found = self._find(name)
        if found is None:
            raise WorkbookError("El libro no tiene la hoja", file=self.path, sheet=name)
        return found

    def rows(self, sheet: str, columns: Collection[int] | None = None) -> list[list[Any]]:
        """All rows of a sheet from A1 as wide as its header row (one bulk read, cached until
        the next draw). With ``columns`` (0-based) only those are read below the header, one
        read per run of adjacent columns, and the other cells are left empty: every cell moved
        through COM counts."""
        if columns is not None and sheet not in self._rows:
            read = self._read_columns(sheet, columns)
            width = len(read.header)
            out = [list(read.header)]
            kept = [(c, v) for c, v in read.values.items() if c < width]
            for index in range(read.height):
                row = [""] * width
                for col, values in kept:
                    row[col] = values[index]
                out.append(row)
            while len(out) > 1 and all(cell == "" for cell in out[-1]):
                out.pop()
            return out
        if sheet not in self._rows:
            ws = self._sheet(sheet)
            try:
                width = _header_width(ws.api)
                height = _last_row(ws.api, width) if width else 0
                block = ws.range((1, 1), (height, width)).options(ndim=2).value if height else None
            except Exception as exc:  # COM errors have no common base class to catch
                raise WorkbookError(
                    "No se pudo leer la hoja desde Excel", file=self.path, sheet=sheet
                ) from exc
            self._rows[sheet] = _normalise(block)
        return self._rows[sheet]

    def _read_columns(self, sheet: str, columns: Collection[int]) -> _Columns:
        """The header row and ``columns`` of a sheet (what was read already is not read
        again; a sheet read whole gives them without asking Excel)."""
        if sheet in self._rows:
            rows = self._rows[sheet]
            header = list(rows[0]) if rows else []
            body = rows[1:]
            values = {
                col: [row[col] if col < len(row) else "" for row in body]
                for col in range(len(header))
            }
            return _Columns(header, len(body), values)
        read = self._columns.get(sheet)
        ws = self._sheet(sheet)
        try:
            if read is None:
                width = _header_width(ws.api)
                height = _last_row(ws.api, width) if width else 0
                header = self.header(sheet) if width else []
                read = self._columns[sheet] = _Columns(header, max(height - 1, 0), {})
            width = len(read.header)
            missing = [c for c in sorted(set(columns)) if c < width and c not in read.values]
            for first, last in _runs(missing):
                if not read.height:
                    block: list[list[Any]] = []
                else:
                    value = (
                        ws.range((2, first + 1), (read.height + 1, last + 1)).options(ndim=2).value
                    )
                    block = [
                        ["" if cell is None else cell for cell in row] for row in (value or [])
                    ]
                for col in range(first, last + 1):
                    read.values[col] = [row[col - first] for row in block]
        except Exception as exc:  # COM errors have no common base class to catch
            raise WorkbookError(
                "No se pudo leer la hoja desde Excel", file=self.path, sheet=sheet
            ) from exc
        return read

    def header(self, sheet: str) -> list[Any]:
        if sheet in self._rows:
            return self._rows[sheet][0] if self._rows[sheet] else []
        if sheet in self._columns:
            return list(self._columns[sheet].header)
        if sheet not in self._headers:
            ws = self._sheet(sheet)
            width = _header_width(ws.api)
            rows = _normalise(ws.range((1, 1), (1, width)).options(ndim=2).value) if width else []
            self._headers[sheet] = rows[0] if rows else []
        return list(self._headers[sheet])

    def user_sheet(self, name: str) -> Sheet:
        """A sheet the tool does not own: named in the spec, never redrawn in Excel."""
        return Sheet(name, role="user")

    # -- drawing ----------------------------------------------------------------------------
    def prepare(self, spec: WorkbookSpec, *, delete: Sequence[str] = ()) -> Plan:
        """Check that the spec can be drawn and saved; unprotect the sheets it rewrites.

        Runs before the ledger commits, so a refusal here leaves everything unchanged.
        """
        if _get(self.book.api, "ReadOnly", False):
            raise WorkbookError(
                "El libro está abierto como solo lectura; ábralo con permiso de edición (o "
                "guárdelo con otro nombre) y repita",
                file=self.path,
            )
        plan = Plan(spec, list(delete))
        present = {name.casefold(): name for name in self.sheet_names()}
        for sheet in spec.sheets:
            name = present.get(sheet.name.casefold())
            if sheet.role == "user" or name is None or _skip_existing(sheet):
                continue
            self._unprotect(name, sheet.password)
        return plan

    def _unprotect(self, name: str, password: str) -> None:
        """Unprotect with the Config password (or none: the sheet may predate it)."""
        api = self._sheet(name).api
        if not _get(api, "ProtectContents", False):
            return
        for candidate in dict.fromkeys((password, "")):
            try:
                api.Unprotect(candidate)
            except Exception:  # wrong password: COM error
                continue
            return
        raise WorkbookError(
            "La hoja está protegida con una contraseña distinta de «clave_proteccion» (hoja "
            "Config); quite la protección (Revisar > Desproteger hoja) y repita",
            file=self.path,
            sheet=name,
        )

    def draw(self, plan: Plan) -> None:
        """Draw the spec into the open book (after the ledger committed).

        Every sheet of the spec exists before any formula or defined name is written: a
        formula naming a missing sheet makes Excel ask for an external file.
        """
        spec = plan.spec
        active = _active_name(self.book)
        before = plan.before.get("sheets", {}) if self._mark() == plan.before.get("mark") else {}
        self._set_mark("")  # a draw that stops half way leaves no mark: the next one is whole
        for name in plan.delete:
            found = self._find(name)
            if found is not None:
                found.delete()
                self._index().pop(name.casefold(), None)
        previous: Any = None
        targets: list[tuple[Any, Sheet]] = []
        for sheet in spec.sheets:
            existing = self._find(sheet.name)
            if existing is None and sheet.role != "user":
                existing = self._add(sheet.name, previous)
            elif sheet.role == "user" or _skip_existing(sheet):
                previous = existing if existing is not None else previous
                continue
            targets.append((existing, sheet))
            previous = existing
        for name, ref in spec.names.items():
            self.book.names.add(name, ref)
        separator = _list_separator(self.book.app.api)
        notes = plan.notes.get("sheets", {})
        for ws, sheet in targets:
            old, new = before.get(sheet.name), notes.get(sheet.name)
            if old is None or new is None or not self._draw_changes(ws, sheet, old, new, separator):
                self._draw_sheet(ws, sheet, separator)
        self._forget()
        for ws, sheet in targets:  # hide last: Excel needs a visible sheet to activate
            if sheet.hidden:
                ws.api.Visible = XL_SHEET_HIDDEN
        target = active if active and self._find(active) is not None else spec.active
        found = self._find(target) if target else None
        if found is not None:
            found.activate()
        self._set_mark(plan.notes.get("mark", ""))

    def _mark(self) -> str:
        """The mark the last draw left in the book (empty when there is none)."""
        try:
            text = str(self.book.api.Names.Item(DRAWN_NAME).RefersTo)
        except Exception:  # no such name: COM error
            return ""
        return text.removeprefix('="').removesuffix('"')

    def _set_mark(self, mark: str) -> None:
        self.book.names.add(DRAWN_NAME, f'="{mark}"')

    def _draw_changes(
        self, ws: Any, sheet: Sheet, old: Mapping[str, Any], new: Mapping[str, Any], separator: str
    ) -> bool:
        """Bring a sheet drawn before up to ``sheet`` writing only its rows that changed and
        the rows appended below them; False (nothing written) unless Excel holds the rows the
        last draw noted, in that order, with nothing below them.

        A row is written again when what it shows changed (its digest) or when a cell a person
        types in (the ID, the marks) differs from what the sheet shows now: a mark typed that
        the ledger took differently, a mark erased. Rows sorted, deleted or inserted, a header
        edited, anything typed below the rows: the sheet is drawn whole."""
        table = sheet.tables[0]
        old_ids, new_ids = list(old.get("ids", ())), list(new["ids"])
        old_rows, new_rows = str(old.get("rows", "")), str(new["rows"])
        count = len(old_ids)
        if (
            old.get("frame") != new["frame"]
            or new_ids[:count] != old_ids
            or len(old_rows) != count * _DIGEST_CHARS
        ):
            return False
        checked = _checked_columns(table)
        held = self._read_columns(sheet.name, checked)
        if held.header != _header_row(sheet) or held.height != count:
            return False
        if [_as_id(value) for value in held.values[checked[0]]] != old_ids:
            return False
        rows = list(table.rows)
        kinds = [column.kind for column in table.columns]
        changed = []
        for index in range(count):
            at = index * _DIGEST_CHARS
            if old_rows[at : at + _DIGEST_CHARS] != new_rows[at : at + _DIGEST_CHARS]:
                changed.append(index)
                continue
            written = _row_values(kinds, rows[index])
            if any(
                not _same(held.values[col][index], _as_read(written[col])) for col in checked[1:]
            ):
                changed.append(index)
        api = ws.api
        grown = len(new_ids) > count
        top = table.first_row + 1
        if grown:  # formats first: what is written in a text (@) cell stays text
            first = table.first_row + count + table.spare_rows + 1
            _table_formats(api, table, first, table.last_row + table.spare_rows)
        for start, end in _runs([*changed, *range(count, len(new_ids))]):
            for chunk in range(start, end + 1, CHUNK_ROWS):
                last = min(chunk + CHUNK_ROWS - 1, end)
                block = [_row_values(kinds, rows[i]) for i in range(chunk, last + 1)]
                ws.range((top + chunk + 1, table.first_col + 1)).value = block
        if grown:  # dropdowns, conditional formats and the filter reach the new rows
            for validation in sheet.validations:
                add_validation(ws, validation, separator)
            if sheet.cond_formats:
                with contextlib.suppress(Exception):
                    api.Cells.FormatConditions.Delete()
            if sheet.freeze or sheet.cond_formats:
                self._activated(ws, sheet)
            if table.autofilter and table.columns:
                _set(api, "AutoFilterMode", False)
                right = table.first_col + len(table.columns) - 1
                api.Range(
                    address(table.first_row, table.first_col, table.last_row, right)
                ).AutoFilter()
        api.Visible = XL_SHEET_VISIBLE
        return True

    def save(self) -> None:
        try:
            self.book.save()
        except Exception as exc:
            raise WorkbookError(
                "No se pudo guardar el libro en Excel; guárdelo con Ctrl+G y, si falla, revise "
                "que la carpeta permita escribir",
                file=self.path,
            ) from exc

    def _find(self, name: str) -> Any | None:
        """The sheet named ``name`` (Excel's names ignore case), or None."""
        entry = self._index().get(name.casefold())
        return entry[1] if entry is not None else None

    def _add(self, name: str, after: Any | None) -> Any:
        sheets = self._index()
        if after is not None:
            added = self.book.sheets.add(name, after=after)
        else:
            first = next((sheet for _name, sheet in sheets.values()), None)
            added = (
                self.book.sheets.add(name, before=first)
                if first is not None
                else (self.book.sheets.add(name))
            )
        sheets[name.casefold()] = (name, added)
        self._ordered = False
        return added

    def _draw_sheet(self, ws: Any, sheet: Sheet, separator: str) -> None:
        api = ws.api
        _set(api, "AutoFilterMode", False)
        self._delete_charts(ws)
        ws.clear()
        try:  # Clear takes them too on current Excel versions; be sure
            api.Cells.FormatConditions.Delete()
            api.Cells.Validation.Delete()
        except Exception:
            pass
        api.Visible = XL_SHEET_VISIBLE
        if sheet.tab_color:
            api.Tab.Color = bgr(sheet.tab_color)
        self._layout(ws, sheet)
        if sheet.freeze or sheet.cond_formats:
            self._activated(ws, sheet)
        for block in _blocks(sheet):
            ws.range((block.top + 1, block.left + 1)).value = block.rows
        self._cell_styles(ws, sheet.cells)
        for validation in sheet.validations:
            add_validation(ws, validation, separator)
        for table in sheet.tables:
            if table.autofilter and table.columns:
                last = max(table.last_row, table.first_row + 1)
                right = table.first_col + len(table.columns) - 1
                api.Range(address(table.first_row, table.first_col, last, right)).AutoFilter()
        for chart in sheet.charts:
            try:
                add_chart(ws, chart)
            except Exception:  # best effort: the data and the indicator are there anyway
                self.problems.append(
                    f"No se pudo dibujar el gráfico «{chart.title}» de la hoja «{sheet.name}»"
                )
        if sheet.protect:
            protect(ws, sheet.password)

    def _layout(self, ws: Any, sheet: Sheet) -> None:
        """Column widths, number formats, header style and the editable (unlocked) columns."""
        api = ws.api
        for table in sheet.tables:
            header = address(
                table.first_row,
                table.first_col,
                table.first_row,
                table.first_col + len(table.columns) - 1,
            )
            apply_props(api.Range(header), STYLE_PROPS["header"])
            api.Rows(table.first_row + 1).RowHeight = 30
            _table_formats(api, table, table.first_row + 1, table.last_row + table.spare_rows)
        widths = sheet_widths(sheet)
        for width in dict.fromkeys(widths.values()):  # one call for the columns of each width
            for start, end in _runs(col for col, w in widths.items() if w == width):
                api.Range(address(0, start, 0, end)).ColumnWidth = width
        if sheet.print_setup is not None:
            print_setup(api, sheet.print_setup)

    def _activated(self, ws: Any, sheet: Sheet) -> None:
        """What needs the sheet active: freeze panes and conditional formats."""
        ws.activate()
        window = self.book.api.Windows(1)  # the master's own window, whatever is active
        window.FreezePanes = False
        window.SplitRow = 0
        window.SplitColumn = 0
        if sheet.freeze:
            rows, cols = sheet.freeze
            window.ScrollRow = 1
            window.ScrollColumn = 1
            window.SplitRow = rows
            window.SplitColumn = cols
            window.FreezePanes = True
        scratch = ws.api.Range(address(0, _right_edge(sheet) + 2))
        for cond in sheet.cond_formats:
            add_cond_format(ws, cond, scratch)

    def _cell_styles(self, ws: Any, cells: Iterable[Cell]) -> None:
        by_style: dict[str, list[str]] = {}
        for cell in cells:
            if cell.style:
                by_style.setdefault(cell.style, []).append(address(cell.row, cell.col))
            elif cell.kind in _KIND_FORMATS:
                by_style.setdefault(cell.kind, []).append(address(cell.row, cell.col))
        for style, cells_of in by_style.items():
            props = STYLE_PROPS.get(style)
            if props:
                for union in _unions(cells_of):
                    apply_props(ws.api.Range(union), props)

    def _delete_charts(self, ws: Any) -> None:
        try:
            charts = ws.api.ChartObjects()
            if int(_get(charts, "Count", 0)):
                charts.Delete()
        except Exception:
            self.problems.append(f"No se pudo borrar el gráfico anterior de «{ws.name}»")


# -- object-model helpers (one COM concern each; the tests' fake records them) -----------------
def _get(obj: Any, name: str, default: Any) -> Any:
    try:
        return getattr(obj, name)
    except Exception:
        return default


def _set(obj: Any, name: str, value: Any) -> None:
    with contextlib.suppress(Exception):
        setattr(obj, name, value)


def apply_props(com_range: Any, props: dict[str, Any]) -> None:
    """Set dotted properties (``"Font.Bold"``) on a COM range; colours from hex."""
    for path, value in props.items():
        target = com_range
        *parents, last = path.split(".")
        for part in parents:
            target = getattr(target, part)
        if last == "Color" and isinstance(value, str):
            value = bgr(value)
        setattr(target, last, value)


def add_validation(ws: Any, validation: Validation, separator: str) -> None:
    """A list dropdown with a stop alert (``Range.Validation.Add``)."""
    choices = validation.choices
    source = separator.join(choices) if choices else (validation.source or "")
    target = ws.api.Range(
        address(
            validation.first_row, validation.first_col, validation.last_row, validation.last_col
        )
    ).Validation
    target.Delete()
    target.Add(
        Type=XL_VALIDATE_LIST, AlertStyle=XL_VALID_ALERT_STOP, Operator=XL_BETWEEN, Formula1=source
    )
    target.IgnoreBlank = True
    target.InCellDropdown = True
    target.ShowError = True
    target.ErrorTitle = validation.title[:32]
    target.ErrorMessage = validation.message[:255]


def add_cond_format(ws: Any, cond: CondFormat, scratch: Any) -> None:
    """A formula conditional format; the sheet must be active.

    ``FormatConditions.Add`` reads its formula in the user's formula language and relative to
    the active cell: the formula goes through a scratch cell (``Formula`` in, ``FormulaLocal``
    out) and the range's top-left cell is selected first.
    """
    local = cond.formula
    try:
        scratch.Formula = cond.formula
        local = str(scratch.FormulaLocal) or cond.formula
    finally:
        scratch.ClearContents()
    target = ws.api.Range(address(cond.first_row, cond.first_col, cond.last_row, cond.last_col))
    target.Cells(1, 1).Select()
    condition = target.FormatConditions.Add(Type=XL_EXPRESSION, Formula1=local)
    props = STYLE_PROPS.get(cond.style, {})
    for path in ("Interior.Color", "Font.Color"):
        if path in props:
            apply_props(condition, {path: props[path]})


def print_setup(api: Any, setup: PrintSetup) -> None:
    """Orientation, one page wide and the header rows on every page (``PageSetup``)."""
    page = api.PageSetup
    if setup.landscape:
        page.Orientation = XL_LANDSCAPE
    if setup.fit_width:
        page.Zoom = False
        page.FitToPagesWide = 1
        page.FitToPagesTall = False
    if setup.repeat_rows:
        page.PrintTitleRows = f"$1:${setup.repeat_rows}"


def _table_formats(api: Any, table: Table, first: int, last: int) -> None:
    """Number formats, text (``@``) and the editable look of a table's rows ``first`` to
    ``last`` (0-based)."""
    if last < first:
        return
    for offset, column in enumerate(table.columns):
        col = table.first_col + offset
        fmt = _KIND_FORMATS.get(column.kind)
        if fmt:
            api.Range(address(first, col, last, col)).NumberFormat = fmt
    for start, end in _runs(
        table.first_col + i for i, c in enumerate(table.columns) if c.kind == "text"
    ):  # before the values: text written or typed there stays text
        api.Range(address(first, start, last, end)).NumberFormat = "@"
    for start, end in _runs(table.first_col + i for i, c in enumerate(table.columns) if c.editable):
        apply_props(api.Range(address(first, start, last, end)), _EDITABLE_PROPS)


def _header_width(api: Any) -> int:
    """Columns up to the last filled cell of row 1 (0 when row 1 is empty)."""
    found = api.Rows(1).Find(
        What="*", LookIn=XL_FORMULAS, SearchOrder=XL_BY_COLUMNS, SearchDirection=XL_PREVIOUS
    )
    return int(found.Column) if found is not None else 0


def _last_row(api: Any, width: int) -> int:
    """The last row with a filled cell in the first ``width`` columns."""
    block = api.Range(api.Cells(1, 1), api.Cells(api.Rows.Count, width))
    found = block.Find(
        What="*", LookIn=XL_FORMULAS, SearchOrder=XL_BY_ROWS, SearchDirection=XL_PREVIOUS
    )
    return int(found.Row) if found is not None else 0


def protect(ws: Any, password: str) -> None:
    """Protect the sheet; unlocked (editable) cells stay editable, sort and filter allowed."""
    ws.api.Protect(
        Password=password,
        DrawingObjects=True,
        Contents=True,
        Scenarios=True,
        UserInterfaceOnly=True,
        AllowFormattingColumns=True,
        AllowFormattingRows=True,
        AllowInsertingRows=True,
        AllowDeletingRows=True,
        AllowSorting=True,
        AllowFiltering=True,
    )


def add_chart(ws: Any, chart: Chart) -> None:
    """A line chart (``ChartObjects().Add``) anchored at the spec's cell."""
    anchor = ws.range((chart.anchor_row + 1, chart.anchor_col + 1))
    holder = ws.api.ChartObjects().Add(
        anchor.left, anchor.top, chart.width * PIXELS_TO_POINTS, chart.height * PIXELS_TO_POINTS
    )
    native = holder.Chart
    native.ChartType = XL_LINE
    for series in chart.series:
        line = native.SeriesCollection().NewSeries()
        line.Name = series.name
        line.Values = series.values
        line.XValues = chart.categories
        line.MarkerStyle = XL_MARKER_DASH if series.dash else XL_MARKER_CIRCLE
        if series.dash:  # a target: one day still shows it
            line.MarkerSize = 12
        fmt = line.Format.Line
        fmt.ForeColor.RGB = bgr(series.color)
        fmt.Weight = 2.25
        if series.dash:
            fmt.DashStyle = MSO_LINE_DASH
    native.HasTitle = True
    native.ChartTitle.Text = chart.title
    native.HasLegend = True
    native.Legend.Position = XL_LEGEND_BOTTOM
    if chart.dates:
        native.Axes(XL_CATEGORY_AXIS).TickLabels.NumberFormat = chart.dates
    if chart.y_percent:
        axis = native.Axes(XL_VALUE_AXIS)
        axis.MinimumScale = 0
        axis.MaximumScale = 1
        axis.TickLabels.NumberFormat = "0%"


def _list_separator(app_api: Any) -> str:
    """The user's list separator (``,`` or ``;``) for literal validation lists."""
    for get in (
        lambda: app_api.International(XL_LIST_SEPARATOR),
        lambda: app_api.International[XL_LIST_SEPARATOR],
    ):
        try:
            value = get()
        except Exception:
            continue
        if isinstance(value, str) and len(value) == 1:
            return value
    return ","


# -- building the blocks ---------------------------------------------------------------------
def _skip_existing(sheet: Sheet) -> bool:
    """``xlwings.conf`` is only written when missing: xlwings is running from it. A sheet the
    spec reuses is already what it should be."""
    return sheet.name == L.SHEET_XLWINGS or sheet.reused


def _active_name(book: Any) -> str | None:
    try:
        return str(book.sheets.active.name)
    except Exception:
        return None


def _right_edge(sheet: Sheet) -> int:
    edges = [t.first_col + len(t.columns) - 1 for t in sheet.tables]
    edges += [c.col for c in sheet.cells]
    edges += [c.last_col for c in sheet.cond_formats]
    return max(edges, default=0)


def _runs(columns: Iterable[int]) -> list[tuple[int, int]]:
    """Consecutive columns as (first, last) runs."""
    runs: list[tuple[int, int]] = []
    for col in sorted(columns):
        if runs and runs[-1][1] == col - 1:
            runs[-1] = (runs[-1][0], col)
        else:
            runs.append((col, col))
    return runs


def _unions(addresses: Sequence[str]) -> list[str]:
    """``"A1,B2,…"`` union addresses, each short enough for ``Range()``."""
    out: list[str] = []
    current = ""
    for item in addresses:
        candidate = f"{current},{item}" if current else item
        if len(candidate) > _MAX_ADDRESS and current:
            out.append(current)
            current = item
        else:
            current = candidate
    if current:
        out.append(current)
    return out


def cell_value(value: Any, *, kind: str | None = None, formula: str | None = None) -> Any:
    """What goes into the ``.value`` block for one cell."""
    if formula is not None:
        return formula
    value = _plain(value)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return as_text(value)
    if kind == "text" and not isinstance(value, bool | dt.date | dt.datetime):
        return as_text(str(value))
    return value


def _grid(sheet: Sheet, *, body: bool = True) -> dict[tuple[int, int], Any]:
    """Every value the sheet writes by (row, col); without ``body``, the tables' rows are left
    out (their headers stay)."""
    cells: dict[tuple[int, int], Any] = {}
    for cell in sheet.cells:
        cells[(cell.row, cell.col)] = cell_value(cell.value, kind=cell.kind, formula=cell.formula)
    for table in sheet.tables:
        _table_cells(table, cells, body=body)
    return cells


def _table_cells(table: Table, cells: dict[tuple[int, int], Any], *, body: bool = True) -> None:
    for offset, column in enumerate(table.columns):
        cells[(table.first_row, table.first_col + offset)] = cell_value(column.header)
    if not body:
        return
    kinds = [column.kind for column in table.columns]
    for index, row in enumerate(table.rows):
        r = table.first_row + 1 + index
        for offset, written in enumerate(_row_values(kinds, row)):
            if written is not None:
                cells[(r, table.first_col + offset)] = written


def _row_values(kinds: Sequence[str], row: Sequence[Any]) -> list[Any]:
    """What is written for one table row, a value per column (None: the cell stays empty)."""
    out: list[Any] = [None] * len(kinds)
    for offset, value in enumerate(row[: len(kinds)]):
        if kinds[offset] == "text":  # a text (@) cell: Excel keeps what is written
            out[offset] = _text_cell(value)
        else:
            out[offset] = cell_value(value, kind=kinds[offset])
    return out


def _text_cell(value: Any) -> str | None:
    value = _plain(value)
    if value is None or value == "":
        return None
    text = str(value)[:_MAX_TEXT]
    return "'" + text if text.startswith("'") else text  # Excel eats one leading apostrophe


def _blocks(sheet: Sheet) -> list[_Block]:
    """The sheet's values as rectangular blocks of at most :data:`CHUNK_ROWS` rows."""
    cells = _grid(sheet)
    if not cells:
        return []
    top = min(r for r, _ in cells)
    bottom = max(r for r, _ in cells)
    left = min(c for _, c in cells)
    right = max(c for _, c in cells)
    width = right - left + 1
    blocks: list[_Block] = []
    for start in range(top, bottom + 1, CHUNK_ROWS):
        end = min(start + CHUNK_ROWS - 1, bottom)
        rows = [[None] * width for _ in range(end - start + 1)]
        blocks.append(_Block(start, left, rows))
    for (r, c), value in cells.items():
        block = blocks[(r - top) // CHUNK_ROWS]
        block.rows[r - block.top][c - left] = value
    return blocks


# -- what a draw notes, to write only what changed the next time -------------------------------
#: The defined name holding the mark of the last draw (see :func:`drawn_notes`): the notes
#: describe the book only while it holds their mark (not a book reopened from an older file,
#: not a draw that stopped half way).
DRAWN_NAME = "SWAT_DIBUJO"
_DIGEST_CHARS = 12
_CODE = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=6).hexdigest()


def _redrawable(sheet: Sheet) -> bool:
    """A sheet of records whose rows may be written one by one: one table from A1 led by the
    records' IDs, nothing the draw would have to protect again or draw around."""
    if sheet.role not in ("agent", "records") or sheet.reused or sheet.protect or sheet.charts:
        return False
    if len(sheet.tables) != 1:
        return False
    table = sheet.tables[0]
    return (
        (table.first_row, table.first_col) == (0, 0)
        and bool(table.columns)
        and table.columns[0].header == L.ID_HEADER
        and all(_as_id(row[0] if row else None) is not None for row in table.rows)
    )


def drawn_notes(spec: WorkbookSpec) -> dict[str, Any]:
    """What drawing ``spec`` leaves in the sheets of records, for the next draw: per sheet a
    digest of everything but its rows ("frame"), its records' IDs in order and a digest of each
    row; and a mark of it all, also left in the book (:data:`DRAWN_NAME`)."""
    sheets: dict[str, Any] = {}
    for sheet in spec.sheets:
        if not _redrawable(sheet):
            continue
        table = sheet.tables[0]
        kinds = [column.kind for column in table.columns]
        sheets[sheet.name] = {
            "frame": _frame(sheet),
            "ids": [_as_id(row[0]) for row in table.rows],
            "rows": "".join(_digest(repr(_row_values(kinds, row))) for row in table.rows),
        }
    if not sheets:
        return {}
    mark = hashlib.sha256(json.dumps(sheets, sort_keys=True).encode()).hexdigest()[:32]
    return {"mark": mark, "sheets": sheets}


def _frame(sheet: Sheet) -> str:
    """A digest of what a sheet of records shows besides its rows (its ranges measured from
    the last row, which moves as rows are appended) and of this drawing code."""
    table = sheet.tables[0]
    end = table.last_row

    def moved(item: Validation | CondFormat) -> tuple[int, int, int, int]:
        return (item.first_row, item.first_col, item.last_row - end, item.last_col)

    parts = [
        _CODE,
        sheet.name,
        repr(list(table.columns)),
        table.autofilter,
        table.spare_rows,
        repr(sheet.cells),
        repr(sorted(sheet.widths.items())),
        sheet.freeze,
        sheet.tab_color,
        sheet.hidden,
        repr(sheet.print_setup),
        sheet.role,
        repr([(*moved(v), v.choices, v.source, v.title, v.message) for v in sheet.validations]),
        repr([(*moved(c), c.formula, c.style) for c in sheet.cond_formats]),
    ]
    return _digest(json.dumps(parts, default=str))


def _checked_columns(table: Table) -> list[int]:
    """The columns read back before a row is left as it is: the ID first, then those a person
    types in (the marks, and «Base»'s last outcome)."""
    return [
        table.first_col + index
        for index, column in enumerate(table.columns)
        if index == 0 or column.editable or column.field in MARK_FIELDS
    ]


def _header_row(sheet: Sheet) -> list[Any]:
    """Row 1 as Excel reads it back after the sheet is drawn (to its last filled cell)."""
    cells = {
        key: value
        for key, value in _grid(sheet, body=False).items()
        if key[0] == 0 and value is not None
    }
    width = max((c for _, c in cells), default=-1) + 1
    row = [""] * width
    for (_, col), value in cells.items():
        row[col] = _as_read(value)
    while row and row[-1] == "":
        row.pop()
    return row


def _as_id(value: Any) -> int | None:
    """A record's ID as written or read back (Excel holds numbers as floats)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _as_read(written: Any) -> Any:
    """What Excel gives back for a value written by the draw: text without the apostrophe
    that keeps it text, numbers as floats, ``""`` for an empty cell."""
    if written is None:
        return ""
    if isinstance(written, str):
        return written[1:] if written.startswith("'") else written
    if isinstance(written, bool):
        return written
    if isinstance(written, int | float):
        return float(written)
    if isinstance(written, dt.date) and not isinstance(written, dt.datetime):
        return dt.datetime(written.year, written.month, written.day)
    return written


def _same(held: Any, expected: Any) -> bool:
    """Whether a cell read back holds what the draw would write (a time to the second)."""
    if isinstance(held, dt.datetime) and isinstance(expected, dt.datetime):
        return abs((held - expected).total_seconds()) < 1
    if isinstance(expected, float) and not isinstance(held, bool | str):
        return isinstance(held, int | float) and float(held) == expected
    return type(held) is type(expected) and held == expected
