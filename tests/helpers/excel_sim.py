"""Excel for the tests: xlwings' own ``Book``/``Sheet``/``Range`` on a test engine whose native
objects are the strict COM model of :mod:`tests.helpers.excel_com`.

xlwings dispatches every call of its front end to an *engine* (``xlwings.main.engines``; the
interface is ``xlwings/base_classes.py``). :class:`Engine` is registered there as ``"swat-sim"``;
its implementation classes follow xlwings' Windows engine (``xlwings/_xlwindows.py``) call for
call, with the COM model where pywin32 would hand over Excel's objects. So ``swat_xl.macros``
runs through xlwings' converters (``options(ndim=2)``, dates, empty cells, single cell / row /
2-D shapes, automatic chunking of big reads and writes) exactly as on Windows, and everything
it asks of ``.api`` is checked against Excel's type library.

Use :func:`open_workbook` to "open" a workbook file made by the tool: its values (cached
results of formulas included), formulas, text number formats, unlocked cells and sheet
protection are loaded; :meth:`SimBook.set_caller` makes it what ``xlwings.Book.caller()``
returns. The app records alerts (answers to yes/no questions come from ``answers``) and the
history of ``screen_updating``, ``calculation`` and ``status_bar``; the model counts COM calls
and cells moved (:attr:`SimBook.counts`).
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import xlwings as xw
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook
from xlwings import base_classes

from tests.helpers import excel_com as com

_MISSING = object()
#: Every Excel the tests opened since the last :func:`take_violations`.
OPENED: list[com.Excel] = []
_CALCULATION = {-4105: "automatic", -4135: "manual", 2: "semiautomatic"}
_CALCULATION_CODES = {v: k for k, v in _CALCULATION.items()}
_TIME_TYPES = (dt.date, dt.datetime)


# -- xlwings engine (after xlwings/_xlwindows.py) ------------------------------------------------
class Engine:
    def __init__(self) -> None:
        self.excel_apps: list[App] = []

    @property
    def apps(self) -> Apps:
        return Apps(self)

    @property
    def name(self) -> str:
        return "swat-sim"

    @property
    def type(self) -> str:
        return "desktop"

    @staticmethod
    def prepare_xl_data_element(x: Any, options: Any) -> Any:
        try:
            import numpy as np
            import pandas as pd
        except ImportError:  # pragma: no cover
            np = pd = None  # type: ignore[assignment]
        if pd is not None and isinstance(x, pd.Timestamp):
            return x.to_pydatetime()
        if isinstance(x, _TIME_TYPES):
            if type(x) is dt.date:
                return dt.datetime(x.year, x.month, x.day)
            return x
        if pd is not None and not isinstance(x, list | tuple | dict) and pd.isna(x):
            return ""
        if isinstance(x, float) and math.isnan(x):
            return ""
        if np is not None and isinstance(x, np.number):
            return float(x)
        if x is None:
            return ""
        return x

    @staticmethod
    def clean_value_data(
        data: Any, datetime_builder: Any, empty_as: Any, number_builder: Any, err_to_str: bool
    ) -> list[list[Any]]:
        def clean(value: Any) -> Any:
            if value in ("", None):
                return empty_as
            if isinstance(value, _TIME_TYPES):
                return datetime_builder(
                    month=value.month,
                    day=value.day,
                    year=value.year,
                    hour=getattr(value, "hour", 0),
                    minute=getattr(value, "minute", 0),
                    second=getattr(value, "second", 0),
                    microsecond=getattr(value, "microsecond", 0),
                    tzinfo=None,
                )
            if number_builder is not None and isinstance(value, float):
                return number_builder(value)
            if isinstance(value, int) and not isinstance(value, bool):
                errors = {code: text for text, code in com.CELL_ERRORS.items()}
                if value in errors:
                    return errors[value] if err_to_str else None
            return value

        return [[clean(c) for c in row] for row in data]


ENGINE = Engine()
if "swat-sim" not in xw.engines.engines_by_name:
    xw.engines.add(xw.main.Engine(impl=ENGINE))
SIM_ENGINE = xw.engines["swat-sim"]


class Apps(base_classes.Apps):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def keys(self) -> list[int]:
        return [app.pid for app in self.engine.excel_apps]

    def __iter__(self):
        return iter(self.engine.excel_apps)

    def __len__(self) -> int:
        return len(self.engine.excel_apps)

    def __getitem__(self, pid: int) -> App:
        for app in self.engine.excel_apps:
            if app.pid == pid:
                return app
        raise KeyError(pid)


class App(base_classes.App):
    """xlwings' App implementation over :class:`excel_com.Application`."""

    def __init__(self, excel: com.Excel) -> None:
        self.excel = excel
        self.alerts: list[dict[str, Any]] = []
        self.answers: list[str] = []
        self.history: list[tuple[str, Any]] = []

    @property
    def xl(self) -> com.Application:
        return self.excel.app

    api = xl

    @property
    def engine(self) -> Engine:
        return ENGINE

    @property
    def pid(self) -> int:
        return 4242

    @property
    def hwnd(self) -> int:
        return 4242

    @property
    def version(self) -> str:
        return "16.0"

    @property
    def selection(self) -> Range | None:
        selection = self.xl.Selection
        return Range(xl=selection) if selection is not None else None

    def activate(self, steal_focus: bool = False) -> None:
        """Window focus on Windows (win32gui), nothing to model."""

    @property
    def visible(self) -> bool:
        return True

    @visible.setter
    def visible(self, value: bool) -> None:
        pass

    @property
    def screen_updating(self) -> bool:
        return self.xl.ScreenUpdating

    @screen_updating.setter
    def screen_updating(self, value: bool) -> None:
        self.history.append(("screen_updating", value))
        self.xl.ScreenUpdating = value

    @property
    def display_alerts(self) -> bool:
        return self.xl.DisplayAlerts

    @display_alerts.setter
    def display_alerts(self, value: bool) -> None:
        self.xl.DisplayAlerts = value

    @property
    def enable_events(self) -> bool:
        return self.xl.EnableEvents

    @enable_events.setter
    def enable_events(self, value: bool) -> None:
        self.xl.EnableEvents = value

    @property
    def calculation(self) -> str:
        return _CALCULATION[self.xl.Calculation]

    @calculation.setter
    def calculation(self, value: str) -> None:
        self.history.append(("calculation", value))
        self.xl.Calculation = _CALCULATION_CODES[value]

    @property
    def status_bar(self) -> Any:
        return self.xl.StatusBar

    @status_bar.setter
    def status_bar(self, value: Any) -> None:
        self.history.append(("status_bar", value))
        self.xl.StatusBar = value

    @property
    def books(self) -> Books:
        return Books(xl=self.xl.Workbooks, app=self)

    def alert(self, prompt: str, title: str, buttons: str, mode: str, callback: Any) -> str:
        """``MsgBox`` (win32api.MessageBox on Windows, not COM): recorded and answered."""
        self.alerts.append({"prompt": prompt, "title": title, "buttons": buttons, "mode": mode})
        if buttons in (None, "ok"):
            return "ok"
        return self.answers.pop(0) if self.answers else "yes"

    @property
    def statuses(self) -> list[Any]:
        return [value for key, value in self.history if key == "status_bar"]


class Books(base_classes.Books):
    def __init__(self, xl: Any, app: App) -> None:
        self.xl = xl
        self.app = app

    @property
    def active(self) -> Book:
        return Book(self.app.excel.active_book)

    def __len__(self) -> int:
        return len(self.app.excel.books)

    def __iter__(self):
        for book in self.app.excel.books:
            yield Book(book)


class Book(base_classes.Book):
    def __init__(self, xl: com.Workbook) -> None:
        self.xl = xl

    @property
    def api(self) -> com.Workbook:
        return self.xl

    @property
    def name(self) -> str:
        return self.xl.Name

    @property
    def sheets(self) -> Sheets:
        return Sheets(xl=self.xl.Worksheets)

    @property
    def app(self) -> App:
        return self.xl._excel.xlwings_app

    @property
    def fullname(self) -> str:
        return self.xl.FullName

    @property
    def names(self) -> Names:
        return Names(xl=self.xl.Names)

    def activate(self) -> None:
        self.xl.Activate()

    def save(self, path: str | None = None, password: str | None = None) -> None:
        if path is not None:
            raise NotImplementedError("Guardar como no está en el modelo")
        self.xl.Save()


class Sheets(base_classes.Sheets):
    def __init__(self, xl: com.SheetsCollection) -> None:
        self.xl = xl

    @property
    def api(self) -> com.SheetsCollection:
        return self.xl

    @property
    def active(self) -> Sheet:
        return Sheet(self.xl.Parent.ActiveSheet)

    def __call__(self, name_or_index: Any) -> Sheet:
        return Sheet(xl=self.xl(name_or_index))

    def __len__(self) -> int:
        return self.xl.Count

    def __iter__(self):
        for xl in self.xl:
            yield Sheet(xl=xl)

    def add(
        self, before: Sheet | None = None, after: Sheet | None = None, name: str | None = None
    ) -> Sheet:
        if before:
            sheet = Sheet(xl=self.xl.Add(Before=before.xl))
        elif after:
            # xlwings' Windows engine: "After" is broken in certain environments
            count = self.xl.Count
            new_sheet_index = after.xl.Index + 1
            if new_sheet_index > count:
                xl_sheet = self.xl.Add(Before=after.xl)
                self.xl(self.xl.Count).Move(Before=self.xl(self.xl.Count - 1))
                self.xl(self.xl.Count).Activate()
            else:
                xl_sheet = self.xl.Add(Before=self.xl(after.xl.Index + 1))
            sheet = Sheet(xl=xl_sheet)
        else:
            sheet = Sheet(xl=self.xl.Add())
        if name is not None:
            sheet.name = name
        return sheet


class Sheet(base_classes.Sheet):
    def __init__(self, xl: com.Worksheet) -> None:
        self.xl = xl

    @property
    def api(self) -> com.Worksheet:
        return self.xl

    @property
    def name(self) -> str:
        return self.xl.Name

    @name.setter
    def name(self, value: str) -> None:
        self.xl.Name = value

    @property
    def book(self) -> Book:
        return Book(xl=self.xl.Parent)

    @property
    def index(self) -> int:
        return self.xl.Index

    def range(self, arg1: Any, arg2: Any = None) -> Range:
        if isinstance(arg1, Range):
            xl1 = arg1.xl
        elif isinstance(arg1, tuple):
            if len(arg1) == 4:
                row, col, nrows, ncols = arg1
                return Range(xl=(self.xl, row, col, nrows, ncols))
            if 0 in arg1:
                raise IndexError(
                    "Attempted to access 0-based Range. xlwings/Excel Ranges are 1-based."
                )
            xl1 = self.xl.Cells(arg1[0], arg1[1])
        elif isinstance(arg1, numbers.Number) and isinstance(arg2, numbers.Number):
            xl1 = self.xl.Cells(arg1, arg2)
            arg2 = None
        else:
            xl1 = self.xl.Range(arg1)
        if arg2 is None:
            return Range(xl=xl1)
        if isinstance(arg2, Range):
            xl2 = arg2.xl
        elif isinstance(arg2, tuple):
            if 0 in arg2:
                raise IndexError(
                    "Attempted to access 0-based Range. xlwings/Excel Ranges are 1-based."
                )
            xl2 = self.xl.Cells(arg2[0], arg2[1])
        else:
            xl2 = self.xl.Range(arg2)
        return Range(xl=self.xl.Range(xl1, xl2))

    @property
    def cells(self) -> Range:
        return Range(xl=self.xl.Cells)

    def activate(self) -> None:
        return self.xl.Activate()

    def select(self) -> None:
        return self.xl.Select()

    def clear_contents(self) -> None:
        self.xl.Cells.ClearContents()

    def clear(self) -> None:
        self.xl.Cells.Clear()

    def delete(self) -> None:
        app = self.xl.Parent.Application
        alerts_state = app.DisplayAlerts
        app.DisplayAlerts = False
        self.xl.Delete()
        app.DisplayAlerts = alerts_state

    @property
    def used_range(self) -> Range:
        return Range(xl=self.xl.UsedRange)

    @property
    def visible(self) -> bool:
        return self.xl.Visible == -1

    @visible.setter
    def visible(self, value: bool) -> None:
        self.xl.Visible = -1 if value else 0


class Range(base_classes.Range):
    def __init__(self, xl: Any) -> None:
        if isinstance(xl, tuple):
            self._coords = xl
            self._xl = _MISSING
        else:
            self._coords = _MISSING
            self._xl = xl

    @property
    def xl(self) -> Any:
        if self._xl is _MISSING:
            xl_sheet, row, col, nrows, ncols = self._coords
            if nrows and ncols:
                self._xl = xl_sheet.Range(
                    xl_sheet.Cells(row, col), xl_sheet.Cells(row + nrows - 1, col + ncols - 1)
                )
            else:
                self._xl = None
        return self._xl

    @property
    def coords(self) -> tuple[Any, int, int, int, int]:
        if self._coords is _MISSING:
            self._coords = (
                self.xl.Worksheet,
                self.xl.Row,
                self.xl.Column,
                self.xl.Rows.Count,
                self.xl.Columns.Count,
            )
        return self._coords

    @property
    def api(self) -> Any:
        return self.xl

    @property
    def sheet(self) -> Sheet:
        return Sheet(xl=self.coords[0])

    def __len__(self) -> int:
        return (self.xl and self.xl.Count) or 0

    @property
    def row(self) -> int:
        return self.coords[1]

    @property
    def column(self) -> int:
        return self.coords[2]

    @property
    def shape(self) -> tuple[int, int]:
        return self.coords[3], self.coords[4]

    @property
    def raw_value(self) -> Any:
        return self.xl.Value if self.xl is not None else None

    @raw_value.setter
    def raw_value(self, data: Any) -> None:
        if self.xl is not None:
            self.xl.Value = data

    def clear_contents(self) -> None:
        if self.xl is not None:
            self.xl.ClearContents()

    def clear(self) -> None:
        if self.xl is not None:
            self.xl.Clear()

    @property
    def left(self) -> float:
        return self.xl.Left if self.xl is not None else 0

    @property
    def top(self) -> float:
        return self.xl.Top if self.xl is not None else 0

    @property
    def number_format(self) -> str:
        return self.xl.NumberFormat if self.xl is not None else ""

    @number_format.setter
    def number_format(self, value: str) -> None:
        if self.xl is not None:
            self.xl.NumberFormat = value

    @property
    def address(self) -> str:
        return self.xl.Address

    def __call__(self, *args: Any) -> Range:
        if len(args) == 0:
            raise ValueError("Invalid arguments")
        return Range(xl=self.xl(*args))

    @property
    def rows(self) -> Range:
        return Range(xl=self.xl.Rows)

    @property
    def columns(self) -> Range:
        return Range(xl=self.xl.Columns)

    def select(self) -> None:
        return self.xl.Select()


class Names(base_classes.Names):
    def __init__(self, xl: Any) -> None:
        self.xl = xl

    @property
    def api(self) -> Any:
        return self.xl

    def __len__(self) -> int:
        return self.xl.Count

    def add(self, name: str, refers_to: str) -> Name:
        return Name(xl=self.xl.Add(name, refers_to))


class Name(base_classes.Name):
    def __init__(self, xl: Any) -> None:
        self.xl = xl

    @property
    def api(self) -> Any:
        return self.xl


# -- opening a workbook -------------------------------------------------------------------------
class SimBook(xw.Book):
    """An ``xlwings.Book`` on the test engine, with what the tests inspect."""

    @property
    def excel(self) -> com.Excel:
        return self.impl.xl._excel

    @property
    def model(self) -> com.Workbook:
        return self.impl.xl

    @property
    def counts(self) -> com.Counts:
        return self.excel.counts

    @property
    def sim_app(self) -> App:
        """The app as the tests see it: alerts, answers, history of Excel's settings."""
        return self.impl.xl._excel.xlwings_app

    @property
    def saves(self) -> int:
        return self.model._saves

    @contextmanager
    def measure(self) -> Iterator[com.Counts]:
        """The cost of what runs inside (e.g. one ``macros.run``): COM calls, cells read and
        written, calls by member; filled as the block runs."""
        self.excel.reset_counts()
        yield self.excel.counts

    def sheet_model(self, name: str) -> com.Worksheet:
        return self.model.sheet(name)

    def writes(self) -> list[tuple[str, str, str, int, int, bool, int]]:
        return [entry for entry in self.excel.value_log if entry[0] == "write"]

    def writes_by_sheet(self) -> dict[str, int]:
        return dict(Counter(entry[1] for entry in self.writes()))

    def reads_by_sheet(self) -> dict[str, int]:
        return dict(Counter(e[1] for e in self.excel.value_log if e[0] == "read"))

    def type_into(self, sheet: str, address: str, value: Any) -> None:
        """A person types ``value`` into a cell (protection applies as in Excel's grid)."""
        with self.excel.as_user():
            self.model.sheet(sheet).call_Range(address).set_Value(value)

    def select(self, sheet: str, address: str) -> None:
        """A person clicks a cell of a sheet (the sheet becomes active)."""
        model = self.model.sheet(sheet)
        model.call_Activate()
        model.call_Range(address).call_Select()

    def sheet_names(self) -> list[str]:
        return [s.title for s in self.model._sheets]

    def set_caller(self, monkeypatch: Any) -> None:
        """``xlwings.Book.caller()`` returns this book for the rest of the test."""
        monkeypatch.setattr(xw.Book, "_mock_caller", self, raising=False)


def new_excel() -> com.Excel:
    excel = com.Excel()
    excel.xlwings_app = App(excel)  # type: ignore[attr-defined]
    ENGINE.excel_apps[:] = [excel.xlwings_app]  # type: ignore[attr-defined]
    SIM_ENGINE.activate()  # xlwings' module-level apps/books (``apps.active``) are this Excel
    OPENED.append(excel)
    return excel


def take_violations() -> list[str]:
    """What the Excels opened so far did against the object model (then forgotten)."""
    found = [v for excel in OPENED for v in excel.violations]
    OPENED.clear()
    return found


def empty_book(fullname: str | Path, excel: com.Excel | None = None) -> SimBook:
    """A new workbook (one empty sheet) open in the model."""
    excel = excel or new_excel()
    book = excel.open_book(str(fullname))
    book.add_sheet("Hoja1")
    return SimBook(impl=Book(book))


def _formats(styled: Any) -> dict[str, Any]:
    """The formats the model acts on (number format, locked) of an openpyxl cell/column."""
    return {"NumberFormat": styled.number_format, "Locked": bool(styled.protection.locked)}


def open_workbook(path: str | Path, excel: com.Excel | None = None) -> SimBook:
    """The workbook file "open in Excel": values, formulas, text formats, unlocked cells and
    protection loaded into the model; the first sheet active; counters at zero."""
    excel = excel or new_excel()
    path = Path(path)
    model = excel.open_book(str(path))
    cached = CalamineWorkbook.from_path(str(path))
    formulas = load_workbook(path, read_only=False, keep_vba=path.suffix == ".xlsm")
    for name in cached.sheet_names:
        sheet = model.add_sheet(name)
        for r, row in enumerate(cached.get_sheet_by_name(name).to_python(), start=1):
            for c, value in enumerate(row, start=1):
                if value == "" or value is None:
                    continue
                if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
                    value = dt.datetime(value.year, value.month, value.day)
                elif isinstance(value, dt.time):
                    value = com.EPOCH.replace(hour=value.hour, minute=value.minute)
                elif isinstance(value, int) and not isinstance(value, bool):
                    value = float(value)
                elif isinstance(value, str) and value.upper() in com.CELL_ERRORS:
                    value = com.ErrorValue(value.upper())
                sheet.values[(r, c)] = value
        if name not in formulas.sheetnames:
            continue
        ws = formulas[name]
        for dimension in ws.column_dimensions.values():
            if dimension.has_style and dimension.min:
                for col in range(dimension.min, (dimension.max or dimension.min) + 1):
                    sheet.column_formats[col] = _formats(dimension)
        for row in ws.iter_rows():
            for cell in row:
                key = (cell.row, cell.column)
                if cell.data_type == "f" and isinstance(cell.value, str):
                    sheet.values[key] = com.Formula(cell.value, sheet.values.get(key))
                if cell.has_style:
                    sheet.cell_formats[key] = _formats(cell)
        if ws.protection.sheet:
            sheet.protection = com.Protection(
                password="",
                user_interface_only=False,  # not saved in the file: gone once it is reopened
                allow_sorting=not ws.protection.sort,
                allow_filtering=not ws.protection.autoFilter,
            )
        if ws.sheet_state != "visible":
            sheet.visible = False
        sheet._shrink_used_range()
    model._active = model._sheets[0]
    excel.reset_counts()
    return SimBook(impl=Book(model))
