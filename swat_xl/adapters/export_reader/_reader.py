"""The entry points: :func:`read_export`, and :func:`start_reading` that begins the same read
in a helper thread.

Reading is done in two halves: :func:`._opening._open` checks the file and, for a workbook,
parses its first sheet, which needs no aliases; :func:`_finish` finds the header with the
aliases and builds the table. A workbook export's time is mostly python-calamine parsing its
sheet, and calamine releases the GIL while it parses: a command that knows the export before
it has loaded its modules and read the master's settings (where the aliases are) runs the
first half in a helper thread meanwhile.

This module loads the second half (pandas) only when it is first needed, so that the command
line can start the thread before pandas has loaded.
"""

from __future__ import annotations

import hashlib
import threading
from contextlib import closing
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from swat_xl.adapters.export_reader._guards import _file_sha256
from swat_xl.adapters.export_reader._opening import _open, _Opened, _surfacing
from swat_xl.adapters.export_reader._xlsx import _legacy_sheets
from swat_xl.errors import ExportError

if TYPE_CHECKING:
    from swat_xl.adapters.export_reader._table import ExportTable, _Grid
    from swat_xl.core.fields import AliasMap

_TICK = 0.1  # seconds between looks at Ctrl+C while waiting for the helper thread


def read_export(path: str | Path, aliases: AliasMap | None = None) -> ExportTable:
    """Read a Power BI export (.xlsx/.xlsm/.csv/.txt) into canonical columns.

    Raises :class:`ExportError` (never another exception) when the file cannot be used.
    """
    path = Path(path)
    return _finish(_surfacing(path, lambda: _open(path)), aliases)


class ExportReading:
    """An export whose first half is read in a helper thread (see the module's docstring).

    :meth:`table` waits for the thread and gives what :func:`read_export` gives, or raises the
    error :func:`read_export` raises. Use it as a context manager: leaving the block waits for
    the thread and releases the file whether or not :meth:`table` was called, so the thread
    never outlives the command."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._opened: _Opened | None = None
        self._error: BaseException | None = None
        self._parsing = threading.Event()
        self._thread = threading.Thread(target=self._run, name="swat-export", daemon=True)
        self._thread.start()
        # The checks before the parse (the guards scan the sheet's XML) are Python work on the
        # way to the parse: the caller's own work (loading modules) would slow them down by
        # taking turns with them for the GIL. The caller goes on once calamine parses.
        while not self._parsing.wait(_TICK):
            pass

    def _run(self) -> None:
        try:
            self._opened = _surfacing(self.path, lambda: _open(self.path, self._parsing.set))
        except BaseException as exc:  # raised again by table(), in the caller's thread
            self._error = exc
        finally:
            self._parsing.set()

    def table(self, aliases: AliasMap | None = None) -> ExportTable:
        """The export read into canonical columns (once)."""
        self._join()
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        opened, self._opened = self._opened, None
        if opened is None:
            raise RuntimeError("the export's table was already taken")
        return _finish(opened, aliases)

    def close(self) -> None:
        """Wait for the helper thread and release the file."""
        self._join()
        self._error = None
        if self._opened is not None:
            self._opened.close()
            self._opened = None

    def _join(self) -> None:
        # In steps: a wait without a timeout cannot be interrupted by Ctrl+C on Windows.
        while self._thread.is_alive():
            self._thread.join(_TICK)

    def __enter__(self) -> ExportReading:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def start_reading(path: str | Path) -> ExportReading:
    """Start reading the export at ``path`` in a helper thread; see :class:`ExportReading`."""
    return ExportReading(path)


def _finish(opened: _Opened, aliases: AliasMap | None) -> ExportTable:
    """The table of an export :func:`._opening._open` has opened; releases it."""
    with closing(opened):
        return _surfacing(opened.path, lambda: _tabulated(opened, aliases))


def _tabulated(opened: _Opened, aliases: AliasMap | None) -> ExportTable:
    # The half that needs pandas, loaded here (see the module's docstring).
    from swat_xl.adapters.export_reader._csv import _read_text
    from swat_xl.adapters.export_reader._table import _pick_sheet, _tabulate
    from swat_xl.core.fields import AliasMap

    aliases = aliases or AliasMap()
    path, warnings = opened.path, opened.warnings
    if opened.kind == "text":
        grid, header, raw = _read_text(path, opened.size, aliases, warnings)
        digest = hashlib.sha256(raw).hexdigest()
        del raw
        return _tabulate(path, None, grid, header, aliases, warnings, digest)
    if opened.kind == "legacy":
        sheet, grid, header = _pick_legacy_sheet(path, aliases)
    else:
        sheet, grid, header = _pick_sheet(path, opened.remaining_sheets(), aliases)
    opened.close()  # the workbook's package is not needed any more
    digest = _file_sha256(path)
    return _tabulate(path, sheet, grid, header, aliases, warnings, digest)


def _pick_legacy_sheet(
    path: Path, aliases: AliasMap
) -> tuple[str, _Grid, tuple[int, dict[int, str]]]:
    """The sheet of an Excel 97-2003 (.xls) workbook (read by python-calamine like an .xlsx);
    a file that is not a readable .xls (damaged, encrypted) is refused with what to do
    instead."""
    from swat_xl.adapters.export_reader._table import _pick_sheet

    try:
        with closing(_legacy_sheets(path)) as sheets:
            return _pick_sheet(path, sheets, aliases)
    except ExportError as error:
        if error.__cause__ is None:
            raise
        raise ExportError(
            "No se pudo leer el libro de Excel 97-2003 (.xls): está dañado o protegido con "
            "contraseña. Ábralo en Excel y guárdelo como «Libro de Excel (.xlsx)» o como "
            "«CSV UTF-8 (delimitado por comas)».",
            file=path,
        ) from error
