"""Reads a Power BI export of detractor surveys (.xlsx, .xlsm, .csv, .txt) into canonical columns.

The result is an :class:`ExportTable` whose ``frame`` has one row per data row and every field
of :data:`swat_xl.core.fields.CANONICAL` as a column (text as ``object`` columns of ``str``,
``survey_date`` as ``datetime64``), followed by the columns the export has and no field claims.

The header is found by content (title rows and a "Filtros aplicados" block may precede it) and
so is the footer (a ``Total`` row, the applied-filters block, the truncation note). Every
problem with the file raises :class:`~swat_xl.errors.ExportError` with a Spanish message.

Workbooks are checked before ``python_calamine`` opens them: the zip directory (zip bombs) and
the extent of the sheet (calamine allocates the whole used range, so a lone cell in XFD1048576
would exhaust memory and abort the process).

The package, one job per module:

* ``_reader``: :func:`read_export`, and :func:`start_reading` that begins the same read in a
  helper thread;
* ``_opening``: the first half of a read, which needs no aliases: which reader a file needs,
  from its suffix and its first bytes, and a workbook's first sheet parsed;
* ``_guards``: hostile files (size, zip bombs, sheet extent), the limits;
* ``_csv`` and ``_xlsx``: the rows of a csv file or of a worksheet;
* ``_table``: the header and footer rows, the rows in between as an :class:`ExportTable`;
* ``_cleaning``: text, codes, phones, numbers and dates as the ledger keeps them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from swat_xl.adapters.export_reader._reader import ExportReading, read_export, start_reading

if TYPE_CHECKING:
    from swat_xl.adapters.export_reader._table import ExportTable

__all__ = ["ExportReading", "ExportTable", "read_export", "start_reading"]


def __getattr__(name: str) -> Any:
    """``ExportTable``, loaded on first use: it needs pandas, and the command line imports
    this package to start reading before pandas has loaded."""
    if name == "ExportTable":
        from swat_xl.adapters.export_reader._table import ExportTable

        return ExportTable
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
