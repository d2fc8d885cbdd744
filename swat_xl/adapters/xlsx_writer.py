"""The master workbook written with XlsxWriter, the data rows of its tables streamed by
:mod:`swat_xl.adapters.xlsx_rows`.

:func:`render` draws a whole :class:`~swat_xl.workbook.spec.WorkbookSpec` into a file. Text is
always written as text (never as a formula, number or link). Sheets marked ``reused`` are
copied, as compressed bytes, from the previous workbook.

Every cell format is numbered in a fixed order, so ``styles.xml`` depends on this code only,
never on what the sheets hold, and a sheet part written by one render is valid in the package
of another. XlsxWriter numbers formats as cells first use them; so, before any other cell, each
format is used once, in order, on a scratch worksheet that is the package's last. After
XlsxWriter closes, the style number of each format is read back from that sheet's XML (the
streamed rows need them) and the sheet is taken out of the package (:func:`_without_scratch`).
Only XlsxWriter's public API is used, but for one thing: the worksheets are a subclass
(:class:`_Worksheet`, given to ``add_worksheet``) that keeps what ``_prepare_formula`` made of
a formula, the same text for the same formula (should a new XlsxWriter rename the method, the
formulas are only prepared each time again).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import heapq
import io
import json
import re
import zipfile
from collections.abc import Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import xlsxwriter
import xlsxwriter.worksheet

from swat_xl.adapters import xlsx_rows
from swat_xl.adapters.packages import SheetPart, sheet_parts
from swat_xl.errors import WorkbookError
from swat_xl.workbook.spec import (
    STYLE_LOOKS,
    Chart,
    PrintSetup,
    Sheet,
    Table,
    WorkbookSpec,
    sheet_widths,
)

_MAX_TEXT = 32767
STREAM_TABLES = True  # False: every cell through XlsxWriter (tests compare both ways)
#: Name of the scratch worksheet (taken out of the package; numbered if a sheet has the name).
SCRATCH_SHEET = "swat_xl formatos"

_XLSXWRITER_KEYS = {"fill": "bg_color", "wrap": "text_wrap"}


def _xlsxwriter_props(look: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for key, value in look.items():
        if key == "vcenter":
            props["valign"] = "vcenter"
        elif key == "border":
            props["border"] = 1
        else:
            props[_XLSXWRITER_KEYS.get(key, key)] = value
    return props


_STYLE_PROPS: dict[str, dict[str, Any]] = {
    name: _xlsxwriter_props(look) for name, look in STYLE_LOOKS.items()
}
_KIND_STYLE = {
    "datetime": "datetime",
    "date": "date",
    "pct": "pct",
    "int": "int",
    "number": "number",
}


Key = tuple[str | None, str | None, bool]  # (style, kind, unlocked)


class _Formats:
    """The workbook's cell formats, one per (style, kind, unlocked), numbered in a fixed order.

    :meth:`register` uses each of them once, in :meth:`keys` order, on the scratch worksheet,
    before any other cell is written: XlsxWriter numbers a format (``styles.xml``) when a cell
    first uses it, so the numbers depend on this code only. :meth:`read_numbers` reads them
    back from the scratch sheet's XML once XlsxWriter has closed the workbook."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.book = book
        self.cache: dict[Key, Any] = {}
        self.props: dict[Key, tuple[tuple[str, Any], ...]] = {}
        self.numbers: dict[tuple[tuple[str, Any], ...], int] = {}  # by properties

    @staticmethod
    def keys() -> Iterator[Key]:
        for style in (None, *STYLE_LOOKS):
            for kind in (None, "text", *_KIND_STYLE):
                for unlocked in (False, True):
                    yield style, kind, unlocked

    def register(self, scratch: Any) -> None:
        """Use every format once on ``scratch`` (one per row, in order), then the default date
        format (XlsxWriter's for a date written without format); conditional formats get their
        own numbers (dxf), in style order, when they are added."""
        row = 0
        for key in self.keys():
            fmt = self.get(*key)
            if fmt is not None:
                scratch.write_blank(row, 0, None, fmt)
                row += 1
        scratch.write_datetime(row, 0, dt.datetime(2000, 1, 1))
        scratch.write_number(row + 1, 0, 0)  # writes out the row before (constant memory)
        for style in STYLE_LOOKS:
            scratch.conditional_format(
                0, 1, 0, 1, {"type": "formula", "criteria": "FALSE", "format": self.get(style)}
            )

    def read_numbers(self, scratch_xml: str) -> None:
        """The style number of each registered format, from the scratch sheet's cells."""
        found = {int(r): int(n) for r, n in _SCRATCH_CELL.findall(scratch_xml)}
        row = 1
        for key in self.keys():
            if self.cache[key] is not None:
                if row not in found:
                    raise RuntimeError(f"format {key} was not numbered on the scratch sheet")
                self.numbers.setdefault(self.props[key], found[row])
                row += 1

    def number(self, key: Key) -> int | None:
        """XlsxWriter's xf index of a cell written with this format (None: no format). A kind
        without a look of its own (``text``) has the number of the registered format with the
        same properties."""
        if self.get(*key) is None:
            return None
        try:
            return self.numbers[self.props[key]]
        except KeyError:
            raise RuntimeError(f"format {key} is not registered") from None

    def get(self, style: str | None, kind: str | None = None, unlocked: bool = False) -> Any:
        key = (style, kind, unlocked)
        if key not in self.cache:
            props: dict[str, Any] = {}
            if kind in _KIND_STYLE:
                props.update(_STYLE_PROPS[_KIND_STYLE[kind]])
            elif kind == "text":
                props["num_format"] = "@"  # what a person types there stays text
            if style:
                props.update(_STYLE_PROPS.get(style, {}))
            if unlocked:
                props["locked"] = False
                props.setdefault("bg_color", "#FFF9E6")
                props["border"] = 1
                props["border_color"] = "#D9D9D9"
            self.cache[key] = self.book.add_format(props) if props else None
            self.props[key] = tuple(sorted(props.items()))
        return self.cache[key]


class _Worksheet(xlsxwriter.worksheet.Worksheet):
    """XlsxWriter's worksheet, which prepares each distinct formula once for the whole render,
    and a formula none of XlsxWriter's rewrites applies to without running them.

    XlsxWriter runs a regular expression over a formula for each of its newer functions (some
    thirty, three hundred for a conditional format's), and every agent's sheet has the same
    conditional formats: a 150k-record master spent 0.4 s in them, and a month's indicator
    (three hundred distinct formulas, one a row) 0.2 s. The result depends on the formula,
    the flag and the worksheet's ``use_future_functions`` only, so it is kept; and a formula
    none of those expressions matches (:func:`_rewrites`, each tried only where the formula
    holds its name) is the formula as XlsxWriter strips it."""

    _prepared: ClassVar[dict[tuple[str, bool, bool], str]] = {}

    def _prepare_formula(self, formula: str, expand_future_functions: bool = False) -> str:
        key = (formula, bool(expand_future_functions), bool(self.use_future_functions))
        prepared = self._prepared.get(key)
        if prepared is None:
            rewrites = _rewrites()
            stripped = _stripped(formula)
            if rewrites is not None and (
                "_xlfn." in stripped
                or not any(name in stripped and rx.search(stripped) for name, rx in rewrites)
            ):
                prepared = stripped  # no rewrite applies: XlsxWriter would return it as is
            else:
                prepared = super()._prepare_formula(formula, expand_future_functions)
            if len(self._prepared) >= _PREPARED_KEPT:
                self._prepared.clear()
            self._prepared[key] = prepared
        return prepared


def _stripped(formula: str) -> str:
    """The formula without its leading ``=`` and array braces, as XlsxWriter strips it."""
    if formula.startswith("{"):
        formula = formula[1:]
    if formula.startswith("="):
        formula = formula[1:]
    if formula.endswith("}"):
        formula = formula[:-1]
    return formula


@lru_cache(maxsize=1)
def _rewrites() -> tuple[tuple[str, re.Pattern[str]], ...] | None:
    """The expressions XlsxWriter's ``_prepare_formula`` substitutes (recorded as it prepares a
    formula with every rewrite on), each with a text a match must hold (the longest run of
    letters of its name), checked before the expression is run. ``None`` when an expression
    is not of the form these are (``\\bNAME\\(``, ``.`` for any character) or the method
    does anything else with ``re``: then every formula is prepared by XlsxWriter."""
    real = xlsxwriter.worksheet.re
    patterns: list[Any] = []
    unknown: list[str] = []

    class Recording:
        def __getattr__(self, name: str) -> Any:
            unknown.append(name)
            return getattr(real, name)

        def sub(self, pattern: Any, repl: Any, string: str, *args: Any, **kwargs: Any) -> str:
            patterns.append(pattern if not args and not kwargs else None)
            return real.sub(pattern, repl, string, *args, **kwargs)

    probe = xlsxwriter.worksheet.Worksheet()
    probe.use_future_functions = True
    xlsxwriter.worksheet.re = Recording()  # type: ignore[assignment]
    try:
        probe._prepare_formula("=0", True)
    except Exception:  # an XlsxWriter this does not know: each formula is prepared by it
        return None
    finally:
        xlsxwriter.worksheet.re = real
    if unknown or not patterns:
        return None
    rewrites = []
    for pattern in patterns:
        shape = _REWRITE.fullmatch(pattern) if isinstance(pattern, str) else None
        if shape is None:
            return None
        name = max(shape.group(1).split("."), key=len)
        if not name:
            return None
        rewrites.append((name, re.compile(pattern)))
    return tuple(rewrites)


#: A rewrite's expression: a word boundary (or any one character, as XlsxWriter's
#: ``\\SINGLE\\(`` has it), a name whose dots match any character, an opening parenthesis.
_REWRITE = re.compile(r"\\[bS]([A-Za-z0-9_.]+)\\\(")


_PREPARED_KEPT = 10_000  # formulas kept prepared (the master has a few hundred distinct ones)

_Streamed = tuple[xlsx_rows.Block, list[Key]]  # a streamed table and its columns' formats
_SCRATCH_CELL = re.compile(r'<c r="A(\d+)" s="(\d+)"/>')


def render(
    spec: WorkbookSpec,
    target: Path,
    *,
    vba_project: bytes | None = None,
    previous: Path | None = None,
    rows_from: Path | None = None,
    drawn: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Write ``spec`` into ``target``; sheets marked ``reused`` are copied from ``previous``.

    Returns what it notes about the tables' rows it streamed (:func:`rows_notes`), by sheet.
    Given ``drawn``, those notes as the render that wrote ``rows_from`` returned them, the
    rows of a table whose digest is unchanged, at the same place, are copied from there."""
    options = {
        "constant_memory": True,
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
        "default_date_format": "dd/mm/yyyy hh:mm",
        "remove_timezone": True,
    }
    # XlsxWriter writes everything but the tables' data rows into ``base``; the rows are then
    # streamed into a copy of it (see xlsx_rows). Both files start with ``.swat-tmp-`` when
    # ``target`` does, so an interrupted run leaves nothing the next one does not clean.
    base = target.with_name(target.name + ".xw")
    try:
        return _render(spec, target, base, options, vba_project, previous, rows_from, drawn)
    finally:
        base.unlink(missing_ok=True)


def _render(
    spec: WorkbookSpec,
    target: Path,
    base: Path,
    options: dict[str, Any],
    vba_project: bytes | None,
    previous: Path | None,
    rows_from: Path | None,
    drawn: Mapping[str, Any] | None,
) -> dict[str, Any]:
    old_parts = _previous_parts(spec, previous)
    book = xlsxwriter.Workbook(str(base), options)
    book.set_properties(
        {"title": "SWAT Detractores", "author": "swat_xl", "created": dt.datetime(2021, 12, 7)}
    )
    book.set_calc_mode("auto")
    if vba_project is not None:
        book.add_vba_project(io.BytesIO(vba_project), is_stream=True)
    # Every worksheet first, then the scratch one: it is the last part, the others keep the
    # numbers they would have without it.
    worksheets = [book.add_worksheet(sheet.name, _Worksheet) for sheet in spec.sheets]
    if not worksheets:
        worksheets.append(book.add_worksheet())  # as XlsxWriter does for a workbook without any
    scratch_name, n = SCRATCH_SHEET, 1
    taken = {sheet.name.casefold() for sheet in spec.sheets}
    while scratch_name.casefold() in taken:
        n += 1
        scratch_name = f"{SCRATCH_SHEET} {n}"
    formats = _Formats(book)
    formats.register(book.add_worksheet(scratch_name))
    streamed: list[_Streamed] = []
    reused: dict[str, str] = {}  # part in the new package -> part of the same sheet in previous
    for index, (sheet, ws) in enumerate(zip(spec.sheets, worksheets, strict=False)):
        if sheet.reused:
            _draw_placeholder(ws, old_parts[sheet.name], sheet.print_setup)
            reused[_sheet_part(index + 1)] = old_parts[sheet.name].part
        else:
            streamed.extend(_draw_sheet(book, ws, index, formats, sheet))
    for name, ref in spec.names.items():
        book.define_name(name, ref)
    if spec.active:
        active = book.get_worksheet_by_name(spec.active)
        if active is not None:
            active.activate()
    try:
        book.close()
    except Exception as exc:  # XlsxWriter raises its own exception types
        raise WorkbookError(f"No se pudo escribir el libro ({exc})", file=target) from exc
    scratch = len(worksheets) + 1
    with zipfile.ZipFile(base) as package:
        formats.read_numbers(package.read(_sheet_part(scratch)).decode("utf-8"))
        edited = _without_scratch(package, scratch, scratch_name)
    for block, keys in streamed:
        block.styles = [formats.number(key) for key in keys]
    blocks = [block for block, _ in streamed]
    notes = _keep_rows(spec, blocks, rows_from, drawn or {})
    xlsx_rows.splice(
        base,
        target,
        blocks,
        reused=reused,
        previous=previous,
        replaced=edited,
        dropped={_sheet_part(scratch)},
        rows_from=rows_from,
    )
    for name, block in notes.items():
        notes[name] = {**rows_notes(block), "copied": block.copied}
    return notes


def _keep_rows(
    spec: WorkbookSpec,
    blocks: list[xlsx_rows.Block],
    rows_from: Path | None,
    drawn: Mapping[str, Any],
) -> dict[str, xlsx_rows.Block]:
    """The blocks noted (one a sheet, with row digests), by sheet name; each whose sheet
    ``drawn`` notes under the same layout gets the rows to copy from ``rows_from``: those whose
    digest is the one noted at the same place (``keep``)."""
    by_sheet: dict[str, list[xlsx_rows.Block]] = {}
    for block in blocks:
        by_sheet.setdefault(spec.sheets[block.sheet_index].name, []).append(block)
    noted = {
        name: found[0]
        for name, found in by_sheet.items()
        if len(found) == 1 and len(found[0].table.row_keys) == 8 * len(found[0].table.rows)
    }
    if rows_from is None or not drawn or not noted:
        return noted
    with zipfile.ZipFile(rows_from) as package:
        parts = sheet_parts(package)
    for name, block in noted.items():
        before = drawn.get(name)
        if not isinstance(before, Mapping) or name not in parts:
            continue
        if before.get("layout") != rows_layout(block) or not isinstance(before.get("keys"), str):
            continue
        try:
            old = np.frombuffer(base64.b64decode(before["keys"], validate=True), dtype="<u8")
        except (ValueError, TypeError):
            continue
        new = np.frombuffer(block.table.row_keys, dtype="<u8")
        same = min(len(old), len(new))
        keep = np.zeros(len(new), dtype=bool)
        keep[:same] = old[:same] == new[:same]
        if keep.any():
            block.keep, block.old_part, block.old_count = keep, parts[name].part, len(old)
    return noted


def rows_notes(block: xlsx_rows.Block) -> dict[str, Any]:
    """What the next render needs to copy this block's rows: the digest of its layout and
    the digest of each row (base64, 8 bytes a row)."""
    return {
        "layout": rows_layout(block),
        "keys": base64.b64encode(block.table.row_keys).decode("ascii"),
    }


def rows_layout(block: xlsx_rows.Block) -> str:
    """A digest of everything a streamed row's XML depends on besides its values and its
    number: the rows' context (the code and settings that turned records into values), the
    columns, where the table starts, the style numbers, XlsxWriter's version and the code
    writing the rows. Rows of blocks with different layouts are never taken for each other."""
    table = block.table
    parts = [
        _ROWS_CODE,
        xlsxwriter.__version__,
        table.rows_context,
        table.first_row,
        table.first_col,
        repr(list(table.columns)),
        block.styles,
        block.text_columns,
    ]
    return hashlib.sha256(json.dumps(parts, default=str).encode("utf-8")).hexdigest()


#: This writer's code and the rows writer's: a change of either draws every row again.
_ROWS_CODE = hashlib.sha256(
    Path(__file__).read_bytes() + Path(xlsx_rows.__file__).read_bytes()
).hexdigest()


def _sheet_part(number: int) -> str:
    """XlsxWriter's part of its ``number``-th worksheet (1-based)."""
    return f"xl/worksheets/sheet{number}.xml"


_WORKSHEET_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
_WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_REL_ID = re.compile(r'Id="rId(\d+)"')
_TITLES = re.compile(r'<TitlesOfParts><vt:vector size="(\d+)" baseType="lpstr">')


def _without_scratch(package: zipfile.ZipFile, number: int, name: str) -> dict[str, bytes]:
    """The parts of XlsxWriter's package that name the scratch worksheet ``name`` (its
    ``number``-th, the last), as XlsxWriter writes them for the same workbook without it.

    The edits are exact texts: should a new XlsxWriter write these parts differently, this
    raises instead of leaving the sheet half removed."""
    part = _sheet_part(number).removeprefix("xl/")
    title = f"<vt:lpstr>{name}</vt:lpstr>"  # nothing to escape in the name
    heading = "<vt:lpstr>Worksheets</vt:lpstr></vt:variant><vt:variant><vt:i4>{}</vt:i4>"
    removed = {
        "xl/workbook.xml": f'<sheet name="{name}" sheetId="{number}" r:id="rId{number}"/>',
        "xl/_rels/workbook.xml.rels": (
            f'<Relationship Id="rId{number}" Type="{_WORKSHEET_REL}" Target="{part}"/>'
        ),
        "[Content_Types].xml": f'<Override PartName="/xl/{part}" ContentType="{_WORKSHEET_TYPE}"/>',
        "docProps/app.xml": title,
    }
    edited: dict[str, str] = {}
    for part_name, piece in removed.items():
        text = package.read(part_name).decode("utf-8")
        if text.count(piece) != 1:
            raise RuntimeError(f"unexpected {part_name} from XlsxWriter: cannot remove {piece!r}")
        edited[part_name] = text.replace(piece, "")
    # The relationships after the sheet's move down by one, as if it had never been added.
    edited["xl/_rels/workbook.xml.rels"] = _REL_ID.sub(
        lambda m: f'Id="rId{int(m[1]) - 1}"' if int(m[1]) > number else m[0],
        edited["xl/_rels/workbook.xml.rels"],
    )
    app = edited["docProps/app.xml"]
    titles = _TITLES.search(app)
    if app.count(heading.format(number)) != 1 or titles is None:
        raise RuntimeError("unexpected docProps/app.xml from XlsxWriter: cannot count sheets")
    app = f"{app[: titles.start(1)]}{int(titles[1]) - 1}{app[titles.end(1) :]}"
    edited["docProps/app.xml"] = app.replace(heading.format(number), heading.format(number - 1))
    return {part_name: text.encode("utf-8") for part_name, text in edited.items()}


def _previous_parts(spec: WorkbookSpec, previous: Path | None) -> dict[str, SheetPart]:
    """The parts of ``previous`` holding the sheets ``spec`` reuses (each must be there)."""
    wanted = [sheet.name for sheet in spec.sheets if sheet.reused]
    if not wanted:
        return {}
    if previous is None:
        raise ValueError("reused sheets need the previous workbook")
    with zipfile.ZipFile(previous) as package:
        parts = sheet_parts(package)
    missing = [name for name in wanted if name not in parts or parts[name].has_rels]
    if missing:
        raise ValueError(f"sheets that cannot be reused from {previous.name}: {missing}")
    return parts


def _draw_placeholder(ws: Any, old: SheetPart, setup: PrintSetup | None = None) -> None:
    """An empty worksheet standing for a reused one: it gives the workbook part the sheet's
    name, visibility, filter range and print titles; its own part is then replaced by the old
    one (which holds the rest of its print setup)."""
    if old.filter_ref:
        ws.autofilter(old.filter_ref)
    if old.hidden:
        ws.hide()
    if setup is not None and setup.repeat_rows:
        ws.repeat_rows(0, setup.repeat_rows - 1)


def _streamed_tables(sheet: Sheet, index: int, formats: _Formats) -> list[_Streamed]:
    """Tables whose data rows can be streamed: plain values, rows no other write touches.

    Their blocks get the style numbers of their columns once XlsxWriter has closed."""
    if not STREAM_TABLES:
        return []
    taken: list[tuple[int, int, int]] = [(c.row, c.row, -1) for c in sheet.cells]
    for position, table in enumerate(sheet.tables):
        taken.append((table.first_row, table.first_row, -1))
        taken.append((table.first_row + 1, table.last_row, position))
    blocks = []
    for position, table in enumerate(sheet.tables):
        first, last = table.first_row + 1, table.last_row
        if any(lo <= last and first <= hi and owner != position for lo, hi, owner in taken):
            continue
        keys: list[Key] = [(None, c.kind, c.editable) for c in table.columns]
        columns = xlsx_rows.streamable(table, [formats.get(*key) for key in keys])
        if columns is not None:
            text = [c.kind == "text" for c in table.columns]
            blocks.append((xlsx_rows.Block(index, table, columns, [], text), keys))
    return blocks


def _events(
    sheet: Sheet,
    formats: _Formats,
    streamed: set[int] = frozenset(),  # type: ignore[assignment]
) -> Iterator[tuple[int, int, int, Any, Any, str | None, str | None]]:
    """Cell writes of a sheet in row order: (row, order, col, value, format, kind, formula).

    Tables whose ``id`` is in ``streamed`` contribute their header only."""
    streams = [
        _table_events(table, formats, rows=id(table) not in streamed) for table in sheet.tables
    ]
    streams.append(
        iter(
            sorted(
                (
                    (c.row, 1, c.col, c.value, formats.get(c.style, c.kind), c.kind, c.formula)
                    for c in sheet.cells
                ),
                key=lambda e: (e[0], e[2]),
            )
        )
    )
    return heapq.merge(*streams, key=lambda e: (e[0], e[1]))


def _table_events(
    table: Table, formats: _Formats, rows: bool = True
) -> Iterator[tuple[int, int, int, Any, Any, str | None, str | None]]:
    header = formats.get("header")
    for offset, column in enumerate(table.columns):
        yield (table.first_row, 0, table.first_col + offset, column.header, header, "text", None)
    if not rows:
        return
    cell_formats = [formats.get(None, c.kind, c.editable) for c in table.columns]
    kinds = [c.kind for c in table.columns]
    for index, row in enumerate(table.rows):
        r = table.first_row + 1 + index
        for offset, value in enumerate(row):
            if value is None or value == "":
                continue
            yield (r, 0, table.first_col + offset, value, cell_formats[offset], kinds[offset], None)


def _write(
    ws: Any, r: int, c: int, value: Any, fmt: Any, kind: str | None, formula: str | None
) -> None:
    if formula is not None:
        ws.write_formula(r, c, formula, fmt, value if value is not None else 0)
        return
    if value is None or value == "":
        if fmt is not None:
            ws.write_blank(r, c, None, fmt)
        return
    if isinstance(value, bool):
        ws.write_boolean(r, c, value, fmt)
    elif isinstance(value, dt.datetime | dt.date) and not isinstance(value, dt.time):
        ws.write_datetime(r, c, value, fmt)
    elif isinstance(value, int | float) and kind != "text":
        ws.write_number(r, c, value, fmt)
    else:
        ws.write_string(r, c, str(value)[:_MAX_TEXT], fmt)


def _draw_sheet(
    book: xlsxwriter.Workbook, ws: Any, index: int, formats: _Formats, sheet: Sheet
) -> list[_Streamed]:
    """Draw a sheet on ``ws``, the ``index``-th worksheet (0-based); returns the tables whose
    data rows are left to :mod:`xlsx_rows`."""
    blocks = _streamed_tables(sheet, index, formats)
    if sheet.tab_color:
        ws.set_tab_color(sheet.tab_color)
    widths = sheet_widths(sheet)
    for table in sheet.tables:
        for offset, column in enumerate(table.columns):
            col = table.first_col + offset
            fmt = formats.get(None, column.kind, column.editable)
            ws.set_column(col, col, widths[col], fmt)
    for col in sheet.widths:  # explicit widths also clear the tables' column formats
        ws.set_column(col, col, widths[col])
    if sheet.print_setup is not None:
        _print_setup(ws, sheet.print_setup)
    for table in sheet.tables:
        ws.set_row(table.first_row, 30)
        if table.autofilter and table.columns:
            ws.autofilter(
                table.first_row,
                table.first_col,
                max(table.last_row, table.first_row + 1),
                table.first_col + len(table.columns) - 1,
            )
    if sheet.freeze:
        ws.freeze_panes(*sheet.freeze)
    for event in _events(sheet, formats, {id(block.table) for block, _ in blocks}):
        r, _order, c, value, fmt, kind, formula = event
        _write(ws, r, c, value, fmt, kind, formula)
    for v in sheet.validations:
        options: dict[str, Any] = {
            "validate": "list",
            "error_type": "stop",
            "error_title": v.title[:32],
            "error_message": v.message[:255],
            "ignore_blank": True,
        }
        options["source"] = list(v.choices) if v.choices else v.source
        ws.data_validation(v.first_row, v.first_col, v.last_row, v.last_col, options)
    for cf in sheet.cond_formats:
        ws.conditional_format(
            cf.first_row,
            cf.first_col,
            cf.last_row,
            cf.last_col,
            {"type": "formula", "criteria": cf.formula, "format": formats.get(cf.style)},
        )
    for chart in sheet.charts:
        _draw_chart(book, ws, chart)
    if sheet.protect:
        ws.protect(
            sheet.password,
            {
                "autofilter": True,
                "sort": True,
                "format_columns": True,
                "format_rows": True,
                "insert_rows": True,
                "delete_rows": True,
                "select_locked_cells": True,
                "select_unlocked_cells": True,
            },
        )
    if sheet.hidden:
        ws.hide()
    return blocks


def _print_setup(ws: Any, setup: PrintSetup) -> None:
    if setup.landscape:
        ws.set_landscape()
    if setup.fit_width:
        ws.fit_to_pages(1, 0)
    if setup.repeat_rows:
        ws.repeat_rows(0, setup.repeat_rows - 1)


def _draw_chart(book: xlsxwriter.Workbook, ws: Any, chart: Chart) -> None:
    native = book.add_chart({"type": "line"})
    for series in chart.series:
        line: dict[str, Any] = {"color": series.color, "width": 2.25}
        if series.dash:
            line["dash_type"] = "dash"
        native.add_series(
            {
                "name": series.name,
                "categories": chart.categories,
                "values": series.values,
                "line": line,
                "marker": {"type": "long_dash", "size": 12} if series.dash else {"type": "circle"},
            }
        )
    native.set_title({"name": chart.title})
    if chart.dates:
        native.set_x_axis({"num_format": chart.dates, "num_font": {"rotation": -45}})
    if chart.y_percent:
        native.set_y_axis({"num_format": "0%", "min": 0, "max": 1})
    native.set_legend({"position": "bottom"})
    native.set_size({"width": chart.width, "height": chart.height})
    ws.insert_chart(chart.anchor_row, chart.anchor_col, native)
