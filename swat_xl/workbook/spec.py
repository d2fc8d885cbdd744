"""A description of a workbook that any adapter can draw: sheets, tables, cells, formats.

The layout modules build these plain objects from ledger frames; the openpyxl/XlsxWriter file
adapter and the xlwings live adapter draw them. No Excel library is imported here.

Rows and columns are 0-based like XlsxWriter; :func:`a1` converts to Excel references.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from swat_xl.core.cells import a1 as a1  # re-exported: layouts build references with it
from swat_xl.core.cells import col_letter as col_letter

# Cell kinds a column can have. ``text`` is always written as a string, never as a formula
# (and its cells are text cells, so what a person types there stays text too); ``value`` keeps
# each value's own type (numbers as numbers, text as text) in a General cell.
KINDS = ("text", "int", "number", "datetime", "date", "pct", "formula", "value")

#: Narrowest column (Excel width units) that shows a value of each kind without «###».
MIN_WIDTHS = {"datetime": 16.5, "date": 11.0}

# Named styles every adapter understands.
STYLES = (
    "header",  # bold, filled, wrapped
    "title",  # large bold
    "subtitle",  # bold
    "note",  # grey italic
    "good",  # green fill
    "bad",  # red fill
    "warn",  # orange fill
    "pct",  # 0.0 %
    "big_pct",  # large 0.0 %
    "int",
    "number",
    "datetime",
    "date",
)


# What each named style looks like, in neutral terms each adapter translates to its library.
# Colours are hex RGB.
STYLE_LOOKS: dict[str, dict[str, Any]] = {
    "header": {
        "bold": True,
        "fill": "#1F4E78",
        "font_color": "#FFFFFF",
        "wrap": True,
        "vcenter": True,
        "border": True,
    },
    "title": {"bold": True, "font_size": 16, "font_color": "#1F4E78"},
    "subtitle": {"bold": True},
    "note": {"italic": True, "font_color": "#595959"},
    "good": {"fill": "#C6EFCE", "font_color": "#006100"},
    "bad": {"fill": "#FFC7CE", "font_color": "#9C0006"},
    "warn": {"fill": "#FFEB9C", "font_color": "#9C5700"},
    "pct": {"num_format": "0.0%"},
    "big_pct": {"num_format": "0.0%", "bold": True, "font_size": 18},
    "int": {"num_format": "0"},
    "number": {"num_format": "0.0"},
    "datetime": {"num_format": "dd/mm/yyyy hh:mm"},
    "date": {"num_format": "dd/mm/yyyy"},
}
assert set(STYLE_LOOKS) == set(STYLES)


def quote_sheet(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


@dataclass(frozen=True)
class Column:
    header: str
    width: float = 14
    kind: str = "text"
    editable: bool = False
    choices: tuple[str, ...] | None = None  # dropdown (list validation with an error alert)
    field: str | None = None  # ledger / frame field this column shows


def header_width(header: str) -> float:
    """Width a wrapped bold header needs so that no word breaks inside (and the autofilter
    button has room)."""
    longest = max((len(word) for word in header.split()), default=0)
    return round(longest * 1.2 + 3, 1)


def column_width(column: Column) -> float:
    """The column's width, widened for its kind (no «###») and its header's longest word."""
    return max(column.width, MIN_WIDTHS.get(column.kind, 0), header_width(column.header))


class ColumnRows(Sequence[tuple[Any, ...]]):
    """A table's data rows held column by column (equal-length lists): each row is made as
    it is read. Drawn from frames, a table's data are columns, and the file writer writes
    them by column: rows made only to be taken apart again cost a second on a big master.

    ``plain[i]`` says that column ``i`` holds only text, integers and blanks (``None``)."""

    __slots__ = ("columns", "length", "plain")

    def __init__(
        self, columns: Sequence[Sequence[Any]], plain: Sequence[bool] | None = None
    ) -> None:
        lengths = {len(values) for values in columns}
        if len(lengths) > 1:
            raise ValueError(f"columns of different lengths: {sorted(lengths)}")
        self.columns = list(columns)
        self.length = lengths.pop() if lengths else 0
        self.plain = tuple(plain) if plain is not None else (False,) * len(self.columns)
        if len(self.plain) != len(self.columns):
            raise ValueError("one plain flag a column")

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return list(zip(*(values[index] for values in self.columns), strict=True))
        if not -self.length <= index < self.length:
            raise IndexError("row index out of range")
        return tuple(values[index] for values in self.columns)

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return zip(*self.columns, strict=True)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(
            tuple(mine) == tuple(theirs) for mine, theirs in zip(self, other, strict=True)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ColumnRows({len(self.columns)} columns, {self.length} rows)"


@dataclass
class Table:
    """A header row plus data rows, starting at ``(first_row, first_col)``."""

    columns: Sequence[Column]
    rows: Sequence[Sequence[Any]]
    first_row: int = 0
    first_col: int = 0
    autofilter: bool = True
    # Dropdowns and the editable look extend this many rows below the data, so rows a user
    # inserts or adds at the end still get them.
    spare_rows: int = 500
    # A digest of each data row's content (8 bytes a row, in row order) and of what every row
    # depends on besides its values (``rows_context``): rows whose digests are unchanged may be
    # copied from the last workbook written instead of drawn again. Empty: no digests.
    row_keys: bytes = field(default=b"", repr=False, compare=False)
    rows_context: str = ""

    @property
    def last_row(self) -> int:
        return self.first_row + len(self.rows)

    def column_index(self, header: str) -> int:
        for index, column in enumerate(self.columns):
            if column.header == header:
                return self.first_col + index
        raise KeyError(header)


@dataclass(frozen=True)
class Cell:
    row: int
    col: int
    value: Any = None
    style: str | None = None
    formula: str | None = None  # "=…"; value is then the cached result (may be None)
    kind: str | None = None  # override the type guess ("text" forces a string)


@dataclass(frozen=True)
class Validation:
    first_row: int
    first_col: int
    last_row: int
    last_col: int
    choices: tuple[str, ...] | None = None
    source: str | None = None  # a range formula such as "=$H$3:$H$11"
    title: str = "Valor no válido"
    message: str = "Elija un valor de la lista."


@dataclass(frozen=True)
class CondFormat:
    first_row: int
    first_col: int
    last_row: int
    last_col: int
    formula: str  # relative to the top-left cell, e.g. '=AND($A2<>"",$O2="")'
    style: str  # "bad" | "warn" | "good"


@dataclass(frozen=True)
class Series:
    name: str
    values: str  # "='Indicador'!$C$40:$C$69"
    color: str = "#1F77B4"
    dash: bool = False  # a target: dashed line, and a dash at each point (one day shows too)


@dataclass(frozen=True)
class Chart:
    title: str
    categories: str
    series: tuple[Series, ...]
    anchor_row: int
    anchor_col: int
    y_percent: bool = True
    dates: str | None = None  # number format of date categories (e.g. "dd/mm")
    width: int = 720
    height: int = 320


@dataclass(frozen=True)
class PrintSetup:
    """How a sheet prints: orientation, one page wide, header rows repeated on every page."""

    landscape: bool = False
    fit_width: bool = True
    repeat_rows: int = 0  # the first N rows print on every page


@dataclass
class Sheet:
    name: str
    tables: list[Table] = field(default_factory=list)
    cells: list[Cell] = field(default_factory=list)
    widths: dict[int, float] = field(default_factory=dict)
    freeze: tuple[int, int] | None = None
    validations: list[Validation] = field(default_factory=list)
    cond_formats: list[CondFormat] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    protect: bool = False
    password: str = ""
    tab_color: str | None = None
    hidden: bool = False
    print_setup: PrintSetup | None = None
    role: str = "owned"  # owned | agent | user (carried over from the previous workbook)
    # The sheet is exactly as in the workbook being rewritten (or in the copy the tool kept of
    # the last workbook it wrote, see ``WorkbookSpec.copy_from``): a file writer copies it from
    # there (only its name and role are set). Decided by the services from the ledger.
    reused: bool = False


def sheet_widths(sheet: Sheet) -> dict[int, float]:
    """Final width of every column the sheet sizes: the tables' columns (first table wins),
    then the explicit ``widths``, never narrower than a table column there needs."""
    widths: dict[int, float] = {}
    needed: dict[int, float] = {}
    for table in sheet.tables:
        for offset, column in enumerate(table.columns):
            col = table.first_col + offset
            widths.setdefault(col, column_width(column))
            needed[col] = max(
                needed.get(col, 0), MIN_WIDTHS.get(column.kind, 0), header_width(column.header)
            )
    widths.update(sheet.widths)
    return {col: max(width, needed.get(col, 0)) for col, width in sorted(widths.items())}


@dataclass
class WorkbookSpec:
    sheets: list[Sheet]
    names: dict[str, str] = field(default_factory=dict)  # defined name -> "=Sheet!$B$2"
    active: str | None = None
    # Where ``reused`` sheets are copied from: "workbook" (the file being rewritten) or
    # "written" (the tool's own copy of the last workbook it wrote).
    copy_from: str = "workbook"
    # A digest of what each sheet drawn from the records shows (by sheet name): equal digests,
    # equal sheets (see ``layout.build_master``).
    sheet_keys: dict[str, str] = field(default_factory=dict)

    def sheet(self, name: str) -> Sheet:
        for sheet in self.sheets:
            if sheet.name == name:
                return sheet
        raise KeyError(name)
