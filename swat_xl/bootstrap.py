"""The composition root: the only place that builds the real adapters and hands them to the
services, for the command line (a file on disk) and for the ribbon (the book open in Excel).

Tests pass fakes to :func:`unit_of_work`, the same function the real builders use.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any

from swat_xl.adapters import system, xlsm
from swat_xl.adapters.export_reader import ExportReading
from swat_xl.adapters.ledger import LedgerFiles
from swat_xl.adapters.lock import passing_lock, workbook_lock
from swat_xl.adapters.xlsx_file import FileWorkbook, render
from swat_xl.adapters.xlwings_live import LiveWorkbook
from swat_xl.core.fields import AliasMap
from swat_xl.services import copies
from swat_xl.services.ports import (
    Clock,
    ExportTablePort,
    FilesPort,
    LedgerStore,
    Lock,
    Publication,
    SheetReader,
    WorkbookPort,
)
from swat_xl.services.results import BuildResult
from swat_xl.services.unit_of_work import UnitOfWork
from swat_xl.workbook.spec import Sheet, WorkbookSpec


class FileMaster:
    """The master workbook as a file on disk: read with the xlsx reader, written with the xlsx
    writer into a temporary file, installed atomically with a backup; a macro-enabled master
    keeps its VBA project and ribbon (or gets the shipped ones).

    Each rewrite keeps a backup copy of the replaced workbook in ``swat_copias`` together with
    a consistent copy of the ledger it was drawn from (``swat-xl restore`` brings a pair back).
    """

    keeps_backups = True
    last_backup: Path | None = None

    def __init__(
        self,
        path: str | Path,
        *,
        must_exist: bool = True,
        carry_macros: bool = True,
        keep_written_copy: bool = True,
    ) -> None:
        self.path = Path(path).resolve() if Path(path).exists() else Path(path).absolute()
        self.file = FileWorkbook(self.path)
        self.problems: list[str] = []
        self._carry_macros = carry_macros
        # A master in use keeps a copy of what the tool wrote (its unchanged sheets are copied
        # from there whoever saved the workbook since); a workbook only built does not.
        self.keep_written_copy = keep_written_copy
        self._checked = must_exist
        self._names: list[str] | None = None
        self._prints: dict[tuple[str, int, int, int], str | None] = {}
        if must_exist:
            self.file.ensure_closed()
            self._names = self.file.sheet_names()

    def refresh(self) -> None:
        self.file.close()
        self._names = None

    def fingerprint(self) -> str | None:
        return self._print(self.path, fresh=True)

    def reusable_sheets(self) -> set[str]:
        return self.file.reusable_sheets() if self.path.exists() else set()

    def written_copy_sheets(self, written: str) -> set[str]:
        copy = FileWorkbook(self.file.written_copy)
        if not copy.path.exists() or self._print(copy.path) != written:
            return set()
        return copy.reusable_sheets()

    def sheet_names(self) -> list[str]:
        if self._names is None:
            self._names = self.file.sheet_names() if self.path.exists() else []
        return self._names

    def rows(self, sheet: str, columns: Collection[int] | None = None) -> list[list[Any]]:
        return self.file.rows(sheet)  # reading a file costs the same for every column

    def header(self, sheet: str) -> list[Any]:
        return self.file.header(sheet)

    def user_sheet(self, name: str) -> Sheet:
        return self.file.user_sheet(name)

    def publish(
        self,
        spec: WorkbookSpec,
        *,
        backups_to_keep: int,
        now: dt.datetime,
        ledger_copy: Path | None = None,
        drawn: Mapping[str, Any] | None = None,
    ) -> Publication:
        if not self._checked:  # a file not checked when opened is checked before it is written
            self.file.ensure_closed()
        vba, ribbon = self._macros()
        copy_from = self.file.written_copy if spec.copy_from == "written" else None
        # What the last publication noted about its rows, and a file that is the workbook
        # they describe (the tool's copy of it, or the workbook itself if nobody saved it).
        before = drawn.get("file") if isinstance(drawn, Mapping) else None
        sheets = before.get("sheets") if isinstance(before, Mapping) else None
        written = before.get("fingerprint") if isinstance(before, Mapping) else None
        rows_from = None
        if isinstance(sheets, Mapping) and isinstance(written, str) and written:
            rows_from = next(
                (p for p in (self.file.written_copy, self.path) if self._print(p) == written),
                None,
            )
        tmp = self.file.prepare(
            spec,
            vba_project=vba,
            postprocess=None if ribbon is None else lambda t: xlsm.add_ribbon(t, t, ribbon),
            copy_from=copy_from,
            rows_from=rows_from,
            drawn=sheets if rows_from is not None else None,
        )
        notes = dict(self.file.drawn)
        copied = [sheet.name for sheet in spec.sheets if sheet.reused]
        if (
            copied
            and isinstance(sheets, Mapping)
            and self._print(copy_from or self.path) == written
        ):
            # a sheet copied whole from the workbook the notes describe: its rows as noted
            for name in copied:
                note = sheets.get(name)
                if isinstance(note, Mapping) and {"layout", "keys"} <= set(note):
                    notes[name] = {"layout": note["layout"], "keys": note["keys"]}
        fingerprint = FileWorkbook(tmp).fingerprint()
        publication = _FilePublication(self, tmp, fingerprint, backups_to_keep, now, ledger_copy)
        if notes:
            publication.drawn = {"file": {"fingerprint": fingerprint, "sheets": notes}}
        return publication

    def _print(self, path: Path, *, fresh: bool = False) -> str | None:
        """The fingerprint of ``path`` (None when absent); computed once while the file's
        size, time and inode stay the same, unless ``fresh``."""
        try:
            stat = path.stat()
        except FileNotFoundError:
            return None
        except OSError:
            return FileWorkbook(path).fingerprint()  # says what is wrong
        probe = (str(path), stat.st_size, stat.st_mtime_ns, stat.st_ino)
        if fresh or probe not in self._prints:
            self._prints[probe] = FileWorkbook(path).fingerprint()
        return self._prints[probe]

    def _macros(self) -> tuple[bytes | None, bytes | None]:
        """The VBA project and ribbon an ``.xlsm`` carries: the workbook's own when present (a
        user may have edited them), else the shipped ones; none for an ``.xlsx``."""
        if self.path.suffix.lower() != ".xlsm":
            return None, None
        current = self.file if self._carry_macros and self.path.exists() else None
        vba = current.part(xlsm.VBA_PART) if current is not None else None
        ribbon = current.part(xlsm.CUSTOMUI_PART) if current is not None else None
        return vba or xlsm.shipped_vba_project(), ribbon or xlsm.shipped_ribbon()


class _FilePublication:
    def __init__(
        self,
        master: FileMaster,
        tmp: Path,
        fingerprint: str | None,
        keep: int,
        now: dt.datetime,
        ledger_copy: Path | None,
    ) -> None:
        self.master, self.tmp, self.fingerprint = master, tmp, fingerprint
        self.keep, self.now, self.ledger_copy = keep, now, ledger_copy
        self.drawn: dict[str, Any] = {}  # the file's sheets are keyed by the services

    def discard(self) -> None:
        self.tmp.unlink(missing_ok=True)

    def finish(self) -> None:
        try:
            if self.master.keep_written_copy:
                self.master.file.keep_written_copy(self.tmp)
            backup = self.master.file.replace_with(
                self.tmp, backups_to_keep=self.keep, now=self.now
            )
        finally:
            self.tmp.unlink(missing_ok=True)
            self.master.refresh()
        self.master.last_backup = backup
        copy = self.ledger_copy
        if backup is not None and copy is not None and copy.exists():
            os.replace(copy, copies.ledger_copy_of(backup))
        copies.drop_orphan_ledger_copies(self.master.path)


class Files:
    """The other files: exports (export reader), rosters (table reader), agent workbooks and
    the form file (xlsx reader and writer).

    ``export`` is an export the entry point started reading before the operation began (see
    :func:`swat_xl.adapters.export_reader.start_reading`): reading that path gives its table.
    """

    def __init__(self, export: ExportReading | None = None) -> None:
        self._export = export

    def read_export(self, path: Path, aliases: AliasMap) -> ExportTablePort:
        started, self._export = self._export, None
        if started is not None:
            if started.path == Path(path):
                return started.table(aliases)
            started.close()
        from swat_xl.adapters.export_reader import read_export  # loaded by the imports only

        return read_export(path, aliases)

    def read_table(self, path: Path) -> list[list[Any]]:
        from swat_xl.adapters.tables import read_rows

        return read_rows(path)

    def open_book(self, path: Path) -> SheetReader:
        book = FileWorkbook(path)
        book.sheet_names()  # fails here on a file that cannot be read
        return book

    def save_book(self, spec: WorkbookSpec, path: Path) -> None:
        FileWorkbook(path).save(spec, backups_to_keep=0)

    def render_book(self, spec: WorkbookSpec, path: Path) -> None:
        render(spec, path)


def _lock_timeout() -> float | None:
    """``SWAT_LOCK_TIMEOUT`` (seconds; tests) overrides Config's «espera_bloqueo_segundos»."""
    text = os.environ.get("SWAT_LOCK_TIMEOUT", "").strip()
    try:
        return max(0.0, float(text)) if text else None
    except ValueError:
        return None


def unit_of_work(
    workbook: WorkbookPort,
    *,
    ledgers: LedgerStore | None = None,
    lock: Lock | None = None,
    clock: Clock | None = None,
    files: FilesPort | None = None,
    progress: Callable[[str], None] | None = None,
) -> UnitOfWork:
    """A unit of work on ``workbook``: the real ledger, lock, clock and files unless given;
    ``progress`` is told the stages of each operation."""
    return UnitOfWork(
        workbook,
        ledgers=ledgers or LedgerFiles(),
        lock=lock or workbook_lock,
        clock=clock or system.now,
        files=files or Files(),
        identity=system.whoami,
        lock_timeout=_lock_timeout(),
        # SWAT_REUSE=0 draws every sheet again (tests compare both ways).
        reuse_sheets=os.environ.get("SWAT_REUSE", "1").strip() != "0",
        copies=lambda path: unit_of_work(
            FileMaster(path, keep_written_copy=False),  # a backup copy is not a master in use
            ledgers=ledgers,
            lock=passing_lock,
            clock=clock,
            files=files,
        ),
        progress=progress,
    )


def file_unit(
    path: str | Path,
    *,
    must_exist: bool = True,
    clock: Clock | None = None,
    progress: Callable[[str], None] | None = None,
    export: ExportReading | None = None,
) -> UnitOfWork:
    """The command line's unit of work: the master workbook file at ``path`` (on the system's
    clock unless one is given: the demo runs a working day at its own hours); ``progress`` is
    told the stages of each operation (the CLI's display on a terminal); ``export``, an
    export already being read (see :class:`Files`)."""
    return unit_of_work(
        FileMaster(path, must_exist=must_exist),
        clock=clock,
        progress=progress,
        files=Files(export) if export is not None else None,
    )


def live_unit(
    book: Any,
    *,
    progress: Callable[[str], None] | None = None,
    export: ExportReading | None = None,
) -> UnitOfWork:
    """The ribbon's unit of work: the ``xlwings.Book`` that ran the macro; ``progress`` is
    Excel's status bar; ``export``, an export already being read (see :class:`Files`)."""
    return unit_of_work(
        LiveWorkbook(book, progress=progress),
        progress=progress,
        files=Files(export) if export is not None else None,
    )


def build_workbook(out: str | Path) -> BuildResult:
    """``swat-xl build-workbook``: the empty master with the shipped VBA project and ribbon."""
    from swat_xl.services.build import build_workbook as build

    master = FileMaster(out, must_exist=False, carry_macros=False, keep_written_copy=False)
    return build(out, master, LedgerFiles())
