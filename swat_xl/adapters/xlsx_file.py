"""The master workbook as a file on disk: read by :mod:`~swat_xl.adapters.xlsx_reader`, written
by :mod:`~swat_xl.adapters.xlsx_writer`.

Writing renders a whole :class:`~swat_xl.workbook.spec.WorkbookSpec` into a temporary file in
the same folder, fsyncs it, keeps a timestamped backup of the previous workbook and atomically
replaces it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import glob
import hashlib
import os
import shutil
import time
import uuid
import zipfile
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any

from swat_xl.adapters.packages import sheet_parts
from swat_xl.adapters.xlsx_reader import XlsxReader
from swat_xl.adapters.xlsx_writer import render
from swat_xl.errors import WorkbookError, WorkbookOpenError
from swat_xl.workbook import labels as L
from swat_xl.workbook.spec import Sheet, WorkbookSpec

__all__ = ["BACKUP_DIR", "TMP_PREFIX", "FileWorkbook", "render"]  # render: the writer's, here too

TMP_PREFIX = L.TMP_PREFIX
_PROCESS_START = time.time()
BACKUP_DIR = L.BACKUP_FOLDER
WRITTEN_COPY_SUFFIX = ".escrito"  # the tool's copy of the last workbook it wrote, in BACKUP_DIR


class FileWorkbook:
    """One master workbook file on disk."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._reader = XlsxReader(self.path)  # parses each sheet once until close()
        #: What the last :meth:`prepare` noted about the rows it drew (see ``render``).
        self.drawn: dict[str, Any] = {}

    # -- checks -------------------------------------------------------------------------------
    @property
    def owner_file(self) -> Path:
        """Excel's lock file (``~$name.xlsx``) present while the workbook is open."""
        return self.path.with_name("~$" + self.path.name[2:] if len(self.path.name) > 2 else "~$")

    def is_open_in_excel(self) -> bool:
        candidates = {self.path.with_name("~$" + self.path.name), self.owner_file}
        return any(c.exists() for c in candidates)

    def ensure_closed(self) -> None:
        if self.is_open_in_excel():
            raise WorkbookOpenError(
                "El libro está abierto en Excel; ciérrelo (o use la cinta SWAT dentro de Excel) "
                "y vuelva a intentarlo",
                file=self.path,
            )

    # -- reading ------------------------------------------------------------------------------
    def sheet_names(self) -> list[str]:
        return self._reader.sheet_names()

    def rows(self, sheet: str, columns: Collection[int] | None = None) -> list[list[Any]]:
        """All rows of a sheet as Python values ("" for empty cells), every column (a file
        costs the same read whole)."""
        return self._reader.rows(sheet)

    def header(self, sheet: str) -> list[Any]:
        return self._reader.header(sheet)

    def fingerprint(self) -> str | None:
        """SHA-256 of the file as it is on disk now (None when there is no file)."""
        try:
            with self.path.open("rb") as handle:
                return hashlib.file_digest(handle, "sha256").hexdigest()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise WorkbookError(
                f"No se pudo leer el libro maestro ({exc.strerror or exc})", file=self.path
            ) from exc

    def user_sheet(self, name: str) -> Sheet:
        """A sheet the tool does not own, as cells (values and formulas) to carry over."""
        return self._reader.user_sheet(name)

    def close(self) -> None:
        self._reader.close()

    def part(self, name: str) -> bytes | None:
        """One raw part of the file's zip package (e.g. ``xl/vbaProject.bin``), if present."""
        try:
            with zipfile.ZipFile(self.path) as package:
                return package.read(name) if name in package.namelist() else None
        except (OSError, zipfile.BadZipFile):
            return None

    def reusable_sheets(self) -> set[str]:
        """Sheets a rewrite can copy from this file as they are (see ``Sheet.reused``)."""
        try:
            with zipfile.ZipFile(self.path) as package:
                parts = sheet_parts(package)
        except (OSError, zipfile.BadZipFile):
            return set()
        return {name for name, part in parts.items() if not part.has_rels}

    # -- the tool's copy of what it wrote ---------------------------------------------------------
    @property
    def written_copy(self) -> Path:
        """Where the tool keeps a copy of the last workbook it wrote: whoever saves the
        workbook (Excel rewrites every part of the package), the sheets whose content did not
        change can still be copied from here."""
        return self.path.parent / BACKUP_DIR / (self.path.name + WRITTEN_COPY_SUFFIX)

    def keep_written_copy(self, tmp: Path) -> None:
        """Copy ``tmp``, the workbook about to replace this one, as :attr:`written_copy`.

        Best effort: when the copy cannot be made no copy is left (and a copy is only ever
        used when its fingerprint is the one the ledger noted)."""
        target = self.written_copy
        partial = target.parent / f"{TMP_PREFIX}{self.path.stem}.{uuid.uuid4().hex}.escrito"
        try:
            target.parent.mkdir(exist_ok=True)
            shutil.copyfile(tmp, partial)
            os.replace(partial, target)
        except OSError:
            with contextlib.suppress(OSError):
                target.unlink(missing_ok=True)
        finally:
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)

    # -- writing ------------------------------------------------------------------------------
    def prepare(
        self,
        spec: WorkbookSpec,
        *,
        vba_project: bytes | None = None,
        postprocess: Callable[[Path], None] | None = None,
        copy_from: Path | None = None,
        rows_from: Path | None = None,
        drawn: Mapping[str, Any] | None = None,
    ) -> Path:
        """Render ``spec`` into a fsynced temporary file beside the workbook (nothing replaced).

        Its ``reused`` sheets are copied from ``copy_from`` (default: the workbook itself).
        ``rows_from`` and ``drawn``: a workbook this writer wrote and what it noted about its
        rows then; rows unchanged since are copied from it. What this render notes about its
        rows is left in :attr:`drawn`."""
        self.close()
        folder = self.path.parent
        if not folder.exists():
            raise WorkbookError("La carpeta del libro no existe", file=self.path)
        self.remove_stale_temporaries()
        tmp = folder / f"{TMP_PREFIX}{self.path.stem}.{uuid.uuid4().hex}{self.path.suffix}"
        try:
            reusing = any(sheet.reused for sheet in spec.sheets)
            previous = (copy_from or self.path) if reusing else None
            self.drawn = render(
                spec,
                tmp,
                vba_project=vba_project,
                previous=previous,
                rows_from=rows_from,
                drawn=drawn,
            )
            if postprocess is not None:
                postprocess(tmp)
            _fsync(tmp)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise WorkbookError(
                f"No se pudo escribir el libro ({_why(exc)})", file=self.path
            ) from exc
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return tmp

    def remove_stale_temporaries(self, older_than: float | None = None) -> list[Path]:
        """Delete what an interrupted rewrite of this workbook left beside it.

        Only this workbook's temporaries (``.swat-tmp-<name>.*``, beside it and in the backup
        folder) older than ``older_than`` (default: the start of this process) are removed:
        callers hold the workbook's lock, so no other operation is writing them. Returns the
        removed paths."""
        limit = _PROCESS_START if older_than is None else older_than
        removed = []
        pattern = glob.escape(f"{TMP_PREFIX}{self.path.stem}.") + "*"
        folders = (self.path.parent, self.path.parent / BACKUP_DIR)
        for path in (p for folder in folders for p in folder.glob(pattern)):
            try:
                if path.is_file() and path.stat().st_mtime < limit:
                    path.unlink()
                    removed.append(path)
            except OSError:  # gone meanwhile, or not ours to delete: harmless
                continue
        return removed

    def replace_with(
        self, tmp: Path, *, backups_to_keep: int = 10, now: dt.datetime | None = None
    ) -> Path | None:
        """Keep a timestamped backup of the current workbook, then atomically move ``tmp`` in."""
        self.close()
        try:
            backup = self._backup(backups_to_keep, now or dt.datetime.now())
            os.replace(tmp, self.path)
            _fsync_dir(self.path.parent)
            return backup
        except OSError as exc:
            raise WorkbookError(
                f"No se pudo reemplazar el libro ({_why(exc)}); "
                f"la versión nueva quedó en «{tmp.name}»",
                file=self.path,
            ) from exc

    def save(
        self,
        spec: WorkbookSpec,
        *,
        vba_project: bytes | None = None,
        postprocess: Callable[[Path], None] | None = None,
        backups_to_keep: int = 10,
        now: dt.datetime | None = None,
    ) -> Path | None:
        """Render ``spec`` and atomically replace the workbook; returns the backup path."""
        tmp = self.prepare(spec, vba_project=vba_project, postprocess=postprocess)
        try:
            return self.replace_with(tmp, backups_to_keep=backups_to_keep, now=now)
        finally:
            tmp.unlink(missing_ok=True)

    def _backup(self, keep: int, now: dt.datetime) -> Path | None:
        if not self.path.exists() or keep <= 0:
            return None
        folder = self.path.parent / BACKUP_DIR
        folder.mkdir(exist_ok=True)
        stamp = now.strftime("%Y%m%d-%H%M%S")
        target = folder / f"{self.path.stem}-{stamp}{self.path.suffix}"
        n = 1
        while target.exists():
            target = folder / f"{self.path.stem}-{stamp}-{n}{self.path.suffix}"
            n += 1
        # Copied under a temporary name first: an interrupted copy is never taken for a backup.
        partial = folder / f"{TMP_PREFIX}{self.path.stem}.{uuid.uuid4().hex}{self.path.suffix}"
        try:
            shutil.copy2(self.path, partial)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
        copies = sorted(folder.glob(f"{self.path.stem}-*{self.path.suffix}"))
        for old in copies[:-keep]:
            old.unlink(missing_ok=True)
        return target


def _why(exc: OSError) -> str:
    """An OS error in the user's words; a permission problem says so and names the path."""
    if isinstance(exc, PermissionError) or exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        where = f" sobre «{exc.filename}»" if exc.filename else ""
        return f"no hay permiso de escritura{where}"
    return str(exc.strerror or exc)


def _fsync(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
