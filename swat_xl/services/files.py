"""The master workbook as a file, as the services see it (the CLI's workbook)."""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from swat_xl.adapters.xlsx_file import FileWorkbook
from swat_xl.services.session import BACKUP_DIR, LEDGER_SUFFIX, ledger_copy_of
from swat_xl.workbook.spec import Sheet, WorkbookSpec

if TYPE_CHECKING:
    from swat_xl.services.session import Session


_STAMPED = re.compile(r"-\d{8}-\d{6}(?:-\d+)?")


def _drop_orphan_ledger_copies(workbook: Path) -> None:
    """Ledger copies whose workbook copy was pruned (only so many copies are kept)."""
    folder = workbook.parent / BACKUP_DIR
    for copy in folder.glob(f"{glob.escape(workbook.stem)}-*{LEDGER_SUFFIX}"):
        stem = copy.name[: -len(LEDGER_SUFFIX)]
        if not _STAMPED.fullmatch(stem[len(workbook.stem) :]):
            continue  # not a backup's (e.g. a ledger set aside by «restore»)
        if not copy.with_name(stem + workbook.suffix).exists():
            copy.unlink(missing_ok=True)


class FileMaster:
    """Implements :class:`~swat_xl.services.session.WorkbookPort` over a file on disk.

    Each rewrite keeps a backup copy of the replaced workbook in ``swat_copias`` together with
    a consistent copy of the ledger it was drawn from (``swat-xl restore`` brings a pair back).
    """

    keeps_backups = True

    last_backup: Path | None = None

    def __init__(self, path: str | Path, *, must_exist: bool = True) -> None:
        self.path = Path(path).resolve() if Path(path).exists() else Path(path).absolute()
        self.file = FileWorkbook(self.path)
        self._names: list[str] | None = None
        if must_exist:
            self.file.ensure_closed()
            self._names = self.file.sheet_names()

    def refresh(self) -> None:
        """Forget what was read: the file may have been replaced while waiting for the lock."""
        self.file.close()
        self._names = None

    def fingerprint(self) -> str | None:
        """SHA-256 of the workbook file (None when it does not exist yet)."""
        return self.file.fingerprint()

    def reusable_sheets(self) -> set[str]:
        """Sheets the next rewrite may copy from the file as they are."""
        return self.file.reusable_sheets() if self.path.exists() else set()

    def sheet_names(self) -> list[str]:
        if self._names is None:
            self._names = self.file.sheet_names() if self.path.exists() else []
        return self._names

    def rows(self, sheet: str) -> list[list[Any]]:
        return self.file.rows(sheet)

    def header(self, sheet: str) -> list[Any]:
        return self.file.header(sheet)

    def user_sheet(self, name: str) -> Sheet:
        return self.file.user_sheet(name)

    def publish(self, spec: WorkbookSpec, session: Session) -> Callable[[], None]:
        from swat_xl.services.xlsm import macro_parts

        vba, postprocess = macro_parts(self.path, self.file if self.path.exists() else None)
        tmp = self.file.prepare(spec, vba_project=vba, postprocess=postprocess)
        session.written_fingerprint = FileWorkbook(tmp).fingerprint()
        keep = session.settings.backups_to_keep
        when = session.now

        def finish() -> None:
            try:
                backup = self.file.replace_with(tmp, backups_to_keep=keep, now=when)
            finally:
                tmp.unlink(missing_ok=True)
                self._names = None
            self.last_backup = backup
            copy = session.ledger_copy
            if backup is not None and copy is not None and copy.exists():
                os.replace(copy, ledger_copy_of(backup))
            _drop_orphan_ledger_copies(self.path)

        return finish
