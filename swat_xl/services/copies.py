"""The files the tool keeps beside a master workbook, and the check before writing them.

Every rewrite of a file workbook keeps, in ``swat_copias`` beside it, the replaced workbook
(``<libro>-AAAAMMDD-HHMMSS.xlsx``) together with a copy of the ledger it was drawn from
(``<libro>-AAAAMMDD-HHMMSS.swat.sqlite``). Names and folders only (pathlib and os): reading
and writing the files themselves is the adapters' job.
"""

from __future__ import annotations

import datetime as dt
import glob
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from swat_xl.errors import WorkbookError
from swat_xl.workbook import labels as L

BACKUP_DIR = L.BACKUP_FOLDER
TMP_PREFIX = L.TMP_PREFIX
LEDGER_SUFFIX = ".swat.sqlite"

_STAMP = re.compile(r"-(\d{8}-\d{6})(?:-\d+)?$")
_STAMPED = re.compile(r"-\d{8}-\d{6}(?:-\d+)?")


def ledger_copy_of(backup: Path) -> Path:
    """The ledger copy kept with a workbook copy of ``swat_copias`` (always beside it)."""
    return backup.with_name(backup.stem + LEDGER_SUFFIX)


def ledger_snapshot_path(workbook: Path, token: str) -> Path:
    """Where an operation keeps the ledger as it was before it (see
    :func:`swat_xl.services.operation.run_operation`); the folder is created."""
    folder = workbook.parent / BACKUP_DIR
    folder.mkdir(exist_ok=True)
    return folder / f"{TMP_PREFIX}{workbook.stem}.{os.getpid()}-{token}{LEDGER_SUFFIX}"


@dataclass(frozen=True)
class Copy:
    """One workbook copy of ``swat_copias``, with the ledger copy kept with it (if any)."""

    workbook: Path
    taken: dt.datetime

    @property
    def ledger(self) -> Path:
        return ledger_copy_of(self.workbook)

    @property
    def paired(self) -> bool:
        return self.ledger.exists()

    @property
    def label(self) -> str:
        return f"{self.taken:%d/%m/%Y %H:%M:%S}"


def copies_of(workbook: Path) -> list[Copy]:
    """The workbook's backup copies, oldest first, with the time each was taken (its name)."""
    folder = workbook.parent / BACKUP_DIR
    out = []
    pattern = glob.escape(f"{workbook.stem}-") + "*" + glob.escape(workbook.suffix)
    for path in folder.glob(pattern):
        match = _STAMP.search(path.stem[len(workbook.stem) :])
        if match is None:
            continue
        try:
            taken = dt.datetime.strptime(match.group(1), "%Y%m%d-%H%M%S")
        except ValueError:
            continue
        out.append(Copy(path, taken))
    return sorted(out, key=lambda c: (c.taken, c.workbook.name))


def other_copies_of(workbook: Path) -> list[Path]:
    """Every other file of ``swat_copias`` about this workbook (set-aside files, the period
    copies of «Nuevo periodo», copies without a time in their name)."""
    folder = workbook.parent / BACKUP_DIR
    known = {c.workbook for c in copies_of(workbook)} | {c.ledger for c in copies_of(workbook)}
    pattern = glob.escape(f"{workbook.stem}-") + "*"
    return sorted(
        p
        for p in folder.glob(pattern)
        if p.is_file() and p not in known and not p.name.startswith(TMP_PREFIX)
    )


def drop_orphan_ledger_copies(workbook: Path) -> None:
    """Ledger copies whose workbook copy was pruned (only so many copies are kept)."""
    folder = workbook.parent / BACKUP_DIR
    for copy in folder.glob(f"{glob.escape(workbook.stem)}-*{LEDGER_SUFFIX}"):
        stem = copy.name[: -len(LEDGER_SUFFIX)]
        if not _STAMPED.fullmatch(stem[len(workbook.stem) :]):
            continue  # not a backup's (e.g. a ledger set aside by «restore»)
        if not copy.with_name(stem + workbook.suffix).exists():
            copy.unlink(missing_ok=True)


_WRITE_BITS = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


def ensure_writable(path: Path, *, what: str = "archivo") -> None:
    """Refuse (exit 3, nothing changed) when ``path``'s folder or ``path`` itself cannot be
    written, or its permission bits say read-only (Windows' read-only attribute): a read-only
    workbook is never silently replaced nor its permissions reset."""
    folder = path.parent
    if folder.is_dir() and not _writable(folder, folder=True):
        raise WorkbookError(
            f"La carpeta «{folder}» no tiene permiso de escritura: no se cambió nada. Dé permiso "
            "de escritura a la carpeta (o use otra) y vuelva a intentarlo"
        )
    if path.exists() and not _writable(path):
        raise WorkbookError(
            f"El {what} «{path}» es de solo lectura (no tiene permiso de escritura): no se cambió "
            "nada. Quítele el atributo de solo lectura (Propiedades del archivo) y vuelva a "
            "intentarlo"
        )


def _writable(path: Path, *, folder: bool = False) -> bool:
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    # On Windows a folder's read-only attribute does not stop writing into it (Explorer uses it
    # for other things); a file's does, and for everything else the bits are the permission.
    bits_matter = not (folder and os.name == "nt")
    if bits_matter and not mode & _WRITE_BITS:
        return False
    return os.access(path, os.W_OK)
