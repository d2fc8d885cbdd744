"""A small fake of the xlwings objects that swat_xl.macros and the live adapter touch.

It behaves like Excel where the code depends on it and records everything else:

* ``Range.value`` reads and writes are logged per sheet (``book.log``: ``("read"|"write",
  sheet, address, …)``) and applied to a cell grid with Excel's rules for typed text: a
  leading apostrophe is eaten (the rest stays text), ``"=…"`` becomes a formula, text that
  looks like a number becomes a number, integers come back as floats;
* ``.api`` objects (sheet, range, app, book) are :class:`Com` recorders: every property set
  and method call is logged with its dotted path (``book.com``), and the few values the code
  reads back (``ProtectContents``, ``FormulaLocal``, ``International(5)``, ``ReadOnly``) are
  answered like a Spanish-locale Excel would (list separator ``;``);
* the app records ``screen_updating``, ``calculation`` and ``status_bar`` changes and every
  ``alert``; answers to yes/no alerts come from ``app.answers`` (default ``"yes"``).

:meth:`FakeBook.from_file` loads the values of a real workbook (python-calamine), so the
macros run the real services against realistic content and the real ledger beside it.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path
from typing import Any

from python_calamine import CalamineWorkbook

_MISSING = object()
_A1 = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)$")
_NUMBER = re.compile(r"^\s*[-+]?(\d+([.,]\d*)?|[.,]\d+)([eE][-+]?\d+)?\s*$")


def col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def col_name(index: int) -> str:
    out = ""
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def parse_address(text: str) -> tuple[int, int, int, int]:
    parts = text.replace("$", "").split(":")
    cells = []
    for part in parts:
        match = _A1.match(part)
        assert match, text
        cells.append((int(match[2]), col_index(match[1])))
    (r1, c1), (r2, c2) = cells[0], cells[-1]
    return r1, c1, r2, c2


# -- COM recorders -------------------------------------------------------------------------------
class Com:
    """Records property sets and method calls; children are created on attribute access."""

    def __init__(self, log: list[tuple[Any, ...]], path: str) -> None:
        object.__setattr__(self, "_log", log)
        object.__setattr__(self, "_path", path)
        object.__setattr__(self, "_state", {})

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        value = self._read(name)
        if value is not _MISSING:
            return value
        return _Member(self, name)

    def __setattr__(self, name: str, value: Any) -> None:
        self._log.append(("set", f"{self._path}.{name}", value))
        self._state[name] = value

    def _read(self, name: str) -> Any:
        return self._state.get(name, _MISSING)

    def _call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return Com(self._log, f"{self._path}.{name}()")

    def __repr__(self) -> str:
        return f"<Com {self._path}>"


class _Member(Com):
    """``parent.name``: callable (a method) or an object with its own properties."""

    def __init__(self, parent: Com, name: str) -> None:
        super().__init__(parent._log, f"{parent._path}.{name}")
        object.__setattr__(self, "_parent", parent)
        object.__setattr__(self, "_name", name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self._log.append(("call", self._path, args, kwargs))
        return self._parent._call(self._name, args, kwargs)


class SheetCom(Com):
    def __init__(self, log: list[tuple[Any, ...]], sheet: FakeSheet) -> None:
        super().__init__(log, sheet.name)
        object.__setattr__(self, "_sheet", sheet)
        self._state.update(ProtectContents=False, Password="")

    def _call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if name == "Unprotect":
            password = args[0] if args else kwargs.get("Password", "")
            if password != self._state["Password"]:
                raise RuntimeError("(-2147352567, 'Excepción', 'La contraseña no es correcta')")
            self._state["ProtectContents"] = False
            return None
        if name == "Protect":
            self._state["ProtectContents"] = True
            self._state["Password"] = kwargs.get("Password", args[0] if args else "")
            return None
        if name == "Range":
            return RangeCom(self._log, f"{self._sheet.name}!{args[0]}")
        if name == "ChartObjects" and not args:
            return ChartObjectsCom(self._log, f"{self._sheet.name}.ChartObjects()")
        return super()._call(name, args, kwargs)


class ChartObjectsCom(Com):
    def _read(self, name: str) -> Any:
        return 0 if name == "Count" else super()._read(name)


class RangeCom(Com):
    """A COM range whose ``FormulaLocal`` is its ``Formula`` in Spanish-locale syntax."""

    def _read(self, name: str) -> Any:
        if name == "FormulaLocal" and "Formula" in self._state:
            return spanish(self._state["Formula"])
        return super()._read(name)


def spanish(formula: str) -> str:
    """A rough ``FormulaLocal`` of a Spanish Excel: ``;`` separators, Spanish AND/IF."""
    out = formula.replace(",", ";")
    for english, local in (("AND(", "Y("), ("IF(", "SI("), ("COUNTA(", "CONTARA(")):
        out = out.replace(english, local)
    return out


class AppCom(Com):
    def _call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if name == "International" and args == (5,):
            return ";"
        return super()._call(name, args, kwargs)


class BookCom(Com):
    def __init__(self, log: list[tuple[Any, ...]], book: FakeBook) -> None:
        super().__init__(log, book.name)
        object.__setattr__(self, "_book", book)
        self._state["ReadOnly"] = False

    def _call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if name == "SaveCopyAs":
            shutil.copyfile(self._book.fullname, args[0])
            return None
        return super()._call(name, args, kwargs)


# -- xlwings-level objects -----------------------------------------------------------------------
def _typed(value: Any) -> tuple[Any, str | None]:
    """(stored value, formula) for one written value, as Excel would store it."""
    if value is None or value == "":
        return None, None
    if isinstance(value, bool):
        return value, None
    if isinstance(value, int | float):
        return float(value), None
    if isinstance(value, dt.datetime):
        return value, None
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time()), None
    text = str(value)
    if text.startswith("'"):
        return text[1:], None
    if text.startswith("="):
        return None, text
    if _NUMBER.match(text):
        return float(text.replace(",", ".")), None
    if text.strip().upper() in ("TRUE", "FALSE", "VERDADERO", "FALSO"):
        return text.strip().upper() in ("TRUE", "VERDADERO"), None
    return text, None


class FakeRange:
    def __init__(
        self,
        sheet: FakeSheet,
        r1: int,
        c1: int,
        r2: int | None = None,
        c2: int | None = None,
        ndim: int | None = None,
    ) -> None:
        self.sheet = sheet
        self.r1, self.c1 = r1, c1
        self.r2, self.c2 = (r2 if r2 is not None else r1), (c2 if c2 is not None else c1)
        self.ndim = ndim

    @property
    def address(self) -> str:
        start = f"${col_name(self.c1)}${self.r1}"
        if (self.r1, self.c1) == (self.r2, self.c2):
            return start
        return f"{start}:${col_name(self.c2)}${self.r2}"

    @property
    def row(self) -> int:
        return self.r1

    @property
    def column(self) -> int:
        return self.c1

    @property
    def last_cell(self) -> FakeRange:
        return FakeRange(self.sheet, self.r2, self.c2)

    @property
    def left(self) -> float:
        return (self.c1 - 1) * 48.0

    @property
    def top(self) -> float:
        return (self.r1 - 1) * 15.0

    @property
    def api(self) -> RangeCom:
        return RangeCom(self.sheet.book.com, f"{self.sheet.name}!{self.address}")

    def options(self, ndim: int | None = None, **_: Any) -> FakeRange:
        return FakeRange(self.sheet, self.r1, self.c1, self.r2, self.c2, ndim=ndim)

    @property
    def value(self) -> Any:
        self.sheet.book.log.append(("read", self.sheet.name, self.address))
        grid = [
            [self.sheet.cells.get((r, c)) for c in range(self.c1, self.c2 + 1)]
            for r in range(self.r1, self.r2 + 1)
        ]
        if self.ndim == 2:
            return grid
        if len(grid) == 1 and len(grid[0]) == 1:
            return grid[0][0]
        if len(grid) == 1:
            return grid[0]
        if all(len(row) == 1 for row in grid):
            return [row[0] for row in grid]
        return grid

    @value.setter
    def value(self, data: Any) -> None:
        book = self.sheet.book
        rows = data if isinstance(data, list) and data and isinstance(data[0], list) else None
        if rows is None:
            rows = [data] if isinstance(data, list) else [[data]]
        book.log.append(("write", self.sheet.name, self.address, len(rows), len(rows[0])))
        book.writes.append(
            (
                self.sheet.name,
                self.r1,
                self.c1,
                rows,
                book.app.screen_updating,
                book.app.calculation,
            )
        )
        for i, row in enumerate(rows):
            for j, raw in enumerate(row):
                key = (self.r1 + i, self.c1 + j)
                stored, formula = _typed(raw)
                self.sheet.formulas.pop(key, None)
                self.sheet.cells.pop(key, None)
                if formula is not None:
                    self.sheet.formulas[key] = formula
                    self.sheet.cells[key] = 0.0  # not calculated: manual calculation
                elif stored is not None:
                    self.sheet.cells[key] = stored


class FakeSheet:
    def __init__(self, book: FakeBook, name: str) -> None:
        self.book = book
        self.name = name
        self.cells: dict[tuple[int, int], Any] = {}
        self.formulas: dict[tuple[int, int], str] = {}
        self.api = SheetCom(book.com, self)

    def __repr__(self) -> str:
        return f"<FakeSheet {self.name}>"

    def range(self, first: Any, second: Any = None) -> FakeRange:
        if isinstance(first, str):
            r1, c1, r2, c2 = parse_address(first)
            return FakeRange(self, r1, c1, r2, c2)
        r1, c1 = first
        r2, c2 = second if second is not None else first
        return FakeRange(self, r1, c1, r2, c2)

    @property
    def used_range(self) -> FakeRange:
        keys = list(self.cells) + list(self.formulas)
        if not keys:
            return FakeRange(self, 1, 1)
        return FakeRange(
            self,
            min(r for r, _ in keys),
            min(c for _, c in keys),
            max(r for r, _ in keys),
            max(c for _, c in keys),
        )

    def clear(self) -> None:
        self.book.log.append(("clear", self.name))
        self.cells.clear()
        self.formulas.clear()

    def delete(self) -> None:
        self.book.log.append(("delete", self.name))
        self.book.sheets.remove(self)

    def activate(self) -> None:
        self.book.sheets.active = self

    # helpers for the tests
    def table(self) -> list[list[Any]]:
        """The sheet as rows from A1 (None for empty cells)."""
        keys = list(self.cells) + list(self.formulas)
        if not keys:
            return []
        rows, cols = max(r for r, _ in keys), max(c for _, c in keys)
        return [[self.cells.get((r, c)) for c in range(1, cols + 1)] for r in range(1, rows + 1)]

    def column(self, header: str) -> list[Any]:
        rows = self.table()
        index = rows[0].index(header)
        return [row[index] for row in rows[1:] if any(v is not None for v in row)]


class FakeSheets:
    def __init__(self, book: FakeBook) -> None:
        self.book = book
        self._items: list[FakeSheet] = []
        self.active: FakeSheet | None = None

    def __iter__(self):
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, key: int | str) -> FakeSheet:
        if isinstance(key, int):
            return self._items[key]
        for sheet in self._items:
            if sheet.name.casefold() == key.casefold():
                return sheet
        raise KeyError(key)

    def __contains__(self, name: str) -> bool:
        return any(s.name.casefold() == name.casefold() for s in self._items)

    @property
    def names(self) -> list[str]:
        return [s.name for s in self._items]

    def add(
        self,
        name: str | None = None,
        before: FakeSheet | None = None,
        after: FakeSheet | None = None,
    ) -> FakeSheet:
        name = name or f"Hoja{len(self._items) + 1}"
        assert name not in self, f"Sheet named {name!r} already present in workbook"
        self.book.log.append(("add", name))
        sheet = FakeSheet(self.book, name)
        if after is not None:
            self._items.insert(self._items.index(after) + 1, sheet)
        elif before is not None:
            self._items.insert(self._items.index(before), sheet)
        else:
            self._items.append(sheet)
        self.active = sheet
        return sheet

    def remove(self, sheet: FakeSheet) -> None:
        self._items.remove(sheet)
        if self.active is sheet:
            self.active = self._items[0] if self._items else None


class FakeNames:
    def __init__(self, book: FakeBook) -> None:
        self.book = book
        self.refers_to: dict[str, str] = {}

    def add(self, name: str, refers_to: str) -> None:
        self.book.log.append(("name", name, refers_to))
        self.refers_to[name] = refers_to


class FakeApp:
    def __init__(self) -> None:
        self.history: list[tuple[str, Any]] = []
        self._screen_updating = True
        self._calculation = "automatic"
        self._status_bar: Any = False
        self.display_alerts = True
        self.alerts: list[dict[str, Any]] = []
        self.answers: list[str] = []
        self.com: list[tuple[Any, ...]] = []
        self.api = AppCom(self.com, "Application")
        self.selection: FakeRange | None = None

    @property
    def screen_updating(self) -> bool:
        return self._screen_updating

    @screen_updating.setter
    def screen_updating(self, value: bool) -> None:
        self.history.append(("screen_updating", value))
        self._screen_updating = value

    @property
    def calculation(self) -> str:
        return self._calculation

    @calculation.setter
    def calculation(self, value: str) -> None:
        assert value in ("automatic", "manual", "semiautomatic"), value
        self.history.append(("calculation", value))
        self._calculation = value

    @property
    def status_bar(self) -> Any:
        return self._status_bar

    @status_bar.setter
    def status_bar(self, value: Any) -> None:
        self.history.append(("status_bar", value))
        self._status_bar = value

    def alert(
        self,
        prompt: str,
        title: str | None = None,
        buttons: str = "ok",
        mode: str | None = None,
        callback: str | None = None,
    ) -> str:
        self.alerts.append({"prompt": prompt, "title": title, "buttons": buttons, "mode": mode})
        if buttons == "ok":
            return "ok"
        return self.answers.pop(0) if self.answers else "yes"

    @property
    def statuses(self) -> list[Any]:
        return [value for key, value in self.history if key == "status_bar"]


class FakeBook:
    def __init__(self, fullname: str | Path, app: FakeApp | None = None) -> None:
        self.fullname = str(fullname)
        self.name = Path(fullname).name
        self.app = app or FakeApp()
        self.log: list[tuple[Any, ...]] = []
        self.writes: list[tuple[Any, ...]] = []
        self.com = self.app.com
        self.sheets = FakeSheets(self)
        self.names = FakeNames(self)
        self.api = BookCom(self.com, self)
        self.saves = 0

    def save(self, path: str | None = None) -> None:
        assert path is None
        self.log.append(("save",))
        self.saves += 1

    @classmethod
    def from_file(cls, path: str | Path, app: FakeApp | None = None) -> FakeBook:
        """A fake holding the values of every sheet of a real workbook (no formatting).

        Agent sheets (``ID`` and ``Resultado`` in row 1) start protected, as the master has them.
        """
        book = cls(Path(path), app)
        source = CalamineWorkbook.from_path(str(path))
        for name in source.sheet_names:
            sheet = book.sheets.add(name)
            for r, row in enumerate(source.get_sheet_by_name(name).to_python(), start=1):
                for c, value in enumerate(row, start=1):
                    if value == "" or value is None:
                        continue
                    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
                        value = dt.datetime.combine(value, dt.time())
                    elif isinstance(value, int) and not isinstance(value, bool):
                        value = float(value)
                    sheet.cells[(r, c)] = value
            if {"ID", "Resultado"} <= {v for (r, _), v in sheet.cells.items() if r == 1}:
                sheet.api._state["ProtectContents"] = True
        book.sheets.active = book.sheets[0]
        book.log.clear()
        book.com.clear()
        return book

    # helpers for the tests
    def writes_by_sheet(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for entry in self.log:
            if entry[0] == "write":
                out[entry[1]] = out.get(entry[1], 0) + 1
        return out

    def reads_by_sheet(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for entry in self.log:
            if entry[0] == "read":
                out[entry[1]] = out.get(entry[1], 0) + 1
        return out

    def calls(self, suffix: str) -> list[tuple[Any, ...]]:
        """COM calls whose path ends with ``suffix`` (e.g. ``".Validation.Add"``)."""
        return [e for e in self.com if e[0] == "call" and e[1].endswith(suffix)]

    def sets(self, suffix: str) -> list[tuple[Any, ...]]:
        return [e for e in self.com if e[0] == "set" and e[1].endswith(suffix)]
