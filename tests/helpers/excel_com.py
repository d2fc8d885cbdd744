"""A strict model of Excel's COM object model, for the ``.api`` calls of the live adapter.

Every member access is checked against Excel's type library (``tests/excel_model/typelib.json``,
generated from ``@types/activex-excel`` by ``tests/excel_model/generate.py``): an unknown member,
a parameter name the member does not have, too many arguments, a value outside the enum a
parameter or property is typed with, or a write to a read-only property raises
:class:`ObjectModelError` *and* is recorded in :attr:`Excel.violations` (code that swallows COM
errors cannot hide it: the tests assert the list is empty).

Members this module implements behave like Excel where swat_xl depends on it:

* a string written through ``Range.Value`` is typed as Excel types what a person enters
  (:func:`typed`): numbers with either decimal separator, percentages, leading zeros dropped,
  dates and times in English and Spanish (``"Mar 3"``, ``"3-Jan"``, ``"Jun 2024"``, ``"12:30
  pm"``), error literals (``"#N/A"``), booleans (``"TRUE"``, ``"VERDADERO"``) and formulas
  (``"=1+1"``), unless the cell's number format is text (``@``) or the string starts with an
  apostrophe (Excel's text prefix, not stored);
* sheet protection: writing a locked cell of a protected sheet fails unless the sheet was
  protected with ``UserInterfaceOnly`` (macros only); sorting as a *user* (:meth:`Excel.as_user`)
  fails when the range holds a locked cell, whatever ``AllowSorting`` says; filtering as a user
  needs ``AllowFiltering``;
* ``Select`` fails unless the sheet is the active sheet of the active workbook;
* ``UsedRange`` spans values, formulas, formatted cells, validations and conditional formats
  (and does not shrink when they are cleared until the book is saved, as in Excel);
* ``Application.International(xlListSeparator)`` is ``;``, the decimal separator ``,`` (Colombia);
  ``FormulaLocal`` is the Spanish formula; ``FormatConditions.Add`` reads its formula relative
  to the active cell of the active window.

Members the type library has and this module does not implement are *generic*: property values
are kept (objects of the declared class are created on first access), methods are recorded in
:attr:`Excel.calls` and return an object of their declared class.

Costs are counted (:attr:`Excel.counts`): one COM call per property get, property put or method
call, and the cells each ``Value`` read or write moves.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

TYPELIB_PATH = Path(__file__).resolve().parents[1] / "excel_model" / "typelib.json"
MAX_ROWS = 1_048_576
MAX_COLS = 16_384
_PRIMITIVE_ANY = frozenset({"any", "unknown", "T", "object", "Variant", "array", "SafeArray"})


@cache
def typelib() -> dict[str, Any]:
    return json.loads(TYPELIB_PATH.read_text(encoding="utf-8"))


def enum_value(enum: str, member: str) -> int:
    return int(typelib()["enums"][enum][member])


# -- errors ---------------------------------------------------------------------------------
class ComError(Exception):
    """What pywin32 raises for an Excel error (``pywintypes.com_error``'s shape)."""

    def __init__(self, description: str, hresult: int = -2147352567) -> None:
        super().__init__(hresult, "Ocurrió una excepción.", (0, "Microsoft Excel", description))
        self.description = description

    def __str__(self) -> str:
        return self.description


class ObjectModelError(ComError, AttributeError):
    """A call Excel's type library does not allow (unknown member, wrong parameter, bad enum)."""


# -- counting -------------------------------------------------------------------------------
@dataclass
class Counts:
    """What an operation cost: COM round trips and cells moved through ``Value``."""

    com_calls: int = 0
    cells_read: int = 0
    cells_written: int = 0
    by_member: Counter[str] = field(default_factory=Counter)

    def snapshot(self) -> Counts:
        return Counts(self.com_calls, self.cells_read, self.cells_written, Counter(self.by_member))


# -- Excel's typing of entered text -----------------------------------------------------------
@dataclass(frozen=True)
class ErrorValue:
    """A cell error (``#N/A``…); COM returns its integer code."""

    text: str

    @property
    def code(self) -> int:
        return CELL_ERRORS[self.text]


CELL_ERRORS = {
    "#DIV/0!": -2146826281,
    "#N/A": -2146826246,
    "#NAME?": -2146826259,
    "#NULL!": -2146826288,
    "#NUM!": -2146826252,
    "#REF!": -2146826265,
    "#VALUE!": -2146826273,
}
_MONTH_NAMES = (
    "jan feb mar apr may jun jul aug sep oct nov dec",
    "ene feb mar abr may jun jul ago sep oct nov dic",
    "january february march april may june july august september october november december",
    "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
)
_MONTHS = {name: i for names in _MONTH_NAMES for i, name in enumerate(names.split(), 1)}
_NUMBER = re.compile(r"^\(?[-+]?\$?\s*(\d{1,3}([.,]\d{3})+|\d+)?([.,]\d+)?([eE][-+]?\d+)?\s*%?\)?$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([ap]\.?\s?m\.?)?$", re.I)
_AMPM = re.compile(r"^(\d{1,2})\s*([ap]\.?\s?m\.?)$", re.I)
_DMY = re.compile(r"^(\d{1,4})[/\-.](\d{1,2})(?:[/\-.](\d{1,4}))?(?:\s+(.+))?$")
_DAY_MONTH = re.compile(r"^(\d{1,2})[\s\-/]+([a-záéíóú]+)\.?(?:[\s\-/,]+(\d{2,4}))?$", re.I)
_MONTH_DAY = re.compile(r"^([a-záéíóú]+)\.?[\s\-/]+(\d{1,4})(?:,?\s+(\d{2,4}))?$", re.I)
_BOOLEANS = {"TRUE": True, "FALSE": False, "VERDADERO": True, "FALSO": False}
EPOCH = dt.datetime(1899, 12, 30)


@dataclass(frozen=True)
class Formula:
    text: str
    cached: Any = None  # the result saved with the file (None: not calculated here)


def _year(text: str | None, default: int) -> int:
    if not text:
        return default
    year = int(text)
    return year + (2000 if year < 30 else 1900) if year < 100 else year


def _number(text: str) -> float | None:
    compact = text.replace(" ", "").replace("\u00a0", "")
    if not _NUMBER.match(compact) or not any(ch.isdigit() for ch in compact):
        return None
    negative = compact.startswith("(") and compact.endswith(")")
    compact = compact.strip("()").replace("$", "")
    percent = compact.endswith("%")
    compact = compact.rstrip("%")
    # Colombian locale: «,» decimal, «.» thousands; a lone «.» with other than 3 digits after
    # it is read as a decimal point too (Excel falls back to the other separator).
    if "," in compact and "." in compact:
        compact = compact.replace(".", "").replace(",", ".")
    elif compact.count(",") == 1:
        compact = compact.replace(",", ".")
    elif compact.count(".") > 1 or re.fullmatch(r"[-+]?\d{1,3}(,\d{3})+", compact):
        compact = compact.replace(".", "").replace(",", "")
    try:
        value = float(compact)
    except ValueError:
        return None
    value = -value if negative else value
    return value / 100 if percent else value


def _time(text: str) -> dt.datetime | None:
    match = _TIME.match(text) or _AMPM.match(text)
    if not match:
        return None
    groups = match.groups()
    hour = int(groups[0])
    minute = int(groups[1]) if len(groups) == 4 else 0
    second = int(groups[2] or 0) if len(groups) == 4 else 0
    marker = (groups[-1] or "").lower().replace(".", "").replace(" ", "")
    if marker == "pm" and hour < 12:
        hour += 12
    elif marker == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59 or second > 59:
        return None
    return EPOCH.replace(hour=hour, minute=minute, second=second)


def _date(text: str, today: dt.date) -> dt.datetime | None:
    try:
        if match := _DMY.match(text):
            a, b, c, rest = match.groups()
            if len(a) == 4:  # ISO: yyyy-mm-dd
                year, month, day = int(a), int(b), int(c or 1)
            else:  # Colombian order: dd/mm[/yyyy]
                day, month, year = int(a), int(b), _year(c, today.year)
            moment = dt.datetime(year, month, day)
            if rest:
                clock = _time(rest.strip())
                if clock is None:
                    return None
                moment = moment.replace(hour=clock.hour, minute=clock.minute)
            return moment
        if match := _DAY_MONTH.match(text):
            day, name, year = match.groups()
            month = _MONTHS.get(name.lower())
            return dt.datetime(_year(year, today.year), month, int(day)) if month else None
        if match := _MONTH_DAY.match(text):
            name, number, year = match.groups()
            month = _MONTHS.get(name.lower())
            if not month:
                return None
            if len(number) == 4 or (int(number) > 31 and not year):  # «Jun 2024»
                return dt.datetime(_year(number, today.year), month, 1)
            return dt.datetime(_year(year, today.year), month, int(number))
    except ValueError:
        return None
    return None


def typed(value: Any, number_format: str = "General", today: dt.date | None = None) -> Any:
    """What Excel stores when ``value`` is written to a cell through ``Range.Value``.

    Returns ``None`` (empty), a float, a bool, a datetime, a str, an :class:`ErrorValue` or a
    :class:`Formula`.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, dt.time):
        return EPOCH.replace(hour=value.hour, minute=value.minute, second=value.second)
    text = str(value)
    if text.startswith("'"):
        return text[1:] or None
    if number_format == "@":
        return text
    stripped = text.strip()
    if stripped.startswith("=") and len(stripped) > 1:
        return Formula(stripped)
    if stripped.upper() in CELL_ERRORS:
        return ErrorValue(stripped.upper())
    if stripped.upper() in _BOOLEANS:
        return _BOOLEANS[stripped.upper()]
    number = _number(stripped)
    if number is not None:
        return number
    moment = _time(stripped) or _date(stripped, today or dt.date.today())
    if moment is not None:
        return moment
    if stripped[:1] in "+-" and len(stripped) > 1 and not stripped[1:2].isspace():
        return Formula("=" + stripped)
    return text


_SPANISH = {
    "COUNTIFS": "CONTAR.SI.CONJUNTO",
    "COUNTIF": "CONTAR.SI",
    "COUNTA": "CONTARA",
    "SUMPRODUCT": "SUMAPRODUCTO",
    "SUMIFS": "SUMAR.SI.CONJUNTO",
    "SUM": "SUMA",
    "ISNUMBER": "ESNUMERO",
    "ISBLANK": "ESBLANCO",
    "IFERROR": "SI.ERROR",
    "IF": "SI",
    "AND": "Y",
    "OR": "O",
    "NOT": "NO",
    "NOW": "AHORA",
    "TODAY": "HOY",
    "LEN": "LARGO",
    "TRIM": "ESPACIOS",
    "HYPERLINK": "HIPERVINCULO",
}
_FUNCTION = re.compile(r"\b([A-Z][A-Z0-9.]*)\(")


def spanish(formula: str) -> str:
    """``Range.FormulaLocal`` of ``formula`` in a Spanish (Colombia) Excel."""
    out, quoted = [], False
    for part in re.split(r'("[^"]*")', formula):
        quoted = part.startswith('"') and part.endswith('"') and len(part) > 1
        if quoted:
            out.append(part)
            continue
        part = re.sub(r"(\d)\.(\d)", r"\1#DEC#\2", part)
        part = part.replace(",", ";").replace("#DEC#", ",")
        part = _FUNCTION.sub(lambda m: _SPANISH.get(m[1], m[1]) + "(", part)
        out.append(part)
    return "".join(out)


# -- addresses ------------------------------------------------------------------------------
_A1 = re.compile(r"^\$?([A-Z]{1,3})?\$?(\d+)?$")


def col_name(index: int) -> str:
    out = ""
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def parse_area(text: str) -> tuple[int, int, int, int]:
    """``"B2"``, ``"B2:D9"``, ``"A:C"``, ``"1:1"`` as (r1, c1, r2, c2)."""
    parts = text.replace("$", "").split(":")
    corners = []
    for part in parts:
        match = _A1.match(part.strip().upper())
        if not match or not (match[1] or match[2]):
            raise ComError(f"Error en el método Range: «{text}» no es una referencia")
        corners.append(
            (int(match[2]) if match[2] else None, col_index(match[1]) if match[1] else None)
        )
    (r1, c1), (r2, c2) = corners[0], corners[-1]
    if r1 is None:  # columns "A:C"
        return 1, c1 or 1, MAX_ROWS, c2 or c1 or 1
    if c1 is None:  # rows "1:3"
        return r1, 1, r2 or r1, MAX_COLS
    return min(r1, r2 or r1), min(c1, c2 or c1), max(r1, r2 or r1), max(c1, c2 or c1)


def area_address(r1: int, c1: int, r2: int, c2: int) -> str:
    if c1 == 1 and c2 == MAX_COLS:
        return f"${r1}:${r2}"
    if r1 == 1 and r2 == MAX_ROWS:
        return f"${col_name(c1)}:${col_name(c2)}"
    start = f"${col_name(c1)}${r1}"
    return start if (r1, c1) == (r2, c2) else f"{start}:${col_name(c2)}${r2}"


# -- the strict COM base ----------------------------------------------------------------------
class _Missing:
    pass


MISSING = _Missing()


def _fits(value: Any, types: list[str]) -> bool:
    """Whether ``value`` can be passed where the type library declares ``types``."""
    if value is None or value is MISSING:
        return True
    lib = typelib()
    enums, classes = lib["enums"], lib["classes"]
    allowed: set[int] = set()
    only_enums = True
    only_classes = True
    for name in types:
        base, _, member = name.partition(".")
        if base in enums:
            allowed |= {enums[base][member]} if member else set(enums[base].values())
            only_classes = False
            continue
        only_enums = False
        if name in classes:
            if isinstance(value, Com) and name in value._classes:
                return True
            continue
        only_classes = False
        if name in _PRIMITIVE_ANY or name not in {"number", "string", "boolean", "true", "false"}:
            return True
        if name == "number" and isinstance(value, int | float):
            return True
        if name == "boolean" and isinstance(value, bool | int):
            return True
        if name in ("true", "false") and value is (name == "true"):
            return True
        if name == "string" and not isinstance(value, Com):
            return True
    if only_enums and allowed:
        return isinstance(value, int | float) and not isinstance(value, bool) and value in allowed
    if only_classes:
        return False
    return bool(allowed) and isinstance(value, int) and value in allowed


class Com:
    """An object of one of Excel's classes; every public member is checked and counted."""

    #: The type-library class(es) this object is.
    CLASS: tuple[str, ...] = ()

    def __init__(self, excel: Excel, *classes: str) -> None:
        object.__setattr__(self, "_excel", excel)
        object.__setattr__(self, "_classes", classes or self.CLASS)
        object.__setattr__(self, "_props", {})

    # what the type library says ---------------------------------------------------------
    def _member(self, name: str) -> Any:
        classes = typelib()["classes"]
        for cls in self._classes:
            member = classes.get(cls, {}).get(name)
            if member is not None:
                return member
        raise self._excel.violation(
            f"{'/'.join(self._classes)} no tiene el miembro «{name}» en el modelo de objetos"
        )

    def _check_call(self, name: str, overloads: list, args: tuple, kwargs: dict) -> list[str]:
        problems = []
        for params, returns in overloads:
            names = [p[0].rstrip("?") for p in params]
            variadic = bool(names) and names[-1] == "..."
            if len(args) > len(names) and not variadic:
                problems.append(f"{len(args)} argumentos para {len(names)} parámetros")
                continue
            unknown = [k for k in kwargs if k not in names or names.index(k) < len(args)]
            if unknown:
                problems.append(f"parámetros desconocidos {unknown} (admite {names})")
                continue
            bound = dict(zip(names, args, strict=False)) | kwargs
            types = {p[0].rstrip("?"): p[1] for p in params}
            wrong = [f"{k}={v!r}" for k, v in bound.items() if not _fits(v, types.get(k, ["any"]))]
            if wrong:
                problems.append(f"valores fuera de su tipo: {', '.join(wrong)}")
                continue
            return returns
        where = f"{'/'.join(self._classes)}.{name}"
        raise self._excel.violation(f"{where}: llamada no válida ({'; '.join(problems)})")

    # attribute protocol -----------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        member = self._member(name)
        where = f"{self._classes[0]}.{name}"
        getter = getattr(type(self), f"get_{name}", None)
        if isinstance(member, list) and getter is None:  # a method: counted when called
            return _Bound(self, name, member)
        if "p" in member and hasattr(type(self), f"call_{name}"):
            return _Bound(self, name, [[member["p"], member["t"]]])
        self._excel.count(where)  # a property (pywin32 reads ``Address`` & co. as one too)
        if getter is not None:
            return getter(self)
        if name in self._props:
            return self._props[name]
        return self._default(name, member["t"])

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_") or name[0].islower():  # the model's own (Python) state
            object.__setattr__(self, name, value)
            return
        member = self._member(name)
        where = f"{self._classes[0]}.{name}"
        if isinstance(member, list) or member.get("ro"):
            raise self._excel.violation(f"{where} es de solo lectura")
        if not _fits(value, member["t"]):
            raise self._excel.violation(f"{where} no admite el valor {value!r} ({member['t']})")
        self._excel.count(where)
        setter = getattr(type(self), f"set_{name}", None)
        if setter is not None:
            setter(self, value)
        else:
            self._props[name] = value
            self._changed(name, value)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        for name in ("_Default", "Item"):
            try:
                member = self._member(name)
            except ObjectModelError:
                self._excel.violations.pop()
                continue
            if isinstance(member, list):
                return _Bound(self, name, member)(*args, **kwargs)
        raise self._excel.violation(f"{self._classes[0]} no se puede llamar")

    def _default(self, name: str, types: list[str]) -> Any:
        classes = typelib()["classes"]
        found = [t for t in types if t in classes]
        if found:
            child = self._child(name, found)
            self._props[name] = child
            return child
        if "boolean" in types:
            return False
        if "number" in types:
            return 0
        if "string" in types:
            return ""
        return None

    def _child(self, name: str, classes: list[str]) -> Com:
        return Generic(self._excel, *classes, owner=self)

    def _changed(self, name: str, value: Any) -> None:
        """A generic property was set (formatting hooks override this)."""

    def _invoke(self, name: str, args: tuple, kwargs: dict, returns: list[str]) -> Any:
        method = getattr(type(self), f"call_{name}", None)
        if method is not None:
            return method(self, *args, **kwargs)
        self._excel.calls.append((f"{self._classes[0]}.{name}", self, args, kwargs))
        classes = [t for t in returns if t in typelib()["classes"]]
        return self._child(name, classes) if classes else None

    def __repr__(self) -> str:
        return f"<{self._classes[0]} (modelo)>"


class _Bound:
    """``obj.Method`` before it is called."""

    def __init__(self, obj: Com, name: str, overloads: list) -> None:
        self.obj, self.name, self.overloads = obj, name, overloads

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        returns = self.obj._check_call(self.name, self.overloads, args, kwargs)
        self.obj._excel.count(f"{self.obj._classes[0]}.{self.name}")
        return self.obj._invoke(self.name, args, kwargs, returns)


class Generic(Com):
    """An object the model does not implement: keeps what is set, records what is called."""

    def __init__(self, excel: Excel, *classes: str, owner: Com | None = None) -> None:
        super().__init__(excel, *classes)
        object.__setattr__(self, "_owner", owner)

    def _changed(self, name: str, value: Any) -> None:
        owner = self._owner
        while isinstance(owner, Generic):
            owner = owner._owner
        if isinstance(owner, Range):
            owner._formatted()

    def _child(self, name: str, classes: list[str]) -> Com:
        return Generic(self._excel, *classes, owner=self)


# -- the workbook state -------------------------------------------------------------------------
@dataclass
class Layer:
    """A property applied to a block of cells (later layers win)."""

    area: tuple[int, int, int, int]
    name: str
    value: Any

    def covers(self, row: int, col: int) -> bool:
        r1, c1, r2, c2 = self.area
        return r1 <= row <= r2 and c1 <= col <= c2


@dataclass
class Protection:
    password: str
    user_interface_only: bool
    allow_sorting: bool
    allow_filtering: bool


class Excel:
    """The Excel application: its workbooks, settings, counters and the violations seen."""

    LIST_SEPARATOR = ";"
    DECIMAL_SEPARATOR = ","
    THOUSANDS_SEPARATOR = "."

    def __init__(self) -> None:
        self.books: list[Workbook] = []
        self.active_book: Workbook | None = None
        self.violations: list[str] = []
        self.calls: list[tuple[str, Any, tuple, dict]] = []
        #: Every ``Value`` read and write: (kind, sheet, address, rows, cols, screen updating,
        #: calculation mode).
        self.value_log: list[tuple[str, str, str, int, int, bool, int]] = []
        self.counts = Counts()
        self.as_user_depth = 0
        self.app = Application(self)
        self.today = dt.date.today()

    # bookkeeping ------------------------------------------------------------------------
    def violation(self, text: str) -> ObjectModelError:
        self.violations.append(text)
        return ObjectModelError(text)

    def count(self, member: str) -> None:
        self.counts.com_calls += 1
        self.counts.by_member[member] += 1

    def reset_counts(self) -> None:
        self.counts = Counts()
        self.value_log.clear()
        self.calls.clear()

    def log_value(self, kind: str, target: Range) -> None:
        rows, cols = target.shape
        props = self.app._props
        self.value_log.append(
            (
                kind,
                target._sheet.title,
                area_address(*target._area),
                rows,
                cols,
                bool(props["ScreenUpdating"]),
                int(props["Calculation"]),
            )
        )

    @contextmanager
    def as_user(self) -> Iterator[None]:
        """What follows is done by a person in Excel's menus (protection applies in full)."""
        self.as_user_depth += 1
        try:
            yield
        finally:
            self.as_user_depth -= 1

    @property
    def user(self) -> bool:
        return self.as_user_depth > 0

    def open_book(self, fullname: str) -> Workbook:
        book = Workbook(self, fullname)
        self.books.append(book)
        self.active_book = book
        return book


class Application(Com):
    CLASS = ("Application",)

    def __init__(self, excel: Excel) -> None:
        super().__init__(excel)
        self._props.update(
            ScreenUpdating=True,
            Calculation=enum_value("XlCalculation", "xlCalculationAutomatic"),
            StatusBar=False,
            DisplayAlerts=True,
            EnableEvents=True,
            Cursor=enum_value("XlMousePointer", "xlDefault"),
        )

    def call_International(self, Index: int) -> Any:
        answers = {
            enum_value(
                "XlApplicationInternationalStrings", "xlListSeparator"
            ): Excel.LIST_SEPARATOR,
            enum_value(
                "XlApplicationInternationalStrings", "xlDecimalSeparator"
            ): Excel.DECIMAL_SEPARATOR,
            enum_value("XlApplicationInternationalStrings", "xlThousandsSeparator"): (
                Excel.THOUSANDS_SEPARATOR
            ),
        }
        if Index not in answers:
            raise self._excel.violation(f"International({Index!r}) no está en el modelo")
        return answers[Index]

    def get_ActiveWorkbook(self) -> Workbook | None:
        return self._excel.active_book

    def get_ActiveWindow(self) -> Window | None:
        book = self._excel.active_book
        return book.window if book else None

    def get_ActiveSheet(self) -> Worksheet | None:
        book = self._excel.active_book
        return book.active_sheet if book else None

    def get_ActiveCell(self) -> Range | None:
        sheet = self.get_ActiveSheet()
        return sheet.active_cell if sheet else None

    def get_Selection(self) -> Range | None:
        sheet = self.get_ActiveSheet()
        return sheet.selection if sheet else None


class Workbook(Com):
    CLASS = ("Workbook",)

    def __init__(self, excel: Excel, fullname: str) -> None:
        super().__init__(excel)
        self._fullname = fullname
        self._sheets: list[Worksheet] = []
        self._active: Worksheet | None = None
        self._names: dict[str, str] = {}
        self._window = Window(excel, self)
        self._props.update(ReadOnly=False)
        self._saves = 0
        self._copies: list[str] = []

    # python-side helpers ------------------------------------------------------------------
    @property
    def window(self) -> Window:
        return self._window

    @property
    def active_sheet(self) -> Worksheet | None:
        return self._active

    def sheet(self, name: str) -> Worksheet:
        for sheet in self._sheets:
            if sheet.title.casefold() == name.casefold():
                return sheet
        raise KeyError(name)

    def add_sheet(self, name: str | None = None, index: int | None = None) -> Worksheet:
        taken = {s.title.casefold() for s in self._sheets}
        if name is None:
            n = len(self._sheets) + 1
            while f"hoja{n}" in taken:
                n += 1
            name = f"Hoja{n}"
        sheet = Worksheet(self._excel, self, name)
        self._sheets.insert(len(self._sheets) if index is None else index, sheet)
        self._active = sheet
        return sheet

    # COM members -------------------------------------------------------------------------
    def get_Name(self) -> str:
        return Path(self._fullname).name

    def get_FullName(self) -> str:
        return self._fullname

    def get_Path(self) -> str:
        parent = str(Path(self._fullname).parent)
        return "" if parent in ("", ".") else parent

    def get_FileFormat(self) -> int:
        return enum_value("XlFileFormat", "xlOpenXMLWorkbookMacroEnabled")

    def get_Worksheets(self) -> SheetsCollection:
        return SheetsCollection(self._excel, self)

    get_Sheets = get_Worksheets

    def get_Names(self) -> NamesCollection:
        return NamesCollection(self._excel, self)

    def get_Application(self) -> Application:
        return self._excel.app

    def get_ActiveSheet(self) -> Worksheet | None:
        return self._active

    def get_Windows(self) -> WindowsCollection:
        return WindowsCollection(self._excel, self)

    def call_Activate(self) -> None:
        self._excel.active_book = self

    def call_Save(self) -> None:
        self._saves += 1
        for sheet in self._sheets:  # Excel recomputes the used range when saving
            sheet._shrink_used_range()

    def call_SaveCopyAs(self, Filename: str) -> None:
        import shutil

        shutil.copyfile(self._fullname, Filename)
        self._copies.append(Filename)


class WindowsCollection(Com):
    CLASS = ("Windows",)

    def __init__(self, excel: Excel, book: Workbook) -> None:
        super().__init__(excel)
        self._book = book

    def get_Count(self) -> int:
        return 1

    def call__Default(self, Index: Any) -> Window:
        if Index not in (1, self._book.get_Name()):
            raise ComError("Índice fuera del intervalo")
        return self._book.window

    call_Item = call__Default


class Window(Com):
    CLASS = ("Window",)

    def __init__(self, excel: Excel, book: Workbook) -> None:
        super().__init__(excel)
        self._book = book

    def _sheet(self) -> Worksheet:
        sheet = self._book.active_sheet
        assert sheet is not None
        return sheet

    def get_FreezePanes(self) -> bool:
        return self._sheet()._freeze is not None

    def set_FreezePanes(self, value: bool) -> None:
        sheet = self._sheet()
        sheet._freeze = (sheet._split[0], sheet._split[1]) if value else None

    def get_SplitRow(self) -> int:
        return self._sheet()._split[0]

    def set_SplitRow(self, value: int) -> None:
        sheet = self._sheet()
        sheet._split = (value, sheet._split[1])

    def get_SplitColumn(self) -> int:
        return self._sheet()._split[1]

    def set_SplitColumn(self, value: int) -> None:
        sheet = self._sheet()
        sheet._split = (sheet._split[0], value)

    def get_ActiveSheet(self) -> Worksheet:
        return self._sheet()

    def get_ActiveCell(self) -> Range:
        return self._sheet().active_cell

    def call_Activate(self) -> None:
        self._excel.active_book = self._book


class SheetsCollection(Com):
    CLASS = ("Sheets",)

    def __init__(self, excel: Excel, book: Workbook) -> None:
        super().__init__(excel)
        self._book = book

    def get_Count(self) -> int:
        return len(self._book._sheets)

    def get_Parent(self) -> Workbook:
        return self._book

    def call__Default(self, Index: Any) -> Worksheet:
        sheets = self._book._sheets
        if isinstance(Index, int):
            if not 1 <= Index <= len(sheets):
                raise ComError("Subíndice fuera del intervalo")
            return sheets[Index - 1]
        try:
            return self._book.sheet(str(Index))
        except KeyError:
            raise ComError("Subíndice fuera del intervalo") from None

    call_Item = call__Default

    def __iter__(self) -> Iterator[Worksheet]:
        for index in range(1, self.get_Count() + 1):
            self._excel.count("Sheets.Item")
            yield self.call__Default(index)

    def call_Add(
        self,
        Before: Any = None,
        After: Any = None,
        Count: Any = None,
        Type: Any = None,
    ) -> Worksheet:
        sheets = self._book._sheets
        if Before is not None:
            index = sheets.index(Before)
        elif After is not None:
            index = sheets.index(After) + 1
        else:
            index = sheets.index(self._book._active) if self._book._active else 0
        return self._book.add_sheet(None, index)


class NamesCollection(Com):
    CLASS = ("Names",)

    def __init__(self, excel: Excel, book: Workbook) -> None:
        super().__init__(excel)
        self._book = book

    def get_Count(self) -> int:
        return len(self._book._names)

    def call_Add(self, Name: str | None = None, RefersTo: Any = None, *_: Any, **__: Any) -> Com:
        if not Name or not re.fullmatch(r"[A-Za-z_\\][\w.]*", Name):
            raise ComError(f"El nombre «{Name}» no es válido")
        self._book._names[Name] = str(RefersTo)
        return self._name(Name)

    def call__Default(self, Index: Any = None, IndexLocal: Any = None, RefersTo: Any = None) -> Com:
        if isinstance(Index, int) and not isinstance(Index, bool):
            names = list(self._book._names)
            if not 1 <= Index <= len(names):
                raise ComError("Subíndice fuera del intervalo")
            return self._name(names[Index - 1])
        found = next((n for n in self._book._names if n.casefold() == str(Index).casefold()), None)
        if found is None:
            raise ComError("Subíndice fuera del intervalo")
        return self._name(found)

    call_Item = call__Default

    def _name(self, name: str) -> Com:
        found = Generic(self._excel, "Name", owner=self)
        found._props.update(Name=name, RefersTo=self._book._names[name])
        return found


class Worksheet(Com):
    CLASS = ("Worksheet",)

    def __init__(self, excel: Excel, book: Workbook, name: str) -> None:
        super().__init__(excel)
        self._book = book
        self.title = name
        self.values: dict[tuple[int, int], Any] = {}
        self.layers: list[Layer] = []
        #: Formats read from the file the book was opened from (below every layer): the
        #: cells' own, then their column's.
        self.cell_formats: dict[tuple[int, int], dict[str, Any]] = {}
        self.column_formats: dict[int, dict[str, Any]] = {}
        self.validations: list[tuple[tuple[int, int, int, int], dict[str, Any]]] = []
        self.cond_formats: list[dict[str, Any]] = []
        self.column_widths: dict[int, float] = {}
        self.row_heights: dict[int, float] = {}
        self.hyperlinks: list[dict[str, Any]] = []
        self.charts: list[Generic] = []
        self.autofilter: tuple[int, int, int, int] | None = None
        self.protection: Protection | None = None
        self.visible = True
        self._split = (0, 0)
        self._freeze: tuple[int, int] | None = None
        self._active_cell = (1, 1)
        self._selection = (1, 1, 1, 1)
        self._used: tuple[int, int, int, int] | None = None  # high-water mark until saved
        self._page_setup = Generic(excel, "PageSetup", owner=self)
        self._tab = Generic(excel, "Tab", owner=self)

    def __repr__(self) -> str:
        return f"<Worksheet {self.title!r} (modelo)>"

    # python-side helpers ------------------------------------------------------------------
    @property
    def active_cell(self) -> Range:
        return Range(self._excel, self, *self._active_cell, *self._active_cell)

    @property
    def selection(self) -> Range:
        return Range(self._excel, self, *self._selection)

    @property
    def freeze(self) -> tuple[int, int] | None:
        return self._freeze

    @property
    def page_setup(self) -> dict[str, Any]:
        return dict(self._page_setup._props)

    def value(self, row: int, col: int) -> Any:
        """The stored value (``Formula``/``ErrorValue`` as such) of one 1-based cell."""
        return self.values.get((row, col))

    def format_of(self, row: int, col: int, name: str, default: Any = None) -> Any:
        for layer in reversed(self.layers):
            if layer.name == name and layer.covers(row, col):
                return layer.value
        own = self.cell_formats.get((row, col))
        if own is not None and name in own:
            return own[name]
        return self.column_formats.get(col, {}).get(name, default)

    def locked(self, row: int, col: int) -> bool:
        return bool(self.format_of(row, col, "Locked", True))

    def table(self) -> list[list[Any]]:
        """The sheet's values from A1 as rows (None for empty; formulas as their text)."""
        if not self.values:
            return []
        rows = max(r for r, _ in self.values)
        cols = max(c for _, c in self.values)
        return [
            [_shown(self.values.get((r, c))) for c in range(1, cols + 1)]
            for r in range(1, rows + 1)
        ]

    def column(self, header: str) -> list[Any]:
        rows = self.table()
        index = rows[0].index(header)
        return [row[index] for row in rows[1:] if any(v is not None for v in row)]

    def _touch(self, area: tuple[int, int, int, int]) -> None:
        r1, c1, r2, c2 = area
        if r2 >= MAX_ROWS or c2 >= MAX_COLS:  # whole rows / columns: row or column formats
            return
        if self._used is None:
            self._used = area
        else:
            u1, v1, u2, v2 = self._used
            self._used = (min(u1, r1), min(v1, c1), max(u2, r2), max(v2, c2))

    def _shrink_used_range(self) -> None:
        self._used = None
        for row, col in self.values:
            self._touch((row, col, row, col))
        for layer in self.layers:
            self._touch(layer.area)
        for row, col in self.cell_formats:
            self._touch((row, col, row, col))
        for area, _ in self.validations:
            self._touch(area)
        for cond in self.cond_formats:
            self._touch(cond["area"])

    def _check_edit(self, area: tuple[int, int, int, int], what: str) -> None:
        protection = self.protection
        if protection is None or (protection.user_interface_only and not self._excel.user):
            return
        r1, c1, r2, c2 = area
        if any(
            self.locked(r, c) for r in range(r1, min(r2, r1 + 2000) + 1) for c in range(c1, c2 + 1)
        ):
            raise ComError(
                f"La celda o el gráfico que intenta cambiar está en una hoja protegida ({what})"
            )

    def _is_active(self) -> bool:
        return self._excel.active_book is self._book and self._book.active_sheet is self

    # COM members -------------------------------------------------------------------------
    def get_Name(self) -> str:
        return self.title

    def set_Name(self, value: str) -> None:
        if re.search(r"[\[\]:*?/\\]", value) or not value or len(value) > 31:
            raise ComError(f"El nombre de hoja «{value}» no es válido")
        others = {s.title.casefold() for s in self._book._sheets if s is not self}
        if value.casefold() in others:
            raise ComError("Ese nombre ya existe. Pruebe con otro.")
        self.title = value

    def get_Index(self) -> int:
        return self._book._sheets.index(self) + 1

    def get_Parent(self) -> Workbook:
        return self._book

    def get_Application(self) -> Application:
        return self._excel.app

    def get_Cells(self) -> Range:
        return Range(self._excel, self, 1, 1, MAX_ROWS, MAX_COLS)

    def get_Rows(self) -> Range:
        return Range(self._excel, self, 1, 1, MAX_ROWS, MAX_COLS, by="rows")

    def get_Columns(self) -> Range:
        return Range(self._excel, self, 1, 1, MAX_ROWS, MAX_COLS, by="columns")

    def call_Range(self, Cell1: Any, Cell2: Any = None) -> Range:
        if Cell2 is None and isinstance(Cell1, str) and "," in Cell1:  # a union "A1,B2:C3"
            if len(Cell1) > 255:
                raise ComError("Error en el método Range del objeto Worksheet")
            areas = [self._area(part) for part in Cell1.split(",")]
            return Range(self._excel, self, *areas[0], areas=areas)
        first = self._area(Cell1)
        if Cell2 is None:
            return Range(self._excel, self, *first)
        second = self._area(Cell2)
        return Range(
            self._excel,
            self,
            min(first[0], second[0]),
            min(first[1], second[1]),
            max(first[2], second[2]),
            max(first[3], second[3]),
        )

    def _area(self, ref: Any) -> tuple[int, int, int, int]:
        if isinstance(ref, Range):
            if ref._sheet is not self:
                raise ComError("Error en el método Range del objeto Worksheet")
            return ref._area
        text = str(ref)
        if "!" in text:
            text = text.split("!", 1)[1]
        return parse_area(text)

    def get_UsedRange(self) -> Range:
        used = self._used or (1, 1, 1, 1)
        return Range(self._excel, self, *used)

    def call_Activate(self) -> None:
        if not self.visible:
            raise ComError("Error en el método Activate de la clase Worksheet")
        self._book._active = self
        self._excel.active_book = self._book

    def call_Select(self, Replace: Any = None) -> None:
        self.call_Activate()

    def call_Delete(self) -> bool:
        book = self._book
        if len([s for s in book._sheets if s.visible]) <= 1 and self.visible:
            raise ComError("Un libro debe contener al menos una hoja visible")
        book._sheets.remove(self)
        if book._active is self:
            book._active = next((s for s in book._sheets if s.visible), None)
        return True

    def call_Move(self, Before: Any = None, After: Any = None) -> None:
        sheets = self._book._sheets
        sheets.remove(self)
        if Before is not None:
            sheets.insert(sheets.index(Before), self)
        elif After is not None:
            sheets.insert(sheets.index(After) + 1, self)
        else:
            sheets.append(self)

    def call_Protect(
        self,
        Password: Any = None,
        DrawingObjects: Any = None,
        Contents: Any = None,
        Scenarios: Any = None,
        UserInterfaceOnly: Any = None,
        **allow: Any,
    ) -> None:
        if Contents is False:
            return
        self.protection = Protection(
            password=str(Password or ""),
            user_interface_only=bool(UserInterfaceOnly),
            allow_sorting=bool(allow.get("AllowSorting")),
            allow_filtering=bool(allow.get("AllowFiltering")),
        )

    def call_Unprotect(self, Password: Any = None) -> None:
        if self.protection is None:
            return
        if str(Password or "") != self.protection.password:
            raise ComError("La contraseña no es correcta. Compruebe que la tecla BLOQ MAYÚS…")
        self.protection = None

    def get_ProtectContents(self) -> bool:
        return self.protection is not None

    def get_Visible(self) -> int:
        return enum_value(
            "XlSheetVisibility", "xlSheetVisible" if self.visible else "xlSheetHidden"
        )

    def set_Visible(self, value: Any) -> None:
        visible = value is True or value == enum_value("XlSheetVisibility", "xlSheetVisible")
        if not visible and sum(s.visible for s in self._book._sheets) <= 1 and self.visible:
            raise ComError("Un libro debe contener al menos una hoja visible")
        self.visible = visible
        if not visible and self._book._active is self:
            self._book._active = next((s for s in self._book._sheets if s.visible), None)

    def get_AutoFilterMode(self) -> bool:
        return self.autofilter is not None

    def set_AutoFilterMode(self, value: bool) -> None:
        if value:
            raise self._excel.violation("AutoFilterMode solo admite False al escribirlo")
        self.autofilter = None

    def get_PageSetup(self) -> Com:
        return self._page_setup

    def get_Tab(self) -> Com:
        return self._tab

    def get_Hyperlinks(self) -> Hyperlinks:
        return Hyperlinks(self._excel, self)

    def call_ChartObjects(self, Index: Any = None) -> Com:
        if Index is None:
            return ChartObjects(self._excel, self)
        return self.charts[int(Index) - 1]


class ChartObjects(Com):
    CLASS = ("ChartObjects",)

    def __init__(self, excel: Excel, sheet: Worksheet) -> None:
        super().__init__(excel)
        self._sheet = sheet

    def get_Count(self) -> int:
        return len(self._sheet.charts)

    def call_Delete(self) -> None:
        self._sheet.charts.clear()

    def call_Add(self, Left: float, Top: float, Width: float, Height: float) -> Com:
        holder = Generic(self._excel, "ChartObject", owner=self)
        holder._props.update(Left=Left, Top=Top, Width=Width, Height=Height)
        chart = Chart(self._excel, owner=holder)
        holder._props["Chart"] = chart
        self._sheet.charts.append(holder)
        return holder


class Chart(Generic):
    """A chart: keeps its series (``SeriesCollection().NewSeries()``) for the tests."""

    def __init__(self, excel: Excel, owner: Com) -> None:
        super().__init__(excel, "Chart", owner=owner)
        self.series: list[Generic] = []
        self.axes: dict[int, Generic] = {}

    def call_SeriesCollection(self, Index: Any = None) -> Com:
        if Index is not None:
            return self.series[int(Index) - 1]
        return SeriesCollection(self._excel, owner=self)

    def call_Axes(self, Type: Any = None, AxisGroup: Any = None) -> Com:
        if Type is None:
            return Generic(self._excel, "Axes", owner=self)
        return self.axes.setdefault(int(Type), Generic(self._excel, "Axis", owner=self))


class SeriesCollection(Generic):
    def __init__(self, excel: Excel, owner: Chart) -> None:
        super().__init__(excel, "SeriesCollection", owner=owner)

    def call_NewSeries(self) -> Generic:
        chart = self._owner
        series = Generic(self._excel, "Series", owner=chart)
        chart.series.append(series)
        return series


class Hyperlinks(Com):
    CLASS = ("Hyperlinks",)

    def __init__(
        self, excel: Excel, sheet: Worksheet, area: tuple[int, int, int, int] | None = None
    ) -> None:
        super().__init__(excel)
        self._sheet = sheet
        self._area = area

    def get_Count(self) -> int:
        return len(self._sheet.hyperlinks)

    def call_Delete(self) -> None:
        self._sheet.hyperlinks.clear()

    def call_Add(
        self,
        Anchor: Any,
        Address: str,
        SubAddress: Any = None,
        ScreenTip: Any = None,
        TextToDisplay: Any = None,
    ) -> Com:
        if not isinstance(Anchor, Range) or Anchor._sheet is not self._sheet:
            raise ComError("Hyperlinks.Add: el ancla debe ser una celda de esta hoja")
        link = {"cell": Anchor._area[:2], "address": Address, "sub_address": SubAddress}
        self._sheet.hyperlinks.append(link)
        if TextToDisplay is not None:
            self._sheet.values[Anchor._area[:2]] = str(TextToDisplay)
        return Generic(self._excel, "Hyperlink", owner=self)


def _shown(stored: Any) -> Any:
    if isinstance(stored, Formula):
        return stored.text
    if isinstance(stored, ErrorValue):
        return stored.text
    return stored


class Range(Com):
    CLASS = ("Range",)

    def __init__(
        self,
        excel: Excel,
        sheet: Worksheet,
        r1: int,
        c1: int,
        r2: int,
        c2: int,
        by: str = "cells",
        areas: list[tuple[int, int, int, int]] | None = None,
    ) -> None:
        super().__init__(excel)
        self._sheet = sheet
        self._area = (r1, c1, r2, c2)
        self._areas = areas or [self._area]
        self._by = by  # what Count and Item index: cells, rows or columns

    def __repr__(self) -> str:
        return f"<Range {self._sheet.title}!{area_address(*self._area)} (modelo)>"

    @property
    def shape(self) -> tuple[int, int]:
        r1, c1, r2, c2 = self._area
        return r2 - r1 + 1, c2 - c1 + 1

    def _formatted(self, name: str = "format", value: Any = True) -> None:
        for area in self._areas:
            if self._excel.user:
                self._sheet._check_edit(area, "formato")
            self._sheet.layers.append(Layer(area, name, value))
            self._sheet._touch(area)

    def _single(self, what: str) -> None:
        if len(self._areas) > 1:
            raise ComError(f"Esta acción no funciona con selecciones múltiples ({what})")

    def _changed(self, name: str, value: Any) -> None:
        self._formatted(name, value)

    # geometry -------------------------------------------------------------------------------
    def get_Row(self) -> int:
        return self._area[0]

    def get_Column(self) -> int:
        return self._area[1]

    def get_Worksheet(self) -> Worksheet:
        return self._sheet

    get_Parent = get_Worksheet

    def get_Application(self) -> Application:
        return self._excel.app

    def get_Count(self) -> int:
        rows, cols = self.shape
        return {"rows": rows, "columns": cols}.get(self._by, rows * cols)

    def get_Rows(self) -> Range:
        return Range(self._excel, self._sheet, *self._area, by="rows")

    def get_Columns(self) -> Range:
        return Range(self._excel, self._sheet, *self._area, by="columns")

    def get_Cells(self) -> Range:
        return Range(self._excel, self._sheet, *self._area)

    def get_EntireRow(self) -> Range:
        return Range(self._excel, self._sheet, self._area[0], 1, self._area[2], MAX_COLS)

    def get_EntireColumn(self) -> Range:
        return Range(self._excel, self._sheet, 1, self._area[1], MAX_ROWS, self._area[3])

    def get_Address(self) -> str:
        return area_address(*self._area)

    def get_Left(self) -> float:
        return sum(self._sheet.column_widths.get(c, 8.43) * 5.6 for c in range(1, self._area[1]))

    def get_Top(self) -> float:
        return sum(self._sheet.row_heights.get(r, 15.0) for r in range(1, self._area[0]))

    def call__Default(self, RowIndex: Any = None, ColumnIndex: Any = None) -> Range:
        r1, c1, r2, c2 = self._area
        if self._by == "rows" and ColumnIndex is None:
            row = r1 + int(RowIndex) - 1
            return Range(self._excel, self._sheet, row, c1, row, c2)
        if self._by == "columns" and ColumnIndex is None:
            col = c1 + int(RowIndex) - 1
            return Range(self._excel, self._sheet, r1, col, r2, col)
        if ColumnIndex is None:  # n-th cell, row by row
            index = int(RowIndex) - 1
            width = c2 - c1 + 1
            row, col = r1 + index // width, c1 + index % width
        else:
            row, col = r1 + int(RowIndex) - 1, c1 + int(ColumnIndex) - 1
        if not (1 <= row <= MAX_ROWS and 1 <= col <= MAX_COLS):
            raise ComError("Error definido por la aplicación o el objeto")
        return Range(self._excel, self._sheet, row, col, row, col)

    call_Item = call__Default

    def call_Resize(self, RowSize: Any = None, ColumnSize: Any = None) -> Range:
        rows, cols = self.shape
        r1, c1, _, _ = self._area
        rows = int(RowSize) if RowSize is not None else rows
        cols = int(ColumnSize) if ColumnSize is not None else cols
        return Range(self._excel, self._sheet, r1, c1, r1 + rows - 1, c1 + cols - 1)

    def call_End(self, Direction: int) -> Range:
        r, c = self._area[:2]
        values = self._sheet.values
        up, down = enum_value("XlDirection", "xlUp"), enum_value("XlDirection", "xlDown")
        left = enum_value("XlDirection", "xlToLeft")
        if Direction in (up, down):
            rows = sorted(row for row, col in values if col == c)
            found = [x for x in rows if (x < r if Direction == up else x > r)]
            row = (
                (max(found) if Direction == up else min(found))
                if found
                else (1 if Direction == up else MAX_ROWS)
            )
            return Range(self._excel, self._sheet, row, c, row, c)
        cols = sorted(col for row, col in values if row == r)
        found = [x for x in cols if (x < c if Direction == left else x > c)]
        col = (
            (max(found) if Direction == left else min(found))
            if found
            else (1 if Direction == left else MAX_COLS)
        )
        return Range(self._excel, self._sheet, r, col, r, col)

    def call_Find(self, What: Any, *_: Any, **options: Any) -> Range | None:
        r1, c1, r2, c2 = self._area
        cells = [
            (row, col)
            for (row, col), value in self._sheet.values.items()
            if r1 <= row <= r2
            and c1 <= col <= c2
            and value is not None
            and (What == "*" or str(_shown(value)) == str(What))
        ]
        if not cells:
            return None
        by_columns = options.get("SearchOrder") == enum_value("XlSearchOrder", "xlByColumns")
        key = (lambda rc: (rc[1], rc[0])) if by_columns else (lambda rc: rc)
        previous = options.get("SearchDirection") == enum_value("XlSearchDirection", "xlPrevious")
        row, col = max(cells, key=key) if previous else min(cells, key=key)
        return Range(self._excel, self._sheet, row, col, row, col)

    # values -------------------------------------------------------------------------------
    def _read(self, shown: bool) -> Any:
        r1, c1, r2, c2 = self._area  # Excel reads the first area of a union
        rows, cols = self.shape
        if rows * cols > 5_000_000:
            raise ComError("No hay suficiente memoria")
        self._excel.counts.cells_read += rows * cols
        self._excel.log_value("formula read" if shown else "read", self)

        def one(row: int, col: int) -> Any:
            stored = self._sheet.values.get((row, col))
            if isinstance(stored, Formula):
                if shown:
                    return stored.text
                return 0.0 if stored.cached is None else stored.cached  # not calculated here
            if isinstance(stored, ErrorValue):
                return stored.code
            return stored

        if rows == 1 and cols == 1:
            return one(r1, c1)
        return tuple(tuple(one(r, c) for c in range(c1, c2 + 1)) for r in range(r1, r2 + 1))

    def get_Value(self) -> Any:
        return self._read(shown=False)

    get_Value2 = get_Value

    def get_Formula(self) -> Any:
        value = self._read(shown=True)
        return "" if value is None else value

    def get_FormulaLocal(self) -> Any:
        value = self.get_Formula()
        return spanish(value) if isinstance(value, str) and value.startswith("=") else value

    def _write(self, data: Any, *, formula: bool = False) -> None:
        self._single("Value")
        sheet = self._sheet
        sheet._check_edit(self._area, "valor")
        r1, c1 = self._area[:2]
        rows, cols = self.shape
        if isinstance(data, list | tuple):
            grid = [list(row) if isinstance(row, list | tuple) else [row] for row in data]
            if grid and len(grid) == 1 and rows > 1 and cols == 1:
                grid = [[v] for v in grid[0]]
        else:
            grid = None
        self._excel.counts.cells_written += rows * cols
        self._excel.log_value("formula" if formula else "write", self)
        for i in range(rows):
            for j in range(cols):
                if grid is None:
                    raw = data
                elif i < len(grid) and j < len(grid[i]):
                    raw = grid[i][j]
                else:
                    raw = "#N/A"  # Excel fills the part of the range the array does not reach
                key = (r1 + i, c1 + j)
                fmt = sheet.format_of(*key, "NumberFormat", "General")
                if formula and isinstance(raw, str) and raw.startswith("="):
                    stored: Any = Formula(raw)
                else:
                    stored = typed(raw, fmt, self._excel.today)
                if stored is None:
                    sheet.values.pop(key, None)
                else:
                    sheet.values[key] = stored
                    sheet._touch((*key, *key))

    def set_Value(self, value: Any) -> None:
        self._write(value)

    set_Value2 = set_Value

    def set_Formula(self, value: Any) -> None:
        self._write(value, formula=True)

    def call_ClearContents(self) -> None:
        self._sheet._check_edit(self._area, "borrar")
        r1, c1, r2, c2 = self._area
        for key in [k for k in self._sheet.values if r1 <= k[0] <= r2 and c1 <= k[1] <= c2]:
            del self._sheet.values[key]

    def call_Clear(self) -> None:
        self.call_ClearContents()
        sheet = self._sheet
        whole = self._area == (1, 1, MAX_ROWS, MAX_COLS)
        if whole:
            sheet.layers.clear()
            sheet.validations.clear()
            sheet.cond_formats.clear()
            sheet.hyperlinks.clear()
        else:
            sheet.layers = [layer for layer in sheet.layers if not _inside(layer.area, self._area)]

    # formats -------------------------------------------------------------------------------
    def get_NumberFormat(self) -> str:
        return self._sheet.format_of(*self._area[:2], "NumberFormat", "General")

    def set_NumberFormat(self, value: str) -> None:
        self._formatted("NumberFormat", value)

    def get_Locked(self) -> bool:
        return self._sheet.locked(*self._area[:2])

    def set_Locked(self, value: bool) -> None:
        self._formatted("Locked", bool(value))

    def set_ColumnWidth(self, value: float) -> None:
        if not 0 <= value <= 255:
            raise ComError("No se puede asignar la propiedad ColumnWidth")
        for col in range(self._area[1], self._area[3] + 1):
            self._sheet.column_widths[col] = float(value)

    def get_ColumnWidth(self) -> float:
        return self._sheet.column_widths.get(self._area[1], 8.43)

    def set_RowHeight(self, value: float) -> None:
        if not 0 <= value <= 409:
            raise ComError("No se puede asignar la propiedad RowHeight")
        for row in range(self._area[0], min(self._area[2], self._area[0] + 100) + 1):
            self._sheet.row_heights[row] = float(value)

    def get_RowHeight(self) -> float:
        return self._sheet.row_heights.get(self._area[0], 15.0)

    def get_Validation(self) -> Validation:
        return Validation(self._excel, self)

    def get_FormatConditions(self) -> FormatConditions:
        return FormatConditions(self._excel, self)

    def get_Hyperlinks(self) -> Hyperlinks:
        return Hyperlinks(self._excel, self._sheet, self._area)

    # actions -------------------------------------------------------------------------------
    def call_Select(self) -> None:
        if not self._sheet._is_active():
            raise ComError("Error en el método Select de la clase Range")
        self._sheet._selection = self._area
        self._sheet._active_cell = self._area[:2]

    def call_Activate(self) -> None:
        self.call_Select()

    def call_AutoFilter(self, *args: Any, **kwargs: Any) -> Any:
        sheet = self._sheet
        protection = sheet.protection
        strict = protection and (self._excel.user or not protection.user_interface_only)
        if strict and not (protection.allow_filtering and sheet.autofilter is not None):
            raise ComError("No se puede filtrar en una hoja protegida")
        if not args and not kwargs:
            sheet.autofilter = None if sheet.autofilter else self._area
        elif sheet.autofilter is None:
            sheet.autofilter = self._area
        return True

    def call_Sort(self, Key1: Any = None, Order1: Any = None, *args: Any, **kwargs: Any) -> None:
        sheet = self._sheet
        r1, c1, r2, c2 = self._area
        header = kwargs.get("Header") == enum_value("XlYesNoGuess", "xlYes")
        first = r1 + 1 if header else r1
        protection = sheet.protection
        if protection is not None and (self._excel.user or not protection.user_interface_only):
            if not protection.allow_sorting:
                raise ComError("No se puede ordenar una hoja protegida")
            sheet._check_edit((first, c1, r2, c2), "ordenar")  # every moved cell unlocked
        key_col = Key1._area[1] if isinstance(Key1, Range) else c1
        descending = Order1 == enum_value("XlSortOrder", "xlDescending")
        rows = [
            {c: sheet.values.get((r, c)) for c in range(c1, c2 + 1)} for r in range(first, r2 + 1)
        ]

        def key(row: dict[int, Any]) -> tuple:
            value = _shown(row[key_col])
            return (value is None, str(type(value).__name__), value if value is not None else 0)

        rows.sort(key=key, reverse=descending)
        for offset, row in enumerate(rows):
            for c, value in row.items():
                if value is None:
                    sheet.values.pop((first + offset, c), None)
                else:
                    sheet.values[(first + offset, c)] = value


def _inside(inner: tuple[int, int, int, int], outer: tuple[int, int, int, int]) -> bool:
    return (
        outer[0] <= inner[0]
        and outer[1] <= inner[1]
        and inner[2] <= outer[2]
        and inner[3] <= outer[3]
    )


class Validation(Com):
    CLASS = ("Validation",)

    def __init__(self, excel: Excel, target: Range) -> None:
        super().__init__(excel)
        self._target = target

    def _current(self) -> dict[str, Any] | None:
        for area, rule in reversed(self._target._sheet.validations):
            if area == self._target._area:
                return rule
        return None

    def call_Delete(self) -> None:
        sheet = self._target._sheet
        sheet.validations = [
            (a, r) for a, r in sheet.validations if not _inside(a, self._target._area)
        ]

    def call_Add(
        self,
        Type: Any = None,
        AlertStyle: Any = None,
        Operator: Any = None,
        Formula1: Any = None,
        Formula2: Any = None,
    ) -> None:
        if self._current() is not None:
            raise ComError("Error definido por la aplicación o el objeto (ya hay una validación)")
        rule = {"Type": Type, "AlertStyle": AlertStyle, "Operator": Operator, "Formula1": Formula1}
        if (
            Type == enum_value("XlDVType", "xlValidateList")
            and Formula1
            and not str(Formula1).startswith("=")
        ):
            rule["choices"] = str(Formula1).split(Excel.LIST_SEPARATOR)
        self._target._sheet.validations.append((self._target._area, rule))
        self._target._sheet._touch(self._target._area)

    def _changed(self, name: str, value: Any) -> None:
        rule = self._current()
        if rule is None:
            raise ComError("Error definido por la aplicación o el objeto (sin validación)")
        rule[name] = value


class FormatConditions(Com):
    CLASS = ("FormatConditions",)

    def __init__(self, excel: Excel, target: Range) -> None:
        super().__init__(excel)
        self._target = target

    def get_Count(self) -> int:
        return sum(1 for c in self._target._sheet.cond_formats if c["area"] == self._target._area)

    def call_Delete(self) -> None:
        sheet = self._target._sheet
        sheet.cond_formats = [
            c for c in sheet.cond_formats if not _inside(c["area"], self._target._area)
        ]

    def call_Add(
        self, Type: Any, Operator: Any = None, Formula1: Any = None, Formula2: Any = None, **_: Any
    ) -> Com:
        excel = self._excel
        active = excel.app.get_ActiveCell()
        anchor = None
        if active is not None and active._sheet is self._target._sheet:
            anchor = active._area[:2]
        condition = Generic(excel, "FormatCondition")
        self._target._sheet.cond_formats.append(
            {
                "area": self._target._area,
                "type": Type,
                "formula_local": Formula1,
                "anchor": anchor,
                "format": condition,
            }
        )
        self._target._sheet._touch(self._target._area)
        return condition
