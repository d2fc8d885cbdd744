"""The master workbook read from its file: values with python-calamine, the cells (values and
formulas) of sheets the tool does not own with openpyxl."""

from __future__ import annotations

import contextlib
from collections.abc import Collection
from pathlib import Path
from typing import Any

from python_calamine import CalamineError, CalamineWorkbook

from swat_xl.errors import WorkbookError
from swat_xl.workbook.spec import Cell, Sheet


class XlsxReader:
    """Reads one workbook file; each sheet is parsed once (``header`` and ``rows`` share it)
    until :meth:`close`."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._book: CalamineWorkbook | None = None
        self._sheets: dict[str, Any] = {}

    def _open(self) -> CalamineWorkbook:
        if self._book is None:
            if not self.path.exists():
                raise WorkbookError("No se encontró el libro maestro", file=self.path)
            try:
                self._book = CalamineWorkbook.from_path(str(self.path))
            except (CalamineError, OSError, ValueError) as exc:
                raise WorkbookError(
                    f"No se pudo leer el libro maestro ({exc})", file=self.path
                ) from exc
        return self._book

    def sheet_names(self) -> list[str]:
        return list(self._open().sheet_names)

    def _sheet(self, name: str) -> Any:
        if name not in self._sheets:
            self._sheets[name] = self._open().get_sheet_by_name(name)
        return self._sheets[name]

    def rows(self, sheet: str, columns: Collection[int] | None = None) -> list[list[Any]]:
        """All rows of a sheet as Python values ("" for empty cells), every column."""
        try:
            return self._sheet(sheet).to_python(skip_empty_area=False)
        except (CalamineError, ValueError, KeyError) as exc:
            raise WorkbookError(
                f"No se pudo leer la hoja ({exc})", file=self.path, sheet=sheet
            ) from exc

    def header(self, sheet: str) -> list[Any]:
        try:
            data = self._sheet(sheet).to_python(skip_empty_area=False, nrows=1)
        except (CalamineError, ValueError, KeyError):
            return []
        return data[0] if data else []

    def user_sheet(self, name: str) -> Sheet:
        """A sheet the tool does not own, as cells (values and formulas) to carry over."""
        import openpyxl  # read-only, only when the workbook has such sheets

        try:
            book = openpyxl.load_workbook(self.path, read_only=True, data_only=False)
        except Exception as exc:  # openpyxl raises many types on broken files
            raise WorkbookError(
                f"No se pudo leer la hoja «{name}» ({exc})", file=self.path
            ) from exc
        try:
            ws = book[name]
            cells: list[Cell] = []
            for row in ws.iter_rows():
                for cell in row:
                    value = getattr(cell, "value", None)
                    if value is None or not hasattr(cell, "row"):
                        continue
                    r, c = cell.row - 1, cell.column - 1
                    if isinstance(value, str) and value.startswith("=") and cell.data_type == "f":
                        cells.append(Cell(r, c, None, formula=value))
                    else:
                        cells.append(
                            Cell(r, c, value, kind="text" if isinstance(value, str) else None)
                        )
            return Sheet(name, cells=cells, role="user")
        finally:
            book.close()

    def close(self) -> None:
        self._sheets.clear()
        if self._book is not None:
            with contextlib.suppress(Exception):  # calamine's close is best effort
                self._book.close()
            self._book = None
